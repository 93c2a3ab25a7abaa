"""The app's environment contract: every variable the production path reads.

A read is *required* when the app fails at startup without the variable:
`os.environ["K"]` (KeyError at import), python-decouple's `config("K")` with no
default, `x = os.environ.get("K")` followed by `if not x: raise ...`, a `get()`
whose None is used as an object right away (`os.getenv("K").replace(...)`, or
`x = os.getenv("K")` then `x.startswith(...)` unconditionally: AttributeError),
and Flask's `app.config.from_envvar("K")` without `silent=True`. Any other
`get()` with no default is optional with no default (it yields None). Reads inside functions
that do not run at startup (request handlers) are listed with
`at_startup=False`: a missing variable fails the request, not the boot. Reads are listed once per
(name, path, line). A default that is a literal is shown as written, except for
secret-looking names (SECRET, KEY, TOKEN, PASSWORD, ...), whose defaults are
never shown.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m

from analyzer.prodpath.environment import Environment, is_secret_name
from analyzer.prodpath.imports import executable_nodes
from analyzer.prodpath.lattice import EnvValue, FunctionRef, Generated, Known, Value

if TYPE_CHECKING:
    from analyzer.prodpath.configs import AppConfig
    from analyzer.prodpath.imports import Reach
    from analyzer.prodpath.values import Evaluator, Scope


@dataclass
class EnvUse:
    """One place the production path reads an environment variable."""

    name: str
    required: bool
    default: str | None  # the fallback for display (never a secret's value); None when there is none
    path: str
    line: int
    has_default: bool = False
    set_by: str | None = None  # "platform variables", "Dockerfile:4", ...; None when unset in production
    conditional: bool = False  # read in a branch that may not run
    function: str | None = None  # the function that reads it, when not at module level
    at_startup: bool = True  # False: read inside a function that only runs later (a request handler)
    value: EnvValue | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def missing(self) -> bool:
        """Required, read at startup and not set in production: the app fails before serving."""
        return self.required and self.at_startup and self.set_by is None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "required": self.required,
            "default": self.default,
            "path": self.path,
            "line": self.line,
            "set_by": self.set_by,
            "conditional": self.conditional,
            "at_startup": self.at_startup,
        }


# `scheme://user:password@host`: the password of a URL fallback is a secret whatever the variable's name.
_URL_PASSWORD = re.compile(r"(://[^:/@\s'\"]*:)[^@\s'\"]+@")


def show_default(name: str, default: Value | None, secret: bool = False) -> str | None:
    """The fallback for display. `secret`: an outer read's name looked secret, so a literal at
    the end of a chain (`os.getenv("SECRET_KEY", os.getenv("OLD", "lit"))`) is its value too."""
    if default is None:
        return None
    secret = secret or is_secret_name(name)
    if isinstance(default, EnvValue):
        inner = show_default(default.name, default.default, secret)
        return f"${default.name}" + (f" or {inner}" if inner is not None else "")
    if isinstance(default, Generated):
        return "(generated at import)"
    if isinstance(default, Known) and (default.value is None or isinstance(default.value, (str, bytes, int, float))):
        if secret and isinstance(default.value, (str, bytes)) and default.value:
            return "(hidden)"
        text = _URL_PASSWORD.sub(r"\1(hidden)@", repr(default.value))
        return text if len(text) <= 60 else text[:57] + "..."
    return "(computed)"


def environment_contract(
    reach: Reach, evaluator: Evaluator, configs: list[AppConfig], env: Environment
) -> list[EnvUse]:
    """Reads at startup (every step that runs), then reads inside the functions of imported
    modules that do not run at startup (request handlers, CLI commands): `at_startup=False`."""
    uses: dict[tuple[str, str, int], EnvUse] = {}

    def add(value: EnvValue, path: str, line: int, conditional: bool, function: str | None, at_startup: bool) -> None:
        key = (value.name, path, line)
        if key in uses:
            return
        source = env.source(value.name)
        uses[key] = EnvUse(
            value.name,
            value.required,
            show_default(value.name, value.default),
            path,
            line,
            has_default=value.default is not None,
            set_by=source.origin if source is not None else None,
            conditional=conditional,
            function=function,
            at_startup=at_startup,
            value=value,
        )

    for step in reach.steps:
        if step.quiet:
            continue  # a quiet module does not mention the environment
        for value, node in _reads(evaluator, step.nodes, step.scope, step.node, step.scope.entry_for(step.node)):
            add(value, step.path, step.module.line(node), step.conditional, step.function, True)
    for config in configs:
        for op in config.operations:
            if isinstance(op.argument, EnvValue) and op.kind == "from_envvar":
                add(op.argument, op.path, op.line, op.conditional, None, True)
    for path in reach.modules:
        data = evaluator.project.raw(path) or b""
        if not any(needle in data for needle in (b"environ", b"getenv", b"decouple")):
            continue
        module = evaluator.project.python(path)
        if module is None:
            continue
        for function in _functions(module.tree):
            if reach.function_run(function) is not None:
                continue
            scope = _unbound_scope(evaluator, path, function)
            if scope is None:
                continue
            nodes = executable_nodes([function.body])
            for value, node in _reads(evaluator, nodes, scope, None, scope.entries()):
                add(value, path, module.line(node), True, function.name.value, False)
    return sorted(uses.values(), key=lambda use: (use.name, use.path, use.line))


def _reads(evaluator: Evaluator, nodes, scope: Scope, before, entries) -> list[tuple[EnvValue, cst.CSTNode]]:
    """Env reads among `nodes`, with `or` defaults and `if not x:` fallbacks of `entries` applied."""
    fallbacks: dict[int, EnvValue] = {}
    for entry in entries:
        if entry.kind == "assign" and (entry.fallback is not None or entry.raises) and entry.value is not None:
            value = evaluator.assignment_value(entry, scope)
            if isinstance(value, EnvValue):
                fallbacks[id(entry.value)] = value
    found = []
    handled: set[int] = set()
    used_as_object: set[int] = set()  # reads whose result is used at once: `get(K).replace(...)`, `get(K)[0]`
    for node in nodes:
        receiver = node.func.value if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) else None
        receiver = node.value if isinstance(node, cst.Subscript) else receiver
        if isinstance(receiver, cst.Call):
            used_as_object.add(id(receiver))
        if id(node) in handled:
            continue
        value = None
        if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.Or):
            left = evaluator.env_read(node.left, scope, before)
            if left is not None and left.default is None and not left.required:
                value = evaluator.evaluate(node, scope, before)
                handled.add(id(node.left))
        elif isinstance(node, (cst.Call, cst.Subscript)):
            value = evaluator.env_read(node, scope, before)
            if value is not None and id(node) in fallbacks:
                value = fallbacks[id(node)]
            elif value is not None and id(node) in used_as_object and value.default is None:
                value = dataclasses.replace(value, required=True)  # None has no such attribute
        if isinstance(value, EnvValue):
            found.append((value, node))
    return found


def _functions(tree: cst.Module) -> list[cst.FunctionDef]:
    return [node for node in m.findall(tree, m.FunctionDef()) if isinstance(node, cst.FunctionDef)]


def _unbound_scope(evaluator: Evaluator, path: str, function: cst.FunctionDef) -> Scope | None:
    module_scope = evaluator.module_scope(path)
    if module_scope is None:
        return None
    ref = FunctionRef(path, function.name.value, function, module_scope.module)
    return evaluator.function_scope(ref) or evaluator.bind_arguments(ref, [], {}, called=False)
