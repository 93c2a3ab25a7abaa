"""Python edits for autofixes: libcst transforms that change only the intended nodes.

A `ModuleEdit` collects edits to one module of the scanned repo (replace an
expression, insert a statement next to another, add an import with the
others) and renders the module's new text with every other byte kept: the
tree is the one the analyzer parsed, nodes are matched by identity or by
position, and libcst keeps comments, formatting and CRLF line endings.
"""

from __future__ import annotations

import re

import libcst as cst
from libcst.metadata import ParentNodeProvider, PositionProvider

from analyzer.autofix import Fix
from analyzer.project import Project
from analyzer.pysource import PyModule, dotted_name

BOM = "\ufeff"
# Where an expression needs no parentheses whatever it is.
_BARE_SLOTS = (cst.Assign, cst.AnnAssign, cst.Arg, cst.DictElement, cst.Element, cst.Return, cst.Expr)
_COMPOUND = (cst.Comparison, cst.BooleanOperation, cst.BinaryOperation, cst.IfExp, cst.UnaryOperation, cst.Lambda)


class ModuleEdit:
    """Pending edits of one module; `text()` renders the result."""

    def __init__(self, project: Project, module: PyModule, original: str) -> None:
        self.project = project
        self.module = module
        self.path = module.path
        self.original = original
        self._replace: dict[int, tuple[cst.CSTNode, cst.BaseExpression]] = {}
        self._after: dict[int, list[cst.BaseStatement]] = {}
        self._before: dict[int, list[cst.BaseStatement]] = {}
        self._remove: set[int] = set()
        self._imports: list[tuple[cst.SimpleStatementLine, str]] = []  # (statement, "plain" | "from")
        self._imported: dict[tuple[str, str | None], str] = {}

    @classmethod
    def of(cls, project: Project, path: str | None) -> ModuleEdit | None:
        """None when the module is not parsed or its bytes are not the UTF-8 text that was parsed,
        and when the project builds no fixes (a re-analysis that verifies one)."""
        if path is None or not project.builds_fixes:
            return None
        module = project.python(path)
        data = project.raw(path)
        if module is None or data is None:
            return None
        try:
            original = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if original not in (module.text, BOM + module.text):
            return None
        return cls(project, module, original)

    # -- finding nodes -----------------------------------------------------------

    def locate(self, node: cst.CSTNode | None, source: PyModule | None = None) -> cst.CSTNode | None:
        """The node in this module's tree: the same object, else the node of the same type at the same
        span in `source` (a parse of the same file)."""
        if node is None:
            return None
        positions = self.module.metadata(PositionProvider)
        if node in positions:
            return node
        if source is None or source is self.module:
            return None
        try:
            span = source.metadata(PositionProvider)[node]
        except KeyError:
            return None
        for candidate, candidate_span in positions.items():
            if type(candidate) is type(node) and candidate_span == span:
                return candidate
        return None

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.module.metadata(ParentNodeProvider).get(node)

    def statement_of(self, node: cst.CSTNode) -> cst.BaseStatement | None:
        """The statement of a body (module, function, class, block) that holds the node."""
        current: cst.CSTNode | None = node
        while current is not None:
            parent = self.parent(current)
            if isinstance(current, cst.BaseStatement) and isinstance(parent, (cst.Module, cst.IndentedBlock)):
                return current
            current = parent
        return None

    def line(self, node: cst.CSTNode) -> int:
        return self.module.line(node)

    def contains(self, outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
        """Whether `inner` lies within `outer` (both nodes of this module)."""
        positions = self.module.metadata(PositionProvider)
        a, b = positions[outer], positions[inner]
        return (a.start.line, a.start.column) <= (b.start.line, b.start.column) and (b.end.line, b.end.column) <= (
            a.end.line,
            a.end.column,
        )

    @classmethod
    def at_value(
        cls, project: Project, path: str | None, line: int | None, node: cst.CSTNode | None, source: PyModule | None
    ) -> tuple[ModuleEdit, cst.CSTNode] | None:
        """An edit of `path` and the value expression `node` (a node of `source`, a parse of `path`),
        when that expression is written on the statement at line `line` (where a setting is assigned)."""
        if source is None or node is None or source.path != path:
            return None
        edit = cls.of(project, path)
        found = edit.locate(node, source) if edit is not None else None
        if found is None:
            return None
        statement = edit.statement_of(found)
        if line not in (edit.line(found), edit.line(statement) if statement is not None else None):
            return None
        return edit, found

    # -- names -------------------------------------------------------------------

    def quote(self, within: cst.CSTNode | None = None) -> str:
        """The quote the code around uses: the first string of `within`, else of the module."""
        for root in (within, self.module.tree):
            if root is None:
                continue
            stack = [root]
            while stack:
                current = stack.pop()
                if isinstance(current, cst.SimpleString):
                    return '"' if current.quote.endswith('"') else "'"
                stack.extend(reversed(current.children))
        return '"'

    def string(self, value: str, within: cst.CSTNode | None = None) -> str:
        quote = self.quote(within)
        return f"{quote}{value}{quote}"

    def import_name(self, module: str, name: str | None = None) -> str | None:
        """The name `import module` (name None) or `from module import name` is bound to at module
        level, adding the import when it is missing; None when that name is taken by something else."""
        key = (module, name)
        if key in self._imported:
            return self._imported[key]
        bindings = self.module.bindings
        for bound, binding in bindings.items():
            if binding.kind != "import":
                continue
            plain = name is None and binding.imported_from == module and binding.imported_name is None
            if plain and (not isinstance(binding.node, cst.Import) or _binds_module(binding.node, bound, module)):
                self._imported[key] = bound
                return bound
            if name is not None and binding.imported_from == module and binding.imported_name == name:
                self._imported[key] = bound
                return bound
        wanted = name or module.split(".")[0]
        if wanted in bindings or wanted in self._imported.values():
            return None
        code = f"import {module}" if name is None else f"from {module} import {name}"
        self._imports.append((cst.parse_statement(code + "\n"), "plain" if name is None else "from"))
        self._imported[key] = wanted
        return wanted

    def os_name(self) -> str | None:
        return self.import_name("os")

    def environ(self, variable: str, within: cst.CSTNode | None = None) -> str | None:
        """`os.environ["NAME"]` under the module's own names (`environ["NAME"]` after `from os import environ`)."""
        key = self.string(variable, within)
        for bound, binding in self.module.bindings.items():
            if binding.kind == "import" and binding.imported_from == "os" and binding.imported_name == "environ":
                return f"{bound}[{key}]"
        os_name = self.os_name()
        return f"{os_name}.environ[{key}]" if os_name else None

    def debug_from_environment(self, within: cst.CSTNode | None = None) -> str | None:
        """`os.environ.get("FLASK_DEBUG") == "1"`: on only when asked for."""
        os_name = self.os_name()
        if os_name is None:
            return None
        return f"{os_name}.environ.get({self.string('FLASK_DEBUG', within)}) == {self.string('1', within)}"

    # -- edits ---------------------------------------------------------------------

    def replace(self, node: cst.CSTNode, code: str | cst.BaseExpression) -> bool:
        """Replace an expression; False when it is already replaced or `code` is not an expression
        (a variable name with a quote in it)."""
        try:
            new = cst.parse_expression(code) if isinstance(code, str) else code
        except cst.ParserSyntaxError:
            return False
        if id(node) in self._replace:
            return False
        self._replace[id(node)] = (node, self._parenthesized(node, new))
        return True

    def _parenthesized(self, node: cst.CSTNode, new: cst.BaseExpression) -> cst.BaseExpression:
        needs = isinstance(new, _COMPOUND) and not isinstance(self.parent(node), _BARE_SLOTS)
        if not needs:
            return new
        original = getattr(node, "lpar", None)
        if original:
            return new.with_changes(lpar=node.lpar, rpar=node.rpar)
        return new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    def insert_after(self, statement: cst.BaseStatement, code: str) -> None:
        self._after.setdefault(id(statement), []).append(cst.parse_statement(code + "\n"))

    def insert_before(self, statement: cst.BaseStatement, code: str) -> None:
        self._before.setdefault(id(statement), []).append(cst.parse_statement(code + "\n"))

    def remove(self, statement: cst.BaseStatement) -> bool:
        """Remove a statement of a body; a block left empty gets `pass`. Only a line holding one
        small statement (`ENV = "production"`), so nothing else on the line goes with it."""
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return False
        self._remove.add(id(statement))
        return True

    @property
    def changed(self) -> bool:
        return bool(self._replace or self._after or self._before or self._imports or self._remove)

    def text(self) -> str | None:
        """The module's new text; None when nothing changed or the result does not parse."""
        if not self.changed:
            return None
        tree = self.module.tree.visit(_Apply(self))
        unused = self._unused_imports(tree)
        if unused:
            tree = tree.visit(_DropImports(unused))
        code = tree.code
        try:
            cst.parse_module(code)
        except cst.ParserSyntaxError:
            return None
        if self.original.startswith(BOM):
            code = BOM + code
        return code if code != self.original else None

    def _unused_imports(self, tree: cst.Module) -> set[str]:
        """Module-level imports that only the replaced expressions used (`import secrets` once
        `secrets.token_hex()` is gone). A name still written anywhere else, in a comment or a string
        included, is kept."""
        replaced_names = {
            name.value
            for node, _new in self._replace.values()
            for name in _descendants(node)
            if isinstance(name, cst.Name)
        }
        unused = set()
        for name in replaced_names:
            binding = self.module.bindings.get(name)
            if binding is None or binding.kind != "import" or name in self._imported.values():
                continue
            statement = next((s for s in tree.body if _is_import(s) and name in _bound_by(s)), None)
            if statement is None:
                continue
            others = "".join(tree.code_for_node(s) for s in tree.body if s is not statement)
            word = re.compile(rf"\b{re.escape(name)}\b")
            if not word.search(others) and len(word.findall(tree.code_for_node(statement))) == 1:
                unused.add(name)
        return unused

    def fix(self, title: str, safety: str, note: str = "") -> Fix | None:
        text = self.text()
        return Fix(title, safety, {self.path: text}, note=note) if text is not None else None


def _binds_module(node: cst.Import, bound: str, module: str) -> bool:
    """`import os` or `import os as x` (not `import os.path as x`, which binds the submodule)."""
    for alias in node.names:
        asname = (
            alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else None
        )
        if dotted_name(alias.name) == module and (asname or module) == bound:
            return True
        if asname is None and dotted_name(alias.name).split(".")[0] == bound == module:
            return True
    return False


def _descendants(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


class _DropImports(cst.CSTTransformer):
    """Remove module-level import aliases bound to the given names (the statement when none is left)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = []
        carried: list = []
        for statement in updated_node.body:
            if _is_import(statement) and len(statement.body) == 1:
                small = statement.body[0]
                aliases = small.names if not isinstance(small.names, cst.ImportStar) else ()
                kept = [alias for alias in aliases if _alias_bound(alias) not in self.names]
                if aliases and not kept:
                    carried = [line for line in statement.leading_lines if line.comment is not None]
                    continue
                if len(kept) != len(aliases):
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    statement = statement.with_changes(body=[small.with_changes(names=kept)])
            if carried:
                statement = statement.with_changes(leading_lines=[*carried, *statement.leading_lines])
                carried = []
            body.append(statement)
        return updated_node.with_changes(body=body)


def _bound_by(statement: cst.SimpleStatementLine) -> set[str]:
    return {
        _alias_bound(alias)
        for small in statement.body
        if not isinstance(small.names, cst.ImportStar)
        for alias in small.names
    }


def _alias_bound(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return dotted_name(alias.name).split(".")[0]


class _Apply(cst.CSTTransformer):
    def __init__(self, edit: ModuleEdit) -> None:
        self.edit = edit

    def on_leave(self, original_node, updated_node):
        replaced = self.edit._replace.get(id(original_node))
        if replaced is not None and replaced[0] is original_node:
            return replaced[1]
        if isinstance(updated_node, (cst.Module, cst.IndentedBlock)):
            body = self._with_inserts(original_node.body, updated_node.body)
            if isinstance(updated_node, cst.Module):
                body = self._with_imports(original_node.body, body)
            return updated_node.with_changes(body=body)
        return updated_node

    def _with_inserts(self, originals, updated) -> list:
        body = []
        carried = None  # the leading lines (comments, blank lines) of a removed statement
        for original, current in zip(originals, updated, strict=True):
            body.extend(self.edit._before.get(id(original), []))
            if id(original) in self.edit._remove:
                carried = current.leading_lines
                continue
            if carried is not None and not current.leading_lines:
                current = current.with_changes(leading_lines=carried)
            carried = None
            body.append(current)
            body.extend(self.edit._after.get(id(original), []))
        if not body and originals:
            body = [cst.SimpleStatementLine([cst.Pass()])]
        return body

    def _with_imports(self, originals, body: list) -> list:
        if not self.edit._imports:
            return body
        body = list(body)
        for statement, kind in self.edit._imports:
            index, lead = _import_position(body, statement, kind)
            if lead and index < len(body):
                following = body[index]
                statement = statement.with_changes(leading_lines=following.leading_lines)
                spacing = [] if _is_import(following) else [cst.EmptyLine()]
                if isinstance(following, (cst.ClassDef, cst.FunctionDef)):
                    spacing = [cst.EmptyLine(), cst.EmptyLine()]
                body[index] = following.with_changes(leading_lines=spacing)
            body.insert(index, statement)
        return body


def _is_import(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _is_future(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.ImportFrom)
        and dotted_name(statement.body[0].module) == "__future__"
    )


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _plain_import(statement: cst.CSTNode) -> str | None:
    """The module of `import x` (one name), else None."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Import) and len(small.names) == 1:
            return dotted_name(small.names[0].name)
    return None


def _import_position(body: list, statement: cst.SimpleStatementLine, kind: str) -> tuple[int, bool]:
    """Where an added import goes among the module's leading imports, and whether it takes over the
    leading lines (blank lines, comments) of the statement it lands before.

    `import x` goes with the plain imports at the start of the block, in alphabetical order;
    `from x import y` goes after the absolute imports, before relative ones.
    """
    start = 0
    if body and _is_docstring(body[0]):
        start = 1
    while start < len(body) and _is_future(body[start]):
        start += 1
    end = start
    while end < len(body) and _is_import(body[end]):
        end += 1
    if end == start:
        return start, True
    if kind == "plain":
        name = _plain_import(statement)
        index = start
        while index < end and (_plain_import(body[index]) or "~") < (name or ""):
            index += 1
        return index, index == start
    for index in range(start, end):
        small = body[index].body[0]
        if isinstance(small, cst.ImportFrom) and small.relative:
            return index, index == start
    return end, False
