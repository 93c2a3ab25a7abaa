"""Reading a repository safely: the file listing, size and symlink limits, decoding.

Nothing here executes or imports what it reads. Each reader decodes a file the
way the tool that consumes it does: pip sniffs a BOM, Python honours PEP 263
coding cookies, TOML is UTF-8.
"""

from __future__ import annotations

import ast
import codecs
import io
import os
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from analyzer.report import Skipped

MAX_FILE_BYTES = 1024 * 1024

# libcst's native parser overflows the C stack on a few thousand nested
# expressions (the process dies), is slow well before that, and its Python
# visitors hit the recursion limit at a few hundred levels. Real code stays far
# below this; CPython itself refuses more than 200 nested brackets.
MAX_NESTING = 100
MAX_LINE_CHARS = 1000
_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")

# Folders no deploy reads source from; walking them would only cost time.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        "env",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        ".eggs",
        "build",
        "dist",
    }
)

_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)


class Unreadable(Exception):
    """A file the analyzer will not read; the message is the reason."""


@dataclass
class RepoFiles:
    """The listing of one repository: repo-relative POSIX paths to absolute paths."""

    root: Path
    paths: dict[str, Path] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)

    @classmethod
    def scan(cls, root: Path) -> RepoFiles:
        root = root.resolve()
        listing = cls(root)
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            here = Path(dirpath)
            kept = []
            for name in sorted(dirnames):
                full = here / name
                if name in IGNORED_DIRS:
                    continue
                if full.is_symlink():
                    # os.walk does not descend into it; note links that leave the repo.
                    if not _inside(full, root):
                        listing.skip(full, "symlink pointing outside the repository")
                    continue
                kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                full = here / name
                if full.is_symlink() and not _inside(full, root):
                    listing.skip(full, "symlink pointing outside the repository")
                    continue
                listing.paths[full.relative_to(root).as_posix()] = full
        return listing

    def skip(self, full: Path, reason: str) -> None:
        rel = full.relative_to(self.root).as_posix() if full.is_absolute() else str(full)
        if not any(s.path == rel for s in self.skipped):
            self.skipped.append(Skipped(rel, reason))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def read_bytes(path: Path) -> bytes:
    """The raw bytes of a regular file, refusing special and oversized files."""
    try:
        if not path.is_file():
            raise Unreadable("not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise Unreadable(f"larger than 1 MiB ({size} bytes)")
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise Unreadable(f"cannot be read ({error.strerror or error})") from error


def looks_binary(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return False
    return b"\x00" in data[:8192]


def decode_text(data: bytes) -> str:
    """Decode a deploy or config file: BOM first, as pip does, else UTF-8."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise Unreadable(f"not valid {encoding}") from error
    if b"\x00" in data[:8192]:
        raise Unreadable("binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable("not valid UTF-8 and no byte-order mark") from error


def decode_python(data: bytes) -> str:
    """Decode Python source as the interpreter does: BOM or PEP 263 cookie, else UTF-8."""
    if looks_binary(data):
        raise Unreadable("binary file")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise Unreadable(f"undecodable Python source ({error.__class__.__name__})") from error


@dataclass
class QuickParse:
    """CPython's own parse of a file: fast, and safe on input that crashes libcst."""

    tree: ast.Module | None  # None when CPython could not parse it
    problem: str | None  # why the file must not be handed to libcst
    # Every node of `tree`, gathered by the depth check: prefilters scan this list instead of
    # walking the tree again with `ast.walk`, which costs several times more.
    nodes: list[ast.AST] = field(default_factory=list, repr=False)

    @cached_property
    def imported_packages(self) -> frozenset[str]:
        """Top-level packages of the module's absolute imports, wherever they are (`import a.b` -> `a`)."""
        found = set()
        for node in self.nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
        return frozenset(found)

    def may_import(self, packages: frozenset[str] | set[str]) -> bool:
        """False only when CPython's tree shows that the module imports none of `packages`.

        libcst's qualified names come from a module's own imports, so a module that imports no
        package of a library never has a name that resolves into it: it need not be parsed."""
        return self.tree is None or not self.imported_packages.isdisjoint(packages)


def ast_last_name(node: ast.expr) -> str | None:
    """The last name of a callee or base in CPython's tree: `b` of `a.b`, `f` of `f`; else None."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def quick_parse(source: str) -> QuickParse:
    """Parse with CPython (C, fast, guarded) and measure how deeply the code nests.

    A file CPython cannot parse, which may use syntax newer than this
    interpreter, gets a textual depth check instead.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like are not our report
            tree = ast.parse(source)
    except SyntaxError as error:
        if "too many nested" in str(error.msg) or "too complex" in str(error.msg):
            return QuickParse(None, f"nested too deeply ({error.msg})")
        return QuickParse(None, _textual_nesting_problem(source))
    except (RecursionError, MemoryError):
        return QuickParse(None, "nested too deeply for Python's own parser")
    except ValueError:
        return QuickParse(None, _textual_nesting_problem(source))
    depth, nodes = _ast_depth(tree)
    if depth > MAX_NESTING:
        return QuickParse(tree, f"nested {depth} levels deep (more than {MAX_NESTING})", nodes)
    return QuickParse(tree, None, nodes)


def nesting_problem(source: str) -> str | None:
    """Why `source` is too deeply nested to hand to libcst, or None when it is safe."""
    return quick_parse(source).problem


def _ast_depth(tree: ast.AST) -> tuple[int, list[ast.AST]]:
    """How many levels deep the tree goes, and all its nodes (breadth first).

    Reads `_fields` level by level: about twice as fast as `ast.iter_child_nodes`,
    and this runs on every module the analyzer looks at."""
    nodes: list[ast.AST] = []
    level = [tree]
    depth = 0
    while level:
        depth += 1
        nodes += level
        below: list[ast.AST] = []
        for node in level:
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    below += [item for item in value if isinstance(item, ast.AST)]
                elif isinstance(value, ast.AST):
                    below.append(value)
        level = below
    return depth, nodes


def _textual_nesting_problem(source: str) -> str | None:
    depth = deepest = 0
    for bracket in _NOT_BRACKETS.sub("", source):
        depth = depth + 1 if bracket in "([{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        return f"brackets nested {deepest} levels deep (more than {MAX_NESTING})"
    longest = max(map(len, source.splitlines()), default=0)
    if longest > MAX_LINE_CHARS:
        # An operator chain on one line nests as deep as it is long.
        running = f"{sys.version_info.major}.{sys.version_info.minor}"
        return f"a {longest}-character line in source Python {running} cannot parse"
    return None
