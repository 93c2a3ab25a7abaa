from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import libcst as cst
from libcst.metadata import PositionProvider

from analyzer.autofix import Fix
from analyzer.fixes.pycode import ModuleEdit
from analyzer.prodpath import EnvValue, Known
from analyzer.prodpath.values import DECOUPLE_CONFIG
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"})
# Schemes of backing services: a URL with one of these names a server the app connects to.
SERVICE_SCHEMES = re.compile(
    r"(redis|rediss|unix|amqp|amqps|pyamqp|librabbitmq|mongodb(\+srv)?|mysql|mariadb|postgres|postgresql|memcache|"
    r"memcached|sqs|kafka|nats|zookeeper|ldap|ldaps|smtp|smtps|mssql|oracle|cockroachdb)(\+\w+)?",
    re.I,
)
# Variables whose plain-http URL points at a backing service (the app's own URL does not count).
HTTP_SERVICES = re.compile(
    r"ELASTIC|OPENSEARCH|SOLR|MEILI|TYPESENSE|QDRANT|WEAVIATE|CHROMA|MINIO|S3_ENDPOINT|OLLAMA", re.I
)
# Variables whose bare host names a backing service.
SERVICE_HOST = re.compile(
    r"(REDIS|MYSQL|MARIADB|POSTGRES|PG|DB|DATABASE|MONGO|RABBIT|AMQP|BROKER|MEMCACHE|ELASTIC|MAIL|SMTP|CACHE|KAFKA)"
    r"\w*_?(HOST|HOSTNAME|SERVER|SERVERS|ADDR|ADDRESS|ENDPOINT)$",
    re.I,
)
# Names of config classes that are for local work, ignored when the selection is undecided.
LOCAL_CONFIG = re.compile(r"dev|test|local|debug", re.I)
_CREDENTIALS = re.compile(r"//[^/@\s]*@")


class LocalhostServiceFallback(Rule):
    """
    ## What it does
    Flags a backing service whose URL or host falls back to the local machine
    when its variable is unset: `os.environ.get("REDIS_URL") or
    "redis://localhost:6379"`, a bare `"redis://"` (redis-py connects to
    localhost), `os.getenv("MYSQL_HOST", "localhost")`, and the same for
    `CELERY_BROKER_URL`, `CELERY_RESULT_BACKEND`, `CACHE_REDIS_URL`,
    `MONGO_URI`, RabbitMQ/AMQP and Elasticsearch URLs, when the variable is not
    among the platform variables. A `DATABASE_URL` falling back to SQLite is
    PF402's finding, and reads in config classes the production path does not
    select do not count.

    ## Why is this bad?
    On Railway nothing listens on `localhost:6379` inside the app's
    container: each service is its own container, reachable through its
    private domain. The app boots (the connection is lazy), passes the health
    check, and fails at the first request, cached page or background task that
    needs the service, with `Connection refused`.

    ## Example
    ```python
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")
    ```

    ## Use instead
    ```python
    CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]  # set to ${{Redis.REDIS_URL}}
    ```

    ## How to fix
    Require the variable (`os.environ["REDIS_URL"]`) and set it on the service as a reference to the backing service (`${{Redis.REDIS_URL}}`).

    ## Fix safety
    The autofix requires the variable (`os.environ["REDIS_URL"]`; python-decouple's
    `config()` loses its default), so the app fails at boot until it is set instead
    of at the first request.

    ## References
    - Railway: Reference variables, private networking
    - redis-py: `Redis.from_url` (an empty host means localhost)
    """

    id = "PF405"
    slug = "localhost-service-fallback"
    severity = Severity.MEDIUM
    title = "Backing service falls back to localhost"

    def check(self, project: Project) -> Iterator[Finding]:
        if not project.python_paths_containing(b"environ", b"getenv", b"decouple"):
            return
        production = project.production
        environment = production.environment
        undecided = any(config.ambiguous for config in production.configs)
        for use in production.env_reads:
            read = use.value
            if read is None or use.set_by is not None:
                continue
            fallback = _fallback(read, environment)
            if fallback is None or not _is_local_service(use.name, fallback):
                continue
            owner = _enclosing_class(project, use.path, use.line)
            if owner is not None and (
                production.is_unselected(owner) or (undecided and LOCAL_CONFIG.search(owner) is not None)
            ):
                continue
            where = f"{use.path}:{use.line}" + (f", {owner}" if owner else "")
            shown = _CREDENTIALS.sub("//", fallback)
            finding = self.finding(
                f"`{use.name}` falls back to `{shown}` ({where}) when it is unset: the app boots on Railway"
                " and fails at the first request that needs the service",
                use.path,
                use.line,
                subject=use.name,
                evidence=[_CREDENTIALS.sub("//", line) for line in read.trace][:3],
            )
            finding.fix = require_fix(project, read)
            yield finding

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\nworker: celery -A app.celery worker\n",
                "requirements.txt": "flask\ncelery[redis]\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom celery import Celery\n\n"
                    "app = Flask(__name__)\n"
                    'celery = Celery(__name__, broker=os.environ.get("REDIS_URL", "redis://localhost:6379/0"))\n'
                ),
            },
            platform={"variables": ["REDIS_URL"]},
            note="REDIS_URL is set on the platform: the fallback never runs",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-sqlalchemy\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["SQLALCHEMY_DATABASE_URI"] = os.getenv("DATABASE_URL", "sqlite:///app.db")\n'
                    "db = SQLAlchemy(app)\n"
                ),
            },
            note="DATABASE_URL falling back to SQLite is PF402's finding",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "requirements.txt": "flask\nflask-caching\nredis\ngunicorn\n",
                "config.py": (
                    "import os\n\nclass Config:\n"
                    '    SECRET_KEY = os.environ["SECRET_KEY"]\n\n'
                    "class DevelopmentConfig(Config):\n"
                    '    CACHE_REDIS_URL = os.getenv("CACHE_REDIS_URL", "redis://localhost:6379/1")\n\n'
                    "class ProductionConfig(Config):\n"
                    '    CACHE_REDIS_URL = os.environ["CACHE_REDIS_URL"]\n\n'
                    'config = {"development": DevelopmentConfig, "production": ProductionConfig}\n'
                ),
                "wsgi.py": (
                    "import os\nfrom flask import Flask\nfrom config import config\n\n"
                    "app = Flask(__name__)\n"
                    'app.config.from_object(config[os.getenv("FLASK_CONFIG", "production")])\n'
                ),
            },
            platform={"variables": ["SECRET_KEY", "CACHE_REDIS_URL"]},
            note="only the unselected DevelopmentConfig falls back",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\ngunicorn\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\n"
                    "app = Flask(__name__)\n"
                    'HOST = os.getenv("HOST", "0.0.0.0")\n'
                    'PUBLIC_URL = os.getenv("PUBLIC_URL", "http://localhost:5000")\n\n'
                    'if __name__ == "__main__":\n'
                    '    app.run(host=HOST, port=int(os.getenv("PORT", "5000")))\n'
                ),
                "scripts/seed.py": 'import os\nimport redis\n\nr = redis.from_url(os.getenv("REDIS_URL", "redis://"))\n',
            },
            note="unrelated: the app's own bind address and URL, a script the server never imports",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "requirements.txt": "flask\nredis\ngunicorn\n",
                "wsgi.py": (
                    "import os\nimport redis\nfrom flask import Flask\n\n"
                    "app = Flask(__name__)\n"
                    'store = redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.getenv("REDIS_PORT", "6379")))\n'
                ),
            },
            note="required host, only the port has a default",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nredis\ngunicorn\n",
                "app.py": (
                    "import os\nimport redis\nfrom flask import Flask\n\n"
                    "app = Flask(__name__)\n"
                    'cache = redis.from_url(os.environ.get("REDIS_URL") or "redis://localhost:6379")\n'
                ),
            },
            platform={"variables": ["SECRET_KEY"]},
            expect="`REDIS_URL` falls back to `redis://localhost:6379` (app.py:6)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\nworker: celery -A tasks worker\n",
                "requirements.txt": "flask\ncelery\ngunicorn\n",
                "config.py": (
                    "import os as _os\n\nclass Config:\n"
                    '    CELERY_BROKER_URL = _os.getenv("CELERY_BROKER_URL", "amqp://guest:guest@localhost:5672//")\n'
                    '    CELERY_RESULT_BACKEND = _os.getenv("CELERY_RESULT_BACKEND", "redis://")\n'
                ),
                "wsgi.py": (
                    "from flask import Flask\n\napp = Flask(__name__)\napp.config.from_object('config.Config')\n"
                ),
            },
            expect="`CELERY_BROKER_URL` falls back to `amqp://localhost:5672//` (config.py:4, Config)",
            fixed={
                "config.py": (
                    "import os as _os\n\nclass Config:\n"
                    '    CELERY_BROKER_URL = _os.environ["CELERY_BROKER_URL"]\n'
                    '    CELERY_RESULT_BACKEND = _os.environ["CELERY_RESULT_BACKEND"]\n'
                )
            },
            note="both variables of the class are fixed together, under the module's alias for `os`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'blog:create_app()'\n",
                "requirements.txt": "flask\npymysql\ngunicorn\n",
                "blog/__init__.py": (
                    "from flask import Flask\nfrom .db import connect\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    "    app.teardown_appcontext(lambda exc: None)\n"
                    "    return app\n"
                ),
                "blog/db.py": (
                    "import os\nimport pymysql\n\n"
                    "def connect():\n"
                    "    return pymysql.connect(\n"
                    '        host=os.getenv("MYSQL_HOST", "localhost"),\n'
                    '        user=os.environ["MYSQL_USER"],\n'
                    "    )\n"
                ),
            },
            platform={"variables": ["MYSQL_USER"]},
            expect="`MYSQL_HOST` falls back to `localhost` (blog/db.py:6)",
            fixed={
                "blog/db.py": (
                    "import os\nimport pymysql\n\n"
                    "def connect():\n"
                    "    return pymysql.connect(\n"
                    '        host=os.environ["MYSQL_HOST"],\n'
                    '        user=os.environ["MYSQL_USER"],\n'
                    "    )\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nflask-pymongo\ngunicorn\n",
                "app.py": (
                    "from decouple import config\nfrom flask import Flask\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["MONGO_URI"] = config("MONGO_URI", default="mongodb://127.0.0.1:27017/app")\n'
                ),
            },
            expect="`MONGO_URI` falls back to `mongodb://127.0.0.1:27017/app`",
            fixed={
                "app.py": (
                    "from decouple import config\nfrom flask import Flask\n\n"
                    "app = Flask(__name__)\n"
                    'app.config["MONGO_URI"] = config("MONGO_URI")\n'
                )
            },
            note="python-decouple, no platform variables given: nothing says MONGO_URI is set",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\nelasticsearch\ngunicorn\n",
                "app.py": (
                    "import os\nfrom elasticsearch import Elasticsearch\nfrom flask import Flask\n\n"
                    "app = Flask(__name__)\n"
                    'es = Elasticsearch(os.environ.get("ELASTICSEARCH_URL", "http://localhost:9200"))\n'
                ),
            },
            platform={"variables": []},
            expect="`ELASTICSEARCH_URL`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\r\n",
                "requirements.txt": "flask\r\nflask-caching\r\nredis\r\ngunicorn",
                "app/__init__.py": (
                    "from flask import Flask\r\nfrom flask_caching import Cache\r\n\r\ncache = Cache()\r\n\r\n\r\n"
                    "def create_app():\r\n    app = Flask(__name__)\r\n"
                    "    app.config.from_object('app.settings.Config')\r\n    cache.init_app(app)\r\n    return app\r\n"
                ),
                "app/settings.py": (
                    "from os import environ\r\n\r\n\r\nclass Config:\r\n    CACHE_TYPE = 'RedisCache'\r\n"
                    "    CACHE_REDIS_URL = (\r\n        environ.get('CACHE_REDIS_URL')  # Railway Redis\r\n"
                    "        or 'redis://127.0.0.1:6379/0'\r\n    )\r\n"
                ),
            },
            expect="`CACHE_REDIS_URL` falls back to `redis://127.0.0.1:6379/0` (app/settings.py:7, Config)",
            fixed={
                "app/settings.py": (
                    "from os import environ\r\n\r\n\r\nclass Config:\r\n    CACHE_TYPE = 'RedisCache'\r\n"
                    "    CACHE_REDIS_URL = environ['CACHE_REDIS_URL']\r\n"
                )
            },
            note="Windows line endings, `from os import environ`, an `or` fallback in parentheses over lines",
        ),
    ]


def _fallback(read: EnvValue, environment) -> str | None:
    """The string the read yields when its variable (and any variable it falls back to) is unset."""
    current = read
    while isinstance(current.default, EnvValue):
        if environment.source(current.default.name) is not None:
            return None
        current = current.default
    default = current.default
    if default is None or set(default.env) - {current.name}:
        return None  # no fallback, or one computed from other variables (reported on their own reads)
    plain = default.effective
    return plain.value if isinstance(plain, Known) and isinstance(plain.value, str) else None


def _is_local_service(name: str, value: str) -> bool:
    text = value.strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""
        except ValueError:
            return False
        scheme = parts.scheme.lower()
        if scheme.startswith("sqlite"):
            return False
        service = bool(SERVICE_SCHEMES.fullmatch(scheme)) or (
            scheme in ("http", "https") and HTTP_SERVICES.search(name) is not None
        )
        return service and (host in LOCAL_HOSTS or (not host and scheme.startswith(("redis", "amqp", "mongodb"))))
    return text in LOCAL_HOSTS and text != "0.0.0.0" and SERVICE_HOST.search(name) is not None


def _enclosing_class(project: Project, path: str, line: int) -> str | None:
    module = project.python(path)
    if module is None:
        return None
    positions = module.metadata(PositionProvider)
    for statement in module.tree.body:
        if isinstance(statement, cst.ClassDef):
            span = positions[statement]
            if span.start.line <= line <= span.end.line:
                return statement.name.value
    return None


REQUIRE_SAFETY = (
    "This fix is unsafe because the app then fails at boot until `{name}` is set: set it in Railway's Variables "
    "first, as a reference to the service (`${{{{Redis.REDIS_URL}}}}`), and locally in your own environment."
)


def require_fix(project: Project, read: EnvValue) -> Fix | None:
    """`os.environ.get("REDIS_URL", "redis://localhost")` / `... or "redis://localhost"` -> `os.environ["REDIS_URL"]`;
    python-decouple's `config("X", default=...)` loses its default (it raises when the variable is unset)."""
    if isinstance(read.default, EnvValue) or read.module is None:
        return None  # a chain of variables: which one to require is the user's call
    edit = ModuleEdit.of(project, read.module.path)
    node = edit.locate(read.node, read.module) if edit is not None else None
    if node is None:
        return None
    call = node.left if isinstance(node, cst.BooleanOperation) else node
    if isinstance(call, cst.Call) and read.module.qualified_names(call.func) & DECOUPLE_CONFIG:
        if isinstance(node, cst.BooleanOperation):
            return None
        kept = [
            arg
            for index, arg in enumerate(call.args)
            if not (index == 1 and arg.keyword is None) and not (arg.keyword and arg.keyword.value == "default")
        ]
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        if not edit.replace(node, call.with_changes(args=kept)):
            return None
    else:
        code = edit.environ(read.name, node)
        if code is None or not edit.replace(node, code):
            return None
    return edit.fix(f"Require `{read.name}`", REQUIRE_SAFETY.format(name=read.name))
