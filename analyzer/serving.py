"""What the web process serves: the WSGI target and the module the server loads."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.startcmd import ServerRun, flask_app_option, in_repository, uses_docker
from analyzer.wsgi import WsgiTarget, resolve_wsgi_target

if TYPE_CHECKING:
    from analyzer.project import Project


@dataclass
class ServedTarget:
    run: ServerRun
    spec: str  # as the server receives it
    origin: str  # "command", "gunicorn.conf.py:3", "FLASK_APP", "flask default"
    target: WsgiTarget


def gunicorn_cwd(run: ServerRun) -> str:
    chdir = run.gunicorn.last("--chdir") if run.gunicorn else None
    if not chdir:
        return run.cwd
    # Docker images usually copy the repo to /app; treat /app as the app root.
    if chdir.startswith("/"):
        chdir = chdir.removeprefix("/app").lstrip("/") or "."
    return posixpath.normpath(posixpath.join(run.cwd, chdir))


def flask_app_setting(project: Project, run: ServerRun) -> tuple[str | None, str]:
    """FLASK_APP as `flask run` sees it: --app, the command's env, .flaskenv/.env, the image."""
    option = flask_app_option(run.argv)
    if option:
        return option, "--app"
    if "FLASK_APP" in run.command.assignments:
        return run.command.assignments["FLASK_APP"], "FLASK_APP"
    for pairs in project.env_files.values():
        for name, value, _line in pairs:
            if name == "FLASK_APP":
                return value, "FLASK_APP"
    dockerfile = project.dockerfile
    if dockerfile is not None and "FLASK_APP" in dockerfile.env():
        return dockerfile.env()["FLASK_APP"][0], "FLASK_APP"
    return None, "flask default"


def _pythonpath_variable(project: Project, run: ServerRun) -> list[str]:
    """PYTHONPATH's entries, as repository paths: from the command (`PYTHONPATH=src gunicorn ...`),
    else from the image's `ENV` in a Docker build. Python searches them after gunicorn's own."""
    value = run.command.assignments.get("PYTHONPATH")
    if value is None and uses_docker(project):
        value = project.dockerfile.env().get("PYTHONPATH", (None, None))[0]
    entries = [in_repository(project, entry) for entry in (value or "").split(":") if entry and "$" not in entry]
    return [entry for entry in entries if not entry.startswith("/")]


def served_target(project: Project) -> ServedTarget | None:
    run = project.server_run
    if run is None:
        return None
    if run.kind == "gunicorn":
        spec, origin = run.target, "command"
        if spec is None:
            setting = project.gunicorn_conf.get("wsgi_app")
            if setting is None or setting.value is None:
                return None
            spec, origin = setting.value, f"{project.gunicorn_conf_path}:{setting.line}"
        cwd = gunicorn_cwd(run)
        pythonpath = [*run.gunicorn.options.get("--pythonpath", []), *_pythonpath_variable(project, run)]
        return ServedTarget(run, spec, origin, resolve_wsgi_target(project, spec, cwd, [p for p in pythonpath if p]))
    if run.kind in ("waitress", "uwsgi", "hypercorn", "uvicorn") and run.target:
        spec = run.target
        if run.kind == "waitress" and "--call" in run.argv and not spec.endswith(")"):
            spec = f"{spec}()"
        return ServedTarget(run, spec, "command", resolve_wsgi_target(project, spec, run.cwd))
    if run.kind == "flask-run":
        value, origin = flask_app_setting(project, run)
        if value is None:
            for default in ("wsgi", "app"):
                if project.exists(posixpath.join(run.cwd, f"{default}.py")):
                    value = default
                    break
        if value is None:
            return None
        spec = _flask_app_spec(value)
        return ServedTarget(run, spec, origin, resolve_wsgi_target(project, spec, run.cwd))
    if run.kind == "python-file":
        script = run.argv[0]
        path = project.app_path(posixpath.join(run.cwd, script.removeprefix("/app/")))
        module = path[:-3].replace("/", ".") if path.endswith(".py") else path
        target = WsgiTarget(script, module, "", False, path=path if path in project.files.paths else None)
        if target.path is None:
            target.problem = f"`{script}` not found"
        return ServedTarget(run, script, "command", target)
    return None


def _flask_app_spec(value: str) -> str:
    """FLASK_APP accepts `app.py`, `pkg.module`, `module:app` and `module:create_app()`."""
    module, sep, attr = value.partition(":")
    if module.endswith(".py"):
        module = module[:-3].replace("/", ".")
    if not sep:
        # Flask then looks for `app` or `application`, then a factory; `app` is the common one.
        return f"{module}:app"
    return f"{module}:{attr}"
