from __future__ import annotations

from collections.abc import Iterator

from analyzer.project import Project
from analyzer.pysource import module_name_for
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.serving import gunicorn_cwd

FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
FACTORY = "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n"


def candidate_targets(project: Project, cwd: str) -> list[str]:
    """Targets of the Flask apps found, written as importable from `cwd`."""
    root = project.app_path(cwd)
    targets = []
    for site in project.discovery.apps:
        path = site.app.path
        if root and not path.startswith(root + "/"):
            continue
        module = module_name_for(path, root)
        name = f"{site.app.name}()" if site.app.kind == "factory" else site.app.name
        targets.append(f"{module}:{name}")
    return targets


class WsgiTargetUnresolved(Rule):
    """
    ## What it does
    Resolves the WSGI target of the start command (`gunicorn module:app`,
    `waitress-serve`, `uwsgi --module`, `hypercorn`, `uvicorn`) the way the server
    does, without importing anything, and flags a target that does not exist.

    ## Why is this bad?
    Gunicorn imports the module from its working directory (after `--chdir`, plus
    `--pythonpath`), then looks the attribute up on it; `module` alone means
    attribute `application`, and `module:create_app()` calls a factory, which must
    be a function. A target that does not resolve makes every worker exit with
    "Failed to find attribute" or `ModuleNotFoundError`, and the deploy crashes.
    Railpack's inferred command is literally `main:app`, even when the file is
    `app.py`.

    ## Example
    ```
    # Procfile
    web: gunicorn wsgi:app      # wsgi.py binds `application`
    ```

    ## Use instead
    ```
    web: gunicorn wsgi:application
    ```

    ## How to fix
    Point the command at the module and attribute that exist, or call the factory with `module:create_app()`.

    ## References
    - gunicorn: `gunicorn.util.import_app`, settings `chdir`, `pythonpath`, `wsgi_app`
    - Railpack: Python provider start command (`main:app`)
    """

    id = "PF102"
    slug = "wsgi-target-unresolved"
    severity = Severity.BLOCKER
    title = "WSGI target does not resolve"

    def check(self, project: Project) -> Iterator[Finding]:
        served = project.wsgi_target
        if served is None or served.run.kind not in ("gunicorn", "waitress", "uwsgi", "uvicorn", "hypercorn"):
            return
        target = served.target
        if target.resolved:
            return
        start = project.start_command
        cwd = gunicorn_cwd(served.run) if served.run.kind == "gunicorn" else served.run.cwd
        candidates = [c for c in candidate_targets(project, cwd) if c != served.spec]
        same_module = [c for c in candidates if c.partition(":")[0] == target.module]
        if len(same_module) == 1:
            candidates = same_module  # `wsgi:app` where wsgi.py binds `application`: one obvious fix
        if len(candidates) == 1:
            hint = f"; use `{candidates[0]}`"
        elif candidates:
            hint = "; Flask apps found: " + ", ".join(f"`{c}`" for c in candidates[:4])
        else:
            hint = "; no Flask app was found in the app root"
        origin = start.source
        path, line = start.path, start.line
        if served.origin.startswith("gunicorn.conf.py"):
            origin = served.origin
            path, line = project.app_path("gunicorn.conf.py"), int(served.origin.rsplit(":", 1)[1])
        if start.kind == "inferred":
            origin = "Railpack's inferred command"
        yield self.finding(
            f"{origin} runs `{served.spec}` but {target.problem}{hint}",
            path,
            line,
            subject=served.spec,
        )

    VALID = [
        Example({"Procfile": "web: gunicorn app:app\n", "app.py": FLASK_APP}),
        Example({"Procfile": "web: gunicorn 'myapp:create_app()'\n", "myapp/__init__.py": FACTORY}),
        Example(
            {"Procfile": "web: gunicorn --chdir backend wsgi:app\n", "backend/wsgi.py": FLASK_APP},
            note="--chdir moves the import root",
        ),
        Example(
            {"Procfile": "web: gunicorn --pythonpath src service.web:app\n", "src/service/web.py": FLASK_APP},
            note="--pythonpath adds an import root; namespace packages need no __init__.py",
        ),
        Example(
            {"Procfile": "web: gunicorn wsgi\n", "wsgi.py": "from flask import Flask\napplication = Flask(__name__)\n"},
            note="a bare module means attribute `application`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": "from myapp import create_app\n\napp = create_app()\n",
                "myapp/__init__.py": FACTORY,
            }
        ),
        Example({"Procfile": "web: gunicorn\n", "gunicorn.conf.py": "wsgi_app = 'app:app'\n", "app.py": FLASK_APP}),
        Example(
            {"requirements.txt": "flask\ngunicorn\n", "main.py": FLASK_APP},
            note="Railpack's inferred main:app resolves",
        ),
        Example(
            {"services/api/Procfile": "web: gunicorn api.wsgi:app\n", "services/api/api/wsgi.py": FLASK_APP},
            app_root="services/api",
        ),
        Example({"Procfile": "web: gunicorn app:create_app\\(\\)\n", "app.py": FACTORY}),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "wsgi.py": "from flask import Flask\napplication = Flask(__name__)\n",
            },
            expect="binds no `app`",
        ),
        Example(
            {"requirements.txt": "flask\ngunicorn\n", "app.py": FLASK_APP},
            expect="use `app:app`",
            note="Railpack infers main:app even when the file is app.py",
        ),
        Example({"Procfile": "web: gunicorn 'app:app()'\n", "app.py": FLASK_APP}, expect="not a function"),
        Example({"Procfile": "web: gunicorn server:app\n", "backend/server.py": FLASK_APP}, expect="server.py"),
        Example(
            {"railway.toml": '[deploy]\nstartCommand = "gunicorn app.wsgi:app"\n', "app/main.py": FLASK_APP},
            expect="app/wsgi.py",
        ),
        Example(
            {"Procfile": "web: gunicorn\n", "gunicorn.conf.py": "wsgi_app = 'web:app'\n", "app.py": FLASK_APP},
            expect="gunicorn.conf.py",
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12\nCMD ["waitress-serve", "--call", "shop:make_app"]\n',
                "shop.py": FLASK_APP,
            },
            expect="binds no `make_app`",
        ),
    ]
