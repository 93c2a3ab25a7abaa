from __future__ import annotations

from collections.abc import Iterator

from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import ShellSyntaxError, tokenize
from analyzer.startcmd import uses_docker

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def _words(command: str) -> list[str]:
    try:
        return [word for word in tokenize(command) if not word.startswith("\0")]
    except ShellSyntaxError:
        return command.split()


class ProcfileShadowed(Rule):
    """
    ## What it does
    Flags a Procfile whose `web` command differs from what actually runs because
    a Dockerfile in the app root makes Railway build with Docker.

    ## Why is this bad?
    When a Dockerfile is present (and the railway config picks no other
    builder), Railway builds the image and runs its `ENTRYPOINT`/`CMD`; the
    Procfile is never read. Fixes made to the Procfile silently do nothing.

    ## Example
    ```
    # Procfile:   web: gunicorn -w 2 app:app
    # Dockerfile: CMD ["python", "app.py"]
    ```

    ## Use instead
    ```
    # Dockerfile: CMD ["gunicorn", "-w", "2", "app:app"]   (and delete the Procfile)
    ```

    ## How to fix
    Put the command in the Dockerfile's CMD (or railway config `deploy.startCommand`) and delete the unused Procfile.

    ## References
    - Railway: Dockerfiles ("Railway will automatically detect and use a Dockerfile")
    - Railway: config as code, `build.builder`
    """

    id = "PF106"
    slug = "procfile-shadowed"
    severity = Severity.MEDIUM
    title = "Procfile ignored by a Docker build"

    def check(self, project: Project) -> Iterator[Finding]:
        procfile = project.procfile
        web = procfile.get("web") if procfile else None
        if web is None or not uses_docker(project):
            return
        start = project.start_command
        if start is None or not start.kind.startswith("dockerfile"):
            if start is None:
                yield self.finding(
                    f"{project.dockerfile.path} has no CMD or ENTRYPOINT and Railway builds with Docker, "
                    f"so Procfile `web: {web.command}` is ignored",
                    procfile.path,
                    web.line,
                    subject="no docker cmd",
                )
            return
        if _words(start.command) == _words(web.command):
            return
        yield self.finding(
            f"Procfile `web: {web.command}` is ignored: Railway builds with {start.path} and runs `{start.command}`",
            procfile.path,
            web.line,
            subject="shadowed",
        )

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Dockerfile": 'FROM python:3.12\nCMD ["gunicorn", "app:app"]\n',
                "app.py": APP,
            },
            note="the same command",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Dockerfile": "FROM python:3.12\nCMD python app.py\n",
                "railway.json": '{"build": {"builder": "RAILPACK"}}',
                "app.py": APP,
            },
            note="the railway config picks another builder",
        ),
        Example({"Procfile": "web: gunicorn app:app\n", "app.py": APP}),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "docker/Dockerfile": "FROM python:3.12\nCMD python app.py\n",
                "app.py": APP,
            },
            note="a Dockerfile outside the app root is not used unless dockerfilePath names it",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn -w 2 app:app\n",
                "Dockerfile": 'FROM python:3.12\nCMD ["python", "app.py"]\n',
                "app.py": APP,
            },
            expect="runs `python app.py`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Dockerfile": "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n",
                "app.py": APP,
            },
            expect="no CMD",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Dockerfile": 'FROM python:3.12\nENTRYPOINT ["./entrypoint.sh"]\n',
                "entrypoint.sh": "#!/bin/sh\nexec gunicorn app:app\n",
                "app.py": APP,
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Dockerfile.prod": "FROM python:3.12\nCMD gunicorn -b 0.0.0.0:8080 app:app\n",
                "railway.toml": '[build]\nbuilder = "DOCKERFILE"\ndockerfilePath = "Dockerfile.prod"\n',
                "app.py": APP,
            }
        ),
    ]
