from __future__ import annotations

import posixpath
from collections.abc import Iterator

import libcst as cst
from libcst.metadata import ParentNodeProvider

from analyzer.prodpath import REPO_ROOT, EnvValue, Known, Unknown, Value
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

URI_KEY = "SQLALCHEMY_DATABASE_URI"
SQLITE_CONNECT = frozenset({"sqlite3.connect", "sqlite3.dbapi2.connect"})
VOLUME_VARIABLE = "RAILWAY_VOLUME_MOUNT_PATH"
# Railpack and Nixpacks copy the app root to /app, and the server runs there.
APP_DIRECTORY = "/app"
IN_MEMORY = frozenset({":memory:", ""})
WHY = (
    "the container's disk is wiped on every deploy; only a Railway volume keeps the file"
    " (one volume per service, no replicas, not mounted during the pre-deploy command)"
)
# No volume helps an in-memory database: it lives in one process and is gone when it exits.
WHY_IN_MEMORY = (
    "each gunicorn worker gets its own empty database, which is lost when the worker restarts"
    " and on every deploy; no volume keeps it"
)


def sqlite_file(url: str) -> str | None:
    """The file a SQLAlchemy SQLite URL opens ("" for an in-memory database), None for another database."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or scheme.split("+")[0].lower() != "sqlite":
        return None
    file = rest[1:].split("?")[0] if rest.startswith("/") else ""
    return "" if file == ":memory:" else file


def container_path(path: str) -> str:
    """Where a database file lands in the container: repo paths map under /app."""
    if path.startswith(REPO_ROOT + "/") or path == REPO_ROOT:
        return posixpath.normpath(APP_DIRECTORY + path[len(REPO_ROOT) :])
    if path.startswith("/"):
        return posixpath.normpath(path)
    return posixpath.normpath(posixpath.join(APP_DIRECTORY, path))


def shown_path(path: str) -> str:
    if path.startswith(REPO_ROOT + "/"):
        return path[len(REPO_ROOT) + 1 :] + " (in the app directory)"
    return path


class SqliteInProduction(Rule):
    """
    ## What it does
    Flags a SQLite database on the production path: a `sqlite:///` URL that
    SQLAlchemy gets (a literal in the selected config, or the fallback of a
    `DATABASE_URL` read that is not among the platform variables), or
    `sqlite3.connect()` on a file path. Configs the production path does not
    select do not count, and neither does a file under the service's volume.

    ## Why is this bad?
    A Railway container's disk is wiped on every deploy and every restart on a
    new machine: every row written since the last deploy is lost, silently. Only
    a Railway volume keeps the file, with limits: one volume per service, so no
    replicas can share it, and it is not mounted while the pre-deploy command
    (`flask db upgrade`) runs, so migrations there hit a throw-away file.

    ## Example
    ```python
    class ProductionConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or "sqlite:///app.db"
    ```

    ## Use instead
    ```python
    class ProductionConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]  # ${{Postgres.DATABASE_URL}}
    ```

    ## How to fix
    Use Postgres through `DATABASE_URL` (a reference to the Railway Postgres service), or attach a volume and put the SQLite file under `RAILWAY_VOLUME_MOUNT_PATH`.

    ## References
    - Railway: Volumes (one per service, no replicas, not mounted during pre-deploy)
    - Railway: PostgreSQL, `DATABASE_URL`
    - Flask-SQLAlchemy 3.0: SQLite paths are relative to the instance folder
    """

    id = "PF402"
    slug = "sqlite-in-production"
    severity = Severity.HIGH
    title = "SQLite in production"

    def check(self, project: Project) -> Iterator[Finding]:
        if not project.python_paths_containing(b"sqlite"):
            return
        production = project.production
        volume = project.platform.volume_mount_path
        for use in production.extensions:
            if not use.on_path:
                continue
            if use.kind == "sqlalchemy" and use.database_uri is not None:
                setting = use.database_uri
                owner = setting.defined_in.name if setting.defined_in is not None else None
                target = f"`{URI_KEY}` ({owner}, {setting.where})" if owner else f"`{URI_KEY}` ({setting.where})"
                found = _sqlite_url(production, setting.value, volume)
                if found is not None:
                    message, evidence = found
                    yield self.finding(
                        f"{target} {message}",
                        setting.path,
                        setting.line,
                        subject=URI_KEY,
                        evidence=_short([*evidence, *setting.evidence[:1]]),
                    )
            elif use.kind == "sqlalchemy_engine":
                value = use.argument("url", 0)
                found = _sqlite_url(production, value, volume) if value is not None else None
                if found is not None:
                    message, evidence = found
                    yield self.finding(
                        f"the URL of `create_engine()` ({use.where}) {message}",
                        use.path,
                        use.line,
                        subject="create_engine",
                        evidence=_short([*evidence, *production.why(use.path)[-2:]]),
                    )
        yield from self._connects(project, production, volume)

    def _connects(self, project: Project, production, volume: str | None) -> Iterator[Finding]:
        for path in production.modules:
            data = project.raw(path) or b""
            if b"sqlite3" not in data:
                continue
            module = project.python(path)
            if module is None:
                continue
            for call in _calls(module.tree):
                if not isinstance(call.func, (cst.Name, cst.Attribute)):
                    continue
                if not (module.qualified_names(call.func) & SQLITE_CONNECT) or not call.args:
                    continue
                step = production.reach.step_of(call)
                argument = call.args[0].value
                if step is not None:
                    value = production.value_in(argument, step.scope, step.node)
                    when = "at startup"
                else:
                    function = _enclosing_function(module, call)
                    if function is None:
                        continue  # module-level code that does not run (a `__main__` block)
                    value = production.evaluate(argument, path, function=function)
                    when = f"when `{function.name.value}()` runs"
                plain = value.effective
                if not (isinstance(plain, Known) and isinstance(plain.value, str)):
                    continue
                file = plain.value
                if file in IN_MEMORY or file.startswith("file::memory:") or _under_volume(value, file, volume):
                    continue
                line = module.line(call)
                yield self.finding(
                    f"`sqlite3.connect()` ({path}:{line}) opens `{shown_path(file)}` {when}: {WHY}",
                    path,
                    line,
                    subject=f"sqlite3.connect {file}",
                    evidence=_short([*value.trace, *production.why(path)[-2:]]),
                )

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "config.py": (
                    "import os\n\nbasedir = os.path.abspath(os.path.dirname(__file__))\n\n"
                    "class Config:\n"
                    '    SECRET_KEY = os.environ.get("SECRET_KEY")\n\n'
                    "class DevelopmentConfig(Config):\n"
                    '    SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(basedir, "dev.sqlite")\n\n'
                    "class ProductionConfig(Config):\n"
                    '    SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]\n\n'
                    'config = {"development": DevelopmentConfig, "production": ProductionConfig,'
                    ' "default": ProductionConfig}\n'
                ),
                "app/__init__.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\nfrom config import config\n\n"
                    "db = SQLAlchemy()\n\n"
                    "def create_app(config_name):\n"
                    "    app = Flask(__name__)\n"
                    "    app.config.from_object(config[config_name])\n"
                    "    db.init_app(app)\n"
                    "    return app\n"
                ),
                "wsgi.py": (
                    "import os\nfrom app import create_app\n\n"
                    'app = create_app(os.getenv("FLASK_CONFIG") or "default")\n'
                ),
            },
            platform={"variables": ["DATABASE_URL", "SECRET_KEY"]},
            note="the SQLite DevelopmentConfig is not selected",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///local.db")\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            note="DATABASE_URL is set on the platform: the fallback does not run",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "app.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:////data/app.db"\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"volume_mount_path": "/data"},
            note="an absolute path under the service's volume",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\n",
                "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "shop/__init__.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "db = SQLAlchemy()\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    '    data = os.environ.get("RAILWAY_VOLUME_MOUNT_PATH", ".")\n'
                    '    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{data}/shop.db"\n'
                    "    db.init_app(app)\n"
                    "    return app\n"
                ),
            },
            platform={"volume_mount_path": "/var/lib/shop"},
            note="a path built from RAILWAY_VOLUME_MOUNT_PATH with a volume attached",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\ngunicorn\n",
                "app.py": (
                    "import sqlite3\nfrom flask import Flask\n\n"
                    "app = Flask(__name__)\n"
                    'cache = sqlite3.connect(":memory:", check_same_thread=False)\n\n'
                    'if __name__ == "__main__":\n'
                    '    sqlite3.connect("dev.db")\n'
                    "    app.run()\n"
                ),
                "tests/conftest.py": 'import sqlite3\n\nconn = sqlite3.connect("test.db")\n',
            },
            note="unrelated: an in-memory cache, a __main__ block and a test",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                    "ENV DATABASE_URL=postgresql://db.internal/app\n"
                    'CMD ["gunicorn", "app:app"]\n'
                ),
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.getenv("DATABASE_URL") or "sqlite:///app.db"\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            note="the Dockerfile's ENV sets DATABASE_URL",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom pathlib import Path\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "basedir = Path(__file__).resolve().parent\napp = Flask(__name__)\n"
                    "app.config['SQLALCHEMY_DATABASE_URI'] = os.getenv(\n"
                    "    'DATABASE_URL', f\"sqlite:///{Path(basedir).joinpath('app.db')}\"\n)\n"
                    "db = SQLAlchemy(app)\n"
                ),
            },
            expect="falls back to SQLite (`app.db (in the app directory)`) because `DATABASE_URL` is unset",
            note="a path wrapped in `Path()` again",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\napp = Flask(__name__)\n"
                    "app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite://'\ndb = SQLAlchemy(app)\n"
                ),
            },
            expect="is SQLite (an in-memory database): each gunicorn worker gets its own empty database",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\n",
                "shop/__init__.py": (
                    "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                    "    app.config.from_mapping(DATABASE='shop.sqlite')\n"
                    "    from shop import db\n\n    app.teardown_appcontext(db.close_db)\n    return app\n"
                ),
                "shop/db.py": (
                    "import sqlite3\n\nfrom flask import current_app, g\n\n\ndef get_db():\n"
                    "    if 'db' not in g:\n        g.db = sqlite3.connect(current_app.config['DATABASE'])\n"
                    "    return g.db\n\n\ndef close_db(e=None):\n    db = g.pop('db', None)\n"
                    "    if db is not None:\n        db.close()\n"
                ),
            },
            expect="opens `shop.sqlite` when `get_db()` runs",
            note="the path read from the app's config through `current_app`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "config.py": (
                    "import os\nfrom pathlib import Path\n\n\nclass Config:\n"
                    "    BASE_DIR = Path(__file__).resolve().parent\n"
                    '    SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(BASE_DIR, "db.sqlite3")\n'
                ),
                "app.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\napp = Flask(__name__)\n"
                    'app.config.from_object("config.Config")\ndb = SQLAlchemy(app)\n'
                ),
            },
            expect="is SQLite (`db.sqlite3 (in the app directory)`)",
            note="a path built with pathlib, joined by os.path",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "config.py": (
                    "import os\n\nbasedir = os.path.abspath(os.path.dirname(__file__))\n\n"
                    "class Config:\n"
                    '    SECRET_KEY = os.environ.get("SECRET_KEY")\n\n'
                    "class DevelopmentConfig(Config):\n"
                    '    SQLALCHEMY_DATABASE_URI = os.environ.get("DEV_DATABASE_URL") or \\\n'
                    '        "sqlite:///" + os.path.join(basedir, "data-dev.sqlite")\n\n'
                    "class ProductionConfig(Config):\n"
                    '    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")\n\n'
                    'config = {"development": DevelopmentConfig, "production": ProductionConfig,'
                    ' "default": DevelopmentConfig}\n'
                ),
                "app/__init__.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\nfrom config import config\n\n"
                    "db = SQLAlchemy()\n\n"
                    "def create_app(config_name):\n"
                    "    app = Flask(__name__)\n"
                    "    app.config.from_object(config[config_name])\n"
                    "    db.init_app(app)\n"
                    "    return app\n"
                ),
                "wsgi.py": (
                    "import os\nfrom app import create_app\n\n"
                    'app = create_app(os.getenv("FLASK_CONFIG") or "default")\n'
                ),
            },
            platform={"variables": ["DATABASE_URL", "SECRET_KEY"]},
            expect="`SQLALCHEMY_DATABASE_URI` (DevelopmentConfig, config.py:9) falls back to SQLite",
            note="FLASK_CONFIG is not set, so the default DevelopmentConfig runs in production",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            expect="`DATABASE_URL` is unset",
            note="no platform variables given: nothing says DATABASE_URL is set, so the fallback runs",
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn main:app"\n',
                "requirements.txt": "flask\nsqlalchemy\ngunicorn\n",
                "main.py": (
                    "from flask import Flask\nfrom sqlalchemy import create_engine as make\n\n"
                    "app = Flask(__name__)\n"
                    'engine = make("sqlite:///data/store.db")\n'
                ),
            },
            platform={"volume_mount_path": "/data"},
            expect="the URL of `create_engine()` (main.py:5) is SQLite (`data/store.db`)",
            note="a relative path is not under the volume mounted at /data",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'todo:create_app()'\n",
                "requirements.txt": "flask\ngunicorn\n",
                "todo/__init__.py": (
                    "from flask import Flask\nfrom .db import init_db\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    "    init_db(app)\n"
                    "    return app\n"
                ),
                "todo/db.py": (
                    "import sqlite3 as sql\n\n"
                    'DATABASE = "todo.sqlite3"\n\n'
                    "def init_db(app):\n"
                    "    conn = sql.connect(DATABASE)\n"
                    '    conn.execute("CREATE TABLE IF NOT EXISTS todo (id INTEGER PRIMARY KEY, text TEXT)")\n'
                ),
            },
            expect="`sqlite3.connect()` (todo/db.py:6) opens `todo.sqlite3` at startup",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\ngunicorn\n",
                "app.py": (
                    "import sqlite3\nfrom flask import Flask, g\n\n"
                    "app = Flask(__name__)\n\n"
                    "def get_db():\n"
                    '    if "db" not in g:\n'
                    '        g.db = sqlite3.connect("instance/notes.db")\n'
                    "    return g.db\n\n"
                    '@app.route("/")\n'
                    "def index():\n"
                    '    return str(get_db().execute("SELECT count(*) FROM notes").fetchone())\n'
                ),
            },
            expect="when `get_db()` runs",
        ),
    ]


def _sqlite_url(production, value: Value, volume: str | None) -> tuple[str, list[str]] | None:
    """(message tail, evidence) when every value SQLAlchemy can get is a SQLite file off the volume."""
    options = value.options if isinstance(value, Unknown) and value.options else (value,)
    found = None
    for option in options:
        plain = option.effective
        if not (isinstance(plain, Known) and isinstance(plain.value, str)):
            return None
        file = sqlite_file(plain.value)
        if file is None or _under_volume(option, file, volume):
            return None
        if found is None:
            found = (option, file)
    if found is None:
        return None
    option, file = found
    shown = f"`{shown_path(file)}`" if file else "an in-memory database"
    why = WHY if file else WHY_IN_MEMORY
    if isinstance(option, EnvValue) and production.environment.source(option.name) is None:
        message = f"falls back to SQLite ({shown}) because `{option.name}` is unset: {why}"
    else:
        message = f"is SQLite ({shown}): {why}"
    return message, list(option.trace)


def _under_volume(value: Value, file: str, volume: str | None) -> bool:
    if not volume:
        return False
    if VOLUME_VARIABLE in value.env:
        return True
    mount = posixpath.normpath(volume)
    return container_path(file).startswith(mount.rstrip("/") + "/") if file else False


def _calls(tree: cst.Module) -> Iterator[cst.Call]:
    stack: list[cst.CSTNode] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call):
            yield node
        stack.extend(node.children)


def _enclosing_function(module, node: cst.CSTNode) -> cst.FunctionDef | None:
    parents = module.metadata(ParentNodeProvider)
    current = node
    while current in parents:
        current = parents[current]
        if isinstance(current, cst.FunctionDef):
            return current
    return None


def _short(evidence: list[str]) -> list[str]:
    return list(dict.fromkeys(evidence))[:5]
