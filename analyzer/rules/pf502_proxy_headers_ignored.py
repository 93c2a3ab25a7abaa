from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from analyzer.autofix import Fix
from analyzer.fixes.pycode import ModuleEdit
from analyzer.prodpath import ExtensionUse, Known, ProductionPath, Value
from analyzer.project import Project
from analyzer.pysource import PyModule
from analyzer.pyvalues import literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.startcmd import ServerRun

URL_FOR = frozenset({"flask.url_for", "flask.helpers.url_for"})
# Attributes of the request that are only right when the proxy's headers are applied.
SCHEME_ATTRIBUTES = frozenset({"is_secure", "scheme", "url_root", "host_url"})
ADDRESS_ATTRIBUTES = frozenset({"remote_addr"})
REMOTE_ADDRESS_KEYS = frozenset({"flask_limiter.util.get_remote_address", "flask_limiter.get_remote_address"})
# Flask-Dance builds its OAuth callback URL with `url_for(..., _external=True)`.
FLASK_DANCE = re.compile(r"^flask_dance\.(contrib\.\w+\.make_\w+_blueprint|(consumer\.)?OAuth[12]ConsumerBlueprint)$")
NEEDLES = (
    b"_external",
    b"is_secure",
    b"scheme",
    b"url_root",
    b"host_url",
    b"remote_addr",
    b"get_remote_address",
    b"redirect_uri",
    b"flask_dance",
)
TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".txt", ".xml")
TEMPLATE_URL_FOR = re.compile(r"\burl_for\s*\(")
EXTERNAL = re.compile(r"\b_external\s*=\s*(True|true)\b")
# gunicorn's default: only a proxy on the same machine is trusted, and Railway's is not.
GUNICORN_DEFAULT_TRUST = frozenset({"127.0.0.1", "127.0.0.1,::1", "::1,127.0.0.1"})
SHOWN_USES = 3

FACTORY = (
    "from flask import Flask\n\n\n"
    "def create_app(config_name='default'):\n"
    "    app = Flask(__name__)\n"
    "    from .auth import auth as auth_blueprint\n\n"
    "    app.register_blueprint(auth_blueprint, url_prefix='/auth')\n"
    "    return app\n"
)
WSGI = "import os\nfrom app import create_app\n\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n"
AUTH = (
    "from flask import Blueprint, render_template, url_for\n\n"
    "auth = Blueprint('auth', __name__)\n\n\n"
    "@auth.route('/reset')\n"
    "def reset():\n"
    "    link = url_for('auth.confirm', token='t', _external=True)\n"
    "    return render_template('auth/email/reset.txt', link=link)\n"
)
PROXYFIX = (
    "    from werkzeug.middleware.proxy_fix import ProxyFix\n\n"
    "    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)\n"
    "    return app\n"
)


@dataclass
class Use:
    kind: str  # "scheme" or "address"
    what: str
    path: str
    line: int

    @property
    def shown(self) -> str:
        return f"{self.what} ({self.path}:{self.line})"


class ProxyHeadersIgnored(Rule):
    """
    ## What it does
    Flags an app that builds external URLs or trusts the request's scheme or
    client address — `url_for(..., _external=True)` in code or in Jinja
    templates (e-mailed links), a `redirect_uri` built with `url_for`,
    `request.is_secure`, `request.scheme`, `request.url_root`,
    `request.host_url`, Flask-Dance's OAuth callbacks, `request.remote_addr`,
    Flask-Limiter's `get_remote_address` — when the production path neither
    wraps the app in Werkzeug's `ProxyFix` nor sets gunicorn's
    `--forwarded-allow-ips` / `FORWARDED_ALLOW_IPS`.

    ## Why is this bad?
    Railway terminates HTTPS at its edge proxy and forwards plain HTTP with
    `X-Forwarded-Proto: https` and `X-Forwarded-For`. gunicorn only believes
    those headers from the addresses in `forwarded_allow_ips` (default
    `127.0.0.1`), and neither Flask nor Werkzeug reads them, so the app sees
    every request as `http://` from the proxy's address: password-reset links
    and OAuth `redirect_uri`s come out `http://` (the provider rejects them),
    `request.is_secure` is always False, and every client shares one address,
    so a rate limit keyed on it locks everybody out at once. gunicorn's
    setting fixes the scheme only: `REMOTE_ADDR` stays the proxy's address
    unless `ProxyFix` (`x_for=1`) rewrites it. Flask-Talisman is not flagged:
    it reads `X-Forwarded-Proto` itself.

    ## Example
    ```python
    app = Flask(__name__)

    def send_reset_email(user):
        link = url_for("auth.reset", token=user.token(), _external=True)  # http://...
    ```

    ## Use instead
    ```python
    from werkzeug.middleware.proxy_fix import ProxyFix

    app = Flask(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    ```

    ## How to fix
    Wrap the app once Railway's single proxy hop is in front of it: `app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)`.

    ## Fix safety
    The autofix adds `app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)`
    (with `x_for=1` for client addresses) after the app is created, or before the
    factory's `return app`, or corrects an existing ProxyFix. It trusts one proxy
    hop: the app must only be reachable through Railway's proxy.

    ## References
    - Werkzeug: `werkzeug.middleware.proxy_fix.ProxyFix`
    - Flask: Tell Flask it is behind a proxy
    - gunicorn: settings, `forwarded_allow_ips` and `secure_scheme_headers`
    - Railway: Public networking (X-Forwarded-Proto, X-Forwarded-For)
    """

    id = "PF502"
    slug = "proxy-headers-ignored"
    severity = Severity.MEDIUM
    title = "Proxy headers ignored"

    def check(self, project: Project) -> Iterator[Finding]:
        candidates = project.python_paths_containing(*NEEDLES)
        templates = _template_paths(project)
        if not candidates and not templates:
            return
        production = project.production
        if production.app is None:
            return
        uses = [use for path in production.modules if path in candidates for use in _code_uses(project.python(path))]
        for path in templates:
            uses.extend(_template_uses(path, project.read_text(path) or ""))
        if not uses:
            return
        fixes = production.extension("proxyfix")
        not_run = [
            f"ProxyFix ({use.where}) is not on the production path"
            for use in production.extension("proxyfix", on_path=False)
            if not use.on_path
        ]
        run = project.server_run
        gunicorn_trust = _gunicorn_trust(project, production, run)
        scheme = [use for use in uses if use.kind == "scheme"]
        address = [use for use in uses if use.kind == "address"]
        # One fix for both findings: the wrap they need together, so applying either clears both.
        proposed = proxyfix_fix(project, production, fixes, bool(address))
        if scheme and gunicorn_trust is None and not any(_applies(fix, "x_proto", 2) for fix in fixes):
            why = _missing(fixes, "x_proto")
            if run is not None and run.kind == "gunicorn":
                why += " and gunicorn is not given `--forwarded-allow-ips`"
            message = f"the request's scheme, which is `http` behind Railway's proxy: {why}"
            finding = self._finding(production, scheme, message, not_run)
            finding.fix = proposed
            yield finding
        if address and not any(_applies(fix, "x_for", 1) for fix in fixes):
            why = _missing(fixes, "x_for")
            if gunicorn_trust is not None:
                why += f"; gunicorn's {gunicorn_trust} fixes the scheme, not `REMOTE_ADDR`"
            message = f"the client's address, which is Railway's proxy for every request: {why}"
            finding = self._finding(production, address, message, not_run)
            finding.fix = proposed
            yield finding

    def _finding(self, production: ProductionPath, uses: list[Use], message: str, evidence: list[str]) -> Finding:
        shown = ", ".join(use.shown for use in uses[:SHOWN_USES])
        if len(uses) > SHOWN_USES:
            shown += f" and {len(uses) - SHOWN_USES} more"
        first = uses[0]
        subject = "scheme" if first.kind == "scheme" else "client address"
        verb = "relies on" if len(uses) == 1 else "rely on"
        chain = production.why(first.path)[-2:] if first.path.endswith(".py") else []
        return self.finding(
            f"{shown} {verb} {message}", first.path, first.line, subject=subject, evidence=[*chain, *evidence]
        )

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY.replace("    return app\n", PROXYFIX),
                "app/auth.py": AUTH,
            },
            note="ProxyFix wraps the app",
        ),
        Example(
            {
                "Procfile": "web: gunicorn --forwarded-allow-ips='*' wsgi:app\n",
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/auth.py": AUTH,
            },
            note="gunicorn trusts the proxy's X-Forwarded-Proto",
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12-slim\nENV FORWARDED_ALLOW_IPS="*"\nCMD gunicorn -b 0.0.0.0:$PORT wsgi:app\n',
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/auth.py": AUTH,
                "app/templates/auth/email/reset.txt": "{{ url_for('auth.confirm', token=token, _external=True) }}\n",
            },
            note="FORWARDED_ALLOW_IPS in the image",
        ),
        Example(
            {
                "Procfile": "web: gunicorn -c gunicorn.conf.py wsgi:app\n",
                "gunicorn.conf.py": "forwarded_allow_ips = '*'\nworkers = 2\n",
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/auth.py": AUTH,
            },
            note="forwarded_allow_ips in gunicorn.conf.py",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask, url_for\nfrom flask_talisman import Talisman\n\n"
                    "app = Flask(__name__)\nTalisman(app)\n\n\n"
                    "@app.route('/')\ndef index():\n    return url_for('index')\n"
                ),
            },
            note="Talisman reads X-Forwarded-Proto itself; relative URLs need no scheme",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                "scripts/mail_digest.py": (
                    "from flask import url_for\n\n\ndef link():\n    return url_for('index', _external=True)\n"
                ),
            },
            note="unrelated: a script the web process never imports",
        ),
        Example(
            {
                "web/Procfile": "web: gunicorn app:app\n",
                "web/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                "docs/templates/example.html": "{{ url_for('index', _external=True) }}\n",
            },
            app_root="web",
            note="unrelated: templates outside the app root",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask, url_for\n\napp = Flask(__name__)\n\n\n"
                    "@app.route('/share')\ndef share():\n"
                    "    return url_for('index', _external=True, _scheme='https')\n"
                ),
            },
            note="the scheme is given explicitly",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask, request\n"
                    "from werkzeug.middleware.proxy_fix import ProxyFix as PF\n\n"
                    "app = Flask(__name__)\napp.wsgi_app = PF(app.wsgi_app)\n\n\n"
                    "@app.route('/ip')\ndef ip():\n    return request.remote_addr\n"
                ),
            },
            note="ProxyFix's defaults are x_for=1, x_proto=1",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/auth.py": AUTH,
            },
            expect="`url_for(..., _external=True)` (app/auth.py:8)",
            fixed={
                "app/__init__.py": (
                    "from flask import Flask\nfrom werkzeug.middleware.proxy_fix import ProxyFix\n\n\n"
                    "def create_app(config_name='default'):\n"
                    "    app = Flask(__name__)\n"
                    "    from .auth import auth as auth_blueprint\n\n"
                    "    app.register_blueprint(auth_blueprint, url_prefix='/auth')\n"
                    "    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)\n"
                    "    return app\n"
                )
            },
            note="the wrap goes before the factory's `return app`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": WSGI,
                "app/__init__.py": FACTORY,
                "app/auth.py": AUTH.replace(", _external=True", ""),
                "app/templates/auth/email/reset.txt": (
                    "Dear {{ user.username }},\n\n"
                    "{{ url_for('auth.password_reset', token=token,\n    _external=True) }}\n"
                ),
            },
            expect="app/templates/auth/email/reset.txt:3",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask, request\nfrom flask_limiter import Limiter\n"
                    "from flask_limiter.util import get_remote_address\n"
                    "from werkzeug.middleware.proxy_fix import ProxyFix\n\n"
                    "app = Flask(__name__)\napp.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=1)\n"
                    "limiter = Limiter(get_remote_address, app=app)\n"
                ),
            },
            expect="`get_remote_address` (app.py:8)",
            fixed={
                "app.py": (
                    "from flask import Flask, request\nfrom flask_limiter import Limiter\n"
                    "from flask_limiter.util import get_remote_address\n"
                    "from werkzeug.middleware.proxy_fix import ProxyFix\n\n"
                    "app = Flask(__name__)\napp.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)\n"
                    "limiter = Limiter(get_remote_address, app=app)\n"
                )
            },
            note="the existing ProxyFix trusts the address header instead",
        ),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "gunicorn --forwarded-allow-ips=* app:app"}}',
                "app.py": (
                    "import flask\n\napp = flask.Flask(__name__)\n\n\n"
                    "@app.route('/whoami')\ndef whoami():\n    return flask.request.remote_addr\n"
                ),
            },
            expect="fixes the scheme, not `REMOTE_ADDR`",
            fixed={
                "app.py": (
                    "import flask\nfrom werkzeug.middleware.proxy_fix import ProxyFix\n\n"
                    "app = flask.Flask(__name__)\napp.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)\n\n\n"
                    "@app.route('/whoami')\ndef whoami():\n    return flask.request.remote_addr\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask, redirect, request, url_for\n"
                    "from werkzeug.middleware.proxy_fix import ProxyFix\n\n"
                    "app = Flask(__name__)\n"
                    "if os.environ.get('BEHIND_PROXY'):\n"
                    "    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)\n\n\n"
                    "@app.before_request\ndef force_https():\n"
                    "    if not request.is_secure:\n"
                    "        return redirect(request.url.replace('http://', 'https://', 1))\n"
                ),
            },
            expect="`request.is_secure`",
            note="the ProxyFix branch is not taken: BEHIND_PROXY is not set",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "from flask import Flask, url_for\nfrom authlib.integrations.flask_client import OAuth\n\n"
                    "app = Flask(__name__)\noauth = OAuth(app)\n\n\n"
                    "@app.route('/login')\ndef login():\n"
                    "    redirect_uri = url_for('authorize')\n"
                    "    return oauth.google.authorize_redirect(redirect_uri)\n"
                ),
            },
            expect="a `redirect_uri` built with `url_for`",
            fixed={
                "app.py": (
                    "from flask import Flask, url_for\nfrom authlib.integrations.flask_client import OAuth\n"
                    "from werkzeug.middleware.proxy_fix import ProxyFix\n\n"
                    "app = Flask(__name__)\napp.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)\n"
                    "oauth = OAuth(app)\n\n\n"
                    "@app.route('/login')\ndef login():\n"
                    "    redirect_uri = url_for('authorize')\n"
                    "    return oauth.google.authorize_redirect(redirect_uri)\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\r\n",
                "shop/__init__.py": (
                    '"""Shop."""\r\n\r\nfrom flask import Flask, request\r\n\r\nfrom .views import bp\r\n\r\n\r\n'
                    "def create_app():\r\n    app = Flask(__name__)  # the one app\r\n"
                    "    app.register_blueprint(bp)\r\n\r\n    # done\r\n    return app\r\n"
                ),
                "shop/views.py": (
                    "from flask import Blueprint, request\r\n\r\nbp = Blueprint('shop', __name__)\r\n\r\n\r\n"
                    "@bp.route('/ip')\r\ndef ip():\r\n    return request.remote_addr\r\n"
                ),
            },
            expect="`request.remote_addr` (shop/views.py:8)",
            fixed={
                "shop/__init__.py": (
                    '"""Shop."""\r\n\r\nfrom flask import Flask, request\r\n'
                    "from werkzeug.middleware.proxy_fix import ProxyFix\r\n\r\nfrom .views import bp\r\n\r\n\r\n"
                    "def create_app():\r\n    app = Flask(__name__)  # the one app\r\n"
                    "    app.register_blueprint(bp)\r\n"
                    "    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)\r\n"
                    "\r\n    # done\r\n    return app\r\n"
                )
            },
            note="Windows line endings, a factory with comments, a blueprint reading the client address",
        ),
    ]


def _template_paths(project: Project) -> list[str]:
    """Jinja templates under the app root that mention `_external`."""
    found = []
    for path in project.app_files:
        if not path.endswith(TEMPLATE_SUFFIXES) or "templates" not in path.split("/")[:-1]:
            continue
        data = project.raw(path)
        if data is not None and b"_external" in data:
            found.append(path)
    return found


def _template_uses(path: str, text: str) -> list[Use]:
    uses = []
    for match in TEMPLATE_URL_FOR.finditer(text):
        arguments = _parenthesized(text, match.end())
        if arguments is not None and EXTERNAL.search(arguments) and "_scheme" not in arguments:
            line = text.count("\n", 0, match.start()) + 1
            uses.append(Use("scheme", "`url_for(..., _external=True)`", path, line))
    return uses


def _parenthesized(text: str, start: int, limit: int = 2000) -> str | None:
    """The text up to the parenthesis that closes the one opened just before `start`."""
    depth = 1
    for index in range(start, min(len(text), start + limit)):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[start:index]
    return None


def _code_uses(module: PyModule | None) -> list[Use]:
    if module is None:
        return []
    finder = _UseFinder(module)
    module.tree.visit(finder)
    return finder.uses


class _UseFinder(cst.CSTVisitor):
    def __init__(self, module: PyModule) -> None:
        self.module = module
        self.uses: list[Use] = []

    def _add(self, kind: str, what: str, node: cst.CSTNode) -> None:
        self.uses.append(Use(kind, what, self.module.path, self.module.line(node)))

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr not in SCHEME_ATTRIBUTES and attr not in ADDRESS_ATTRIBUTES:
            return
        if f"flask.request.{attr}" in self.module.qualified_names(node):
            self._add("scheme" if attr in SCHEME_ATTRIBUTES else "address", f"`request.{attr}`", node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "get_remote_address" and self.module.qualified_names(node) & REMOTE_ADDRESS_KEYS:
            self._add("address", "`get_remote_address`", node)

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        names = self.module.qualified_names(node.func)
        if names & URL_FOR and _external(node):
            self._add("scheme", "`url_for(..., _external=True)`", node)
        elif any(FLASK_DANCE.match(name) for name in names):
            self._add("scheme", "Flask-Dance's OAuth callback URL", node)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "redirect_uri":
                self._redirect_uri(arg.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            name = target.target
            last = name.value if isinstance(name, cst.Name) else getattr(getattr(name, "attr", None), "value", None)
            if last == "redirect_uri":
                self._redirect_uri(node.value)

    def _redirect_uri(self, value: cst.BaseExpression) -> None:
        """A redirect URI from a relative `url_for` (an external one is reported as such)."""
        for call in m.findall(value, m.Call()):
            if (
                isinstance(call.func, (cst.Name, cst.Attribute))
                and self.module.qualified_names(call.func) & URL_FOR
                and not _external(call)
            ):
                self._add("scheme", "a `redirect_uri` built with `url_for`", call)
                return


def _external(call: cst.Call) -> bool:
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    return "_external" in keywords and literal(keywords["_external"]) is True and "_scheme" not in keywords


def _applies(fix: ExtensionUse, option: str, position: int) -> bool:
    """Whether a ProxyFix applies the header: Werkzeug's defaults are `x_for=1, x_proto=1`;
    the old `werkzeug.contrib.fixers.ProxyFix` applies all of them. Unknown counts as applied."""
    if fix.qualname.startswith("werkzeug.contrib."):
        return True
    return _hops(fix.argument(option, position)) != 0


def _hops(value: Value | None) -> int | None:
    if value is None:
        return 1
    plain = value.effective
    if isinstance(plain, Known) and isinstance(plain.value, int):
        return plain.value
    return None


def _missing(fixes: list[ExtensionUse], option: str) -> str:
    if fixes:
        return f"ProxyFix ({fixes[0].where}) has `{option}=0`"
    return "no ProxyFix wraps the app"


def _gunicorn_trust(project: Project, production: ProductionPath, run: ServerRun | None) -> str | None:
    """Where gunicorn is told to trust Railway's proxy (`forwarded_allow_ips`), or None."""
    if run is None or run.kind != "gunicorn" or run.gunicorn is None:
        return None
    start = project.start_command
    option = run.gunicorn.last("--forwarded-allow-ips")
    if run.gunicorn.has("--forwarded-allow-ips") and _trusts(option):
        return f"`--forwarded-allow-ips` ({run.script or start.source})"
    conf_path = project.gunicorn_conf_path
    setting = project.gunicorn_conf.get("forwarded_allow_ips")
    if setting is not None and _trusts(setting.value):
        return f"`forwarded_allow_ips` ({conf_path}:{setting.line})"
    environment = production.environment
    source = environment.source("FORWARDED_ALLOW_IPS")
    if source is not None and _trusts(source.value):
        return f"`FORWARDED_ALLOW_IPS` ({source.origin})"
    arguments = environment.source("GUNICORN_CMD_ARGS")
    if arguments is not None and (arguments.value is None or "--forwarded-allow-ips" in arguments.value):
        return f"`GUNICORN_CMD_ARGS` ({arguments.origin})"
    return None


def _trusts(value: str | None) -> bool:
    """Anything but gunicorn's own default trusts more than localhost; an unknown value may."""
    if value is None:
        return True
    return value.strip().strip("'\"").replace(" ", "") not in GUNICORN_DEFAULT_TRUST


PROXYFIX_SAFETY = (
    "Trusts one proxy hop, which is Railway's edge: the app then takes the scheme, host{address} from the "
    "`X-Forwarded-*` headers, so it must only be reachable through Railway's proxy (no other proxy in front "
    "of it, and no port exposed directly)."
)


def proxyfix_fix(project: Project, production: ProductionPath, fixes: list[ExtensionUse], address: bool) -> Fix | None:
    """`app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)` (with `x_for=1` for client addresses) after
    the app is created, or before `return app` in its factory; an existing ProxyFix that sets a needed
    header to 0 gets 1 instead."""
    safety = PROXYFIX_SAFETY.format(address=" and client address" if address else "")
    if fixes:
        use = fixes[0]
        edit = ModuleEdit.of(project, use.path)
        call = edit.locate(use.node, project.python(use.path)) if edit is not None else None
        if not isinstance(call, cst.Call):
            return None
        for arg in call.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword in ("x_proto", "x_for", "x_host") and literal(arg.value) == 0:
                edit.replace(arg.value, "1")
        return edit.fix("Trust Railway's proxy in the existing ProxyFix", safety)
    app = production.app
    edit = ModuleEdit.of(project, app.path) if app is not None else None
    call = edit.locate(app.node, app.module) if edit is not None else None
    statement = edit.statement_of(call) if call is not None else None
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not (isinstance(assign, cst.Assign) and assign.value is call and len(assign.targets) == 1):
        return None
    target = assign.targets[0].target
    if not isinstance(target, cst.Name):
        return None
    wrap = edit.import_name("werkzeug.middleware.proxy_fix", "ProxyFix")
    if wrap is None:
        return None
    name = target.value
    options = "x_for=1, x_proto=1, x_host=1" if address else "x_proto=1, x_host=1"
    code = f"{name}.wsgi_app = {wrap}({name}.wsgi_app, {options})"
    returned = _factory_return(edit, statement, name)
    if returned is not None:
        edit.insert_before(returned, code)
    else:
        edit.insert_after(statement, code)
    return edit.fix("Wrap the app in ProxyFix", safety)


def _factory_return(edit: ModuleEdit, statement: cst.BaseStatement, name: str) -> cst.BaseStatement | None:
    """The `return app` of the factory whose body creates the app, when it is written in that body."""
    block = edit.parent(statement)
    if not isinstance(block, cst.IndentedBlock) or not isinstance(edit.parent(block), cst.FunctionDef):
        return None
    for candidate in block.body:
        if (
            isinstance(candidate, cst.SimpleStatementLine)
            and len(candidate.body) == 1
            and isinstance(candidate.body[0], cst.Return)
            and isinstance(candidate.body[0].value, cst.Name)
            and candidate.body[0].value.value == name
        ):
            return candidate
    return None
