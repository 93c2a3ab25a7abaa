from __future__ import annotations

from collections.abc import Iterator

from analyzer.autofix import Fix
from analyzer.deployfiles import Procfile
from analyzer.fixes.deployfiles import line_bounds, utf8_text
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import ShellSyntaxError, parse_chain
from analyzer.startcmd import classify

HTTP_SERVERS = frozenset({"gunicorn", "waitress", "uwsgi", "uvicorn", "hypercorn", "flask-run", "manage"})

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


class ProcfileNoWeb(Rule):
    """
    ## What it does
    Flags a Procfile that has processes but none named `web`, when the Procfile
    is what gives Railway its start command.

    ## Why is this bad?
    Railway runs one process per service. Without a `web` entry it starts
    `worker` instead, else another entry (Railpack's pick among several others
    is not even deterministic), so the HTTP server may never start, or a
    different process gets the public domain.

    ## Example
    ```
    app: gunicorn app:app
    worker: celery -A tasks worker
    ```

    ## Use instead
    ```
    web: gunicorn app:app
    worker: celery -A tasks worker
    ```

    ## How to fix
    Name the HTTP server's process `web`.

    ## Fix safety
    The autofix renames the one entry that starts an HTTP server (or the only
    entry) to `web`; anything else that refers to the process by its old name
    (a Heroku formation, scripts) must follow.

    ## References
    - Railpack: Procfile provider (`web`, then `worker`, then any entry)
    - Heroku: The Procfile (`web` is the only process type that receives HTTP traffic)
    """

    id = "PF105"
    slug = "procfile-no-web"
    severity = Severity.MEDIUM
    title = "Procfile has no web process"

    def check(self, project: Project) -> Iterator[Finding]:
        procfile = project.procfile
        start = project.start_command
        if procfile is None or not procfile.entries or procfile.get("web") is not None:
            return
        if start is None or start.kind != "procfile":
            return  # another source decides the start command; the Procfile is not read
        chosen = procfile.web_entry()
        names = ", ".join(f"`{entry.name}`" for entry in procfile.entries)
        finding = self.finding(
            f"Procfile has no `web` process ({names}); Railway will run `{chosen.name}: {chosen.command}`",
            procfile.path,
            chosen.line,
            subject="no web",
        )
        finding.fix = _rename_fix(project, procfile)
        yield finding

    VALID = [
        Example({"Procfile": "web: gunicorn app:app\nworker: celery -A tasks worker\n", "app.py": APP}),
        Example(
            {
                "Procfile": "app: gunicorn app:app\n",
                "railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\n',
                "app.py": APP,
            },
            note="railway.toml's start command wins; the Procfile is not read",
        ),
        Example({"Procfile": "# comment only\n\n", "app.py": APP}),
        Example(
            {"Procfile": "server: gunicorn app:app\n", "app.py": APP},
            platform={"start_command": "gunicorn app:app"},
        ),
        Example({"backend/Procfile": "web: gunicorn app:app\n", "backend/app.py": APP}, app_root="backend"),
    ]
    INVALID = [
        Example(
            {"Procfile": "app: gunicorn app:app\n", "app.py": APP},
            expect="`app: gunicorn app:app`",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {"Procfile": "worker: celery -A tasks worker\nwww: gunicorn app:app\n", "app.py": APP},
            expect="will run `worker",
            fixed={"Procfile": "worker: celery -A tasks worker\nweb: gunicorn app:app\n"},
        ),
        Example(
            {
                "Procfile": "# deploy steps\r\nrelease: flask db upgrade\r\nserver: gunicorn 'shop:create_app()'  # http\r\n",
                "shop/__init__.py": "from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n",
            },
            fixed={
                "Procfile": "# deploy steps\r\nrelease: flask db upgrade\r\nweb: gunicorn 'shop:create_app()'  # http\r\n"
            },
            note="CRLF and the comments are kept",
        ),
        Example(
            {"Procfile": "Web: gunicorn app:app\n", "app.py": APP},
            note="process names are case-sensitive",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {"api/Procfile": "api: gunicorn app:app", "api/app.py": APP},
            app_root="api",
            fixed={"api/Procfile": "web: gunicorn app:app"},
            note="no final newline",
        ),
        Example(
            {"Procfile": "clock: python clock.py\nqueue: rq worker\n", "app.py": APP},
            expect="`clock`",
            note="no entry serves HTTP: no autofix guesses one",
        ),
    ]


def _serves_http(command: str) -> bool:
    try:
        commands = parse_chain(command)
    except ShellSyntaxError:
        return False
    return any((classify(simple) or ("", []))[0] in HTTP_SERVERS for simple in commands)


def _rename_fix(project: Project, procfile: Procfile) -> Fix | None:
    """Rename the entry that serves HTTP (or the only entry) to `web`, on its own line only."""
    servers = [entry for entry in procfile.entries if _serves_http(entry.command)]
    entries = servers or procfile.entries
    if len(entries) != 1:
        return None
    entry = entries[0]
    text = utf8_text(project, procfile.path)
    bounds = line_bounds(text, entry.line) if text is not None else None
    if bounds is None or not text.startswith(f"{entry.name}:", bounds[0]):
        return None
    start = bounds[0]
    return Fix(
        f"Rename process `{entry.name}` to `web`",
        f"Anything that starts the process by the name `{entry.name}` (a Heroku formation, scripts) must use `web`.",
        {procfile.path: text[:start] + "web" + text[start + len(entry.name) :]},
    )
