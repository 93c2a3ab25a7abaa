from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

import libcst as cst

from analyzer.autofix import Fix
from analyzer.fixes.manifests import declare
from analyzer.fixes.pycode import ModuleEdit
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
WRAP = "app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix=app.static_url_path)"
REQS = "Flask==3.1.0\ngunicorn==23.0.0\n"
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

    ## Fix safety
    The autofix wraps the app right after it is created (in a factory, just
    before `return app`), imports WhiteNoise and declares `whitenoise`,
    unpinned, in the manifest the build installs. WhiteNoise reads the folder
    once at start-up, so files written while the app runs are not served until
    the next restart. A blueprint's own static folder gets no fix: it needs
    `add_files` under the blueprint's URL.

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
        # The fix serves the app's own folder; a blueprint's folder would need `add_files` under its URL.
        own = _app_static_folder(production, app)
        fixable = len(folders) == 1 and own is not None and folders[0].startswith(f"`{own}/`")
        fix = None
        if not wraps:
            message = f"Flask alone serves {shown}: no WhiteNoise wrap on the app"
            fix = _wrap_fix(project, app) if fixable else None
        elif _has_prefix(production, wraps):
            return
        else:
            fix = _prefix_fix(project, wraps) if fixable else None
            where = ", ".join(wrap.where for wrap in wraps)
            message = (
                f"WhiteNoise ({where}) has no `prefix`: it serves files at the URL root, "
                f"so `url_for('static', ...)` links to {shown} still go through Flask"
            )
        evidence = production.why(app.path)[-3:]
        finding = self.finding(message, app.path, app.line, subject="static files", evidence=evidence)
        finding.fix = fix
        yield finding

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
                "requirements.txt": REQS,
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/main.py": MAIN_BP,
                "app/static/css/site.css": "body { margin: 0 }\n",
                "app/static/js/site.js": "console.log(1)\n",
            },
            expect="`app/static/` (2 files)",
            fixed={
                "app/__init__.py": (
                    "from flask import Flask\nfrom whitenoise import WhiteNoise\n\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    "    from .main import main as main_blueprint\n\n"
                    "    app.register_blueprint(main_blueprint)\n"
                    f"    {WRAP}\n"
                    "    return app\n"
                ),
                "requirements.txt": "Flask==3.1.0\ngunicorn==23.0.0\nwhitenoise\n",
            },
            note="in a factory the wrap goes just before `return app`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "flask\ngunicorn\nwhitenoise\n",
                "app.py": (
                    "from flask import Flask\nfrom whitenoise import WhiteNoise\n\n"
                    "app = Flask(__name__)\napp.wsgi_app = WhiteNoise(app.wsgi_app, root='static/')\n"
                ),
                "static/site.css": "body {}\n",
            },
            expect="has no `prefix`",
            fixed={
                "app.py": (
                    "from flask import Flask\nfrom whitenoise import WhiteNoise\n\n"
                    "app = Flask(__name__)\n"
                    "app.wsgi_app = WhiteNoise(app.wsgi_app, root='static/', prefix=app.static_url_path)\n"
                )
            },
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn server:app"\n',
                "requirements.txt": "flask==3.1.0\r\ngunicorn==23.0.0",
                "server.py": (
                    "import os\nfrom flask import Flask as F\n\n"
                    "BASE_DIR = os.path.dirname(os.path.abspath(__file__))\n"
                    "app = F(__name__, static_folder=os.path.join(BASE_DIR, 'public'), static_url_path='')\n"
                ),
                "public/index.css": "body {}\n",
                "public/img/logo.svg": "<svg/>\n",
            },
            expect="`public/` (2 files)",
            fixed={
                "server.py": (
                    "import os\nfrom flask import Flask as F\nfrom whitenoise import WhiteNoise\n\n"
                    "BASE_DIR = os.path.dirname(os.path.abspath(__file__))\n"
                    "app = F(__name__, static_folder=os.path.join(BASE_DIR, 'public'), static_url_path='')\n"
                    f"{WRAP}\n"
                ),
                "requirements.txt": "flask==3.1.0\r\ngunicorn==23.0.0\r\nwhitenoise\r\n",
            },
            note="an aliased Flask import; requirements with Windows line endings and no final newline",
        ),
        Example(
            {
                "Procfile": PROCFILE,
                "requirements.txt": REQS,
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
                "services/web/pyproject.toml": (
                    '[project]\nname = "web"\nversion = "1"\ndependencies = [\n    "flask",\n    "gunicorn",\n]\n'
                ),
                "services/web/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                "services/web/static/site.css": "body {}\n",
            },
            app_root="services/web",
            expect="`services/web/static/`",
            fixed={
                "services/web/app.py": (
                    f"from flask import Flask\nfrom whitenoise import WhiteNoise\n\napp = Flask(__name__)\n{WRAP}\n"
                ),
                "services/web/pyproject.toml": (
                    '[project]\nname = "web"\nversion = "1"\ndependencies = [\n    "flask",\n    "gunicorn",\n'
                    '    "whitenoise",\n]\n'
                ),
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\r\n",
                "Pipfile": '[packages]\r\nflask = "==3.1.0"\r\ngunicorn = "*"\r\n\r\n[requires]\r\npython_version = "3.12"\r\n',
                "shop/__init__.py": (
                    '"""The shop."""\r\nimport os\r\n\r\nfrom flask import Flask\r\n\r\nfrom .config import Config\r\n'
                    "\r\n\r\ndef create_app(config_class=Config):\r\n"
                    "    app = Flask(__name__, instance_path=os.environ.get('INSTANCE_PATH'))\r\n"
                    "    app.config.from_object(config_class)\r\n\r\n"
                    "    # blueprints\r\n    from .views import bp\r\n\r\n    app.register_blueprint(bp)\r\n\r\n"
                    "    return app\r\n"
                ),
                "shop/config.py": "class Config:\r\n    JSON_SORT_KEYS = False\r\n",
                "shop/views.py": "from flask import Blueprint\r\n\r\nbp = Blueprint('views', __name__)\r\n",
                "shop/static/site.css": "body {}\r\n",
            },
            expect="`shop/static/` (1 file)",
            fixed={
                "Pipfile": (
                    '[packages]\r\nflask = "==3.1.0"\r\ngunicorn = "*"\r\nwhitenoise = "*"\r\n\r\n'
                    '[requires]\r\npython_version = "3.12"\r\n'
                ),
                "shop/__init__.py": (
                    '"""The shop."""\r\nimport os\r\n\r\nfrom flask import Flask\r\nfrom whitenoise import WhiteNoise\r\n'
                    "\r\nfrom .config import Config\r\n"
                    "\r\n\r\ndef create_app(config_class=Config):\r\n"
                    "    app = Flask(__name__, instance_path=os.environ.get('INSTANCE_PATH'))\r\n"
                    "    app.config.from_object(config_class)\r\n\r\n"
                    "    # blueprints\r\n    from .views import bp\r\n\r\n    app.register_blueprint(bp)\r\n"
                    f"    {WRAP}\r\n\r\n"
                    "    return app\r\n"
                ),
            },
            note="a factory with a config class, Windows line endings, a Pipfile",
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


def _wrap_fix(project: Project, app: ObjectRef) -> Fix | None:
    """The WhiteNoise wrap after the app is created (in a factory, just before `return app`), its import,
    and `whitenoise` in the manifest the build installs."""
    edit = ModuleEdit.of(project, app.path)
    call = edit.locate(app.node, app.module) if edit is not None else None
    statement = edit.statement_of(call) if call is not None else None
    name = _assigned_name(statement, call)
    if name is None:
        return None
    anchor = statement
    body = edit.parent(statement)
    function = edit.parent(body) if isinstance(body, cst.IndentedBlock) else None
    if isinstance(function, cst.FunctionDef):
        last = body.body[-1]
        if _returns(last, name):
            anchor = last
    whitenoise = edit.import_name("whitenoise", "WhiteNoise")
    if whitenoise is None:
        return None
    code = f"{name}.wsgi_app = {whitenoise}({name}.wsgi_app, root={name}.static_folder, prefix={name}.static_url_path)"
    if anchor is statement:
        edit.insert_after(statement, code)
    else:
        edit.insert_before(anchor, code)
    return _with_requirement(project, edit, "Serve static files through WhiteNoise")


def _prefix_fix(project: Project, wraps: list[ExtensionUse]) -> Fix | None:
    """`prefix=app.static_url_path` on the one WhiteNoise wrap that lacks it."""
    if len(wraps) != 1 or not (wraps[0].wrapped or "").endswith(".wsgi_app"):
        return None
    wrap = wraps[0]
    edit = ModuleEdit.of(project, wrap.path)
    call = edit.locate(wrap.node) if edit is not None else None
    if not isinstance(call, cst.Call) or any(arg.star for arg in call.args):
        return None
    app = wrap.wrapped.removesuffix(".wsgi_app")
    prefix = cst.parse_expression(f"{app}.static_url_path")
    args = list(call.args)
    keyword = next((index for index, arg in enumerate(args) if arg.keyword and arg.keyword.value == "prefix"), None)
    positional = [index for index, arg in enumerate(args) if arg.keyword is None]
    if keyword is not None:
        args[keyword] = args[keyword].with_changes(value=prefix)
    elif len(positional) > 2:
        args[positional[2]] = args[positional[2]].with_changes(value=prefix)
    else:
        last = args[-1]
        comma = last.comma if isinstance(last.comma, cst.Comma) else None
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        tight = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
        args.append(cst.Arg(prefix, keyword=cst.Name("prefix"), equal=tight, comma=comma or cst.MaybeSentinel.DEFAULT))
    edit.replace(call, call.with_changes(args=args))
    return _with_requirement(project, edit, "Give the WhiteNoise wrap the static URL prefix")


def _with_requirement(project: Project, edit: ModuleEdit, title: str) -> Fix | None:
    fix = edit.fix(
        title,
        "WhiteNoise then answers the static URLs before Flask: files are read from the static folder once, at "
        "start-up (files added while the app runs are not served until the next restart), and get WhiteNoise's "
        "cache headers.",
    )
    if fix is None or project.manifests.declares("whitenoise"):
        return fix
    declared = declare(project, "whitenoise")
    if declared is None:
        return None
    fix.changes[declared.path] = declared.text
    fix.title += f", and add `whitenoise` to {declared.where}"
    fix.safety += " `whitenoise` is added unpinned; pin it to the version you test with."
    if declared.note:
        fix.safety += f" Then {declared.note}."
    return fix


def _assigned_name(statement: cst.CSTNode | None, call: cst.CSTNode) -> str | None:
    """`app` of `app = Flask(__name__)` (or `app: Flask = ...`)."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and small.value is call:
        target = small.targets[0].target
    elif isinstance(small, cst.AnnAssign) and small.value is call:
        target = small.target
    else:
        return None
    return target.value if isinstance(target, cst.Name) else None


def _returns(statement: cst.CSTNode, name: str) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Return)
        and isinstance(statement.body[0].value, cst.Name)
        and statement.body[0].value.value == name
    )
