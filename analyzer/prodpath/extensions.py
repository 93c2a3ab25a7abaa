"""Which extensions and WSGI wraps are on the app, where they are built and how they are configured.

Every module that imports one of the known libraries is scanned (a byte
prefilter first), so background-work definitions outside the web process
(a Celery app only the worker imports) are found too; `on_path` says whether
the construction runs on the production path. Constructors are matched by
qualified name, so aliases are followed. For objects built on the path,
`init_app(app)` calls and `.start()` are linked back to the construction by
evaluating the receiver, and the arguments are evaluated under the production
environment.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from analyzer.prodpath.lattice import Known, ObjectRef, Unknown, Value
from analyzer.pyvalues import is_literal, literal

if TYPE_CHECKING:
    from analyzer.files import QuickParse
    from analyzer.prodpath.configs import AppConfig, Setting
    from analyzer.prodpath.imports import Reach, Step
    from analyzer.prodpath.values import Evaluator
    from analyzer.project import Project
    from analyzer.pysource import PyModule

# Qualified name of the constructor (or decorator) -> kind.
CONSTRUCTORS = {
    "flask_sqlalchemy.SQLAlchemy": "sqlalchemy",
    "flask_sqlalchemy.extension.SQLAlchemy": "sqlalchemy",
    "sqlalchemy.create_engine": "sqlalchemy_engine",
    "sqlalchemy.engine.create_engine": "sqlalchemy_engine",
    "flask_migrate.Migrate": "migrate",
    "flask_login.LoginManager": "login",
    "flask_login.login_manager.LoginManager": "login",
    "flask_wtf.CSRFProtect": "wtf_csrf",
    "flask_wtf.csrf.CSRFProtect": "wtf_csrf",
    "flask_wtf.CsrfProtect": "wtf_csrf",
    "flask_session.Session": "flask_session",
    "celery.Celery": "celery",
    "rq.Queue": "rq",
    "rq.queue.Queue": "rq",
    "apscheduler.schedulers.background.BackgroundScheduler": "apscheduler",
    "apscheduler.schedulers.blocking.BlockingScheduler": "apscheduler",
    "apscheduler.schedulers.asyncio.AsyncIOScheduler": "apscheduler",
    "apscheduler.schedulers.gevent.GeventScheduler": "apscheduler",
    "flask_apscheduler.APScheduler": "apscheduler",
    "werkzeug.middleware.proxy_fix.ProxyFix": "proxyfix",
    "werkzeug.contrib.fixers.ProxyFix": "proxyfix",
    "whitenoise.WhiteNoise": "whitenoise",
    "flask_debugtoolbar.DebugToolbarExtension": "debug_toolbar",
    "flask_talisman.Talisman": "talisman",
    "flask_limiter.Limiter": "limiter",
    "flask_socketio.SocketIO": "socketio",
    "werkzeug.debug.DebuggedApplication": "debugged_application",
}
# Decorators that define background work by themselves.
DECORATORS = {
    "dramatiq.actor": "dramatiq",
    "celery.shared_task": "celery_task",
}
KINDS = frozenset({*CONSTRUCTORS.values(), *DECORATORS.values()})
# A module pays for qualified names only when its text names one of the constructors (an alias
# such as `SQLAlchemy as SA` still names it in the import).
_MENTIONS = re.compile(
    r"\b(" + "|".join(sorted({name.rsplit(".", 1)[-1] for name in (*CONSTRUCTORS, *DECORATORS)})) + r")\b"
)
# The same names in raw bytes: every file `_MENTIONS` matches once decoded, and some more.
_MENTIONS_BYTES = re.compile(_MENTIONS.pattern.encode())
# The libraries' top-level packages: a module that imports none of them constructs nothing here.
PACKAGES = frozenset(name.split(".")[0] for name in (*CONSTRUCTORS, *DECORATORS))
_NEEDLES = tuple(needle for top in PACKAGES for needle in (f"import {top}".encode(), f"from {top}".encode()))


@dataclass
class ExtensionInit:
    """Where an extension is bound to an app: its constructor (`SQLAlchemy(app)`) or `init_app(app)`."""

    app: ObjectRef | None
    path: str
    line: int
    seq: int | None  # execution order on the path
    via: str  # "constructor" or "init_app"


@dataclass
class ExtensionUse:
    kind: str  # one of KINDS
    qualname: str
    path: str
    line: int
    node: cst.CSTNode = field(repr=False)  # the constructor call, or the decorator
    on_path: bool  # the construction runs on the production path
    conditional: bool = False
    seq: int | None = None
    function: str | None = None  # the function it is built in, if any
    name: str | None = None  # the variable it is bound to (`db`)
    assigned_to: str | None = None  # the assignment target as written (`app.wsgi_app`, `application`)
    wrapped: str | None = None  # for WSGI wraps: the first argument as written (`app.wsgi_app`)
    arguments: dict[str, Value] = field(default_factory=dict)  # keywords by name, positionals as "0", "1"
    object: ObjectRef | None = None
    inits: list[ExtensionInit] = field(default_factory=list)
    started: list[tuple[str, int]] = field(default_factory=list)  # `.start()` calls (path, line) on the path
    database_uri: Setting | None = None  # sqlalchemy: SQLALCHEMY_DATABASE_URI when the engine is set up
    uri_after_init: list[Setting] = field(default_factory=list)  # assigned after init_app: no effect

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def wraps_wsgi_app(self) -> bool:
        """`app.wsgi_app = ProxyFix(app.wsgi_app, ...)`: the app's WSGI callable is replaced."""
        return bool(self.assigned_to and self.assigned_to.endswith(".wsgi_app"))

    @property
    def bound_to_app(self) -> bool:
        return any(init.app is not None for init in self.inits)

    def argument(self, name: str, position: int | None = None) -> Value | None:
        if name in self.arguments:
            return self.arguments[name]
        if position is not None:
            return self.arguments.get(str(position))
        return None


class _Finder(cst.CSTVisitor):
    def __init__(self, module: PyModule) -> None:
        self.module = module
        self.functions: list[str] = []
        self.assigns: list[tuple[cst.BaseExpression | None, cst.BaseExpression]] = []
        self.found: list[tuple[str, str, cst.CSTNode, str | None, cst.BaseExpression | None]] = []
        self.task_decorators: list[tuple[cst.BaseExpression, cst.CSTNode]] = []  # (receiver, decorator)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            expr = decorator.decorator
            func = expr.func if isinstance(expr, cst.Call) else expr
            if isinstance(func, cst.Attribute) and func.attr.value == "task" and not self.functions:
                self.task_decorators.append((func.value, expr))
            if isinstance(func, (cst.Name, cst.Attribute)):
                for name in self.module.qualified_names(func):
                    if name in DECORATORS:
                        function = self.functions[-1] if self.functions else None
                        self.found.append((DECORATORS[name], name, expr, function, None))
        self.functions.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        self.assigns.append((node.targets[0].target if len(node.targets) == 1 else None, node.value))

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self.assigns.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        for name in self.module.qualified_names(node.func):
            if name in CONSTRUCTORS:
                # Only a call that is the whole assigned value is bound to the target.
                target = self.assigns[-1][0] if self.assigns and self.assigns[-1][1] is node else None
                function = self.functions[-1] if self.functions else None
                self.found.append((CONSTRUCTORS[name], name, node, function, target))
                return


def _task_decorated(quick: QuickParse) -> bool:
    """A function decorated with `@<something>.task`, whose receiver may be a Celery app imported
    from the repository (so the module imports nothing of celery itself)."""
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and any(
            isinstance(func := (d.func if isinstance(d, ast.Call) else d), ast.Attribute) and func.attr == "task"
            for d in node.decorator_list
        )
        for node in quick.nodes
    )


def may_build_extension(project: Project, path: str) -> bool:
    """Whether the module may construct an extension or define background work: its text names a
    constructor or decorator this module looks for, and CPython's tree shows an import of one of
    the libraries (or a `@<app>.task` decorator, whose app may come from another module)."""
    data = project.raw(path) or b""
    if not _MENTIONS_BYTES.search(data):
        text = project.python_source(path)
        if not (text and _MENTIONS.search(text)):
            return False
    quick = project.quick(path)
    return quick is None or quick.may_import(PACKAGES) or _task_decorated(quick)


def find_extensions(
    project: Project, reach: Reach, evaluator: Evaluator, configs: list[AppConfig]
) -> list[ExtensionUse]:
    paths = list(dict.fromkeys([*reach.modules, *project.python_paths_containing(*_NEEDLES)]))
    uses: list[ExtensionUse] = []
    for path in paths:
        if not may_build_extension(project, path):
            continue  # no name in it can resolve to a constructor: leave it unparsed
        module = project.python(path)
        if module is None:
            continue
        finder = _Finder(module)
        module.tree.visit(finder)
        for kind, qualname, node, function, target in finder.found:
            uses.append(_use(reach, evaluator, module, kind, qualname, node, function, target))
        scope = evaluator.module_scope(path) if finder.task_decorators else None
        for receiver, decorator in finder.task_decorators:
            # `@celery.task` on a module-level function, where `celery = Celery(...)`.
            value = evaluator.evaluate(receiver, scope).effective
            if (
                isinstance(value, Known)
                and isinstance(value.value, ObjectRef)
                and value.value.qualname == "celery.Celery"
            ):
                uses.append(_use(reach, evaluator, module, "celery_task", "celery.Celery.task", decorator, None, None))
    _link(reach, evaluator, uses)
    _database_uris(project, uses, configs)
    return uses


def _use(reach, evaluator, module, kind, qualname, node, function, target) -> ExtensionUse:
    # A module naming an extension is never quiet, so its calls' steps are known without a lookup.
    step = reach.call_steps.get(id(node)) if isinstance(node, cst.Call) else _decorator_step(reach, module, node)
    use = ExtensionUse(
        kind,
        qualname,
        module.path,
        module.line(node),
        node,
        on_path=step is not None,
        conditional=bool(step and step.conditional),
        seq=step.seq if step else None,
        function=function,
    )
    if target is not None:
        use.assigned_to = module.code(target)
        if isinstance(target, cst.Name):
            use.name = target.value
    if not isinstance(node, cst.Call):
        return use
    positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
    if positional and kind in ("proxyfix", "whitenoise", "debugged_application"):
        use.wrapped = module.code(positional[0].value)
    for index, arg in enumerate(positional):
        use.arguments[str(index)] = _argument(evaluator, step, module, arg.value)
    for arg in node.args:
        if arg.keyword is not None:
            use.arguments[arg.keyword.value] = _argument(evaluator, step, module, arg.value)
    if step is not None:
        value = evaluator.evaluate(node, step.scope, before=step.node).effective
        if isinstance(value, Known) and isinstance(value.value, ObjectRef):
            use.object = value.value
        app_arg = use.arguments.get("app") or use.arguments.get("0")
        if kind not in ("proxyfix", "whitenoise", "debugged_application", "sqlalchemy_engine", "rq", "celery"):
            app = _flask_app(app_arg)
            if app is not None:
                use.inits.append(ExtensionInit(app, use.path, use.line, step.seq, "constructor"))
    return use


def _decorator_step(reach: Reach, module: PyModule, node: cst.CSTNode) -> Step | None:
    for step in reach.steps:
        if (
            step.path == module.path
            and isinstance(step.node, cst.FunctionDef)
            and any(decorator.decorator is node for decorator in step.node.decorators)
        ):
            return step
    return None


def _argument(evaluator: Evaluator, step: Step | None, module: PyModule, expr: cst.BaseExpression) -> Value:
    if step is not None:
        return evaluator.evaluate(expr, step.scope, before=step.node)
    if is_literal(expr):
        return Known(literal(expr), path=module.path, node=expr, module=module)
    return Unknown("not on the production path", path=module.path, node=expr, module=module)


def _flask_app(value: Value | None) -> ObjectRef | None:
    plain = value.effective if value is not None else None
    if isinstance(plain, Known) and isinstance(plain.value, ObjectRef) and plain.value.is_flask_app:
        return plain.value
    return None


def _link(reach: Reach, evaluator: Evaluator, uses: list[ExtensionUse]) -> None:
    """Attach `ext.init_app(app)` and `scheduler.start()` calls that run to their construction."""
    by_object = {use.object: use for use in uses if use.object is not None}
    if not by_object:
        return
    for call, step in reach.calls(quiet=False):
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in ("init_app", "start")):
            continue
        receiver = evaluator.evaluate(func.value, step.scope, before=step.node).effective
        if not (isinstance(receiver, Known) and receiver.value in by_object):
            continue
        use = by_object[receiver.value]
        line = step.module.line(call)
        if func.attr.value == "start":
            use.started.append((step.path, line))
            continue
        argument = next((arg.value for arg in call.args if arg.keyword is None or arg.keyword.value == "app"), None)
        app = _flask_app(evaluator.evaluate(argument, step.scope, before=step.node)) if argument is not None else None
        use.inits.append(ExtensionInit(app, step.path, line, step.seq, "init_app"))


def _database_uris(project: Project, uses: list[ExtensionUse], configs: list[AppConfig]) -> None:
    """SQLALCHEMY_DATABASE_URI as Flask-SQLAlchemy reads it.

    Flask-SQLAlchemy 3 creates its engines in `init_app`, so a URI assigned later has no effect.
    2.x creates the engine at the first query and reads the config then: with 2.x pinned, the
    value in effect once startup is over is the one SQLAlchemy gets."""
    lazy = project.manifests.pinned_below("flask-sqlalchemy", "3.0") is True
    by_app = {config.app: config for config in configs}
    for use in uses:
        if use.kind != "sqlalchemy":
            continue
        for init in use.inits:
            config = by_app.get(init.app) if init.app is not None else None
            if config is None or init.seq is None:
                continue
            if lazy:
                use.database_uri = config.settings.get("SQLALCHEMY_DATABASE_URI")
            else:
                use.database_uri = config.setting_before("SQLALCHEMY_DATABASE_URI", init.seq)
                use.uri_after_init = config.settings_after("SQLALCHEMY_DATABASE_URI", init.seq)
            break
