"""Careful text edits of `NAME=value` settings in deploy files: dotenv files, Dockerfile `ENV`/`ARG`,
and `NAME=value` prefixes of commands (Procfile lines, railway config start commands).

Every function takes a file's full text and returns the new text, keeping comments, the other
settings and the line endings; None when the layout is not one it can edit safely.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import TYPE_CHECKING

from analyzer.deployfiles import parse_env_file, parse_env_instruction

if TYPE_CHECKING:
    from analyzer.project import Project

# Passed as the value to rename a variable and keep what it is set to.
KEEP = "\0keep"
# A shell word's value: quoted parts, escapes, and anything but blanks and quotes.
_WORD_VALUE = r"""(?:"(?:\\.|[^"\\])*"|'[^']*'|\\.|[^\s\\"'])*"""
# A command prefix's value: plain characters only, so an edit never has to re-quote JSON or TOML.
_PLAIN_VALUE = r"""[^\s\\"']*"""


def lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def dotenv_set(text: str, line: int, name: str, value: str | None, new_name: str | None = None) -> str | None:
    """Line `line` of a dotenv file, which sets `name`: set to `value` (under `new_name` when given),
    or removed when `value` is None. A trailing comment is kept."""
    lines = lines_of(text)
    if not 1 <= line <= len(lines):
        return None
    raw = lines[line - 1]
    if not any(found == name and number == 1 for found, _value, number in parse_env_file(raw)):
        return None
    if value is None:
        return "".join(lines[: line - 1] + lines[line:])
    match = re.match(
        rf"""^(?P<lead>\s*(?:export\s+)?){re.escape(name)}(?P<eq>\s*=\s*)(?P<value>"(?:\\.|[^"\\])*"|'[^']*'|[^\s#]*)""",
        raw,
    )
    if match is None:
        return None
    value = match["value"] if value == KEEP else value
    edited = f"{match['lead']}{new_name or name}{match['eq']}{value}{raw[match.end() :]}"
    return "".join([*lines[: line - 1], edited, *lines[line:]])


def _instruction_lines(lines: list[str], start: int) -> list[int] | None:
    """0-based indexes of the physical lines of the Dockerfile instruction starting at line `start`."""
    index = start - 1
    if not 0 <= index < len(lines):
        return None
    found = []
    while index < len(lines):
        body = lines[index].rstrip("\r\n")
        found.append(index)
        if index != start - 1 and body.lstrip().startswith("#"):
            index += 1
            continue
        if not body.rstrip().endswith("\\"):
            return found
        index += 1
    return found


def dockerfile_assignment(
    text: str, start: int, name: str, value: str | None, new_name: str | None = None
) -> str | None:
    """In the `ENV`/`ARG` instruction at line `start`: set `name` to `value` (as `new_name` when given), or
    remove it when `value` is None (the whole instruction when it sets nothing else; for `ARG`, only its
    default)."""
    lines = lines_of(text)
    indexes = _instruction_lines(lines, start)
    if not indexes:
        return None
    first = lines[indexes[0]]
    keyword_match = re.match(r"^\s*(ENV|ARG)\s+", first, re.I)
    if keyword_match is None:
        return None
    keyword = keyword_match.group(1).upper()
    joined = " ".join(
        lines[i].rstrip("\r\n").rstrip().removesuffix("\\").strip()
        for i in indexes
        if i == indexes[0] or not lines[i].lstrip().startswith("#")
    )
    pairs = parse_env_instruction(joined.split(None, 1)[1] if " " in joined else "", keyword)
    if [pair_name for pair_name, _ in pairs].count(name) != 1:
        return None
    rest = first[keyword_match.end() :]
    legacy = keyword == "ENV" and not re.match(rf"{re.escape(name)}=", rest) and len(pairs) == 1
    if legacy:
        if not rest.startswith(name) or len(indexes) != 1:
            return None
        if value is None:
            return "".join(lines[: indexes[0]] + lines[indexes[-1] + 1 :])
        if value == KEEP:
            value = rest[len(name) :].strip()
        return "".join(
            [
                *lines[: indexes[0]],
                f"{first[: keyword_match.end()]}{new_name or name} {value}{_ending(first)}",
                *lines[indexes[0] + 1 :],
            ]
        )
    if value is None and (len(pairs) == 1 and keyword == "ENV"):
        return "".join(lines[: indexes[0]] + lines[indexes[-1] + 1 :])
    token = re.compile(rf"(?:(?<=\s)|^){re.escape(name)}(?P<value>={_WORD_VALUE})?(?=\s|$)")
    for position, index in enumerate(indexes):
        raw = lines[index]
        if position and raw.lstrip().startswith("#"):
            continue
        offset = keyword_match.end() if position == 0 else 0
        match = token.search(raw, offset)
        if match is None:
            continue
        if value == KEEP:
            edited = raw[: match.start()] + (new_name or name) + (match["value"] or "") + raw[match.end() :]
            return "".join([*lines[:index], edited, *lines[index + 1 :]])
        if value is not None:
            edited = raw[: match.start()] + f"{new_name or name}={value}" + raw[match.end() :]
            return "".join([*lines[:index], edited, *lines[index + 1 :]])
        if keyword == "ARG":
            if match["value"] is None:
                return None
            edited = raw[: match.start()] + name + raw[match.end() :]
            return "".join([*lines[:index], edited, *lines[index + 1 :]])
        return _remove_word(lines, indexes, position, match.start(), match.end())
    return None


def _remove_word(lines: list[str], indexes: list[int], position: int, start: int, end: int) -> str:
    """Remove a word of a continued instruction with its spacing; a physical line left empty goes, and
    the line before it stops continuing when it was the instruction's last."""
    index = indexes[position]
    raw = lines[index]
    body = raw.rstrip("\r\n")
    before, after = body[:start], body[end:]
    if after.strip() in ("", "\\") and before.strip() == "":
        lines = list(lines)
        if after.strip() == "":
            previous = next((i for i in reversed(indexes[:position]) if not lines[i].lstrip().startswith("#")), None)
            if previous is not None:
                prior = lines[previous]
                lines[previous] = re.sub(r"\s*\\\s*$", "", prior.rstrip("\r\n")) + _ending(prior)
        del lines[index]
        return "".join(lines)
    rest = after.lstrip(" \t")
    if rest in ("", "\\"):
        before, after = before.rstrip(" \t"), (" " + rest if rest else "")
    else:
        after = rest
    edited = before + after + _ending(raw)
    return "".join([*lines[:index], edited, *lines[index + 1 :]])


def command_assignment(text: str, line: int, name: str, replacement: str | None) -> str | None:
    """On line `line`, the `NAME=value` prefix of a command: replaced by the word `replacement`, or
    removed with the blank after it when `replacement` is None. It must appear exactly once on the line
    with a plain (unquoted) value, not after `export`."""
    lines = lines_of(text)
    if not 1 <= line <= len(lines):
        return None
    raw = lines[line - 1]
    pattern = re.compile(rf"""(?:(?<=[\s"'])|^){re.escape(name)}={_PLAIN_VALUE}(?P<blank>[ \t]+)""")
    matches = list(pattern.finditer(raw))
    if len(matches) != 1 or re.search(r"\bexport\s+$", raw[: matches[0].start()]):
        return None
    match = matches[0]
    new = "" if replacement is None else replacement + match["blank"]
    edited = raw[: match.start()] + new + raw[match.end() :]
    return "".join([*lines[: line - 1], edited, *lines[line:]])


def command_rename(text: str, line: int, name: str, new_name: str) -> str | None:
    """On line `line`, rename the variable of a `NAME=value` word (a command prefix or an `export`),
    keeping its value; it must appear exactly once on the line."""
    lines = lines_of(text)
    if not 1 <= line <= len(lines):
        return None
    raw = lines[line - 1]
    matches = list(re.finditer(rf"""(?:(?<=[\s"'])|^){re.escape(name)}(?==)""", raw))
    if len(matches) != 1:
        return None
    match = matches[0]
    return "".join([*lines[: line - 1], raw[: match.start()] + new_name + raw[match.end() :], *lines[line:]])


def command_drop_word(text: str, line: int, word: str) -> str | None:
    """On line `line`, remove the blank-separated `word` (a flag such as `--debug`) when it appears once."""
    lines = lines_of(text)
    if not 1 <= line <= len(lines):
        return None
    raw = lines[line - 1]
    matches = list(re.finditer(rf"[ \t]+{re.escape(word)}(?=[\s\"']|$)", raw))
    if len(matches) != 1:
        return None
    match = matches[0]
    return "".join([*lines[: line - 1], raw[: match.start()] + raw[match.end() :], *lines[line:]])


def still_parses(path: str, text: str) -> bool:
    """A railway config still reads as JSON / TOML after an edit (other files are not checked here)."""
    try:
        if path.endswith(".json"):
            json.loads(text)
        elif path.endswith(".toml"):
            tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError):
        return False
    return True


def toml_remove_line(text: str, line: int, name: str) -> str | None:
    """Remove line `line`, a one-line `name = value` of a TOML table; None when the line is not that."""
    lines = lines_of(text)
    if not 1 <= line <= len(lines):
        return None
    if not re.match(
        rf"""^\s*(?:{re.escape(name)}|"{re.escape(name)}")\s*=\s*("[^"\n]*"|'[^'\n]*')\s*(#.*)?$""",
        lines[line - 1].rstrip("\r\n"),
    ):
        return None
    result = "".join(lines[: line - 1] + lines[line:])
    return result if still_parses(".toml", result) else None


def variable_edit(
    project: Project,
    path: str | None,
    line: int | None,
    name: str,
    value: str | None,
    new_name: str | None = None,
    *,
    text: str | None = None,
) -> str | None:
    """The new text of the deploy file that sets `name` at `line`: a dotenv file or a Dockerfile
    `ENV`/`ARG` gets `value` (under `new_name` when given; removed when None); a command's
    `NAME=value` prefix (Procfile, railway config, a shell-form `CMD`) is removed, so the variable
    comes from the platform, or renamed when `value` is KEEP. `text` is the file as edited so far (else
    its committed text). None when the file or its layout is not one of those."""
    text = text if text is not None else utf8_text(project, path)
    if text is None or line is None:
        return None
    dockerfile = project.dockerfile
    keyword = None
    if dockerfile is not None and path == dockerfile.path:
        keyword = next((ins.keyword for ins in dockerfile.instructions if ins.line == line), None)
    if keyword in ("ENV", "ARG"):
        new = dockerfile_assignment(text, line, name, value, new_name)
    elif path in project.env_files:
        new = dotenv_set(text, line, name, value, new_name)
    elif value == KEEP and new_name is not None:
        new = command_rename(text, line, name, new_name)
    else:
        new = command_assignment(text, line, name, None)
    if new is None or new == text or not still_parses(path, new):
        return None
    return new


def utf8_text(project: Project, path: str | None) -> str | None:
    """A file's text as fixes edit it: its bytes decoded as UTF-8, line endings kept."""
    data = project.raw(path) if path is not None else None
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
