from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from analyzer.autofix import Fix
from analyzer.deployfiles import parse_procfile
from analyzer.fixes.deployfiles import line_bounds, utf8_text
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import ShellSyntaxError, parse_chain
from analyzer.startcmd import classify

APP = "from flask import Flask\n\napp = Flask(__name__)\n"
# Process names common enough that `web gunicorn app:app` surely meant `web: gunicorn app:app`.
PROCESS_NAMES = frozenset({"web", "worker", "release", "clock", "beat", "scheduler", "urgentworker"})
_COMMENT = re.compile(r"\s+#.*$")
# Names people give the Procfile by mistake; deliberate variants (Procfile.dev) are not among them.
MISNAMED = frozenset({"procfile", "procfile.txt", "procfile.yml", "procfile.yaml", "procfile.sh", "procfile.md"})


class ProcfileUnreadable(Rule):
    """
    ## What it does
    Flags, in the app root, a file meant as the Procfile that is never used
    (wrong case or extension: `procfile`, `Procfile.txt`) and Procfile lines that
    are not `name: command` as the builders read them.

    ## Why is this bad?
    File names are case-sensitive on Railway's Linux builders, so `procfile` or
    `Procfile.txt` is never read and the app has no start command. The builders
    parse the Procfile as YAML, so `web: gunicorn app: application` (a second
    `: `), an indented line or a command starting with a YAML indicator breaks the
    build or silently changes the command. A variant such as `Procfile.dev` is
    deliberate and not flagged.

    ## Example
    ```
    web: gunicorn --log-level info app: application
    ```

    ## Use instead
    ```
    web: gunicorn --log-level info app:application
    ```

    ## How to fix
    Name the file exactly `Procfile` and write one `name: command` per line, quoting a command that must contain `: `.

    ## Fix safety
    The autofix writes the misnamed file's content to `Procfile` (delete the old
    file yourself), quotes a command that holds `: `, joins indented
    continuation lines to their entry, adds the missing `: ` after a process
    name, and drops a repeated entry, keeping the first as the builders'
    readers do not agree on which one wins.

    ## References
    - Railpack: Procfile provider (YAML)
    - Heroku: The Procfile format
    """

    id = "PF107"
    slug = "procfile-unreadable"
    severity = Severity.BLOCKER
    title = "Procfile unreadable"

    def check(self, project: Project) -> Iterator[Finding]:
        if project.procfile is None:
            for path in project.app_files:
                if posixpath.dirname(path) != project.app_root:
                    continue
                name = posixpath.basename(path)
                if name.lower() in MISNAMED:
                    finding = self.finding(
                        f"`{name}` is never read: the builders only read a file named exactly `Procfile`",
                        path,
                        subject=name,
                    )
                    finding.fix = _rename_fix(project, path)
                    yield finding
            return
        path = project.procfile.path
        for line, problem in project.procfile.problems:
            finding = self.finding(f"Procfile line {line}: {problem}", path, line, subject=problem)
            text = utf8_text(project, path)
            corrected = _fix_line(text, line) if text is not None else None
            if corrected is not None:
                title = "Correct the Procfile" + (f" line {line}" if corrected[1] != "remove" else "")
                finding.fix = Fix(title, _SAFETY[corrected[1]], {path: corrected[0]})
            yield finding

    VALID = [
        Example({"Procfile": "web: gunicorn app:app\n# a comment\n\nworker: rq worker\n", "app.py": APP}),
        Example({"Procfile": "web: gunicorn app:app\n", "Procfile.dev": "web: flask run\n", "app.py": APP}),
        Example({"Procfile": "web: \"gunicorn --log-format '%(h)s: %(r)s' app:app\"\n", "app.py": APP}),
        Example({"Procfile": "web: gunicorn app:app  # serve it\n", "app.py": APP}),
        Example(
            {"Procfile": "web: gunicorn app:app\n", "docs/procfile.txt": "notes", "app.py": APP},
            note="outside the app root",
        ),
    ]
    INVALID = [
        Example(
            {"procfile": "web: gunicorn app:app\n", "app.py": APP},
            expect="`procfile`",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {"Procfile.txt": "web: gunicorn app:app\r\nworker:rq worker\r\n", "app.py": APP},
            expect="`Procfile.txt`",
            fixed={"Procfile": "web: gunicorn app:app\r\nworker: rq worker\r\n"},
            note="Notepad's name and line endings; the content is corrected too",
        ),
        Example(
            {"Procfile": "web: gunicorn app: application\n", "app.py": APP.replace("app =", "application =")},
            expect="line 1",
            fixed={"Procfile": "web: gunicorn app:application\n"},
        ),
        Example(
            {
                "Procfile": "web: gunicorn --access-logformat '%(h)s: %(r)s' app:app  # logs\r\n",
                "app.py": APP,
            },
            expect="`: `",
            fixed={"Procfile": "web: \"gunicorn --access-logformat '%(h)s: %(r)s' app:app\"  # logs\r\n"},
        ),
        Example(
            {"Procfile": "web: gunicorn app:app\n  --workers 2\n  --timeout 60\nworker: rq worker\n", "app.py": APP},
            expect="indented",
            fixed={"Procfile": "web: gunicorn app:app --workers 2 --timeout 60\nworker: rq worker\n"},
        ),
        Example(
            {"Procfile": "web gunicorn app:app\n", "app.py": APP},
            expect="not of the form",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {"Procfile": "web:gunicorn app:app\n", "app.py": APP},
            note="YAML needs a space after the colon",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {"Procfile": "web: gunicorn app:app\n# old\nweb: gunicorn wsgi:app", "app.py": APP},
            expect="twice",
            fixed={"Procfile": "web: gunicorn app:app\n# old\n"},
        ),
    ]


_SAFETY = {
    "rename": "The misnamed file stays in the repository, unused; delete it once the Procfile is committed.",
    "quote": "The command is quoted as YAML reads it; the shell still receives the same words.",
    "join": "The indented lines are joined to the entry above, which is how YAML already reads them.",
    "colon": "The line becomes a `name: command` entry; check the process name is the one you meant.",
    "remove": "The repeated entry is removed and the first one kept; check it is the command you want.",
}


def _rename_fix(project: Project, path: str) -> Fix | None:
    """The misnamed file's content, corrected, in a new `Procfile` beside it."""
    text = utf8_text(project, path)
    target = project.app_path("Procfile")
    if text is None or target in project.files.paths:
        return None
    for _ in range(50):
        problems = parse_procfile(target, text).problems
        if not problems:
            return Fix(
                f"Create `Procfile` from `{posixpath.basename(path)}`",
                _SAFETY["rename"],
                {target: text},
            )
        corrected = _fix_line(text, problems[0][0])
        if corrected is None:
            return None
        text = corrected[0]
    return None


def _fix_line(text: str, number: int) -> tuple[str, str] | None:
    """The Procfile text with line `number` corrected, and how; None when no safe correction is known."""
    bounds = line_bounds(text, number)
    if bounds is None:
        return None
    start, end, after = bounds
    raw = text[start:end]
    if raw[:1] in (" ", "\t"):
        return _join_block(text, number)
    match = re.match(r"^(?P<name>[A-Za-z0-9_-]+):[ \t]+(?P<rest>.*)$", raw)
    if match is None:
        line = _name_line(raw, parse_procfile("Procfile", text))
        return (text[:start] + line + text[end:], "colon") if line else None
    name, rest = match.group("name"), match.group("rest")
    if parse_procfile("Procfile", text[:start]).get(name) is not None:
        return text[:start] + text[after:], "remove"
    comment = _COMMENT.search(rest)
    command, tail = (rest[: comment.start()], rest[comment.start() :]) if comment else (rest, "")
    quoted = _yaml_quoted(command)
    if quoted is None:
        return None
    return text[:start] + f"{name}: {quoted}{tail}" + text[end:], "quote"


def _name_line(raw: str, procfile) -> str | None:
    """`web:gunicorn ...`, `web gunicorn ...` and a bare server command, as `name: command`."""
    glued = re.match(r"^(?P<name>[A-Za-z0-9_-]+):(?P<rest>[^\s:].*)$", raw)
    if glued:
        return f"{glued.group('name')}: {glued.group('rest')}"
    spaced = re.match(r"^(?P<name>[A-Za-z0-9_-]+)[ \t]+(?P<rest>\S.*)$", raw)
    if spaced and spaced.group("name") in PROCESS_NAMES and procfile.get(spaced.group("name")) is None:
        return f"{spaced.group('name')}: {spaced.group('rest')}"
    try:
        commands = parse_chain(_COMMENT.sub("", raw))
    except ShellSyntaxError:
        return None
    if procfile.get("web") is None and any((classify(c) or ("", []))[0] in ("gunicorn", "waitress") for c in commands):
        return f"web: {raw}"
    return None


def _yaml_quoted(command: str) -> str | None:
    """The command as a YAML scalar the builders read back unchanged."""
    if not command or command[0] in "'\"":
        return None
    if "'" not in command and '"' not in command:
        joined = re.sub(r"(?<=[\w.)]):[ \t]+(?=[\w(])", ":", command)
        if (
            ": " not in joined
            and not joined.endswith(":")
            and not joined.startswith(("[", "{", "&", "*", "!", "|", ">", "%", "@", "`", ",", "- ", "? "))
        ):
            return joined
    if '"' not in command and "\\" not in command:
        return f'"{command}"'
    if "'" not in command:
        return f"'{command}'"
    return None


def _join_block(text: str, number: int) -> tuple[str, str] | None:
    """Join the entry above line `number` with all of its indented continuation lines."""
    lines = text.splitlines(keepends=True)
    first = number - 1
    while first > 0 and lines[first - 1][:1] in (" ", "\t") and lines[first - 1].strip():
        first -= 1
    if first == 0:
        return None
    entry = lines[first - 1].rstrip("\r\n")
    if not re.match(r"^[A-Za-z0-9_-]+:[ \t]+\S", entry) or _COMMENT.search(entry):
        return None
    last = first
    while last < len(lines) and lines[last][:1] in (" ", "\t") and lines[last].strip():
        last += 1
    parts = [line.strip() for line in lines[first:last]]
    if any(part.startswith("#") or _COMMENT.search(part) for part in parts):
        return None
    ending = lines[last - 1][len(lines[last - 1].rstrip("\r\n")) :]
    joined = " ".join([entry.rstrip(), *parts]) + ending
    return "".join([*lines[: first - 1], joined, *lines[last:]]), "join"
