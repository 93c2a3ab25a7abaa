"""Which code runs: the modules the server imports and the functions they call at startup.

The walk follows Python's order of execution without running anything. It
starts at the module the server loads (or the script run as `__main__`),
executes module-level statements in order, and when a statement imports a
module of the repository it walks that module first, as Python does
(transitively; a module is walked once). `if` branches are decided under the
production environment where the test can be decided (so an
`if __name__ == "__main__":` block is skipped unless the module is the one run
as a script); undecided branches are walked as conditional.

Functions: a call, in a statement that runs, of a function defined in the
repository runs that function's body (imports inside it included), and so on
transitively; each function runs once (a visited set), bound to the arguments of
its first call. This is how the factory the target calls (`wsgi:create_app()`,
or `app = create_app(...)` in the served module) and helpers such as
`register_extensions(app)` are reached. Methods and functions only referenced
(route handlers, callbacks) are not run; their modules are still imported.
"""

from __future__ import annotations

import ast
import dataclasses
import posixpath
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

import libcst as cst
from libcst.metadata import PositionProvider

from analyzer.files import nesting_problem
from analyzer.prodpath.lattice import ClassRef, External, FunctionRef, Known, ObjectRef, Value
from analyzer.prodpath.quiet import IMPORT_KINDS, ModuleFacts, Prover, Unproven
from analyzer.prodpath.values import FLASK_CLASSES, Evaluator, Scope
from analyzer.pysource import PyModule, dotted_name
from analyzer.pyvalues import literal
from analyzer.wsgi import find_module, module_roots

if TYPE_CHECKING:
    from analyzer.flaskapps import AppSite
    from analyzer.project import Project

FACTORY_NAMES = ("create_app", "make_app")


@dataclass
class Entry:
    """Where the production path starts."""

    kind: str  # "server" (a WSGI server), "dev-server" (flask run, python file.py), "assumed", "none"
    path: str | None = None  # the module the server loads, repo-relative
    attr: str | None = None  # the attribute the target names (`app`, `create_app`)
    factory_args: list[Value] | None = None  # `module:factory(args)`: the factory is called with these
    factory_kwargs: dict[str, Value] = field(default_factory=dict)
    main: bool = False  # the module runs as `__main__`
    roots: list[str] = field(default_factory=list)
    cwd: str = ""
    evidence: list[str] = field(default_factory=list)
    assumed_sites: list[AppSite] = field(default_factory=list)

    @property
    def assumed(self) -> bool:
        return self.kind == "assumed"


@dataclass
class Step:
    """One statement that runs, in execution order.

    `node` is a small statement (`x = 1`, `import a`, `app.run()`), or the header
    of a compound one: an `if`/`while` test, a `for` iterable, `with` items, a
    `def`'s decorators and defaults, a `class`'s decorators and bases.

    `quiet` steps belong to a module whose import runs nothing but imports and
    definitions (`quiet`): no env read, dotenv load, extension, config operation
    or Flask app. Their node and scope are found when first asked for; code that
    looks only for those things can skip them without that cost.
    """

    seq: int
    node: cst.CSTNode
    scope: Scope
    conditional: bool  # inside a branch that could not be decided, a loop or an except handler
    quiet: ClassVar[bool] = False

    @property
    def module(self) -> PyModule:
        return self.scope.module

    @property
    def path(self) -> str:
        return self.scope.path

    @property
    def line(self) -> int:
        return self.module.line(self.node)

    @property
    def function(self) -> str | None:
        """The function the step runs in (None at module or class level)."""
        return self.scope.name if self.scope.kind == "function" else None

    def expressions(self) -> list[cst.CSTNode]:
        """The parts of `node` that execute."""
        node = self.node
        if isinstance(node, (cst.If, cst.While)):
            return [node.test]
        if isinstance(node, cst.For):
            return [node.iter]
        if isinstance(node, cst.With):
            return [item.item for item in node.items]
        if isinstance(node, cst.Match):
            return [node.subject]
        if isinstance(node, cst.FunctionDef):
            params = node.params
            defaults = [p.default for p in (*params.posonly_params, *params.params, *params.kwonly_params) if p.default]
            return [*(d.decorator for d in node.decorators), *defaults]
        if isinstance(node, cst.ClassDef):
            return [*(d.decorator for d in node.decorators), *(arg.value for arg in (*node.bases, *node.keywords))]
        return [node]

    @cached_property
    def nodes(self) -> list[cst.CSTNode]:
        """The calls, subscripts and boolean operations that execute in this step, in source
        order (nested defs, lambdas and class bodies excluded: they run later, if at all)."""
        return executable_nodes(self.expressions())

    def calls(self) -> list[cst.Call]:
        return [node for node in self.nodes if isinstance(node, cst.Call)]


class QuietStep(Step):
    """A step of a quiet module, created from CPython's tree; its libcst node and scope come on demand."""

    quiet = True

    def __init__(self, seq: int, module: QuietModule, conditional: bool) -> None:
        self.seq = seq
        self.conditional = conditional
        self._module = module
        self._node: cst.CSTNode | None = None
        self._scope: Scope | None = None

    @property
    def node(self) -> cst.CSTNode:
        self._module.materialize()
        return self._node

    @property
    def scope(self) -> Scope:
        self._module.materialize()
        return self._scope

    @property
    def path(self) -> str:
        return self._module.path

    @property
    def function(self) -> None:
        return None  # quiet steps run at module or class level


class QuietModule:
    """The steps of a quiet module, given their libcst nodes and scopes together, the first time one is needed."""

    def __init__(self, walker: Walker, path: str, conditional: bool) -> None:
        self.walker = walker
        self.path = path
        self.conditional = conditional
        self.steps: list[QuietStep] = []
        self.done = False

    def parsed(self) -> bool:
        return self.walker.evaluator.project.parsed(self.path) is not None

    def materialize(self) -> None:
        if self.done:
            return
        self.done = True
        scope = self.walker.evaluator.module_scope(self.path)
        if scope is not None:
            _Replay(self.walker, self.steps)._walk(scope, scope.body, self.conditional)


@dataclass
class ModuleVisit:
    path: str
    name: str
    importer: str | None = None  # the module whose import ran this one
    conditional: bool = False
    step: Step | None = field(default=None, repr=False)  # the statement that imports it
    how: str = "is imported at"
    origin: str | None = None  # the reason, for the entry (no importing statement)

    @property
    def reason(self) -> str:
        if self.step is None:
            return self.origin or self.path
        conditionally = " (conditionally)" if self.conditional else ""
        return f"{self.path} {self.how} {self.step.path}:{self.step.line}{conditionally}"


@dataclass
class FunctionRun:
    function: FunctionRef
    scope: Scope
    conditional: bool
    call: cst.Call | None = field(default=None, repr=False)
    step: Step | None = field(default=None, repr=False)  # the statement that calls it
    origin: str | None = None  # for a factory named by the start command

    @property
    def caller(self) -> str:
        """Where it is called ("wsgi.py:5"), or the start command for a factory target."""
        if self.step is None or self.call is None:
            return f"the target ({self.origin})"
        return f"{self.step.path}:{self.step.module.line(self.call)}"

    @property
    def reason(self) -> str:
        how = " (conditionally)" if self.conditional else ""
        function = self.function
        return f"`{function.name}()` ({function.path}:{function.line}) runs: called at {self.caller}{how}"


@dataclass
class Reach:
    """The code on the production path."""

    entry: Entry
    visits: dict[str, ModuleVisit] = field(default_factory=dict)  # in import order
    functions_run: list[FunctionRun] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    apps: list[ObjectRef] = field(default_factory=list)  # Flask apps constructed on the path, in order
    call_steps: dict[int, Step] = field(default_factory=dict)  # id(call node) -> the step it runs in
    _line_ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)
    _quiet: dict[str, QuietModule] = field(default_factory=dict, repr=False)
    _project: Project | None = field(default=None, repr=False)

    @property
    def modules(self) -> list[str]:
        """Repo paths of the modules on the path, in the order they are first imported."""
        return list(self.visits)

    def imported(self, path: str) -> bool:
        return path in self.visits

    def runs_call(self, call: cst.Call) -> bool:
        """Whether this call node executes on the production path."""
        return self.step_of(call) is not None

    def step_of(self, call: cst.Call) -> Step | None:
        step = self.call_steps.get(id(call))
        if step is None:
            # The node comes from a parsed module: quiet modules already parsed get their call nodes now.
            pending = [quiet for quiet in self._quiet.values() if not quiet.done and quiet.parsed()]
            for quiet in pending:
                quiet.materialize()
            if pending:
                step = self.call_steps.get(id(call))
        return step

    def function_run(self, node: cst.FunctionDef) -> FunctionRun | None:
        return next((run for run in self.functions_run if run.function.node is node), None)

    def calls(
        self, *needles: bytes, quiet: bool = True, paths: Collection[str] | None = None
    ) -> Iterator[tuple[cst.Call, Step]]:
        """Every call that executes, with its step, in execution order.

        With `needles`, only the calls of modules whose source contains one of them: looking for
        `x.add_files(...)` with `calls(b"add_files")` leaves the quiet modules that cannot hold one
        unparsed. `paths` keeps only the calls of those modules, for a rule that has already told
        from CPython's tree which modules can hold what it looks for. `quiet=False` leaves out
        every quiet step (no app, extension, config operation, env read or dotenv load is ever
        among them)."""
        mentions: dict[str, bool] = {}
        for step in self.steps:
            if step.quiet and not quiet:
                continue
            if paths is not None and step.path not in paths:
                continue
            if needles:
                path = step.path
                if path not in mentions:
                    mentions[path] = self._mentions(path, needles)
                if not mentions[path]:
                    continue
            for call in step.calls():
                yield call, step

    def _mentions(self, path: str, needles: tuple[bytes, ...]) -> bool:
        project = self._project
        data = project.raw(path) or b""
        if any(needle in data for needle in needles):
            return True
        text = project.python_source(path) or ""
        return any(needle.decode("utf-8", "replace") in text for needle in needles)

    def _ranges(self, path: str) -> list[tuple[int, int]]:
        if path not in self._line_ranges:
            ranges = []
            for step in self.steps:
                if step.path == path:
                    positions = step.module.metadata(PositionProvider)
                    for expression in step.expressions():
                        where = positions.get(expression)
                        if where is not None:
                            ranges.append((where.start.line, where.end.line))
            self._line_ranges[path] = ranges
        return self._line_ranges[path]

    def runs(self, path: str, line: int) -> bool:
        """Whether code at `path:line` runs at startup (module level of an imported module, a
        function that runs, a class body), as opposed to a request handler or a `__main__` block."""
        return any(start <= line <= end for start, end in self._ranges(path))

    def why(self, path: str) -> list[str]:
        """How a module comes to be on the path: the chain of imports from the entry."""
        chain = []
        seen = set()
        current: str | None = path
        while current is not None and current in self.visits and current not in seen:
            seen.add(current)
            visit = self.visits[current]
            chain.append(visit.reason)
            current = visit.importer
        chain.reverse()
        return chain

    def why_function(self, node: cst.FunctionDef) -> list[str]:
        run = self.function_run(node)
        if run is None:
            return []
        return [*self.why(run.function.path), run.reason]


_FIELDS: dict[type, tuple[str, ...]] = {}
_SKIPPED = (cst.Lambda, cst.FunctionDef, cst.ClassDef)
_EVALUATED = (cst.Call, cst.Subscript, cst.BooleanOperation)
_TRIVIA = (cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.LeftParen, cst.RightParen)


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Child nodes in field (source) order. Reads the fields directly: libcst's `children` and
    `visit` rebuild every node they pass, which costs more than parsing."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(item.name for item in dataclasses.fields(node))
    found = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            if not isinstance(value, _TRIVIA):
                found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(item for item in value if isinstance(item, cst.CSTNode) and not isinstance(item, _TRIVIA))
    return found


def executable_nodes(roots) -> list[cst.CSTNode]:
    """The calls, subscripts and boolean operations under `roots` that execute with them, in
    source order (nested defs, lambdas and class bodies run later, if at all). Iterative:
    generated code can nest deeper than Python's recursion limit."""
    found: list[cst.CSTNode] = []
    stack = [root for root in reversed(roots) if not isinstance(root, _SKIPPED)]
    while stack:
        node = stack.pop()
        if isinstance(node, _EVALUATED):
            found.append(node)
        stack.extend(child for child in reversed(_children(node)) if not isinstance(child, _SKIPPED))
    return found


class Walker:
    def __init__(self, evaluator: Evaluator, entry: Entry) -> None:
        self.evaluator = evaluator
        self.reach = Reach(entry, _project=evaluator.project)
        self.prover = Prover(evaluator, self.reach)
        self._functions_seen: set[int] = set()

    def run_module(
        self, path: str, *, step: Step | None = None, how: str = "is imported at", origin: str | None = None
    ) -> None:
        """Run a module: the entry (`origin` says why), or one imported by `step`."""
        if path in self.reach.visits:
            return
        facts = self.prover.quiet(path)
        scope = None
        if facts is None:
            scope = self.evaluator.module_scope(path)
            if scope is None:
                return
        name = self.evaluator.module_name(path)
        conditional = bool(step and step.conditional)
        importer = step.path if step is not None else None
        self.reach.visits[path] = ModuleVisit(path, name, importer, conditional, step, how, origin)
        if scope is not None:
            self._walk(scope, scope.body, conditional)
        else:
            self._walk_quiet(path, facts, conditional)

    def _walk_quiet(self, path: str, facts: ModuleFacts, conditional: bool) -> None:
        """Walk a quiet module from CPython's tree: its steps, and the modules it imports, in order."""
        quiet = QuietModule(self, path, conditional)
        self.reach._quiet[path] = quiet
        for statement, step_conditional, _ in self.prover.steps(facts, facts.tree.body, conditional):
            step = QuietStep(len(self.reach.steps), quiet, step_conditional)
            self.reach.steps.append(step)
            quiet.steps.append(step)
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    self.import_module(alias.name, step)
            elif isinstance(statement, ast.ImportFrom):
                source = "." * statement.level + (statement.module or "")
                self._import_from(step, source, [alias.name for alias in statement.names])

    def run_function(
        self,
        ref: FunctionRef,
        scope: Scope | None,
        conditional: bool,
        *,
        call: cst.Call | None = None,
        step: Step | None = None,
        origin: str | None = None,
    ) -> FunctionRun | None:
        if id(ref.node) in self._functions_seen or scope is None:
            return None
        self._functions_seen.add(id(ref.node))
        run = FunctionRun(ref, scope, conditional, call, step, origin)
        self.reach.functions_run.append(run)
        self._walk(scope, scope.body, conditional)
        return run

    def _step(self, node: cst.CSTNode, scope: Scope, conditional: bool) -> Step:
        step = Step(len(self.reach.steps), node, scope, conditional)
        self.reach.steps.append(step)
        for call in step.calls():
            self.reach.call_steps[id(call)] = step
        return step

    def _walk(self, scope: Scope, statements, conditional: bool) -> bool:
        scope.entries()  # decides the branches
        for statement in statements:
            if isinstance(statement, (cst.SimpleStatementLine, cst.BaseSmallStatement)):
                smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement]
                for small in smalls:
                    self._execute(self._step(small, scope, conditional))
                    if isinstance(small, (cst.Return, cst.Raise)) and not conditional:
                        return True
            elif isinstance(statement, cst.If):
                self._execute(self._step(statement, scope, conditional))
                if self._if(scope, statement, conditional):
                    return True
            elif isinstance(statement, cst.FunctionDef):
                self._execute(self._step(statement, scope, conditional))
            elif isinstance(statement, cst.ClassDef):
                self._execute(self._step(statement, scope, conditional))
                ref = ClassRef(scope.path, statement.name.value, statement, scope.module)
                class_scope = self.evaluator.class_scope(ref)
                if class_scope is not None:
                    self._walk(class_scope, class_scope.body, conditional)
            elif isinstance(statement, cst.Try):
                if self._walk(scope, statement.body.body, conditional):
                    return True
                for handler in statement.handlers:
                    self._walk(scope, handler.body.body, True)
                if statement.orelse is not None:
                    self._walk(scope, statement.orelse.body.body, conditional)
                if statement.finalbody is not None:
                    self._walk(scope, statement.finalbody.body.body, conditional)
            elif isinstance(statement, cst.With):
                self._execute(self._step(statement, scope, conditional))
                if self._walk(scope, statement.body.body, conditional):
                    return True
            elif isinstance(statement, (cst.For, cst.While)):
                self._execute(self._step(statement, scope, conditional))
                self._walk(scope, statement.body.body, True)
                if statement.orelse is not None:
                    self._walk(scope, statement.orelse.body.body, True)
            elif isinstance(statement, cst.Match):
                self._execute(self._step(statement, scope, conditional))
                for case in statement.cases:
                    self._walk(scope, case.body.body, True)
        return False

    def _if(self, scope: Scope, statement: cst.If, conditional: bool) -> bool:
        orelse = statement.orelse
        else_body = [orelse] if isinstance(orelse, cst.If) else (orelse.body.body if orelse is not None else [])
        if id(statement) in scope.fallback_ifs:
            self._walk(scope, statement.body.body, True)
            return False
        taken = scope.decisions.get(id(statement))
        if taken is True:
            return self._walk(scope, statement.body.body, conditional)
        if taken is False:
            return self._walk(scope, else_body, conditional)
        self._walk(scope, statement.body.body, True)
        self._walk(scope, else_body, True)
        return False

    def _execute(self, step: Step) -> None:
        node = step.node
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            self._import(step)
        for call in step.calls():
            self._call(call, step)

    def import_module(self, dotted: str, step: Step, *, parents: bool = True, how: str = "is imported at") -> None:
        """Run a module imported by `step` (and its parent packages first, as Python does)."""
        parts = dotted.split(".")
        for index in range(1 if parents else len(parts), len(parts) + 1):
            path = self.evaluator.find_module(".".join(parts[:index]))
            if path is not None:
                self.run_module(path, step=step, how=how)

    def _import(self, step: Step) -> None:
        node = step.node
        if isinstance(node, cst.Import):
            for alias in node.names:
                self.import_module(dotted_name(alias.name), step)
            return
        source = "." * len(node.relative) + (dotted_name(node.module) if node.module else "")
        names = ["*"] if isinstance(node.names, cst.ImportStar) else [dotted_name(alias.name) for alias in node.names]
        self._import_from(step, source, names)

    def _import_from(self, step: Step, source: str, names: list[str]) -> None:
        evaluator = self.evaluator
        absolute = evaluator.absolute(step.path, source)
        if absolute:
            self.import_module(absolute, step)
        if names == ["*"]:
            return
        package = evaluator.find_module(absolute) if absolute else None
        for name in names:
            # `from pkg import name` imports the submodule unless the package binds `name` itself.
            if package is None or not self._binds_itself(package, name):
                self.import_module(f"{absolute}.{name}" if absolute else name, step, parents=False)

    def _binds_itself(self, package: str, name: str) -> bool:
        quiet = self.reach._quiet.get(package)
        if quiet is not None:
            try:
                return self.prover.binds_itself(self.prover.facts(package), name)
            except Unproven:
                pass  # a star import of a repo module: its scope says
        scope = self.evaluator.module_scope(package)
        bound = scope.lookup(name) if scope is not None else []
        return any(entry.kind not in IMPORT_KINDS for entry in bound)

    def _call(self, call: cst.Call, step: Step) -> None:
        if not isinstance(call.func, (cst.Name, cst.Attribute)):
            return
        evaluator = self.evaluator
        callee = evaluator.evaluate(call.func, step.scope, before=step.node).effective
        target = callee.value if isinstance(callee, Known) else None
        if isinstance(target, FunctionRef):
            scope = evaluator.bind_call(target, call, step.scope, before=step.node)
            self.run_function(target, scope, step.conditional, call=call, step=step)
        elif (isinstance(target, External) and target.qualname in FLASK_CLASSES) or (
            isinstance(target, ClassRef) and evaluator.is_flask_class(target)
        ):
            app = evaluator.evaluate(call, step.scope, before=step.node).effective
            if isinstance(app, Known) and isinstance(app.value, ObjectRef) and app.value not in self.reach.apps:
                self.reach.apps.append(app.value)


class _Replay(Walker):
    """Walks a quiet module's libcst tree as the walker would, executing nothing (its imports have
    run and it calls nothing of the repository), to give its steps their nodes and scopes."""

    def __init__(self, walker: Walker, steps: list[QuietStep]) -> None:
        self.evaluator = walker.evaluator
        self.reach = walker.reach
        self._pending = iter(steps)

    def _step(self, node: cst.CSTNode, scope: Scope, conditional: bool) -> Step:
        step = next(self._pending)
        step._node, step._scope = node, scope
        for call in step.calls():
            self.reach.call_steps[id(call)] = step
        return step

    def _execute(self, step: Step) -> None:
        return


# -- the entry -----------------------------------------------------------------


def find_entry(project: Project) -> Entry:
    """The module the production server loads, and how the analyzer knows."""
    served = project.wsgi_target
    run = project.server_run
    start = project.start_command
    source = start.source if start is not None else "the start command"
    if served is not None and served.target.path is not None:
        target = served.target
        cwd = project.app_path(run.cwd)
        if run.kind == "python-file":
            roots = [posixpath.dirname(target.path), *module_roots(project, run.cwd, [])]
            return Entry(
                "dev-server",
                target.path,
                main=True,
                roots=list(dict.fromkeys(roots)),
                cwd=cwd,
                evidence=[f"{target.path} runs as a script: `{run.command}` ({source})"],
            )
        roots = target.searched or module_roots(project, run.cwd, [])
        origin = source if served.origin == "command" else served.origin
        kind = "dev-server" if run.kind == "flask-run" else "server"
        entry = Entry(
            kind,
            target.path,
            attr=target.attr,
            roots=roots,
            cwd=cwd,
            evidence=[f"{target.path} is loaded by {run.kind}: `{served.spec}` ({origin})"],
        )
        if target.is_call:
            entry.factory_args, entry.factory_kwargs = _spec_arguments(served.spec)
        elif run.kind == "flask-run" and target.binding is None:
            # `flask run` falls back to a `create_app`/`make_app` factory when no app is bound.
            module = project.python(target.path)
            factory = next((name for name in FACTORY_NAMES if module is not None and name in module.bindings), None)
            if factory is not None:
                entry.attr, entry.factory_args = factory, []
        return entry
    if run is not None and run.kind in ("manage", "python-module") and run.argv:
        roots = module_roots(project, run.cwd, [])
        if run.kind == "manage":
            path = project.app_path(posixpath.join(run.cwd, run.argv[0]))
        else:
            path = find_module(project, run.argv[0], roots)
            if path is not None and path.endswith("__init__.py"):
                path = posixpath.join(posixpath.dirname(path), "__main__.py")
        if path is not None and path in project.files.paths:
            return Entry(
                "dev-server",
                path,
                main=True,
                roots=list(dict.fromkeys([posixpath.dirname(path), *roots])),
                cwd=project.app_path(run.cwd),
                evidence=[f"{path} runs as a script: `{run.command}` ({source})"],
            )
    sites = project.discovery.apps
    roots = module_roots(project, ".", [])
    if sites:
        shown = ", ".join(f"`{site.app.target}` ({site.app.path}:{site.app.line})" for site in sites)
        why = "no start command" if start is None else f"the start command ({source}) loads no module of the repository"
        return Entry(
            "assumed",
            roots=roots,
            cwd=project.app_root,
            evidence=[f"assumed: {why}; taking the Flask app(s) found: {shown}"],
            assumed_sites=list(sites),
        )
    return Entry("none", roots=roots, cwd=project.app_root, evidence=["no start command and no Flask app found"])


def _spec_arguments(spec: str) -> tuple[list[Value], dict[str, Value]]:
    """Literal arguments of a `module:factory(args)` target, as gunicorn evaluates them."""
    _, _, attr = spec.partition(":")
    if nesting_problem(attr.strip()) is not None:
        return [], {}  # libcst's native parser can crash the process on deep nesting
    try:
        call = cst.parse_expression(attr.strip())
    except cst.ParserSyntaxError:
        return [], {}
    if not isinstance(call, cst.Call):
        return [], {}
    given: list[Value] = []
    keywords: dict[str, Value] = {}
    for arg in call.args:
        value = Known(literal(arg.value), trace=(f"the start command calls `{attr.strip()}`",))
        if arg.keyword is not None:
            keywords[arg.keyword.value] = value
        else:
            given.append(value)
    return given, keywords


def walk(walker: Walker, entry: Entry) -> Reach:
    """Walk the production path from `entry`."""
    reach = walker.reach
    if entry.path is not None:
        walker.run_module(entry.path, origin=entry.evidence[0])
        if entry.factory_args is not None and entry.attr:
            _run_factory(walker, entry.path, entry.attr, entry.factory_args, entry.factory_kwargs, entry.evidence[0])
    for site in entry.assumed_sites:
        walker.run_module(site.module.path, origin=entry.evidence[0])
        if site.function is not None:
            _run_factory(walker, site.module.path, site.function.name.value, [], {}, entry.evidence[0])
    return reach


def _run_factory(walker: Walker, path: str, name: str, args, kwargs, reason: str) -> None:
    evaluator = walker.evaluator
    scope = evaluator.module_scope(path)
    if scope is None:
        return
    value = evaluator.name_value(name, scope).effective
    if not (isinstance(value, Known) and isinstance(value.value, FunctionRef)):
        return
    ref = value.value
    function_scope = evaluator.bind_arguments(ref, list(args), dict(kwargs))
    walker.run_function(ref, function_scope, False, origin=reason)


def served_app(reach: Reach, evaluator: Evaluator) -> ObjectRef | None:
    """The Flask app object the server serves, when it can be told."""
    entry = reach.entry
    value: Value | None = None
    if entry.path is not None and entry.attr:
        scope = evaluator.module_scope(entry.path)
        if scope is not None:
            value = evaluator.name_value(entry.attr, scope).effective
            if entry.factory_args is not None and isinstance(value, Known) and isinstance(value.value, FunctionRef):
                function_scope = evaluator.function_scope(value.value)
                value = evaluator.return_value(function_scope).effective if function_scope else None
    if isinstance(value, Known) and isinstance(value.value, ObjectRef) and value.value.is_flask_app:
        return value.value
    return reach.apps[0] if reach.apps else None
