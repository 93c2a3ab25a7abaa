"""Careful text edits of TOML and JSON files: one key or array item added, every other byte kept.

Each edit is checked by parsing the result: a layout these scanners misread
gives None, never a broken file.
"""

from __future__ import annotations

import json
import re
import tomllib


def newline_of(text: str) -> str:
    """The file's line ending, so an added line matches its neighbours."""
    return "\r\n" if "\r\n" in text else "\n"


def with_final_newline(text: str) -> str:
    return text if not text or text.endswith(("\n", "\r")) else text + newline_of(text)


def parses_as_toml(text: str) -> dict | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _header(table: str) -> re.Pattern:
    quoted = [re.escape(part) for part in table.split(".")]
    parts = r"\s*\.\s*".join(rf"""(?:{part}|"{part}"|'{part}')""" for part in quoted)
    return re.compile(rf"^\s*\[\s*{parts}\s*\]\s*(#.*)?$")


_ANY_HEADER = re.compile(r"""^\s*\[\[?\s*[A-Za-z0-9_"'][A-Za-z0-9_.\-"' ]*\]\]?\s*(#.*)?$""")


def toml_add_key(text: str, table: str, line: str) -> str | None:
    """Add `line` (`key = value`) as the last entry of `[table]`, creating the table at the end when missing.

    None when the result does not parse as TOML.
    """
    newline = newline_of(text)
    lines = text.splitlines(keepends=True)
    header = _header(table)
    start = next((index for index, raw in enumerate(lines) if header.match(raw.rstrip("\r\n"))), None)
    if start is None:
        base = with_final_newline(text)
        separator = newline if base.strip() and not base.endswith(newline * 2) else ""
        result = f"{base}{separator}[{table}]{newline}{line}{newline}"
    else:
        end = next(
            (index for index in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[index].rstrip("\r\n"))),
            len(lines),
        )
        last = start
        for index in range(start + 1, end):
            stripped = lines[index].strip()
            if stripped and not stripped.startswith("#"):
                last = index
        before = lines[: last + 1]
        if not before[-1].endswith(("\n", "\r")):
            before[-1] += newline
        result = "".join([*before, f"{line}{newline}", *lines[last + 1 :]])
    return result if parses_as_toml(result) is not None else None


# -- arrays -------------------------------------------------------------------------


def _string_end(text: str, index: int) -> int | None:
    """Offset just past the TOML/JSON string starting at `index`."""
    triple = text[index : index + 3] in ('"""', "'''")
    quote = text[index : index + 3] if triple else text[index]
    close = index + len(quote)
    while close < len(text):
        if quote[0] == '"' and text[close] == "\\":
            close += 2
            continue
        if text.startswith(quote, close):
            return close + len(quote)
        close += 1
    return None


def _scan_array(text: str, opening: int) -> tuple[int, list[tuple[int, int]], list[int]] | None:
    """(offset of the closing bracket, (start, end) of each top-level element, offsets of top-level commas).

    Works for a TOML array and a JSON array or object (whose elements are `"key": value` members);
    strings and TOML comments are skipped. None when it does not close.
    """
    depth = 0
    items: list[tuple[int, int]] = []
    commas: list[int] = []
    start: int | None = None
    end = 0
    index = opening
    while index < len(text):
        char = text[index]
        if depth and char in "\"'":
            after = _string_end(text, index)
            if after is None:
                return None
            if depth == 1:
                start, end = (index if start is None else start), after
            index = after
            continue
        if depth and char == "#":
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
            continue
        if char in "[{":
            if depth == 1 and start is None:
                start = index
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                if start is not None:
                    items.append((start, end))
                return index, items, commas
            if depth == 1:
                end = index + 1
        elif depth == 1 and char == ",":
            if start is not None:
                items.append((start, end))
            commas.append(index)
            start = None
        elif depth == 1 and not char.isspace():
            start, end = (index if start is None else start), index + 1
        index += 1
    return None


def array_append(text: str, opening: int, value: str) -> str | None:
    """Append `value` (already quoted) to the array whose `[` is at `opening`, in the array's own layout."""
    scanned = _scan_array(text, opening)
    if scanned is None:
        return None
    closing, items, commas = scanned
    if not items:
        if text[opening + 1 : closing].strip():
            return None  # only comments inside: no layout to follow
        return text[: opening + 1] + value + text[closing:]
    last_start, last_end = items[-1]
    trailing_comma = next((c for c in commas if c >= last_end), None)
    newline = newline_of(text)
    line_end = text.find("\n", last_end)
    if "\n" in text[opening:closing] and 0 <= line_end < closing:
        line_start = text.rfind("\n", 0, last_start) + 1
        indent = re.match(r"[ \t]*", text[line_start:]).group(0)
        added = f"{indent}{value}{',' if trailing_comma is not None else ''}{newline}"
        head = text[:last_end] + ("" if trailing_comma is not None else ",") + text[last_end : line_end + 1]
        return head + added + text[line_end + 1 :]
    if trailing_comma is not None:
        return text[: trailing_comma + 1] + f" {value}," + text[trailing_comma + 1 :]
    return text[:last_end] + f", {value}" + text[last_end:]


def toml_array_opening(text: str, table: str, key: str) -> int | None:
    """Offset of the `[` of `key = [...]` in `[table]`."""
    lines = text.splitlines(keepends=True)
    header = _header(table)
    offset = 0
    inside = False
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}")\s*=\s*\[""")
    for raw in lines:
        stripped = raw.rstrip("\r\n")
        if _ANY_HEADER.match(stripped):
            inside = bool(header.match(stripped))
        elif inside:
            match = pattern.match(raw)
            if match:
                return offset + match.end() - 1
        offset += len(raw)
    return None


# -- JSON ------------------------------------------------------------------------------


def json_object_add(text: str, path: tuple[str, ...], key: str, value) -> str | None:
    """Add `"key": value` as the last member of the object at `path` (created when missing), keeping the layout.

    None when the file is not a JSON object or the result does not read back as intended.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    brace = text.find("{")
    depth_path: tuple[str, ...] = ()
    for name in path:
        child = _json_member(text, brace, name)
        if child is None:
            nested: object = value
            for missing in reversed((*path[len(depth_path) + 1 :], key)):
                nested = {missing: nested}
            result = _json_insert(text, brace, name, nested)
            return result if _reads_back(result, (*path, key), value) else None
        brace, depth_path = child, (*depth_path, name)
    result = _json_insert(text, brace, key, value)
    return result if _reads_back(result, (*path, key), value) else None


def _reads_back(text: str | None, path: tuple[str, ...], value) -> bool:
    if text is None:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    for name in path:
        if not isinstance(data, dict) or name not in data:
            return False
        data = data[name]
    return data == value


def _json_member(text: str, brace: int, name: str) -> int | None:
    """Offset of the `{` of member `name`'s object value in the object opening at `brace`."""
    scanned = _scan_array(text, brace)
    if scanned is None:
        return None
    for start, _end in scanned[1]:
        key_end = _string_end(text, start) if text[start] == '"' else None
        if key_end is None or json.loads(text[start:key_end]) != name:
            continue
        after = re.compile(r"\s*:\s*").match(text, key_end)
        return after.end() if after and text.startswith("{", after.end()) else None
    return None


def _json_insert(text: str, brace: int, key: str, value) -> str | None:
    scanned = _scan_array(text, brace)
    if scanned is None:
        return None
    closing, items, _commas = scanned
    newline = newline_of(text)
    member_text = f"{json.dumps(key)}: {json.dumps(value)}"
    if not items:
        return text[: brace + 1] + member_text + text[closing:]
    last_end = items[-1][1]
    if "\n" in text[brace:closing]:
        first_key = items[0][0]
        line_start = text.rfind("\n", 0, first_key) + 1
        indent = text[line_start:first_key] if not text[line_start:first_key].strip() else "  "
        return text[:last_end] + f",{newline}{indent}{member_text}" + text[last_end:]
    return text[:last_end] + f", {member_text}" + text[last_end:]
