"""Finding the Flask applications, factories and blueprints in a repository.

Names are matched through libcst's qualified names, so `from flask import
Flask as F` and `import flask as fl; fl.Flask(...)` are found, and a class
named Flask that is not Flask's is not.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m

from analyzer.files import ast_last_name
from analyzer.pysource import PyModule, module_name_for
from analyzer.pyvalues import literal
from analyzer.report import FlaskApp

if TYPE_CHECKING:
    from analyzer.project import Project

FLASK_CLASSES = frozenset({"flask.Flask", "flask.app.Flask", "apiflask.APIFlask", "apiflask.app.APIFlask"})
BLUEPRINT_CLASSES = frozenset({"flask.Blueprint", "flask.blueprints.Blueprint", "apiflask.APIBlueprint"})


@dataclass
class AppSite:
    """Where a Flask object is constructed, with what the rules need about it."""

    app: FlaskApp
    module: PyModule
    call: cst.Call
    function: cst.FunctionDef | None  # the factory, when built inside one
    static_folder: str | None  # as written; "static" when not given


@dataclass
class BlueprintSite:
    name: str
    path: str
    line: int
    static_folder: str | None  # None: the blueprint has no static folder of its own


@dataclass
class Discovery:
    apps: list[AppSite] = field(default_factory=list)
    blueprints: list[BlueprintSite] = field(default_factory=list)

    @property
    def factories(self) -> list[AppSite]:
        return [site for site in self.apps if site.app.kind == "factory"]


def discover(project: Project) -> Discovery:
    found = Discovery()
    for path in project.python_paths_containing(b"Flask", b"Blueprint"):
        if _needs_full_parse(project, path, found):
            module = project.python(path)
            if module is not None:
                _scan_module(project, module, found)
    _add_factory_results(project, found)
    return found


CONSTRUCTOR_NAMES = frozenset({"Flask", "APIFlask", "Blueprint", "APIBlueprint"})
BLUEPRINT_NAMES = frozenset({"Blueprint", "APIBlueprint"})


def _needs_full_parse(project: Project, path: str, found: Discovery) -> bool:
    """A quick look with the C parser before the costly libcst parse and scope analysis.

    Files that only mention Flask in strings, comments or imports are skipped;
    plain blueprints (no static folder of their own) are recorded from here.
    Anything the quick look cannot read goes to the full parse, which records why.
    """
    quick = project.quick(path)
    tree = quick.tree if quick is not None else None
    if tree is None or quick.problem is not None:
        return True
    names = set(CONSTRUCTOR_NAMES)
    for node in quick.nodes:
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname for alias in node.names if alias.asname and alias.name in CONSTRUCTOR_NAMES)
    plain_blueprints = []
    for node in quick.nodes:
        if isinstance(node, ast.ClassDef) and any(ast_last_name(base) in names for base in node.bases):
            return True
        if isinstance(node, ast.Call) and ast_last_name(node.func) in names:
            if ast_last_name(node.func) not in BLUEPRINT_NAMES or any(k.arg == "static_folder" for k in node.keywords):
                return True
            plain_blueprints.append(node.lineno)
    found.blueprints.extend(BlueprintSite("", path, line, None) for line in plain_blueprints)
    return False


def _scan_module(project: Project, module: PyModule, found: Discovery) -> None:
    flask_classes = set(FLASK_CLASSES)
    # Local subclasses of Flask construct apps too (`class App(Flask): ...`).
    for statement in module.tree.body:
        if isinstance(statement, cst.ClassDef):
            for base in statement.bases:
                if module.qualified_names(base.value) & FLASK_CLASSES:
                    flask_classes.add(f"{module_name_for(module.path, project.app_root)}.{statement.name.value}")
                    flask_classes.add(statement.name.value)
    dotted = module_name_for(module.path, project.app_root)
    visitor = _ConstructorFinder(module, flask_classes)
    module.tree.visit(visitor)
    for call, assigned, function in visitor.apps:
        line = module.line(call)
        static = _static_folder(call)
        if function is not None:
            app = FlaskApp(dotted, function.name.value, "factory", module.path, module.line(function))
        else:
            app = FlaskApp(dotted, assigned or "app", "app", module.path, line)
        if not any(site.app == app for site in found.apps):
            found.apps.append(AppSite(app, module, call, function, static))
    for call, assigned in visitor.blueprints:
        found.blueprints.append(
            BlueprintSite(assigned or "", module.path, module.line(call), _static_folder(call, default=None))
        )


def _static_folder(call: cst.Call, default: str | None = "static") -> str | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "static_folder":
            value = literal(arg.value)
            return value if isinstance(value, str) else None
    return default


class _ConstructorFinder(cst.CSTVisitor):
    def __init__(self, module: PyModule, flask_classes: set[str]) -> None:
        self.module = module
        self.flask_classes = flask_classes
        self.functions: list[cst.FunctionDef] = []
        self.classes = 0
        self.apps: list[tuple[cst.Call, str | None, cst.FunctionDef | None]] = []
        self.blueprints: list[tuple[cst.Call, str | None]] = []
        self._assigned: list[str | None] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target
        self._assigned.append(target.value if isinstance(target, cst.Name) else None)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._assigned.pop()

    def visit_Call(self, node: cst.Call) -> None:
        names = self.module.qualified_names(node.func)
        if not names:
            if isinstance(node.func, cst.Name) and node.func.value in self.flask_classes:
                names = {node.func.value}
            else:
                return
        assigned = self._assigned[-1] if self._assigned else None
        if names & self.flask_classes:
            if self.classes and not self.functions:
                return
            outer = self.functions[0] if self.functions else None
            if outer is not None and not _returns_something(outer):
                return  # built and used inside a function (a script's main()), not served
            self.apps.append((node, assigned, outer))
        elif names & BLUEPRINT_CLASSES:
            self.blueprints.append((node, assigned))


def _returns_something(function: cst.FunctionDef) -> bool:
    return any(node.value is not None for node in m.findall(function, m.Return()))


def _add_factory_results(project: Project, found: Discovery) -> None:
    """`app = create_app()` at module level makes that module's `app` an application too."""
    factories = {site.app.name: site for site in found.factories}
    if not factories:
        return
    needles = tuple(name.encode() for name in factories)
    for path in project.python_paths_containing(*needles):
        module = project.python(path)
        if module is None:
            continue
        dotted = module_name_for(path, project.app_root)
        for name, binding in module.bindings.items():
            value = binding.value
            if binding.kind != "assign" or not isinstance(value, cst.Call):
                continue
            func = value.func
            called = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
            if called not in factories:
                continue
            app = FlaskApp(dotted, name, "app", path, module.line(binding.node))
            if not any(site.app == app for site in found.apps):
                factory = factories[called]
                found.apps.append(AppSite(app, module, value, None, factory.static_folder))
