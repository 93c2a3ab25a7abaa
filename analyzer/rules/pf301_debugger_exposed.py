from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from analyzer.autofix import Fix
from analyzer.devserver import DevRun, dev_server_calls
from analyzer.fixes.envvars import command_drop_word, still_parses, utf8_text, variable_edit
from analyzer.fixes.pycode import ModuleEdit
from analyzer.prodpath import AppConfig, ExtensionUse, Known, ObjectRef, ProductionPath, describe
from analyzer.project import Project
from analyzer.pysource import PyModule
from analyzer.pyvalues import env_read
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

DEV_SERVER_KINDS = frozenset({"flask-run", "python-file", "python-module", "manage"})
_ORIGIN = re.compile(r"^(?P<path>.+):(?P<line>\d+)$")

FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
GUARDED_RUN = FLASK_APP + '\nif __name__ == "__main__":\n    app.run(host="0.0.0.0", port=5000, debug=True)\n'
CONFIG_PY = (
    "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ.get('SECRET_KEY')\n\n\n"
    "class DevelopmentConfig(Config):\n    DEBUG = True\n\n\n"
    "class ProductionConfig(Config):\n    DEBUG = False\n\n\n"
    "config = {'development': DevelopmentConfig, 'production': ProductionConfig, 'default': DevelopmentConfig}\n"
)
FACTORY = (
    "from flask import Flask\nfrom config import config\n\n\n"
    "def create_app(config_name):\n    app = Flask(__name__)\n    app.config.from_object(config[config_name])\n"
    "    return app\n"
)


def debug_flag(value: str) -> bool:
    """Flask's `get_debug_flag()` for a FLASK_DEBUG value: anything but empty, 0, false, no is on."""
    return bool(value) and value.lower() not in ("0", "false", "no")


def flask_below_2_3(project: Project) -> bool:
    """Flask is pinned below 2.3, where FLASK_ENV=development still turns debug on."""
    return project.manifests.pinned_below("flask", "2.3") is True


def dotenv_installed(project: Project) -> bool:
    """python-dotenv is installed: Flask's CLI and `app.run()` read .env and .flaskenv only then."""
    return "python-dotenv" in project.dependency_text().lower()


@dataclass
class EnvSetting:
    """Where a variable gets the value Flask sees in production; `value` None means set, value unknown."""

    name: str
    value: str | None
    origin: str  # "Dockerfile:4", ".flaskenv:2", "platform variables", "the start command (Procfile:1)"
    path: str | None
    line: int | None

    @property
    def shown(self) -> str:
        return f"`{self.name}={self.value}`" if self.value is not None else f"`{self.name}`"

    @property
    def evidence(self) -> str:
        if self.value is None:
            return f"`{self.name}` is set by {self.origin} (value unknown)"
        return f"`{self.name}` is set to {self.value!r} by {self.origin}"


def env_setting(project: Project, name: str, *, dotenv_files: bool = False) -> EnvSetting | None:
    """The production value of `name`: the start command, an `export` before the server, the
    platform, the Dockerfile, dotenv files the code loads; with `dotenv_files`, then the committed
    .env and .flaskenv that Flask itself loads (`app.run()`)."""
    run = project.server_run
    start = project.start_command
    source = project.production.environment.source(name)
    if run is not None and (source is None or source.kind != "command"):
        for command in reversed(run.before):
            if command.program != "export":
                continue
            for word in command.argv[1:]:
                key, sep, value = word.partition("=")
                if sep and key == name:
                    return EnvSetting(name, None if "$" in value else value, start.source, start.path, start.line)
    if source is not None:
        if source.kind == "command":
            return EnvSetting(name, source.value, source.origin, start.path, start.line)
        match = _ORIGIN.match(source.origin)
        if match:
            return EnvSetting(name, source.value, source.origin, match["path"], int(match["line"]))
        return EnvSetting(name, source.value, source.origin, None, None)
    if dotenv_files and dotenv_installed(project):
        for path, entries in project.env_files.items():  # .env first: neither overrides the other
            for key, value, line in entries:
                if key == name:
                    return EnvSetting(name, value, f"{path}:{line}", path, line)
    return None


@dataclass
class DebugState:
    """Whether debug is on, and what decides it. `on` None: cannot be told."""

    on: bool | None
    reason: str = ""
    setting: EnvSetting | None = None
    path: str | None = None
    line: int | None = None
    evidence: tuple[str, ...] = ()
    node: cst.CSTNode | None = None  # the expression that turns debug on, when it is Python
    module: PyModule | None = None

    @property
    def below_2_3(self) -> str:
        if self.setting is not None and self.setting.name == "FLASK_ENV":
            return ", which turns debug on with Flask pinned below 2.3"
        return ""


def env_debug(project: Project, *, dotenv_files: bool = False) -> DebugState | None:
    """Debug as Flask's `get_debug_flag()` reads the environment; None when neither variable is set."""
    flag = env_setting(project, "FLASK_DEBUG", dotenv_files=dotenv_files)
    if flag is not None and flag.value != "":
        on = debug_flag(flag.value) if flag.value is not None else None
        return DebugState(on, f"{flag.shown} from {flag.origin}", flag, flag.path, flag.line, (flag.evidence,))
    if not flask_below_2_3(project):
        return None
    env = env_setting(project, "FLASK_ENV", dotenv_files=dotenv_files)
    if env is None:
        return None
    on = env.value.lower() == "development" if env.value is not None else None
    why = f"{env.evidence}; Flask is pinned below 2.3, where `FLASK_ENV=development` turns debug on"
    return DebugState(on, f"{env.shown} from {env.origin}", env, env.path, env.line, (why,))


def config_debug(config: AppConfig | None) -> DebugState | None:
    """`app.debug` as the app's config sets it; None when nothing sets DEBUG."""
    setting = config.get("DEBUG") if config is not None else None
    if setting is None:
        return None
    value = setting.value.effective
    if setting.conditional or not isinstance(value, Known):
        return DebugState(None)
    why = (*setting.evidence[:2], *(config.evidence if setting.defined_in is not None else ()))
    reason = f"`DEBUG` from {setting.source}"
    return DebugState(
        value.truthy(), reason, None, setting.path, setting.line, why[:6], setting.value.node, setting.value.module
    )


DEBUG_SAFETY = "Debug is then off unless `{variable}=1` is set; set that only on your own machine."
DEV_SERVER_NOTE = " The development server still runs (PF103): serve the app with gunicorn."


def debug_off_fix(project: Project, state: DebugState, *, dev_server: bool = True) -> Fix | None:
    """Debug from the environment, default off: the Python expression that turns it on becomes
    `os.environ.get("FLASK_DEBUG") == "1"` (the app's own variable when it reads one); a committed
    `FLASK_DEBUG=1` (or `FLASK_ENV=development`) becomes `FLASK_DEBUG=0`; a command prefix is dropped."""
    note = DEV_SERVER_NOTE if dev_server else ""
    if state.node is not None:
        located = ModuleEdit.at_value(project, state.path, state.line, state.node, state.module)
        if located is None:
            return None
        edit, node = located
        read = env_read(node, edit.module) if isinstance(node, (cst.Call, cst.Subscript)) else None
        variable = read.name if read is not None else "FLASK_DEBUG"
        os_name = edit.os_name()
        if os_name is None:
            return None
        code = f"{os_name}.environ.get({edit.string(variable, node)}) == {edit.string('1', node)}"
        if not edit.replace(node, code):
            return None
        return edit.fix(
            "Read debug from the environment, off by default", DEBUG_SAFETY.format(variable=variable) + note
        )
    setting = state.setting
    if setting is None or setting.path is None:
        return None
    new_name = "FLASK_DEBUG" if setting.name != "FLASK_DEBUG" else None
    new = variable_edit(project, setting.path, setting.line, setting.name, "0", new_name)
    if new is None:
        return None
    safety = DEBUG_SAFETY.format(variable="FLASK_DEBUG") + note
    return Fix(f"Turn debug off in {setting.origin}", safety, {setting.path: new})


def flag_fix(project: Project, flag: str) -> Fix | None:
    """Drop a debug flag (`--debug`) from the committed start command."""
    start = project.start_command
    if start is None or start.path is None or start.line is None:
        return None
    text = utf8_text(project, start.path)
    new = command_drop_word(text, start.line, flag) if text is not None else None
    if new is None or not still_parses(start.path, new):
        return None
    safety = DEBUG_SAFETY.format(variable="FLASK_DEBUG") + DEV_SERVER_NOTE
    return Fix(f"Drop `{flag}` from the start command ({start.source})", safety, {start.path: new})


def unwrap_fix(project: Project, use: ExtensionUse) -> Fix | None:
    """`DebuggedApplication(app, evalex=True)` -> `app`: the app served without the debugger."""
    edit = ModuleEdit.of(project, use.path)
    call = edit.locate(use.node, project.python(use.path)) if edit is not None else None
    if not isinstance(call, cst.Call) or not call.args or call.args[0].keyword is not None or call.args[0].star:
        return None
    if not edit.replace(call, call.args[0].value.with_changes(lpar=[], rpar=[])):
        return None
    return edit.fix(
        "Serve the app without `DebuggedApplication`",
        "The in-browser debugger is then gone everywhere; use `flask run --debug` on your own machine instead.",
    )


def _argument(call: DevRun, keyword: str, position: int | None) -> cst.BaseExpression | None:
    """An argument by keyword, or by position when the signature takes it positionally."""
    for index, arg in enumerate(call.call.args):
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
        if position is not None and arg.keyword is None and not arg.star and index == position:
            return arg.value
    return None


class DebuggerExposed(Rule):
    """
    ## What it does
    Flags a production start that serves the interactive Werkzeug debugger: a
    development-server start (`flask run`, `python app.py`, `python -m app`,
    Flask-Script's `manage.py runserver`) with debug on — `app.run(debug=True)`
    on the code the start runs, `flask run --debug`, `FLASK_DEBUG=1` in a
    committed `.flaskenv`/`.env`, the start command, the Dockerfile's `ENV`, or
    `FLASK_ENV=development` with Flask pinned below 2.3 — and an explicit
    `DebuggedApplication(...)` wrap on the production path, whatever the server.

    ## Why is this bad?
    The Werkzeug debugger shows an interactive Python console in the browser on
    every error page: whoever reaches it runs code on the server, reads its
    environment and its secrets. The console's PIN is printed to the logs and is
    derived from facts an attacker can often learn. Gunicorn never serves the
    debugger; the development server does whenever debug is on, and
    `DebuggedApplication` does under any server. `flask run` reads `.flaskenv`
    and `.env` when python-dotenv is installed, and `app.run()` loads them too,
    so a committed `FLASK_DEBUG=1` meant for a laptop turns the debugger on in
    production.

    ## Example
    ```
    # Procfile
    web: python app.py

    # app.py
    if __name__ == "__main__":
        app.run(host="0.0.0.0", port=int(os.environ.get("PORT", 5000)), debug=True)
    ```

    ## Use instead
    ```
    # Procfile
    web: gunicorn app:app

    # app.py: debug only when asked for, off by default
    if __name__ == "__main__":
        app.run(debug=os.environ.get("FLASK_DEBUG") == "1")
    ```

    ## How to fix
    Serve the app with gunicorn, and read debug from the environment with a default of off.

    ## Fix safety
    The autofix reads debug from the environment with a default of off
    (`os.environ.get("FLASK_DEBUG") == "1"`), turns a committed `FLASK_DEBUG=1` into
    `FLASK_DEBUG=0`, drops a `FLASK_DEBUG=1` prefix or a `--debug` flag from the start
    command, or unwraps `DebuggedApplication`. It leaves the development server itself
    to PF103. Set `FLASK_DEBUG=1` on your own machine to debug there.

    ## References
    - Werkzeug: Debugging Applications ("never use the debugger on a production machine")
    - Flask: Debug Mode, `flask run --debug`, Environment Variables From dotenv
    - Flask 2.3 changelog: `FLASK_ENV` removed
    """

    id = "PF301"
    slug = "debugger-exposed"
    severity = Severity.BLOCKER
    title = "Werkzeug debugger exposed in production"

    def check(self, project: Project) -> Iterator[Finding]:
        run = project.server_run
        if run is not None and run.kind in DEV_SERVER_KINDS:
            if run.kind == "flask-run":
                yield from self._flask_run(project)
            elif run.kind == "manage":
                yield from self._manage(project)
            else:
                yield from self._script(project)
        yield from self._debugged_application(project)

    # -- flask run -------------------------------------------------------------

    def _flask_run(self, project: Project) -> Iterator[Finding]:
        run, start = project.server_run, project.start_command
        argv = run.argv
        command = " ".join(run.command.argv)
        if "--no-debugger" in argv:
            return
        where = f"{start.source} runs `{command}`"
        for flag in ("--debugger", "--debug"):
            if flag in argv and not (flag == "--debug" and "--no-debug" in argv):
                finding = self.finding(
                    f"{where}: `{flag}` serves the interactive Werkzeug debugger",
                    start.path,
                    start.line,
                    subject=f"flask run {flag}",
                    evidence=[f"{start.source}: `{command}`"],
                )
                finding.fix = flag_fix(project, flag)
                yield finding
                return
        if "--no-debug" in argv:
            return
        state = env_debug(project)
        if state is None or not state.on:
            return
        setting = state.setting
        read = " (loaded because python-dotenv is installed)" if setting.path in project.env_files else ""
        finding = self.finding(
            f"{where} with {state.reason}{read}{state.below_2_3}: the Werkzeug debugger is served",
            state.path or start.path,
            state.line or start.line,
            subject=f"flask run {setting.name}",
            evidence=[f"{start.source}: `{command}`", *state.evidence],
        )
        finding.fix = debug_off_fix(project, state)
        yield finding

    # -- Flask-Script --------------------------------------------------------------

    def _manage(self, project: Project) -> Iterator[Finding]:
        run, start = project.server_run, project.start_command
        command = " ".join(run.command.argv)
        where = f"{start.source} runs `{command}`"
        if "-D" in run.argv or "--no-debug" in run.argv:
            return
        if "-d" in run.argv or "--debug" in run.argv:
            finding = self.finding(
                f"{where}: `--debug` serves the interactive Werkzeug debugger",
                start.path,
                start.line,
                subject="runserver --debug",
                evidence=[f"{start.source}: `{command}`"],
            )
            finding.fix = flag_fix(project, "-d" if "-d" in run.argv else "--debug")
            yield finding
            return
        production = project.production
        state = config_debug(production.config) or env_debug(project)
        if state is None or not state.on:
            return
        finding = self.finding(
            f"{where}, which serves the Werkzeug debugger when `app.debug` is on: {state.reason}{state.below_2_3}",
            state.path or start.path,
            state.line or start.line,
            subject="runserver app.debug",
            evidence=[*production.entry.evidence, *state.evidence][:7],
        )
        finding.fix = debug_off_fix(project, state)
        yield finding

    # -- python FILE.py / python -m --------------------------------------------------

    def _script(self, project: Project) -> Iterator[Finding]:
        production = project.production
        start = project.start_command
        for path in production.modules:
            data = project.raw(path) or b""
            if b".run(" not in data and b"run_simple" not in data:
                continue
            module = project.python(path)
            if module is None:
                continue
            for call in dev_server_calls(project, module):
                step = production.reach.step_of(call.call)
                if step is None or step.conditional:
                    continue
                state = self._run_debug(project, production, call, step)
                if state is None or not state.on:
                    continue
                what = "run_simple()" if call.kind == "run_simple" else f"{call.receiver}.run()"
                finding = self.finding(
                    f"{start.source} runs `{project.server_run.command}`, whose `{what}` ({path}:{call.line}) serves "
                    f"the Werkzeug debugger: {state.reason}{state.below_2_3}",
                    state.path or path,
                    state.line or call.line,
                    subject=f"{what} debug",
                    evidence=[*production.why(path), *state.evidence][:7],
                )
                finding.fix = debug_off_fix(project, state)
                yield finding
                return

    def _run_debug(self, project: Project, production: ProductionPath, call: DevRun, step) -> DebugState | None:
        """Debug as the call decides it: its own argument, else what Flask.run reads (FLASK_DEBUG after
        loading .env/.flaskenv), else `app.debug` from the config."""
        app_run = call.kind == "app.run"

        def given(keyword: str, position: int | None) -> DebugState | None:
            expr = _argument(call, keyword, position)
            if expr is None:
                return None
            value = production.evaluator.evaluate(expr, step.scope, step.node)
            plain = value.effective
            if isinstance(plain, Known) and plain.value is None and keyword == "debug":
                return None  # debug=None is the default: app.debug decides
            code = step.module.code(expr)
            shown = "" if code in ("True", "False", "1", "0") else f" ({describe(plain)})"
            reason = f"`{keyword}={code}`{shown}"
            return DebugState(plain.truthy(), reason, None, step.path, call.line, value.trace[:3], expr, step.module)

        if call.kind == "run_simple":  # run_simple(hostname, port, application, use_reloader, use_debugger)
            return given("use_debugger", 4)
        state = given("use_debugger", None) or given("debug", 2 if app_run else None)
        if state is not None:
            return state
        load = _argument(call, "load_dotenv", 3 if app_run else None)
        loads_dotenv = load is None or production.evaluator.evaluate(load, step.scope, step.node).truthy() is not False
        state = env_debug(project, dotenv_files=loads_dotenv)
        if state is not None:
            return state
        app = self._app_of(production, call, step)
        return config_debug(production.config_for(app) if app is not None else production.config)

    @staticmethod
    def _app_of(production: ProductionPath, call: DevRun, step) -> ObjectRef | None:
        if call.kind == "socketio.run":
            expr = call.argument("app", 0)
        else:
            func = call.call.func
            expr = func.value if isinstance(func, cst.Attribute) else None
        if expr is None:
            return None
        value = production.evaluator.evaluate(expr, step.scope, step.node).effective
        if isinstance(value, Known) and isinstance(value.value, ObjectRef) and value.value.is_flask_app:
            return value.value
        return None

    # -- DebuggedApplication -----------------------------------------------------------

    def _debugged_application(self, project: Project) -> Iterator[Finding]:
        if not project.python_paths_containing(b"DebuggedApplication"):
            return
        production = project.production
        for use in production.extension("debugged_application"):
            if use.conditional:
                continue
            evalex = use.argument("evalex", 1)
            console = evalex is not None and evalex.effective.truthy() is True
            what = "any visitor can run Python in its console" if console else "every error page shows the traceback"
            finding = self.finding(
                f"`DebuggedApplication({use.wrapped or ''})` wraps the app on the production path ({use.where}): {what}",
                use.path,
                use.line,
                subject="DebuggedApplication",
                evidence=production.why(use.path)[:5],
            )
            finding.fix = unwrap_fix(project, use)
            yield finding

    VALID = [
        Example(
            {"Procfile": "web: gunicorn app:app\n", "app.py": GUARDED_RUN},
            note="gunicorn never runs the __main__ block and never serves the debugger",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": "from app import create_app\n\napp = create_app('default')\n",
                "app/__init__.py": FACTORY,
                "config.py": CONFIG_PY,
            },
            note="DEBUG=True under gunicorn is PF306, not a debugger",
        ),
        Example(
            {
                "Procfile": "web: python app.py\n",
                "app.py": "import os\n"
                + FLASK_APP
                + '\nif __name__ == "__main__":\n'
                + '    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", 5000)),\n'
                + '            debug=os.environ.get("FLASK_DEBUG") == "1")\n',
            },
            note="FLASK_DEBUG is unset in production: debug is off (PF103 still flags the dev server)",
        ),
        Example(
            {
                "Procfile": "web: python app.py\n",
                "app.py": "import os as _os\n"
                + FLASK_APP
                + '\nif __name__ == "__main__":\n    app.run(host="0.0.0.0", debug=_os.getenv("DEBUG"))\n',
            },
            platform={"variables": ["DEBUG"]},
            note="the platform sets DEBUG, value unknown: no finding",
        ),
        Example(
            {"Procfile": "web: flask run --host 0.0.0.0\n", ".flaskenv": "FLASK_APP=app\n", "app.py": FLASK_APP},
            note="flask run without debug",
        ),
        Example(
            {
                "Procfile": "web: flask run --host 0.0.0.0\n",
                ".flaskenv": "FLASK_ENV=development\n",
                "requirements.txt": "flask==3.0.3\npython-dotenv\n",
                "app.py": FLASK_APP,
            },
            note="FLASK_ENV does nothing since Flask 2.3 (PF302)",
        ),
        Example(
            {"Procfile": "web: gunicorn app:app\n", ".flaskenv": "FLASK_DEBUG=1\n", "app.py": FLASK_APP},
            note=".flaskenv is read only by flask run",
        ),
        Example(
            {
                "Procfile": "web: python run.py\n",
                "run.py": "from werkzeug.serving import run_simple\nfrom app import app\n\n"
                "run_simple('0.0.0.0', 8000, app, use_reloader=False)\n",
                "app.py": FLASK_APP,
            },
            note="run_simple without use_debugger",
        ),
        Example(
            {
                "Procfile": "web: flask run --host 0.0.0.0 --no-debugger\n",
                ".flaskenv": "FLASK_DEBUG=1\n",
                "requirements.txt": "flask\npython-dotenv\n",
                "app.py": FLASK_APP,
            },
        ),
        Example(
            {
                "Procfile": "web: flask run\n",
                ".flaskenv": "FLASK_DEBUG=1\n",
                "requirements.txt": "flask\npython-dotenv\n",
                "app.py": FLASK_APP,
            },
            platform={"variables": ["FLASK_DEBUG"]},
            note="a platform variable wins over .flaskenv; its value is unknown",
        ),
    ]
    INVALID = [
        Example(
            {"Procfile": "web: python app.py\n", "app.py": GUARDED_RUN},
            expect="`debug=True`",
            fixed={
                "app.py": "import os\n"
                + FLASK_APP
                + '\nif __name__ == "__main__":\n'
                + '    app.run(host="0.0.0.0", port=5000, debug=os.environ.get("FLASK_DEBUG") == "1")\n'
            },
        ),
        Example(
            {
                "Procfile": "web: flask run --host=0.0.0.0 --port=$PORT\n",
                ".flaskenv": "FLASK_APP=app.py\nFLASK_DEBUG=1\n",
                "requirements.txt": "flask==3.0.3\npython-dotenv==1.0.1\n",
                "app.py": FLASK_APP,
            },
            expect=".flaskenv:2",
            fixed={".flaskenv": "FLASK_APP=app.py\nFLASK_DEBUG=0\n"},
        ),
        Example(
            {"Procfile": "web: flask --app app run --debug --host 0.0.0.0\n", "app.py": FLASK_APP}, expect="--debug"
        ),
        Example(
            {"railway.toml": '[deploy]\nstartCommand = "FLASK_DEBUG=1 flask run -h 0.0.0.0"\n', "app.py": FLASK_APP},
            expect="`FLASK_DEBUG=1`",
            fixed={"railway.toml": '[deploy]\nstartCommand = "flask run -h 0.0.0.0"\n'},
        ),
        Example(
            {
                "Dockerfile": "FROM python:3.12-slim\nENV FLASK_DEBUG=true\nCOPY . .\n"
                'CMD ["flask", "run", "--host=0.0.0.0"]\n',
                "app.py": FLASK_APP,
            },
            expect="Dockerfile:2",
            fixed={
                "Dockerfile": 'FROM python:3.12-slim\nENV FLASK_DEBUG=0\nCOPY . .\nCMD ["flask", "run", "--host=0.0.0.0"]\n'
            },
        ),
        Example(
            {
                "Procfile": "web: flask run --host 0.0.0.0\n",
                ".env": "FLASK_ENV=development\n",
                "requirements.txt": "Flask==2.0.3\npython-dotenv\n",
                "app.py": FLASK_APP,
            },
            expect="pinned below 2.3",
            fixed={".env": "FLASK_DEBUG=0\n"},
        ),
        Example(
            {
                "Procfile": "web: python manage.py runserver -h 0.0.0.0\n",
                "manage.py": "import os\nfrom flask_script import Manager\nfrom app import create_app\n\n"
                "app = create_app(os.getenv('FLASK_CONFIG') or 'default')\nmanager = Manager(app)\n\n"
                "if __name__ == '__main__':\n    manager.run()\n",
                "app/__init__.py": FACTORY,
                "config.py": CONFIG_PY,
            },
            expect="DevelopmentConfig",
            fixed={
                "config.py": CONFIG_PY.replace(
                    "class DevelopmentConfig(Config):\n    DEBUG = True\n",
                    "class DevelopmentConfig(Config):\n    DEBUG = os.environ.get('FLASK_DEBUG') == '1'\n",
                )
            },
            note="flasky: runserver follows app.debug, and the default config is DevelopmentConfig",
        ),
        Example(
            {
                "Procfile": "web: python -m shop\n",
                "shop/__init__.py": FLASK_APP,
                "shop/__main__.py": "from shop import app\n\napp.config['DEBUG'] = True\napp.run(host='0.0.0.0')\n",
            },
            expect="`DEBUG`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:application\n",
                "wsgi.py": "from werkzeug.debug import DebuggedApplication\nfrom app import app\n\n"
                "application = DebuggedApplication(app, evalex=True)\n",
                "app.py": FLASK_APP,
            },
            expect="DebuggedApplication(app)",
            fixed={"wsgi.py": "from app import app\n\napplication = app\n"},
        ),
        Example(
            {
                "Procfile": "web: python run.py\n",
                "run.py": "from flask_socketio import SocketIO\nfrom chat import app\n\nsocketio = SocketIO(app)\n\n"
                "if __name__ == '__main__':\n    socketio.run(app, host='0.0.0.0', debug=True)\n",
                "chat.py": FLASK_APP,
            },
            expect="socketio.run()",
        ),
        Example(
            {
                "services/web/Procfile": "web: python app.py\n",
                "services/web/app.py": "import os\nfrom dotenv import load_dotenv\n\nload_dotenv()\n"
                + FLASK_APP
                + "\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', port=int(os.environ.get('PORT', 5000)))\n",
                "services/web/.env": "FLASK_DEBUG=1\n",
                "services/web/requirements.txt": "flask\npython-dotenv\n",
            },
            app_root="services/web",
            expect="services/web/.env:1",
            note="monorepo: the committed .env sets FLASK_DEBUG, which app.run() follows",
        ),
        Example(
            {
                "Procfile": "web: python run.py\r\n",
                "run.py": (
                    "from shop import create_app\r\n\r\napp = create_app()\r\n\r\n"
                    'if __name__ == "__main__":\r\n'
                    '    app.run(\r\n        host="0.0.0.0",\r\n        debug=True,  # handy while developing\r\n    )\r\n'
                ),
                "shop/__init__.py": "from flask import Flask\r\n\r\n\r\ndef create_app():\r\n    return Flask(__name__)\r\n",
            },
            expect="`debug=True`",
            fixed={
                "run.py": (
                    "import os\r\nfrom shop import create_app\r\n\r\napp = create_app()\r\n\r\n"
                    'if __name__ == "__main__":\r\n    app.run(\r\n        host="0.0.0.0",\r\n'
                    '        debug=os.environ.get("FLASK_DEBUG") == "1",  # handy while developing\r\n    )\r\n'
                )
            },
            note="Windows line endings, an app factory, arguments over several lines with a comment",
        ),
        Example(
            {
                "Procfile": "web: flask run --host 0.0.0.0\n",
                ".flaskenv": "# local settings\r\nFLASK_APP=app.py\r\nFLASK_DEBUG=true  # remove before deploying\r\n",
                "requirements.txt": "flask\npython-dotenv",
                "app.py": FLASK_APP,
            },
            expect=".flaskenv:3",
            fixed={".flaskenv": "# local settings\r\nFLASK_APP=app.py\r\nFLASK_DEBUG=0  # remove before deploying\r\n"},
            note="Windows line endings and comments in the env file; a requirements file with no final newline",
        ),
    ]
