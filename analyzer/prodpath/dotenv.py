"""Committed dotenv files that the code loads at import (`load_dotenv()`, `dotenv_values()`)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from analyzer.deployfiles import parse_env_file
from analyzer.prodpath.lattice import REPO_ROOT, Known

if TYPE_CHECKING:
    from analyzer.prodpath.imports import Reach
    from analyzer.prodpath.values import Evaluator, Scope

LOAD_DOTENV = frozenset({"dotenv.load_dotenv", "dotenv.main.load_dotenv"})
FIND_DOTENV = frozenset({"dotenv.find_dotenv", "dotenv.main.find_dotenv"})


@dataclass
class DotenvLoad:
    """A dotenv file loaded into the environment at import."""

    path: str  # the file, repo-relative
    call_path: str  # where `load_dotenv(...)` is called
    call_line: int
    override: bool
    entries: list[tuple[str, str, int]]  # (name, value, line)

    @property
    def evidence(self) -> str:
        return f"`load_dotenv()` at {self.call_path}:{self.call_line} loads {self.path}"


def dotenv_file_for_call(evaluator: Evaluator, call: cst.Call, scope: Scope, before) -> str | None:
    """The committed file a `load_dotenv`/`dotenv_values` call reads, or None when not in the repo."""
    project = evaluator.project
    argument = None
    for position, arg in enumerate(call.args):
        keyword = arg.keyword.value if arg.keyword is not None else None
        if (keyword is None and position == 0) or keyword == "dotenv_path":
            argument = arg.value
    if argument is not None and not (
        isinstance(argument, cst.Call) and evaluator.qualified_names(scope.module, argument.func, "calls") & FIND_DOTENV
    ):
        value = evaluator.evaluate(argument, scope, before).effective
        if not isinstance(value, Known) or not isinstance(value.value, str):
            return None
        name = str(value.value)
        if name.startswith(REPO_ROOT + "/"):
            path = posixpath.normpath(name[len(REPO_ROOT) + 1 :])
        elif name.startswith("/"):
            return None
        else:
            path = posixpath.normpath(posixpath.join(evaluator.cwd, name) if evaluator.cwd else name)
        return path if path in project.files.paths else None
    # find_dotenv() walks up from the directory of the file that calls it.
    directory = posixpath.dirname(scope.path)
    while True:
        candidate = posixpath.join(directory, ".env") if directory else ".env"
        if candidate in project.files.paths:
            return candidate
        if not directory:
            return None
        directory = posixpath.dirname(directory)


def loaded_dotenv_files(reach: Reach, evaluator: Evaluator) -> list[DotenvLoad]:
    """`load_dotenv(...)` calls that run on the production path, and the committed files they load."""
    loads = []
    for call, step in reach.calls(quiet=False):
        if not isinstance(call.func, (cst.Name, cst.Attribute)):
            continue
        if not evaluator.qualified_names(step.module, call.func, "calls") & LOAD_DOTENV:
            continue
        path = dotenv_file_for_call(evaluator, call, step.scope, step.node)
        if path is None:
            continue
        override = False
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "override":
                value = evaluator.evaluate(arg.value, step.scope, step.node).effective
                override = isinstance(value, Known) and value.value is True
        text = evaluator.project.read_text(path) or ""
        loads.append(DotenvLoad(path, step.path, step.module.line(call), override, parse_env_file(text)))
    return loads
