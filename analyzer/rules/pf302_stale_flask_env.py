from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from analyzer.autofix import Fix
from analyzer.deployfiles import parse_env_instruction
from analyzer.fixes.envvars import KEEP, utf8_text, variable_edit
from analyzer.fixes.pycode import ModuleEdit
from analyzer.prodpath import ConfigOp
from analyzer.project import Project
from analyzer.pysource import PyModule
from analyzer.pyvalues import env_read, literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.rules.pf301_debugger_exposed import DEV_SERVER_KINDS, flask_below_2_3
from analyzer.startcmd import WSGI_SERVERS

_COMMAND_SET = re.compile(r"\bFLASK_ENV=(?P<value>[\"']?[\w.-]*)")
_COMPOSE_FILE = re.compile(r"^(docker-)?compose[\w.-]*\.ya?ml$")
_COMPOSE_SET = re.compile(r"\bFLASK_ENV\b[\"']?\s*[:=]\s*[\"']?(?P<value>[\w.-]*)")
_CODE_NEEDLES = re.compile(rb"FLASK_ENV|[\"']ENV[\"']|\.env\b|\bENV\s*=")
_APP_NAMES = frozenset({"app", "application", "current_app", "flask_app"})

FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"


@dataclass
class _Use:
    path: str
    line: int
    what: str  # the message
    subject: str
    evidence: list[str]
    kind: str = "read"  # "set" (a deploy file sets FLASK_ENV), "read" (code reads it), "key" (the ENV key)
    node: cst.CSTNode | None = None  # for "key": the assignment of the ENV key
    module: PyModule | None = None


class StaleFlaskEnv(Rule):
    """
    ## What it does
    Flags `FLASK_ENV` or the config key `ENV` set in committed env files
    (`.env`, `.flaskenv`), the Procfile, the railway config, the Dockerfile or a
    compose file, or relied on in code (`os.environ.get("FLASK_ENV")`,
    `app.config["ENV"]`, `app.env`).

    ## Why is this bad?
    Flask 2.2 deprecated `FLASK_ENV` and the `ENV` config key and Flask 2.3
    removed both: `FLASK_ENV=production` turns nothing off and
    `FLASK_ENV=development` turns nothing on; debug follows `FLASK_DEBUG` and
    `--debug` only. Code that reads `app.config["ENV"]` gets a `KeyError` and
    `app.env` an `AttributeError`. When the app reads `FLASK_ENV` itself to pick
    its config, the variable still works, but its name promises a Flask
    behaviour that no longer exists, and older Flask versions also switch debug
    on from it.

    ## Example
    ```
    # .flaskenv
    FLASK_ENV=production
    ```

    ## Use instead
    ```
    # .flaskenv (debug off unless asked for)
    FLASK_DEBUG=0
    ```

    ## How to fix
    Use `FLASK_DEBUG` (default off) for debug; when the app reads `FLASK_ENV` to pick its config, rename the variable (e.g. `APP_ENV`).

    ## Fix safety
    Where only Flask used to read `FLASK_ENV`, the autofix writes `FLASK_DEBUG=0`
    instead, which changes nothing on Flask 2.3+. Where the app reads `FLASK_ENV`
    itself, it renames the variable to `APP_ENV` in the code and every committed file
    at once: rename it in Railway's Variables too, or the app falls back to its
    default config. An `ENV` config key is removed.

    ## References
    - Flask 2.3 changelog: "Remove previously deprecated code: the `FLASK_ENV` environment variable, the `ENV` config key"
    - Flask: Configuration Handling, Debug Mode
    """

    id = "PF302"
    slug = "stale-flask-env"
    severity = Severity.LOW
    title = "FLASK_ENV is no longer read by Flask"

    def check(self, project: Project) -> Iterator[Finding]:
        seen: set[tuple[str, int]] = set()
        picks = self._config_pick(project)
        uses = [*self._deploy_files(project, picks), *self._code(project, picks)]
        # When the app reads FLASK_ENV itself, the variable is renamed everywhere at once.
        renamed = picks is not None or any(use.kind == "read" for use in uses)
        rename = _rename_fix(project, uses) if renamed else None
        for use in uses:
            if (use.path, use.line) in seen:
                continue
            seen.add((use.path, use.line))
            finding = self.finding(use.what, use.path, use.line, subject=use.subject, evidence=use.evidence)
            if use.kind == "key":
                finding.fix = _remove_key_fix(project, use)
            elif renamed:
                finding.fix = rename
            else:
                finding.fix = _debug_instead_fix(project, use)
            yield finding

    # -- what the value does -----------------------------------------------------------

    @staticmethod
    def _config_pick(project: Project) -> ConfigOp | None:
        """The config operation whose argument the app computes from FLASK_ENV, if any."""
        if not project.python_paths_containing(b"FLASK_ENV"):
            return None
        for config in project.production.configs:
            for op in config.operations:
                if op.kind.startswith("from_") and op.argument is not None and "FLASK_ENV" in op.argument.env:
                    return op
        return None

    @staticmethod
    def _removed(project: Project) -> str:
        if flask_below_2_3(project):
            return "deprecated since Flask 2.2 and removed in 2.3"
        return "removed in Flask 2.3"

    def _set_message(self, project: Project, shown: str, value: str, picks: ConfigOp | None) -> str:
        if picks is not None:
            return (
                f"{shown}: Flask no longer reads `FLASK_ENV` ({self._removed(project)}), but the app's own code "
                f"reads it to pick its config ({picks.where}): rename the variable (e.g. `APP_ENV`)"
            )
        lowered = value.strip("\"'").lower()
        effect = {"production": "turns nothing off", "development": "turns nothing on (use `FLASK_DEBUG`)"}
        return f"{shown}: `FLASK_ENV` is {self._removed(project)}; it {effect.get(lowered, 'does nothing')}"

    @staticmethod
    def _reported_as_debug(project: Project, value: str) -> bool:
        """Below Flask 2.3, FLASK_ENV=development turns debug on: PF301 or PF306 reports it."""
        if value.strip("\"'").lower() != "development" or not flask_below_2_3(project):
            return False
        run = project.server_run
        if run is None:
            return False
        if run.kind in DEV_SERVER_KINDS:
            return True
        config = project.production.config if run.kind in WSGI_SERVERS else None
        return config is not None and config.get("DEBUG") is None

    # -- deploy files --------------------------------------------------------------------

    def _deploy_files(self, project: Project, picks: ConfigOp | None) -> Iterator[_Use]:
        def use(path: str, line: int, value: str, where: str) -> _Use | None:
            if self._reported_as_debug(project, value):
                return None
            shown = f"`FLASK_ENV={value.strip(chr(34) + chr(39))}` in {where}"
            evidence = [f"{path}:{line} sets `FLASK_ENV`"] + ([f"{picks.description} reads it"] if picks else [])
            message = self._set_message(project, shown, value, picks)
            return _Use(path, line, message, f"FLASK_ENV in {path}", evidence, "set")

        found: list[_Use | None] = []
        for path, entries in project.env_files.items():
            found.extend(use(path, line, value, path) for key, value, line in entries if key == "FLASK_ENV")
        procfile = project.procfile
        if procfile is not None:
            for entry in procfile.entries:
                for match in _COMMAND_SET.finditer(entry.command):
                    found.append(use(procfile.path, entry.line, match["value"], f"the Procfile's `{entry.name}`"))
        for config in project.railway_configs:
            for number, text in enumerate(config.text.splitlines(), start=1):
                for match in _COMMAND_SET.finditer(text):
                    found.append(use(config.path, number, match["value"], config.path))
        dockerfile = project.dockerfile
        if dockerfile is not None:
            for instruction in dockerfile.all("ENV"):
                for name, value in parse_env_instruction(instruction.value):
                    if name == "FLASK_ENV":
                        found.append(use(dockerfile.path, instruction.line, value, f"{dockerfile.path} `ENV`"))
        for path in project.app_files:
            if not _COMPOSE_FILE.match(posixpath.basename(path)):
                continue
            for number, text in enumerate((project.read_text(path) or "").splitlines(), start=1):
                match = _COMPOSE_SET.search(text)
                if match and not text.lstrip().startswith("#"):
                    found.append(use(path, number, match["value"], path))
        yield from (item for item in found if item is not None)

    # -- code ------------------------------------------------------------------------------

    def _code(self, project: Project, picks: ConfigOp | None) -> Iterator[_Use]:
        paths = [path for path in project.python_paths if _CODE_NEEDLES.search(project.raw(path) or b"")]
        if not paths:
            return
        production = project.production
        removed = self._removed(project)
        for read in production.env_reads:
            if read.name != "FLASK_ENV":
                continue
            if picks is not None:
                what = f"the app's own code reads `FLASK_ENV` to pick its config ({picks.where})"
            else:
                what = f"the app's own code reads `FLASK_ENV` ({read.where})"
            yield _Use(
                read.path,
                read.line,
                f"{what}: Flask no longer reads that variable ({removed}), so rename it (e.g. `APP_ENV`)",
                f"FLASK_ENV read in {read.path}",
                [*production.why(read.path)[-2:], *(read.value.trace[:2] if read.value is not None else [])],
            )
        for config in production.configs:
            for setting in config.history.get("ENV", []):
                yield _Use(
                    setting.path or config.app.path,
                    setting.line or config.app.line,
                    f"the config key `ENV` is set in {setting.source}: it is {removed} and changes nothing",
                    f"ENV in {setting.path}",
                    setting.evidence[:3],
                    "key",
                    setting.node,
                    project.python(setting.path) if setting.path else None,
                )
        for config in production.configs:
            # Config classes the path does not load still set the removed key (DevelopmentConfig's ENV).
            for cls in config.unselected:
                for statement in cls.node.body.body:
                    for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else []:
                        if isinstance(small, (cst.Assign, cst.AnnAssign)) and _assigns_env(small):
                            yield _Use(
                                cls.path,
                                cls.module.line(small),
                                f"the config key `ENV` is set in {cls.name} ({cls.path}:{cls.line}): "
                                f"it is {removed} and changes nothing",
                                f"ENV in {cls.name}",
                                [f"{cls.name} is a config class of {cls.path}"],
                                "key",
                                small,
                                cls.module,
                            )
        for path in paths:
            module = project.python(path) if production.imported(path) else None
            if module is not None:
                yield from self._module_uses(project, module, removed)

    def _module_uses(self, project: Project, module: PyModule, removed: str) -> Iterator[_Use]:
        finder = _EnvFinder(module)
        module.tree.visit(finder)
        why = project.production.why(module.path)[-2:]
        for node, kind in finder.found:
            line = module.line(node)
            code = module.code(node)
            what = f"`{code}` relies on the `ENV` config key, {removed}: "
            if flask_below_2_3(project):
                # The pinned Flask still sets it: the read works today and breaks on the upgrade.
                what += "it works on the pinned Flask and fails on 2.3+ (" + (
                    "AttributeError)" if kind == "attribute" else "KeyError)"
                )
            else:
                what += (
                    "`app.env` raises AttributeError" if kind == "attribute" else "Flask no longer sets it (KeyError)"
                )
            yield _Use(module.path, line, what, f"ENV in {module.path}", why, "key-read")

    VALID = [
        Example(
            {"Procfile": "web: gunicorn app:app\n", ".flaskenv": "FLASK_APP=app\nFLASK_DEBUG=0\n", "app.py": FLASK_APP}
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "app/__init__.py": "import os as _os\nfrom flask import Flask\n\n\ndef create_app():\n"
                "    app = Flask(__name__)\n    app.config.from_object(_os.environ.get('APP_SETTINGS', 'config.Prod'))\n"
                "    return app\n",
                "config.py": "class Prod:\n    DEBUG = False\n",
            },
            note="the app's own variable has its own name",
        ),
        Example(
            {
                "Procfile": "web: flask run --host 0.0.0.0\n",
                ".flaskenv": "FLASK_ENV=development\n",
                "requirements.txt": "Flask==2.2.5\npython-dotenv\n",
                "app.py": FLASK_APP,
            },
            note="below Flask 2.3 with flask run, FLASK_ENV=development turns the debugger on: PF301 reports it",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": FLASK_APP + "\n\n@app.route('/')\ndef index():\n    return {'debug': app.debug}\n",
                "docker-compose.yml": "services:\n  web:\n    environment:\n      - FLASK_DEBUG=0\n",
                ".env.example": "FLASK_ENV=development\n",
            },
            note="an example env file is not an env file the app reads",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "app.py": FLASK_APP + "app.config['ENVIRONMENT'] = 'prod'\n",
                "wsgi.py": "from dotenv import load_dotenv\n\nload_dotenv('.env')\n\nfrom app import app\n",
            },
            note="ENVIRONMENT is not ENV; `.env` in a string is not `app.env`",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                ".flaskenv": "FLASK_APP=app\nFLASK_ENV=production\n",
                "app.py": FLASK_APP,
            },
            expect="turns nothing off",
            fixed={".flaskenv": "FLASK_APP=app\nFLASK_DEBUG=0\n"},
        ),
        Example(
            {
                "Dockerfile": "FROM python:3.12-slim\nENV FLASK_ENV=production PYTHONUNBUFFERED=1\n"
                'CMD ["gunicorn", "app:app"]\n',
                "app.py": FLASK_APP,
            },
            expect="Dockerfile `ENV`",
            fixed={
                "Dockerfile": 'FROM python:3.12-slim\nENV FLASK_DEBUG=0 PYTHONUNBUFFERED=1\nCMD ["gunicorn", "app:app"]\n'
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": "import os\n\nfrom app import create_app\n\n"
                "app = create_app(os.getenv('FLASK_ENV') or 'default')\n",
                "app/__init__.py": "from flask import Flask\n\nfrom config import config\n\n\n"
                "def create_app(name):\n    app = Flask(__name__)\n    app.config.from_object(config[name])\n"
                "    return app\n",
                "config.py": "class Dev:\n    DEBUG = True\n\n\nclass Prod:\n    DEBUG = False\n\n\n"
                "config = {'development': Dev, 'production': Prod, 'default': Prod}\n",
                "railway.toml": '[deploy]\nstartCommand = "FLASK_ENV=production gunicorn wsgi:app"\n',
            },
            platform={"variables": ["FLASK_ENV"]},
            expect="to pick its config",
            fixed={
                "railway.toml": '[deploy]\nstartCommand = "APP_ENV=production gunicorn wsgi:app"\n',
                "wsgi.py": "import os\n\nfrom app import create_app\n\napp = create_app(os.getenv('APP_ENV') or 'default')\n",
            },
            note="the app's own variable is renamed in its code and in the start command at once",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": FLASK_APP
                + "\nif app.config['ENV'] == 'production':\n    app.config['PREFERRED_URL_SCHEME'] = 'https'\n",
            },
            expect="KeyError",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "Flask==2.0.3\ngunicorn==21.2.0\n",
                "app.py": FLASK_APP
                + "\nif app.env == 'production':\n    app.config['PREFERRED_URL_SCHEME'] = 'https'\n",
            },
            expect="works on the pinned Flask and fails on 2.3+ (AttributeError)",
            note="Flask 2.0 still has `app.env`: the read breaks only on the upgrade",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": FLASK_APP + "app.config.from_object('settings.Config')\n",
                "settings.py": "class Config:\n    ENV = 'production'\n    DEBUG = False\n",
            },
            expect="config key `ENV`",
            fixed={"settings.py": "class Config:\n    DEBUG = False\n"},
        ),
        Example(
            {
                "api/Procfile": "web: gunicorn app:app\n",
                "api/app.py": FLASK_APP,
                "api/docker-compose.yml": "services:\n  web:\n    build: .\n    environment:\n"
                "      FLASK_ENV: development\n",
            },
            app_root="api",
            expect="api/docker-compose.yml",
            fixed={
                "api/docker-compose.yml": "services:\n  web:\n    build: .\n    environment:\n      FLASK_DEBUG: 0\n"
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\r\n",
                ".env": "# production settings\r\nFLASK_ENV=production\r\nFLASK_DEBUG=0\r\nDATABASE_URL=\r\n",
                "app.py": "from flask import Flask\r\n\r\napp = Flask(__name__)\r\n",
            },
            expect="`FLASK_ENV=production` in .env",
            fixed={".env": "# production settings\r\nFLASK_DEBUG=0\r\nDATABASE_URL=\r\n"},
            note="Windows line endings; FLASK_DEBUG is already set, so the line goes",
        ),
        Example(
            {
                "Procfile": "web: FLASK_ENV=production gunicorn 'app:create_app()'\n",
                "app/__init__.py": (
                    "import os\n\nfrom flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                    '    env = os.environ.get("FLASK_ENV", "production")  # picks the config\n'
                    '    app.config.from_object(f"app.config.{env.title()}Config")\n    return app\n'
                ),
                "app/config.py": "class ProductionConfig:\n    DEBUG = False\n\n\nclass DevelopmentConfig:\n    DEBUG = True\n",
                "Dockerfile": (
                    "FROM python:3.12-slim\nENV PYTHONUNBUFFERED=1 \\\n    FLASK_ENV=production\n"
                    "CMD gunicorn 'app:create_app()'\n"
                ),
            },
            expect="the app's own code reads `FLASK_ENV` to pick its config (app/__init__.py:9)",
            fixed={
                "Procfile": "web: APP_ENV=production gunicorn 'app:create_app()'\n",
                "app/__init__.py": (
                    "import os\n\nfrom flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                    '    env = os.environ.get("APP_ENV", "production")  # picks the config\n'
                    '    app.config.from_object(f"app.config.{env.title()}Config")\n    return app\n'
                ),
                "Dockerfile": (
                    "FROM python:3.12-slim\nENV PYTHONUNBUFFERED=1 \\\n    APP_ENV=production\n"
                    "CMD gunicorn 'app:create_app()'\n"
                ),
            },
            note="a factory that picks its config class from FLASK_ENV; a continued ENV and a command prefix",
        ),
    ]


class _EnvFinder(cst.CSTVisitor):
    """Reads of the removed key: `app.config["ENV"]`, `app.config.get("ENV")`, `app.env`."""

    def __init__(self, module: PyModule) -> None:
        self.module = module
        self.found: list[tuple[cst.CSTNode, str]] = []

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if (
            _is_config(node.value)
            and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and literal(node.slice[0].slice.value) == "ENV"
        ):
            self.found.append((node, "key"))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "get"
            and _is_config(func.value)
            and node.args
            and literal(node.args[0].value) == "ENV"
        ):
            self.found.append((node, "key"))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "env" and _is_app(node.value):
            self.found.append((node, "attribute"))

    def visit_Assign(self, node: cst.Assign) -> bool:
        # Assignments are settings (the config history reports them); only their values are reads.
        node.value.visit(self)
        return False


def _assigns_env(node: cst.Assign | cst.AnnAssign) -> bool:
    targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
    return any(isinstance(target, cst.Name) and target.value == "ENV" for target in targets)


def _is_app(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value in _APP_NAMES
    return isinstance(expr, cst.Attribute) and expr.attr.value in _APP_NAMES


def _is_config(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Attribute) and expr.attr.value == "config" and _is_app(expr.value)


# -- fixes ---------------------------------------------------------------------------

NEW_NAME = "APP_ENV"
RENAME_SAFETY = (
    f"This fix is unsafe because the app then reads `{NEW_NAME}`: rename the variable in Railway's Variables (and "
    "in any env file outside the repository) too, or the app falls back to its default config."
)
DEBUG_SAFETY = (
    "Flask 2.3+ ignores `FLASK_ENV`, so nothing changes there; on older Flask, `FLASK_ENV=development` also "
    "turned debug on, which is now off unless `FLASK_DEBUG=1`."
)


def _debug_instead_fix(project: Project, use: _Use) -> Fix | None:
    """`FLASK_ENV=...` -> `FLASK_DEBUG=0` in env files, the Dockerfile and compose files (removed where
    FLASK_DEBUG is already set); a command's `FLASK_ENV=...` prefix is dropped."""
    if use.kind != "set":
        return None
    text = utf8_text(project, use.path)
    if text is None:
        return None
    if _COMPOSE_FILE.match(posixpath.basename(use.path)):
        new = _compose_debug(text, use.line)
    else:
        sets_debug = re.search(r"\bFLASK_DEBUG\s*=", text) is not None
        new = variable_edit(project, use.path, use.line, "FLASK_ENV", None if sets_debug else "0", "FLASK_DEBUG")
    if new is None:
        return None
    if new.count("FLASK_DEBUG") > text.count("FLASK_DEBUG"):
        title = f"Use `FLASK_DEBUG=0` instead of `FLASK_ENV` in {use.path}"
    else:
        title = f"Remove `FLASK_ENV` from {use.path}"
    return Fix(title, DEBUG_SAFETY, {use.path: new})


def _compose_debug(text: str, line: int) -> str | None:
    lines = text.splitlines(keepends=True)
    if not 1 <= line <= len(lines):
        return None
    raw = lines[line - 1]
    match = _COMPOSE_SET.search(raw)
    if match is None or re.search(r"\bFLASK_DEBUG\b", text):
        return None
    edited = raw[: match.start()] + "FLASK_DEBUG" + raw[match.start() + len("FLASK_ENV") : match.start("value")]
    edited += "0" + raw[match.end("value") :]
    return "".join([*lines[: line - 1], edited, *lines[line:]])


def _rename_fix(project: Project, uses: list[_Use]) -> Fix | None:
    """Rename the app's own variable, FLASK_ENV -> APP_ENV, in every env read of its Python and every
    deploy file that sets it. None when APP_ENV is taken or a mention cannot be renamed safely."""
    if project.python_paths_containing(NEW_NAME.encode()) or any(
        NEW_NAME in (project.read_text(use.path) or "") for use in uses
    ):
        return None
    changes: dict[str, str] = {}
    for path in project.python_paths_containing(b"FLASK_ENV"):
        edit = ModuleEdit.of(project, path)
        if edit is None:
            return None
        finder = _EnvNameFinder(edit.module)
        edit.module.tree.visit(finder)
        if finder.other:
            return None  # FLASK_ENV in a string that is not an env read: renaming could break it
        for node in finder.keys:
            edit.replace(node, node.with_changes(value=node.value.replace("FLASK_ENV", NEW_NAME)))
        text = edit.text()
        if text is not None:
            changes[path] = text
    for use in uses:
        if use.kind != "set":
            continue
        current = changes.get(use.path) or utf8_text(project, use.path)
        if current is None:
            return None
        if _COMPOSE_FILE.match(posixpath.basename(use.path)):
            lines = current.splitlines(keepends=True)
            if not 1 <= use.line <= len(lines):
                return None
            raw = lines[use.line - 1]
            new = "".join(
                [*lines[: use.line - 1], re.sub(r"\bFLASK_ENV\b", NEW_NAME, raw, count=1), *lines[use.line :]]
            )
        else:
            new = variable_edit(project, use.path, use.line, "FLASK_ENV", KEEP, NEW_NAME, text=current)
        if new is None:
            return None
        changes[use.path] = new
    if not changes:
        return None
    return Fix(f"Rename the app's `FLASK_ENV` variable to `{NEW_NAME}`", RENAME_SAFETY, changes)


class _EnvNameFinder(cst.CSTVisitor):
    """The `"FLASK_ENV"` strings of env reads (`os.getenv("FLASK_ENV")`), and whether it appears elsewhere."""

    def __init__(self, module: PyModule) -> None:
        self.module = module
        self.keys: list[cst.SimpleString] = []
        self.other = False
        self._claimed: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        self._read(node, node.args[0].value if node.args else None)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        index = node.slice[0].slice if len(node.slice) == 1 else None
        self._read(node, index.value if isinstance(index, cst.Index) else None)

    def _read(self, node: cst.BaseExpression, key: cst.BaseExpression | None) -> None:
        if isinstance(key, cst.SimpleString) and literal(key) == "FLASK_ENV" and env_read(node, self.module):
            self.keys.append(key)
            self._claimed.add(id(key))

    def leave_SimpleString(self, node: cst.SimpleString) -> None:
        if "FLASK_ENV" in node.value and id(node) not in self._claimed:
            self.other = True


def _remove_key_fix(project: Project, use: _Use) -> Fix | None:
    """Remove an assignment of the `ENV` config key (a class attribute, `app.config["ENV"] = ...`)."""
    if use.node is None or use.module is None:
        return None
    edit = ModuleEdit.of(project, use.path)
    node = edit.locate(use.node, use.module) if edit is not None else None
    statement = edit.statement_of(node) if node is not None else None
    # Only a statement that is this one assignment: `ENV = "production"`, `app.config["ENV"] = ...`.
    if not isinstance(statement, cst.SimpleStatementLine) or statement.body[0] is not node:
        return None
    if not edit.remove(statement):
        return None
    return edit.fix(
        "Remove the `ENV` config key",
        "Flask 2.3+ ignores it; code that still reads `app.config['ENV']` gets a KeyError (reported on its own).",
    )
