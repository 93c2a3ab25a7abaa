from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

import libcst as cst

from analyzer.prodpath import REPO_ROOT, ExtensionUse, Known, ObjectRef, ProductionPath, Value
from analyzer.project import Project
from analyzer.pyvalues import literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.startcmd import commands_run, uses_docker

# Files a folder keeps only so that git tracks it; they are not static assets.
PLACEHOLDERS = frozenset({".gitkeep", ".keep", ".gitignore", ".DS_Store"})
NGINX = re.compile(r"\bnginx\b")
PROCFILE = "web: gunicorn wsgi:app\n"
FACTORY = (
    "from flask import Flask\n\n\n"
    "def create_app():\n"
    "    app = Flask(__name__)\n"
    "    from .main import main as main_blueprint\n\n"
    "    app.register_blueprint(main_blueprint)\n"
    "    return app\n"
)
WSGI = "from app import create_app\n\napp = create_app()\n"
MAIN_BP = "from flask import Blueprint\n\nmain = Blueprint('main', __name__)\n"


class StaticWithoutWhiteNoise(Rule):
    """
    ## What it does
    Flags a served Flask app whose committed static folder (`static/` beside
    the app or a blueprint, or the folder `static_folder=` names) is served by
    Flask alone, and a WhiteNoise wrap without a `prefix`.

    ## Why is this bad?
    Flask serves static files correctly behind Railway's proxy, but each
    stylesheet and image goes through Flask's routing and `send_file`, with
    `Cache-Control: no-cache` (the Flask 2.0+ default, `SEND_FILE_MAX_AGE_DEFAULT
    = None`), so browsers revalidate every file on every page view, and nothing
    is compressed. WhiteNoise answers those requests in the WSGI layer before
    Flask, with far-future caching for hashed file names
    (`immutable_file_test`) and the gzip and brotli variants
    `python -m whitenoise.compress` writes next to the files. A
    `WhiteNoise(app.wsgi_app, root=...)` without `prefix` serves the files at
    the URL root (`/css/site.css`), so the `url_for('static', ...)` links the
    templates emit (`/static/css/site.css`) still go through Flask. nginx in
    the image, serving the folder itself, is not flagged.

    ## Example
    ```python
    app = Flask(__name__)  # app/static/ holds the CSS, JS and images
    ```

    ## Use instead
    ```python
    from whitenoise import WhiteNoise

    app = Flask(__name__)
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix=app.static_url_path)
    ```

    ## How to fix
    Declare `whitenoise` in the requirements and wrap the app: `app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix=app.static_url_path)`.

    ## References
    - WhiteNoise: Using WhiteNoise with Flask (`root`, `prefix`, `add_files`)
    - Flask: `SEND_FILE_MAX_AGE_DEFAULT` (no caching by default since 2.0)
    """

    id = "PF501"
    slug = "static-without-whitenoise"
    severity = Severity.LOW
    title = "Static files served by Flask"

    def check(self, project: Project) -> Iterator[Finding]:
        if not project.discovery.apps:
            return
        production = project.production
        app = production.app
        if app is None:
            return
        folders = _served_folders(project, production, app)
        if not folders or _nginx_in_front(project):
            return
        shown = ", ".join(folders)
        wraps = production.extension("whitenoise")
        if not wraps:
            message = f"Flask alone serves {shown}: no WhiteNoise wrap on the app"
        elif _has_prefix(production, wraps):
            return
        else:
            where = ", ".join(wrap.where for wrap in wraps)
            message = (
                f"WhiteNoise ({where}) has no `prefix`: it serves files at the URL root, "
                f"so `url_for('static', ...)` links to {shown} still go through Flask"
            )
        evidence = production.why(app.path)[-3:]
        yield self.finding(message, app.path, app.line, subject="static files", evidence=evidence)

    VALID = [
        Example(
            {
                "Procfile": PROCFILE,
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY.replace(
                    "    return app\n",
                    "    app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix='static/')\n"
                    "    return app\n",
                ).replace("from flask import Flask\n", "from flask import Flask\nfrom whitenoise import WhiteNoise\n"),
                "app/main.py": MAIN_BP,
                "app/static/css/site.css": "body { margin: 0 }\n",
            },
            note="a WhiteNoise wrap with root and prefix",
        ),
        Example(
            {
                "Procfile": PROCFILE,
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/main.py": MAIN_BP,
                "app/templates/index.html": "<h1>hi</h1>\n",
            },
            note="no static files",
        ),
        Example(
            {
                "Procfile": PROCFILE,
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/main.py": MAIN_BP,
                "app/static/.gitkeep": "",
            },
            note="an empty static folder kept for git",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y nginx supervisor\n"
                    'COPY . /app\nWORKDIR /app\nCMD ["supervisord", "-c", "supervisord.conf"]\n'
                ),
                "supervisord.conf": "[program:gunicorn]\ncommand=gunicorn wsgi:app\n[program:nginx]\ncommand=nginx\n",
                "wsgi.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                "static/app.js": "console.log(1)\n",
            },
            note="nginx in the image serves the files",
        ),
        Example(
            {
                "Procfile": "web: gunicorn api:app\n",
                "api.py": "import flask\n\napp = flask.Flask(__name__, static_folder=None)\n",
                "static/logo.png": b"\x89PNG\r\n",
            },
            note="the app turns its static route off",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask\nfrom whitenoise import WhiteNoise\n\n"
                    "app = Flask(__name__)\napp.wsgi_app = WhiteNoise(app.wsgi_app)\n"
                    "app.wsgi_app.add_files('static/', prefix='static/')\n"
                ),
                "static/site.css": "body {}\n",
            },
            note="files added with a prefix",
        ),
        Example(
            {
                "Procfile": "web: gunicorn backend.app:app\n",
                "backend/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                "frontend/static/app.js": "console.log(1)\n",
            },
            note="unrelated: a static folder that is not beside the app",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": PROCFILE,
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/main.py": MAIN_BP,
                "app/static/css/site.css": "body { margin: 0 }\n",
                "app/static/js/site.js": "console.log(1)\n",
            },
            expect="`app/static/` (2 files)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask\nfrom whitenoise import WhiteNoise\n\n"
                    "app = Flask(__name__)\napp.wsgi_app = WhiteNoise(app.wsgi_app, root='static/')\n"
                ),
                "static/site.css": "body {}\n",
            },
            expect="has no `prefix`",
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn server:app"\n',
                "server.py": (
                    "import os\nfrom flask import Flask as F\n\n"
                    "BASE_DIR = os.path.dirname(os.path.abspath(__file__))\n"
                    "app = F(__name__, static_folder=os.path.join(BASE_DIR, 'public'), static_url_path='')\n"
                ),
                "public/index.css": "body {}\n",
                "public/img/logo.svg": "<svg/>\n",
            },
            expect="`public/` (2 files)",
        ),
        Example(
            {
                "Procfile": PROCFILE,
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY.replace(
                    "    app.register_blueprint(main_blueprint)\n",
                    "    app.register_blueprint(main_blueprint)\n    from .admin import admin\n\n"
                    "    app.register_blueprint(admin)\n",
                ),
                "app/main.py": MAIN_BP,
                "app/admin/__init__.py": (
                    "from flask import Blueprint\n\nadmin = Blueprint('admin', __name__, static_folder='assets')\n"
                ),
                "app/admin/assets/admin.js": "console.log(1)\n",
            },
            expect="`app/admin/assets/`",
        ),
        Example(
            {
                "services/web/Procfile": "web: gunicorn app:app\n",
                "services/web/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                "services/web/static/site.css": "body {}\n",
            },
            app_root="services/web",
            expect="`services/web/static/`",
        ),
    ]


def _served_folders(project: Project, production: ProductionPath, app: ObjectRef) -> list[str]:
    """The committed static folders the served app answers for, each shown with its file count."""
    candidates: dict[str, str] = {}
    own = _app_static_folder(production, app)
    if own is not None:
        candidates[own] = ""
    for blueprint in project.discovery.blueprints:
        if blueprint.static_folder and production.imported(blueprint.path):
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(blueprint.path), blueprint.static_folder))
            candidates.setdefault(joined, f", blueprint `{blueprint.name}`" if blueprint.name else ", a blueprint's")
    found = []
    for folder, owner in candidates.items():
        if folder in ("", "."):
            continue
        count = sum(
            1
            for path in project.files.paths
            if path.startswith(f"{folder}/") and posixpath.basename(path) not in PLACEHOLDERS
        )
        if count:
            found.append(f"`{folder}/` ({count} file{'s' if count != 1 else ''}{owner})")
    return found


def _app_static_folder(production: ProductionPath, app: ObjectRef) -> str | None:
    """The repo path of the app's static folder; None when it has none or it cannot be told."""
    root = posixpath.dirname(app.path)
    argument = next(
        (arg.value for arg in app.node.args if arg.keyword is not None and arg.keyword.value == "static_folder"),
        None,
    )
    if argument is None:
        return posixpath.join(root, "static")
    step = production.reach.step_of(app.node)
    if step is not None:
        value: Value = production.evaluator.evaluate(argument, step.scope, before=step.node).effective
        given = value.value if isinstance(value, Known) else None
    else:
        given = literal(argument)
    if not isinstance(given, str) or not given:
        return None
    if given.startswith(REPO_ROOT + "/"):
        return posixpath.normpath(given[len(REPO_ROOT) + 1 :])
    if given.startswith("/"):
        return None
    return posixpath.normpath(posixpath.join(root, given))


def _has_prefix(production: ProductionPath, wraps: list[ExtensionUse]) -> bool:
    """A WhiteNoise wrap (or an `add_files` call on the path) that serves files under a URL prefix."""
    if any(_is_prefix(wrap.argument("prefix", 2)) for wrap in wraps):
        return True
    for call, step in production.reach.calls():
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "add_files":
            positional = [arg.value for arg in call.args if arg.keyword is None]
            keyword = next((arg.value for arg in call.args if arg.keyword and arg.keyword.value == "prefix"), None)
            expr = keyword if keyword is not None else (positional[1] if len(positional) > 1 else None)
            if expr is not None and _is_prefix(production.evaluator.evaluate(expr, step.scope, before=step.node)):
                return True
    return False


def _is_prefix(value: Value | None) -> bool:
    """WhiteNoise turns a missing, empty or `/` prefix into `/`: the URL root. Unknown counts as a prefix."""
    if value is None:
        return False
    plain = value.effective
    if isinstance(plain, Known):
        return isinstance(plain.value, str) and plain.value.strip("/") != ""
    return True


def _nginx_in_front(project: Project) -> bool:
    """nginx in the image or the start command: it serves the files, not Flask."""
    if uses_docker(project):
        for instruction in project.dockerfile.final_stage():
            if instruction.keyword in ("FROM", "RUN", "CMD", "ENTRYPOINT", "COPY") and NGINX.search(instruction.value):
                return True
    start = project.start_command
    if start is None:
        return False
    return any(command.program == "nginx" for command in commands_run(project, start.command))
