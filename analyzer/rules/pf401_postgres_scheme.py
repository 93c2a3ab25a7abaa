from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import ParentNodeProvider

from analyzer.autofix import Fix
from analyzer.fixes.pycode import ModuleEdit
from analyzer.prodpath import ClassRef, EnvValue, FunctionRef, Known, ModuleRef, ObjectRef, Scope, Unknown, Value
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

URI_KEY = "SQLALCHEMY_DATABASE_URI"
# The string a scheme rewrite matches on: `"postgres://"`, `"postgres:"`, `r"^postgres(ql)?://"`.
# A whole URL is not a rewrite, and neither is a bare "postgres" (the default user name).
_REWRITE_LITERAL = re.compile(r"\^?postgres(?:\(ql\)\?|ql\?)?:(?://)?\W*")
URL_PARTS = frozenset({"scheme", "drivername"})
# Servers other than PostgreSQL: a read whose fallback URL or whose name says one is not a Postgres URL
# (a SQLite fallback is the usual local default of a Postgres DATABASE_URL, so it does not count).
_OTHER_SERVER = re.compile(r"(mysql|mariadb|mssql|oracle)", re.I)
_URL_CREDENTIALS = re.compile(r"//[^/@\s]*@")
# In evidence, code is shown cut at 80 characters: a cut can fall inside the credentials.
_CUT_CREDENTIALS = re.compile(r"(\w://)[^/@\s\"']*:[^/@\s\"']*\.\.\.")
# The variable every Postgres provider (Heroku, Render, Railway templates) sets.
PROVIDER_VARIABLE = "DATABASE_URL"
# Drivers of SQL servers other than PostgreSQL. With one declared and no PostgreSQL driver, the app
# talks to MySQL (or another server) and its DATABASE_URL is not taken for a PostgreSQL URL.
OTHER_SERVER_DRIVERS = (
    "pymysql",
    "mysqlclient",
    "mysql-connector-python",
    "mysql-connector",
    "mariadb",
    "aiomysql",
    "asyncmy",
    "pyodbc",
    "pymssql",
    "oracledb",
    "cx-oracle",
)
# An app that hands DATABASE_URL to Flask-SQLAlchemy as it is, and a MySQL app doing so: examples of
# PF401 and PF403 alike.
DATABASE_URL_APP = (
    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
    "app = Flask(__name__)\n"
    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]\n'
    "db = SQLAlchemy(app)\n"
)
MYSQL_APP = {
    "Procfile": "web: gunicorn app:app\n",
    "requirements.txt": "flask\nflask-sqlalchemy\npymysql\ngunicorn\n",
    "app.py": DATABASE_URL_APP,
}
POSTGRES_DRIVERS = ("psycopg2", "psycopg2-binary", "psycopg", "pg8000", "asyncpg", "psycopg2cffi", "pygresql")


def strip_credentials(url: str) -> str:
    return _URL_CREDENTIALS.sub("//", url, count=1)


def _nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _string_value(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.FormattedStringText):
        return node.value
    return None


def _is_rewrite(node: cst.CSTNode) -> bool:
    """A scheme rewrite: a `postgres://` match string, a `url.scheme == "postgres"` test,
    `urlparse(...)._replace(scheme=...)`, or SQLAlchemy's `make_url(...).set(drivername=...)`."""
    text = _string_value(node)
    if text is not None:
        return bool(_REWRITE_LITERAL.fullmatch(text.replace("\\", "")))
    if isinstance(node, cst.Comparison):
        sides = [node.left, *(target.comparator for target in node.comparisons)]
        return any(isinstance(side, cst.Attribute) and side.attr.value in URL_PARTS for side in sides)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        keywords = {arg.keyword.value for arg in node.args if arg.keyword is not None}
        return (node.func.attr.value == "_replace" and "scheme" in keywords) or (
            node.func.attr.value == "set" and "drivername" in keywords
        )
    return False


def _mentions(node: cst.CSTNode, name: str) -> bool:
    return any(
        (isinstance(inner, cst.Name) and inner.value == name) or _string_value(inner) == name for inner in _nodes(node)
    )


@dataclass
class _Way:
    """The code a URL flows through from where it is read to where SQLAlchemy gets it.

    Unlike the production-path evaluator, which keeps the last unconditional
    assignment, this walks every assignment of every name on the way,
    conditional or not, and every statement that mentions one: a rewrite
    under `if url.startswith("postgres://"):` is found even when the branch
    is undecided or decided false in production.
    """

    production: object
    reads: list[EnvValue] = field(default_factory=list)
    rewrite: str | None = None  # where the scheme is rewritten
    literals: list[str] = field(default_factory=list)  # URL literals on the way
    _seen: set = field(default_factory=set)

    @property
    def evaluator(self):
        return self.production.evaluator

    def locate(self, path: str, node: cst.CSTNode) -> tuple[Scope, cst.CSTNode] | None:
        """The scope a node is written in and the statement that holds it."""
        module = self.production.evaluator.project.python(path)
        if module is None:
            return None
        parents = module.metadata(ParentNodeProvider)
        if node not in parents:
            return None
        statement = None
        current = node
        while current in parents:
            if statement is None and isinstance(current, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                statement = current
            if isinstance(current, cst.ClassDef):
                scope = self.evaluator.class_scope(ClassRef(path, current.name.value, current, module))
                return (scope, statement) if scope is not None else None
            if isinstance(current, cst.FunctionDef):
                scope = self.production.scope(path, current)
                return (scope, statement) if scope is not None else None
            current = parents[current]
        scope = self.evaluator.module_scope(path)
        return (scope, statement) if scope is not None else None

    def start(self, path: str, node: cst.CSTNode) -> bool:
        located = self.locate(path, node)
        if located is None:
            return False
        scope, statement = located
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            self.expression(node.value, scope, node)
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                if isinstance(target, cst.Name):
                    self.guards(target.value, scope)
        else:
            self.expression(node, scope, statement)
        return True

    def expression(self, expr: cst.CSTNode | None, scope: Scope, before: cst.CSTNode | None) -> None:
        if expr is None:
            return
        if _is_rewrite(expr):
            self.rewrite = self.rewrite or f"{scope.path}:{scope.module.line(expr)}"
            return
        text = _string_value(expr)
        if text is not None:
            if "://" in text:
                self.literals.append(text)
            return
        if isinstance(expr, cst.Lambda):
            return
        if isinstance(expr, cst.Name):
            self.name(expr.value, scope, before)
            return
        if isinstance(expr, cst.Attribute):
            self.expression(expr.value, scope, before)
            self.attribute(expr, scope, before)
            return
        if isinstance(expr, (cst.Call, cst.Subscript)):
            read = self.evaluator.env_read(expr, scope, before)
            if read is not None:
                self.reads.append(read)
        if isinstance(expr, cst.Arg):
            self.expression(expr.value, scope, before)
            return
        for child in expr.children:
            self.expression(child, scope, before)

    def name(self, name: str, scope: Scope, before: cst.CSTNode | None) -> None:
        key = (id(scope.node), name)
        if key in self._seen:
            return
        self._seen.add(key)
        entries = scope.lookup(name, before)
        if not entries:
            if scope.kind == "function" and name in scope.params:
                return  # the caller's argument is on the way already
            if scope.parent is not None:
                self.name(name, scope.parent, scope.node if scope.kind == "class" else None)
            return
        self.guards(name, scope)
        for entry in entries:
            if entry.kind in ("assign", "unpack", "augassign"):
                self.expression(entry.value, scope, entry.node)
                self.expression(entry.fallback, scope, entry.fallback_node)
            elif entry.kind == "def":
                self.function(FunctionRef(scope.path, name, entry.node, scope.module))
            elif entry.kind == "from-import":
                path = self.evaluator.find_module(self.evaluator.absolute(scope.path, entry.import_source or ""))
                target = self.evaluator.module_scope(path) if path else None
                if target is not None:
                    self.name(entry.import_name or name, target, None)

    def guards(self, name: str, scope: Scope, before: cst.CSTNode | None = None) -> None:
        """A rewrite written next to the name in its scope (`if url.startswith(...): url = ...`),
        before `before` when given."""
        limit = scope.order_of(before) if before is not None else None
        for statement in scope.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            if limit is not None and (scope.order_of(statement) or 0) >= limit:
                break
            if _mentions(statement, name):
                for node in _nodes(statement):
                    if _is_rewrite(node):
                        self.rewrite = self.rewrite or f"{scope.path}:{scope.module.line(node)}"
                        return

    def attribute(self, expr: cst.Attribute, scope: Scope, before: cst.CSTNode | None) -> None:
        base = self.evaluator.evaluate(expr.value, scope, before).effective
        target = base.value if isinstance(base, Known) else None
        if isinstance(target, ObjectRef):
            target = target.cls
        if isinstance(target, ClassRef):
            for cls in self.evaluator.mro(target):
                class_scope = self.evaluator.class_scope(cls) if isinstance(cls, ClassRef) else None
                if class_scope is not None and class_scope.lookup(expr.attr.value):
                    self.name(expr.attr.value, class_scope, None)
                    return
        elif isinstance(target, ModuleRef):
            module_scope = self.evaluator.module_scope(target.path)
            if module_scope is not None:
                self.name(expr.attr.value, module_scope, None)
        elif isinstance(target, FunctionRef):
            self.function(target)

    def function(self, ref: FunctionRef) -> None:
        """A repo function applied on the way: a rewrite anywhere in it counts, and what it
        returns is followed (`get_database_url()` reading the variable itself)."""
        key = id(ref.node)
        if key in self._seen:
            return
        self._seen.add(key)
        for node in _nodes(ref.node.body):
            if _is_rewrite(node):
                self.rewrite = self.rewrite or f"{ref.path}:{ref.module.line(node)}"
                return
        scope = self.production.scope(ref.path, ref.node)
        if scope is None:
            return
        scope.entries()
        for statement, _conditional in scope.returns:
            self.expression(statement.value, scope, statement)


@dataclass
class _Problem:
    message: str
    subject: str
    evidence: list[str]
    read: EnvValue | None = None  # the env read that passes the URL through
    literal: Value | None = None  # the `postgres://` literal


class PostgresScheme(Rule):
    """
    ## What it does
    Flags a PostgreSQL URL that can reach SQLAlchemy with the `postgres://`
    scheme: `DATABASE_URL` (or another variable set on the platform) passed to
    `SQLALCHEMY_DATABASE_URI` or `create_engine()` with no rewrite of the scheme
    on the way, or a `postgres://` literal in the config the production path
    loads. With Flask-SQLAlchemy 3 the URI counts as it stands at
    `db.init_app(app)`; 2.x reads it at the first query, so with 2.x pinned the
    value in effect after startup counts. Not flagged: a `DATABASE_URL` read when
    the build declares a MySQL, SQL Server or Oracle driver and no PostgreSQL one.

    ## Why is this bad?
    SQLAlchemy 1.4 removed the `postgres` dialect name. Flask-SQLAlchemy 3
    (SQLAlchemy 1.4+) creates the engine when the gunicorn worker boots, and a
    `postgres://` URL fails there with `NoSuchModuleError: Can't load plugin:
    sqlalchemy.dialects:postgres`. Railway's own Postgres hands out
    `postgresql://`, but Heroku, several Railway templates and other providers
    still give `postgres://`: an app that passes the variable through unchanged
    works with one database and crashes with the next.

    ## Example
    ```python
    class ProductionConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
    ```

    ## Use instead
    ```python
    class ProductionConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    ```

    ## How to fix
    Rewrite the scheme where the URL is read: `.replace("postgres://", "postgresql://", 1)`.

    ## Fix safety
    The autofix appends `.replace("postgres://", "postgresql://", 1)` where the URL
    is read (a `.get()` that can return None gets `or ""` first), or writes
    `postgresql://` in the literal. A `postgresql://` URL passes through unchanged.

    ## References
    - SQLAlchemy 1.4 changelog: the `postgres` dialect alias is removed
    - Flask-SQLAlchemy 3.0: configuration, `SQLALCHEMY_DATABASE_URI`
    - Railway: PostgreSQL, `DATABASE_URL`
    """

    id = "PF401"
    slug = "postgres-scheme"
    severity = Severity.HIGH
    title = "postgres:// scheme reaches SQLAlchemy"

    def check(self, project: Project) -> Iterator[Finding]:
        if not project.python_paths_containing(b"sqlalchemy", b"SQLAlchemy"):
            return
        if project.manifests.pinned_below("sqlalchemy", "1.4") is True:
            return
        production = project.production
        for use in production.extensions:
            if not use.on_path:
                continue
            if use.kind == "sqlalchemy" and use.database_uri is not None:
                finding = self._setting(production, use)
            elif use.kind == "sqlalchemy_engine":
                finding = self._engine(production, use)
            else:
                continue
            if finding is not None:
                yield finding

    def _setting(self, production, use) -> Finding | None:
        setting = use.database_uri
        owner = setting.defined_in.name if setting.defined_in is not None else None
        where = f"{owner}, {setting.where}" if owner else setting.where
        init = use.inits[0]
        problems = []
        for value, path, node in _origins(setting.value, setting.path, setting.node):
            way = _Way(production)
            if not way.start(path, node):
                return None
            self._config_rewrites(production, way, use, init)
            problem = _judge(production, way, value, f"`{URI_KEY}` ({where})")
            if problem is None:
                return None
            problems.append(problem)
        if not problems:
            return None
        problem = problems[0]
        evidence = [*problem.evidence, *setting.evidence[:1], f"SQLAlchemy is set up at {init.path}:{init.line}"]
        finding = self.finding(
            problem.message, setting.path, setting.line, subject=problem.subject, evidence=_short(evidence)
        )
        finding.fix = scheme_fix(production.evaluator.project, problems)
        return finding

    @staticmethod
    def _config_rewrites(production, way: _Way, use, init) -> None:
        """`app.config[...] = app.config[...].replace(...)` before the engine is set up."""
        config = next((c for c in production.configs if c.app == init.app), None)
        if config is not None:
            for earlier in config.history.get(URI_KEY, []):
                rewritten = earlier.node is not None and any(_is_rewrite(node) for node in _nodes(earlier.node))
                if earlier.seq < (init.seq or 0) and rewritten:
                    way.rewrite = way.rewrite or earlier.where
        step = next((s for s in production.reach.steps if s.seq == init.seq), None)
        if step is not None:
            way.guards(URI_KEY, step.scope, step.node)

    def _engine(self, production, use) -> Finding | None:
        value = use.argument("url", 0)
        call = use.node
        arg = next((a for a in call.args if a.keyword is None or a.keyword.value == "url"), None)
        if value is None or arg is None:
            return None
        way = _Way(production)
        if not way.start(use.path, arg.value):
            return None
        problem = _judge(production, way, value, f"the URL of `create_engine()` ({use.where})")
        if problem is None:
            return None
        evidence = [*problem.evidence, *production.why(use.path)[-2:]]
        finding = self.finding(problem.message, use.path, use.line, subject=problem.subject, evidence=_short(evidence))
        finding.fix = scheme_fix(production.evaluator.project, [problem])
        return finding

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Pipfile": '[packages]\nflask = "*"\nflask-sqlalchemy = "*"\nsqlalchemy = "*"\ngunicorn = "*"\n',
                "Pipfile.lock": '{"default": {"sqlalchemy": {"version": "==1.3.20"}, "flask": {"version": "==1.1.2"}}}\n',
                "app.py": DATABASE_URL_APP,
            },
            platform={"variables": ["DATABASE_URL"]},
            note="Pipfile.lock pins SQLAlchemy 1.3, which still accepts `postgres://`; Railpack installs the lock",
        ),
        Example(
            MYSQL_APP,
            platform={"variables": ["DATABASE_URL"]},
            note="a MySQL driver and no PostgreSQL one: DATABASE_URL is a MySQL URL, which has no `postgres://` to rewrite",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "config.py": (
                    "import os\n\n"
                    "class Config:\n"
                    '    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "").replace(\n'
                    '        "postgres://", "postgresql://", 1\n'
                    "    )\n"
                ),
                "wsgi.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config.from_object("config.Config")\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            note="str.replace where the URL is read",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "app/__init__.py": (
                    "import os\nfrom flask import Flask\nfrom .extensions import db\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    '    uri = os.getenv("DATABASE_URL")\n'
                    '    if uri and uri.startswith("postgres://"):\n'
                    '        uri = uri.replace("postgres://", "postgresql://", 1)\n'
                    '    app.config["SQLALCHEMY_DATABASE_URI"] = uri\n'
                    "    db.init_app(app)\n"
                    "    return app\n"
                ),
                "app/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
            },
            platform={"variables": ["DATABASE_URL"]},
            note="a startswith guard, which the production path does not reflect",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "settings/db.py": (
                    'import re\n\ndef normalize(url):\n    return re.sub(r"^postgres://", "postgresql://", url)\n'
                ),
                "settings/__init__.py": "",
                "config.py": (
                    "import os as _os\nfrom settings.db import normalize\n\n"
                    "class ProductionConfig:\n"
                    '    SQLALCHEMY_DATABASE_URI = normalize(_os.environ["DATABASE_URL"])\n'
                ),
                "wsgi.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
                    "from config import ProductionConfig\n\n"
                    "app = Flask(__name__)\napp.config.from_object(ProductionConfig)\n"
                    "db = SQLAlchemy()\ndb.init_app(app)\n"
                ),
            },
            note="re.sub in a helper module, applied to the read",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\ngunicorn\npsycopg2-binary\n",
                "app.py": (
                    "import os\nimport psycopg2\nfrom flask import Flask\n\n"
                    "app = Flask(__name__)\n"
                    'conn = psycopg2.connect(os.environ["DATABASE_URL"])\n'
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            note="no SQLAlchemy: libpq accepts postgres://",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy==2.5.1\nSQLAlchemy==1.3.24\npsycopg2-binary\ngunicorn\n",
                "app.py": DATABASE_URL_APP,
            },
            platform={"variables": ["DATABASE_URL"]},
            note="SQLAlchemy pinned below 1.4 still accepts postgres://",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "app.py": (
                    "import os\nfrom urllib.parse import urlparse\n"
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    'url = urlparse(os.environ["DATABASE_URL"])\n'
                    'if url.scheme == "postgres":\n'
                    '    url = url._replace(scheme="postgresql")\n'
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = url.geturl()\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            note="urllib.parse rewrite",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"].replace(\n'
                    '    "postgres://", "postgresql://", 1\n'
                    ")\n"
                    "db = SQLAlchemy()\n"
                    "db.init_app(app)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = "postgres://u:p@db.example.com/app"\n'
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            note="a URL assigned after db.init_app(app) is not what SQLAlchemy receives",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npymysql\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.getenv(\n'
                    '    "MYSQL_URL", "mysql+pymysql://root@localhost/app"\n'
                    ")\n"
                    "db = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["MYSQL_URL"]},
            note="unrelated: a MySQL URL",
        ),
    ]
    INVALID = [
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
                    'app = create_app(os.getenv("FLASK_CONFIG") or "production")\n'
                ),
            },
            platform={"variables": ["DATABASE_URL", "SECRET_KEY"]},
            expect="`DATABASE_URL` reaches SQLAlchemy unchanged as `SQLALCHEMY_DATABASE_URI` (ProductionConfig",
            fixed={
                "config.py": (
                    "import os\n\nbasedir = os.path.abspath(os.path.dirname(__file__))\n\n"
                    "class Config:\n"
                    '    SECRET_KEY = os.environ.get("SECRET_KEY")\n\n'
                    "class DevelopmentConfig(Config):\n"
                    '    SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(basedir, "dev.sqlite")\n\n'
                    "class ProductionConfig(Config):\n"
                    '    SQLALCHEMY_DATABASE_URI = (os.environ.get("DATABASE_URL") or "").replace('
                    '"postgres://", "postgresql://", 1)\n\n'
                    'config = {"development": DevelopmentConfig, "production": ProductionConfig,'
                    ' "default": DevelopmentConfig}\n'
                )
            },
            note="flasky layout whose wsgi.py falls back to the production config; `.get()` can give None",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "app/__init__.py": (
                    "from flask import Flask\nfrom .extensions import db\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    '    app.config.from_object("app.settings.ProductionConfig")\n'
                    "    db.init_app(app)\n"
                    "    return app\n"
                ),
                "app/extensions.py": "from flask_sqlalchemy import SQLAlchemy as SA\n\ndb = SA()\n",
                "app/settings.py": (
                    "import os as _os\n\n"
                    "class ProductionConfig:\n"
                    '    SQLALCHEMY_DATABASE_URI = _os.environ["DATABASE_URL"]\n'
                ),
            },
            expect="`DATABASE_URL` reaches SQLAlchemy unchanged as `SQLALCHEMY_DATABASE_URI` (ProductionConfig",
            fixed={
                "app/settings.py": (
                    "import os as _os\n\n"
                    "class ProductionConfig:\n"
                    '    SQLALCHEMY_DATABASE_URI = _os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)\n'
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "app.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = "postgres://admin:hunter2@db.example.com:5432/shop"\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            expect="`postgres://db.example.com:5432/shop`",
            fixed={
                "app.py": (
                    "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://admin:hunter2@db.example.com:5432/shop"\n'
                    "db = SQLAlchemy(app)\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn main:app\n",
                "requirements.txt": "flask\nsqlalchemy\npsycopg2-binary\ngunicorn\n",
                "db.py": (
                    "import os\nfrom sqlalchemy import create_engine\n\n"
                    'DB_URL = os.getenv("POSTGRES_URL")\n'
                    "engine = create_engine(DB_URL, pool_pre_ping=True)\n"
                ),
                "main.py": "from flask import Flask\nimport db\n\napp = Flask(__name__)\n",
            },
            platform={"variables": ["POSTGRES_URL"]},
            expect="`POSTGRES_URL` reaches SQLAlchemy unchanged as the URL of `create_engine()`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\npsycopg2-binary\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL") or "sqlite:///app.db"\n'
                    "db = SQLAlchemy(app)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(\n'
                    '    "postgres://", "postgresql://", 1\n'
                    ")\n"
                ),
            },
            expect="`DATABASE_URL`",
            note="the rewrite after SQLAlchemy(app) comes too late",
            fixed={
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = (os.environ.get("DATABASE_URL") or "sqlite:///app.db")'
                    '.replace("postgres://", "postgresql://", 1)\n'
                    "db = SQLAlchemy(app)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(\n'
                    '    "postgres://", "postgresql://", 1\n'
                    ")\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\r\n",
                "requirements.txt": "flask\r\nflask-sqlalchemy\r\npsycopg2-binary\r\ngunicorn",
                "app/__init__.py": (
                    "import os\r\n\r\nfrom flask import Flask\r\nfrom flask_sqlalchemy import SQLAlchemy\r\n\r\n"
                    "db = SQLAlchemy()\r\n\r\n\r\ndef create_app():\r\n    app = Flask(__name__)\r\n"
                    "    app.config['SQLALCHEMY_DATABASE_URI'] = os.getenv(\r\n"
                    "        'DATABASE_URL',  # set by Heroku\r\n        'sqlite:///local.db',\r\n    )\r\n"
                    "    db.init_app(app)\r\n    return app\r\n"
                ),
            },
            expect="`DATABASE_URL` reaches SQLAlchemy unchanged as `SQLALCHEMY_DATABASE_URI` (app/__init__.py:11)",
            fixed={
                "app/__init__.py": (
                    "import os\r\n\r\nfrom flask import Flask\r\nfrom flask_sqlalchemy import SQLAlchemy\r\n\r\n"
                    "db = SQLAlchemy()\r\n\r\n\r\ndef create_app():\r\n    app = Flask(__name__)\r\n"
                    "    app.config['SQLALCHEMY_DATABASE_URI'] = os.getenv(\r\n"
                    "        'DATABASE_URL',  # set by Heroku\r\n        'sqlite:///local.db',\r\n"
                    "    ).replace('postgres://', 'postgresql://', 1)\r\n"
                    "    db.init_app(app)\r\n    return app\r\n"
                )
            },
            note="Windows line endings, a factory, a read over several lines with a comment; no final newline "
            "in requirements.txt",
        ),
    ]


def _origins(value: Value, path: str | None, node: cst.CSTNode | None) -> list[tuple[Value, str, cst.CSTNode]]:
    """Where each possible value is written: the setting itself, or each candidate config's line."""
    if isinstance(value, Unknown) and value.options:
        return [
            (option, option.path, option.node) for option in value.options if option.path and option.node is not None
        ]
    if path is None or node is None:
        return []
    return [(value, path, node)]


def _judge(production, way: _Way, value: Value, target: str) -> _Problem | None:
    """Why this value can be a `postgres://` URL when SQLAlchemy gets it, or None."""
    if way.rewrite is not None:
        return None
    plain = value.effective
    if isinstance(plain, Known) and isinstance(plain.value, str) and plain.value.strip().startswith("postgres://"):
        shown = strip_credentials(plain.value.strip())
        return _Problem(
            f"{target} is `{shown}`: SQLAlchemy 1.4+ has no `postgres` dialect and fails with `NoSuchModuleError`",
            f"{URI_KEY} literal",
            list(value.trace),
            literal=plain,
        )
    if any(_OTHER_SERVER.match(literal) for literal in way.literals):
        return None
    environment = production.environment
    for read in way.reads:
        if read.name not in value.env:
            continue
        if _OTHER_SERVER.search(read.name) or "SQLITE" in read.name.upper():
            continue
        if read.name != PROVIDER_VARIABLE and environment.source(read.name) is None:
            continue
        if read.name == PROVIDER_VARIABLE and talks_to_another_server(production.evaluator.project):
            continue
        return _Problem(
            f"`{read.name}` reaches SQLAlchemy unchanged as {target}: a provider's `postgres://` URL fails"
            " with `NoSuchModuleError` when the worker boots",
            read.name,
            [f"`{read.name}` is read at {read.where} with no `postgres://` rewrite on the way", *value.trace],
            read=read,
        )
    return None


def talks_to_another_server(project: Project) -> bool:
    """The build declares a MySQL, SQL Server or Oracle driver and no PostgreSQL driver."""
    manifests = project.manifests

    def declared(names: tuple[str, ...]) -> bool:
        return any(manifests.declares(name) is not None for name in names)

    return declared(OTHER_SERVER_DRIVERS) and not declared(POSTGRES_DRIVERS)


def _short(evidence: list[str]) -> list[str]:
    """A few lines of evidence, with any URL's credentials removed."""
    cleaned = [_CUT_CREDENTIALS.sub(r"\1...", _URL_CREDENTIALS.sub("//", line)) for line in evidence]
    return list(dict.fromkeys(cleaned))[:5]


REWRITE = '.replace("postgres://", "postgresql://", 1)'
SCHEME_SAFETY = (
    "Only the scheme of a `postgres://` URL changes; a `postgresql://` URL (Railway's own Postgres) passes "
    "through unchanged."
)


def scheme_fix(project: Project, problems: list[_Problem]) -> Fix | None:
    """The rewrite where the URL is read (`os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)`;
    a read that can give None is made a string first), or `postgresql://` in the literal."""
    edits: dict[str, ModuleEdit] = {}
    for problem in problems:
        value = problem.read or problem.literal
        if value is None or value.module is None or value.node is None:
            return None
        path = value.module.path
        edit = edits.get(path) or ModuleEdit.of(project, path)
        node = edit.locate(value.node, value.module) if edit is not None else None
        if node is None:
            return None
        edits[path] = edit
        if problem.literal is not None:
            if not isinstance(node, cst.SimpleString) or "postgres://" not in node.value:
                return None
            edit.replace(node, node.with_changes(value=node.value.replace("postgres://", "postgresql://", 1)))
            continue
        parent = edit.parent(node)
        if isinstance(parent, cst.BooleanOperation) and isinstance(parent.operator, cst.Or) and parent.left is node:
            node = parent  # `os.environ.get(K) or "sqlite:///app.db"`: the rewrite goes on the whole fallback
        code = edit.module.code(node).strip()
        if not isinstance(node, cst.BooleanOperation) and not problem.read.required and not problem.read.has_default:
            # `os.environ.get(K)` is None when K is unset: `(... or "")` keeps `.replace` from raising.
            code = f"({code} or {edit.string('', node)})"
        elif isinstance(node, cst.BooleanOperation) and not node.lpar:
            code = f"({code})"
        edit.replace(node, code + REWRITE.replace('"', edit.quote(node)))
    changes = {path: text for path, edit in edits.items() if (text := edit.text()) is not None}
    if not changes:
        return None
    names = sorted({problem.read.name for problem in problems if problem.read is not None})
    title = f"Rewrite `postgres://` to `postgresql://` where `{names[0]}` is read" if names else "Use `postgresql://`"
    return Fix(title, SCHEME_SAFETY, changes)
