from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from analyzer.autofix import Fix
from analyzer.fixes.deployfiles import Command, append_line, apply_edits, command_spans, shell_word, utf8_text
from analyzer.project import Project
from analyzer.pysource import module_name_for
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.serving import gunicorn_cwd

FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
FACTORY = "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n"


def candidate_targets(project: Project, cwd: str) -> list[str]:
    """Targets of the Flask apps found, written as importable from `cwd`.

    A factory that a module already calls at module level (`app = create_app()` in
    wsgi.py) is represented by that module's app; a factory whose parameters need
    arguments cannot be a `module:factory()` target.
    """
    root = project.app_path(cwd)
    sites = project.discovery.apps
    called = {_called_name(site.call) for site in sites if site.app.kind == "app"}
    targets = []
    for site in sites:
        path = site.app.path
        if root and not path.startswith(root + "/"):
            continue
        if site.app.kind == "factory" and (site.app.name in called or not _callable_bare(site.function)):
            continue
        module = module_name_for(path, root)
        name = f"{site.app.name}()" if site.app.kind == "factory" else site.app.name
        targets.append(f"{module}:{name}")
    return targets


def _called_name(call: cst.Call) -> str | None:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def _callable_bare(function: cst.FunctionDef | None) -> bool:
    """True when the function can be called with no arguments."""
    if function is None:
        return False
    params = function.params
    required = [p for p in (*params.posonly_params, *params.params) if p.default is None]
    return not required and not any(p.default is None for p in params.kwonly_params)


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

    ## Fix safety
    The autofix is offered only when exactly one Flask app (or factory) fits: it
    rewrites the target where it is written (Procfile, railway config, Dockerfile,
    start script, `gunicorn.conf.py`), or, for Railpack's inferred `main:app`,
    adds a Procfile. Check that the app it names is the one you deploy.

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
        finding = self.finding(
            f"{origin} runs `{served.spec}` but {target.problem}{hint}",
            path,
            line,
            subject=served.spec,
        )
        if len(candidates) == 1:
            finding.fix = _target_fix(project, served, candidates[0])
        yield finding

    VALID = [
        Example({"Procfile": "web: gunicorn app:app\n", "app.py": FLASK_APP}),
        Example({"Procfile": "web: gunicorn 'myapp:create_app()'\n", "myapp/__init__.py": FACTORY}),
        Example(
            {"Procfile": "web: gunicorn --chdir backend wsgi:app\n", "backend/wsgi.py": FLASK_APP},
            note="--chdir moves the import root",
        ),
        Example(
            {"Procfile": "web: PYTHONPATH=src gunicorn service.web:app\n", "src/service/web.py": FLASK_APP},
            note="PYTHONPATH set on the command adds an import root",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENV PYTHONPATH=/app/src\n"
                    'CMD ["gunicorn", "service.web:app"]\n'
                ),
                "src/service/web.py": FLASK_APP,
            },
            note="PYTHONPATH from the image, under WORKDIR",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:make()'\n",
                "app.py": "from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n\n\nmake = create_app\n",
            },
            note="another name for the factory is called like the factory",
        ),
        Example(
            {"Procfile": "web: gunicorn --access-logfile - --error-logfile - app:app\n", "app.py": FLASK_APP},
            note="`-` is the log files' value (stdout), not the target",
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
                "Procfile": "web: gunicorn wsgi:app --workers 2  # serve wsgi:app\r\nworker: rq worker\r\n",
                "wsgi.py": "from flask import Flask\napplication = Flask(__name__)\n",
            },
            expect="binds no `app`",
            fixed={"Procfile": "web: gunicorn wsgi:application --workers 2  # serve wsgi:app\r\nworker: rq worker\r\n"},
            note="CRLF and the comment on the line are kept",
        ),
        Example(
            {"requirements.txt": "flask\ngunicorn\n", "app.py": FLASK_APP},
            expect="use `app:app`",
            note="Railpack infers main:app even when the file is app.py",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {"Procfile": "web: gunicorn 'app:app()'\n", "app.py": FLASK_APP},
            expect="not a function",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {"Procfile": "web: gunicorn server:app\n", "backend/server.py": FLASK_APP},
            expect="server.py",
            fixed={"Procfile": "web: gunicorn backend.server:app\n"},
        ),
        Example(
            {"railway.toml": '[deploy]\nstartCommand = "gunicorn app.wsgi:app"\n', "app/main.py": FLASK_APP},
            expect="app/wsgi.py",
            fixed={"railway.toml": '[deploy]\nstartCommand = "gunicorn app.main:app"\n'},
        ),
        Example(
            {
                "railway.json": (
                    '{\n  "$schema": "https://railway.com/railway.schema.json",\n  "deploy": {\n'
                    '    "startCommand": "gunicorn --workers 2 main:app",\n    "healthcheckPath": "/"\n  }\n}\n'
                ),
                "shop/__init__.py": FACTORY,
            },
            expect="`main.py` not found",
            fixed={
                "railway.json": (
                    '{\n  "$schema": "https://railway.com/railway.schema.json",\n  "deploy": {\n'
                    '    "startCommand": "gunicorn --workers 2 \'shop:create_app()\'",\n    "healthcheckPath": "/"\n  }\n}\n'
                )
            },
            note="a factory target is quoted for the shell inside the JSON string",
        ),
        Example(
            {
                "Procfile": "web: gunicorn\n",
                "gunicorn.conf.py": "wsgi_app = 'web:app'  # the app\n",
                "app.py": FLASK_APP,
            },
            expect="gunicorn.conf.py",
            fixed={"gunicorn.conf.py": "wsgi_app = 'app:app'  # the app\n"},
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12\nCMD ["waitress-serve", "--call", "shop:make_app"]\n',
                "shop.py": FLASK_APP,
            },
            expect="binds no `make_app`",
            fixed={"Dockerfile": 'FROM python:3.12\nCMD ["waitress-serve", "shop:app"]\n'},
        ),
        Example(
            {
                "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\nCMD gunicorn --bind 0.0.0.0:$PORT \\\n    run:app\n",
                "shop/__init__.py": FACTORY,
                "wsgi.py": "from shop import create_app\n\napp = create_app()\n",
            },
            expect="`run.py` not found",
            fixed={
                "Dockerfile": (
                    "FROM python:3.12-slim\nCOPY . /app\nCMD gunicorn --bind 0.0.0.0:$PORT \\\n    wsgi:app\n"
                )
            },
            note="a continued CMD; the module calling the factory is the one candidate",
        ),
    ]


def _target_fix(project: Project, served, candidate: str) -> Fix | None:
    start, run = project.start_command, served.run
    title = f"Use `{candidate}`"
    safety = "The new target is the only Flask app found that fits; check it is the one you deploy."
    if served.origin.startswith("gunicorn.conf.py"):
        changes = _conf_wsgi_app(project, served.spec, candidate)
        return Fix(title, safety, changes) if changes else None
    if start.kind == "inferred":
        path = project.app_path("Procfile")
        line = f"web: gunicorn {shell_word(candidate)}"
        existing = utf8_text(project, path) if path in project.files.paths else ""
        if existing is None:
            return None
        safety = "Railpack's inferred command cannot be edited, so a Procfile names the app; " + safety
        return Fix(f"Add a Procfile: `{line}`", safety, {path: append_line(existing, line)})
    command = Command(project, command_spans(project, start, run))
    if not command.spans:
        return None
    written, new = run.target, candidate
    edits = []
    factory = candidate.endswith("()")
    if run.kind == "waitress" and "--call" in run.argv:
        if factory:
            new = candidate[:-2]
        else:
            edits.append(command.remove_word("--call"))
    elif run.kind != "gunicorn" and factory:
        return None
    edits.append(command.replace_word(written, new) if written else None)
    if None in edits:
        return None
    changes = apply_edits(project, edits)
    return Fix(title, safety, changes) if changes else None


def _conf_wsgi_app(project: Project, old: str, new: str) -> dict[str, str] | None:
    """gunicorn.conf.py with the string of its `wsgi_app = "..."` replaced, quotes kept."""
    path = project.app_path("gunicorn.conf.py")
    text = utf8_text(project, path)
    if text is None:
        return None
    module = cst.parse_module(text)

    class Rewrite(cst.CSTTransformer):
        def __init__(self) -> None:
            super().__init__()
            self.changed = False

        def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
            target = updated.targets[0].target
            value = updated.value
            if (
                len(updated.targets) == 1
                and isinstance(target, cst.Name)
                and target.value == "wsgi_app"
                and isinstance(value, cst.SimpleString)
                and value.evaluated_value == old
                and value.quote not in new
            ):
                self.changed = True
                return updated.with_changes(
                    value=value.with_changes(value=f"{value.prefix}{value.quote}{new}{value.quote}")
                )
            return updated

    rewrite = Rewrite()
    rewritten = module.visit(rewrite)
    return {path: rewritten.code} if rewrite.changed else None
