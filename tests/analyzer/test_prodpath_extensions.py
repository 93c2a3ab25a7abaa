"""Which extensions and WSGI wraps are on the app, and how SQLAlchemy gets its URI."""

from __future__ import annotations

from analyzer import analyze
from analyzer.platform import Platform
from analyzer.prodpath import EnvValue, Known
from analyzer.project import Project


def production(repo, files, **platform):
    return Project(repo(files), ".", Platform.from_dict(platform or None)).production


def by_kind(path):
    found = {}
    for use in path.extensions:
        found.setdefault(use.kind, []).append(use)
    return found


def test_sqlalchemy_uri_is_read_at_init_app(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy as SA\n"
            "db = SA()\n"
            "app = Flask(__name__)\n"
            "app.config['SQLALCHEMY_DATABASE_URI'] = os.environ.get('DATABASE_URL', 'sqlite:///dev.db')\n"
            "db.init_app(app)\n"
            "app.config['SQLALCHEMY_DATABASE_URI'] = 'postgres://late'\n"
        ),
    }
    path = production(repo, files)
    (db,) = path.extension("sqlalchemy")
    assert db.name == "db" and db.on_path and db.bound_to_app
    assert [init.via for init in db.inits] == ["init_app"]
    assert isinstance(db.database_uri.value, EnvValue)
    assert db.database_uri.line == 6
    assert [setting.line for setting in db.uri_after_init] == [8]
    # The effective config still ends with the late value; what SQLAlchemy receives is database_uri.
    assert path.setting("SQLALCHEMY_DATABASE_URI").value == Known("postgres://late")


def test_sqlalchemy_constructed_with_the_app(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import flask, flask_sqlalchemy\napp = flask.Flask(__name__)\n"
            "app.config.from_mapping(SQLALCHEMY_DATABASE_URI='sqlite:///x.db')\n"
            "db = flask_sqlalchemy.SQLAlchemy(app)\n"
        ),
    }
    (db,) = production(repo, files).extension("sqlalchemy")
    assert [init.via for init in db.inits] == ["constructor"]
    assert db.database_uri.value == Known("sqlite:///x.db")


def test_extensions_in_a_factory_and_an_extensions_module(repo):
    files = {
        "Procfile": "web: gunicorn 'site_app:create_app()'\n",
        "site_app/__init__.py": (
            "from flask import Flask\n"
            "from werkzeug.middleware.proxy_fix import ProxyFix\n"
            "from whitenoise import WhiteNoise\n"
            "from .ext import login, csrf, migrate, db\n"
            "def create_app():\n"
            "    app = Flask(__name__)\n"
            "    db.init_app(app)\n"
            "    migrate.init_app(app, db)\n"
            "    login.init_app(app)\n"
            "    csrf.init_app(app)\n"
            "    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)\n"
            "    app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix='static/')\n"
            "    return app\n"
        ),
        "site_app/ext.py": (
            "from flask_sqlalchemy import SQLAlchemy\nfrom flask_migrate import Migrate\n"
            "from flask_login import LoginManager\nfrom flask_wtf.csrf import CSRFProtect\n"
            "db = SQLAlchemy()\nmigrate = Migrate()\nlogin = LoginManager()\ncsrf = CSRFProtect()\n"
        ),
    }
    path = production(repo, files)
    kinds = by_kind(path)
    assert set(kinds) == {"sqlalchemy", "migrate", "login", "wtf_csrf", "proxyfix", "whitenoise"}
    for kind in ("sqlalchemy", "migrate", "login", "wtf_csrf"):
        assert kinds[kind][0].bound_to_app, kind
    (proxy,) = kinds["proxyfix"]
    assert proxy.wraps_wsgi_app and proxy.wrapped == "app.wsgi_app"
    assert proxy.argument("x_proto") == Known(1)
    assert proxy.function == "create_app"
    (white,) = kinds["whitenoise"]
    assert white.argument("prefix") == Known("static/")
    assert white.argument("root") == Known("/<repo>/site_app/static")


def test_extensions_off_the_path_are_reported_as_such(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "worker.py": (
            "import os\nfrom celery import Celery\nimport dramatiq\nfrom rq import Queue\nfrom redis import Redis\n"
            "celery = Celery(__name__, broker=os.environ['REDIS_URL'])\n"
            "q = Queue(connection=Redis())\n"
            "@dramatiq.actor\ndef work():\n    pass\n"
            "@celery.task\ndef other():\n    pass\n"
        ),
    }
    kinds = by_kind(production(repo, files))
    assert set(kinds) == {"celery", "celery_task", "rq", "dramatiq"}
    assert not any(use.on_path for uses in kinds.values() for use in uses)
    assert kinds["celery"][0].argument("broker").reason == "not on the production path"


def test_a_started_scheduler_and_a_debug_wrap(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "from flask import Flask\nfrom apscheduler.schedulers.background import BackgroundScheduler\n"
            "from werkzeug.debug import DebuggedApplication\n"
            "app = Flask(__name__)\n"
            "scheduler = BackgroundScheduler()\n"
            "scheduler.start()\n"
            "app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)\n"
            "if __name__ == '__main__':\n    from flask_debugtoolbar import DebugToolbarExtension\n"
            "    DebugToolbarExtension(app)\n"
        ),
    }
    kinds = by_kind(production(repo, files))
    assert kinds["apscheduler"][0].started == [("app.py", 6)]
    assert kinds["debugged_application"][0].on_path
    assert kinds["debugged_application"][0].argument("evalex") == Known(True)
    assert not kinds["debug_toolbar"][0].on_path


def test_an_extension_under_an_undecided_branch_is_conditional(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom flask import Flask\nfrom flask_talisman import Talisman\n"
            "app = Flask(__name__)\nif os.environ.get('FORCE_HTTPS'):\n    Talisman(app)\n"
        ),
    }
    (talisman,) = production(repo, files, variables=["FORCE_HTTPS"]).extension("talisman")
    assert talisman.on_path and talisman.conditional and talisman.bound_to_app
    assert production(repo, files, variables=[]).extension("talisman") == []


def test_a_module_that_only_names_an_extension_is_never_parsed(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": ("from flask import Flask\nimport notes\nfrom tasks import send\napp = Flask(__name__)\n"),
        "tasks.py": (
            '"""Tasks the Celery worker runs."""\nfrom extensions import celery\n\n\n'
            "@celery.task\ndef send(to):\n    pass\n"
        ),
        "extensions.py": "from celery import Celery\ncelery = Celery(__name__)\n",
        "notes.py": '"""Why we chose Flask-Session over Talisman, and rq.Queue over Celery."""\n',
    }
    project = Project(repo(files), ".", Platform())
    kinds = by_kind(project.production)
    assert [use.kind for use in kinds["celery_task"]] == ["celery_task"]  # the app comes from another module
    assert project.production.reach.imported("notes.py")
    assert project.parsed("notes.py") is None


def test_flask_sqlalchemy_2_reads_the_uri_at_the_first_query(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "requirements.txt": "flask==2.0.3\nflask-sqlalchemy==2.5.1\nsqlalchemy==1.4.46\n",
        "app.py": (
            "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
            "app = Flask(__name__)\ndb = SQLAlchemy(app)\n"
            "app.config['SQLALCHEMY_DATABASE_URI'] = os.environ['DATABASE_URL']\n"
        ),
    }
    (db,) = production(repo, files).extension("sqlalchemy")
    assert db.database_uri is not None and db.database_uri.line == 6
    assert db.uri_after_init == []
    report = analyze(repo(files), select=["PF401"])
    assert [finding.line for finding in report.findings] == [6]
