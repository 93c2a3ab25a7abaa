"""The environment contract every report carries: each variable the production path reads."""

from __future__ import annotations

import json

from analyzer import analyze
from analyzer.formats import json_format, sarif

# The flasky layout: a factory, config classes, a blueprint whose views read the environment.
FLASKY = {
    "Procfile": "web: gunicorn wsgi:app\n",
    "config.py": (
        "import os\n"  # 1
        "\n"
        "\n"
        "class Config:\n"  # 4
        "    SECRET_KEY = os.environ['SECRET_KEY']\n"  # 5
        "    MAIL_SERVER = os.environ.get('MAIL_SERVER', 'smtp.googlemail.com')\n"  # 6
        "    MAIL_PASSWORD = os.environ.get('MAIL_PASSWORD', 'pw-Q7x9z')\n"  # 7
        "    SQLALCHEMY_DATABASE_URI = os.getenv('DATABASE_URL', 'postgresql://app:db-K3v8w@localhost/app')\n"  # 8
        "\n"
        "\n"
        "class ProductionConfig(Config):\n"  # 11
        "    REDIS_URL = os.environ['REDIS_URL']\n"  # 12
        "\n"
        "\n"
        "config = {'production': ProductionConfig, 'default': ProductionConfig}\n"
    ),
    "app/__init__.py": (
        "from flask import Flask\n"
        "from config import config\n"
        "\n"
        "\n"
        "def create_app(config_name):\n"
        "    app = Flask(__name__)\n"
        "    app.config.from_object(config[config_name])\n"
        "    from .main import main as main_blueprint\n"
        "    app.register_blueprint(main_blueprint)\n"
        "    return app\n"
    ),
    "app/main/__init__.py": "from flask import Blueprint\n\nmain = Blueprint('main', __name__)\n\nfrom . import views\n",
    "app/main/views.py": (
        "import os\n"
        "\n"
        "from . import main\n"
        "\n"
        "\n"
        "@main.route('/weather')\n"
        "def weather():\n"
        "    return os.environ['WEATHER_API_KEY']\n"  # 8
    ),
    "wsgi.py": (
        "import os\n"
        "from app import create_app\n"
        "\n"
        "app = create_app(os.getenv('FLASK_CONFIG') or 'default')\n"  # 4
        "PORT = int(os.environ['PORT'])\n"  # 5
        "DOMAIN = os.environ['RAILWAY_PUBLIC_DOMAIN']\n"  # 6
    ),
}


def contract(repo, files=FLASKY, platform=None, **options) -> dict[str, dict]:
    report = analyze(repo(files), platform=platform, **options)
    return {entry["name"]: entry for entry in report.env_contract}


def test_it_lists_every_variable_with_its_default_and_place(repo):
    entries = contract(repo)
    assert sorted(entries) == [
        "DATABASE_URL",
        "FLASK_CONFIG",
        "MAIL_PASSWORD",
        "MAIL_SERVER",
        "PORT",
        "RAILWAY_PUBLIC_DOMAIN",
        "REDIS_URL",
        "SECRET_KEY",
        "WEATHER_API_KEY",
    ]
    assert entries["SECRET_KEY"] == {
        "name": "SECRET_KEY",
        "required": True,
        "default": None,
        "path": "config.py",
        "line": 5,
        "function": None,
        "at_startup": True,
        "conditional": False,
        "set_by": None,
        "platform_managed": False,
        "missing": None,
        "note": "required at startup: the app raises `KeyError` at import when it is unset",
    }
    server = entries["MAIL_SERVER"]
    assert not server["required"] and server["default"] == "'smtp.googlemail.com'"
    assert server["note"] == "optional: falls back to 'smtp.googlemail.com'"
    assert (entries["FLASK_CONFIG"]["path"], entries["FLASK_CONFIG"]["line"]) == ("wsgi.py", 4)
    assert entries["FLASK_CONFIG"]["default"] == "'default'"


def test_it_never_shows_a_secret_default(repo):
    report = analyze(repo(FLASKY))
    entries = {entry["name"]: entry for entry in report.env_contract}
    assert entries["MAIL_PASSWORD"]["default"] == "(hidden)"
    assert entries["DATABASE_URL"]["default"] == "'postgresql://app:(hidden)@localhost/app'"
    for output in (_without_patches(report), json.dumps(sarif.sarif_log(report))):
        assert "pw-Q7x9z" not in output and "db-K3v8w" not in output


def _without_patches(report) -> str:
    """The JSON report minus its patches: a patch that removes a committed secret quotes the line it
    removes (`git apply` needs it); nothing else may show the value."""
    rendered = json.loads(json_format.render(report))
    rendered["fix_all_patch"] = None
    for finding in rendered["findings"]:
        finding["patch"] = None
    return json.dumps(rendered)


def test_railway_variables_are_marked_as_provided_by_the_platform(repo):
    entries = contract(repo, platform={"variables": ["SECRET_KEY", "REDIS_URL"]})
    for name in ("PORT", "RAILWAY_PUBLIC_DOMAIN"):
        assert entries[name]["platform_managed"] and entries[name]["required"]
        assert entries[name]["missing"] is False
        assert entries[name]["note"] == "provided by Railway"
    assert entries["PORT"]["set_by"] == "Railway"
    assert not entries["SECRET_KEY"]["platform_managed"]


def test_a_read_in_a_request_handler_is_listed_but_the_app_boots(repo):
    entries = contract(repo, platform={"variables": ["SECRET_KEY", "REDIS_URL"]})
    weather = entries["WEATHER_API_KEY"]
    assert weather["required"] and not weather["at_startup"]
    assert weather["function"] == "weather" and weather["path"] == "app/main/views.py" and weather["line"] == 8
    assert weather["missing"] is False
    assert "the app boots without it" in weather["note"]


def test_missing_is_unknown_without_platform_variables_and_true_when_they_lack_it(repo):
    unknown = contract(repo)
    assert unknown["SECRET_KEY"]["missing"] is None and unknown["REDIS_URL"]["missing"] is None
    given = contract(repo, platform={"variables": ["SECRET_KEY"]})
    assert given["SECRET_KEY"]["missing"] is False
    assert given["SECRET_KEY"]["set_by"] == "platform variables"
    assert given["REDIS_URL"]["missing"] is True
    assert given["MAIL_SERVER"]["missing"] is False, "a read with a default is never missing"


def test_dockerfile_env_and_start_command_assignments_count_as_set(repo):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nENV REDIS_URL=redis://cache:6379\nCMD SECRET_KEY=$KEY gunicorn wsgi:app\n",
        **{name: content for name, content in FLASKY.items() if name != "Procfile"},
    }
    entries = contract(repo, files, platform={"variables": ["KEY"]})
    assert entries["REDIS_URL"]["set_by"] == "Dockerfile:2" and entries["REDIS_URL"]["missing"] is False
    assert entries["SECRET_KEY"]["set_by"].startswith("the start command")
    assert entries["SECRET_KEY"]["missing"] is False


def test_every_report_carries_it_whichever_rules_run(repo):
    assert sorted(contract(repo, select=["PF101"])) == sorted(contract(repo))
    report = analyze(repo(FLASKY), ignore=["PF3"])
    assert report.as_dict()["env_contract"] == report.env_contract
    assert report.env_contract


def test_a_repo_that_reads_nothing_has_an_empty_contract(repo):
    files = {"Procfile": "web: gunicorn app:app\n", "app.py": "from flask import Flask\n\napp = Flask(__name__)\n"}
    assert analyze(repo(files)).env_contract == []


def test_pf309_fires_once_per_missing_variable_at_the_read_that_raises_first(repo):
    files = {**FLASKY, "wsgi.py": FLASKY["wsgi.py"] + "CACHE = os.environ['REDIS_URL']\n"}
    report = analyze(repo(files), platform={"variables": ["SECRET_KEY"]}, select=["PF309"])
    (finding,) = report.findings
    assert (finding.path, finding.line) == ("config.py", 12)
    assert finding.message.startswith("`REDIS_URL` is required at startup and not among the platform variables")
    assert finding.evidence[:3] == [
        "wsgi.py is loaded by gunicorn: `wsgi:app` (Procfile:1)",
        "app/__init__.py is imported at wsgi.py:2",
        "config.py is imported at app/__init__.py:2",
    ]
    assert finding.evidence[-1] == "also required at wsgi.py:7"
    assert [entry["missing"] for entry in report.env_contract if entry["name"] == "REDIS_URL"] == [True, True]


def test_a_fallback_assigned_to_a_signing_key_is_hidden_whatever_the_variable_is_called(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
            "app.secret_key = os.environ.get('SIGNING', os.environ.get('LEGACY', 'inner-Vb62'))\n"
            "app.config.update(\n    WTF_CSRF_SECRET_KEY=os.getenv('CSRF', 'csrf-Mm03'),\n)\n"
            "TIMEOUT = os.getenv('TIMEOUT', '30')\n"
        ),
    }
    report = analyze(repo(files))
    entries = {entry["name"]: entry for entry in report.env_contract}
    assert entries["SIGNING"]["default"] == "$LEGACY or (hidden)"
    assert entries["LEGACY"]["default"] == "(hidden)"
    assert entries["CSRF"]["default"] == "(hidden)"
    assert entries["TIMEOUT"]["default"] == "'30'"
    output = _without_patches(report)
    assert "inner-Vb62" not in output and "csrf-Mm03" not in output
