"""Behaviour of the deploy and operations rules (PF305, PF404, PF601-PF603, PF701) beyond their examples."""

from __future__ import annotations

from analyzer import analyze
from analyzer.project import Project
from analyzer.rules.pf601_migrations_not_run import ENV_PY, REVISION

APP = "from flask import Flask\napp = Flask(__name__)\n"
MIGRATIONS = {"migrations/env.py": ENV_PY, "migrations/versions/1a2b3c4d5e6f_create_users.py": REVISION}


def messages(root, rule_id, **options):
    return [f.message for f in analyze(root, select=[rule_id], **options).findings if f.rule == rule_id]


def test_it_finds_the_server_behind_an_entrypoint_script_that_execs_its_arguments(repo):
    root = repo(
        {
            "Dockerfile": 'FROM python:3.12\nENTRYPOINT ["/app/entrypoint.sh"]\nCMD ["gunicorn", "-w", "2", "app:app"]\n',
            "entrypoint.sh": '#!/bin/sh\nset -e\nflask db upgrade\nexec "$@"\n',
            "app.py": APP,
        }
    )
    run = Project(root).server_run
    assert run.kind == "gunicorn" and run.target == "app:app"
    assert [str(command) for command in run.before] == ["set -e", "flask db upgrade"]
    assert run.expands_variables is False


def test_it_counts_a_pre_deploy_command_set_for_an_environment(repo):
    root = repo(
        {
            "railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\n\n'
            '[environments.production.deploy]\npreDeployCommand = ["flask db upgrade"]\n',
            "app.py": APP,
            **MIGRATIONS,
        }
    )
    assert messages(root, "PF601") == []


def test_it_counts_a_pre_deploy_script_and_flask_script_upgrades(repo):
    root = repo(
        {
            "Procfile": "web: gunicorn app:app\n",
            "scripts/migrate.sh": "#!/bin/sh\npython manage.py db upgrade\n",
            "app.py": APP,
            **MIGRATIONS,
        }
    )
    assert messages(root, "PF601", platform={"pre_deploy_command": "sh scripts/migrate.sh"}) == []


def test_it_does_not_count_an_upgrade_after_the_server(repo):
    root = repo({"Procfile": "web: gunicorn app:app; flask db upgrade\n", "app.py": APP, **MIGRATIONS})
    assert messages(root, "PF601")


def test_it_names_the_load_only_when_it_reaches_the_committed_file(repo):
    root = repo(
        {
            ".env": "SECRET_KEY=0f3a9c\n",
            "tools/.env": "API_TOKEN=abc123\n",
            "myapp/__init__.py": "from dotenv import find_dotenv, load_dotenv\n\nload_dotenv(find_dotenv())\n",
        }
    )
    found = {f.path: f.message for f in analyze(root, select=["PF305"]).findings}
    assert "loads it at import" in found[".env"]
    assert "loads it at import" not in found["tools/.env"]
    assert "0f3a9c" not in found[".env"] and "abc123" not in found["tools/.env"]


def test_it_reads_a_module_level_path_variable_given_to_load_dotenv(repo):
    root = repo(
        {
            ".env.local": "MAIL_PASSWORD=hunter22\n",
            "config.py": "import os\nfrom dotenv import load_dotenv\n\n"
            "env_path = os.path.join(os.path.dirname(__file__), '.env.local')\nload_dotenv(dotenv_path=env_path)\n",
        }
    )
    [message] = messages(root, "PF305")
    assert "`load_dotenv` at config.py:5 loads it at import" in message


def test_it_does_not_read_headers_of_known_text_files(repo):
    root = repo(
        {"notes.md": b"SQLite format 3\x00" + b"\x00" * 600, "data.dump": b"SQLite format 3\x00" + b"\x00" * 600}
    )
    report = analyze(root, select=["PF404"])
    assert [f.path for f in report.findings] == ["data.dump"]


def test_a_command_line_worker_count_beats_the_config_file(repo):
    root = repo(
        {
            "Procfile": "web: WEB_CONCURRENCY=12 gunicorn app:app\n",
            "gunicorn.conf.py": "import os\n\nworkers = int(os.environ.get('WEB_CONCURRENCY', 2))\n",
            "app.py": APP,
        }
    )
    [message] = messages(root, "PF603")
    assert "gunicorn runs 12 workers" in message


def test_one_finding_per_kind_of_background_work(repo):
    root = repo(
        {
            "Procfile": "web: gunicorn app:app\n",
            "app.py": APP,
            "tasks.py": "from celery import Celery\n\ncelery = Celery('t')\n\n\n@celery.task\ndef a():\n    pass\n\n\n"
            "@celery.task\ndef b():\n    pass\n",
            "actors.py": "import dramatiq\n\n\n@dramatiq.actor\ndef c():\n    pass\n",
        }
    )
    findings = analyze(root, select=["PF602"]).findings
    assert sorted(f.subject for f in findings) == ["celery", "dramatiq"]


def test_a_start_script_that_backgrounds_the_worker_runs_it(repo):
    root = repo(
        {
            "Procfile": "web: ./run.sh\n",
            "run.sh": "#!/bin/sh\ncelery -A tasks worker &\nexec gunicorn app:app\n",
            "app.py": APP,
            "tasks.py": "from celery import Celery, shared_task\n\napp = Celery('t')\n\n\n@shared_task\ndef a():\n"
            "    pass\n",
        }
    )
    assert messages(root, "PF602") == []


def test_each_heroku_variable_is_reported_once(repo):
    root = repo(
        {
            "a.py": "import os\n\nx = os.environ['JAWSDB_URL']\n",
            "b.py": "import os\n\ny = os.getenv('JAWSDB_URL')\n",
        }
    )
    findings = analyze(root, select=["PF701"]).findings
    assert [(f.subject, f.path) for f in findings] == [("JAWSDB_URL", "a.py")]
