"""What value an expression takes in production, without running anything.

`Evaluator.evaluate(expr, scope)` returns a lattice value (see `lattice`). Names
resolve to the last unconditional assignment before the point of use in their
scope (module, class or function body), then to the enclosing module, following
imports into the repo's modules. `if` statements whose test can be decided
under the production environment are decided (`if __name__ == "__main__":` is
false unless the module is the one run as a script); the branches of the others
are conditional, and a conditional assignment never overrides an unconditional
one. Env reads in every shape RULES.md lists become `EnvValue`s:
`os.environ.get(K, d)`, `os.getenv(K, default=d)`, `os.environ.get(K) or d`,
`os.environ[K]`, python-decouple's `config(K, default=d)`, and

    x = os.environ.get(K)
    if not x:
        x = d            # or `raise ...`, which makes the read required

(and the same with `try: x = os.environ[K] / except KeyError: x = d`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import libcst as cst

from analyzer.flaskapps import FLASK_CLASSES
from analyzer.prodpath.environment import Environment, is_secret_name
from analyzer.prodpath.lattice import (
    REPO_ROOT,
    ClassRef,
    EnvValue,
    External,
    FunctionRef,
    Generated,
    Known,
    ModuleRef,
    ObjectRef,
    Unknown,
    Value,
    combine_context,
    describe,
)
from analyzer.pysource import PyModule, dotted_name, module_name_for, resolve_relative
from analyzer.pyvalues import ENV_GETTERS, literal
from analyzer.wsgi import find_module

if TYPE_CHECKING:
    from analyzer.project import Project

ENV_MAPPING = "os.environ"
DECOUPLE_CONFIG = frozenset({"decouple.config"})
GENERATORS = {
    "secrets.token_hex": "secrets",
    "secrets.token_urlsafe": "secrets",
    "secrets.token_bytes": "secrets",
    "secrets.randbits": "secrets",
    "os.urandom": "urandom",
    "uuid.uuid4": "uuid",
    "uuid.uuid1": "uuid",
}
DOTENV_VALUES = frozenset({"dotenv.dotenv_values", "dotenv.main.dotenv_values"})
_PATH_FUNCTIONS = frozenset(
    {"os.path.join", "os.path.dirname", "os.path.abspath", "os.path.realpath", "os.path.normpath", "os.path.basename"}
)
_STRING_METHODS = frozenset(
    {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "replace",
        "split",
        "startswith",
        "endswith",
        "format",
        "encode",
        "decode",
        "title",
        "removeprefix",
        "removesuffix",
    }
)
_MAX_DEPTH = 60
# Qualified names cost a scope analysis of the whole module (several times the parse), so
# they are asked for only in modules whose text mentions what the question is about.
_MENTIONS = {
    "env": re.compile(r"\b(environ|getenv|decouple)\b"),
    "calls": re.compile(
        r"\b(secrets|urandom|uuid|(API)?Flask|dotenv|pathlib|getcwd)\b|os\.path|from\s+os\s+import|import\s+os\.path"
    ),
    "typing": re.compile(r"\bTYPE_CHECKING\b"),
}
BUILTINS = frozenset({"str", "int", "float", "bool", "dict", "list", "tuple", "getattr", "bytes"})


@dataclass
class Assignment:
    """One binding of a name in a scope, in execution order."""

    name: str
    kind: str  # assign, unpack, augassign, import, from-import, star, def, class, loop
    node: cst.CSTNode  # the statement (small statement, def or class)
    module: PyModule
    order: int  # execution order within the scope
    conditional: bool
    value: cst.BaseExpression | None = None
    index: int | None = None  # position in a tuple unpacking
    import_source: str | None = None  # "pkg.mod" / ".mod" as written
    import_name: str | None = None  # the imported name for `from x import name`
    fallback: cst.BaseExpression | None = None  # `if not NAME: NAME = fallback`
    fallback_node: cst.CSTNode | None = None
    raises: bool = False  # `if not NAME: raise ...`, or NAME used as a value right away (`NAME.startswith(...)`)
    catches: bool = False  # the fallback is an `except` handler, so a KeyError is caught

    @property
    def line(self) -> int:
        return self.module.line(self.node)


class Scope:
    """A module, class or function body, its bindings in execution order and its decided branches."""

    def __init__(
        self,
        evaluator: Evaluator,
        module: PyModule,
        kind: str,
        node: cst.Module | cst.ClassDef | cst.FunctionDef,
        parent: Scope | None = None,
    ) -> None:
        self.evaluator = evaluator
        self.module = module
        self.kind = kind  # module, class, function
        self.node = node
        self.parent = parent
        self.params: dict[str, Value] = {}
        self.decisions: dict[int, bool | None] = {}  # id(if node) -> branch taken (None: undecided)
        self.decision_values: dict[int, Value] = {}
        self.fallback_ifs: set[int] = set()
        self.returns: list[tuple[cst.Return, bool]] = []
        self._entries: list[Assignment] = []
        self._maybe_none: dict[str, Assignment] = {}  # names bound to `get(K)` and not yet used or rebound
        self._order: dict[int, int] | None = None
        self._state = "new"  # new, building, built
        self._return_value: Value | None = None

    @property
    def path(self) -> str:
        return self.module.path

    @property
    def name(self) -> str:
        if isinstance(self.node, (cst.ClassDef, cst.FunctionDef)):
            return self.node.name.value
        return self.evaluator.module_name(self.module.path)

    @property
    def body(self) -> list:
        if isinstance(self.node, cst.Module):
            return list(self.node.body)
        return list(self.node.body.body)

    def entries(self) -> list[Assignment]:
        if self._state == "new":
            self._state = "building"
            self._walk(self.body, False)
            self._state = "built"
        return self._entries

    def order_of(self, node: cst.CSTNode) -> int | None:
        """The execution order of a statement of this body (nested blocks included, not nested
        functions or classes). Source order is execution order within one body, so an ordinal
        replaces positions, which cost a pass over the module."""
        if self._order is None:
            order: dict[int, int] = {}
            stack = list(reversed(self.body))
            while stack:
                statement = stack.pop()
                order[id(statement)] = len(order)
                if isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        order[id(small)] = len(order)
                elif not isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.BaseSmallStatement)):
                    stack.extend(reversed(_inner_statements(statement)))
            self._order = order
        return self._order.get(id(node))

    def lookup(self, name: str, before: cst.CSTNode | None = None) -> list[Assignment]:
        """The bindings of `name` that can hold when `before` runs: the last unconditional one
        and the conditional ones after it (empty when unbound in this scope). A `before` outside
        this body means the end of it."""
        limit = self.order_of(before) if before is not None else None
        found: list[Assignment] = []
        for entry in reversed(self.entries()):
            if limit is not None and entry.order >= limit:
                continue
            if entry.kind == "star":
                if not self.evaluator.star_binds(self, entry, name):
                    continue
            elif entry.name != name:
                continue
            found.append(entry)
            if not entry.conditional:
                break
        found.reverse()
        return found

    def entry_for(self, node: cst.CSTNode) -> list[Assignment]:
        return [entry for entry in self.entries() if entry.node is node]

    def names(self) -> list[str]:
        """Every name this scope binds, in first-binding order."""
        return list(dict.fromkeys(entry.name for entry in self.entries() if entry.kind != "star"))

    # -- building ------------------------------------------------------------

    def _add(self, **kwargs) -> Assignment:
        entry = Assignment(module=self.module, order=self.order_of(kwargs["node"]) or 0, **kwargs)
        self._entries.append(entry)
        self._maybe_none.pop(entry.name, None)
        if entry.kind == "assign" and not entry.conditional and _optional_read_shape(entry.value):
            self._maybe_none[entry.name] = entry
        return entry

    def _walk(self, statements, conditional: bool) -> bool:
        """Record bindings; True when the block ends unconditionally (return/raise)."""
        for statement in statements:
            if self._maybe_none and not conditional:
                self._note_dereferences(statement)
            if isinstance(statement, (cst.SimpleStatementLine, cst.BaseSmallStatement)):
                smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement]
                for small in smalls:
                    self._small(small, conditional)
                    if isinstance(small, (cst.Return, cst.Raise)) and not conditional:
                        return True
            elif isinstance(statement, cst.FunctionDef):
                self._add(name=statement.name.value, kind="def", node=statement, conditional=conditional)
            elif isinstance(statement, cst.ClassDef):
                self._add(name=statement.name.value, kind="class", node=statement, conditional=conditional)
            elif isinstance(statement, cst.If):
                if self._fallback(statement):
                    continue
                if self._if(statement, conditional):
                    return True
            elif isinstance(statement, cst.Try):
                self._try(statement, conditional)
            elif isinstance(statement, cst.With):
                for item in statement.items:
                    if item.asname is not None:
                        self._targets(item.asname.name, None, statement, True, kind="loop")
                if self._walk(statement.body.body, conditional):
                    return True
            elif isinstance(statement, (cst.For, cst.While)):
                if isinstance(statement, cst.For):
                    self._targets(statement.target, None, statement, True, kind="loop")
                self._walk(statement.body.body, True)
                if statement.orelse is not None:
                    self._walk(statement.orelse.body.body, True)
            elif isinstance(statement, cst.Match):
                for case in statement.cases:
                    self._walk(case.body.body, True)
        return False

    def _if(self, statement: cst.If, conditional: bool) -> bool:
        value = self.evaluator.evaluate(statement.test, self, before=statement)
        taken = value.truthy()
        self.decisions[id(statement)] = taken
        self.decision_values[id(statement)] = value
        orelse = statement.orelse
        else_body = [orelse] if isinstance(orelse, cst.If) else (orelse.body.body if orelse is not None else [])
        if taken is True:
            return self._walk(statement.body.body, conditional)
        if taken is False:
            return self._walk(else_body, conditional)
        self._walk(statement.body.body, True)
        self._walk(else_body, True)
        return False

    def _try(self, statement: cst.Try, conditional: bool) -> None:
        before = len(self._entries)
        self._walk(statement.body.body, conditional)
        assigned = {entry.name: entry for entry in self._entries[before:] if entry.kind == "assign"}
        for handler in statement.handlers:
            fallback = _single_fallback(handler.body.body, assigned)
            if fallback is not None:
                entry, small = fallback
                if isinstance(small, cst.Raise):
                    entry.raises = True
                else:
                    entry.fallback, entry.fallback_node, entry.catches = small.value, small, True
                continue
            self._walk(handler.body.body, True)
        if statement.orelse is not None:
            self._walk(statement.orelse.body.body, conditional)
        if statement.finalbody is not None:
            self._walk(statement.finalbody.body.body, conditional)

    def _fallback(self, statement: cst.If) -> bool:
        """`if not NAME: NAME = d` (or `raise`) right after NAME was assigned: a default, not a branch."""
        name = _tested_name(statement.test)
        if name is None or statement.orelse is not None:
            return False
        prior = next((entry for entry in reversed(self._entries) if entry.name == name), None)
        if prior is None or prior.kind != "assign" or prior.conditional:
            return False
        fallback = _single_fallback(statement.body.body, {name: prior})
        if fallback is None:
            return False
        entry, small = fallback
        if isinstance(small, cst.Raise):
            entry.raises = True
        else:
            entry.fallback, entry.fallback_node = small.value, small
        self.fallback_ifs.add(id(statement))
        return True

    def _small(self, small: cst.BaseSmallStatement, conditional: bool) -> None:
        if isinstance(small, cst.Assign):
            for target in small.targets:
                self._targets(target.target, small.value, small, conditional)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self._targets(small.target, small.value, small, conditional)
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
            self._add(
                name=small.target.value,
                kind="augassign",
                node=small,
                conditional=conditional,
                value=small.value,
            )
        elif isinstance(small, cst.Import):
            for alias in small.names:
                dotted = dotted_name(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    bound, source = alias.asname.name.value, dotted
                else:
                    bound = source = dotted.split(".")[0]
                self._add(
                    name=bound,
                    kind="import",
                    node=small,
                    conditional=conditional,
                    import_source=source,
                )
        elif isinstance(small, cst.ImportFrom):
            source = "." * len(small.relative) + (dotted_name(small.module) if small.module else "")
            if isinstance(small.names, cst.ImportStar):
                self._add(name="*", kind="star", node=small, conditional=conditional, import_source=source)
                return
            for alias in small.names:
                original = dotted_name(alias.name)
                bound = original
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    bound = alias.asname.name.value
                self._add(
                    name=bound,
                    kind="from-import",
                    node=small,
                    conditional=conditional,
                    import_source=source,
                    import_name=original,
                )
        elif isinstance(small, cst.Return):
            self.returns.append((small, conditional))

    def _note_dereferences(self, statement: cst.CSTNode) -> None:
        """`x = os.environ.get(K)` then, unconditionally, `x.startswith(...)` or `x[0]`: an unset K
        gives None and the app raises there, so the read is required (as with `if not x: raise`)."""
        for name in _dereferenced(_executed_part(statement)) & self._maybe_none.keys():
            entry = self._maybe_none.pop(name)
            if entry.fallback is None:
                entry.raises = True

    def _targets(self, target, value, node, conditional, *, kind="assign") -> None:
        if isinstance(target, cst.Name):
            self._add(name=target.value, kind=kind, node=node, conditional=conditional, value=value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for index, element in enumerate(target.elements):
                if isinstance(element.value, cst.Name):
                    self._add(
                        name=element.value.value,
                        kind="unpack" if kind == "assign" else kind,
                        node=node,
                        conditional=conditional,
                        value=value,
                        index=index,
                    )


def _optional_read_shape(value: cst.BaseExpression | None) -> bool:
    """`get(K)` / `getenv(K)` with one argument: the cheap look before the walk watches the name."""
    if not (isinstance(value, cst.Call) and len(value.args) == 1 and value.args[0].keyword is None):
        return False
    func = value.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return name in ("get", "getenv")


def _executed_part(statement: cst.CSTNode) -> cst.CSTNode | None:
    """What runs of a statement before its blocks: a simple statement whole, a compound one's header."""
    if isinstance(statement, (cst.SimpleStatementLine, cst.BaseSmallStatement)):
        return statement
    if isinstance(statement, (cst.If, cst.While)):
        return statement.test
    if isinstance(statement, cst.For):
        return statement.iter
    if isinstance(statement, cst.Match):
        return statement.subject
    return None


# Parts of an expression that may not run: a dereference there is not certain.
_MAYBE_RUN = (cst.Lambda, cst.FunctionDef, cst.ClassDef, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _dereferenced(node: cst.CSTNode | None) -> set[str]:
    """Names certainly used as objects when `node` runs (`x.attr`, `x.method()`, `x[i]`), not
    counting the right side of `and`/`or`, conditional expressions, lambdas and comprehensions."""
    found: set[str] = set()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, _MAYBE_RUN):
            continue
        if isinstance(current, cst.BooleanOperation):
            stack.append(current.left)
            continue
        if isinstance(current, cst.IfExp):
            stack.append(current.test)
            continue
        if isinstance(current, (cst.Attribute, cst.Subscript)) and isinstance(current.value, cst.Name):
            found.add(current.value.value)
        stack.extend(current.children)
    return found


def _inner_statements(statement: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements of a compound statement's blocks, in source order."""
    blocks = []
    if isinstance(statement, (cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar)):
        blocks.append(statement.body)
    if isinstance(statement, cst.If) and statement.orelse is not None:
        if isinstance(statement.orelse, cst.If):
            return [*statement.body.body, statement.orelse]
        blocks.append(statement.orelse.body)
    if isinstance(statement, (cst.For, cst.While)) and statement.orelse is not None:
        blocks.append(statement.orelse.body)
    if isinstance(statement, (cst.Try, cst.TryStar)):
        blocks.extend(handler.body for handler in statement.handlers)
        if statement.orelse is not None:
            blocks.append(statement.orelse.body)
        if statement.finalbody is not None:
            blocks.append(statement.finalbody.body)
    if isinstance(statement, cst.Match):
        blocks.extend(case.body for case in statement.cases)
    found = []
    for block in blocks:
        found.extend(block.body if isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)) else [])
    return found


def _tested_name(test: cst.BaseExpression) -> str | None:
    """NAME in `not NAME`, `NAME is None`, `NAME == ""`, `not NAME.strip()`."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and not inner.args:
            inner = inner.func.value
        return inner.value if isinstance(inner, cst.Name) else None
    if isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        empty = is_none(comparison.comparator) or literal(comparison.comparator) == ""
        if isinstance(comparison.operator, (cst.Is, cst.Equal)) and empty:
            return test.left.value
    return None


def is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _single_fallback(statements, assigned: dict[str, Assignment]):
    """(entry, statement) when a block is one `NAME = value` of an assigned NAME, or one `raise`."""
    smalls = []
    for statement in statements:
        if not isinstance(statement, cst.SimpleStatementLine):
            return None
        smalls.extend(small for small in statement.body if not isinstance(small, (cst.Pass, cst.Expr)))
    if len(smalls) != 1:
        return None
    small = smalls[0]
    if isinstance(small, cst.Raise) and len(assigned) == 1:
        return next(iter(assigned.values())), small
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        entry = assigned.get(small.targets[0].target.value)
        if entry is not None:
            return entry, small
    return None


def code_of(module: PyModule, node: cst.CSTNode, limit: int = 80) -> str:
    text = " ".join(module.code(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Evaluator:
    """Evaluates expressions of the repo's modules under one production environment."""

    def __init__(
        self,
        project: Project,
        env: Environment,
        roots: list[str],
        main_path: str | None = None,
        cwd: str | None = None,
    ) -> None:
        self.project = project
        self.env = env
        self.roots = roots
        self.main_path = main_path  # the file run as `__main__` (`python app.py`), if any
        self.cwd = project.app_root if cwd is None else cwd  # the server's working directory, repo-relative
        self._modules: dict[str, Scope | None] = {}
        self._classes: dict[int, Scope] = {}
        self._functions: dict[int, Scope] = {}
        self._values: dict[tuple[int, int], Value] = {}
        self._active: set[tuple[int, int]] = set()
        self._depth = 0
        self._mentions: dict[tuple[str, str], bool] = {}
        self._found: dict[str, str | None] = {}  # dotted module name -> its file (the files do not change)
        self._absolute: dict[tuple[str, str], str] = {}

    def qualified_names(self, module: PyModule, node: cst.CSTNode, topic: str) -> set[str]:
        """libcst's qualified names of `node`, when the module mentions `topic` at all (else empty)."""
        key = (module.path, topic)
        if key not in self._mentions:
            self._mentions[key] = bool(_MENTIONS[topic].search(module.text))
        return module.qualified_names(node) if self._mentions[key] else set()

    def is_bound(self, name: str, scope: Scope, before: cst.CSTNode | None = None) -> bool:
        """Whether `name` is bound in the scope or an enclosing one (else it is a builtin)."""
        current: Scope | None = scope
        while current is not None:
            if current.lookup(name, before) or name in current.params:
                return True
            before = current.node if current.kind == "class" else None
            current = current.parent
        return False

    # -- modules -------------------------------------------------------------

    def module_name(self, path: str) -> str:
        for root in self.roots:
            if root in ("", ".") or path.startswith(root + "/"):
                return module_name_for(path, "" if root in ("", ".") else root)
        return module_name_for(path, self.project.app_root)

    def find_module(self, dotted: str) -> str | None:
        if dotted not in self._found:
            self._found[dotted] = find_module(self.project, dotted, self.roots) if dotted else None
        return self._found[dotted]

    def absolute(self, path: str, source: str) -> str:
        """The absolute module name of an import written in the module at `path`."""
        key = (path, source)
        if key not in self._absolute:
            self._absolute[key] = resolve_relative(self.module_name(path), path.endswith("__init__.py"), source)
        return self._absolute[key]

    def module_scope(self, path: str) -> Scope | None:
        if path not in self._modules:
            module = self.project.python(path)
            self._modules[path] = Scope(self, module, "module", module.tree) if module is not None else None
        return self._modules[path]

    def class_scope(self, ref: ClassRef) -> Scope | None:
        if id(ref.node) not in self._classes:
            parent = self.module_scope(ref.path)
            if parent is None:
                return None
            self._classes[id(ref.node)] = Scope(self, parent.module, "class", ref.node, parent)
        return self._classes[id(ref.node)]

    def function_scope(self, ref: FunctionRef) -> Scope | None:
        """The function's scope as called on the production path (None when never bound)."""
        return self._functions.get(id(ref.node))

    def bind_call(
        self,
        ref: FunctionRef,
        call: cst.Call | None,
        caller: Scope | None,
        before: cst.CSTNode | None = None,
    ) -> Scope | None:
        """The scope of a call of a repo function. The first call binds it: a function that
        runs twice on the path is evaluated with the arguments of its first call."""
        if id(ref.node) in self._functions:
            return self._functions[id(ref.node)]
        given: list[Value] = []
        keywords: dict[str, Value] = {}
        spread = False
        if call is not None and caller is not None:
            positional = [*ref.node.params.posonly_params, *ref.node.params.params]
            where = f"{caller.path}:{caller.module.line(call)}"
            for arg in call.args:
                if arg.star:
                    spread = True
                    continue
                value = self.evaluate(arg.value, caller, before)
                shown = code_of(caller.module, arg.value)
                if arg.keyword is not None:
                    label = arg.keyword.value
                    note = f"`{ref.name}({label}=...)` receives `{shown}` ({where})"
                    keywords[label] = value.with_context(trace=(note,))
                else:
                    label = positional[len(given)].name.value if len(given) < len(positional) else "*"
                    given.append(value.with_context(trace=(f"`{ref.name}({label})` receives `{shown}` ({where})",)))
        return self.bind_arguments(ref, given, keywords, spread=spread, called=call is not None)

    def bind_arguments(
        self,
        ref: FunctionRef,
        given: list[Value],
        keywords: dict[str, Value],
        *,
        spread: bool = False,
        called: bool = True,
    ) -> Scope | None:
        """Bind already evaluated arguments (a `module:factory(args)` target names them as text)."""
        if id(ref.node) in self._functions:
            return self._functions[id(ref.node)]
        parent = self.module_scope(ref.path)
        if parent is None:
            return None
        scope = Scope(self, parent.module, "function", ref.node, parent)
        self._functions[id(ref.node)] = scope
        params = ref.node.params
        positional = [*params.posonly_params, *params.params]
        bound: dict[str, Value] = {}
        for index, param in enumerate([*positional, *params.kwonly_params]):
            name = param.name.value
            if index < len(positional) and index < len(given):
                bound[name] = given[index]
            elif name in keywords:
                bound[name] = keywords[name]
            elif spread:
                bound[name] = Unknown(f"`{name}` is passed through *args/**kwargs")
            elif param.default is not None:
                default = self.evaluate(param.default, parent, before=ref.node)
                line = parent.module.line(param)
                note = f"`{ref.name}()` is called without `{name}`: default {describe(default)} ({ref.path}:{line})"
                bound[name] = default.with_context(trace=(note,))
            elif not called:
                bound[name] = Unknown(f"`{name}` is a parameter of `{ref.name}` with no known argument")
            else:
                bound[name] = Unknown(f"`{ref.name}()` is called without `{name}`")
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                bound[star.name.value] = Unknown(f"`{star.name.value}` collects extra arguments")
        scope.params = bound
        return scope

    def star_binds(self, scope: Scope, entry: Assignment, name: str) -> bool:
        path = self.find_module(self.absolute(scope.path, entry.import_source or ""))
        target = self.module_scope(path) if path else None
        return target is not None and target is not scope and bool(target.lookup(name))

    # -- names ---------------------------------------------------------------

    def name_value(self, name: str, scope: Scope, before: cst.CSTNode | None = None, node=None) -> Value:
        entries = scope.lookup(name, before)
        if entries:
            return self._entries_value(entries, scope, name)
        if scope.kind == "function" and name in scope.params:
            return scope.params[name]
        if scope.parent is not None:
            parent_before = scope.node if scope.kind == "class" else None
            return self.name_value(name, scope.parent, parent_before, node)
        if name == "__name__":
            is_main = scope.path == self.main_path
            return Known("__main__" if is_main else self.module_name(scope.path), path=scope.path)
        if name == "__file__":
            return Known(f"{REPO_ROOT}/{scope.path}", path=scope.path)
        return Unknown(f"`{name}` is not bound in {scope.path}", path=scope.path)

    def _entries_value(self, entries: list[Assignment], scope: Scope, name: str) -> Value:
        last = entries[0]
        if last.conditional:
            options = tuple(self.assignment_value(entry, scope, name) for entry in entries)
            reason = f"`{name}` is only assigned conditionally"
            return Unknown(reason, options, path=scope.path, node=last.node, module=scope.module)
        return self.assignment_value(last, scope, name)

    def assignment_value(self, entry: Assignment, scope: Scope, name: str | None = None) -> Value:
        key = (id(entry), id(scope))
        if key in self._values:
            return self._values[key]
        if key in self._active or self._depth > _MAX_DEPTH:
            return Unknown("circular reference", path=scope.path, node=entry.node, module=scope.module)
        self._active.add(key)
        self._depth += 1
        try:
            value = self._assignment_value(entry, scope, name or entry.name)
        finally:
            self._active.discard(key)
            self._depth -= 1
        self._values[key] = value
        return value

    def _assignment_value(self, entry: Assignment, scope: Scope, name: str) -> Value:
        if entry.kind == "assign":
            value = self.evaluate(entry.value, scope, before=entry.node)
            if entry.fallback is not None or entry.raises:
                value = self._with_fallback(entry, value, scope)
            return value
        if entry.kind == "unpack":
            whole = self.evaluate(entry.value, scope, before=entry.node).effective
            items = whole.value if isinstance(whole, Known) else None
            if isinstance(items, (list, tuple)) and entry.index is not None and entry.index < len(items):
                return items[entry.index]
            return Unknown(f"`{entry.name}` is unpacked from a value that is not known", path=scope.path)
        if entry.kind == "augassign":
            prior = self.name_value(entry.name, scope, before=entry.node)
            operand = self.evaluate(entry.value, scope, before=entry.node)
            return self._binary(entry.node.operator, prior, operand, scope, entry.node)
        if entry.kind == "def":
            ref = FunctionRef(scope.path, entry.name, entry.node, scope.module)
            return Known(ref, path=scope.path, node=entry.node, module=scope.module)
        if entry.kind == "class":
            ref = ClassRef(scope.path, entry.name, entry.node, scope.module)
            return Known(ref, path=scope.path, node=entry.node, module=scope.module)
        if entry.kind == "import":
            return self._import_value(scope, entry.import_source or "")
        if entry.kind == "from-import":
            return self._from_import_value(scope, entry.import_source or "", entry.import_name or entry.name)
        if entry.kind == "star":
            return self._from_import_value(scope, entry.import_source or "", name)
        reason = f"`{entry.name}` is bound by a loop or `with`"
        return Unknown(reason, path=scope.path, node=entry.node, module=scope.module)

    def _with_fallback(self, entry: Assignment, value: Value, scope: Scope) -> Value:
        if isinstance(value, EnvValue) and value.default is None:
            default = None
            if entry.fallback is not None:
                default = self.evaluate(entry.fallback, scope, before=entry.fallback_node)
            required = entry.raises or (value.required and not entry.catches)
            return self.env_value(value.name, default, required, value.node, scope)
        if entry.raises:
            return value
        fallback = self.evaluate(entry.fallback, scope, before=entry.fallback_node)
        truth = value.truthy()
        if truth is True:
            return value
        if truth is False:
            return fallback.with_context(env=value.env, trace=value.trace)
        reason = f"`{entry.name}` or its fallback"
        return Unknown(reason, (value, fallback), path=scope.path, node=entry.node, module=scope.module)

    def _import_value(self, scope: Scope, source: str) -> Value:
        path = self.find_module(source)
        if path is not None:
            return Known(ModuleRef(path, source), path=scope.path)
        return Known(External(source), path=scope.path)

    def _from_import_value(self, scope: Scope, source: str, name: str) -> Value:
        absolute = self.absolute(scope.path, source)
        path = self.find_module(absolute)
        if path is None:
            return Known(External(f"{absolute}.{name}"), path=scope.path)
        target = self.module_scope(path)
        if target is not None and target.lookup(name):
            return self.name_value(name, target)
        submodule = self.find_module(f"{absolute}.{name}")
        if submodule is not None:
            return Known(ModuleRef(submodule, f"{absolute}.{name}"), path=scope.path)
        return Unknown(f"`{name}` is not bound in {path}", path=scope.path)

    # -- classes -------------------------------------------------------------

    def mro(self, ref: ClassRef) -> list[ClassRef | External]:
        """The class and its bases, depth-first left-to-right without repeats (repo classes and
        external ones; good enough for config classes, which rarely use diamonds)."""
        order: list[ClassRef | External] = []
        seen: set[int] = set()

        def visit(cls: ClassRef | External, depth: int) -> None:
            if isinstance(cls, External):
                if cls not in order:
                    order.append(cls)
                return
            if id(cls.node) in seen or depth > 20:
                return
            seen.add(id(cls.node))
            order.append(cls)
            scope = self.module_scope(cls.path)
            if scope is None:
                return
            for base in cls.node.bases:
                if base.keyword is not None:
                    continue
                value = self.evaluate(base.value, scope, before=cls.node).effective
                if isinstance(value, Known) and isinstance(value.value, (ClassRef, External)):
                    visit(value.value, depth + 1)

        visit(ref, 0)
        return order

    def is_flask_class(self, ref: ClassRef) -> bool:
        return any(isinstance(cls, External) and cls.qualname in FLASK_CLASSES for cls in self.mro(ref))

    def class_attribute(self, ref: ClassRef, name: str) -> tuple[Value, ClassRef, Assignment] | None:
        """The value of a class attribute through the MRO, the class defining it and its binding."""
        for cls in self.mro(ref):
            if isinstance(cls, External):
                continue
            scope = self.class_scope(cls)
            entries = scope.lookup(name) if scope is not None else []
            if entries:
                return self._entries_value(entries, scope, name), cls, entries[0]
        return None

    def class_settings(self, ref: ClassRef) -> dict[str, tuple[Value, ClassRef, Assignment]]:
        """UPPERCASE attributes of a config class with inheritance, as `from_object` reads them."""
        names: list[str] = []
        for cls in reversed(self.mro(ref)):
            if isinstance(cls, ClassRef):
                scope = self.class_scope(cls)
                if scope is not None:
                    names.extend(name for name in scope.names() if name.isupper())
        found = {}
        for name in dict.fromkeys(names):
            attribute = self.class_attribute(ref, name)
            if attribute is not None:
                found[name] = attribute
        return found

    def module_settings(self, path: str) -> dict[str, tuple[Value, Assignment]]:
        """UPPERCASE module-level names, as `from_object(module)` and `from_pyfile` read them."""
        scope = self.module_scope(path)
        if scope is None:
            return {}
        found = {}
        for name in scope.names():
            if name.isupper():
                entries = scope.lookup(name)
                if entries:
                    found[name] = (self._entries_value(entries, scope, name), entries[0])
        return found

    def import_string(self, dotted: str, scope: Scope | None = None) -> Value:
        """What werkzeug's `import_string` returns for "pkg.module", "pkg.module.Class" or "pkg.module:Class"."""
        dotted = dotted.strip()
        if ":" in dotted:
            module_name, _, attr = dotted.partition(":")
        else:
            path = self.find_module(dotted)
            if path is not None:
                return Known(ModuleRef(path, dotted), path=path)
            module_name, _, attr = dotted.rpartition(".")
        path = self.find_module(module_name) if module_name else None
        if path is None:
            return Unknown(f"`{dotted}` is not a module of the repository")
        target = self.module_scope(path)
        if target is None or not target.lookup(attr):
            return Unknown(f"`{attr}` is not bound in {path}", path=path)
        return self.name_value(attr, target)

    # -- env reads -----------------------------------------------------------

    def env_value(
        self, name: str, default: Value | None, required: bool, node: cst.CSTNode | None, scope: Scope
    ) -> EnvValue:
        """An env read, resolved under the production environment."""
        line = scope.module.line(node) if node is not None else None
        where = f"{scope.path}:{line}" if line else scope.path
        here = {"path": scope.path, "node": node, "module": scope.module}
        shown = code_of(scope.module, node) if node is not None else name
        secret = is_secret_name(name)
        source = self.env.source(name)
        if source is None:
            if default is not None:
                note = f"{self.env.describe_unset(name)}: `{shown}` -> {describe(default, secret=secret)} ({where})"
                resolved = default.with_context(trace=(note,))
            elif required:
                note = f"{self.env.describe_unset(name)}: `{shown}` raises at import ({where})"
                resolved = Unknown(f"`{name}` is required and not set", **here, trace=(note,))
            else:
                note = f"{self.env.describe_unset(name)}: `{shown}` -> None ({where})"
                resolved = Known(None, **here, trace=(note,))
        elif source.value is None:
            note = f"{source.describe(name)}: `{shown}` ({where})"
            resolved = Unknown(source.describe(name), **here, trace=(note,))
        else:
            note = f"{source.describe(name)}: `{shown}` ({where})"
            resolved = Known(source.value, trace=(note,))
        env = (name, *(default.env if default is not None else ()))
        resolved = resolved.with_context(env=env)
        return EnvValue(
            name,
            default,
            required,
            resolved=resolved,
            env=resolved.env,
            trace=resolved.trace,
            **here,
        )

    def env_read(self, expr: cst.BaseExpression, scope: Scope, before=None) -> EnvValue | None:
        """An env read in any of its call or subscript shapes (not `or`), else None."""
        module = scope.module
        if isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)):
            names = self.qualified_names(module, expr.func, "env")
            if names & ENV_GETTERS or names & DECOUPLE_CONFIG:
                if not expr.args or expr.args[0].keyword is not None:
                    return None
                key = literal(expr.args[0].value)
                if not isinstance(key, str):
                    return None
                default_expr = None
                cast = None
                for position, arg in enumerate(expr.args[1:], start=1):
                    keyword = arg.keyword.value if arg.keyword is not None else None
                    if (keyword is None and position == 1) or keyword == "default":
                        default_expr = arg.value
                    elif keyword == "cast":
                        cast = arg.value
                default = self.evaluate(default_expr, scope, before) if default_expr is not None else None
                if default is not None and cast is not None:
                    default = self._cast(cast, default, scope, before)
                # decouple raises UndefinedValueError when there is neither a variable nor a default.
                required = bool(names & DECOUPLE_CONFIG) and default_expr is None
                return self.env_value(key, default, required, expr, scope)
        if (
            isinstance(expr, cst.Subscript)
            and len(expr.slice) == 1
            and isinstance(expr.slice[0].slice, cst.Index)
            and ENV_MAPPING in self.qualified_names(module, expr.value, "env")
        ):
            key = literal(expr.slice[0].slice.value)
            if isinstance(key, str):
                return self.env_value(key, None, True, expr, scope)
        return None

    def _cast(self, cast: cst.BaseExpression, value: Value, scope: Scope, before) -> Value:
        builtin = isinstance(cast, cst.Name) and not self.is_bound(cast.value, scope)
        names = {f"builtins.{cast.value}"} if builtin else set()
        plain = value.effective
        if not isinstance(plain, Known) or not isinstance(plain.value, (str, int, float, bool)):
            return value
        raw = plain.value
        context = combine_context([value])
        if "builtins.bool" in names:
            if isinstance(raw, str):
                return Known(raw.strip().lower() in ("1", "true", "yes", "on", "y", "t"), **context)
            return Known(bool(raw), **context)
        if "builtins.int" in names:
            try:
                return Known(int(raw), **context)
            except ValueError:
                return Unknown("not an integer", **context)
        return value

    # -- expressions ---------------------------------------------------------

    def evaluate(self, expr: cst.BaseExpression | None, scope: Scope, before: cst.CSTNode | None = None) -> Value:
        """The value of `expr` (written in `scope`'s module) in production.

        `before` is the statement the expression belongs to: names resolve to what
        is bound before it. None means the end of the scope.
        """
        if expr is None:
            return Known(None, path=scope.path)
        if self._depth > _MAX_DEPTH:
            return Unknown("too deep to follow", path=scope.path)
        self._depth += 1
        try:
            value = self._evaluate(expr, scope, before)
        finally:
            self._depth -= 1
        return value

    def _here(self, scope: Scope, expr: cst.CSTNode) -> dict:
        return {"path": scope.path, "node": expr, "module": scope.module}

    def _evaluate(self, expr: cst.BaseExpression, scope: Scope, before) -> Value:
        module = scope.module
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float)):
            value = literal(expr)
            if value is None:
                return Unknown("not a plain literal", **self._here(scope, expr))
            return Known(value, **self._here(scope, expr))
        if isinstance(expr, cst.Name):
            if expr.value in ("True", "False", "None"):
                return Known(literal(expr), **self._here(scope, expr))
            return self.name_value(expr.value, scope, before, expr)
        read = self.env_read(expr, scope, before)
        if read is not None:
            return read
        if isinstance(expr, cst.Attribute):
            names = self.qualified_names(module, expr, "typing")
            if "typing.TYPE_CHECKING" in names:
                return Known(False, **self._here(scope, expr))
            base = self.evaluate(expr.value, scope, before)
            return self.attribute(base, expr.attr.value, scope, expr)
        if isinstance(expr, cst.Call):
            return self._call(expr, scope, before)
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr, scope, before)
        if isinstance(expr, cst.BooleanOperation):
            return self._boolean(expr, scope, before)
        if isinstance(expr, cst.BinaryOperation):
            left = self.evaluate(expr.left, scope, before)
            right = self.evaluate(expr.right, scope, before)
            return self._binary(expr.operator, left, right, scope, expr)
        if isinstance(expr, cst.UnaryOperation):
            inner = self.evaluate(expr.expression, scope, before)
            context = combine_context([inner])
            if isinstance(expr.operator, cst.Not):
                truth = inner.truthy()
                if truth is None:
                    return Unknown("negation of an unknown value", **self._here(scope, expr), **context)
                return Known(not truth, **self._here(scope, expr), **context)
            plain = inner.effective
            if (
                isinstance(expr.operator, cst.Minus)
                and isinstance(plain, Known)
                and isinstance(plain.value, (int, float))
                and not isinstance(plain.value, bool)
            ):
                return Known(-plain.value, **self._here(scope, expr), **context)
            return Unknown("unary operation", **self._here(scope, expr), **context)
        if isinstance(expr, cst.Comparison):
            return self._comparison(expr, scope, before)
        if isinstance(expr, cst.IfExp):
            test = self.evaluate(expr.test, scope, before)
            truth = test.truthy()
            if truth is True:
                return self.evaluate(expr.body, scope, before).with_context(env=test.env, trace=test.trace)
            if truth is False:
                return self.evaluate(expr.orelse, scope, before).with_context(env=test.env, trace=test.trace)
            options = (self.evaluate(expr.body, scope, before), self.evaluate(expr.orelse, scope, before))
            return Unknown("a conditional expression", options, **self._here(scope, expr), **combine_context([test]))
        if isinstance(expr, cst.FormattedString):
            return self._fstring(expr, scope, before)
        if isinstance(expr, cst.Dict):
            return self._dict(expr, scope, before)
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            items = []
            for element in expr.elements:
                if isinstance(element, cst.StarredElement):
                    return Unknown("a starred element", **self._here(scope, expr))
                items.append(self.evaluate(element.value, scope, before))
            container = tuple(items) if isinstance(expr, cst.Tuple) else items
            return Known(container, **self._here(scope, expr))
        return Unknown(f"`{code_of(module, expr, 40)}` is not evaluated", **self._here(scope, expr))

    def attribute(self, base: Value, attr: str, scope: Scope, node: cst.CSTNode | None = None) -> Value:
        here = self._here(scope, node) if node is not None else {"path": scope.path}
        context = combine_context([base])
        plain = base.effective
        if isinstance(plain, Known):
            target = plain.value
            if isinstance(target, ModuleRef):
                module_scope = self.module_scope(target.path)
                if module_scope is None:
                    return Unknown(f"{target.path} cannot be read", **here)
                if module_scope.lookup(attr):
                    return self.name_value(attr, module_scope)
                submodule = self.find_module(f"{target.name}.{attr}")
                if submodule is not None:
                    return Known(ModuleRef(submodule, f"{target.name}.{attr}"), **here)
                return Unknown(f"`{attr}` is not bound in {target.path}", **here)
            if isinstance(target, ClassRef) or (isinstance(target, ObjectRef) and target.cls is not None):
                cls = target if isinstance(target, ClassRef) else target.cls
                found = self.class_attribute(cls, attr)
                if found is not None:
                    return found[0]
                return Unknown(f"`{cls.name}` has no attribute `{attr}` in the repository", **here)
            if isinstance(target, ObjectRef) and target.is_flask_app:
                return self.app_attribute(target, attr, here)
            if isinstance(target, External):
                return Known(External(f"{target.qualname}.{attr}"), **here, **context)
            if isinstance(target, PurePosixPath) and attr in ("parent", "name", "stem", "suffix"):
                return Known(getattr(target, attr), **here, **context)
        return Unknown(f"attribute `{attr}` of an unknown value", **here, **context)

    def app_attribute(self, app: ObjectRef, attr: str, here: dict) -> Value:
        """`app.root_path`, `app.instance_path`, `app.static_folder`: where Flask looks for files."""
        root = posixpath.dirname(app.path)
        package = app.path.endswith("__init__.py")
        if attr == "root_path":
            return Known(f"{REPO_ROOT}/{root}".rstrip("/"), **here)
        if attr == "instance_path":
            base = posixpath.dirname(root) if package else root
            return Known(posixpath.join(f"{REPO_ROOT}/{base}".rstrip("/"), "instance"), **here)
        if attr == "static_folder":
            folder = "static"
            for arg in app.node.args:
                if arg.keyword is not None and arg.keyword.value == "static_folder":
                    given = literal(arg.value)
                    if not isinstance(given, str):
                        return Unknown("static_folder is computed", **here)
                    folder = given
            return Known(posixpath.join(f"{REPO_ROOT}/{root}".rstrip("/"), folder), **here)
        return Unknown(f"`app.{attr}` is set at run time", **here)

    def _call(self, expr: cst.Call, scope: Scope, before) -> Value:
        module = scope.module
        here = self._here(scope, expr)
        names = set()
        if isinstance(expr.func, (cst.Name, cst.Attribute)):
            names = self.qualified_names(module, expr.func, "calls")
        func = expr.func
        if isinstance(func, cst.Name) and func.value in BUILTINS and not self.is_bound(func.value, scope, before):
            names = {f"builtins.{func.value}"}
        for name in names:
            if name in GENERATORS:
                return Generated(GENERATORS[name], **here)
        if names & FLASK_CLASSES:
            qualname = next(iter(names & FLASK_CLASSES))
            return Known(ObjectRef(qualname, scope.path, expr, scope.module, None, True), **here)
        if names & DOTENV_VALUES:
            return self._dotenv_values(expr, scope, before)
        if names & _PATH_FUNCTIONS:
            return self._path_call(next(iter(names & _PATH_FUNCTIONS)), expr, scope, before)
        if names & {"os.getcwd", "pathlib.Path.cwd"} and not expr.args:
            # The directory the server starts in, under the repository's root in the image.
            cwd = posixpath.normpath(posixpath.join(REPO_ROOT, self.cwd))
            return Known(cwd if "os.getcwd" in names else PurePosixPath(cwd), **here)
        builtin = next((name for name in names if name.startswith("builtins.")), None)
        if builtin is not None:
            return self._builtin(builtin[len("builtins.") :], expr, scope, before)
        if names & {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"}:
            args = [self.evaluate(arg.value, scope, before) for arg in expr.args]
            plain = [arg.effective for arg in args]
            if plain and all(isinstance(v, Known) and isinstance(v.value, (str, PurePosixPath)) for v in plain):
                return Known(PurePosixPath(*[v.value for v in plain]), **here, **combine_context(args))
            return Unknown("a path that is not known", **here)
        if isinstance(expr.func, cst.Attribute):
            base = self.evaluate(expr.func.value, scope, before)
            method = self._method(base, expr.func.attr.value, expr, scope, before)
            if method is not None:
                return method
            callee = self.attribute(base, expr.func.attr.value, scope, expr.func)
        else:
            callee = self.evaluate(expr.func, scope, before)
        return self.call_value(callee, expr, scope, before)

    def call_value(self, callee: Value, expr: cst.Call, scope: Scope, before) -> Value:
        here = self._here(scope, expr)
        target = callee.effective.value if isinstance(callee.effective, Known) else None
        if isinstance(target, FunctionRef):
            function_scope = self.bind_call(target, expr, scope, before)
            if function_scope is None:
                return Unknown(f"`{target.name}` cannot be read", **here)
            return self.return_value(function_scope)
        if isinstance(target, ClassRef):
            is_app = self.is_flask_class(target)
            qualname = f"{self.module_name(target.path)}.{target.name}"
            return Known(ObjectRef(qualname, scope.path, expr, scope.module, target, is_app), **here)
        if isinstance(target, External):
            last = target.qualname.rsplit(".", 1)[-1]
            if last[:1].isupper():
                return Known(ObjectRef(target.qualname, scope.path, expr, scope.module), **here)
            return Unknown(f"the result of `{target.qualname}()`", **here)
        return Unknown(f"the result of `{code_of(scope.module, expr.func, 40)}()`", **here)

    def return_value(self, scope: Scope) -> Value:
        """What a function returns, from its last unconditional `return`."""
        if scope._return_value is not None:
            return scope._return_value
        key = (id(scope.node), id(scope))
        if key in self._active:
            return Unknown("recursive call", path=scope.path)
        self._active.add(key)
        try:
            scope.entries()
            unconditional = [node for node, conditional in scope.returns if not conditional]
            if unconditional:
                node = unconditional[-1]
                value = self.evaluate(node.value, scope, before=node)
            elif scope.returns:
                options = tuple(self.evaluate(node.value, scope, before=node) for node, _ in scope.returns)
                value = Unknown(f"`{scope.name}` returns conditionally", options, path=scope.path)
            else:
                value = Known(None, path=scope.path)
        finally:
            self._active.discard(key)
        scope._return_value = value
        return value

    def _method(self, base: Value, name: str, expr: cst.Call, scope: Scope, before) -> Value | None:
        """String, dict and generated-value methods; None when it is not one of those."""
        here = self._here(scope, expr)
        plain = base.effective
        if isinstance(plain, Generated) and name in ("hex", "decode", "encode"):
            return Generated(plain.kind, **here)
        if not isinstance(plain, Known):
            if isinstance(plain, Unknown) and name in _STRING_METHODS | {"get"}:
                return Unknown(f"`.{name}()` of an unknown value", **here, **combine_context([base]))
            return None
        target = plain.value
        args = [self.evaluate(arg.value, scope, before) for arg in expr.args if arg.keyword is None]
        context = combine_context([base, *args])
        if isinstance(target, dict) and name == "get" and args:
            key = args[0].effective
            if not isinstance(key, Known):
                return Unknown("a lookup with an unknown key", tuple(target.values()), **here, **context)
            if key.value in target:
                return target[key.value].with_context(**context)
            return (args[1] if len(args) > 1 else Known(None, **here)).with_context(**context)
        if isinstance(target, (str, bytes)) and name in _STRING_METHODS:
            plain_args = [arg.effective for arg in args]
            if not all(isinstance(arg, Known) for arg in plain_args) or any(arg.keyword for arg in expr.args):
                return Unknown(f"`.{name}()` with unknown arguments", **here, **context)
            try:
                result = getattr(target, name)(*[arg.value for arg in plain_args])
            except Exception:  # a call that would fail is simply not known
                return Unknown(f"`.{name}()` fails on this value", **here, **context)
            if isinstance(result, list):
                result = [Known(item, **here) for item in result]
            return Known(result, **here, **context)
        if isinstance(target, PurePosixPath) and name in ("resolve", "absolute", "joinpath"):
            parts = [arg.effective for arg in args]
            if all(isinstance(part, Known) and isinstance(part.value, (str, PurePosixPath)) for part in parts):
                return Known(target.joinpath(*[part.value for part in parts]), **here, **context)
        return None

    def _builtin(self, name: str, expr: cst.Call, scope: Scope, before) -> Value:
        here = self._here(scope, expr)
        args = [self.evaluate(arg.value, scope, before) for arg in expr.args if arg.keyword is None and not arg.star]
        context = combine_context(args)
        if name == "dict":
            if any(arg.star for arg in expr.args):
                return Unknown("dict(**...) of an unknown mapping", **here, **context)
            result: dict = {}
            if args:
                first = args[0].effective
                if not (isinstance(first, Known) and isinstance(first.value, dict)):
                    return Unknown("dict() of an unknown mapping", **here, **context)
                result.update(first.value)
            for arg in expr.args:
                if arg.keyword is not None:
                    result[arg.keyword.value] = self.evaluate(arg.value, scope, before)
            return Known(result, **here, **context)
        if name == "getattr" and len(args) >= 2:
            attr = args[1].effective
            if isinstance(attr, Known) and isinstance(attr.value, str):
                return self.attribute(args[0], attr.value, scope, expr).with_context(**context)
            return Unknown("getattr() with an unknown name", **here, **context)
        if len(args) != 1:
            return Unknown(f"`{name}()`", **here, **context)
        plain = args[0].effective
        if isinstance(plain, Generated) and name in ("str", "bytes"):
            return Generated(plain.kind, **here)
        if not isinstance(plain, Known):
            return Unknown(f"`{name}()` of an unknown value", **here, **context)
        converters = {"str": str, "int": int, "float": float, "bool": bool}
        if name in converters and isinstance(plain.value, (str, int, float, bool, PurePosixPath)):
            try:
                return Known(converters[name](plain.value), **here, **context)
            except ValueError:
                return Unknown(f"`{name}()` fails on this value", **here, **context)
        if name in ("list", "tuple") and isinstance(plain.value, (list, tuple)):
            return Known(list(plain.value) if name == "list" else tuple(plain.value), **here, **context)
        return Unknown(f"`{name}()`", **here, **context)

    def _path_call(self, name: str, expr: cst.Call, scope: Scope, before) -> Value:
        here = self._here(scope, expr)
        args = [self.evaluate(arg.value, scope, before) for arg in expr.args]
        plain = [arg.effective for arg in args]
        context = combine_context(args)
        if not plain or not all(
            isinstance(arg, Known) and isinstance(arg.value, (str, PurePosixPath)) for arg in plain
        ):
            return Unknown(f"`{name}()` of unknown parts", **here, **context)
        values = [str(arg.value) for arg in plain]  # os.path takes `pathlib` paths as well
        function = {
            "os.path.join": lambda: posixpath.join(*values),
            "os.path.dirname": lambda: posixpath.dirname(values[0]),
            "os.path.abspath": lambda: posixpath.normpath(values[0]),
            "os.path.realpath": lambda: posixpath.normpath(values[0]),
            "os.path.normpath": lambda: posixpath.normpath(values[0]),
            "os.path.basename": lambda: posixpath.basename(values[0]),
        }[name]
        return Known(function(), **here, **context)

    def _dotenv_values(self, expr: cst.Call, scope: Scope, before) -> Value:
        from analyzer.prodpath.dotenv import dotenv_file_for_call

        here = self._here(scope, expr)
        path = dotenv_file_for_call(self, expr, scope, before)
        if path is None:
            return Unknown("the dotenv file is not in the repository", **here)
        from analyzer.deployfiles import parse_env_file

        text = self.project.read_text(path) or ""
        values = {name: Known(value, path=path, at=line) for name, value, line in parse_env_file(text)}
        return Known(values, **here)

    def _subscript(self, expr: cst.Subscript, scope: Scope, before) -> Value:
        here = self._here(scope, expr)
        base = self.evaluate(expr.value, scope, before)
        if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
            return Unknown("a slice", **here, **combine_context([base]))
        key = self.evaluate(expr.slice[0].slice.value, scope, before)
        context = combine_context([base, key])
        container = base.effective
        plain_key = key.effective
        if not isinstance(container, Known) or not isinstance(container.value, (dict, list, tuple)):
            return Unknown("an item of an unknown container", **here, **context)
        items = container.value
        shown = code_of(scope.module, expr)
        if not isinstance(plain_key, Known):
            options = tuple(items.values()) if isinstance(items, dict) else tuple(items)
            reason = f"`{shown}` with a key that is not known"
            shown_options = ", ".join(describe(option) for option in options)
            note = f"`{shown}` -> one of {shown_options} ({scope.path}:{scope.module.line(expr)})"
            return Unknown(reason, options, **here, env=context["env"], trace=(*context["trace"], note))
        try:
            value = items[plain_key.value]
        except (KeyError, IndexError, TypeError):
            note = f"`{shown}` raises KeyError: no {describe(plain_key)} ({scope.path}:{scope.module.line(expr)})"
            trace = (*context["trace"], note)
            return Unknown(f"no item {describe(plain_key)}", **here, env=context["env"], trace=trace)
        note = f"`{shown}` -> {describe(value)} ({scope.path}:{scope.module.line(expr)})"
        return value.with_context(env=context["env"], trace=(*context["trace"], note))

    def _boolean(self, expr: cst.BooleanOperation, scope: Scope, before) -> Value:
        here = self._here(scope, expr)
        left = self.evaluate(expr.left, scope, before)
        # `os.environ["K"] or d` raises before `or` can fall back, so only get() reads take the default.
        is_or = isinstance(expr.operator, cst.Or)
        if is_or and isinstance(left, EnvValue) and left.default is None and not left.required:
            right = self.evaluate(expr.right, scope, before)
            return self.env_value(left.name, right, False, expr, scope)
        truth = left.truthy()
        if truth is None:
            right = self.evaluate(expr.right, scope, before)
            return Unknown("a boolean operation", (left, right), **here, **combine_context([left, right]))
        if truth == is_or:
            return left
        return self.evaluate(expr.right, scope, before).with_context(env=left.env, trace=left.trace)

    def _binary(self, operator, left: Value, right: Value, scope: Scope, node) -> Value:
        here = self._here(scope, node)
        context = combine_context([left, right])
        a, b = left.effective, right.effective
        if (isinstance(a, Generated) or isinstance(b, Generated)) and isinstance(
            operator, (cst.Add, cst.AddAssign, cst.Modulo)
        ):
            return Generated(a.kind if isinstance(a, Generated) else b.kind, **here, **context)
        if not (isinstance(a, Known) and isinstance(b, Known)):
            return Unknown("an operation on an unknown value", **here, **context)
        x, y = a.value, b.value
        try:
            if isinstance(operator, (cst.Add, cst.AddAssign)) and isinstance(x, (str, bytes, int, float, list)):
                return Known(x + y, **here, **context)
            if isinstance(operator, (cst.Divide, cst.DivideAssign)) and isinstance(x, PurePosixPath):
                return Known(x / (y if isinstance(y, (str, PurePosixPath)) else str(y)), **here, **context)
            if isinstance(operator, (cst.Modulo, cst.ModuloAssign)) and isinstance(x, str):
                plain = tuple(v.effective.value for v in y) if isinstance(y, tuple) else y
                return Known(x % plain, **here, **context)
            if isinstance(operator, (cst.Multiply, cst.MultiplyAssign)) and isinstance(x, (int, float, str)):
                return Known(x * y, **here, **context)
            if isinstance(operator, (cst.Subtract, cst.SubtractAssign)) and isinstance(x, (int, float)):
                return Known(x - y, **here, **context)
        except (TypeError, ValueError, AttributeError):
            pass
        return Unknown("an operation that is not evaluated", **here, **context)

    def _comparison(self, expr: cst.Comparison, scope: Scope, before) -> Value:
        here = self._here(scope, expr)
        left = self.evaluate(expr.left, scope, before)
        values = [left]
        result = True
        current = left.effective
        for comparison in expr.comparisons:
            right = self.evaluate(comparison.comparator, scope, before)
            values.append(right)
            a, b = current, right.effective
            if not (isinstance(a, Known) and isinstance(b, Known)):
                return Unknown("a comparison with an unknown value", **here, **combine_context(values))
            y = b.value
            if isinstance(y, (list, tuple)):
                y = [item.effective.value if isinstance(item.effective, Known) else object() for item in y]
            elif isinstance(y, dict):
                y = list(y)
            outcome = _compare(comparison.operator, a.value, y)
            if outcome is None:
                return Unknown("a comparison that is not evaluated", **here, **combine_context(values))
            result = result and outcome
            current = b
        return Known(result, **here, **combine_context(values))

    def _fstring(self, expr: cst.FormattedString, scope: Scope, before) -> Value:
        here = self._here(scope, expr)
        parts: list[str] = []
        values: list[Value] = []
        generated = None
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
                continue
            value = self.evaluate(part.expression, scope, before)
            values.append(value)
            plain = value.effective
            if isinstance(plain, Generated):
                generated = plain
            elif isinstance(plain, Known) and part.format_spec is None and part.conversion is None:
                parts.append(str(plain.value))
            else:
                return Unknown("an f-string with unknown parts", **here, **combine_context(values))
        if generated is not None:
            return Generated(generated.kind, **here, **combine_context(values))
        return Known("".join(parts), **here, **combine_context(values))

    def _dict(self, expr: cst.Dict, scope: Scope, before) -> Value:
        here = self._here(scope, expr)
        result: dict = {}
        for element in expr.elements:
            if isinstance(element, cst.StarredDictElement):
                spread = self.evaluate(element.value, scope, before).effective
                if not (isinstance(spread, Known) and isinstance(spread.value, dict)):
                    return Unknown("a dict with an unknown `**` part", **here)
                result.update(spread.value)
                continue
            key = self.evaluate(element.key, scope, before).effective
            if not isinstance(key, Known) or not _hashable(key.value):
                return Unknown("a dict with a key that is not known", **here)
            result[key.value] = self.evaluate(element.value, scope, before)
        return Known(result, **here)


def _compare(operator: cst.BaseCompOp, x, y) -> bool | None:
    identity = y is None or isinstance(y, bool)
    try:
        if isinstance(operator, cst.Equal) or (isinstance(operator, cst.Is) and not identity):
            return x == y
        if isinstance(operator, cst.NotEqual) or (isinstance(operator, cst.IsNot) and not identity):
            return x != y
        if isinstance(operator, cst.Is):
            return x is y
        if isinstance(operator, cst.IsNot):
            return x is not y
        if isinstance(operator, cst.In):
            return x in y
        if isinstance(operator, cst.NotIn):
            return x not in y
    except TypeError:
        return None
    return None


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
