"""Quiet modules: modules on the production path that are walked from CPython's tree, not libcst's.

Most modules a server imports (views, models, forms) only import other modules
and define things. Parsing them with libcst costs several times what CPython's
own parser does, so the walk proves, from the `ast` tree, that walking such a
module the usual way would change nothing but the list of steps and the
modules it imports:

- every `if` it runs is decided without evaluating anything (the
  `if __name__ == "__main__":` guard), so building its bindings evaluates nothing;
- every call its statements make resolves, through names bound by imports,
  plain assignments and definitions (in any module), to something that is not
  a repo function, a repo class or a Flask class, and resolving it calls
  nothing of the repository (so no function runs or is bound to arguments);
- it holds nothing the rest of the production path looks for in steps: no env
  read, dotenv load, extension, `init_app`/`start` call or config operation.

Such a module is walked from `ast`: its steps are created in the same order
with the same sequence numbers, its imports run the imported modules at the
same points, and each step's libcst node and scope are filled in (by walking
the libcst tree the usual way, without executing anything) the first time
anyone asks for them. The checks are conservative: anything the prover does not
understand makes the module loud, which is walked as before.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.flaskapps import FLASK_CLASSES
from analyzer.prodpath.configs import APP_ATTRIBUTES, CONFIG_METHODS
from analyzer.prodpath.extensions import may_build_extension

if TYPE_CHECKING:
    from analyzer.prodpath.imports import Reach
    from analyzer.prodpath.values import Evaluator

# Text that means the module may read the environment, load a dotenv file or build an extension.
LOUD_NEEDLES = (b"environ", b"getenv", b"decouple", b"dotenv")
LINK_METHODS = frozenset({"init_app", "start"})
IMPORT_KINDS = frozenset({"import", "from-import", "star"})
# Statements with blocks; every other statement is a small one (a step of its own, as in libcst).
_COMPOUND = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Match,
)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_CALLLESS = (ast.Import, ast.ImportFrom, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)
_NOT_EVALUATED = (
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
    ast.NamedExpr,
    ast.Slice,
)
_MAX_DEPTH = 25


class Unproven(Exception):
    """The prover cannot tell that evaluating something is free of effects."""


# -- bindings, as `values.Scope.entries()` records them ---------------------------


@dataclass
class Binding:
    name: str
    kind: str  # the `values.Assignment` kinds
    order: int
    conditional: bool
    value: ast.expr | None = None
    import_source: str | None = None
    import_name: str | None = None
    fallback: bool = False  # an `except` handler supplies a fallback, or raises


class Bindings:
    """The bindings of a module or class body, built from `ast` the way `values.Scope` builds
    them from libcst. Names bound under an `if` that cannot be decided here are opaque."""

    def __init__(self, body: list[ast.stmt], decide) -> None:
        self.entries: list[Binding] = []
        self.opaque: set[str] = set()
        self.blocked = False  # an undecided `if` may end the body: nothing can be looked up
        self.pure = True  # building the libcst scope evaluates nothing
        self.order: dict[int, int] = {}
        self._decide = decide
        stack = list(reversed(body))
        while stack:
            statement = stack.pop()
            self.order[id(statement)] = len(self.order)
            if not isinstance(statement, _DEFS):
                stack.extend(reversed(_inner_statements(statement)))
        self._walk(body, False)

    @property
    def names(self) -> set[str]:
        return {entry.name for entry in self.entries} | self.opaque

    def lookup(self, name: str, limit: int | None, star_is_repo) -> list[Binding]:
        """`Scope.lookup`: the last unconditional binding before `limit` and the conditional ones after it."""
        if self.blocked or name in self.opaque:
            raise Unproven(name)
        found = []
        for entry in reversed(self.entries):
            if limit is not None and entry.order >= limit:
                continue
            if entry.kind == "star":
                if star_is_repo(entry):
                    raise Unproven("a star import of a repo module")
                continue
            if entry.name != name:
                continue
            found.append(entry)
            if not entry.conditional:
                break
        found.reverse()
        return found

    def _add(self, name: str, kind: str, node: ast.stmt, conditional: bool, **kwargs) -> Binding:
        entry = Binding(name, kind, self.order.get(id(node)) or 0, conditional, **kwargs)
        self.entries.append(entry)
        return entry

    def _walk(self, statements, conditional: bool) -> bool:
        for statement in statements:
            if not isinstance(statement, _COMPOUND):
                self._small(statement, conditional)
                if isinstance(statement, (ast.Return, ast.Raise)) and not conditional:
                    return True
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._add(statement.name, "def", statement, conditional)
            elif isinstance(statement, ast.ClassDef):
                self._add(statement.name, "class", statement, conditional)
            elif isinstance(statement, ast.If):
                taken = self._decide(statement)
                if taken is None:
                    self._undecided(statement)
                    continue
                if self._walk(statement.body if taken else statement.orelse, conditional):
                    return True
            elif isinstance(statement, ast.Try):
                self._try(statement, conditional)
            elif isinstance(statement, (ast.With, ast.AsyncWith)):
                for item in statement.items:
                    if item.optional_vars is not None:
                        self._targets(item.optional_vars, None, statement, True, "loop")
                if self._walk(statement.body, conditional):
                    return True
            elif isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
                if not isinstance(statement, ast.While):
                    self._targets(statement.target, None, statement, True, "loop")
                self._walk(statement.body, True)
                self._walk(statement.orelse, True)
            elif isinstance(statement, ast.Match):
                for case in statement.cases:
                    self._walk(case.body, True)
        return False

    def _undecided(self, statement: ast.If) -> None:
        """An `if` libcst's scope decides by evaluating its test: what it binds is not known here."""
        self.pure = False
        self.opaque.update(node.id for node in ast.walk(statement.test) if isinstance(node, ast.Name))
        for node in _walked(statement.body + statement.orelse):
            if isinstance(node, (ast.Return, ast.Raise)):
                self.blocked = True
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.opaque.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self.opaque.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
                if any(alias.name == "*" for alias in node.names):
                    self.blocked = True
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.opaque.add(node.id)

    def _try(self, statement: ast.Try, conditional: bool) -> None:
        before = len(self.entries)
        self._walk(statement.body, conditional)
        assigned = {entry.name: entry for entry in self.entries[before:] if entry.kind == "assign"}
        for handler in statement.handlers:
            entry = _single_fallback(handler.body, assigned)
            if entry is not None:
                entry.fallback = True
                continue
            self._walk(handler.body, True)
        self._walk(statement.orelse, conditional)
        self._walk(statement.finalbody, conditional)

    def _small(self, small: ast.stmt, conditional: bool) -> None:
        if isinstance(small, ast.Assign):
            for target in small.targets:
                self._targets(target, small.value, small, conditional, "assign")
        elif isinstance(small, ast.AnnAssign) and small.value is not None:
            self._targets(small.target, small.value, small, conditional, "assign")
        elif isinstance(small, ast.AugAssign) and isinstance(small.target, ast.Name):
            self._add(small.target.id, "augassign", small, conditional, value=small.value)
        elif isinstance(small, ast.Import):
            for alias in small.names:
                if alias.asname is not None:
                    self._add(alias.asname, "import", small, conditional, import_source=alias.name)
                else:
                    top = alias.name.split(".")[0]
                    self._add(top, "import", small, conditional, import_source=top)
        elif isinstance(small, ast.ImportFrom):
            source = "." * small.level + (small.module or "")
            for alias in small.names:
                if alias.name == "*":
                    self._add("*", "star", small, conditional, import_source=source)
                    return
                bound = alias.asname or alias.name
                self._add(bound, "from-import", small, conditional, import_source=source, import_name=alias.name)

    def _targets(self, target: ast.expr, value, node: ast.stmt, conditional: bool, kind: str) -> None:
        if isinstance(target, ast.Name):
            self._add(target.id, kind, node, conditional, value=value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                if isinstance(inner, ast.Name):
                    self._add(inner.id, "unpack" if kind == "assign" else kind, node, conditional, value=value)


def _inner_statements(statement: ast.stmt) -> list[ast.stmt]:
    """The statements of a compound statement's blocks, in source order (`values._inner_statements`)."""
    if isinstance(statement, (ast.If, ast.For, ast.AsyncFor, ast.While)):
        return [*statement.body, *statement.orelse]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return list(statement.body)
    if isinstance(statement, (ast.Try, ast.TryStar)):
        inner = list(statement.body)
        for handler in statement.handlers:
            inner.extend(handler.body)
        return [*inner, *statement.orelse, *statement.finalbody]
    if isinstance(statement, ast.Match):
        return [inner for case in statement.cases for inner in case.body]
    return []


def _walked(statements) -> Iterator[ast.AST]:
    """Every node of the statements that runs with them (not the bodies of nested defs and classes)."""
    stack = list(statements)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _DEFS):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _single_fallback(statements, assigned: dict[str, Binding]) -> Binding | None:
    """`values._single_fallback`: a handler that is one `NAME = value` of an assigned NAME, or one `raise`."""
    smalls = []
    for statement in statements:
        if isinstance(statement, _COMPOUND):
            return None
        if not isinstance(statement, (ast.Pass, ast.Expr)):
            smalls.append(statement)
    if len(smalls) != 1:
        return None
    small = smalls[0]
    if isinstance(small, ast.Raise) and len(assigned) == 1:
        return next(iter(assigned.values()))
    if isinstance(small, ast.Assign) and len(small.targets) == 1 and isinstance(small.targets[0], ast.Name):
        return assigned.get(small.targets[0].id)
    return None


def executed_expressions(statement: ast.stmt) -> list[ast.AST]:
    """The parts of a step that execute (`imports.Step.expressions`)."""
    if isinstance(statement, (ast.If, ast.While)):
        return [statement.test]
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        return [statement.iter]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in statement.items]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        defaults = [*statement.args.defaults, *(d for d in statement.args.kw_defaults if d is not None)]
        return [*statement.decorator_list, *defaults]
    if isinstance(statement, ast.ClassDef):
        return [*statement.decorator_list, *statement.bases, *(keyword.value for keyword in statement.keywords)]
    return [statement]


def executed_calls(statement: ast.stmt) -> list[ast.Call]:
    """The calls that execute in a step (lambdas excluded: they run later, if at all)."""
    if isinstance(statement, _CALLLESS):
        return []
    found = []
    stack: list = executed_expressions(statement)
    # `ast.iter_child_nodes` is a generator per node; reading the fields directly is much faster.
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Call:
            found.append(node)
        elif kind is ast.Lambda or not isinstance(node, ast.AST):
            continue
        for name in kind._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(value)
            elif isinstance(value, ast.expr):
                stack.append(value)
    return found


# -- the prover --------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What an expression evaluates to, as far as calling it or taking its attributes goes."""

    what: str  # external, module, function, class, other
    name: str = ""  # the qualified name of an external, the dotted name of a module
    path: str = ""  # the module's path


OTHER = Kind("other")
FUNCTION = Kind("function")
CLASS = Kind("class")


@dataclass
class ModuleFacts:
    path: str
    tree: ast.Module
    bindings: Bindings


@dataclass
class Context:
    facts: ModuleFacts
    before: int | None  # the order of the statement evaluated, in the module's bindings
    class_names: set[str] | None = None  # names a class body binds, when evaluating in one


class Prover:
    """Decides which modules are quiet, and gives their bindings to the walk."""

    def __init__(self, evaluator: Evaluator, reach: Reach) -> None:
        self.evaluator = evaluator
        self.reach = reach
        self._facts: dict[str, ModuleFacts | None] = {}
        self._active: set[tuple[str, int]] = set()
        # What proven bindings evaluate to. Only successes are kept: a module that cannot be looked
        # into yet may be imported by the time another module asks.
        self._kinds: dict[tuple[str, int], Kind] = {}
        self._depth = 0
        self._imported: set[str] = set()  # modules the module being proven imports before the current step

    def facts(self, path: str) -> ModuleFacts | None:
        if path not in self._facts:
            quick = self.evaluator.project.quick(path)
            facts = None
            if quick is not None and quick.problem is None and quick.tree is not None:
                tree = quick.tree
                facts = ModuleFacts(path, tree, Bindings(tree.body, lambda statement: self.decide(path, statement)))
                if "__name__" in facts.bindings.names:
                    facts = None  # the main guards were decided on the module's own name
            self._facts[path] = facts
        return self._facts[path]

    def decide(self, path: str, statement: ast.If) -> bool | None:
        """The branch an `if __name__ == "<string>":` takes; None for any other test."""
        test = statement.test
        if not (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.comparators[0], ast.Constant)
            and isinstance(test.comparators[0].value, str)
        ):
            return None
        evaluator = self.evaluator
        name = "__main__" if path == evaluator.main_path else evaluator.module_name(path)
        return name == test.comparators[0].value

    def steps(self, facts: ModuleFacts, body, conditional: bool, klass: ast.ClassDef | None = None):
        """The statements the walker makes steps of, in order (`imports.Walker._walk`), with their
        conditional flag and the class whose body they are in. Returns True when the body ends."""
        for statement in body:
            if not isinstance(statement, _COMPOUND):
                yield statement, conditional, klass
                if isinstance(statement, (ast.Return, ast.Raise)) and not conditional:
                    return True
            elif isinstance(statement, ast.If):
                yield statement, conditional, klass
                taken = self.decide(facts.path, statement)
                if taken is None:
                    raise Unproven("an `if` decided by evaluation")
                if (yield from self.steps(facts, statement.body if taken else statement.orelse, conditional, klass)):
                    return True
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield statement, conditional, klass
            elif isinstance(statement, ast.ClassDef):
                yield statement, conditional, klass
                yield from self.steps(facts, statement.body, conditional, statement)
            elif isinstance(statement, ast.Try):
                if (yield from self.steps(facts, statement.body, conditional, klass)):
                    return True
                for handler in statement.handlers:
                    yield from self.steps(facts, handler.body, True, klass)
                yield from self.steps(facts, statement.orelse, conditional, klass)
                yield from self.steps(facts, statement.finalbody, conditional, klass)
            elif isinstance(statement, (ast.With, ast.AsyncWith)):
                yield statement, conditional, klass
                if (yield from self.steps(facts, statement.body, conditional, klass)):
                    return True
            elif isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
                yield statement, conditional, klass
                yield from self.steps(facts, statement.body, True, klass)
                yield from self.steps(facts, statement.orelse, True, klass)
            elif isinstance(statement, ast.Match):
                raise Unproven("a match statement")
        return False

    # -- deciding a module -------------------------------------------------------

    def quiet(self, path: str) -> ModuleFacts | None:
        """The module's facts when walking it can be left to `ast`; None when it must be walked as usual."""
        project = self.evaluator.project
        data = project.raw(path) or b""
        text = project.python_source(path) or ""
        if _utf8(data) == text:
            text = ""  # the byte checks already cover what the text checks would find
        if any(needle in data or needle.decode() in text for needle in LOUD_NEEDLES) or may_build_extension(
            project, path
        ):
            return None
        facts = self.facts(path)
        if facts is None or not facts.bindings.pure or facts.bindings.blocked:
            return None
        self._imported = set()
        classes: dict[int, Bindings] = {}
        try:
            for statement, _, klass in self.steps(facts, facts.tree.body, False):
                context = Context(facts, facts.bindings.order.get(id(statement)))
                if klass is not None:
                    if isinstance(statement, ast.If):
                        return None
                    if id(klass) not in classes:
                        classes[id(klass)] = Bindings(klass.body, lambda _: None)
                    names = classes[id(klass)].names
                    context = Context(facts, facts.bindings.order.get(id(klass)), names)
                if not self._quiet_step(statement, context):
                    return None
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    self._note_import(path, statement)
        except (Unproven, RecursionError):
            return None
        return facts

    def _quiet_step(self, statement: ast.stmt, context: Context) -> bool:
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in APP_ATTRIBUTES:
                    return False
                if isinstance(target, ast.Subscript) and _is_config(target.value):
                    return False
        for call in executed_calls(statement):
            func = call.func
            if isinstance(func, ast.Attribute) and (
                func.attr in LINK_METHODS or (func.attr in CONFIG_METHODS and _is_config(func.value))
            ):
                return False
            if not isinstance(func, (ast.Name, ast.Attribute)):
                continue
            kind = self.evaluate(func, context)
            if kind.what in ("function", "class") or (kind.what == "external" and kind.name in FLASK_CLASSES):
                return False
        return True

    def _note_import(self, path: str, statement: ast.Import | ast.ImportFrom) -> None:
        """Modules an import surely runs, so later steps may look into them."""
        evaluator = self.evaluator
        if isinstance(statement, ast.Import):
            dotted_names = [alias.name for alias in statement.names]
        else:
            dotted_names = [evaluator.absolute(path, "." * statement.level + (statement.module or ""))]
        for dotted in dotted_names:
            parts = dotted.split(".") if dotted else []
            for index in range(1, len(parts) + 1):
                found = evaluator.find_module(".".join(parts[:index]))
                if found is not None:
                    self._imported.add(found)

    # -- evaluating without effects ------------------------------------------------

    def _target(self, path: str) -> ModuleFacts:
        """A module to look names up in, when `values.Evaluator` would do so without effects: its scope
        is built already (it has been imported) or building it evaluates nothing."""
        facts = self.facts(path)
        if facts is None:
            raise Unproven(path)
        if not (facts.bindings.pure or path in self.reach.visits or path in self._imported):
            raise Unproven(path)
        return facts

    def _star_is_repo(self, facts: ModuleFacts):
        def check(entry: Binding) -> bool:
            evaluator = self.evaluator
            return evaluator.find_module(evaluator.absolute(facts.path, entry.import_source or "")) is not None

        return check

    def evaluate(self, expr: ast.expr, context: Context) -> Kind:
        if self._depth > _MAX_DEPTH:
            raise Unproven("too deep")
        self._depth += 1
        try:
            return self._evaluate(expr, context)
        finally:
            self._depth -= 1

    def _evaluate(self, expr: ast.expr, context: Context) -> Kind:
        if isinstance(expr, ast.Name):
            return self.name(expr.id, context)
        if isinstance(expr, ast.Attribute):
            return self.attribute(self.evaluate(expr.value, context), expr.attr)
        if isinstance(expr, ast.Call):
            if isinstance(expr.func, ast.Name) and expr.func.id == "getattr":
                raise Unproven("getattr()")
            for arg in expr.args:
                self.evaluate(arg.value if isinstance(arg, ast.Starred) else arg, context)
            for keyword in expr.keywords:
                self.evaluate(keyword.value, context)
            callee = self.evaluate(expr.func, context)
            if callee.what in ("function", "class") or callee.name == "builtins.getattr":
                raise Unproven("a call of the repository's code")
            return OTHER
        if isinstance(expr, (ast.Constant, *_NOT_EVALUATED)):
            return OTHER
        if isinstance(expr, (ast.BoolOp, ast.IfExp)):
            parts = expr.values if isinstance(expr, ast.BoolOp) else [expr.test, expr.body, expr.orelse]
            if any(self.evaluate(part, context) != OTHER for part in parts):
                raise Unproven("a choice between references")
            return OTHER
        if isinstance(expr, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.JoinedStr, ast.FormattedValue)):
            for child in ast.iter_child_nodes(expr):
                if isinstance(child, ast.expr):
                    self.evaluate(child, context)
            return OTHER
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred)):
            children = [*expr.keys, *expr.values] if isinstance(expr, ast.Dict) else list(ast.iter_child_nodes(expr))
            for child in children:
                if isinstance(child, ast.expr):
                    self.evaluate(child, context)
            return OTHER
        raise Unproven(type(expr).__name__)

    def name(self, name: str, context: Context) -> Kind:
        if context.class_names is not None and name in context.class_names:
            raise Unproven(f"`{name}` is bound in a class body")
        facts = context.facts
        entries = facts.bindings.lookup(name, context.before, self._star_is_repo(facts))
        if not entries:
            return OTHER  # a builtin, `__name__`, `__file__` or unbound: never a repo function
        if entries[0].conditional:
            for entry in entries:
                self.binding(entry, facts)
            return OTHER
        return self.binding(entries[0], facts)

    def binding(self, entry: Binding, facts: ModuleFacts) -> Kind:
        key = (facts.path, id(entry))
        if key in self._kinds:
            return self._kinds[key]
        if key in self._active:
            raise Unproven("a circular reference")
        self._active.add(key)
        try:
            kind = self._kinds[key] = self._binding(entry, facts)
        finally:
            self._active.discard(key)
        return kind

    def _binding(self, entry: Binding, facts: ModuleFacts) -> Kind:
        evaluator = self.evaluator
        if entry.kind == "assign" and not entry.fallback:
            return self.evaluate(entry.value, Context(facts, entry.order))
        if entry.kind == "def":
            return FUNCTION
        if entry.kind == "class":
            return CLASS
        if entry.kind == "loop":
            return OTHER
        if entry.kind == "import":
            source = entry.import_source or ""
            path = evaluator.find_module(source)
            return Kind("module", source, path) if path is not None else Kind("external", source)
        if entry.kind == "from-import":
            absolute = evaluator.absolute(facts.path, entry.import_source or "")
            path = evaluator.find_module(absolute)
            name = entry.import_name or entry.name
            if path is None:
                return Kind("external", f"{absolute}.{name}")
            return self._module_attribute(path, absolute, name)
        raise Unproven(entry.kind)

    def attribute(self, base: Kind, attr: str) -> Kind:
        if base.what == "external":
            return Kind("external", f"{base.name}.{attr}")
        if base.what == "module":
            return self._module_attribute(base.path, base.name, attr)
        if base.what == "class":
            raise Unproven("a class attribute")
        return OTHER

    def _module_attribute(self, path: str, dotted: str, name: str) -> Kind:
        target = self._target(path)
        star = self._star_is_repo(target)
        if target.bindings.lookup(name, None, star):
            return self.name(name, Context(target, None))
        submodule = self.evaluator.find_module(f"{dotted}.{name}")
        return Kind("module", f"{dotted}.{name}", submodule) if submodule is not None else OTHER

    def binds_itself(self, facts: ModuleFacts, name: str) -> bool:
        """`from package import name` leaves the submodule alone: the package binds `name` other than
        by an import (`imports.Walker._import`)."""
        entries = facts.bindings.lookup(name, None, self._star_is_repo(facts))
        return any(entry.kind not in IMPORT_KINDS for entry in entries)


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_config(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr == "config"
