"""The values the production-path evaluator computes, and the things they can refer to.

A value is one of four kinds:

- `Known(value)`: certain in production. Scalars are plain Python values;
  containers hold Values (`Known({"default": Known(ClassRef(...))})`); a
  reference to a class, module, function, object or external name is one of
  the `*Ref` types below.
- `EnvValue(name, default, required)`: an environment read. `default` is the
  fallback as written (a Value, or None when there is none); `effective` is
  what the read yields under the production environment.
- `Generated(kind)`: a fresh random value per process (`secrets`, `os.urandom`, `uuid`).
- `Unknown(reason)`: cannot be told without running the code. `options` lists
  the values it can take when those are known (a dict lookup on an unknown key).

Every value carries where it was computed (`path`, `line`), the names of the
environment variables it depends on (`env`), and `trace`: short strings that
say how it was decided, ready to show under a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from analyzer.pysource import PyModule

# `__file__` evaluates under this directory, so paths built from it can be told apart
# from the container's own paths and mapped back to repo paths.
REPO_ROOT = "/<repo>"


@dataclass(frozen=True, kw_only=True)
class Value:
    path: str | None = field(default=None, compare=False)
    at: int | None = field(default=None, compare=False, repr=False)  # the line, when given explicitly
    env: tuple[str, ...] = field(default=(), compare=False, repr=False)
    trace: tuple[str, ...] = field(default=(), compare=False, repr=False)
    node: cst.CSTNode | None = field(default=None, compare=False, repr=False)
    module: PyModule | None = field(default=None, compare=False, repr=False)

    @property
    def line(self) -> int | None:
        """The line the value is written on; computed on demand (positions cost a pass over the module)."""
        if self.at is not None:
            return self.at
        if self.module is not None and self.node is not None:
            try:
                return self.module.line(self.node)
            except KeyError:  # a node built by the caller, not part of the module's tree
                return None
        return None

    @property
    def effective(self) -> Value:
        """What the value is in production (an env read resolved; anything else itself)."""
        return self

    @property
    def where(self) -> str:
        if self.path and self.line:
            return f"{self.path}:{self.line}"
        return self.path or ""

    def truthy(self) -> bool | None:
        """Python truthiness when it is certain, else None."""
        return None

    def with_context(self, *, env: tuple[str, ...] = (), trace: tuple[str, ...] = ()) -> Value:
        """A copy that also depends on `env` and carries `trace` before its own."""
        return replace(self, env=merge(env, self.env), trace=merge(trace, self.trace))


@dataclass(frozen=True)
class Known(Value):
    value: object

    def truthy(self) -> bool | None:
        value = self.value
        if isinstance(value, (ModuleRef, ClassRef, FunctionRef, ObjectRef)):
            return True
        if isinstance(value, External):
            return None
        try:
            return bool(value)
        except Exception:  # a value whose truth cannot be taken is unknown
            return None

    def python(self):
        """The plain Python value, containers unwrapped; None when a part is not Known."""
        return unwrap(self)


@dataclass(frozen=True)
class EnvValue(Value):
    name: str
    default: Value | None = None  # the fallback as written; None when there is none
    required: bool = False  # KeyError (or an explicit raise) when unset
    resolved: Value | None = field(default=None, compare=False, repr=False)  # set by the evaluator

    @property
    def effective(self) -> Value:
        if self.resolved is not None:
            return self.resolved.effective
        reason = f"`{self.name}` is read from the environment"
        return Unknown(reason, path=self.path, node=self.node, module=self.module, env=self.env)

    def truthy(self) -> bool | None:
        return self.effective.truthy()

    @property
    def has_default(self) -> bool:
        return self.default is not None


@dataclass(frozen=True)
class Generated(Value):
    kind: str  # "secrets", "urandom", "uuid"

    def truthy(self) -> bool | None:
        return True


@dataclass(frozen=True)
class Unknown(Value):
    reason: str = ""
    options: tuple[Value, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", unique(self.options))


# -- references --------------------------------------------------------------


@dataclass(frozen=True)
class ModuleRef:
    """A module of the repository."""

    path: str
    name: str  # dotted, as imported


@dataclass(frozen=True)
class ClassRef:
    path: str
    name: str
    node: cst.ClassDef = field(repr=False)
    module: PyModule = field(compare=False, repr=False)

    @property
    def line(self) -> int:
        return self.module.line(self.node)


@dataclass(frozen=True)
class FunctionRef:
    path: str
    name: str
    node: cst.FunctionDef = field(repr=False)
    module: PyModule = field(compare=False, repr=False)

    @property
    def line(self) -> int:
        return self.module.line(self.node)


@dataclass(frozen=True)
class ObjectRef:
    """An object constructed by a call: a Flask app, an extension, an instance of a repo class.

    `qualname` is the constructor's qualified name (`flask.Flask`,
    `flask_sqlalchemy.SQLAlchemy`, `config.ProductionConfig`).
    """

    qualname: str
    path: str
    node: cst.Call = field(repr=False)
    module: PyModule = field(compare=False, repr=False)
    cls: ClassRef | None = field(default=None, compare=False)
    is_flask_app: bool = field(default=False, compare=False)

    @property
    def line(self) -> int:
        return self.module.line(self.node)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class External:
    """A name from outside the repository (`os.path`, `redis.Redis`), by qualified name."""

    qualname: str


# -- helpers -------------------------------------------------------------------


def merge(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def combine_context(values) -> dict:
    """The env dependencies and traces of several values, for a value computed from them."""
    env: tuple[str, ...] = ()
    trace: tuple[str, ...] = ()
    for value in values:
        if value is not None:
            env = merge(env, value.env)
            trace = merge(trace, value.trace)
    return {"env": env, "trace": trace}


def unwrap(value: Value):
    """Plain Python from a Known value (containers recursively); None when not fully known."""
    value = value.effective
    if not isinstance(value, Known):
        return None
    inner = value.value
    if isinstance(inner, dict):
        out = {}
        for key, item in inner.items():
            plain = unwrap(item)
            if plain is None and not _is_none(item):
                return None
            out[key] = plain
        return out
    if isinstance(inner, (list, tuple)):
        items = [unwrap(item) for item in inner]
        if any(plain is None and not _is_none(item) for plain, item in zip(items, inner, strict=True)):
            return None
        return type(inner)(items)
    return inner


def unique(values) -> tuple[Value, ...]:
    """Values without repeats (the same class twice in a config dict is one option)."""
    found: list[Value] = []
    for value in values:
        if not any(_same(value, other) for other in found):
            found.append(value)
    return tuple(found)


def _same(a: Value, b: Value) -> bool:
    if type(a) is not type(b) or (a.path, a.node) != (b.path, b.node):
        return False
    try:
        return bool(a == b)
    except Exception:  # values that cannot be compared are different
        return False


def _is_none(value: Value) -> bool:
    plain = value.effective
    return isinstance(plain, Known) and plain.value is None


def describe(value: Value | None, *, secret: bool = False) -> str:
    """A short human rendering for evidence. `secret=True` never shows a literal."""
    if value is None:
        return "nothing"
    if isinstance(value, EnvValue):
        shown = f"${value.name}"
        if value.default is not None:
            shown += f" (default {describe(value.default, secret=secret)})"
        return shown
    if isinstance(value, Generated):
        return f"a value generated at import ({value.kind})"
    if isinstance(value, Unknown):
        return "unknown" + (f" ({value.reason})" if value.reason else "")
    inner = value.value
    if isinstance(inner, (ClassRef, FunctionRef)):
        return inner.name
    if isinstance(inner, ModuleRef):
        return f"module {inner.name}"
    if isinstance(inner, ObjectRef):
        return f"{inner.qualname.rsplit('.', 1)[-1]}(...) ({inner.where})"
    if isinstance(inner, External):
        return inner.qualname
    if isinstance(inner, dict):
        return "a dict"
    if isinstance(inner, (list, tuple)):
        return "a list"
    if secret and isinstance(inner, (str, bytes)) and inner:
        return "a literal"
    text = repr(inner)
    return text if len(text) <= 60 else text[:57] + "..."
