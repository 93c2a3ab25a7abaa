from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import libcst as cst

from analyzer.files import QuickParse, ast_last_name
from analyzer.fixes.pycode import ModuleEdit
from analyzer.prodpath import EnvValue, Known, ProductionPath, Unknown, Value
from analyzer.project import Project
from analyzer.pysource import dotted_name
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.rules.pf303_secret_key_hardcoded import (
    KeyValue,
    column,
    deploy_literal_fix,
    deploy_literals,
    environment_fix,
    guarded_keys,
    is_signing_key,
    is_test_path,
    literal_of,
    mentions_any,
    production_values,
    redact,
    unset_note,
    why_chain,
)
from analyzer.rules.pf305_env_file_committed import LOCAL_HOSTS, PLACEHOLDER, URL_WITH_PASSWORD
from analyzer.rules.pf401_postgres_scheme import URI_KEY

CREDENTIAL_NAME = re.compile(
    r"(?:^|_)(?:PASSWORD|PASSWD|PWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY|SECRET_KEY)$"
)
URL_NAME = re.compile(r"(?:^|_)(?:URL|URI|DSN)$")
PUBLIC_WORDS = ("PUBLIC", "PUBLISHABLE")
EXTRA_PLACEHOLDER = re.compile(r"^(dummy|placeholder|replace[-_ ]?me|redacted|example|x+)$", re.I)
# Environment and mapping reads, python-decouple's `config(K, default=...)` included.
LOOKUPS = frozenset({"get", "getenv", "setdefault", "pop", "config"})
# Bytes a module holding a credential or a URL with a password must contain.
NEEDLES = (b"://", b"PASS", b"PWD", b"SECRET", b"TOKEN", b"KEY", b"pass", b"pwd", b"secret", b"token", b"key")


class CredentialLiteral(Rule):
    """
    ## What it does
    Flags a credential other than a signing key whose production value is a literal
    in the repository: a config key, a class attribute of the loaded config or a
    module-level constant named like `*_PASSWORD`, `*_API_KEY`, `*_SECRET`,
    `*_TOKEN` (also `*_ACCESS_KEY`, `*_PRIVATE_KEY`), a `password=`/`api_key=`/`token=`
    argument of a call that runs at startup, a database or broker URL with a password
    in it (`postgresql://app:pw@db.example.com/app`), also as the fallback of an
    environment read Railway does not set, and the same names or URLs in a Dockerfile
    `ENV`/`ARG`, nixpacks `[variables]` or a `NAME=value` prefix on a committed start
    command.

    ## Why is this bad?
    Everyone who can read the repository, every fork and every CI log has the
    password or key, and removing it later does not remove it from the git history.
    The mail account, the payment provider or the database behind it is as open as
    the repository is.

    Not flagged: empty strings, obvious placeholders (`changeme`, `your-key-here`,
    `xxx`, `<token>`, `${VAR}`), files under `tests/`, `test_*.py` and `conftest.py`,
    a fallback whose variable the platform settings list (Railway sets it, so the
    fallback never runs), and a URL to `localhost` or to a docker-compose service (a
    host name with no dot, such as `db`): that password guards a database that only
    exists on a developer's machine.

    ## Example
    ```python
    class Config:
        MAIL_PASSWORD = "s3cr3t-mail"
        SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "postgresql://app:pw@db.example.com/app")
    ```

    ## Use instead
    ```python
    class Config:
        MAIL_PASSWORD = os.environ["MAIL_PASSWORD"]
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
    ```

    ## How to fix
    Read the value from the environment (`os.environ["MAIL_PASSWORD"]`), set it in Railway's Variables (a reference such as `${{Postgres.DATABASE_URL}}` for Railway's own databases), and rotate the committed credential: it is in the git history for good.

    ## Fix safety
    The autofix reads the value from the environment with no fallback (a URL from
    its provider's variable: `DATABASE_URL`, `REDIS_URL`), or removes the committed
    `ENV`/`NAME=value`, so the app fails at boot until the variable is set. Rotate the
    committed credential.

    ## References
    - Railway: Variables, reference variables
    - GitHub: Removing sensitive data from a repository
    - CWE-798: Use of Hard-coded Credentials
    """

    id = "PF308"
    slug = "credential-literal"
    severity = Severity.HIGH
    title = "Credential hard-coded"

    def check(self, project: Project) -> Iterator[Finding]:
        for item in deploy_literals(project, lambda name: not is_signing_key(name)):
            kind = credential_kind(item.name, item.value)
            if kind is not None:
                finding = self.finding(
                    f"`{item.name}` is {KINDS[kind]} in {item.place}",
                    item.path,
                    item.line,
                    subject=f"{item.name} {item.path}",
                    evidence=item.evidence,
                )
                finding.fix = deploy_literal_fix(project, item)
                yield finding
        if not mentions_any(project, NEEDLES):
            return
        candidates = set(project.python_paths_containing(*NEEDLES))
        production = project.production
        guarded = guarded_keys(production)
        seen: set[tuple] = set()
        for item in production_values(project, is_wanted_name, NEEDLES):
            if item.key in guarded:
                continue
            credential = credential_of(item.value, item.key)
            if credential is None:
                continue
            found, kind = credential
            where = (found.path, found.line, column(found))
            if where in seen:
                continue
            seen.add(where)
            finding = self._finding(production, item, found, kind)
            variable = None if isinstance(item.value, EnvValue) else variable_for(item.key, found, kind)
            suffix = SCHEME_REWRITE if item.key == URI_KEY and _postgres(found) else ""
            finding.fix = environment_fix(project, item, found, CREDENTIAL_SAFETY, variable, suffix)
            yield finding
        yield from self._arguments(production, candidates, seen)

    def _finding(self, production: ProductionPath, item: KeyValue, found: Value, kind: str) -> Finding:
        unset = unset_note(production, item, found)
        if unset is None:
            message = f"`{item.key}` is {KINDS[kind]} in {item.place(found)}"
        else:
            message = f"`{item.key}` falls back to {KINDS[kind]} in {item.place(found)}: {unset}"
        return self.finding(
            message,
            found.path,
            found.line,
            column(found),
            subject=f"{item.key} {found.path}",
            evidence=item.evidence_for(found, unset),
        )

    def _arguments(self, production: ProductionPath, candidates: set[str], seen: set[tuple]) -> Iterator[Finding]:
        """`password="..."` and URLs with a password passed to calls that run at startup."""
        project = production.evaluator.project
        paths = {
            path
            for path in production.reach.modules
            if path in candidates and not is_test_path(path) and _has_candidate_call(project.quick(path))
        }
        for call, step in production.reach.calls(paths=paths):
            if not call.args:
                continue
            # A lookup's default is judged where its result is used (a setting, a constant, an argument).
            lookup = _callee_name(call) in LOOKUPS
            for arg in call.args:
                keyword = arg.keyword.value if arg.keyword is not None else None
                if not (keyword is not None and is_credential_name(keyword)) and (
                    lookup or not _may_hold_url(arg.value)
                ):
                    continue
                value = production.evaluator.evaluate(arg.value, step.scope, before=step.node)
                credential = credential_of(value, keyword or "")
                if credential is None:
                    continue
                found, kind = credential
                where = (found.path, found.line, column(found))
                if where in seen:
                    continue
                seen.add(where)
                callee = dotted_name(call.func) or "a call"
                line = step.module.line(call)
                what = f"`{keyword}=` of `{callee}(...)`" if keyword else f"the URL passed to `{callee}(...)`"
                unset = unset_note(production, KeyValue(keyword or callee, value, step.path, line, ""), found)
                message = f"{what} at {step.path}:{line} is {KINDS[kind]}"
                if unset is not None:
                    message = f"{what} at {step.path}:{line} falls back to {KINDS[kind]}: {unset}"
                function = step.scope.node if isinstance(step.scope.node, cst.FunctionDef) else None
                chain = production.reach.why_function(function) if function is not None else []
                evidence = chain[-2:] if chain else why_chain(production, step.path)
                finding = self.finding(
                    message,
                    found.path,
                    found.line,
                    column(found),
                    subject=f"{callee} {keyword or 'url'} {found.path}",
                    evidence=redact(evidence, [found]),
                )
                finding.fix = _argument_fix(production, arg, step, value, found, kind, callee, keyword)
                yield finding

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['MAIL_PASSWORD'] = os.environ.get('MAIL_PASSWORD')\n"
                    "app.config['STRIPE_API_KEY'] = os.environ['STRIPE_API_KEY']\n"
                    "app.config['SQLALCHEMY_DATABASE_URI'] = os.environ['DATABASE_URL']\n"
                ),
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "config.py": (
                    "class Config:\n    MAIL_PASSWORD = ''\n    STRIPE_API_KEY = 'your-key-here'\n"
                    "    GITHUB_TOKEN = 'changeme'\n    SENTRY_AUTH_TOKEN = 'xxx'\n    SLACK_TOKEN = '<token>'\n"
                    "    JWT_ACCESS_TOKEN_EXPIRES = 3600\n    RECAPTCHA_PUBLIC_KEY = '6LeIxAcTAAAAAJcZVRqyHh71'\n"
                ),
                "app.py": "from flask import Flask\n\napp = Flask(__name__)\napp.config.from_object('config.Config')\n",
                "Dockerfile": (
                    "FROM python:3.12-slim\nARG GITHUB_TOKEN\nENV DATABASE_URL=${DATABASE_URL} MAIL_PASSWORD=\n"
                    'CMD ["gunicorn", "app:app"]\n'
                ),
            },
            note="empty strings, placeholders, numbers, public keys, values from build arguments",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['MAIL_PASSWORD'] = os.environ['MAIL_PASSWORD']\n"
                ),
                "tests/conftest.py": (
                    "import pytest\nfrom app import app\n\n\n@pytest.fixture\ndef client():\n"
                    "    app.config['MAIL_PASSWORD'] = 'hunter2'\n    return app.test_client()\n"
                ),
                "test_smoke.py": "DATABASE_URL = 'postgresql://ci:ci-password@ci-db.example.com/test'\n",
            },
            note="tests",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['SQLALCHEMY_DATABASE_URI'] = os.environ.get(\n"
                    "    'DATABASE_URL', 'postgresql://postgres:postgres@localhost:5432/app')\n"
                    "app.config['CELERY_BROKER_URL'] = os.getenv('REDIS_URL') or 'redis://:devpass@redis:6379/0'\n"
                ),
            },
            note="fallbacks to a database on the developer's machine or a docker-compose service",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['SQLALCHEMY_DATABASE_URI'] = os.environ.get(\n"
                    "    'DATABASE_URL', 'postgresql://app:Zr8pQ2mLx@db.example.com:5432/app')\n"
                ),
            },
            platform={"variables": ["DATABASE_URL", "SECRET_KEY"]},
            note="the fallback never runs: DATABASE_URL is set in Railway's Variables",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "config.py": (
                    "import os\n\n\nclass Config:\n    MAIL_PASSWORD = os.environ.get('MAIL_PASSWORD')\n\n\n"
                    "class DevelopmentConfig(Config):\n    MAIL_PASSWORD = 'dev-mail-password'\n\n\n"
                    "class ProductionConfig(Config):\n    pass\n\n\n"
                    "config = {'development': DevelopmentConfig, 'production': ProductionConfig,\n"
                    "          'default': ProductionConfig}\n"
                ),
                "app/__init__.py": (
                    "from flask import Flask\nfrom config import config\n\n\ndef create_app(config_name):\n"
                    "    app = Flask(__name__)\n    app.config.from_object(config[config_name])\n    return app\n"
                ),
                "wsgi.py": (
                    "import os\nfrom app import create_app\n\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n\n"
                    "SECRET_KEY = 'a signing key is PF303, not PF308'\n"
                ),
            },
            note="a development config the production path does not select; a signing key",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "config.py": (
                    "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ['SECRET_KEY']\n"
                    "    MAIL_USERNAME = 'noreply@example.com'\n    MAIL_PASSWORD = 's3cr3t-mail'\n\n\n"
                    "class ProductionConfig(Config):\n    pass\n"
                ),
                "wsgi.py": "from flask import Flask\n\napp = Flask(__name__)\napp.config.from_object('config.ProductionConfig')\n",
            },
            expect="`MAIL_PASSWORD` is a hard-coded credential in `Config` (config.py:7), inherited by `ProductionConfig`",
            fixed={
                "config.py": (
                    "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ['SECRET_KEY']\n"
                    "    MAIL_USERNAME = 'noreply@example.com'\n    MAIL_PASSWORD = os.environ['MAIL_PASSWORD']\n\n\n"
                    "class ProductionConfig(Config):\n    pass\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\n",
                "shop/__init__.py": (
                    "import os as _os\n\nfrom flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                    "    app.config['SQLALCHEMY_DATABASE_URI'] = _os.environ.get(\n"
                    "        'DATABASE_URL', 'postgresql://shop:Zr8pQ2mLx@shop-db.internal.example.com:5432/shop')\n"
                    "    return app\n"
                ),
            },
            platform={"variables": ["SECRET_KEY"]},
            expect="`SQLALCHEMY_DATABASE_URI` falls back to a URL with a hard-coded password in shop/__init__.py:8: "
            "`DATABASE_URL` is not set (not among the platform variables)",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                    "ENV SENDGRID_API_KEY=SG.kq2Lw9xVQ4mP1.abc FLASK_DEBUG=0\n"
                    'CMD ["gunicorn", "app:app"]\n'
                ),
                "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
            },
            expect="`SENDGRID_API_KEY` is a hard-coded credential in `ENV` (Dockerfile:4)",
            fixed={
                "Dockerfile": (
                    'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENV FLASK_DEBUG=0\nCMD ["gunicorn", "app:app"]\n'
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\nworker: celery -A app.celery worker\n",
                "app.py": (
                    "from celery import Celery\nfrom flask import Flask\nimport redis\n\n"
                    "app = Flask(__name__)\n"
                    "celery = Celery(__name__, broker='redis://:Q2xv9TzT@redis-1234.cloud.example.com:6379/0')\n"
                    "cache = redis.Redis(host='cache.example.com', port=6379, password='r3d1s-pw')\n"
                ),
            },
            expect="`password=` of `redis.Redis(...)` at app.py:7 is a hard-coded credential",
        ),
        Example(
            {
                "Procfile": "web: DATABASE_URL=postgres://u:pA55w0rd@ec2-1-2-3-4.compute-1.amazonaws.com/d8 gunicorn app:app\n",
                "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
            },
            expect="`DATABASE_URL` is a URL with a hard-coded password in the `web` command (Procfile:1)",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "app/__init__.py": (
                    "from flask import Flask\n\nfrom .services import github\n\n\ndef create_app():\n"
                    "    return Flask(__name__)\n"
                ),
                "app/services/__init__.py": "",
                "app/services/github.py": (
                    "import requests\n\nGITHUB_TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'\n\n\n"
                    "def repos():\n    return requests.get('https://api.github.com/user/repos',\n"
                    "                        headers={'Authorization': f'token {GITHUB_TOKEN}'})\n"
                ),
            },
            expect="`GITHUB_TOKEN` is a hard-coded credential in app/services/github.py:3",
            fixed={
                "app/services/github.py": (
                    "import os\nimport requests\n\nGITHUB_TOKEN = os.environ['GITHUB_TOKEN']\n\n\n"
                    "def repos():\n    return requests.get('https://api.github.com/user/repos',\n"
                    "                        headers={'Authorization': f'token {GITHUB_TOKEN}'})\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\r\n",
                "requirements.txt": "flask\r\nflask-sqlalchemy\r\npsycopg2-binary\r\ngunicorn",
                "shop/__init__.py": (
                    "from flask import Flask\r\nfrom flask_sqlalchemy import SQLAlchemy\r\n\r\ndb = SQLAlchemy()\r\n\r\n\r\n"
                    "def create_app():\r\n    app = Flask(__name__)\r\n"
                    "    app.config.update(\r\n"
                    "        SQLALCHEMY_DATABASE_URI='postgres://shop:Zr8pQ2mLx@shop-db.example.com:5432/shop',  # prod\r\n"
                    "    )\r\n    db.init_app(app)\r\n    return app\r\n"
                ),
            },
            expect="`SQLALCHEMY_DATABASE_URI` is a URL with a hard-coded password in shop/__init__.py:10",
            fixed={
                "shop/__init__.py": (
                    "import os\r\nfrom flask import Flask\r\nfrom flask_sqlalchemy import SQLAlchemy\r\n\r\n"
                    "db = SQLAlchemy()\r\n\r\n\r\ndef create_app():\r\n    app = Flask(__name__)\r\n"
                    "    app.config.update(\r\n        SQLALCHEMY_DATABASE_URI=os.environ['DATABASE_URL']"
                    ".replace('postgres://', 'postgresql://', 1),  # prod\r\n"
                    "    )\r\n    db.init_app(app)\r\n    return app\r\n"
                )
            },
            note="Windows line endings, a factory, a comment beside the edit; the URL SQLAlchemy gets keeps working "
            "with a provider's postgres:// (PF401)",
        ),
    ]


KINDS = {"credential": "a hard-coded credential", "url": "a URL with a hard-coded password"}
CREDENTIAL_SAFETY = (
    "This fix is unsafe because the app then fails at boot until `{name}` is set: set it in Railway's Variables "
    "first (a reference such as `${{{{Postgres.DATABASE_URL}}}}` for Railway's own services), and rotate the "
    "committed credential, which stays in the git history."
)
# The variable Railway's own services (and most providers) set for a URL of that scheme.
SCHEME_VARIABLES = (
    (re.compile(r"^(postgres|postgresql|mysql|mariadb|mssql|oracle|cockroachdb)(\+\w+)?$"), "DATABASE_URL"),
    (re.compile(r"^rediss?(\+\w+)?$"), "REDIS_URL"),
    (re.compile(r"^mongodb(\+srv)?$"), "MONGO_URL"),
    (re.compile(r"^(amqps?|pyamqp|librabbitmq)$"), "RABBITMQ_URL"),
)


# Providers' `postgres://` URLs fail in SQLAlchemy 1.4+ (PF401): a URL read for SQLAlchemy is rewritten.
SCHEME_REWRITE = '.replace("postgres://", "postgresql://", 1)'


def _postgres(found: Value) -> bool:
    return isinstance(found, Known) and isinstance(found.value, str) and found.value.startswith("postgres")


def variable_for(name: str, found: Value, kind: str) -> str:
    """The environment variable a literal should come from: the provider's variable for a URL (by its
    scheme), else the key's own name (`MAIL_PASSWORD`)."""
    if kind == "url" and isinstance(found, Known) and isinstance(found.value, str):
        scheme = found.value.strip().split("://", 1)[0].lower()
        for pattern, variable in SCHEME_VARIABLES:
            if pattern.match(scheme):
                return variable
    cleaned = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()
    return cleaned if re.match(r"^[A-Z_][A-Z0-9_]*$", cleaned) else "APP_CREDENTIAL"


def _argument_fix(production, arg: cst.Arg, step, value: Value, found: Value, kind: str, callee: str, keyword):
    """`password=os.environ["REDIS_PASSWORD"]`: the argument itself read from the environment."""
    edit = ModuleEdit.of(production.evaluator.project, step.path)
    node = edit.locate(arg.value, step.module) if edit is not None else None
    inner = edit.locate(found.node, found.module) if node is not None else None
    if inner is None or not edit.contains(node, inner):
        return None
    if isinstance(value, EnvValue):
        variable = value.name
    else:
        owner = callee.rsplit(".", 1)[-1]
        variable = variable_for(f"{owner}_{keyword}" if keyword else owner, found, kind)
    code = edit.environ(variable, node)
    if code is None or not edit.replace(node, code):
        return None
    return edit.fix(f"Read `{variable}` from the environment", CREDENTIAL_SAFETY.format(name=variable))


def is_credential_name(name: str) -> bool:
    upper = name.upper()
    if is_signing_key(upper) or any(word in upper for word in PUBLIC_WORDS):
        return False
    return CREDENTIAL_NAME.search(upper) is not None


def is_wanted_name(name: str) -> bool:
    return is_credential_name(name) or URL_NAME.search(name.upper()) is not None


def credential_kind(name: str, text: str) -> str | None:
    """ "url" for a URL with a real password to a remote host, "credential" for a real value of a
    credential-named key, None otherwise."""
    text = text.strip()
    if not text or _placeholder(text):
        return None
    url = URL_WITH_PASSWORD.match(text)
    if url is not None:
        host = url.group("host").lower()
        local = host in LOCAL_HOSTS or (host and "." not in host)
        return None if local or _placeholder(url.group("password")) else "url"
    if "://" in text or not is_credential_name(name):
        return None
    return "credential"


def credential_of(value: Value, name: str) -> tuple[Value, str] | None:
    """(the literal, its kind) when the production value is a credential literal; when it can be
    one of several values, every one must be."""
    plain = value.effective
    if isinstance(plain, Unknown):
        options = [credential_of(option, name) for option in plain.options]
        return options[0] if options and all(option is not None for option in options) else None
    found = literal_of(plain)
    if not isinstance(found, Known):
        return None
    text = found.value.decode("latin-1") if isinstance(found.value, bytes) else found.value
    kind = credential_kind(name, text)
    return (found, kind) if kind is not None else None


def _placeholder(text: str) -> bool:
    return PLACEHOLDER.match(text) is not None or EXTRA_PLACEHOLDER.match(text) is not None


def _may_hold_url(expr: cst.BaseExpression) -> bool:
    """A cheap look before evaluating a call argument: a string with `://`, a name that reads like
    a URL or a credential, or an environment read."""
    if isinstance(expr, cst.SimpleString):
        return "://" in expr.value
    if isinstance(expr, (cst.ConcatenatedString, cst.FormattedString)):
        return True
    if isinstance(expr, cst.Name):
        return is_wanted_name(expr.value)
    if isinstance(expr, cst.BooleanOperation):
        return True
    if isinstance(expr, cst.Call):
        return _callee_name(expr) in LOOKUPS
    return False


def _has_candidate_call(quick: QuickParse | None) -> bool:
    """Whether a module holds a call `_arguments` would evaluate, told from CPython's tree so that
    modules without one are never parsed with libcst. Mirrors the libcst test, erring towards yes."""
    if quick is None or quick.tree is None:
        return True
    for node in quick.nodes:
        if not isinstance(node, ast.Call):
            continue
        callee = ast_last_name(node.func)
        for keyword in node.keywords:
            if keyword.arg is not None and is_credential_name(keyword.arg):
                return True
        if callee in LOOKUPS:
            continue
        values = [arg.value if isinstance(arg, ast.Starred) else arg for arg in node.args]
        if any(_ast_may_hold_url(value) for value in [*values, *(keyword.value for keyword in node.keywords)]):
            return True
    return False


def _ast_may_hold_url(expr: ast.expr) -> bool:
    """`_may_hold_url` on CPython's tree (where implicitly concatenated strings are one constant)."""
    if isinstance(expr, ast.Constant):
        value = expr.value
        return (isinstance(value, str) and "://" in value) or (isinstance(value, bytes) and b"://" in value)
    if isinstance(expr, ast.Name):
        return is_wanted_name(expr.id)
    if isinstance(expr, ast.Call):
        return ast_last_name(expr.func) in LOOKUPS
    return isinstance(expr, (ast.JoinedStr, ast.BoolOp))


def _callee_name(call: cst.Call) -> str:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
