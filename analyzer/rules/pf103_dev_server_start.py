from __future__ import annotations

from collections.abc import Iterator

from analyzer.devserver import dev_server_calls
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.wsgi import find_module, module_roots

FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
RUN_GUARDED = FLASK_APP + '\nif __name__ == "__main__":\n    app.run(host="0.0.0.0", port=5000)\n'


class DevServerStart(Rule):
    """
    ## What it does
    Flags a web process that runs the Werkzeug development server: `flask run`,
    `python -m flask run`, `python FILE.py` where the file calls `app.run()`,
    `socketio.run(app)` or `run_simple()`, Flask-Script's `manage.py runserver`
    (including Railpack's `python main.py` fallback when gunicorn is not
    declared), or a module the WSGI server imports that calls `app.run()` at
    module level, outside an `if __name__ == "__main__":` guard.

    ## Why is this bad?
    The development server is single-process, unhardened and prints "Do not use
    it in a production deployment". When debug is on it serves the interactive
    debugger, which runs any Python a visitor types. An `app.run()` at import time
    under gunicorn starts a second server inside every worker, which blocks the
    worker's boot.

    ## Example
    ```
    # Procfile
    web: python app.py
    ```

    ## Use instead
    ```
    web: gunicorn app:app
    ```

    ## How to fix
    Serve the app with gunicorn (`gunicorn module:app`) and keep `app.run()` under `if __name__ == "__main__":`.

    ## References
    - Flask: Deploying to Production ("do not use the development server")
    - Werkzeug: `run_simple`
    """

    id = "PF103"
    slug = "dev-server-start"
    severity = Severity.BLOCKER
    title = "Development server in production"

    def check(self, project: Project) -> Iterator[Finding]:
        run = project.server_run
        if run is None:
            return
        start = project.start_command
        command = " ".join(run.command.argv)
        fallback = " (Railpack's fallback when gunicorn is not declared)" if start.kind == "inferred" else ""
        if run.kind == "flask-run":
            yield self.finding(
                f"{start.source} runs `{command}`, the Werkzeug development server",
                start.path,
                start.line,
                # The server, not the command line: dropping `--debug` is the same finding.
                subject="flask run",
            )
        elif run.kind == "manage":
            yield self.finding(
                f"{start.source} runs `{command}`, Flask-Script's development server",
                start.path,
                start.line,
                subject="manage.py runserver",
            )
        elif run.kind in ("python-file", "python-module"):
            path = self._script_path(project, run)
            module = project.python(path) if path else None
            calls = dev_server_calls(project, module) if module is not None else []
            if calls:
                call = calls[0]
                what = "run_simple()" if call.kind == "run_simple" else f"{call.receiver}.run()"
                yield self.finding(
                    f"{start.source} runs `{command}`{fallback}, which starts the development server "
                    f"(`{what}` at {module.path}:{call.line})",
                    start.path,
                    start.line,
                    subject=f"dev server in {module.path}",
                )
        else:
            yield from self._run_at_import(project, run.kind)

    def _run_at_import(self, project: Project, server: str) -> Iterator[Finding]:
        """`app.run()` at module level of any module the WSGI server imports, transitively."""
        production = project.production
        if production.entry.kind != "server":
            return
        for path in production.modules:
            data = project.raw(path)
            if data is None or (b".run(" not in data and b"run_simple" not in data):
                continue  # parsing is the expensive part; most modules on the path cannot start a server
            module = project.python(path)
            if module is None:
                continue
            for call in dev_server_calls(project, module):
                if call.at_module_level and not call.in_main_guard:
                    yield self.finding(
                        f"`{module.path}` calls `{call.receiver}.run()` at import, outside "
                        f'`if __name__ == "__main__":`; under {server} it starts a development server in every worker',
                        module.path,
                        call.line,
                        subject=f"{call.receiver}.run",
                        evidence=production.why(path),
                    )

    @staticmethod
    def _script_path(project: Project, run) -> str | None:
        if run.kind == "python-file":
            served = project.wsgi_target
            return served.target.path if served is not None else None
        name = run.argv[0]
        roots = module_roots(project, run.cwd, [])
        return find_module(project, f"{name}.__main__", roots) or find_module(project, name, roots)

    VALID = [
        Example(
            {"Procfile": "web: gunicorn app:app\n", "app.py": RUN_GUARDED}, note="the guard never runs under gunicorn"
        ),
        Example(
            {
                "Procfile": "web: python bot.py\n",
                "bot.py": "import discord\nclient = discord.Client()\nclient.run('x')\n",
            },
            note="a script that is not a Flask dev server",
        ),
        Example({"Procfile": "web: gunicorn wsgi:app\nworker: flask run\n", "wsgi.py": FLASK_APP}),
        Example(
            {
                "Procfile": "web: python serve.py\n",
                "serve.py": "from waitress import serve\nfrom app import app\n\nserve(app, host='0.0.0.0', port=8080)\n",
                "app.py": FLASK_APP,
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "app.py": "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n\n"
                'if __name__ == "__main__":\n    create_app().run(debug=True)\n',
            }
        ),
    ]
    INVALID = [
        Example({"Procfile": "web: flask run --host=0.0.0.0 --port=$PORT\n", "app.py": FLASK_APP}, expect="flask run"),
        Example({"Procfile": "web: python app.py\n", "app.py": RUN_GUARDED}, expect="`app.run()` at app.py:6"),
        Example(
            {"requirements.txt": "flask\n", "main.py": RUN_GUARDED},
            expect="Railpack's fallback",
            note="no gunicorn declared: Railpack runs python main.py",
        ),
        Example(
            {"Procfile": "web: gunicorn wsgi:app\n", "wsgi.py": FLASK_APP + "\napp.run(host='0.0.0.0')\n"},
            expect="at import",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": "from site_app import app\nimport routes  # noqa: F401\n",
                "site_app.py": FLASK_APP,
                "routes.py": "from site_app import app\n\n@app.route('/')\ndef index():\n    return 'hi'\n\napp.run()\n",
            },
            expect="`routes.py` calls `app.run()` at import",
            note="a module the served module imports",
        ),
        Example(
            {
                "Procfile": "web: python -m flask --app shop run\n",
                "shop.py": FLASK_APP,
            }
        ),
        Example(
            {
                "Procfile": "web: python run.py\n",
                "run.py": "from flask_socketio import SocketIO\nfrom chat import app\n\nsocketio = SocketIO(app)\n"
                "socketio.run(app, host='0.0.0.0')\n",
                "chat.py": FLASK_APP,
            },
            expect="socketio.run()",
        ),
        Example(
            {
                "Procfile": "web: python manage.py runserver -h 0.0.0.0\n",
                "manage.py": "from flask_script import Manager\n",
            },
            expect="Flask-Script",
        ),
    ]
