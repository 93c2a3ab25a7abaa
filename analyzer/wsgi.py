"""Resolving a WSGI target (`module:attr`, `module:factory()`) the way gunicorn does.

Gunicorn splits on the first colon; a bare module means attribute
`application`; the module is imported from the working directory (after
`--chdir`) and `--pythonpath`; the attribute is looked up on the module, and
`name(...)` calls it, so it must be a function. Here nothing is imported: the
module is mapped to a file and the attribute to a module-level binding.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from analyzer.pysource import Binding, PyModule

if TYPE_CHECKING:
    from analyzer.project import Project

_CALL = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\((?P<args>.*)\)\s*$", re.S)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass
class WsgiTarget:
    spec: str
    module: str
    attr: str
    is_call: bool
    path: str | None = None  # the module's file, repo-relative
    binding: Binding | None = None
    problem: str | None = None  # why it does not resolve, when it does not
    searched: list[str] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.problem is None


def module_roots(project: Project, cwd: str, pythonpath: list[str]) -> list[str]:
    """Import roots, repo-relative, in the order Python searches them."""
    base = project.app_path(cwd)
    roots = [base]
    for entry in pythonpath:
        for part in entry.split(":"):
            if part:
                roots.append(project.app_path(posixpath.join(cwd, part)))
    # An installed src-layout package is importable too (`pip install .` puts it on sys.path).
    src = project.app_path("src")
    if src not in roots and project.has_manifest_install():
        roots.append(src)
    return roots


def find_module(project: Project, dotted: str, roots: list[str]) -> str | None:
    """The file a dotted module name imports from the given roots, or None."""
    parts = dotted.split(".")
    for root in roots:
        base = posixpath.join(root, *parts) if root not in ("", ".") else posixpath.join(*parts)
        for candidate in (base + ".py", posixpath.join(base, "__init__.py")):
            candidate = posixpath.normpath(candidate)
            if candidate in project.files.paths:
                return candidate
    return None


def parse_spec(spec: str) -> tuple[str, str, bool, str | None]:
    """(module, attribute, is_call, problem) of a gunicorn APP_MODULE."""
    module, sep, attr = spec.partition(":")
    if not sep:
        attr = "application"
    attr = attr.strip()
    is_call = False
    call = _CALL.match(attr)
    if call:
        attr, is_call = call.group("name"), True
    if not _MODULE.match(module):
        return module, attr, is_call, f"`{module}` is not a module name"
    if not _NAME.match(attr):
        return module, attr, is_call, f"`{spec.partition(':')[2]}` is not an attribute name or a call"
    return module, attr, is_call, None


def resolve_wsgi_target(project: Project, spec: str, cwd: str = ".", pythonpath: list[str] | None = None) -> WsgiTarget:
    module_name, attr, is_call, problem = parse_spec(spec)
    target = WsgiTarget(spec, module_name, attr, is_call)
    if problem:
        target.problem = problem
        return target
    roots = module_roots(project, cwd, pythonpath or [])
    target.searched = roots
    path = find_module(project, module_name, roots)
    if path is None:
        file_hint = module_name.replace(".", "/") + ".py"
        target.problem = f"`{file_hint}` not found"
        return target
    target.path = path
    module = project.python(path)
    if module is None:
        target.problem = f"`{path}` cannot be parsed"
        return target
    binding = module.bindings.get(attr)
    if binding is None:
        if module.has_star_import:
            return target  # `from x import *` may bind it: unknown, so not a finding
        target.problem = f"`{path}` binds no `{attr}` at module level"
        return target
    target.binding = binding
    if is_call and binding.kind in ("assign", "class") and not _names_a_function(module, binding):
        target.problem = f"`{attr}` in `{path}` is not a function, so `{attr}()` cannot be called"
    return target


def _names_a_function(module: PyModule, binding: Binding) -> bool:
    """`make = create_app` (another name for a function or an import of the module, followed through
    further names) or `make = lambda: ...`."""
    seen = {binding.name}
    while binding.kind == "assign":
        value = binding.value
        if isinstance(value, cst.Lambda):
            return True
        if not isinstance(value, cst.Name) or value.value in seen:
            return False
        seen.add(value.value)
        binding = module.bindings.get(value.value)
        if binding is None:
            return False
    return binding.kind in ("def", "import")
