"""Careful text edits of the files a start command is written in, for autofixes.

A start command lives in a Procfile line, a railway/nixpacks/railpack config
string, a Dockerfile `CMD`/`ENTRYPOINT` or a shell script. These helpers find
where it is written (a `Span`, with the quoting of its container), replace or
insert shell words there, and leave every other byte alone: comments,
indentation and CRLF line endings.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import libcst as cst

from analyzer.deployfiles import exec_form

if TYPE_CHECKING:
    from analyzer.project import Project
    from analyzer.report import StartCommand
    from analyzer.startcmd import ServerRun

_BARE_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./${}-]+")
# A word is only replaced where it stands alone, not inside a longer word (`app:app` in `myapp:app`).
_BEFORE = r"(?<![A-Za-z0-9_.:$/-])"
_AFTER = r"(?![A-Za-z0-9_.:/(-])"


def utf8_text(project: Project, path: str) -> str | None:
    """The file as the fix edits it: the original bytes decoded as UTF-8, line endings kept."""
    data = project.raw(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def line_bounds(text: str, number: int) -> tuple[int, int, int] | None:
    """(start, end of content, end with the line ending) of 1-based line `number`, as str.splitlines counts."""
    offset = 0
    for index, line in enumerate(text.splitlines(keepends=True), start=1):
        if index == number:
            content = line.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
            return offset, offset + len(content), offset + len(line)
        offset += len(line)
    return None


def append_line(text: str, line: str) -> str:
    """`text` with one more line, in the file's line ending; a missing final newline is added first."""
    newline = newline_of(text)
    if text and not text.endswith(("\n", "\r")):
        text += newline
    return f"{text}{line}{newline}"


def shell_word(word: str, single_quotes: bool = True) -> str:
    """A word as a shell reads it back: bare when safe, else quoted (double quotes keep `$PORT` live)."""
    if _BARE_WORD.fullmatch(word):
        return word
    if "$" not in word and "'" not in word and single_quotes:
        return f"'{word}'"
    return '"' + re.sub(r'(["\\`])', r"\\\1", word) + '"'


@dataclass
class Span:
    """Where (part of) a command is written: text[start:end] of `path`, inside a container."""

    path: str
    start: int
    end: int
    # shell (Procfile, shell-form CMD, script), exec (a JSON array word), json, toml-basic,
    # toml-literal, yaml-double, yaml-single (a string holding shell text)
    kind: str


def encode(kind: str, text: str) -> str | None:
    """Shell text written inside the span's container, or None when the container cannot hold it."""
    if kind in ("exec", "json", "toml-basic", "yaml-double"):
        return json.dumps(text, ensure_ascii=False)[1:-1]
    if kind == "toml-literal":
        return None if "'" in text or "\n" in text else text
    if kind == "yaml-single":
        return text.replace("'", "''")
    return text


@dataclass
class TextEdit:
    path: str
    start: int
    end: int
    text: str


class Command:
    """The editable places of one start command (and the script it runs)."""

    def __init__(self, project: Project, spans: list[Span]) -> None:
        self.project = project
        self.spans = spans
        self.texts = {span.path: utf8_text(project, span.path) or "" for span in spans}

    @property
    def kinds(self) -> set[str]:
        return {span.kind for span in self.spans}

    def occurrences(self, word: str) -> list[tuple[Span, int, int]]:
        """(span, start, end) of each standalone occurrence of `word` in the written command."""
        found = []
        pattern = re.compile(_BEFORE + re.escape(word) + _AFTER)
        for span in self.spans:
            for match in pattern.finditer(self.texts[span.path], span.start, span.end):
                found.append((span, match.start(), match.end()))
        return found

    def replace_word(self, old: str, new: str) -> TextEdit | None:
        """Replace the one occurrence of shell word `old` with the word `new`, quoted as its place needs."""
        places = self.occurrences(old)
        if len(places) != 1:
            return None
        span, start, end = places[0]
        text = self.texts[span.path]
        if start > span.start and end < span.end and text[start - 1] == text[end] and text[end] in "'\"":
            if span.kind != "exec":
                start, end = start - 1, end + 1  # re-quote the whole word: '...' would keep `$PORT` literal
        elif span.kind == "exec":
            return None
        written = new if span.kind == "exec" else shell_word(new, span.kind != "toml-literal")
        encoded = encode(span.kind, written)
        return TextEdit(span.path, start, end, encoded) if encoded is not None else None

    def insert_after(self, anchor: str, words: list[str]) -> TextEdit | None:
        """Insert shell words right after the one occurrence of `anchor` (a program or subcommand word)."""
        places = [place for place in self.occurrences(anchor) if place[0].kind != "exec"]
        if len(places) != 1:
            return None
        span, _start, end = places[0]
        written = " ".join(shell_word(word, span.kind != "toml-literal") for word in words)
        encoded = encode(span.kind, " " + written)
        return TextEdit(span.path, end, end, encoded) if encoded is not None else None

    def remove_word(self, word: str) -> TextEdit | None:
        """Remove the one occurrence of `word` and the blank (or JSON comma) that separates it."""
        places = self.occurrences(word)
        if len(places) != 1:
            return None
        span, start, end = places[0]
        text = self.texts[span.path]
        if span.kind == "exec":
            if text[start - 1 : start] != '"' or text[end : end + 1] != '"':
                return None
            before = re.search(r",\s*$", text[span.start : start - 1])
            if before:
                return TextEdit(span.path, span.start + before.start(), end + 1, "")
            after = re.match(r"\s*,\s*", text[end + 1 : span.end])
            return TextEdit(span.path, start - 1, end + 1 + after.end(), "") if after else None
        blanks = re.search(r"[ \t]+$", text[span.start : start])
        if blanks is None:
            return None
        return TextEdit(span.path, span.start + blanks.start(), end, "")


def apply_edits(project: Project, edits: list[TextEdit]) -> dict[str, str] | None:
    """The new text of each file the edits touch; None when two edits overlap."""
    changes: dict[str, str] = {}
    for path in {edit.path for edit in edits}:
        text = utf8_text(project, path)
        if text is None:
            return None
        ordered = sorted((edit for edit in edits if edit.path == path), key=lambda edit: edit.start, reverse=True)
        for later, earlier in pairwise(ordered):
            if earlier.end > later.start:
                return None
        for edit in ordered:
            text = text[: edit.start] + edit.text + text[edit.end :]
        changes[path] = text
    return changes


# -- where the command is written ------------------------------------------------------


def command_spans(project: Project, start: StartCommand, run: ServerRun | None = None) -> list[Span]:
    """Where the effective start command is written; empty when it lives outside the repo (platform settings)."""
    spans: list[Span] = []
    if start.path is not None and utf8_text(project, start.path) is not None:
        text = utf8_text(project, start.path)
        if start.kind == "procfile":
            span = procfile_command_span(text, start.path, start.line)
            spans.extend([span] if span else [])
        elif start.kind in ("railway", "railpack", "nixpacks"):
            key = "cmd" if start.kind == "nixpacks" else "startCommand"
            span = config_string_span(text, start.path, key, start.command)
            spans.extend([span] if span else [])
        elif start.kind in ("dockerfile", "dockerfile-exec"):
            spans.extend(dockerfile_spans(project, text, start.path))
    if run is not None and run.script:
        script = utf8_text(project, run.script)
        if script is not None:
            spans.append(Span(run.script, 0, len(script), "shell"))
    return spans


def procfile_command_span(text: str, path: str, number: int | None) -> Span | None:
    """The command of a Procfile entry line, without the name, a YAML comment or the YAML quotes."""
    bounds = line_bounds(text, number or 0)
    if bounds is None:
        return None
    start, end, _ = bounds
    match = re.match(r"[A-Za-z0-9_-]+:[ \t]*", text[start:end])
    if match is None:
        return None
    start += match.end()
    comment = re.search(r"[ \t]+#.*$", text[start:end])
    if comment:
        end = start + comment.start()
    end = start + len(text[start:end].rstrip())
    value = text[start:end]
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return Span(path, start + 1, end - 1, "yaml-double" if value[0] == '"' else "yaml-single")
    return Span(path, start, end, "shell")


def config_string_span(text: str, path: str, key: str, value: str) -> Span | None:
    """The inside of the one-line string that a JSON or TOML key holds, when it reads back as `value`."""
    if path.endswith(".json"):
        for match in re.finditer(rf'"{re.escape(key)}"\s*:\s*"', text):
            try:
                decoded, end = json.JSONDecoder().raw_decode(text, match.end() - 1)
            except ValueError:
                continue
            if decoded == value:
                return Span(path, match.end(), end - 1, "json")
        return None
    for match in re.finditer(rf"""(?m)(?:^|[\s{{,.])["']?{re.escape(key)}["']?[ \t]*=[ \t]*(['"])""", text):
        quote = match.group(1)
        opening = match.end() - 1
        if text.startswith(quote * 3, opening):
            continue
        pattern = r'"(?:[^"\\\n]|\\.)*"' if quote == '"' else r"'[^'\n]*'"
        literal = re.compile(pattern).match(text, opening)
        if literal is None:
            continue
        try:
            decoded = tomllib.loads(f"v = {literal.group(0)}")["v"]
        except tomllib.TOMLDecodeError:
            continue
        if decoded == value:
            return Span(path, opening + 1, literal.end() - 1, "toml-basic" if quote == '"' else "toml-literal")
    return None


def instruction_bounds(text: str, line: int) -> tuple[int, int] | None:
    """(start, end) of a Dockerfile instruction beginning on `line`, backslash continuations included."""
    first = line_bounds(text, line)
    if first is None:
        return None
    end = first[1]
    number = line
    while text[:end].rstrip().endswith("\\"):
        number += 1
        following = line_bounds(text, number)
        if following is None:
            break
        end = following[1]
    return first[0], end


def dockerfile_spans(project: Project, text: str, path: str) -> list[Span]:
    """The last ENTRYPOINT and CMD of the final stage, after their keywords."""
    dockerfile = project.dockerfile
    if dockerfile is None or dockerfile.path != path:
        return []
    spans = []
    for keyword in ("ENTRYPOINT", "CMD"):
        found = [ins for ins in dockerfile.final_stage() if ins.keyword == keyword]
        bounds = instruction_bounds(text, found[-1].line) if found else None
        if bounds is None:
            continue
        start, end = bounds
        head = re.match(rf"\s*{keyword}\s+", text[start:end], re.I)
        if head is None:
            continue
        kind = "exec" if exec_form(found[-1].value) is not None else "shell"
        spans.append(Span(path, start + head.end(), end, kind))
    return spans


def exec_cmd_as_shell(project: Project, argv: list[str]) -> TextEdit | None:
    """Rewrite the final stage's exec-form CMD as `["sh", "-c", "exec ..."]` so `$PORT` expands.

    Only when no ENTRYPOINT takes part and no other word holds a `$` that a shell would now expand.
    """
    from analyzer.shell import quote

    dockerfile = project.dockerfile
    if dockerfile is None:
        return None
    stage = dockerfile.final_stage()
    cmds = [ins for ins in stage if ins.keyword == "CMD"]
    if not cmds or any(ins.keyword == "ENTRYPOINT" for ins in stage) or exec_form(cmds[-1].value) is None:
        return None
    text = utf8_text(project, dockerfile.path)
    bounds = instruction_bounds(text, cmds[-1].line) if text is not None else None
    if bounds is None:
        return None
    start, end = bounds
    head = re.match(r"\s*CMD\s+", text[start:end], re.I)
    script = "exec " + " ".join(quote(word) for word in argv)
    return TextEdit(dockerfile.path, start + head.end(), end, json.dumps(["sh", "-c", script]))


# -- Python config files (gunicorn.conf.py) ------------------------------------------------


def ensure_import_os(module: cst.Module) -> cst.Module:
    """The module with `import os` among its imports (after the docstring and `__future__` imports)."""
    body = list(module.body)
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                    alias.asname is None and isinstance(alias.name, cst.Name) and alias.name.value == "os"
                    for alias in small.names
                ):
                    return module
    position = 0
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            break
        small = statement.body[0]
        is_docstring = index == 0 and isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
        is_future = (
            isinstance(small, cst.ImportFrom)
            and isinstance(small.module, cst.Name)
            and (small.module.value == "__future__")
        )
        if isinstance(small, (cst.Import, cst.ImportFrom)) and not is_future:
            break
        if not (is_docstring or is_future):
            break
        position = index + 1
    statement = cst.parse_statement("import os\n")
    if position:
        statement = statement.with_changes(leading_lines=[cst.EmptyLine()])
    following = body[position] if position < len(body) else None
    if following is not None and not _is_import(following) and not following.leading_lines:
        body[position] = following.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, statement)
    return module.with_changes(body=body)


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[0], (cst.Import, cst.ImportFrom)
    )
