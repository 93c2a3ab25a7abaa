from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import libcst as cst

from analyzer.autofix import Fix
from analyzer.deployfiles import parse_env_instruction
from analyzer.fixes.envvars import command_assignment, dockerfile_assignment, still_parses, toml_remove_line
from analyzer.fixes.pycode import ModuleEdit
from analyzer.prodpath import (
    AppConfig,
    EnvValue,
    Generated,
    Known,
    ProductionPath,
    Setting,
    Step,
    Unknown,
    Value,
    describe,
)
from analyzer.project import Project
from analyzer.pyvalues import literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import ShellSyntaxError, parse_chain
from analyzer.startcmd import uses_docker

SIGNING_KEYS = ("SECRET_KEY", "JWT_SECRET_KEY", "SECURITY_PASSWORD_SALT", "WTF_CSRF_SECRET_KEY")
# Bytes that any file mentioning a signing key contains (`app.secret_key` included).
SIGNING_NEEDLES = (b"SECRET_KEY", b"secret_key", b"PASSWORD_SALT")
# Config operations that load a class, module or file: their code names what is loaded, not values.
LOADERS = frozenset({"from_object", "from_pyfile", "from_file", "from_envvar", "from_prefixed_env"})
# Files Flask loads as config besides Python modules: `from_pyfile("settings.cfg")`, `from_file(...)`.
CONFIG_SUFFIXES = (".cfg", ".json", ".toml")
GENERATOR_NAMES = {"secrets": "`secrets`", "urandom": "`os.urandom`", "uuid": "`uuid`"}
SECRET_SAFETY = (
    "This fix is unsafe because the app then fails at boot until `{name}` is set: set it in Railway's Variables "
    'first, to a new random value (`python -c "import secrets; print(secrets.token_hex(32))"`), and treat the '
    "committed value as leaked (rotating it logs everyone out)."
)
DEPLOY_SAFETY = (
    "This fix is unsafe because `{name}` then comes only from Railway's Variables: set it there before deploying, "
    "and rotate the committed value, which stays in the git history."
)
_QUOTED = re.compile(r"""[rRbBuUfF]{0,2}(?P<q>['"])(?P<body>(?:\\.|(?!(?P=q)).)*?)(?:(?P=q)|(?P<cut>\.\.\.$)|$)""")


class SecretKeyHardcoded(Rule):
    """
    ## What it does
    Flags a signing key (`SECRET_KEY` / `app.secret_key`, `JWT_SECRET_KEY`,
    `SECURITY_PASSWORD_SALT`, `WTF_CSRF_SECRET_KEY`) whose value in production is a
    string or bytes literal written in the repository: a plain assignment, a config
    key or a class attribute of the config the production path loads (inherited
    ones too), the fallback of an environment read that is not set on Railway, an
    `if not key: key = "..."` branch that runs, a Dockerfile `ENV`/`ARG`, a
    `NAME=value` prefix on a committed start command or nixpacks `[variables]`.

    ## Why is this bad?
    Flask signs the session cookie with `SECRET_KEY`; Flask-JWT-Extended signs
    tokens with `JWT_SECRET_KEY`; Flask-Security signs reset and confirmation links
    with `SECURITY_PASSWORD_SALT`; Flask-WTF signs CSRF tokens with
    `WTF_CSRF_SECRET_KEY`. Anyone who can read the repository (every clone, fork
    and CI log) can compute valid signatures: forge a session for any user id, log
    in as an admin, mint tokens. A fallback such as
    `os.environ.get("SECRET_KEY", "dev")` is just as bad when the variable is not
    set in Railway's Variables: the fallback is then the production key.

    A fallback is not flagged when the platform settings list the variable (Railway
    sets it, so the fallback never runs in production), or when the production path
    fails loudly without the variable (`os.environ["SECRET_KEY"]`,
    `if not key: raise ...`, `if SECRET_KEY == "dev": raise ...` that runs). List the
    service's variables in the platform settings to let the analyzer tell.

    ## Example
    ```python
    class Config:
        SECRET_KEY = os.environ.get("SECRET_KEY") or "hard to guess string"
    ```

    ## Use instead
    ```python
    class Config:
        SECRET_KEY = os.environ["SECRET_KEY"]
    ```

    ## How to fix
    Read the key with `os.environ["SECRET_KEY"]` so a missing variable fails at boot, set a long random value (`python -c "import secrets; print(secrets.token_hex(32))"`) in Railway's Variables, and treat the committed value as leaked: rotating it logs everyone out, which is the point.

    ## Fix safety
    The autofix reads the key with `os.environ["SECRET_KEY"]`, or removes the
    committed `ENV`/`NAME=value`, so the app fails at boot until the variable is set:
    set it in Railway's Variables first. The committed value stays in the git
    history: rotate it.

    ## References
    - Flask: Configuration Handling, `SECRET_KEY`
    - Flask-JWT-Extended: `JWT_SECRET_KEY`; Flask-Security: `SECURITY_PASSWORD_SALT`; Flask-WTF: `WTF_CSRF_SECRET_KEY`
    - Railway: Variables
    - CWE-798: Use of Hard-coded Credentials
    """

    id = "PF303"
    slug = "secret-key-hardcoded"
    severity = Severity.BLOCKER
    title = "Signing key hard-coded"

    def check(self, project: Project) -> Iterator[Finding]:
        seen: set[tuple] = set()
        for item in deploy_literals(project, is_signing_key):
            if item.value.strip():
                finding = self.finding(
                    f"`{item.name}` is a hard-coded literal in {item.place}",
                    item.path,
                    item.line,
                    subject=f"{item.name} {item.path}",
                    evidence=item.evidence,
                )
                finding.fix = deploy_literal_fix(project, item)
                yield finding
        if not mentions_any(project, SIGNING_NEEDLES):
            return
        production = project.production
        guarded = guarded_keys(production)
        for item in production_values(project, is_signing_key):
            if item.key in guarded:
                continue
            found = literal_of(item.value)
            if found is None or (found.path, found.line, item.key) in seen:
                continue
            seen.add((found.path, found.line, item.key))
            unset = unset_note(production, item, found)
            if unset is None:
                message = f"`{item.key}` is a hard-coded literal in {item.place(found)}"
            else:
                message = f"`{item.key}` falls back to a literal in {item.place(found)}: {unset}"
            finding = self.finding(
                message,
                found.path,
                found.line,
                column(found),
                subject=f"{item.key} {found.path}",
                evidence=item.evidence_for(found, unset),
            )
            finding.fix = environment_fix(project, item, found, SECRET_SAFETY)
            yield finding

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "config.py": (
                    "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ['SECRET_KEY']\n\n\n"
                    "class DevelopmentConfig(Config):\n    DEBUG = True\n    SECRET_KEY = 'dev'\n\n\n"
                    "class TestingConfig(Config):\n    TESTING = True\n    SECRET_KEY = 'test'\n\n\n"
                    "class ProductionConfig(Config):\n    pass\n\n\n"
                    "config = {'development': DevelopmentConfig, 'testing': TestingConfig,\n"
                    "          'production': ProductionConfig, 'default': ProductionConfig}\n"
                ),
                "app/__init__.py": (
                    "from flask import Flask\nfrom config import config\n\n\ndef create_app(config_name):\n"
                    "    app = Flask(__name__)\n    app.config.from_object(config[config_name])\n    return app\n"
                ),
                "wsgi.py": "import os\nfrom app import create_app\n\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
            },
            note="literals only in development and testing configs the production path does not select",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\n",
                "shop/__init__.py": (
                    "import os\n\nfrom flask import Flask\n\n\ndef _required(name):\n"
                    "    raise RuntimeError(f'{name} is not set')\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                    "    app.secret_key = os.environ.get('SECRET_KEY') or _required('SECRET_KEY')\n"
                    "    jwt_key = os.getenv('JWT_SECRET_KEY')\n    if not jwt_key:\n"
                    "        raise RuntimeError('JWT_SECRET_KEY is required')\n"
                    "    app.config['JWT_SECRET_KEY'] = jwt_key\n    return app\n"
                ),
            },
            note="reads whose fallback fails loudly",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\nSECRET_KEY = os.environ.get('SECRET_KEY', 'dev')\n"
                    "if SECRET_KEY == 'dev' and os.environ.get('FLASK_DEBUG') != '1':\n"
                    "    raise RuntimeError('set SECRET_KEY')\n\napp = Flask(__name__)\napp.config.from_object(__name__)\n"
                ),
            },
            note="the production path raises when the key is the development fallback",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.secret_key = os.environ.get('SECRET_KEY', 'dev-only-key')\n"
                ),
            },
            platform={"variables": ["SECRET_KEY", "DATABASE_URL"]},
            note="the fallback never runs: SECRET_KEY is set in Railway's Variables",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.secret_key = os.environ['SECRET_KEY']\n\n"
                    "if __name__ == '__main__':\n    app.secret_key = 'local-dev'\n    app.run(debug=True)\n"
                ),
                "tests/conftest.py": "SECRET_KEY = 'test-key'\n",
                "scripts/seed.py": "SECRET_KEY = 'not-imported-by-the-app'\n",
                "Dockerfile": "FROM python:3.12-slim\nARG SECRET_KEY\nENV SECRET_KEY=$SECRET_KEY FLASK_DEBUG=0\n",
            },
            note="a __main__ block under gunicorn, tests, an unimported script, an ENV from a build arg",
        ),
        Example(
            {
                "services/api/app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
                ),
                "services/api/Procfile": "web: gunicorn app:app\n",
                "services/legacy/app.py": "from flask import Flask\napp = Flask(__name__)\napp.secret_key = 'old'\n",
            },
            app_root="services/api",
            note="another service of the monorepo is not this app's production path",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "config.py": "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ.get('SECRET_KEY') or 'dev-key-123'\n",
                "app.py": (
                    "from flask import Flask\n\napp = Flask(__name__)\napp.config.from_object('config.Config')\n"
                    "app.secret_key = app.config['SECRET_KEY']\n"
                ),
            },
            expect="(the value is at config.py:5)",
            note="the key copied back from the config keeps the config's fallback",
        ),
        Example(
            {
                "Procfile": "web: gunicorn flasky:app\n",
                "config.py": (
                    "import os\n\n\nclass Config:\n"
                    "    SECRET_KEY = os.environ.get('SECRET_KEY') or 'hard to guess string'\n\n\n"
                    "class DevelopmentConfig(Config):\n    DEBUG = True\n\n\n"
                    "class ProductionConfig(Config):\n    pass\n\n\n"
                    "config = {'development': DevelopmentConfig, 'production': ProductionConfig,\n"
                    "          'default': DevelopmentConfig}\n"
                ),
                "app/__init__.py": (
                    "from flask import Flask\nfrom config import config\n\n\ndef create_app(config_name):\n"
                    "    app = Flask(__name__)\n    app.config.from_object(config[config_name])\n    return app\n"
                ),
                "flasky.py": "import os\nfrom app import create_app\n\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
            },
            expect="`SECRET_KEY` falls back to a literal in `Config` (config.py:5), inherited by `DevelopmentConfig`",
            fixed={
                "config.py": (
                    "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ['SECRET_KEY']\n\n\n"
                    "class DevelopmentConfig(Config):\n    DEBUG = True\n\n\n"
                    "class ProductionConfig(Config):\n    pass\n\n\n"
                    "config = {'development': DevelopmentConfig, 'production': ProductionConfig,\n"
                    "          'default': DevelopmentConfig}\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'flaskr:create_app()'\n",
                "flaskr/__init__.py": (
                    "import os\n\nfrom flask import Flask\n\n\ndef create_app(test_config=None):\n"
                    "    app = Flask(__name__, instance_relative_config=True)\n"
                    "    app.config.from_mapping(\n        SECRET_KEY='dev',\n"
                    "        DATABASE=os.path.join(app.instance_path, 'flaskr.sqlite'),\n    )\n"
                    "    if test_config is None:\n        app.config.from_pyfile('config.py', silent=True)\n"
                    "    else:\n        app.config.from_mapping(test_config)\n    return app\n"
                ),
            },
            expect="`SECRET_KEY` is a hard-coded literal in flaskr/__init__.py:9",
            fixed={
                "flaskr/__init__.py": (
                    "import os\n\nfrom flask import Flask\n\n\ndef create_app(test_config=None):\n"
                    "    app = Flask(__name__, instance_relative_config=True)\n"
                    "    app.config.from_mapping(\n        SECRET_KEY=os.environ['SECRET_KEY'],\n"
                    "        DATABASE=os.path.join(app.instance_path, 'flaskr.sqlite'),\n    )\n"
                    "    if test_config is None:\n        app.config.from_pyfile('config.py', silent=True)\n"
                    "    else:\n        app.config.from_mapping(test_config)\n    return app\n"
                )
            },
            note="the Flask tutorial's factory: instance/config.py is not committed",
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\n',
                "app.py": (
                    "import os as _os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.secret_key = _os.getenv('SECRET_KEY', default=b'_5#y2L\"F4Q8z\\n\\xec]/')\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            expect="`SECRET_KEY` is not set (not among the platform variables)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn run:app\n",
                "settings.py": (
                    "import os\n\n\nclass BaseConfig:\n    JWT_SECRET_KEY = 'jwt-signing-key'\n"
                    "    SECURITY_PASSWORD_SALT = os.environ.get('SECURITY_PASSWORD_SALT', '146585145368132386173505678016728509634')\n\n\n"
                    "class ProductionConfig(BaseConfig):\n    SECRET_KEY = os.environ['SECRET_KEY']\n"
                ),
                "run.py": "from flask import Flask\n\napp = Flask(__name__)\napp.config.from_object('settings.ProductionConfig')\n",
            },
            expect="`JWT_SECRET_KEY` is a hard-coded literal in `BaseConfig` (settings.py:5), inherited by `ProductionConfig`",
            fixed={
                "settings.py": (
                    "import os\n\n\nclass BaseConfig:\n    JWT_SECRET_KEY = os.environ['JWT_SECRET_KEY']\n"
                    "    SECURITY_PASSWORD_SALT = os.environ['SECURITY_PASSWORD_SALT']\n\n\n"
                    "class ProductionConfig(BaseConfig):\n    SECRET_KEY = os.environ['SECRET_KEY']\n"
                )
            },
            note="both keys of the class are fixed together",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
                    "ENV FLASK_DEBUG=0 \\\n    SECRET_KEY=9f2c0b7e4a1d\n"
                    'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
                ),
                "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\napp.secret_key = os.environ['SECRET_KEY']\n",
            },
            expect="`SECRET_KEY` is a hard-coded literal in `ENV` (Dockerfile:5)",
            fixed={
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
                    "ENV FLASK_DEBUG=0\n"
                    'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
                )
            },
            note="the continued ENV keeps its other variable and stops continuing",
        ),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "SECRET_KEY=prod-key-123 gunicorn app:app"}}',
                "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\napp.secret_key = os.environ['SECRET_KEY']\n",
            },
            expect="`SECRET_KEY` is a hard-coded literal in `deploy.startCommand` (railway.json:1)",
            fixed={"railway.json": '{"deploy": {"startCommand": "gunicorn app:app"}}'},
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['SECRET_KEY'] = os.environ.get('SECRET_KEY')\n"
                    "if not app.config['SECRET_KEY']:\n    app.config['SECRET_KEY'] = 'fallback-secret'\n"
                ),
            },
            expect="`SECRET_KEY` falls back to a literal in app.py:7: `SECRET_KEY` is not set (no platform variables given), so the `if` at app.py:6 runs",
            note="an `if not ...:` branch that runs because nothing sets the key",
        ),
        Example(
            {
                "backend/Procfile": "web: gunicorn 'api:create_app()'\n",
                "backend/api/__init__.py": (
                    "from flask import Flask\n\nfrom . import config as settings\n\n\ndef create_app():\n"
                    "    app = Flask(__name__)\n    app.config.from_object(settings)\n    return app\n"
                ),
                "backend/api/config.py": (
                    "import os\n\nSECRET_KEY = os.environ['SECRET_KEY']\n"
                    "SECURITY_PASSWORD_SALT = 'salt-from-the-tutorial'\n"
                ),
            },
            app_root="backend",
            expect="`SECURITY_PASSWORD_SALT` is a hard-coded literal in backend/api/config.py:4",
            fixed={
                "backend/api/config.py": (
                    "import os\n\nSECRET_KEY = os.environ['SECRET_KEY']\n"
                    "SECURITY_PASSWORD_SALT = os.environ['SECURITY_PASSWORD_SALT']\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\r\n",
                "shop/__init__.py": (
                    '"""The shop."""\r\n\r\nfrom flask import Flask\r\n\r\n\r\ndef create_app():\r\n'
                    "    app = Flask(__name__)\r\n"
                    '    app.secret_key = "s3cr3t-shop"  # TODO: move to Railway\r\n'
                    "    return app\r\n"
                ),
            },
            expect="`SECRET_KEY` is a hard-coded literal in shop/__init__.py:8",
            fixed={
                "shop/__init__.py": (
                    '"""The shop."""\r\n\r\nimport os\r\nfrom flask import Flask\r\n\r\n\r\ndef create_app():\r\n'
                    "    app = Flask(__name__)\r\n"
                    '    app.secret_key = os.environ["SECRET_KEY"]  # TODO: move to Railway\r\n'
                    "    return app\r\n"
                )
            },
            note="Windows line endings, a docstring, no `import os` yet, a comment beside the edit",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "nixpacks.toml": '[variables]\nFLASK_DEBUG = "0"\nSECRET_KEY = "nixpacks-key-123"\n',
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.secret_key = os.environ['SECRET_KEY']\n"
                ),
            },
            expect="`SECRET_KEY` is a hard-coded literal in `[variables]` (nixpacks.toml:3)",
            fixed={"nixpacks.toml": '[variables]\nFLASK_DEBUG = "0"\n'},
        ),
    ]


# -- shared by PF303, PF307 and PF308 -------------------------------------------


def mentions_any(project: Project, needles: tuple[bytes, ...]) -> bool:
    """Whether any Python file, or a file `from_pyfile`/`from_file` can load, holds a needle:
    the cheap look before evaluating the production path."""
    if project.python_paths_containing(*needles):
        return True
    for path in project.app_files:
        if path.endswith(CONFIG_SUFFIXES) and not is_test_path(path):
            data = project.raw(path)
            if data is not None and any(needle in data for needle in needles):
                return True
    return False


def is_signing_key(name: str) -> bool:
    return name in SIGNING_KEYS


def is_test_path(path: str) -> bool:
    name = posixpath.basename(path)
    parts = path.split("/")[:-1]
    return (
        name == "conftest.py"
        or name.startswith("test_")
        or name.endswith("_test.py")
        or any(part in ("tests", "test") for part in parts)
    )


@dataclass
class KeyValue:
    """The value a config key (or a module-level constant) takes on the production path."""

    key: str
    value: Value  # as assigned: an EnvValue for an environment read
    path: str | None  # where the key is assigned
    line: int | None
    where: str  # the assignment, safe to show: "`Config` (config.py:5), inherited by `DevelopmentConfig`"
    evidence: list[str] = field(default_factory=list)  # why it runs; never a value
    fills: str | None = None  # why an `if not <key>:` branch that sets it runs

    def place(self, found: Value) -> str:
        plain = self.value.effective
        if isinstance(plain, Unknown) and plain.options:
            spots = ", ".join(dict.fromkeys(option.effective.where for option in plain.options))
            return f"{self.where} (whichever config it loads: {spots})"
        if found.path == self.path or not found.where:
            return self.where
        return f"{self.where} (the value is at {found.where})"

    def evidence_for(self, found: Value, unset: str | None) -> list[str]:
        lines = list(self.evidence)
        if unset is not None and self.fills is None:
            lines.append(f"{unset}, so the read returns its fallback ({found.where})")
        return redact(lines, [found])


def production_values(
    project: Project, wanted: Callable[[str], bool], needles: tuple[bytes, ...] = SIGNING_NEEDLES
) -> list[KeyValue]:
    """Every value a wanted key takes on the production path: the config settings of each app
    on it (conditional ones only when they fill a key nothing set before), then module-level
    constants, in the modules it imports whose text holds a needle, that no app config sets."""
    production = project.production
    found: list[KeyValue] = []
    configured: set[str] = set()
    for config in production.configs:
        for key, history in config.history.items():
            if not wanted(key) or not history:
                continue
            configured.add(key)
            current = config.settings[key]
            if not current.conditional:
                found.append(_from_setting(production, config, current))
            for setting in history:
                later = current.conditional or setting.seq > current.seq
                fills = _fills_missing(production, config, setting) if setting.conditional and later else None
                if fills is not None:
                    item = _from_setting(production, config, setting)
                    item.fills = fills
                    found.append(item)
    for path in production.modules:
        data = project.raw(path)
        if is_test_path(path) or data is None or not any(needle in data for needle in needles):
            continue
        if not any(wanted(name.decode("ascii")) for name in _ASSIGNED_CONSTANT.findall(data)):
            continue  # no line assigns a wanted NAME: leave the module unparsed
        scope = production.scope(path)
        if scope is None:
            continue
        for name in scope.names():
            if name in configured or not name.isupper() or not wanted(name):
                continue
            entries = scope.lookup(name)
            if not entries:
                continue
            value = production.evaluate(cst.Name(name), path)
            line = entries[0].line
            evidence = why_chain(production, path)
            found.append(KeyValue(name, value, path, line, f"{path}:{line}", evidence))
    return [item for item in found if item.path is None or not is_test_path(item.path)]


def why_chain(production: ProductionPath, path: str) -> list[str]:
    """How a module comes to run, shortened to where the path starts and the last import."""
    chain = production.why(path)
    return chain if len(chain) <= 2 else [chain[0], chain[-1]]


def _from_setting(production: ProductionPath, config: AppConfig, setting: Setting) -> KeyValue:
    op = next((op for op in config.operations if any(other is setting for other in op.settings)), None)
    evidence = why_chain(production, setting.path) if setting.path else []
    if not evidence and op is not None:
        evidence = why_chain(production, op.path)
    source = setting.source
    where = setting.where
    if setting.path and setting.path.endswith((".json", ".toml")):
        where = setting.path  # the line a JSON/TOML setting carries is the loading call's
    if op is None or op.kind not in LOADERS:
        # The source quotes the statement, which holds the value: only say where it is.
        evidence.append(f"`{setting.key}` is set at {where} on the app created at {config.app.where}")
    else:
        if setting.defined_in is None and source != op.description:
            evidence.append(f"`{setting.key}` comes from {source}")
        if op.loaded:
            trace = list(op.argument.trace[-2:]) if op.argument is not None else []
            evidence.extend([f"{op.description} loads {', '.join(op.loaded)}", *trace])
    if setting.defined_in is not None:
        _, _, loaded = source.partition(", inherited by ")
        where = f"`{setting.defined_in.name}` ({setting.where})"
        if loaded:
            where += f", inherited by `{loaded}`"
    return KeyValue(setting.key, setting.value, setting.path, setting.line, where, evidence)


def _fills_missing(production: ProductionPath, config: AppConfig, setting: Setting) -> str | None:
    """Why a conditional setting under `if not <the key>:` runs: the key is empty when the test
    runs. None when it is not that shape or the branch may not run."""
    steps = production.reach.steps
    if not 0 <= setting.seq < len(steps):
        return None
    step = steps[setting.seq]
    enclosing = next(iter(enclosing_ifs(steps, step)), None)
    if enclosing is None:
        return None
    tested = _tested(enclosing.node.test)
    if tested is None or setting.key not in mentions(tested):
        return None
    where = f"{enclosing.path}:{enclosing.line}"
    before = config.setting_before(setting.key, setting.seq)
    if before is None:
        return f"nothing sets `{setting.key}` before the `if` at {where}"
    value = before.value.effective
    if not (isinstance(value, Known) and value.truthy() is False):
        return None
    if isinstance(before.value, EnvValue):
        return f"{production.environment.describe_unset(before.value.name)}, so the `if` at {where} runs"
    return f"`{setting.key}` is {describe(value)} at the `if` at {where} ({before.where}), so it runs"


def _tested(test: cst.BaseExpression) -> cst.BaseExpression | None:
    """X in `not X`, `X is None`, `X == ""`."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return test.expression
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        empty = literal(comparison.comparator) in ("", b"") or (
            isinstance(comparison.comparator, cst.Name) and comparison.comparator.value == "None"
        )
        if isinstance(comparison.operator, (cst.Is, cst.Equal)) and empty:
            return test.left
    return None


def mentions(node: cst.CSTNode) -> set[str]:
    """Upper-cased names and string literals in an expression (`app.secret_key` mentions SECRET_KEY)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            found.add(current.value.upper())
        elif isinstance(current, cst.SimpleString):
            value = literal(current)
            if isinstance(value, str):
                found.add(value.upper())
        stack.extend(current.children)
    return found


def enclosing_ifs(steps: list[Step], step: Step) -> list[Step]:
    """The `if` steps whose body holds `step`'s statement, innermost first."""
    found = []
    for index in range(step.seq - 1, -1, -1):
        other = steps[index]
        if other.scope is step.scope and isinstance(other.node, cst.If) and _contains(other.node.body, step.node):
            found.append(other)
    return found


def _contains(root: cst.CSTNode, target: cst.CSTNode) -> bool:
    stack = [root]
    while stack:
        current = stack.pop()
        if current is target:
            return True
        stack.extend(child for child in current.children if isinstance(child, (cst.BaseSuite, cst.BaseStatement)))
        if isinstance(current, cst.SimpleStatementLine):
            stack.extend(current.body)
    return False


def guarded_keys(production: ProductionPath) -> set[str]:
    """Keys the production path checks and fails on: an unconditional `raise` under an `if` that
    mentions the key, or an `assert` about it that fails. The app never serves with them."""
    guarded: set[str] = set()
    steps = production.reach.steps
    # Reading step.node parses a quiet module; only files that can raise or assert need it.
    project = production.evaluator.project
    may_fail = {path for path in {step.path for step in steps} if _mentions_failure(project.raw(path))}
    for step in steps:
        if step.conditional or step.path not in may_fail:
            continue
        if isinstance(step.node, cst.Raise):
            for enclosing in enclosing_ifs(steps, step):
                guarded |= mentions(enclosing.node.test)
        elif isinstance(step.node, cst.Assert):
            test = production.evaluator.evaluate(step.node.test, step.scope, before=step.node)
            if test.truthy() is False:
                guarded |= mentions(step.node.test)
    return guarded


# `NAME = ...` or `NAME: type = ...` at the start of a line: the constants production_values reads.
_ASSIGNED_CONSTANT = re.compile(rb"(?m)^[ \t]*([A-Z_][A-Z0-9_]*)[ \t]*(?::[^=\n]*)?=(?!=)")


def _mentions_failure(data: bytes | None) -> bool:
    return data is not None and (b"raise" in data or b"assert" in data)


def literal_of(value: Value) -> Value | None:
    """The literal a value is in production: a non-empty str/bytes written in the repository's
    config code (not a value Railway, the Dockerfile or a dotenv file sets). When it can be one of several values, every one
    must be such a literal."""
    plain = value.effective
    if isinstance(plain, Unknown):
        options = [literal_of(option) for option in plain.options]
        return options[0] if options and all(option is not None for option in options) else None
    if not (isinstance(plain, Known) and isinstance(plain.value, (str, bytes)) and plain.value):
        return None
    # Written in the repo's Python, or in a JSON/TOML file `app.config.from_file` loads.
    if plain.module is not None or (plain.path or "").endswith((".json", ".toml")):
        return plain
    return None


def generated_of(value: Value) -> Generated | None:
    """The generated value a value is in production (every option of it, when undecided)."""
    plain = value.effective
    if isinstance(plain, Unknown):
        options = [generated_of(option) for option in plain.options]
        return options[0] if options and all(option is not None for option in options) else None
    return plain if isinstance(plain, Generated) else None


def unset_note(production: ProductionPath, item: KeyValue, found: Value) -> str | None:
    """Why a read falls back to `found`: "`K` is not set (...)"; None when no read is involved."""
    if item.fills is not None:
        return item.fills
    names = [item.value.name] if isinstance(item.value, EnvValue) else []
    names += [name for name in found.env if name not in names]
    for name in names:
        if production.environment.source(name) is None:
            return production.environment.describe_unset(name)
    return None


def column(value: Value) -> int | None:
    if value.module is None or value.node is None:
        return None
    try:
        return value.module.position(value.node)[1]
    except KeyError:
        return None


def redact(lines: list[str], values: list[Value]) -> list[str]:
    """Evidence with every quoted literal that holds one of the values replaced by `'***'`
    (traces quote code, and code_of cuts long literals short with `...`)."""
    secrets = []
    for value in values:
        plain = value.effective if isinstance(value, EnvValue) else value
        raw = plain.value if isinstance(plain, Known) else None
        if isinstance(raw, bytes):
            raw = raw.decode("latin-1")
        if isinstance(raw, str) and raw:
            secrets.extend({raw, " ".join(raw.split()), repr(raw)[1:-1]})

    def hide(match: re.Match) -> str:
        body = match.group("body")
        if body and any(
            secret == body or secret in body or (match.group("cut") and secret.startswith(body)) for secret in secrets
        ):
            return "'***'"
        return match.group(0)

    return [_QUOTED.sub(hide, line) for line in lines]


@dataclass
class DeployLiteral:
    """A `NAME=value` a committed deploy file sets: Dockerfile `ENV`/`ARG`, a start command prefix,
    nixpacks `[variables]`."""

    name: str
    value: str
    path: str
    line: int | None
    place: str  # "`ENV` (Dockerfile:4)"
    evidence: list[str] = field(default_factory=list)


def deploy_literals(project: Project, wanted: Callable[[str], bool]) -> list[DeployLiteral]:
    """Literal values (no `$` expansion) of wanted names in the deploy files of the app root.
    Dockerfile and nixpacks values are left out when the platform sets the variable: Railway's
    value wins at run time, and Railway passes it as the build argument."""
    platform = project.platform
    found: list[DeployLiteral] = []
    dockerfile = project.dockerfile
    if dockerfile is not None:
        built = "Railway builds with it" if uses_docker(project) else "Railway does not build with it"
        for instruction in dockerfile.instructions:
            if instruction.keyword not in ("ENV", "ARG"):
                continue
            for name, value in parse_env_instruction(instruction.value, instruction.keyword):
                if wanted(name) and "$" not in value and value and not platform.has_variable(name):
                    where = f"{dockerfile.path}:{instruction.line}"
                    why = [f"{dockerfile.path}: {built}", _unlisted(project, name)]
                    found.append(
                        DeployLiteral(
                            name, value, dockerfile.path, instruction.line, f"`{instruction.keyword}` ({where})", why
                        )
                    )
    nixpacks = project.nixpacks
    variables = nixpacks.data.get("variables") if nixpacks is not None else None
    if isinstance(variables, dict):
        for name, value in variables.items():
            if (
                isinstance(value, str)
                and wanted(name)
                and "$" not in value
                and value
                and not platform.has_variable(name)
            ):
                line = nixpacks.line_of(name)
                where = f"{nixpacks.path}:{line}" if line else nixpacks.path
                found.append(
                    DeployLiteral(
                        name, value, nixpacks.path, line, f"`[variables]` ({where})", [_unlisted(project, name)]
                    )
                )
    for text, path, line, label in _committed_commands(project):
        try:
            commands = parse_chain(text)
        except ShellSyntaxError:
            continue
        where = f"{path}:{line}" if line else path
        for command in commands:
            assignments = dict(command.assignments)
            if command.program == "export":
                assignments.update(word.partition("=")[::2] for word in command.argv[1:] if "=" in word)
            for name, value in assignments.items():
                if wanted(name) and "$" not in value and value:
                    why = ["a `NAME=value` prefix wins over Railway's Variables"]
                    found.append(DeployLiteral(name, value, path, line, f"{label} ({where})", why))
    return found


def _unlisted(project: Project, name: str) -> str:
    if project.platform.variables is None:
        return f"`{name}` is not known to be set on the platform (no platform variables given)"
    return f"`{name}` is not among the platform variables"


def _committed_commands(project: Project) -> Iterator[tuple[str, str, int | None, str]]:
    """(command, path, line, label) of the commands committed in the app root's deploy files."""
    procfile = project.procfile
    if procfile is not None:
        for entry in procfile.entries:
            yield entry.command, procfile.path, entry.line, f"the `{entry.name}` command"
    for config in project.railway_configs:
        for key in ("startCommand", "preDeployCommand"):
            command = config.get("deploy", key)
            if isinstance(command, str):
                yield command, config.path, config.line_of(key), f"`deploy.{key}`"
    nixpacks = project.nixpacks
    start = nixpacks.data.get("start") if nixpacks is not None else None
    if isinstance(start, dict) and isinstance(start.get("cmd"), str):
        yield start["cmd"], nixpacks.path, nixpacks.line_of("cmd"), "`[start] cmd`"
    dockerfile = project.dockerfile
    if dockerfile is not None:
        for instruction in dockerfile.instructions:
            if instruction.keyword in ("CMD", "ENTRYPOINT") and not instruction.value.startswith("["):
                yield instruction.value, dockerfile.path, instruction.line, f"`{instruction.keyword}`"


# -- fixes, shared by PF303, PF307 and PF308 ---------------------------------------


def environment_fix(
    project: Project, item: KeyValue, found: Value, safety: str, variable: str | None = None, suffix: str = ""
) -> Fix | None:
    """Replace the expression that gives the key its value with a read that has no fallback
    (`os.environ["SECRET_KEY"]`, then `suffix`), where the key is assigned. None when the value is not
    written there (a name bound elsewhere, several candidate configs)."""
    value = item.value
    located = (
        None
        if isinstance(value, Unknown)
        else ModuleEdit.at_value(project, item.path, item.line, value.node, value.module)
    )
    if located is None:
        return None
    edit, node = located
    inner = edit.locate(found.node, found.module)
    if inner is None or not edit.contains(node, inner):
        return None
    name = variable or (value.name if isinstance(value, EnvValue) else item.key)
    code = edit.environ(name, node)
    if code is None or not edit.replace(node, code + suffix.replace('"', edit.quote(node))):
        return None
    return edit.fix(f"Read `{name}` from the environment", safety.format(name=name))


def deploy_literal_fix(project: Project, item: DeployLiteral) -> Fix | None:
    """Remove a committed `NAME=value` from the deploy file that sets it, so the platform's variable is
    the one the app gets."""
    data = project.raw(item.path)
    if data is None or item.line is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    dockerfile, nixpacks = project.dockerfile, project.nixpacks
    if dockerfile is not None and item.path == dockerfile.path and item.place.startswith(("`ENV`", "`ARG`")):
        new = dockerfile_assignment(text, item.line, item.name, None)
    elif nixpacks is not None and item.path == nixpacks.path and item.place.startswith("`[variables]`"):
        new = toml_remove_line(text, item.line, item.name)
    else:
        new = command_assignment(text, item.line, item.name, None)
    if new is None or new == text or not still_parses(item.path, new):
        return None
    return Fix(f"Remove `{item.name}` from {item.place}", DEPLOY_SAFETY.format(name=item.name), {item.path: new})
