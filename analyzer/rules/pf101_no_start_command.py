from __future__ import annotations

import posixpath
from collections.abc import Iterator

from analyzer.autofix import Fix
from analyzer.fixes.deployfiles import append_line, shell_word, utf8_text
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.rules.pf102_wsgi_target_unresolved import candidate_targets
from analyzer.startcmd import uses_docker


class NoStartCommand(Rule):
    """
    ## What it does
    Flags a repository where Railway finds no start command at all: no platform
    start command, no `deploy.startCommand` in railway.json/railway.toml, no
    Dockerfile `CMD`/`ENTRYPOINT`, no nixpacks/railpack start command, no
    Procfile entry, and nothing Railpack can infer.

    ## Why is this bad?
    Railpack (Railway's default builder since 2025-09) only infers a command
    for a Flask app when the dependency files mention both `flask` and
    `gunicorn` and one of `main.py`, `app.py`, `start.py`, `bot.py`, `hello.py`
    or `server.py` sits in the app root. Otherwise the build fails with
    "No start command could be found" and nothing is deployed. A Docker build
    ignores both the Procfile and Railpack: with no `CMD` or `ENTRYPOINT` the
    container runs the base image's command (`python3`), which exits.

    ## Example
    ```
    # repository: wsgi.py, myapp/__init__.py, requirements.txt -- no Procfile
    ```

    ## Use instead
    ```
    # Procfile
    web: gunicorn wsgi:app
    ```

    ## How to fix
    Add a Procfile whose `web` process runs gunicorn on the Flask app the analyzer found; with a Docker build, add `CMD ["gunicorn", "MODULE:APP"]` to the Dockerfile instead (gunicorn binds `0.0.0.0:$PORT` when `PORT` is set).

    ## Fix safety
    The autofix is offered only when the analyzer found exactly one Flask app (or
    factory) in the app root: it writes `web: gunicorn MODULE:APP` to the
    Procfile (a `CMD` to the Dockerfile for a Docker build) and, when gunicorn is
    not declared, appends it unpinned to requirements.txt; pin it to the version
    you test with.

    ## References
    - Railway: Start command, config as code (`deploy.startCommand`)
    - Railpack: Python provider, start command inference
    """

    id = "PF101"
    slug = "no-start-command"
    severity = Severity.BLOCKER
    title = "No start command"

    def check(self, project: Project) -> Iterator[Finding]:
        if project.start_command is not None:
            return
        apps = project.flask_apps
        if apps:
            hint = f"; the Flask app found is `{apps[0].target}` ({apps[0].path}:{apps[0].line})"
        else:
            hint = "; no Flask app was found either"
        if uses_docker(project):
            dockerfile = project.dockerfile.path
            finding = self.finding(
                f"{dockerfile} has no CMD or ENTRYPOINT and no start command is set: a Docker build ignores the"
                f" Procfile and Railpack's entry files, so the container runs the base image's command{hint}",
                dockerfile,
                subject="no start command",
            )
            finding.fix = _start_fix(project, dockerfile)
        else:
            finding = self.finding(
                "Railway finds no start command: no Procfile, railway config, Dockerfile CMD or Railpack entry"
                f" file{hint}",
                subject="no start command",
            )
            finding.fix = _start_fix(project, project.app_path("Procfile"))
        yield finding

    VALID = [
        Example({"Procfile": "web: gunicorn app:app\n", "app.py": "from flask import Flask\napp = Flask(__name__)\n"}),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "gunicorn wsgi:app"}}',
                "wsgi.py": "from flask import Flask\napp = Flask(__name__)\n",
            }
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]\n',
                "app.py": "from flask import Flask\napp = Flask(__name__)\n",
            }
        ),
        Example(
            {
                "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
                "main.py": "from flask import Flask\napp = Flask(__name__)\n",
            },
            note="Railpack infers gunicorn main:app",
        ),
        Example(
            {"wsgi.py": "from flask import Flask\napp = Flask(__name__)\n"},
            platform={"start_command": "gunicorn wsgi:app"},
        ),
    ]
    INVALID = [
        Example(
            {
                "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
                "app.py": "from flask import Flask\napp = Flask(__name__)\n",
                "requirements.txt": "flask\ngunicorn\n",
            },
            expect="Dockerfile has no CMD or ENTRYPOINT",
            fixed={
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
                    'CMD ["gunicorn", "app:app"]\n'
                )
            },
            note="a Docker build runs the image's command: the fix is a CMD, not a Procfile",
        ),
        Example(
            {"wsgi.py": "from flask import Flask\napp = Flask(__name__)\n", "requirements.txt": "flask\ngunicorn\n"},
            expect="`wsgi:app`",
            fixed={"Procfile": "web: gunicorn wsgi:app\n"},
        ),
        Example(
            {
                "myapp/__init__.py": (
                    "from flask import Flask as F\n\ndef create_app():\n    app = F(__name__)\n    return app\n"
                ),
                "requirements.txt": "flask",
            },
            expect="`myapp:create_app()`",
            fixed={"Procfile": "web: gunicorn 'myapp:create_app()'\n", "requirements.txt": "flask\ngunicorn\n"},
            note="a factory is quoted for the shell; requirements.txt has no final newline",
        ),
        Example(
            {
                "Procfile": "# processes\r\n# web: to do\r\n",
                "wsgi.py": "import flask\napp = flask.Flask(__name__)\n",
                "requirements.txt": "Flask==3.1.0\r\ngunicorn==23.0.0\r\n",
            },
            note="a Procfile with no entries gives no command; CRLF kept",
            fixed={"Procfile": "# processes\r\n# web: to do\r\nweb: gunicorn wsgi:app\r\n"},
        ),
        Example(
            {
                "wsgi.py": "from shop import create_app\n\napp = create_app()\n",
                "shop/__init__.py": (
                    "from flask import Flask\n\n\ndef create_app(config=None):\n"
                    "    app = Flask(__name__)\n    return app\n"
                ),
                "requirements.txt": "flask\n",
            },
            expect="no Procfile",
            fixed={"Procfile": "web: gunicorn wsgi:app\n", "requirements.txt": "flask\ngunicorn\n"},
            note="wsgi.py calling the factory is the app to serve",
        ),
        Example(
            {
                "api/service/web.py": "from flask import Flask\napp = Flask(__name__)\n",
                "api/requirements.txt": "flask\ngunicorn\n",
            },
            app_root="api",
            fixed={"api/Procfile": "web: gunicorn service.web:app\n"},
        ),
        Example(
            {"main.py": "from flask import Flask\napp = Flask(__name__)\n", "requirements.txt": "django\n"},
            note="Railpack only infers a command when flask is in the dependency files",
        ),
        Example({"README.md": "# nothing to run\n"}),
    ]


def _start_fix(project: Project, path: str) -> Fix | None:
    """A start command serving the one Flask app found: a Procfile `web` entry, or a Dockerfile
    `CMD` (gunicorn binds 0.0.0.0:$PORT by itself when PORT is set), plus gunicorn in
    requirements.txt when missing."""
    targets = candidate_targets(project, ".")
    if len(targets) != 1:
        return None
    target = targets[0]
    docker = posixpath.basename(path) != "Procfile"
    line = f'CMD ["gunicorn", "{target}"]' if docker else f"web: gunicorn {shell_word(target)}"
    if path in project.files.paths:
        existing = utf8_text(project, path)
        if existing is None:
            return None
        changes = {path: append_line(existing, line)}
    else:
        changes = {path: line + "\n"}
    where = "The CMD" if docker else "The Procfile"
    safety = f"{where} serves the only Flask app found; check it is the one you deploy."
    manifests = project.manifests
    if manifests.installed and not manifests.declares("gunicorn"):
        requirements = project.app_path("requirements.txt")
        primary = manifests.primary
        text = utf8_text(project, requirements) if primary is not None and primary.path == requirements else None
        if text is None or text.startswith("\ufeff"):
            return None  # gunicorn belongs in a manifest this fix does not edit (PF202 says where)
        changes[requirements] = append_line(text, "gunicorn")
        safety += " gunicorn is added unpinned to requirements.txt; pin it to the version you test with."
    title = f"Add `{line}` to {path}" if docker else f"Add a Procfile: `web: gunicorn {target}`"
    return Fix(title, safety, changes)
