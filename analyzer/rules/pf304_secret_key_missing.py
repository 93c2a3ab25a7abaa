from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from analyzer.prodpath import AppConfig, Known, ProductionPath
from analyzer.project import Project
from analyzer.pysource import PyModule
from analyzer.pyvalues import is_literal, literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

SESSION = "flask.session"
FLASH = frozenset({"flask.flash", "flask.helpers.flash"})
FLASK_FORMS = frozenset({"flask_wtf.FlaskForm", "flask_wtf.Form", "flask_wtf.form.FlaskForm"})
# Extension kinds of the production path that use the session, and how a message names them.
EXTENSIONS = {
    "login": "Flask-Login's `LoginManager`",
    "wtf_csrf": "Flask-WTF's `CSRFProtect`",
    "flask_session": "Flask-Session's `Session`",
}
# Config loaders whose effect cannot be told when they load nothing the analyzer can read.
FILE_LOADERS = frozenset({"from_pyfile", "from_file", "from_envvar"})
# Flask-Session backends that keep sessions on the server and need no key unless ids are signed.
SERVER_SIDE = frozenset({"redis", "memcached", "filesystem", "mongodb", "sqlalchemy", "cachelib", "dynamodb"})
# What a config key is when the analyzer cannot tell.
UNDECIDED = object()
# The imports that make `session` / `flash` Flask's (the byte prefilter before qualified names).
_IMPORT_FLASK = re.compile(rb"^[ \t]*import[ \t]+flask\b", re.M)
_FROM_FLASK_IMPORT = re.compile(rb"from[ \t]+flask(?:\.\w+)*[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)")


@dataclass
class SessionUse:
    what: str  # "`flash()`", "`session[...]`", "`LoginForm(FlaskForm)`", "Flask-Login's `LoginManager`"
    path: str
    line: int
    csrf: bool = False  # needs the key for CSRF tokens, whatever stores the session


class SecretKeyMissing(Rule):
    """
    ## What it does
    Flags an app that uses sessions while no `SECRET_KEY` is ever set on it or
    on a config object it loads. Session use is `session[...]` or any attribute
    of `flask.session`, `flash(...)`, a Flask-Login `LoginManager`, a
    `FlaskForm` subclass, `CSRFProtect(...)` or Flask-Session's `Session`, in
    any module the production path imports (views count: the factory or the
    blueprint registration imports them). An import alone is not use.

    Stays quiet when the key could come from something the analyzer cannot read:
    an undecided `from_object`, `from_prefixed_env()` (`FLASK_SECRET_KEY`
    sets it), a `from_pyfile` / `from_envvar` / `from_file` of a file that is
    not in the repository, a config mapping or key it cannot evaluate, or an
    `app.secret_key = ...` / `config["SECRET_KEY"] = ...` anywhere in those
    modules. With Flask-Session on a server-side backend and unsigned ids, only
    CSRF needs the key.

    ## Why is this bad?
    Without a key Flask hands every request a `NullSession`: the first write
    (`session["user_id"] = ...`, `flash()`, Flask-Login's `login_user()`)
    raises `RuntimeError: The session is unavailable because no secret key was
    set`, and Flask-WTF raises `RuntimeError: A secret key is required to use
    CSRF.` on the first form. The app boots and every login or form fails with
    a 500. A common cause: only `DevelopmentConfig` sets `SECRET_KEY`, and
    production selects another config.

    ## Example
    ```python
    class DevelopmentConfig(Config):
        SECRET_KEY = "dev"

    class ProductionConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
    ```

    ## Use instead
    ```python
    class Config:
        SECRET_KEY = os.environ["SECRET_KEY"]
    ```

    ## How to fix
    Set `SECRET_KEY` from the environment in the config production loads (`SECRET_KEY = os.environ["SECRET_KEY"]`) and add the variable in Railway's Variables.

    ## References
    - Flask: Configuration, `SECRET_KEY`; Sessions
    - Flask-WTF: CSRF protection (`WTF_CSRF_SECRET_KEY` falls back to `SECRET_KEY`)
    - Flask-Session: `SESSION_TYPE`, `SESSION_USE_SIGNER`
    """

    id = "PF304"
    slug = "secret-key-missing"
    severity = Severity.HIGH
    title = "No secret key for sessions"

    def check(self, project: Project) -> Iterator[Finding]:
        production = project.production
        config = _served_config(production)
        if config is None or _config_may_set_key(config):
            return
        uses = _session_uses(project, production, config)
        if not uses or any(_assigns_key(module) for module in _modules(project, production, _mentions_key)):
            return
        use = uses[0]
        names = [name for op in config.operations if op.kind == "from_object" for name in op.loaded]
        loaded = f" ({', '.join(names)})" if names else ""
        if use.csrf:
            outcome = "Flask-WTF raises `RuntimeError` on the first form"
        elif _session_storage(production, config) == "signed":
            outcome = "Flask-Session fails to sign the first session id (`SESSION_USE_SIGNER`)"
        else:
            outcome = "the first session write raises `RuntimeError`"
        elsewhere = [cls for cls in config.unselected if "SECRET_KEY" in production.evaluator.class_settings(cls)]
        if elsewhere:
            outcome += f"; only {', '.join(cls.name for cls in elsewhere)} sets it, and production does not load it"
        evidence = [*production.why(use.path)]
        others = [f"{other.what} at {other.path}:{other.line}" for other in uses[1:4]]
        if others:
            evidence.append(f"also uses sessions: {', '.join(others)}")
        evidence.extend(production.why_not_selected(elsewhere[0]) if elsewhere else config.evidence[:2])
        yield self.finding(
            f"the app uses sessions ({use.what} at {use.path}:{use.line}) but no `SECRET_KEY` is set on it "
            f"or on the config it loads{loaded}: {outcome}",
            use.path,
            use.line,
            subject="SECRET_KEY",
            evidence=evidence,
        )

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os\nfrom flask import Flask, session\n\napp = Flask(__name__)\n"
                "app.secret_key = os.environ['SECRET_KEY']\n\n\n@app.route('/')\ndef index():\n"
                "    session['visits'] = session.get('visits', 0) + 1\n    return str(session['visits'])\n",
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "config.py": "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ.get('SECRET_KEY')\n\n\n"
                "class ProductionConfig(Config):\n    DEBUG = False\n\n\nconfig = {'default': ProductionConfig}\n",
                "app/__init__.py": "from flask import Flask\nfrom flask_login import LoginManager\n"
                "from config import config\n\nlogin_manager = LoginManager()\n\n\ndef create_app(name):\n"
                "    app = Flask(__name__)\n    app.config.from_object(config[name])\n"
                "    login_manager.init_app(app)\n    return app\n",
                "wsgi.py": "import os\nfrom app import create_app\n\n"
                "app = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
            },
            note="the selected config inherits SECRET_KEY from Config",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "from flask import Flask\nfrom flask import session  # noqa: F401\n\napp = Flask(__name__)\n\n\n"
                "@app.route('/')\ndef index():\n    return 'ok'\n",
            },
            note="an import alone is not use",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "from flask import Flask, flash\n\napp = Flask(__name__)\napp.config.from_prefixed_env()\n\n\n"
                "@app.route('/')\ndef index():\n    flash('hello')\n    return 'ok'\n",
            },
            note="FLASK_SECRET_KEY can set it through from_prefixed_env",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os\nfrom flask import Flask, flash\n\napp = Flask(__name__)\n"
                "app.config.from_object(os.environ['APP_SETTINGS'])\n\n\n"
                "@app.route('/')\ndef index():\n    flash('hello')\n    return 'ok'\n",
                "settings.py": "SECRET_KEY = 'x'\n",
            },
            note="the config object is not known",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "from flask import Flask, flash\n\napp = Flask(__name__, instance_relative_config=True)\n"
                "app.config.from_pyfile('production.cfg')\n\n\n"
                "@app.route('/')\ndef index():\n    flash('hello')\n    return 'ok'\n",
            },
            note="a config file that is not in the repository may set it",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "from flask import Flask, session\nfrom flask_session import Session\n\n"
                "app = Flask(__name__)\napp.config['SESSION_TYPE'] = 'redis'\nSession(app)\n\n\n"
                "@app.route('/')\ndef index():\n    session['cart'] = []\n    return 'ok'\n",
            },
            note="Flask-Session stores sessions in Redis and does not sign ids: no key needed",
        ),
        Example(
            {
                "Procfile": "web: gunicorn api:app\n",
                "api.py": "from flask import Flask, jsonify\n\napp = Flask(__name__)\n\n\n"
                "@app.route('/health')\ndef health():\n    return jsonify(ok=True)\n",
                "admin/app.py": "from flask import Flask, session\n\nadmin = Flask(__name__)\n\n\n"
                "@admin.route('/')\ndef index():\n    session['x'] = 1\n    return 'ok'\n",
            },
            note="sessions are used only by an app the start command does not load",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "config.py": "import os\n\n\nclass Config:\n"
                "    SQLALCHEMY_TRACK_MODIFICATIONS = False\n\n\n"
                "class DevelopmentConfig(Config):\n    SECRET_KEY = 'dev'\n\n\n"
                "class ProductionConfig(Config):\n    SQLALCHEMY_DATABASE_URI = os.environ.get('DATABASE_URL')\n\n\n"
                "config = {'development': DevelopmentConfig, 'production': ProductionConfig, "
                "'default': ProductionConfig}\n",
                "app/__init__.py": "from flask import Flask\nfrom config import config\n\n\n"
                "def create_app(config_name):\n    app = Flask(__name__)\n"
                "    app.config.from_object(config[config_name])\n"
                "    from .main import main as main_blueprint\n    app.register_blueprint(main_blueprint)\n"
                "    return app\n",
                "app/main/__init__.py": "from flask import Blueprint\n\nmain = Blueprint('main', __name__)\n\n"
                "from . import views  # noqa: E402,F401\n",
                "app/main/views.py": "from flask import flash, redirect\n\nfrom . import main\n\n\n"
                "@main.route('/subscribe', methods=['POST'])\ndef subscribe():\n"
                "    flash('Thanks for subscribing')\n    return redirect('/')\n",
                "wsgi.py": "import os\nfrom app import create_app\n\n"
                "app = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
            },
            expect="(`flash()` at app/main/views.py:8) but no `SECRET_KEY` is set on it or on the config it loads "
            "(ProductionConfig",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import flask as fl\n\napp = fl.Flask(__name__)\n\n\n@app.route('/login')\ndef login():\n"
                "    fl.session['user'] = 'alice'\n    return 'ok'\n",
            },
            expect="`session[...]`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\n",
                "shop/__init__.py": "from flask import Flask\n\nfrom shop.extensions import login_manager\n\n\n"
                "def create_app():\n    app = Flask(__name__)\n    app.config.from_object('shop.settings')\n"
                "    login_manager.init_app(app)\n    return app\n",
                "shop/extensions.py": "from flask_login import LoginManager as LM\n\nlogin_manager = LM()\n",
                "shop/settings.py": "import os\n\nSQLALCHEMY_DATABASE_URI = os.environ.get('DATABASE_URL')\n",
            },
            expect="Flask-Login's `LoginManager`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "from flask import Flask\n\nimport forms  # noqa: F401\n\napp = Flask(__name__)\n",
                "forms.py": "from flask_wtf import FlaskForm\nfrom wtforms import StringField\n\n\n"
                "class ContactForm(FlaskForm):\n    email = StringField('Email')\n",
            },
            expect="`ContactForm(FlaskForm)` at forms.py:5",
        ),
        Example(
            {
                "services/web/Dockerfile": "FROM python:3.12-slim\nCMD gunicorn -b 0.0.0.0:$PORT main:app\n",
                "services/web/main.py": "from flask import Flask\nfrom flask_wtf.csrf import CSRFProtect\n\n"
                "app = Flask(__name__)\napp.config['SECRET_KEY'] = None\ncsrf = CSRFProtect(app)\n",
            },
            app_root="services/web",
            expect="Flask-WTF raises `RuntimeError` on the first form",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "from flask import Flask, session\nfrom flask_session import Session\n\n"
                "app = Flask(__name__)\napp.config['SESSION_TYPE'] = 'redis'\n"
                "app.config['SESSION_USE_SIGNER'] = True\nSession(app)\n\n\n"
                "@app.route('/')\ndef index():\n    session['cart'] = []\n    return 'ok'\n",
            },
            note="signed session ids need the key",
        ),
    ]


def _served_config(production: ProductionPath) -> AppConfig | None:
    """The config of the app the start command loads, when that app is known."""
    entry = production.entry
    if entry.kind not in ("server", "dev-server") and not (entry.assumed and len(entry.assumed_sites) == 1):
        return None
    if production.app is None and len(production.configs) != 1:
        return None
    return production.config


def _config_may_set_key(config: AppConfig) -> bool:
    setting = config.get("SECRET_KEY")
    if setting is not None:
        value = setting.value
        blank = isinstance(value, Known) and value.value in (None, "", b"") and not setting.conditional
        if not blank:
            return True
    if config.ambiguous:
        return True
    for op in config.operations:
        if op.kind == "from_prefixed_env" or (op.kind in FILE_LOADERS and not op.loaded):
            return True
        if op.kind == "setitem" and op.note:  # a key the analyzer could not evaluate
            return True
    return False


def _assigns_key(module: PyModule) -> bool:
    """`x.secret_key = ...`, `x["SECRET_KEY"] = ...`, `SECRET_KEY=` keywords, `{"SECRET_KEY": ...}`,
    `.setdefault("SECRET_KEY", ...)`: shapes the production path may not have seen run (current_app,
    a function it does not follow). Plain `SECRET_KEY = ...` is left to config selection: a class
    the production path does not select is exactly what this rule is about."""
    for node in m.findall(module.tree, m.Assign() | m.AnnAssign() | m.AugAssign()):
        if _blank(node.value):
            continue
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        for target in targets:
            if isinstance(target, cst.Attribute) and target.attr.value == "secret_key":
                return True
            if (
                isinstance(target, cst.Subscript)
                and len(target.slice) == 1
                and isinstance(target.slice[0].slice, cst.Index)
                and literal(target.slice[0].slice.value) == "SECRET_KEY"
            ):
                return True
    for arg in m.findall(module.tree, m.Arg(keyword=m.Name("SECRET_KEY"))):
        if not _blank(arg.value):
            return True
    for element in m.findall(module.tree, m.DictElement()):
        if literal(element.key) == "SECRET_KEY" and not _blank(element.value):
            return True
    for call in m.findall(module.tree, m.Call(func=m.Attribute(attr=m.Name("setdefault")))):
        if len(call.args) > 1 and literal(call.args[0].value) == "SECRET_KEY" and not _blank(call.args[1].value):
            return True
    return False


def _blank(expr: cst.BaseExpression | None) -> bool:
    """`None` or an empty string: Flask treats the key as unset."""
    return expr is not None and is_literal(expr) and literal(expr) in (None, "", b"")


def _modules(project: Project, production: ProductionPath, wanted: Callable[[bytes], bool]) -> Iterator[PyModule]:
    """Modules on the production path whose text passes `wanted` (a byte prefilter before parsing)."""
    for path in production.modules:
        if wanted(project.raw(path) or b""):
            module = project.python(path)
            if module is not None:
                yield module


def _session_uses(project: Project, production: ProductionPath, config: AppConfig) -> list[SessionUse]:
    storage = _session_storage(production, config)
    csrf = _setting(config, "WTF_CSRF_ENABLED", True)
    csrf_on = csrf is not UNDECIDED and bool(csrf)
    uses: list[SessionUse] = []
    for kind, what in EXTENSIONS.items():
        csrf = kind == "wtf_csrf"
        if not csrf and storage not in ("cookie", "signed"):
            continue
        for ext in production.extension(kind):
            if ext.inits and (csrf_on or not csrf):
                uses.append(SessionUse(what, ext.path, ext.line, csrf))
    cookie = storage in ("cookie", "signed")
    for module in _modules(project, production, lambda data: _may_use_session(data, cookie, csrf_on)):
        found = _code_uses(module, cookie, csrf_on)
        uses.extend(found)
        if found:
            # Modules come in import order: uses in later modules cannot come first.
            break
    order = {path: index for index, path in enumerate(production.modules)}
    return sorted(uses, key=lambda use: (order.get(use.path, len(order)), use.line))


def _mentions_key(data: bytes) -> bool:
    return b"secret_key" in data or b"SECRET_KEY" in data


def _may_use_session(data: bytes, cookie: bool, csrf_on: bool) -> bool:
    """A byte prefilter: the module imports `session`/`flash` from Flask (`db.session` alone does not
    count), or imports Flask-WTF."""
    if csrf_on and b"flask_wtf" in data:
        return True
    if not cookie or not (b"session" in data or b"flash" in data):
        return False
    if _IMPORT_FLASK.search(data):
        return True
    return any(b"session" in names or b"flash" in names for names in _FROM_FLASK_IMPORT.findall(data))


def _session_storage(production: ProductionPath, config: AppConfig) -> str | None:
    """How sessions are stored. "cookie": Flask's own signed-cookie sessions (or Flask-Session's
    null backend, the same `NullSession` without a key); "signed": Flask-Session signing its session
    ids with the key; "server": Flask-Session on a server-side backend with unsigned ids, which needs
    no key; None when that cannot be told (then only CSRF counts)."""
    if not any(ext.inits for ext in production.extension("flask_session")):
        return "cookie"
    backend = _setting(config, "SESSION_TYPE", None)
    signer = _setting(config, "SESSION_USE_SIGNER", False)
    if signer is UNDECIDED or backend is UNDECIDED:
        return None
    if signer:
        return "signed"
    if backend in (None, "null"):
        return "cookie"
    return "server" if isinstance(backend, str) and backend in SERVER_SIDE else None


def _setting(config: AppConfig, key: str, default: object) -> object:
    """The production value of a config key: `default` (the extension's) when nothing sets it,
    UNDECIDED when it cannot be told."""
    setting = config.get(key)
    if setting is None:
        return default
    value = setting.value.effective
    if not isinstance(value, Known) or setting.conditional:
        return UNDECIDED
    return value.value


def _code_uses(module: PyModule, cookie_sessions: bool, csrf_on: bool) -> list[SessionUse]:
    uses = []
    if cookie_sessions:
        for node in m.findall(module.tree, m.Subscript() | m.Attribute()):
            if SESSION in module.qualified_names(node.value):
                what = "`session[...]`" if isinstance(node, cst.Subscript) else f"`session.{node.attr.value}`"
                uses.append(SessionUse(what, module.path, module.line(node)))
        for call in m.findall(module.tree, m.Call()):
            if module.qualified_names(call.func) & FLASH:
                uses.append(SessionUse("`flash()`", module.path, module.line(call)))
    if csrf_on:
        for cls in m.findall(module.tree, m.ClassDef()):
            bases = [base for base in cls.bases if module.qualified_names(base.value) & FLASK_FORMS]
            if bases and not _csrf_disabled(cls):
                base = module.code(bases[0].value)
                what = f"`{cls.name.value}({base})`"
                uses.append(SessionUse(what, module.path, module.line(cls), csrf=True))
    return uses


def _csrf_disabled(cls: cst.ClassDef) -> bool:
    """`class Meta: csrf = False` inside the form."""
    for meta in m.findall(cls.body, m.ClassDef(name=m.Name("Meta"))):
        for assign in m.findall(meta, m.Assign(targets=[m.AssignTarget(target=m.Name("csrf"))])):
            if literal(assign.value) is False:
                return True
    return False
