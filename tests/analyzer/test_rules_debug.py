"""Behaviour of the debug rules (PF301, PF302, PF306) beyond their examples."""

from __future__ import annotations

from analyzer import analyze
from analyzer.rules.pf306_debug_config_in_production import FLASKY

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def findings(root, rule_id, **options):
    return [f for f in analyze(root, select=[rule_id], **options).findings if f.rule == rule_id]


def messages(root, rule_id, **options):
    return [f.message for f in findings(root, rule_id, **options)]


def test_it_does_not_read_a_flaskenv_when_python_dotenv_is_not_installed(repo):
    root = repo(
        {
            "Procfile": "web: flask run --host 0.0.0.0\n",
            ".flaskenv": "FLASK_DEBUG=1\n",
            "requirements.txt": "flask==3.0.3\n",
            "app.py": APP,
        }
    )
    assert messages(root, "PF301") == []


def test_it_follows_an_export_in_the_start_script(repo):
    root = repo(
        {
            "Procfile": "web: sh start.sh\n",
            "start.sh": "#!/bin/sh\nexport FLASK_DEBUG=1\nexec flask run --host 0.0.0.0 --port $PORT\n",
            "app.py": APP,
        }
    )
    assert any("`FLASK_DEBUG=1`" in message for message in messages(root, "PF301"))


def test_it_honours_an_explicit_use_debugger_false(repo):
    root = repo(
        {
            "Procfile": "web: python app.py\n",
            "app.py": APP
            + "\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', debug=True, use_debugger=False)\n",
        }
    )
    assert messages(root, "PF301") == []


def test_an_explicit_debug_false_beats_a_committed_flask_debug(repo):
    root = repo(
        {
            "Procfile": "web: python app.py\n",
            ".env": "FLASK_DEBUG=1\n",
            "requirements.txt": "flask\npython-dotenv\n",
            "app.py": APP + "\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', debug=False)\n",
        }
    )
    assert messages(root, "PF301") == []


def test_app_run_without_debug_follows_the_selected_config_and_says_why(repo):
    root = repo({**FLASKY, "Procfile": "web: python wsgi.py\n", "wsgi.py": FLASKY["wsgi.py"] + "app.run()\n"})
    [finding] = findings(root, "PF301")
    assert "DevelopmentConfig" in finding.message
    assert any("-> DevelopmentConfig" in line for line in finding.evidence)


def test_a_debugged_application_wrap_only_under_an_undecided_branch_is_not_reported(repo):
    root = repo(
        {
            "Procfile": "web: gunicorn app:app\n",
            "app.py": "import os\nfrom werkzeug.debug import DebuggedApplication\n"
            + APP
            + "\nif os.environ.get('ENABLE_DEBUGGER'):\n    app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)\n",
        }
    )
    assert messages(root, "PF301", platform={"variables": ["ENABLE_DEBUGGER"]}) == []
    assert messages(root, "PF301") == []


def test_flask_env_development_below_2_3_is_reported_once(repo):
    files = {
        "Procfile": "web: flask run --host 0.0.0.0\n",
        ".flaskenv": "FLASK_ENV=development\n",
        "requirements.txt": "Flask==2.2.5\npython-dotenv\n",
        "app.py": APP,
    }
    root = repo(files)
    assert len(messages(root, "PF301")) == 1
    assert messages(root, "PF302") == []


def test_flask_env_development_below_2_3_under_gunicorn_is_debug_config(repo):
    root = repo(
        {
            "Dockerfile": "FROM python:3.10-slim\nENV FLASK_ENV=development\nCOPY . .\n"
            'RUN pip install -r requirements.txt\nCMD ["gunicorn", "app:app"]\n',
            "requirements.txt": "Flask==2.0.3\ngunicorn\n",
            "app.py": APP,
        }
    )
    assert any("`FLASK_ENV=development`" in message for message in messages(root, "PF306"))
    assert messages(root, "PF302") == []
    assert messages(root, "PF301") == []


def test_flask_env_production_below_2_3_says_deprecated(repo):
    root = repo(
        {
            "Procfile": "web: gunicorn app:app\n",
            ".env": "FLASK_ENV=production\n",
            "requirements.txt": "Flask==2.2.5\n",
            "app.py": APP,
        }
    )
    assert any("deprecated since Flask 2.2" in message for message in messages(root, "PF302"))


def test_unselected_config_classes_setting_env_are_reported(repo):
    root = repo(
        {
            **FLASKY,
            "wsgi.py": FLASKY["wsgi.py"].replace("'default'", "'production'"),
            "config.py": FLASKY["config.py"].replace(
                "    DEBUG = True\n", "    DEBUG = True\n    ENV = 'development'\n"
            ),
        }
    )
    assert any("DevelopmentConfig" in message for message in messages(root, "PF302"))
    assert messages(root, "PF306") == []


def test_debug_config_names_the_selected_class_and_why(repo):
    [finding] = findings(repo(FLASKY), "PF306")
    assert finding.path == "config.py" and finding.severity == "medium"
    assert any("`FLASK_CONFIG` is not set" in line for line in finding.evidence)


def test_debug_from_a_platform_variable_under_gunicorn_is_unknown(repo):
    root = repo({"Procfile": "web: gunicorn app:app\n", "app.py": APP})
    assert messages(root, "PF306", platform={"variables": ["FLASK_DEBUG"]}) == []
