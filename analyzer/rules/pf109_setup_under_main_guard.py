from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
import libcst.matchers as m

from analyzer.project import Project
from analyzer.pysource import PyModule, main_guard_blocks
from analyzer.pyvalues import literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

APP = "from flask import Flask\n\napp = Flask(__name__)\n"
CONFIG_LOADERS = frozenset(
    {"from_object", "from_pyfile", "from_mapping", "from_envvar", "from_prefixed_env", "from_file"}
)
SERVERS_THAT_IMPORT = frozenset({"gunicorn", "waitress", "uwsgi", "uvicorn", "hypercorn", "flask-run"})
# Settings for a developer's run: production is better off without them, so setting them only under
# the main guard is right (`app.debug = True` is not set-up either).
DEVELOPMENT_KEYS = frozenset(
    {"DEBUG", "TESTING", "ENV", "TEMPLATES_AUTO_RELOAD", "EXPLAIN_TEMPLATE_LOADING", "SQLALCHEMY_ECHO"}
)


def setup_steps(module: PyModule, block: cst.If) -> list[tuple[str, int]]:
    """App set-up done inside a main guard: (what, line)."""
    steps: list[tuple[str, int]] = []
    for call in m.findall(block.body, m.Call()):
        func = call.func
        if isinstance(func, cst.Attribute):
            name = func.attr.value
            if name in ("init_app", "register_blueprint"):
                steps.append((module.code(call).split("(")[0] + "()", module.line(call)))
            elif name in CONFIG_LOADERS or (
                name == "update"
                and isinstance(func.value, cst.Attribute)
                and func.value.attr.value == "config"
                and not _development_only(call)
            ):
                steps.append((module.code(func) + "()", module.line(call)))
        qualified = module.qualified_names(func)
        if any(q.startswith("flask_") for q in qualified) and call.args and isinstance(call.args[0].value, cst.Name):
            steps.append((f"{module.code(func)}({call.args[0].value.value})", module.line(call)))
    for assign in m.findall(block.body, m.Assign()):
        for target in assign.targets:
            code = module.code(target.target)
            key = _config_key(target.target)
            if code.endswith((".secret_key", ".config")) or (".config[" in code and key not in DEVELOPMENT_KEYS):
                steps.append((f"{code} = ...", module.line(assign)))
    return sorted(steps, key=lambda step: step[1])


def _config_key(target: cst.BaseExpression) -> str | None:
    """K of `app.config["K"]`."""
    if isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
        value = literal(target.slice[0].slice.value)
        return value if isinstance(value, str) else None
    return None


def _development_only(call: cst.Call) -> bool:
    """`app.config.update(DEBUG=True)`: only development settings, by keyword."""
    keywords = [arg.keyword.value for arg in call.args if arg.keyword is not None]
    return bool(keywords) and len(keywords) == len(call.args) and all(key in DEVELOPMENT_KEYS for key in keywords)


class SetupUnderMainGuard(Rule):
    """
    ## What it does
    Flags the module the server loads when it finishes setting up the app only
    under `if __name__ == "__main__":` — extensions' `init_app`, blueprint
    registration, config loading, the secret key.

    ## Why is this bad?
    Gunicorn (and `flask run`) import the module; `__name__` is then the module's
    name, so the guarded block never runs. The app starts half-built: routes of
    unregistered blueprints return 404, an extension without `init_app` raises at
    the first request, and the config is the default one.

    ## Example
    ```python
    app = Flask(__name__)

    if __name__ == "__main__":
        app.register_blueprint(api)
        app.run()
    ```

    ## Use instead
    ```python
    app = Flask(__name__)
    app.register_blueprint(api)

    if __name__ == "__main__":
        app.run()
    ```

    ## How to fix
    Move the set-up to module level or into the app factory; keep only `app.run()` under the guard.

    ## References
    - Python: `__main__` — top-level code environment
    - Flask: Application factories
    """

    id = "PF109"
    slug = "setup-under-main-guard"
    severity = Severity.HIGH
    title = "App set-up under the main guard"

    def check(self, project: Project) -> Iterator[Finding]:
        served = project.wsgi_target
        if served is None or served.run.kind not in SERVERS_THAT_IMPORT or not served.target.path:
            return
        module = project.python(served.target.path)
        if module is None:
            return
        for block in main_guard_blocks(module.tree):
            steps = setup_steps(module, block)
            if not steps:
                continue
            shown = ", ".join(f"`{what}`" for what, _ in steps[:3])
            more = f" and {len(steps) - 3} more" if len(steps) > 3 else ""
            yield self.finding(
                f'`{module.path}` runs {shown}{more} only under `if __name__ == "__main__":`; '
                f"{served.run.kind.replace('-run', ' run')} imports the module, so the app starts without it",
                module.path,
                steps[0][1],
                subject=steps[0][0],
            )

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP + "\nif __name__ == '__main__':\n    app.debug = True\n    app.config['DEBUG'] = True\n"
                "    app.config.update(TEMPLATES_AUTO_RELOAD=True)\n    app.run()\n",
            },
            note="development settings belong under the guard: production is better off without them",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP
                + "from views import bp\napp.register_blueprint(bp)\n\nif __name__ == '__main__':\n    app.run()\n",
                "views.py": "from flask import Blueprint\nbp = Blueprint('v', __name__)\n",
            }
        ),
        Example(
            {
                "Procfile": "web: python app.py\n",
                "app.py": APP + "\nif __name__ == '__main__':\n    app.config.from_object('config')\n    app.run()\n",
            },
            note="run as a script, the guard does run (PF103 covers the dev server)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "app.py": "from flask import Flask\nfrom ext import db\n\ndef create_app():\n    app = Flask(__name__)\n"
                "    db.init_app(app)\n    return app\n\nif __name__ == '__main__':\n    create_app().run(debug=True)\n",
                "ext.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": APP,
                "manage.py": APP + "\nif __name__ == '__main__':\n    app.config.from_object('x')\n",
            },
            note="manage.py is not what the server loads",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP
                + "from views import bp\n\nif __name__ == '__main__':\n    app.register_blueprint(bp)\n    app.run()\n",
                "views.py": "from flask import Blueprint\nbp = Blueprint('v', __name__)\n",
            },
            expect="app.register_blueprint()",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy as SA\n\napp = Flask(__name__)\n\n"
                "if __name__ == '__main__':\n    db = SA(app)\n    app.run()\n",
            },
            expect="SA(app)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn server:app\n",
                "server.py": APP + "\nif __name__ == '__main__':\n    app.config.from_pyfile('settings.cfg')\n"
                "    app.secret_key = 'x'\n    app.run()\n",
            },
            expect="from_pyfile",
        ),
        Example(
            {
                "Procfile": "web: flask --app site run --host 0.0.0.0\n",
                "site.py": APP + "from ext import login\n\nif __name__ == '__main__':\n    login.init_app(app)\n",
                "ext.py": "from flask_login import LoginManager\nlogin = LoginManager()\n",
            },
            expect="login.init_app()",
        ),
    ]
