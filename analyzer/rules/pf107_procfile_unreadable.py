from __future__ import annotations

import posixpath
from collections.abc import Iterator

from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

APP = "from flask import Flask\n\napp = Flask(__name__)\n"
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
                    yield self.finding(
                        f"`{name}` is never read: the builders only read a file named exactly `Procfile`",
                        path,
                        subject=name,
                    )
            return
        for line, problem in project.procfile.problems:
            yield self.finding(f"Procfile line {line}: {problem}", project.procfile.path, line, subject=problem)

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
        Example({"procfile": "web: gunicorn app:app\n", "app.py": APP}, expect="`procfile`"),
        Example({"Procfile.txt": "web: gunicorn app:app\n", "app.py": APP}, expect="`Procfile.txt`"),
        Example({"Procfile": "web: gunicorn app: application\n", "app.py": APP}, expect="line 1"),
        Example({"Procfile": "web: gunicorn app:app\n  --workers 2\n", "app.py": APP}, expect="indented"),
        Example({"Procfile": "web gunicorn app:app\n", "app.py": APP}, expect="not of the form"),
        Example({"Procfile": "web:gunicorn app:app\n", "app.py": APP}, note="YAML needs a space after the colon"),
        Example({"Procfile": "web: gunicorn app:app\nweb: gunicorn wsgi:app\n", "app.py": APP}, expect="twice"),
    ]
