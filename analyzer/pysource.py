"""Python modules of the scanned repo: parsed once with libcst, metadata on demand.

A module is parsed the first time a rule asks for it and the tree, its
positions and its qualified names are shared by every rule after that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider
from libcst.metadata.base_provider import LazyValue

MAIN_GUARD = m.If(
    test=m.Comparison(
        left=m.Name("__name__"),
        comparisons=[m.ComparisonTarget(operator=m.Equal(), comparator=m.SimpleString())],
    )
)


@dataclass
class Binding:
    """A name bound at module level, and how."""

    name: str
    kind: str  # assign, def, class, import
    node: cst.CSTNode = field(repr=False)
    value: cst.BaseExpression | None = field(default=None, repr=False)  # for assignments
    imported_from: str | None = None  # "pkg.mod" for `from pkg.mod import name`
    imported_name: str | None = None


@dataclass
class PyModule:
    path: str  # repo-relative POSIX path
    text: str
    tree: cst.Module
    _metadata: dict = field(default_factory=dict, repr=False)

    @cached_property
    def wrapper(self) -> MetadataWrapper:
        # The tree is never mutated, so the defensive deep copy would only cost time.
        return MetadataWrapper(self.tree, unsafe_skip_copy=True)

    def metadata(self, provider):
        if provider not in self._metadata:
            self._metadata[provider] = self.wrapper.resolve(provider)
        return self._metadata[provider]

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and column of a node."""
        start = self.metadata(PositionProvider)[node].start
        return start.line, start.column + 1

    def line(self, node: cst.CSTNode) -> int:
        return self.position(node)[0]

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        names = self.metadata(QualifiedNameProvider).get(node, set())
        if isinstance(names, LazyValue):  # qualified names are computed on first access
            names = names()
        return {qn.name for qn in names}

    def code(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node)

    @cached_property
    def all_nodes(self) -> list[cst.CSTNode]:
        """Every node of the tree in source order, gathered in one visitor pass. The module is
        shared by the re-analyses that verify fixes, so they find nodes without walking again."""
        found: list[cst.CSTNode] = []

        class Collector(cst.CSTVisitor):
            def on_visit(self, node: cst.CSTNode) -> bool:
                found.append(node)
                return True

        self.tree.visit(Collector())
        return found

    def nodes_of(self, kind: type | tuple[type, ...]) -> list:
        """Every node of a kind, in source order."""
        return [node for node in self.all_nodes if isinstance(node, kind)]

    @cached_property
    def bindings(self) -> dict[str, Binding]:
        """Names bound at module level, skipping `if __name__ == "__main__":` blocks."""
        found: dict[str, Binding] = {}
        for statement in module_level_statements(self.tree):
            for binding in _bindings_of(statement):
                found[binding.name] = binding
        return found

    @cached_property
    def has_star_import(self) -> bool:
        return any(
            isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar)
            for statement in module_level_statements(self.tree)
            if isinstance(statement, cst.SimpleStatementLine)
            for small in statement.body
        )


def module_level_statements(tree: cst.Module, *, include_main: bool = False):
    """Top-level statements, descending into if/try/with blocks, not into defs."""

    def walk(statements):
        for statement in statements:
            if isinstance(statement, cst.If):
                if not include_main and m.matches(statement, MAIN_GUARD):
                    if statement.orelse is not None:
                        yield from walk(_block(statement.orelse))
                    continue
                yield statement
                yield from walk(statement.body.body)
                orelse = statement.orelse
                if orelse is not None:
                    yield from walk(_block(orelse))
            elif isinstance(statement, cst.Try):
                yield statement
                yield from walk(statement.body.body)
                for handler in statement.handlers:
                    yield from walk(handler.body.body)
                if statement.orelse:
                    yield from walk(statement.orelse.body.body)
                if statement.finalbody:
                    yield from walk(statement.finalbody.body.body)
            elif isinstance(statement, cst.With):
                yield statement
                yield from walk(statement.body.body)
            else:
                yield statement

    yield from walk(tree.body)


def main_guard_blocks(tree: cst.Module) -> list[cst.If]:
    return [statement for statement in tree.body if isinstance(statement, cst.If) and m.matches(statement, MAIN_GUARD)]


def _block(orelse):
    if isinstance(orelse, cst.If):
        return [orelse]
    return orelse.body.body


def _bindings_of(statement: cst.CSTNode):
    if isinstance(statement, cst.FunctionDef):
        yield Binding(statement.name.value, "def", statement)
    elif isinstance(statement, cst.ClassDef):
        yield Binding(statement.name.value, "class", statement)
    elif isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    for name in _target_names(target.target):
                        yield Binding(name, "assign", small, small.value)
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                yield Binding(small.target.value, "assign", small, small.value)
            elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                yield Binding(small.target.value, "assign", small, None)
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    dotted = dotted_name(alias.name)
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        yield Binding(alias.asname.name.value, "import", small, imported_from=dotted)
                    else:
                        yield Binding(dotted.split(".")[0], "import", small, imported_from=dotted.split(".")[0])
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                source = "." * len(small.relative) + (dotted_name(small.module) if small.module else "")
                for alias in small.names:
                    original = dotted_name(alias.name)
                    bound = original
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        bound = alias.asname.name.value
                    yield Binding(bound, "import", small, imported_from=source, imported_name=original)
    elif isinstance(statement, (cst.For, cst.With)):
        return


def _target_names(target: cst.BaseExpression):
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_names(element.value)


def dotted_name(node: cst.CSTNode | None) -> str:
    if node is None:
        return ""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted_name(node.value)}.{node.attr.value}"
    return ""


def module_name_for(path: str, root: str) -> str:
    """Dotted module name of a file relative to an import root (`pkg/mod.py` -> `pkg.mod`)."""
    rel = path[len(root) + 1 :] if root and path.startswith(root + "/") else path
    rel = rel[:-3] if rel.endswith(".py") else rel
    parts = rel.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def resolve_relative(current_module: str, is_package: bool, source: str) -> str:
    """Absolute module for a relative import written in `current_module`."""
    level = len(source) - len(source.lstrip("."))
    if level == 0:
        return source
    parts = current_module.split(".") if current_module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    rest = source[level:]
    return ".".join([*parts, rest] if rest else parts)
