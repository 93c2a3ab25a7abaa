from __future__ import annotations

from collections.abc import Iterator

from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule


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
    "No start command could be found" and nothing is deployed.

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
    Add a Procfile whose `web` process runs gunicorn on the Flask app the analyzer found.

    ## Fix safety
    The created Procfile names the app the analyzer found; when the repository
    holds several apps, check that it picked the one you deploy.

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
        yield self.finding(
            f"Railway finds no start command: no Procfile, railway config, Dockerfile CMD or Railpack entry file{hint}",
            subject="no start command",
        )

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
            {"wsgi.py": "from flask import Flask\napp = Flask(__name__)\n", "requirements.txt": "flask\ngunicorn\n"},
            expect="`wsgi:app`",
        ),
        Example(
            {
                "myapp/__init__.py": (
                    "from flask import Flask as F\n\ndef create_app():\n    app = F(__name__)\n    return app\n"
                ),
                "requirements.txt": "flask\n",
            },
            expect="`myapp:create_app()`",
        ),
        Example(
            {"Procfile": "# no processes yet\n", "app.py": "import flask\napp = flask.Flask(__name__)\n"},
            note="a Procfile with no entries gives no command",
        ),
        Example(
            {"main.py": "from flask import Flask\napp = Flask(__name__)\n", "requirements.txt": "django\n"},
            note="Railpack only infers a command when flask is in the dependency files",
        ),
        Example({"README.md": "# nothing to run\n"}),
    ]
