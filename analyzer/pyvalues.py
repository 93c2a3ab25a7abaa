"""Reading values out of Python expressions without running them.

Only what can be known for certain is returned; anything else is None
("unknown"), and rules never fire on unknown.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from analyzer.pysource import PyModule

# Calls that read a variable, its default second: `os.environ.pop(K, d)` reads like `get`.
ENV_GETTERS = frozenset({"os.environ.get", "os.getenv", "os.environ.setdefault", "os.environ.pop"})
ENV_MAPPINGS = frozenset({"os.environ"})


@dataclass
class EnvRead:
    """An environment variable read: `os.environ.get(NAME, default)` and its kin."""

    name: str
    default: cst.BaseExpression | None  # None: no fallback (required or None)
    required: bool  # os.environ[NAME]: a KeyError when unset
    node: cst.BaseExpression


def literal(expr: cst.BaseExpression | None):
    """The value of a literal expression (strings, numbers, bools, None, containers)."""
    if expr is None:
        return None
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float)):
        try:
            return ast.literal_eval(cst.Module([]).code_for_node(expr))
        except (ValueError, SyntaxError):
            return None
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        value = literal(expr.expression)
        return -value if isinstance(value, (int, float)) else None
    return None


def is_literal(expr: cst.BaseExpression | None) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value in ("True", "False", "None")
    return isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float))


def env_read(expr: cst.BaseExpression, module: PyModule) -> EnvRead | None:
    """Recognise an env read under any import alias (`import os as _os`, `from os import getenv`)."""
    if isinstance(expr, cst.Call):
        names = module.qualified_names(expr.func)
        if names & ENV_GETTERS and expr.args:
            key = literal(expr.args[0].value)
            if not isinstance(key, str):
                return None
            default = None
            for position, arg in enumerate(expr.args[1:], start=1):
                if (arg.keyword is None and position == 1) or (arg.keyword and arg.keyword.value == "default"):
                    default = arg.value
            return EnvRead(key, default, False, expr)
    if (
        isinstance(expr, cst.Subscript)
        and len(expr.slice) == 1
        and isinstance(expr.slice[0].slice, cst.Index)
        and module.qualified_names(expr.value) & ENV_MAPPINGS
    ):
        key = literal(expr.slice[0].slice.value)
        if isinstance(key, str):
            return EnvRead(key, None, True, expr)
    return None


def shell_string(expr: cst.BaseExpression | None, module: PyModule) -> str | None:
    """A string expression rendered with env reads as `${NAME:-default}`.

    This lets the same checks judge a gunicorn.conf.py `bind` and a command line.
    """
    if expr is None:
        return None
    value = literal(expr)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    read = env_read(expr, module)
    if read is not None:
        default = shell_string(read.default, module) if read.default is not None else None
        return f"${{{read.name}:-{default}}}" if default is not None else f"${{{read.name}}}"
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        left, right = shell_string(expr.left, module), shell_string(expr.right, module)
        return left + right if left is not None and right is not None else None
    if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
        read = env_read(expr.left, module)
        fallback = shell_string(expr.right, module)
        if read is not None and fallback is not None:
            return f"${{{read.name}:-{fallback}}}"
        return None
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("str", "int"):
        return shell_string(expr.args[0].value, module) if len(expr.args) == 1 else None
    if isinstance(expr, cst.FormattedString):
        parts = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            elif isinstance(part, cst.FormattedStringExpression):
                inner = shell_string(part.expression, module)
                if inner is None:
                    return None
                parts.append(inner)
        return "".join(parts)
    return None
