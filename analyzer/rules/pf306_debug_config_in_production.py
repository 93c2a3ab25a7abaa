from __future__ import annotations

from collections.abc import Iterator

from analyzer.prodpath import Known, Setting
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.rules.pf301_debugger_exposed import DebugState, debug_off_fix, env_debug
from analyzer.startcmd import WSGI_SERVERS

WAITRESS_SERVE = frozenset({"waitress.serve"})

CONFIG_PY = (
    "import os\n\n\n"
    "class Config:\n    SECRET_KEY = os.environ.get('SECRET_KEY')\n    SQLALCHEMY_TRACK_MODIFICATIONS = False\n\n\n"
    "class DevelopmentConfig(Config):\n    DEBUG = True\n\n\n"
    "class TestingConfig(Config):\n    TESTING = True\n\n\n"
    "class ProductionConfig(Config):\n    pass\n\n\n"
    "config = {\n    'development': DevelopmentConfig,\n    'testing': TestingConfig,\n"
    "    'production': ProductionConfig,\n    'default': DevelopmentConfig,\n}\n"
)
FACTORY = (
    "from flask import Flask\n\nfrom config import config\n\n\n"
    "def create_app(config_name):\n    app = Flask(__name__)\n    app.config.from_object(config[config_name])\n"
    "    return app\n"
)
FLASKY = {
    "Procfile": "web: gunicorn wsgi:app\n",
    "config.py": CONFIG_PY,
    "app/__init__.py": FACTORY,
    "wsgi.py": "import os\n\nfrom app import create_app\n\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
}
FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"


class DebugConfigInProduction(Rule):
    """
    ## What it does
    Flags DEBUG switched on in the config the production path loads while a
    WSGI server (gunicorn, waitress, uWSGI, ...) serves the app: `app.debug =
    True`, `app.config["DEBUG"] = True`, `DEBUG = True` in the config class or
    module the production path selects, an environment read whose fallback is
    on when the variable is unset (`os.environ.get("DEBUG", True)`), a string
    such as `"False"` (truthy), or `FLASK_DEBUG=1` set for the image, which
    Flask reads into `DEBUG` when the app is created.

    ## Why is this bad?
    Gunicorn never serves the Werkzeug debugger, but a debug app still behaves
    like a development one: exceptions propagate to the server instead of
    becoming 500 pages through your error handlers, templates are re-read from
    disk on every request, and debug-only extensions such as Flask-DebugToolbar
    switch on and show internals to every visitor. The usual cause is a factory
    whose default config name selects `DevelopmentConfig` when `FLASK_CONFIG` is
    not set on the platform.

    ## Example
    ```
    # wsgi.py
    app = create_app(os.getenv("FLASK_CONFIG") or "default")  # "default": DevelopmentConfig, DEBUG = True
    ```

    ## Use instead
    ```
    # config.py
    class Config:
        DEBUG = os.environ.get("FLASK_DEBUG") == "1"

    # wsgi.py
    app = create_app(os.getenv("FLASK_CONFIG") or "production")
    ```

    ## How to fix
    Read DEBUG from the environment with a default of off, and make the production config the default.

    ## Fix safety
    The autofix makes DEBUG `os.environ.get("FLASK_DEBUG") == "1"` (the app's own
    variable when it reads one), or turns a committed `FLASK_DEBUG=1` into
    `FLASK_DEBUG=0`: debug is then off unless the variable is `1`.

    ## References
    - Flask: Configuration Handling, `DEBUG` and `FLASK_DEBUG`
    - Flask: Deploying to Production
    """

    id = "PF306"
    slug = "debug-config-in-production"
    severity = Severity.MEDIUM
    title = "DEBUG on in production config"

    def check(self, project: Project) -> Iterator[Finding]:
        server = self._wsgi_server(project)
        if server is None:
            return
        production = project.production
        config = production.config
        setting = config.get("DEBUG") if config is not None else None
        if setting is not None:
            yield from self._setting(project, setting, config.evidence, server)
            return
        state = env_debug(project)
        if state is None or not state.on:
            return
        finding = self.finding(
            f"{state.reason} turns `DEBUG` on (Flask reads it when the app is created) while {server} serves the app",
            state.path,
            state.line,
            subject=state.setting.name,
            evidence=[*production.entry.evidence, *state.evidence],
        )
        finding.fix = debug_off_fix(project, state, dev_server=False)
        yield finding

    def _setting(self, project: Project, setting: Setting, selection: list[str], server: str) -> Iterator[Finding]:
        value = setting.value
        plain = value.effective
        if setting.conditional or not isinstance(plain, Known) or plain.truthy() is not True:
            return
        how = ""
        if value.env:
            environment = project.production.environment
            unset = [name for name in value.env if not environment.is_set(name)]
            if unset:
                how = f": `{unset[0]}` is not set in production, so the fallback applies"
            else:
                how = f": {environment.source(value.env[0]).describe(value.env[0])}"
        if isinstance(plain.value, str):
            how += f"; the string {plain.value!r} is truthy"
        if setting.source.startswith("`"):  # set on the app directly: `app.debug = True`, `app.config[...]`
            chosen: list[str] = []
            what = f"{setting.source} turns `DEBUG` on in production"
        else:  # a class or module loaded by from_object/from_pyfile: say why that one is loaded
            chosen = selection
            what = f"`DEBUG` is on in {setting.source}, the config the production path loads,"
        finding = self.finding(
            f"{what} while {server} serves the app{how}",
            setting.path,
            setting.line,
            subject=f"DEBUG in {setting.defined_in.name if setting.defined_in else setting.path}",
            evidence=list(dict.fromkeys([*setting.evidence, *chosen]))[:7],
        )
        state = DebugState(True, "", None, setting.path, setting.line, (), value.node, value.module)
        finding.fix = debug_off_fix(project, state, dev_server=False)
        yield finding

    @staticmethod
    def _wsgi_server(project: Project) -> str | None:
        """The WSGI server that serves the app; None for a development server or no start command."""
        run = project.server_run
        if run is None:
            return None
        if run.kind in WSGI_SERVERS:
            return run.kind
        if run.kind not in ("python-file", "python-module") or not project.python_paths_containing(b"waitress"):
            return None
        for call, step in project.production.reach.calls():
            if not step.conditional and step.module.qualified_names(call.func) & WAITRESS_SERVE:
                return f"waitress (`serve()` at {step.path}:{step.module.line(call)})"
        return None

    VALID = [
        Example(
            {**FLASKY, "wsgi.py": FLASKY["wsgi.py"].replace("'default'", "'production'")},
            note="DevelopmentConfig is not selected: the factory's default is production",
        ),
        Example(
            FLASKY,
            platform={"variables": ["FLASK_CONFIG", "SECRET_KEY"]},
            note="FLASK_CONFIG is set on the platform: which class is loaded is unknown",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "app/__init__.py": "import os as _os\nfrom flask import Flask\n\n\ndef create_app():\n"
                "    app = Flask(__name__)\n    app.config['DEBUG'] = _os.environ.get('FLASK_DEBUG') == '1'\n"
                "    return app\n",
            },
            note="read from the environment, default off",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os\n" + FLASK_APP + "app.config['DEBUG'] = os.getenv('DEBUG')\n",
            },
            platform={"variables": ["DEBUG"]},
            note="the platform sets DEBUG; its value is unknown",
        ),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "gunicorn app:app"}}',
                "app.py": FLASK_APP + "app.config.from_object('settings.ProductionConfig')\n",
                "settings.py": "class DevelopmentConfig:\n    DEBUG = True\n\n\nclass ProductionConfig:\n    DEBUG = False\n",
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": FLASK_APP + "\nif __name__ == '__main__':\n    app.debug = True\n",
            },
            note="the __main__ block does not run under gunicorn",
        ),
        Example(
            {"Procfile": "web: flask run --host 0.0.0.0\n", "app.py": FLASK_APP + "app.config['DEBUG'] = True\n"},
            note="a development server is PF103/PF301, not this rule",
        ),
        Example(
            {"Procfile": "web: gunicorn app:app\n", ".flaskenv": "FLASK_DEBUG=1\n", "app.py": FLASK_APP},
            note="gunicorn does not read .flaskenv",
        ),
    ]
    INVALID = [
        Example(
            FLASKY,
            expect="DevelopmentConfig",
            fixed={
                "config.py": CONFIG_PY.replace(
                    "    DEBUG = True\n", "    DEBUG = os.environ.get('FLASK_DEBUG') == '1'\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "app/__init__.py": "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                "    app.config['DEBUG'] = True\n    return app\n",
            },
            expect="gunicorn",
            fixed={
                "app/__init__.py": "import os\nfrom flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                "    app.config['DEBUG'] = os.environ.get('FLASK_DEBUG') == '1'\n    return app\n"
            },
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\n',
                "app.py": FLASK_APP + "app.debug = True\n",
            },
            expect="`app.debug = True`",
            fixed={"app.py": "import os\n" + FLASK_APP + 'app.debug = os.environ.get("FLASK_DEBUG") == "1"\n'},
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": FLASK_APP + "app.config.from_object('settings')\n",
                "settings.py": "import os\n\nDEBUG = os.environ.get('DEBUG', True)\n",
            },
            expect="`DEBUG` is not set in production",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os\n" + FLASK_APP + "app.config['DEBUG'] = os.getenv('DEBUG', 'False')\n",
            },
            expect="'False' is truthy",
        ),
        Example(
            {
                "Dockerfile": "FROM python:3.12-slim\nENV FLASK_DEBUG=1\nCOPY . .\n"
                'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
                "app.py": FLASK_APP,
            },
            expect="`FLASK_DEBUG=1` from Dockerfile:2",
            fixed={
                "Dockerfile": "FROM python:3.12-slim\nENV FLASK_DEBUG=0\nCOPY . .\n"
                'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n'
            },
        ),
        Example(
            {
                "backend/Procfile": "web: waitress-serve --port=$PORT main:app\n",
                "backend/main.py": FLASK_APP + "app.config.from_object('config.Config')\n",
                "backend/config.py": "class Config:\n    DEBUG = True\n",
            },
            app_root="backend",
            expect="waitress",
            fixed={
                "backend/config.py": 'import os\n\n\nclass Config:\n    DEBUG = os.environ.get("FLASK_DEBUG") == "1"\n'
            },
        ),
        Example(
            {
                "Procfile": "web: python serve.py\n",
                "serve.py": "import os\nfrom waitress import serve\n\nfrom app import app\n\n"
                "serve(app, host='0.0.0.0', port=int(os.environ['PORT']))\n",
                "app.py": FLASK_APP + "app.config.update(DEBUG=True)\n",
            },
            expect="waitress (`serve()` at serve.py:6)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'blog:create_app()'\r\n",
                "blog/__init__.py": (
                    '"""Blog."""\r\nfrom __future__ import annotations\r\n\r\nfrom flask import Flask\r\n\r\n\r\n'
                    "def create_app() -> Flask:\r\n    app = Flask(__name__)\r\n"
                    "    app.config.from_mapping(\r\n        DEBUG=True,  # TODO\r\n        JSON_SORT_KEYS=False,\r\n    )\r\n"
                    "    return app\r\n"
                ),
            },
            expect="`app.config.from_mapping(",
            fixed={
                "blog/__init__.py": (
                    '"""Blog."""\r\nfrom __future__ import annotations\r\n\r\nimport os\r\nfrom flask import Flask\r\n\r\n\r\n'
                    "def create_app() -> Flask:\r\n    app = Flask(__name__)\r\n"
                    '    app.config.from_mapping(\r\n        DEBUG=os.environ.get("FLASK_DEBUG") == "1",  # TODO\r\n'
                    "        JSON_SORT_KEYS=False,\r\n    )\r\n    return app\r\n"
                )
            },
            note="Windows line endings; `import os` goes after the docstring and `from __future__`",
        ),
    ]
