"""The environment contract: every variable the production path reads, and what happens when it is unset."""

from __future__ import annotations

import libcst as cst

from analyzer.prodpath import EnvUse, is_secret_name
from analyzer.prodpath.envcontract import show_default
from analyzer.prodpath.values import DECOUPLE_CONFIG
from analyzer.project import Project


def platform_managed(name: str) -> bool:
    """Railway sets `PORT` and the `RAILWAY_*` variables itself; users do not list them."""
    return name == "PORT" or name.startswith("RAILWAY_")


def fails_at_boot(use: EnvUse) -> bool:
    """The read raises when the variable is unset, runs unconditionally at startup, and nothing
    in production sets the variable (platform variables, Dockerfile `ENV`, the start command,
    a dotenv file loaded at import)."""
    return use.missing and not use.conditional and not platform_managed(use.name)


def boot_error(use: EnvUse) -> str:
    """What raises when the variable is unset."""
    node = use.value.node if use.value is not None else None
    module = use.value.module if use.value is not None else None
    if isinstance(node, cst.Subscript):
        return "the app raises `KeyError`"
    if isinstance(node, cst.Call) and module is not None:
        if module.qualified_names(node.func) & DECOUPLE_CONFIG:
            return "python-decouple raises `UndefinedValueError`"
        # `x = os.environ.get(K)` then `if not x: raise ...`, or `x.startswith(...)` on the None
        return "the app raises (its own check, or an AttributeError on the `None` the read gives)"
    # `app.config.from_envvar(K)`: the read's node is the variable name.
    return "`app.config.from_envvar` raises `RuntimeError`"


def environment_contract(project: Project) -> list[dict]:
    """Every environment read on the production path, as the report lists it (docs/report-schema.md)."""
    variables_given = project.platform.variables is not None
    lines: dict[str, list[str]] = {}

    def line_of(use: EnvUse) -> str:
        if use.path not in lines:
            module = project.python(use.path)
            lines[use.path] = module.text.splitlines() if module is not None else []
        found = lines[use.path]
        return found[use.line - 1] if 0 < use.line <= len(found) else ""

    return [_contract_entry(use, variables_given, line_of(use)) for use in project.production.env_reads]


def _contract_entry(use: EnvUse, variables_given: bool, source_line: str) -> dict:
    if not fails_at_boot(use):
        missing: bool | None = False
    else:
        # Without the platform's list of variables, an unset-looking variable may well be set there.
        missing = True if variables_given else None
    default = _shown_default(use, source_line)
    return {
        "name": use.name,
        "required": use.required,
        "default": default,
        "path": use.path,
        "line": use.line,
        "function": use.function,
        "at_startup": use.at_startup,
        "conditional": use.conditional,
        "set_by": use.set_by,
        "platform_managed": platform_managed(use.name),
        "missing": missing,
        "note": _contract_note(use, default),
    }


def _shown_default(use: EnvUse, source_line: str) -> str | None:
    """The read's own name decides whether prodpath hides its fallback; the line decides too, because
    `app.secret_key = os.getenv("SIGNING", "lit")` makes "lit" a secret under an innocent name."""
    if use.default is None or use.value is None or not is_secret_name(source_line):
        return use.default
    return show_default(use.name, use.value.default, secret=True)


def _contract_note(use: EnvUse, default: str | None) -> str:
    """What happens when the variable is unset, in a sentence."""
    if platform_managed(use.name):
        return "provided by Railway"
    if not use.at_startup:
        raises = f"; `{use.function}()` fails when it is unset" if use.required else ""
        return f"read in `{use.function}()`, not at startup: the app boots without it{raises}"
    if use.required:
        branch = ", in a branch the analyzer cannot decide" if use.conditional else ""
        return f"required at startup{branch}: {boot_error(use)} at import when it is unset"
    if default is not None:
        return f"optional: falls back to {default}"
    return "optional: `None` when it is unset"
