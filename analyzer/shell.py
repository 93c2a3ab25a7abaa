"""Reading a start command the way `sh -c` reads it, without running anything.

Words come back with quotes and backslashes removed but parameter expansions
(`$PORT`, `${PORT:-8000}`) left as written, so rules can tell a port read from
the environment from a literal one. Chains (`&&`, `||`, `;`, `|`, newlines),
`sh -c '...'`, `exec`, `env`, leading `NAME=value` assignments and `cd DIR`
are understood; wrappers such as `poetry run` are peeled off.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "\n", "(", ")")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PARAMETER = re.compile(r"\$(?:\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")

# Programs that run the rest of their arguments as the real command.
_PASSTHROUGH = {"exec", "nohup", "time", "command", "dumb-init", "tini", "ddtrace-run", "opentelemetry-instrument"}
_RUNNERS = {"poetry", "pipenv", "pdm", "hatch", "rye", "uv"}
_SHELLS = {"sh", "bash", "dash", "zsh", "ash"}


class ShellSyntaxError(ValueError):
    """The command is not valid shell (an unclosed quote, say)."""


@dataclass
class SimpleCommand:
    argv: list[str]
    assignments: dict[str, str] = field(default_factory=dict)
    cwd: str = "."  # relative to where the chain started, after any `cd`
    # False when no shell expanded the words (an exec-form Docker CMD, or such words passed on by a
    # script's `exec "$@"`): `$PORT` in them reaches the program as text.
    expanded: bool = True

    @property
    def program(self) -> str:
        return posixpath.basename(self.argv[0]) if self.argv else ""

    def __str__(self) -> str:
        return " ".join(self.argv)


def tokenize(text: str) -> list[str]:
    """Split into words and operator tokens; operators are returned as-is."""
    tokens: list[str] = []
    word: list[str] = []
    in_word = False
    i, n = 0, len(text)

    def flush() -> None:
        nonlocal in_word
        if in_word:
            tokens.append("".join(word))
            word.clear()
            in_word = False

    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 < n and text[i + 1] == "\n":
                i += 2
                continue
            if i + 1 < n:
                word.append(text[i + 1])
            in_word = True
            i += 2
            continue
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("unterminated single quote")
            word.append(text[i + 1 : end])
            in_word = True
            i = end + 1
            continue
        if ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise ShellSyntaxError("unterminated double quote")
                c = text[i]
                if c == '"':
                    break
                if c == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                    if text[i + 1] != "\n":
                        word.append(text[i + 1])
                    i += 2
                    continue
                word.append(c)
                i += 1
            in_word = True
            i += 1
            continue
        if ch == "$" and i + 1 < n and text[i + 1] in "{(":
            # Keep ${...} and $(...) whole, whatever they contain.
            close = "}" if text[i + 1] == "{" else ")"
            depth, j = 0, i + 1
            while j < n:
                if text[j] == text[i + 1]:
                    depth += 1
                elif text[j] == close:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            word.append(text[i : j + 1])
            in_word = True
            i = j + 1
            continue
        if ch == "#" and not in_word:
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in " \t\r":
            flush()
            i += 1
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator:
            flush()
            tokens.append(operator)
            i += len(operator)
            continue
        if ch in "<>":
            # A redirection: drop it, its file descriptor and its target (`>> log 2>&1`).
            if in_word and "".join(word).isdigit():
                word.clear()
                in_word = False
            flush()
            j = i
            while j < n and text[j] in "<>&":
                j += 1
            while j < n and text[j].isdigit():
                j += 1
            tokens.append("\0redirect" if j == i + 1 or text[j - 1] in "<>" else "\0redirect-done")
            i = j
            continue
        word.append(ch)
        in_word = True
        i += 1
    flush()
    return tokens


def parse_chain(text: str, cwd: str = ".") -> list[SimpleCommand]:
    """The simple commands of a command line, in order, with wrappers peeled off."""
    commands: list[SimpleCommand] = []
    current: list[str] = []
    drop_next = False
    for token in [*tokenize(text), ";"]:
        if token == "\0redirect":
            drop_next = True
            continue
        if token == "\0redirect-done":
            continue
        if drop_next and token not in _OPERATORS:
            drop_next = False
            continue
        if token in _OPERATORS:
            if current:
                for command in unwrap(current, cwd):
                    if command.program == "cd":
                        target = command.argv[1] if len(command.argv) > 1 else "."
                        cwd = posixpath.normpath(posixpath.join(cwd, target))
                    commands.append(command)
                if commands:
                    cwd = commands[-1].cwd if commands[-1].program != "cd" else cwd
            current = []
            continue
        current.append(token)
    return commands


def unwrap(words: list[str], cwd: str, expanded: bool = True) -> list[SimpleCommand]:
    """The command that `words` run, through wrappers (`exec`, `env`, `sh -c`, `uv run`, ...).
    `expanded` says whether a shell produced the words; a `sh -c` string is always expanded."""
    assignments: dict[str, str] = {}
    while words and _ASSIGNMENT.match(words[0]):
        name, _, value = words[0].partition("=")
        assignments[name] = value
        words = words[1:]
    while words:
        program = posixpath.basename(words[0])
        if program in _PASSTHROUGH:
            words = words[1:]
            while words and words[0].startswith("-") and program != "exec":
                words = words[1:]
                if words and words[0] == "--":
                    words = words[1:]
                    break
            continue
        if program == "env":
            words = words[1:]
            while words and (words[0].startswith("-") or _ASSIGNMENT.match(words[0])):
                if _ASSIGNMENT.match(words[0]):
                    name, _, value = words[0].partition("=")
                    assignments[name] = value
                words = words[1:]
            continue
        if program in _SHELLS and "-c" in _short_flags(words[1:]):
            script = next((w for w in words[1:] if not w.startswith("-")), None)
            if script is None:
                return [SimpleCommand(words, assignments, cwd, expanded)]
            inner = parse_chain(script, cwd)
            for command in inner:
                command.assignments = {**assignments, **command.assignments}
            return inner
        if program in _RUNNERS and len(words) > 1 and words[1] == "run":
            words = words[2:]
            while words and words[0].startswith("-"):
                flag = words[0]
                words = words[1:]
                if flag == "--":
                    break
                if flag in {"--with", "--group", "--extra", "-e", "--env", "--python", "-p", "--env-file"} and words:
                    words = words[1:]
            continue
        if program == "newrelic-admin" and len(words) > 1 and words[1] == "run-program":
            words = words[2:]
            continue
        if program == "doppler" and "--" in words:
            words = words[words.index("--") + 1 :]
            continue
        break
    if not words:
        return []
    return [SimpleCommand(list(words), assignments, cwd, expanded)]


def _short_flags(words: list[str]) -> set[str]:
    flags: set[str] = set()
    for word in words:
        if not word.startswith("-") or word.startswith("--"):
            if not word.startswith("--"):
                break
            continue
        flags.update(f"-{c}" for c in word[1:])
    return flags


def parameters(word: str) -> list[tuple[str, str | None]]:
    """The parameters a word expands: (name, default or None)."""
    found = []
    for match in _PARAMETER.finditer(word):
        if match.group("plain"):
            found.append((match.group("plain"), None))
            continue
        body = match.group("braced")
        name_match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", body)
        if not name_match:
            continue
        name, rest = name_match.group(0), body[name_match.end() :]
        default = None
        for op in (":-", "-", ":=", "="):
            if rest.startswith(op):
                default = rest[len(op) :]
                break
        found.append((name, default))
    return found


def expand(word: str, env: dict[str, str] | None = None) -> str:
    """Expand parameters with `env`, falling back to defaults, else to empty."""
    env = env or {}

    def replace(match: re.Match) -> str:
        found = parameters(match.group(0))
        if not found:
            return match.group(0)
        name, default = found[0]
        return env.get(name, default or "")

    return _PARAMETER.sub(replace, word)


def quote(word: str) -> str:
    """Quote a word for a shell only when it needs it."""
    if word and re.fullmatch(r"[A-Za-z0-9_@%+=:,./${}-]+", word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"
