from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import libcst as cst
import libcst.matchers as m

from analyzer.prodpath import REPO_ROOT, External, Known, ProductionPath, Value
from analyzer.project import Project
from analyzer.pysource import PyModule
from analyzer.pyvalues import literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

NEEDLES = (b".save(", b"FileHandler", b"basicConfig")
FILE_HANDLERS = frozenset(
    {
        "logging.FileHandler",
        "logging.handlers.RotatingFileHandler",
        "logging.handlers.TimedRotatingFileHandler",
        "logging.handlers.WatchedFileHandler",
        "concurrent_log_handler.ConcurrentRotatingFileHandler",
    }
)
BASIC_CONFIG = frozenset({"logging.basicConfig"})
PATH_WRAPPERS = frozenset(
    {
        "os.path.join",
        "posixpath.join",
        "os.path.abspath",
        "os.path.normpath",
        "os.path.realpath",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "builtins.str",
    }
)
# Flask attributes that name folders inside the deployed code.
APP_FOLDERS = frozenset({"root_path", "static_folder", "instance_path"})
# Calls showing a saved file is only staged: sent on to object storage, or removed again.
STAGING_CALLS = frozenset(
    {"upload_file", "upload_fileobj", "put_object", "upload_blob", "upload_from_filename", "remove", "unlink"}
)
VOLUME_VARIABLE = "RAILWAY_VOLUME_MOUNT_PATH"
TEMPORARY = ("/tmp", "/var/tmp", "/dev/shm")
MAX_DEPTH = 6

UPLOAD_VIEW = (
    "import os\n"
    "from flask import Blueprint, current_app, request\n"
    "from werkzeug.utils import secure_filename\n\n"
    "main = Blueprint('main', __name__)\n\n\n"
    "@main.route('/upload', methods=['POST'])\n"
    "def upload():\n"
    "    file = request.files['photo']\n"
    "    filename = secure_filename(file.filename)\n"
    "    file.save(os.path.join(current_app.config['UPLOAD_FOLDER'], filename))\n"
    "    return 'ok'\n"
)
FACTORY = (
    "from flask import Flask\nfrom config import config\n\n\n"
    "def create_app(config_name='default'):\n"
    "    app = Flask(__name__)\n"
    "    app.config.from_object(config[config_name])\n"
    "    from .main import main as main_blueprint\n\n"
    "    app.register_blueprint(main_blueprint)\n"
    "    return app\n"
)
WSGI = "import os\nfrom app import create_app\n\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n"
CONFIG = (
    "import os\n\nbasedir = os.path.abspath(os.path.dirname(__file__))\n\n\n"
    "class Config:\n"
    "    UPLOAD_FOLDER = {upload}\n\n\n"
    "class DevelopmentConfig(Config):\n    DEBUG = True\n\n\n"
    "class ProductionConfig(Config):\n    pass\n\n\n"
    "config = {{'development': DevelopmentConfig, 'production': ProductionConfig, 'default': DevelopmentConfig}}\n"
)


def flasky(upload: str, **extra: str) -> dict[str, str]:
    return {
        "Procfile": "web: gunicorn wsgi:app\n",
        "wsgi.py": WSGI,
        "config.py": CONFIG.format(upload=upload),
        "app/__init__.py": FACTORY,
        "app/main.py": UPLOAD_VIEW,
        **extra,
    }


@dataclass
class Place:
    """Where a path points when the app runs on Railway."""

    kind: str  # "relative", "app", "static", "volume", "temporary", "elsewhere"
    shown: str  # the folder as the message names it
    evidence: tuple[str, ...] = ()

    @property
    def ephemeral(self) -> bool:
        return self.kind in ("relative", "app", "static")

    @property
    def described(self) -> str:
        if self.kind == "static":
            return f"the static folder (`{self.shown}`)"
        if self.kind == "app":
            return f"the app's own folder (`{self.shown}`)"
        return f"a path relative to the working directory (`{self.shown}`)"

    def joined(self, part: str) -> Place:
        """The place with a literal path part appended (`os.path.join(root, "static/uploads")`)."""
        if self.kind not in ("app", "relative", "static"):
            return self
        shown = posixpath.join(self.shown, part)
        kind = "static" if "static" in part.split("/") else self.kind
        return Place(kind, shown, self.evidence)


class EphemeralWrites(Rule):
    """
    ## What it does
    Flags code on the production path that writes files it expects to keep
    to the container's own disk: uploads saved (`file.save(...)`, an image's
    `.save(...)`) to a relative path or under the app's folder
    (`app.root_path`, `app.static_folder`, an `UPLOAD_FOLDER` that resolves
    there), and `FileHandler` / `RotatingFileHandler` /
    `TimedRotatingFileHandler` logs or `logging.basicConfig(filename=...)` to a
    relative path.

    ## Why is this bad?
    A Railway deployment starts from the built image every time: whatever the
    app wrote to its disk is gone after the next deploy or restart, and every
    replica has its own copy. Users' uploads disappear, and a log file is
    never shown in Railway's log view, which only collects stdout and stderr.
    Paths under a Railway volume (`RAILWAY_VOLUME_MOUNT_PATH`, the volume
    mount path) and `/tmp` for temporary work are not flagged.

    ## Example
    ```python
    file.save(os.path.join(current_app.root_path, "static/uploads", filename))
    handler = RotatingFileHandler("logs/app.log", maxBytes=10240, backupCount=10)
    ```

    ## Use instead
    ```python
    s3.upload_fileobj(file, bucket, filename)  # or save under os.environ["RAILWAY_VOLUME_MOUNT_PATH"]
    handler = logging.StreamHandler()  # stdout reaches Railway's logs
    ```

    ## How to fix
    Store uploads in object storage (S3, R2, a Railway bucket) or on a Railway volume (`RAILWAY_VOLUME_MOUNT_PATH`), and log to stdout with a `StreamHandler`.

    ## References
    - Railway: Volumes (`RAILWAY_VOLUME_MOUNT_PATH`)
    - Railway: Logs (stdout and stderr)
    - Flask: Uploading files
    """

    id = "PF503"
    slug = "ephemeral-writes"
    severity = Severity.MEDIUM
    title = "Files written to the container disk"

    def check(self, project: Project) -> Iterator[Finding]:
        candidates = project.python_paths_containing(*NEEDLES)
        if not candidates:
            return
        production = project.production
        if production.app is None:
            return
        volume = project.platform.volume_mount_path
        for path in production.modules:
            if path not in candidates:
                continue
            module = project.python(path)
            if module is None:
                continue
            finder = _WriteFinder(module)
            module.tree.visit(finder)
            locator = _Locator(production, module, volume)
            for write in finder.writes:
                if not _may_run(production, module, write.node, write.function):
                    continue
                place = locator.place(write.target, write.function, write.node, 0)
                if place is None or not place.ephemeral:
                    continue
                if write.kind == "upload" and _staged(module, write.function):
                    continue
                code = " ".join(module.code(write.target).split())
                if write.kind == "upload":
                    message = f"`.save({code})` writes to {place.described}: the file is lost on every deploy"
                else:
                    message = (
                        f"{write.what} writes to {place.described}: the file is lost on every deploy "
                        "and never reaches Railway's log view"
                    )
                evidence = [*production.why(path)[-2:], *place.evidence]
                yield self.finding(
                    message, path, module.line(write.node), subject=f"{write.kind}:{code}", evidence=evidence
                )

    VALID = [
        Example(
            flasky("os.environ.get('UPLOAD_FOLDER', '/data/uploads')"),
            platform={"volume_mount_path": "/data", "variables": ["SECRET_KEY"]},
            note="the default points into the platform volume",
        ),
        Example(
            flasky("os.path.join(os.environ['RAILWAY_VOLUME_MOUNT_PATH'], 'uploads')"),
            note="the path is built from the volume Railway mounts",
        ),
        Example(flasky("'/tmp/uploads'"), note="/tmp for temporary processing"),
        Example(
            flasky(
                "'uploads'",
                **{
                    "app/main.py": UPLOAD_VIEW.replace(
                        "    return 'ok'\n",
                        "    s3.upload_file(os.path.join(current_app.config['UPLOAD_FOLDER'], filename), 'b', filename)\n"
                        "    return 'ok'\n",
                    ).replace("import os\n", "import os\nimport boto3\n\ns3 = boto3.client('s3')\n"),
                },
            ),
            note="a local file only staged for object storage",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import io\nimport boto3\nfrom flask import Flask, request\n\n"
                    "app = Flask(__name__)\ns3 = boto3.client('s3')\n\n\n"
                    "@app.post('/avatar')\ndef avatar():\n"
                    "    s3.upload_fileobj(request.files['avatar'], 'avatars', 'a.png')\n    return 'ok'\n"
                ),
            },
            note="object storage",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import logging, sys\nfrom flask import Flask\n\n"
                    "logging.basicConfig(stream=sys.stdout, level=logging.INFO)\napp = Flask(__name__)\n"
                ),
                "scripts/import_data.py": (
                    "import logging\n\nlogging.basicConfig(filename='import.log')\nopen('out.csv', 'w').write('x')\n"
                ),
            },
            note="unrelated: a one-off script the web process never imports",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask\nfrom logging.handlers import RotatingFileHandler\n\n"
                    "app = Flask(__name__)\n\n"
                    "if __name__ == '__main__':\n"
                    "    app.logger.addHandler(RotatingFileHandler('dev.log'))\n    app.run(debug=True)\n"
                ),
            },
            note="a file log only for local runs",
        ),
    ]
    INVALID = [
        Example(
            flasky("os.path.join(basedir, 'app', 'static', 'uploads')"),
            expect="the static folder (`app/static/uploads`)",
        ),
        Example(
            flasky("os.environ.get('UPLOAD_FOLDER') or 'uploads'"),
            expect="a path relative to the working directory (`uploads`)",
            note="UPLOAD_FOLDER is not among the platform variables, so the fallback is used",
        ),
        Example(
            {
                "Procfile": "web: gunicorn microblog:app\n",
                "microblog.py": "from app import create_app\n\napp = create_app()\n",
                "app/__init__.py": (
                    "import logging\nimport os\nfrom logging.handlers import RotatingFileHandler\n"
                    "from flask import Flask\n\n\n"
                    "def create_app():\n"
                    "    app = Flask(__name__)\n"
                    "    if not app.debug and not app.testing:\n"
                    "        if not os.path.exists('logs'):\n"
                    "            os.mkdir('logs')\n"
                    "        file_handler = RotatingFileHandler('logs/microblog.log', maxBytes=10240, backupCount=10)\n"
                    "        file_handler.setLevel(logging.INFO)\n"
                    "        app.logger.addHandler(file_handler)\n"
                    "    return app\n"
                ),
            },
            expect="`RotatingFileHandler` writes to a path relative to the working directory (`logs/microblog.log`)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn run:app\n",
                "run.py": "from flaskblog import create_app\n\napp = create_app()\n",
                "flaskblog/__init__.py": (
                    "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                    "    from flaskblog.users.routes import users\n\n    app.register_blueprint(users)\n"
                    "    return app\n"
                ),
                "flaskblog/users/__init__.py": "",
                "flaskblog/users/routes.py": (
                    "from flask import Blueprint\nfrom flaskblog.users.utils import save_picture\n\n"
                    "users = Blueprint('users', __name__)\n"
                ),
                "flaskblog/users/utils.py": (
                    "import os\nimport secrets\nfrom PIL import Image\nfrom flask import current_app\n\n\n"
                    "def save_picture(form_picture):\n"
                    "    random_hex = secrets.token_hex(8)\n"
                    "    _, f_ext = os.path.splitext(form_picture.filename)\n"
                    "    picture_fn = random_hex + f_ext\n"
                    "    picture_path = os.path.join(current_app.root_path, 'static/profile_pics', picture_fn)\n"
                    "    i = Image.open(form_picture)\n"
                    "    i.thumbnail((125, 125))\n"
                    "    i.save(picture_path)\n"
                    "    return picture_fn\n"
                ),
            },
            expect="the static folder (`current_app.root_path/static/profile_pics`)",
        ),
        Example(
            {
                "app/Procfile": "web: gunicorn main:app\n",
                "app/main.py": (
                    "import logging as log\nfrom flask import Flask\n\n"
                    "log.basicConfig(filename='app.log', level=log.INFO)\napp = Flask(__name__)\n"
                ),
            },
            app_root="app",
            expect="`logging.basicConfig` writes to a path relative to the working directory (`app.log`)",
        ),
    ]


@dataclass
class _Write:
    kind: str  # "upload" or "log"
    what: str
    node: cst.CSTNode
    target: cst.BaseExpression
    function: cst.FunctionDef | None


class _WriteFinder(cst.CSTVisitor):
    def __init__(self, module: PyModule) -> None:
        self.module = module
        self.functions: list[cst.FunctionDef] = []
        self.writes: list[_Write] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def _add(self, kind: str, what: str, node: cst.CSTNode, target: cst.BaseExpression) -> None:
        self.writes.append(_Write(kind, what, node, target, self.functions[-1] if self.functions else None))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "save":
            target = _argument(node, 0, ("dst", "fp", "filename"))
            if target is not None and _looks_like_path(target):
                self._add("upload", "", node, target)
            return
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        names = self.module.qualified_names(func)
        handler = names & FILE_HANDLERS
        if handler:
            target = _argument(node, 0, ("filename",))
            if target is not None:
                self._add("log", f"`{next(iter(handler)).rsplit('.', 1)[-1]}`", node, target)
        elif names & BASIC_CONFIG:
            target = _argument(node, None, ("filename",))
            if target is not None:
                self._add("log", "`logging.basicConfig`", node, target)

    def visit_Dict(self, node: cst.Dict) -> None:
        """A `logging.config.dictConfig` handler: `{"class": "logging.FileHandler", "filename": ...}`."""
        entries = {
            literal(element.key): element.value
            for element in node.elements
            if isinstance(element, cst.DictElement) and isinstance(literal(element.key), str)
        }
        handler = literal(entries.get("class"))
        if handler in FILE_HANDLERS and "filename" in entries:
            self._add("log", f"`{handler.rsplit('.', 1)[-1]}`", node, entries["filename"])


def _argument(call: cst.Call, position: int | None, keywords: tuple[str, ...]) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return arg.value
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    if position is not None and len(positional) > position:
        return positional[position]
    return None


def _looks_like_path(expr: cst.BaseExpression) -> bool:
    """`.save()` is also an ORM or form method: a plain word is not a file name."""
    value = literal(expr)
    if isinstance(value, str):
        return "/" in value or "." in value
    if isinstance(expr, cst.Name):
        return expr.value not in ("True", "False", "None")
    return not isinstance(expr, (cst.Integer, cst.Float))


def _may_run(production: ProductionPath, module: PyModule, node: cst.CSTNode, function: cst.FunctionDef | None) -> bool:
    """Startup code that runs, or code in a function that is not run at startup (a request handler,
    a helper it calls); not code the production path skips (`__main__` blocks, branches not taken)."""
    line = module.line(node)
    if production.runs(module.path, line):
        return True
    if function is None:
        return False
    return production.reach.function_run(function) is None


def _staged(module: PyModule, function: cst.FunctionDef | None) -> bool:
    """The function sends the saved file on to object storage or removes it: the disk is a staging area."""
    if function is None:
        return False
    return any(call.func.attr.value in STAGING_CALLS for call in m.findall(function, m.Call(func=m.Attribute())))


class _Locator:
    """Where a path expression points in the container, from how it is built."""

    def __init__(self, production: ProductionPath, module: PyModule, volume: str | None) -> None:
        self.production = production
        self.module = module
        self.volume = volume.rstrip("/") if volume else None

    def place(
        self, expr: cst.BaseExpression, function: cst.FunctionDef | None, at: cst.CSTNode, depth: int
    ) -> Place | None:
        if depth > MAX_DEPTH:
            return None
        module = self.module
        value = literal(expr)
        if isinstance(value, str):
            return self.from_string(value)
        if isinstance(expr, cst.FormattedString):
            first = expr.parts[0] if expr.parts else None
            if isinstance(first, cst.FormattedStringText):
                return self.from_string(first.value)
            if isinstance(first, cst.FormattedStringExpression):
                return self.place(first.expression, function, at, depth + 1)
            return None
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Divide, cst.Modulo)):
            return self.place(expr.left, function, at, depth + 1)
        if isinstance(expr, cst.Call):
            return self.call_place(expr, function, at, depth)
        if isinstance(expr, cst.Attribute) and expr.attr.value in APP_FOLDERS:
            return Place("static" if expr.attr.value == "static_folder" else "app", module.code(expr))
        config_key = _config_key(expr)
        if config_key is not None:
            return self.config_place(config_key)
        if isinstance(expr, cst.Name) and function is not None:
            assigned = _local_assignment(function, expr.value, module.line(at), module)
            if assigned is not None:
                return self.place(assigned, function, assigned, depth + 1)
        return self.value_place(self.production.evaluate(expr, module.path, function=function))

    def call_place(self, expr: cst.Call, function: cst.FunctionDef | None, at: cst.CSTNode, depth: int) -> Place | None:
        func = expr.func
        config_key = _config_key(expr)
        if config_key is not None:
            return self.config_place(config_key)
        if isinstance(func, cst.Attribute) and func.attr.value in ("joinpath", "format", "resolve", "absolute"):
            return self.place(func.value, function, at, depth + 1)
        names = self.module.qualified_names(func) if isinstance(func, (cst.Name, cst.Attribute)) else set()
        if isinstance(func, cst.Name) and func.value == "str":
            names = {"builtins.str"}
        if names & PATH_WRAPPERS:
            parts = [arg.value for arg in expr.args if arg.keyword is None and not arg.star]
            place = self.place(parts[0], function, at, depth + 1) if parts else None
            for part in parts[1:]:
                text = literal(part)
                if place is None or not isinstance(text, str):
                    break
                place = place.joined(text)
            return place
        return self.value_place(self.production.evaluate(expr, self.module.path, function=function))

    def config_place(self, key: str) -> Place | None:
        setting = self.production.setting(key)
        if setting is None:
            return None
        place = self.value_place(setting.value)
        if place is not None:
            place.evidence = (f"`{key}` comes from {setting.source}", *place.evidence)
        return place

    def value_place(self, value: Value) -> Place | None:
        if VOLUME_VARIABLE in value.env:
            return Place("volume", VOLUME_VARIABLE)
        plain = value.effective
        if not isinstance(plain, Known):
            return None
        inner = plain.value
        if isinstance(inner, External):
            attribute = inner.qualname.rsplit(".", 1)[-1]
            if attribute in APP_FOLDERS:
                return Place("static" if attribute == "static_folder" else "app", inner.qualname)
            return None
        if isinstance(inner, PurePosixPath):
            inner = str(inner)
        if not isinstance(inner, str):
            return None
        place = self.from_string(inner)
        if place is not None:
            place.evidence = tuple(value.trace[-2:])
        return place

    def from_string(self, text: str) -> Place | None:
        if not text:
            return None
        if text.startswith(REPO_ROOT):
            inside = text[len(REPO_ROOT) :].strip("/") or "."
            return Place("static" if "static" in inside.split("/") else "app", inside)
        if text.startswith(("/", "~", "$")):
            if self.volume and (text == self.volume or text.startswith(self.volume + "/")):
                return Place("volume", text)
            if any(text == folder or text.startswith(folder + "/") for folder in TEMPORARY):
                return Place("temporary", text)
            return Place("elsewhere", text)
        normalized = posixpath.normpath(text)
        return Place("static" if normalized.split("/")[0] == "static" else "relative", normalized)


def _config_key(expr: cst.BaseExpression) -> str | None:
    """`app.config["KEY"]`, `current_app.config.get("KEY")`: the key read from the Flask config."""
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        base, key = expr.value, literal(expr.slice[0].slice.value)
    elif (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "get"
        and expr.args
    ):
        base, key = expr.func.value, literal(expr.args[0].value)
    else:
        return None
    if isinstance(base, cst.Attribute) and base.attr.value == "config" and isinstance(key, str):
        return key
    return None


def _local_assignment(function: cst.FunctionDef, name: str, line: int, module: PyModule) -> cst.BaseExpression | None:
    """The value last assigned to `name` in the function before `line`."""
    found = None
    for assign in m.findall(function.body, m.Assign()):
        if module.line(assign) >= line:
            continue
        for target in assign.targets:
            if isinstance(target.target, cst.Name) and target.target.value == name:
                found = assign.value
    return found
