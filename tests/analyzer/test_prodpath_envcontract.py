"""The environment contract: every variable the production path reads."""

from __future__ import annotations

from analyzer.platform import Platform
from analyzer.project import Project

FILES = {
    "Procfile": "web: gunicorn app:app\n",
    "Dockerfile": "FROM python:3.12\nENV REDIS_URL=redis://cache:6379\nCMD gunicorn app:app\n",
    "app.py": (
        "import os\nfrom os import environ as env\nfrom flask import Flask\nimport settings\n"
        "app = Flask(__name__)\n"
        "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
        "app.config['REDIS'] = env.get('REDIS_URL', 'redis://localhost')\n"
        "app.config['API_TOKEN'] = os.getenv('API_TOKEN', 'tok-123')\n"
        "TIMEOUT = os.getenv('TIMEOUT')\n"
        "@app.route('/')\n"
        "def index():\n"
        "    return os.environ['GREETING']\n"
        "if __name__ == '__main__':\n"
        "    app.run(port=int(os.environ.get('DEV_PORT', 5000)))\n"
    ),
    "settings.py": (
        "import os\n"
        "MAIL_PASSWORD = os.environ.get('MAIL_PASSWORD')\n"
        "if not MAIL_PASSWORD:\n"
        "    raise RuntimeError('MAIL_PASSWORD is required')\n"
        "A = os.getenv('SHARED', 'x')\n"
        "B = os.getenv('SHARED', 'y')\n"
    ),
}


def contract(repo, variables):
    project = Project(repo(FILES), ".", Platform.from_dict({"variables": variables}))
    return project.production


def test_it_lists_every_read_with_its_default_and_place(repo):
    path = contract(repo, ["SECRET_KEY"])
    reads = {(use.name, use.line): use for use in path.env_reads}
    assert sorted(reads) == [
        ("API_TOKEN", 8),
        ("GREETING", 12),
        ("MAIL_PASSWORD", 2),
        ("REDIS_URL", 7),
        ("SECRET_KEY", 6),
        ("SHARED", 5),
        ("SHARED", 6),
        ("TIMEOUT", 9),
    ]
    secret = reads[("SECRET_KEY", 6)]
    assert secret.required and secret.default is None and secret.set_by == "platform variables"
    assert not secret.missing
    redis = reads[("REDIS_URL", 7)]
    assert not redis.required and redis.default == "'redis://localhost'" and redis.set_by == "Dockerfile:2"
    # A secret-looking name never shows its literal default.
    assert reads[("API_TOKEN", 8)].default == "(hidden)"
    timeout = reads[("TIMEOUT", 9)]
    assert not timeout.required and timeout.default is None and not timeout.has_default
    mail = reads[("MAIL_PASSWORD", 2)]
    assert mail.required and mail.missing and mail.path == "settings.py"
    greeting = reads[("GREETING", 12)]
    assert greeting.required and not greeting.at_startup and not greeting.missing
    assert greeting.function == "index"
    assert "DEV_PORT" not in {use.name for use in path.env_reads}


def test_the_report_form(repo):
    entries = contract(repo, []).env_contract()
    first = entries[0]
    assert first == {
        "name": "API_TOKEN",
        "required": False,
        "default": "(hidden)",
        "path": "app.py",
        "line": 8,
        "set_by": None,
        "conditional": False,
        "at_startup": True,
    }
    assert [entry["name"] for entry in entries if entry["required"] and entry["set_by"] is None] == [
        "GREETING",
        "MAIL_PASSWORD",
        "SECRET_KEY",
    ]


def test_a_secret_default_is_hidden_at_the_end_of_a_chain_and_in_a_url(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
            "app.secret_key = os.environ.get('SECRET_KEY', os.environ.get('FALLBACK', 'chained-Zq81'))\n"
            "DB = os.getenv('DATABASE_URL', 'postgresql://app:pw-Lk4@db.internal:5432/app')\n"
        ),
    }
    reads = {use.name: use for use in Project(repo(files), ".", Platform()).production.env_reads}
    assert reads["SECRET_KEY"].default == "$FALLBACK or (hidden)"
    assert reads["FALLBACK"].default == "'chained-Zq81'", "read on its own, FALLBACK is not a secret name"
    assert reads["DATABASE_URL"].default == "'postgresql://app:(hidden)@db.internal:5432/app'"


def test_a_none_used_as_an_object_at_import_makes_the_read_required(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom flask import Flask\n\n"
            "uri = os.getenv('DATABASE_URL')\nif uri.startswith('postgres://'):\n"
            "    uri = uri.replace('postgres://', 'postgresql://', 1)\n"
            "REDIS = os.environ.get('REDIS_URL').replace('redis://', 'rediss://')\n"
            "FIRST = os.environ.get('HOSTS')[0]\n"
            "guarded = os.getenv('GUARDED')\nif guarded and guarded.startswith('x'):\n    pass\n"
            "later = os.getenv('LATER')\nif os.getenv('FLAG'):\n    later.upper()\n"
            "filled = os.getenv('FILLED')\nif not filled:\n    filled = 'a'\nfilled.upper()\n"
            "rebound = os.getenv('REBOUND')\nrebound = 'b'\nrebound.upper()\n"
            "app = Flask(__name__)\n"
        ),
    }
    production = Project(repo(files), ".", Platform.from_dict({"variables": []})).production
    required = {use.name: use.required for use in production.env_reads}
    assert required == {
        "DATABASE_URL": True,
        "REDIS_URL": True,
        "HOSTS": True,
        "GUARDED": False,
        "LATER": False,
        "FLAG": False,
        "FILLED": False,
        "REBOUND": False,
    }
