from __future__ import annotations

from collections.abc import Iterator

from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

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
        yield self.finding(
            f"Procfile has no `web` process ({names}); Railway will run `{chosen.name}: {chosen.command}`",
            procfile.path,
            chosen.line,
            subject="no web",
        )

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
        Example({"Procfile": "app: gunicorn app:app\n", "app.py": APP}, expect="`app: gunicorn app:app`"),
        Example(
            {"Procfile": "worker: celery -A tasks worker\nwww: gunicorn app:app\n", "app.py": APP},
            expect="will run `worker",
        ),
        Example({"Procfile": "release: flask db upgrade\nserver: gunicorn app:app\n", "app.py": APP}),
        Example({"Procfile": "Web: gunicorn app:app\n", "app.py": APP}, note="process names are case-sensitive"),
        Example({"api/Procfile": "api: gunicorn app:app\n", "api/app.py": APP}, app_root="api"),
    ]
