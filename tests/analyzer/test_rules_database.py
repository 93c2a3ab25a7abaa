"""PF401-PF405: the cases the rule examples do not pin down."""

from __future__ import annotations

from analyzer import analyze

FLASKY_CONFIG = (
    "import os\n\n"
    "class Config:\n"
    "    SQLALCHEMY_TRACK_MODIFICATIONS = False\n\n"
    "class DevelopmentConfig(Config):\n"
    "    SQLALCHEMY_DATABASE_URI = {dev}\n\n"
    "class ProductionConfig(Config):\n"
    "    SQLALCHEMY_DATABASE_URI = {prod}\n\n"
    'config = {{"development": DevelopmentConfig, "production": ProductionConfig, "default": DevelopmentConfig}}\n'
)
FLASKY_APP = (
    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\nfrom config import config\n\n"
    "db = SQLAlchemy()\n\n"
    "def create_app(config_name):\n"
    "    app = Flask(__name__)\n"
    "    app.config.from_object(config[config_name])\n"
    "    db.init_app(app)\n"
    "    return app\n"
)
FLASKY_WSGI = 'import os\nfrom app import create_app\n\napp = create_app(os.getenv("FLASK_CONFIG") or "default")\n'


def flasky(dev: str, prod: str, requirements: str = "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n") -> dict:
    return {
        "Procfile": "web: gunicorn wsgi:app\n",
        "requirements.txt": requirements,
        "config.py": FLASKY_CONFIG.format(dev=dev, prod=prod),
        "app/__init__.py": FLASKY_APP,
        "wsgi.py": FLASKY_WSGI,
    }


def findings(repo, files, rule, platform=None):
    report = analyze(repo(files), platform=platform, select=[rule])
    return [f for f in report.findings if f.rule == rule]


def test_it_flags_an_undecided_config_when_every_candidate_passes_the_url_through(repo):
    files = flasky('os.environ["DATABASE_URL"]', 'os.environ["DATABASE_URL"]')
    found = findings(repo, files, "PF401", {"variables": ["FLASK_CONFIG", "DATABASE_URL"]})
    assert len(found) == 1
    assert "`DATABASE_URL` reaches SQLAlchemy" in found[0].message


def test_it_stays_quiet_when_one_candidate_config_is_not_postgres(repo):
    files = flasky('"sqlite:///dev.db"', 'os.environ["DATABASE_URL"]')
    assert not findings(repo, files, "PF401", {"variables": ["FLASK_CONFIG", "DATABASE_URL"]})


def test_it_finds_a_guard_whose_branch_is_decided_false_in_production(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
        "app.py": (
            "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
            'url = os.environ.get("DATABASE_URL", "sqlite:///app.db")\n'
            'if url.startswith("postgres://"):\n'
            '    url = "postgresql://" + url[len("postgres://"):]\n'
            "app = Flask(__name__)\n"
            'app.config["SQLALCHEMY_DATABASE_URI"] = url\n'
            "db = SQLAlchemy(app)\n"
        ),
    }
    assert not findings(repo, files, "PF401")


def test_it_finds_a_conditional_rewrite_in_a_helper_of_another_module(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
        "dburl.py": (
            "def fix(url):\n"
            '    if url and url.startswith("postgres://"):\n'
            '        url = url.replace("postgres://", "postgresql://", 1)\n'
            "    return url\n"
        ),
        "app.py": (
            "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\nimport dburl\n\n"
            "app = Flask(__name__)\n"
            'app.config["SQLALCHEMY_DATABASE_URI"] = dburl.fix(os.getenv("DATABASE_URL"))\n'
            "db = SQLAlchemy(app)\n"
        ),
    }
    assert not findings(repo, files, "PF401", {"variables": ["DATABASE_URL"]})


def test_it_ignores_another_variable_that_is_not_set(repo):
    files = flasky('os.environ.get("DEV_DATABASE_URL") or "sqlite://"', 'os.environ["DATABASE_URL"]')
    assert not findings(repo, files, "PF401", {"variables": ["SECRET_KEY"]})


def test_it_never_shows_a_password(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "requirements.txt": "flask\nflask-sqlalchemy\nredis\ngunicorn\n",
        "app.py": (
            "import os\nimport redis\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
            "app = Flask(__name__)\n"
            'app.config["SQLALCHEMY_DATABASE_URI"] = "postgres://admin:s3cr3tpassw0rd@db.example.com/app"\n'
            "db = SQLAlchemy(app)\n"
            'store = redis.from_url(os.getenv("REDIS_URL", "redis://:s3cr3tpassw0rd@localhost:6379/0"))\n'
        ),
    }
    found = findings(repo, files, "PF401") + findings(repo, files, "PF405")
    assert {f.rule for f in found} == {"PF401", "PF405"}
    for finding in found:
        assert "s3cr3t" not in finding.message
        assert not any("s3cr3t" in line for line in finding.evidence)


def test_it_stays_quiet_on_sqlite_when_the_config_is_undecided_and_one_candidate_is_postgres(repo):
    files = flasky('"sqlite:///dev.db"', 'os.environ["DATABASE_URL"]')
    assert not findings(repo, files, "PF402", {"variables": ["FLASK_CONFIG", "DATABASE_URL"]})
    assert findings(repo, flasky('"sqlite:///dev.db"', '"sqlite:///prod.db"'), "PF402", {"variables": ["FLASK_CONFIG"]})


def test_it_accepts_a_driver_installed_through_a_sqlalchemy_extra(repo):
    files = flasky(
        'os.environ["DATABASE_URL"]',
        'os.environ["DATABASE_URL"]',
        requirements="flask\nflask-sqlalchemy\nSQLAlchemy[postgresql_psycopg2binary]\ngunicorn\n",
    )
    assert not findings(repo, files, "PF403", {"variables": ["DATABASE_URL"]})
    files["requirements.txt"] = "flask\nflask-sqlalchemy\ngunicorn\n"
    assert findings(repo, files, "PF403", {"variables": ["DATABASE_URL"]})


def test_it_skips_local_configs_when_the_selection_is_undecided(repo):
    files = {
        "Procfile": "web: gunicorn wsgi:app\n",
        "requirements.txt": "flask\nredis\ngunicorn\n",
        "config.py": (
            "import os\n\n"
            "class TestingConfig:\n"
            '    REDIS_URL = os.getenv("TEST_REDIS_URL", "redis://localhost:6379/15")\n\n'
            "class ProductionConfig:\n"
            '    REDIS_URL = os.environ["REDIS_URL"]\n'
        ),
        "wsgi.py": (
            "import os\nfrom flask import Flask\nfrom config import ProductionConfig, TestingConfig\n\n"
            'configs = {"testing": TestingConfig, "production": ProductionConfig}\n'
            "app = Flask(__name__)\n"
            'app.config.from_object(configs[os.environ["CONFIG_NAME"]])\n'
        ),
    }
    platform = {"variables": ["CONFIG_NAME", "REDIS_URL"]}
    assert not findings(repo, files, "PF405", platform)
    files["config.py"] = files["config.py"].replace("TestingConfig", "StagingConfig")
    files["wsgi.py"] = files["wsgi.py"].replace("TestingConfig", "StagingConfig")
    assert findings(repo, files, "PF405", platform)
