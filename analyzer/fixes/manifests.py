"""Declaring a package in the manifest the build installs, as a minimal text edit.

The manifest is the one the build starts from (`project.manifests.primary`):
a requirements file gets a line appended, pyproject.toml an item in
`[project] dependencies` (or a key in Poetry's `[tool.poetry.dependencies]`),
a Pipfile a key in `[packages]`. The result is read back with the same
parser the analyzer uses; anything it does not declare cleanly gives None.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from analyzer.deps import Manifest, normalize, parse_pipfile, parse_pyproject, parse_requirements
from analyzer.fixes.textedit import array_append, newline_of, toml_add_key, toml_array_opening, with_final_newline
from analyzer.project import Project

# The command that rewrites each lock file; the build installs from the lock and refuses a stale one.
LOCKS = {"poetry.lock": "poetry lock", "uv.lock": "uv lock", "pdm.lock": "pdm lock", "Pipfile.lock": "pipenv lock"}


@dataclass
class Declared:
    path: str
    text: str  # the manifest's full new text
    shown: str  # what was added, as written in that file
    where: str  # the file, and the table for a TOML manifest: "`[packages]` of Pipfile"
    note: str  # what else the user must do (update a lock file), or ""


def declare(project: Project, name: str, extras: tuple[str, ...] = ()) -> Declared | None:
    """Add `name` (unpinned) to the manifest the build installs; None when there is no safe place for it."""
    manifest = project.manifests.primary
    if manifest is None or not manifest.parsed:
        return None
    data = project.raw(manifest.path)
    try:
        text = data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        return None
    if text is None or text.startswith("\ufeff"):
        return None  # a BOM or UTF-16 file (PowerShell's `pip freeze >`): an edit would change its encoding
    extra = f"[{','.join(extras)}]" if extras else ""
    if manifest.kind == "requirements":
        result, shown, table = _requirements(text, f"{name}{extra}"), f"{name}{extra}", ""
    elif manifest.kind in ("pyproject", "poetry"):
        result, shown, table = _pyproject(manifest, text, name, extra)
    elif manifest.kind == "pipfile":
        result, shown, table = (
            toml_add_key(text, "packages", _toml_entry(name, extras)),
            _toml_entry(name, extras),
            "packages",
        )
    else:
        return None
    if result is None or not _declares(manifest, result, name):
        return None
    section = "[project] dependencies" if table == "project" else f"[{table}]"
    where = f"`{section}` of {manifest.path}" if table else manifest.path
    return Declared(manifest.path, result, shown, where, _lock_note(project, manifest, result))


def _requirements(text: str, line: str) -> str | None:
    lines = text.splitlines()
    if lines and lines[-1].endswith("\\"):
        return None  # a continuation would swallow the new line
    if re.search(r"--hash[=\s]|--require-hashes", text):
        return None  # hash-checking mode rejects a requirement without hashes
    return f"{with_final_newline(text)}{line}{newline_of(text)}"


def _pyproject(manifest: Manifest, text: str, name: str, extra: str) -> tuple[str | None, str, str]:
    """PEP 621 `[project] dependencies` when it is written there (Poetry 2 reads it too), else Poetry's table."""
    opening = toml_array_opening(text, "project", "dependencies")
    if opening is not None:
        quote = "'" if re.match(r"\[\s*'", text[opening:]) else '"'
        shown = f"{quote}{name}{extra}{quote}"
        return array_append(text, opening, shown), shown, "project"
    if manifest.kind == "poetry":
        shown = _toml_entry(name, tuple(extra.strip("[]").split(",")) if extra else ())
        return toml_add_key(text, "tool.poetry.dependencies", shown), shown, "tool.poetry.dependencies"
    return None, "", ""


def _toml_entry(name: str, extras: tuple[str, ...]) -> str:
    if not extras:
        return f'{name} = "*"'
    listed = ", ".join(f'"{extra}"' for extra in extras)
    return f'{name} = {{version = "*", extras = [{listed}]}}'


def _declares(manifest: Manifest, text: str, name: str) -> bool:
    """The edited file parses as cleanly as before and installs `name`."""
    if manifest.kind == "requirements":
        after = parse_requirements(manifest.path, text)
    elif manifest.kind == "pipfile":
        after = parse_pipfile(manifest.path, text)
    else:
        after = parse_pyproject(manifest.path, text)
    wanted = normalize(name)
    return len(after.problems) <= len(manifest.problems) and any(req.name == wanted for req in after.requirements)


def _lock_note(project: Project, manifest: Manifest, text: str) -> str:
    folder = posixpath.dirname(manifest.path)
    if manifest.kind == "requirements":
        if "pip-compile" in text and posixpath.join(folder, "requirements.in") in project.files.paths:
            return f"{manifest.path} is compiled by pip-compile: add it to requirements.in too"
        return ""
    locks = [lock for lock in LOCKS if posixpath.join(folder, lock) in project.files.paths]
    if manifest.kind == "pipfile":
        locks = [lock for lock in locks if lock == "Pipfile.lock"]
    else:
        locks = [lock for lock in locks if lock != "Pipfile.lock"]
    if not locks:
        return ""
    lock = locks[0]
    return f"run `{LOCKS[lock]}` before deploying: the build installs from {lock} and refuses a stale one"
