from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from analyzer.autofix import Fix
from analyzer.fixes.manifests import declare
from analyzer.fixes.pycode import ModuleEdit
from analyzer.prodpath import EnvValue, Known, Unknown, Value
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.rules.pf401_postgres_scheme import MYSQL_APP, PROVIDER_VARIABLE, URI_KEY, talks_to_another_server

# SQLAlchemy dialect driver -> (module it imports, packages that install it).
DRIVERS = {
    "psycopg2": ("psycopg2", ("psycopg2", "psycopg2-binary")),
    "psycopg": ("psycopg", ("psycopg",)),
    "psycopg_async": ("psycopg", ("psycopg",)),
    "pg8000": ("pg8000", ("pg8000",)),
    "asyncpg": ("asyncpg", ("asyncpg",)),
    "psycopg2cffi": ("psycopg2cffi", ("psycopg2cffi",)),
    "pygresql": ("pgdb", ("pygresql",)),
}
# The package (and extras) the fix declares for each driver: wheels that bundle libpq, so nothing compiles.
FIX_PACKAGES = {"psycopg2": ("psycopg2-binary", ()), "psycopg": ("psycopg", ("binary",))}
FIX_PACKAGES["psycopg_async"] = FIX_PACKAGES["psycopg"]
# `SQLAlchemy[extra]` installs a driver too.
SQLALCHEMY_EXTRAS = {
    "postgresql": "psycopg2",
    "postgresql-psycopg2binary": "psycopg2",
    "postgresql-psycopg": "psycopg",
    "postgresql-psycopgbinary": "psycopg",
    "postgresql-pg8000": "pg8000",
    "postgresql-asyncpg": "asyncpg",
}
_SCHEME = re.compile(r"\s*(postgres(?:ql)?)(?:\+(\w+))?://", re.I)
_DRIVER_LITERAL = re.compile(r"""["']postgres(?:ql)?\+(\w+)://""")


class PostgresDriverMissing(Rule):
    """
    ## What it does
    Flags an app that gives SQLAlchemy a PostgreSQL URL when the build installs
    no driver for it: a plain `postgresql://` (or `postgres://`) URL needs
    psycopg2 (`psycopg2` or `psycopg2-binary`), `postgresql+psycopg://` needs
    psycopg 3, `postgresql+pg8000://` and `postgresql+asyncpg://` need those
    packages. A `DATABASE_URL` read counts as a plain `postgresql://` URL: that is
    what Railway's Postgres service hands out, unless the build declares a MySQL,
    SQL Server or Oracle driver and no PostgreSQL one.

    ## Why is this bad?
    SQLAlchemy imports the driver when it creates the engine, which
    Flask-SQLAlchemy does when the gunicorn worker boots: the worker exits with
    `ModuleNotFoundError: No module named 'psycopg2'` and the deploy crashes.
    SQLAlchemy 2.0 maps a bare `postgresql://` to psycopg2, so a project that
    declares only psycopg 3 (`psycopg[binary]`) fails the same way.

    ## Example
    ```
    # requirements.txt
    flask
    flask-sqlalchemy
    psycopg[binary]
    # config.py: SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
    ```

    ## Use instead
    ```
    # requirements.txt
    flask
    flask-sqlalchemy
    psycopg2-binary
    ```

    ## How to fix
    Declare the driver the URL needs (`psycopg2-binary` for `postgresql://`), or name the installed driver in the scheme (`postgresql+psycopg://`).

    ## Fix safety
    The autofix follows the declared packages: with psycopg 3 declared and a
    plain URL it names psycopg 3 in the scheme (a literal's scheme, or
    `.replace("postgresql://", "postgresql+psycopg://", 1)` on the
    `DATABASE_URL` read); otherwise it declares the driver, unpinned
    (`psycopg2-binary`, whose wheels bundle libpq). Pin it to the version you
    test with, and update the lock file after a change to pyproject.toml or
    the Pipfile.

    ## References
    - SQLAlchemy 2.0: PostgreSQL dialects and their DBAPI drivers
    - Railway: PostgreSQL, `DATABASE_URL`
    """

    id = "PF403"
    slug = "postgres-driver-missing"
    severity = Severity.BLOCKER
    title = "PostgreSQL driver missing"

    def check(self, project: Project) -> Iterator[Finding]:
        manifests = project.manifests
        if not manifests.complete or not (manifests.installed or manifests.docker):
            return
        if not project.python_paths_containing(b"sqlalchemy", b"SQLAlchemy"):
            return
        production = project.production
        seen: set[str] = set()
        for use in production.extensions:
            if not use.on_path:
                continue
            if use.kind == "sqlalchemy" and use.database_uri is not None:
                setting = use.database_uri
                owner = setting.defined_in.name if setting.defined_in is not None else None
                target = f"`{URI_KEY}` ({owner}, {setting.where})" if owner else f"`{URI_KEY}` ({setting.where})"
                value, path, line, evidence = setting.value, setting.path, setting.line, setting.evidence[:1]
            elif use.kind == "sqlalchemy_engine" and use.argument("url", 0) is not None:
                target = f"the URL of `create_engine()` ({use.where})"
                value, path, line = use.argument("url", 0), use.path, use.line
                evidence = production.why(use.path)[-2:]
            else:
                continue
            url = _postgres_url(project, production, value)
            if url is None:
                continue
            scheme, driver, how = url
            module, packages = DRIVERS.get(driver, (driver, (driver,)))
            if _installed(manifests, driver) or driver in seen:
                continue
            seen.add(driver)
            where = manifests.primary.path if manifests.primary is not None else "the build"
            hint = ""
            if driver == "psycopg2" and _installed(manifests, "psycopg"):
                hint = "; psycopg 3 is declared, but SQLAlchemy maps a bare `postgresql://` to psycopg2"
            names = " or ".join(f"`{package}`" for package in packages)
            finding = self.finding(
                f"{target} is a `{scheme}` URL{how} but {where} installs no {names}: the worker fails"
                f" at boot with `No module named '{module}'`{hint}",
                path,
                line,
                subject=f"{driver} missing",
                evidence=list(dict.fromkeys([*value.trace, *evidence]))[:5],
            )
            finding.fix = (hint and _name_psycopg(project, value)) or _declare_driver(project, driver)
            yield finding

    VALID = [
        Example(
            MYSQL_APP,
            platform={"variables": ["DATABASE_URL"]},
            note="a MySQL driver and no PostgreSQL one: DATABASE_URL is Railway's MySQL URL",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "requirements.txt": "Flask==3.1.0\nFlask-SQLAlchemy==3.1.1\npsycopg2-binary==2.9.10\ngunicorn\n",
                "config.py": (
                    'import os\n\nclass ProductionConfig:\n    SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]\n'
                ),
                "wsgi.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    'app = Flask(__name__)\napp.config.from_object("config.ProductionConfig")\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "pyproject.toml": (
                    '[project]\nname = "shop"\nversion = "1"\n'
                    'dependencies = ["flask", "flask-sqlalchemy", "psycopg[binary]>=3.2", "gunicorn"]\n'
                ),
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"].replace(\n'
                    '    "postgresql://", "postgresql+psycopg://", 1\n'
                    ")\n"
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            note="psycopg 3 named in the scheme",
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
            note="no platform variables: the SQLite fallback runs (PF402's business)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "setup.py": (
                    "from setuptools import setup\n"
                    'setup(name="app", install_requires=open("requirements.in").read().split())\n'
                ),
                "requirements.in": "flask\nflask-sqlalchemy\npsycopg2\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            note="the dependencies are computed: what the build installs is not known",
        ),
        Example(
            {
                "Procfile": "web: gunicorn main:app\n",
                "requirements.txt": "flask\nSQLAlchemy[postgresql-asyncpg]==2.0.36\ngunicorn\n",
                "main.py": (
                    "from flask import Flask\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
                    "from sqlalchemy import create_engine\n\n"
                    "app = Flask(__name__)\n"
                    'engine = create_engine("postgresql+asyncpg://db.railway.internal/app")\n'
                ),
            },
            note="SQLAlchemy's extra installs the driver",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\ngunicorn\nredis\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nimport redis\n\n"
                    "app = Flask(__name__)\n"
                    'store = redis.from_url(os.environ["DATABASE_URL"])\n'
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            note="unrelated: no SQLAlchemy",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask==3.0.3\nflask-sqlalchemy==3.1.1\npsycopg[binary]==3.2.1\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\napp.config['SQLALCHEMY_DATABASE_URI'] = os.environ['DATABASE_URL'].replace(\n"
                    "    'postgres://', 'postgresql://', 1\n)\ndb = SQLAlchemy(app)\n"
                ),
            },
            expect="psycopg 3 is declared, but SQLAlchemy maps a bare `postgresql://` to psycopg2",
            note="PF401's scheme rewrite still leaves a bare `postgresql://`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "requirements.txt": "Flask==3.1.0\nFlask-SQLAlchemy==3.1.1\npsycopg[binary]==3.2.3\ngunicorn\n",
                "config.py": (
                    "import os\n\nclass Config:\n    SQLALCHEMY_TRACK_MODIFICATIONS = False\n\n"
                    "class ProductionConfig(Config):\n"
                    '    SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]\n'
                ),
                "wsgi.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    'app = Flask(__name__)\napp.config.from_object("config.ProductionConfig")\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            expect="psycopg 3 is declared",
            fixed={
                "config.py": (
                    "import os\n\nclass Config:\n    SQLALCHEMY_TRACK_MODIFICATIONS = False\n\n"
                    "class ProductionConfig(Config):\n"
                    '    SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"].replace("postgresql://", '
                    '"postgresql+psycopg://", 1)\n'
                )
            },
            note="psycopg 3 is what is declared, so the URL names it",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "requirements.txt": "-r requirements/base.txt\n",
                "requirements/base.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "app/__init__.py": (
                    "import os as _os\nfrom flask import Flask\nfrom .models import db\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    '    app.config["SQLALCHEMY_DATABASE_URI"] = _os.getenv("DATABASE_URL")\n'
                    "    db.init_app(app)\n"
                    "    return app\n"
                ),
                "app/models.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
            },
            platform={"variables": ["DATABASE_URL"]},
            expect="`SQLALCHEMY_DATABASE_URI` (app/__init__.py:7) is a `postgresql://` URL (`DATABASE_URL`",
            fixed={"requirements.txt": "-r requirements/base.txt\npsycopg2-binary\n"},
        ),
        Example(
            {
                "Procfile": "web: gunicorn main:app\n",
                "requirements.txt": "flask\nsqlalchemy\npsycopg2-binary\ngunicorn\n",
                "main.py": (
                    "from flask import Flask\nfrom sqlalchemy import create_engine\n\n"
                    "app = Flask(__name__)\n"
                    'engine = create_engine("postgresql+pg8000://app@db.railway.internal:5432/app")\n'
                ),
            },
            expect="installs no `pg8000`",
            fixed={"requirements.txt": "flask\nsqlalchemy\npsycopg2-binary\ngunicorn\npg8000\n"},
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements/prod.txt .\n"
                    "RUN pip install -r prod.txt\nCOPY . .\n"
                    'CMD ["gunicorn", "--bind", "0.0.0.0:8080", "app:app"]\n'
                ),
                "requirements/prod.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "requirements/dev.txt": "-r prod.txt\npsycopg2-binary\npytest\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            expect="installs no `psycopg2`",
            note="the driver is only in the dev requirements the image does not install",
            fixed={"requirements/prod.txt": "flask\nflask-sqlalchemy\ngunicorn\npsycopg2-binary\n"},
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\r\n",
                "requirements.txt": "Flask==3.1.0\r\nFlask-SQLAlchemy==3.1.1\r\ngunicorn==23.0.0",
                "wsgi.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///dev.db")\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["DATABASE_URL", "SECRET_KEY"]},
            expect="installs no `psycopg2` or `psycopg2-binary`",
            fixed={
                "requirements.txt": "Flask==3.1.0\r\nFlask-SQLAlchemy==3.1.1\r\ngunicorn==23.0.0\r\npsycopg2-binary\r\n"
            },
            note="Windows line endings and no final newline",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\n",
                "pyproject.toml": (
                    '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n'
                    "[tool.poetry.dependencies]\n"
                    'python = "^3.12"\nflask = "^3.1"\nsqlalchemy = "^2.0"\n'
                    'psycopg = { version = "^3.2", extras = ["binary"] }  # psycopg 3\ngunicorn = "^23.0"\n'
                ),
                "shop/__init__.py": (
                    "from flask import Flask\nfrom sqlalchemy import create_engine\n\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    "    app.extensions['engine'] = create_engine('postgresql://shop@db.railway.internal:5432/shop')\n"
                    "    return app\n"
                ),
            },
            expect="psycopg 3 is declared",
            fixed={
                "shop/__init__.py": (
                    "from flask import Flask\nfrom sqlalchemy import create_engine\n\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    "    app.extensions['engine'] = create_engine("
                    "'postgresql+psycopg://shop@db.railway.internal:5432/shop')\n"
                    "    return app\n"
                )
            },
            note="a literal URL in a factory: its scheme names the declared driver",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Pipfile": (
                    '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
                    '[packages]\nflask = "*"\nflask-sqlalchemy = "*"\ngunicorn = "*"\n\n'
                    '[dev-packages]\npsycopg2-binary = "*"\n'
                ),
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            expect="Pipfile installs no `psycopg2`",
            fixed={
                "Pipfile": (
                    '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
                    '[packages]\nflask = "*"\nflask-sqlalchemy = "*"\ngunicorn = "*"\npsycopg2-binary = "*"\n\n'
                    '[dev-packages]\npsycopg2-binary = "*"\n'
                )
            },
        ),
    ]


def _postgres_url(project: Project, production, value: Value) -> tuple[str, str, str] | None:
    """(scheme as written, driver, how it is known) when SQLAlchemy certainly gets a PostgreSQL URL."""
    options = value.options if isinstance(value, Unknown) and value.options else (value,)
    found = None
    for option in options:
        result = _option_url(project, production, option)
        if result is None or (found is not None and result[1] != found[1]):
            return None
        found = found or result
    return found


def _option_url(project: Project, production, value: Value) -> tuple[str, str, str] | None:
    plain = value.effective
    if isinstance(plain, Known):
        match = _SCHEME.match(plain.value) if isinstance(plain.value, str) else None
        if match is None:
            return None
        driver = (match.group(2) or "psycopg2").lower()
        return f"{match.group(1).lower()}{'+' + driver if match.group(2) else ''}://", driver, ""
    if PROVIDER_VARIABLE not in value.env or not isinstance(plain, Unknown):
        return None
    if talks_to_another_server(project):
        return None
    # The variable may be rewritten on the way to name a driver (`.replace("postgresql://", "postgresql+psycopg://")`).
    text = project.python_source(value.path) if value.path else None
    named = _DRIVER_LITERAL.search(text or "")
    if named is not None and not isinstance(value, EnvValue):
        driver = named.group(1).lower()
        return f"postgresql+{driver}://", driver, f" (`{PROVIDER_VARIABLE}`, rewritten at {value.where})"
    return "postgresql://", "psycopg2", f" (`{PROVIDER_VARIABLE}`, which Railway's Postgres gives as `postgresql://`)"


def _installed(manifests, driver: str) -> bool:
    _module, packages = DRIVERS.get(driver, (driver, (driver,)))
    if any(manifests.declares(package) for package in packages):
        return True
    sqlalchemy = manifests.declares("sqlalchemy")
    extras = {extra.lower().replace("_", "-") for extra in sqlalchemy.extras} if sqlalchemy is not None else set()
    return any(SQLALCHEMY_EXTRAS.get(extra) == driver for extra in extras)


def _declare_driver(project: Project, driver: str) -> Fix | None:
    _module, packages = DRIVERS.get(driver, (driver, (driver,)))
    package, extras = FIX_PACKAGES.get(driver, (packages[0], ()))
    declared = declare(project, package, extras)
    if declared is None:
        return None
    shown = f"{package}[{','.join(extras)}]" if extras else package
    safety = f"Adds `{shown}` unpinned, so the build installs its newest release; pin it to the version you test with."
    if declared.note:
        safety += f" Then {declared.note}."
    return Fix(f"Add `{shown}` to {declared.where}", safety, {declared.path: declared.text})


def _name_psycopg(project: Project, value: Value) -> Fix | None:
    """With psycopg 3 declared: `postgresql+psycopg://` in the URL, where it is read or written."""
    if value.path is None or value.node is None or value.module is None:
        return None
    edit = ModuleEdit.of(project, value.path)
    node = edit.locate(value.node, value.module) if edit is not None else None
    if node is None:
        return None
    if isinstance(value, EnvValue):
        if value.name != PROVIDER_VARIABLE or not (value.required or value.default is not None):
            return None  # a read that can be None would raise on `.replace` when the variable is unset
        old, new = edit.string("postgresql://", node), edit.string("postgresql+psycopg://", node)
        edit.replace(node, f"{edit.module.code(node)}.replace({old}, {new}, 1)")
        safety = (
            f"Every use of this `{PROVIDER_VARIABLE}` read gets the rewritten scheme; "
            "a `postgres://` URL is left as it is (see PF401)."
        )
    elif isinstance(node, cst.SimpleString):
        rewritten = re.sub(
            r"""^([rRuU]?(?:'|"){1,3}\s*)postgres(?:ql)?://""", r"\1postgresql+psycopg://", node.value, count=1
        )
        if rewritten == node.value:
            return None
        edit.replace(node, rewritten)
        safety = "Only the scheme of the URL changes."
    else:
        return None
    return edit.fix("Name psycopg 3 in the database URL (`postgresql+psycopg://`)", safety)
