"""Calls that start the Werkzeug development server: `app.run()`, `socketio.run(app)`, `run_simple()`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m

from analyzer.flaskapps import FLASK_CLASSES
from analyzer.pysource import MAIN_GUARD, PyModule

if TYPE_CHECKING:
    from analyzer.project import Project

SOCKETIO_CLASSES = frozenset({"flask_socketio.SocketIO"})
RUN_SIMPLE = frozenset({"werkzeug.serving.run_simple", "werkzeug.run_simple"})


@dataclass
class DevRun:
    call: cst.Call
    kind: str  # "app.run", "socketio.run", "run_simple"
    receiver: str
    at_module_level: bool  # outside any function or class
    in_main_guard: bool
    line: int

    def argument(self, keyword: str, position: int) -> cst.BaseExpression | None:
        for index, arg in enumerate(self.call.args):
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
            if arg.keyword is None and not arg.star and index == position:
                return arg.value
        return None

    def host_and_port(self) -> tuple[cst.BaseExpression | None, cst.BaseExpression | None]:
        """The host and port arguments, by each function's own signature."""
        if self.kind == "app.run":  # Flask.run(host, port, debug, ...)
            return self.argument("host", 0), self.argument("port", 1)
        if self.kind == "socketio.run":  # SocketIO.run(app, host, port, ...)
            return self.argument("host", 1), self.argument("port", 2)
        return self.argument("hostname", 0), self.argument("port", 1)  # run_simple(hostname, port, app)


def dev_server_calls(project: Project, module: PyModule) -> list[DevRun]:
    if b".run(" not in module.text.encode() and b"run_simple" not in module.text.encode():
        return []
    factories = {site.app.name for site in project.discovery.factories}
    finder = _Finder(module, factories)
    module.tree.visit(finder)
    return finder.runs


class _Finder(cst.CSTVisitor):
    def __init__(self, module: PyModule, factories: set[str]) -> None:
        self.module = module
        self.factories = factories
        self.apps: set[str] = set()
        self.socketios: set[str] = set()
        self.depth = 0
        self.guard = 0
        self.runs: list[DevRun] = []
        for name, binding in module.bindings.items():
            if binding.kind == "import" and (binding.imported_name or "") in ("app", "application", *factories):
                self.apps.add(name)

    def _is_app_value(self, value: cst.BaseExpression) -> bool:
        if not isinstance(value, cst.Call):
            return False
        if self.module.qualified_names(value.func) & FLASK_CLASSES:
            return True
        func = value.func
        called = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        return called in self.factories

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                if self._is_app_value(node.value):
                    self.apps.add(target.target.value)
                elif isinstance(node.value, cst.Call) and (
                    self.module.qualified_names(node.value.func) & SOCKETIO_CLASSES
                ):
                    self.socketios.add(target.target.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.depth -= 1

    def visit_If(self, node: cst.If) -> None:
        if m.matches(node, MAIN_GUARD):
            self.guard += 1

    def leave_If(self, original_node: cst.If) -> None:
        if m.matches(original_node, MAIN_GUARD):
            self.guard -= 1

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        kind = receiver = None
        if self.module.qualified_names(func) & RUN_SIMPLE:
            kind, receiver = "run_simple", "run_simple"
        elif isinstance(func, cst.Attribute) and func.attr.value == "run":
            value = func.value
            if isinstance(value, cst.Name) and value.value in self.socketios:
                kind, receiver = "socketio.run", value.value
            elif (isinstance(value, cst.Name) and value.value in self.apps) or self._is_app_value(value):
                kind = "app.run"
                receiver = value.value if isinstance(value, cst.Name) else self.module.code(value)
        if kind is not None:
            self.runs.append(DevRun(node, kind, receiver, self.depth == 0, self.guard > 0, self.module.line(node)))
