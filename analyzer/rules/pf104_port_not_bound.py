from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from analyzer.devserver import dev_server_calls
from analyzer.project import Project
from analyzer.pyvalues import shell_string
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import parameters

FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def port_problem(port: str, project: Project, expands: bool = True) -> str | None:
    """Why a port word does not follow Railway's $PORT, or None when it does (or is unknowable)."""
    params = parameters(port)
    if params:
        if not expands:
            return f"`{port}` is passed literally: exec-form CMD runs no shell, so `$PORT` is never expanded"
        names = [name for name, _ in params]
        if "PORT" in names:
            return None
        name, default = params[0]
        if project.platform.has_variable(name) or (project.platform.variables is None and not default):
            return None
        return f"`{port}` comes from `{name}`, not Railway's `$PORT`" if default else None
    if port.isdigit():
        return f"port `{port}` is a literal; Railway routes traffic to `$PORT`"
    return None


def host_problem(host: str) -> str | None:
    if parameters(host) or host in ("", "0.0.0.0", "::", "[::]", "*"):
        return None
    if host in LOCAL_HOSTS:
        return f"host `{host}` only accepts connections from inside the container"
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
        return None
    except ValueError:
        pass
    if _HOSTNAME.match(host) and not host.replace(".", "").isdigit():
        return None
    return f"host `{host}` is not an address"


def bind_problem(bind: str | None, project: Project, expands: bool = True) -> str | None:
    """Judge one gunicorn `--bind` value (`HOST:PORT`, `[::]:PORT`, `unix:...`, `fd://`)."""
    if not bind:
        return "the bind option has no value"
    if bind.startswith(("unix:", "fd://")):
        return f"`{bind}` is not a TCP port; Railway connects to `$PORT`"
    host, port = split_address(bind)
    return host_problem(host) or port_problem(port, project, expands)


def split_address(bind: str) -> tuple[str, str]:
    """HOST and PORT of `HOST:PORT`, `[v6]:PORT`, `${HOST}:${PORT:-8000}`; a bare host gets port 8000."""
    if bind.startswith("["):
        host, _, port = bind[1:].partition("]")
        return f"[{host}]", port.removeprefix(":")
    depth, split_at = 0, -1
    for index, char in enumerate(bind):
        if char == "{" and index and bind[index - 1] == "$":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == ":" and not depth:
            split_at = index
    if split_at < 0:
        # gunicorn reads a bare value as a host on port 8000, and a bare number as a port.
        return ("", bind) if bind.isdigit() else (bind, "8000")
    return bind[:split_at], bind[split_at + 1 :]


def option_values(argv: list[str], *names: str) -> list[str | None]:
    values: list[str | None] = []
    for index, word in enumerate(argv):
        for name in names:
            if word == name:
                values.append(argv[index + 1] if index + 1 < len(argv) else None)
            elif name.startswith("--") and word.startswith(name + "="):
                values.append(word.split("=", 1)[1])
    return values


class PortNotBound(Rule):
    """
    ## What it does
    Flags a web process that will not answer on Railway's `$PORT`: a gunicorn
    `-b/--bind` with a literal port or a 127.0.0.1/localhost host, an exec-form
    Dockerfile `CMD` that passes `$PORT` unexpanded, a `bind` in
    `gunicorn.conf.py` with the same faults, a bind flag with no value or a host
    that is not an address, and a development server on its default
    127.0.0.1 or a literal port.

    ## Why is this bad?
    Railway sets `PORT` and routes the service's traffic there; a process
    listening elsewhere, or only on the loopback interface, never receives a
    request, and the deploy fails its health check or answers 502. Gunicorn with
    no bind at all is fine: it binds `0.0.0.0:$PORT` when `PORT` is set.

    ## Example
    ```
    web: gunicorn --bind 127.0.0.1:8000 app:app
    ```

    ## Use instead
    ```
    web: gunicorn app:app
    ```

    ## How to fix
    Drop the bind (gunicorn reads `$PORT`) or bind `0.0.0.0:$PORT`; in an exec-form CMD, use `sh -c` or drop the bind.

    ## References
    - gunicorn settings: `bind` (defaults to `['0.0.0.0:$PORT']` when PORT is set)
    - Docker: CMD exec form does not invoke a shell
    - Railway: Public networking, the PORT variable
    """

    id = "PF104"
    slug = "port-not-bound"
    severity = Severity.HIGH
    title = "Port not bound"

    def check(self, project: Project) -> Iterator[Finding]:
        run = project.server_run
        if run is None:
            return
        start = project.start_command
        where = (start.path, start.line)
        if run.kind == "gunicorn":
            binds = run.gunicorn.binds
            if binds:
                for bind in binds:
                    problem = bind_problem(bind, project, run.expands_variables)
                    if problem:
                        yield self.finding(f"{start.source}: gunicorn {problem}", *where, subject=f"bind {bind}")
                return
            setting = project.gunicorn_conf.get("bind")
            if setting is not None and setting.value is not None:
                problem = bind_problem(setting.value, project)
                if problem:
                    path = project.app_path("gunicorn.conf.py")
                    yield self.finding(f"gunicorn.conf.py `bind`: {problem}", path, setting.line, subject="conf bind")
            return
        if run.kind in ("uvicorn", "hypercorn", "waitress"):
            yield from self._other_server(project, run, start)
        elif run.kind == "flask-run":
            yield from self._flask_run(project, run, start)
        elif run.kind == "python-file":
            yield from self._app_run(project)

    def _other_server(self, project: Project, run, start) -> Iterator[Finding]:
        where = (start.path, start.line)
        if run.kind == "hypercorn":
            binds = option_values(run.argv, "-b", "--bind")
            if not binds:
                yield self.finding(
                    f"{start.source}: hypercorn binds 127.0.0.1:8000 by default", *where, subject="hypercorn"
                )
            for bind in binds:
                problem = bind_problem(bind, project, run.expands_variables)
                if problem:
                    yield self.finding(f"{start.source}: hypercorn {problem}", *where, subject=f"bind {bind}")
            return
        listen = option_values(run.argv, "--listen") if run.kind == "waitress" else []
        for value in listen:
            problem = bind_problem(value, project, run.expands_variables)
            if problem:
                yield self.finding(f"{start.source}: waitress {problem}", *where, subject=f"listen {value}")
        if listen:
            return
        hosts = option_values(run.argv, "--host")
        ports = option_values(run.argv, "--port")
        default_host = "0.0.0.0" if run.kind == "waitress" else "127.0.0.1"
        default_port = "8080" if run.kind == "waitress" else "8000"
        problem = host_problem(hosts[-1] or "" if hosts else default_host) or port_problem(
            (ports[-1] or "") if ports else default_port, project, run.expands_variables
        )
        if problem:
            yield self.finding(f"{start.source}: {run.kind} {problem}", *where, subject=run.kind)

    def _flask_run(self, project: Project, run, start) -> Iterator[Finding]:
        env = run.command.assignments
        hosts = option_values(run.argv, "--host", "-h")
        ports = option_values(run.argv, "--port", "-p")
        host = hosts[-1] if hosts else env.get("FLASK_RUN_HOST", "127.0.0.1")
        port = ports[-1] if ports else env.get("FLASK_RUN_PORT", "5000")
        problem = host_problem(host or "") or port_problem(port or "", project, run.expands_variables)
        if problem:
            yield self.finding(f"{start.source}: `flask run` {problem}", start.path, start.line, subject="flask run")

    def _app_run(self, project: Project) -> Iterator[Finding]:
        served = project.wsgi_target
        module = project.python(served.target.path) if served and served.target.path else None
        if module is None:
            return
        for call in dev_server_calls(project, module):
            host_expr, port_expr = call.host_and_port()
            host = "127.0.0.1" if host_expr is None else shell_string(host_expr, module)
            port = "5000" if port_expr is None else shell_string(port_expr, module)
            if call.kind == "run_simple" and host_expr is None:
                continue
            problem = (host_problem(host) if host is not None else None) or (
                port_problem(port, project) if port is not None else None
            )
            if problem:
                name = "run_simple()" if call.kind == "run_simple" else f"{call.receiver}.run()"
                yield self.finding(f"`{name}`: {problem}", module.path, call.line, subject=name)
            return

    VALID = [
        Example({"Procfile": "web: gunicorn app:app\n", "app.py": FLASK_APP}, note="gunicorn binds 0.0.0.0:$PORT"),
        Example({"Procfile": "web: gunicorn --bind 0.0.0.0:$PORT app:app\n", "app.py": FLASK_APP}),
        Example({"Procfile": "web: gunicorn -b [::]:${PORT} app:app\n", "app.py": FLASK_APP}),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "gunicorn -b 0.0.0.0:${PORT:-8000} app:app"}}',
                "app.py": FLASK_APP,
            }
        ),
        Example(
            {
                "Procfile": "web: python app.py\n",
                "app.py": FLASK_APP + "import os\napp.run(host='0.0.0.0', port=int(os.environ.get('PORT', 8080)))\n",
            },
            note="Railway always sets PORT",
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12\nCMD ["sh", "-c", "gunicorn -b 0.0.0.0:$PORT app:app"]\n',
                "app.py": FLASK_APP,
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn -c gunicorn.conf.py app:app\n",
                "gunicorn.conf.py": "import os\nbind = f\"0.0.0.0:{os.environ.get('PORT', '8000')}\"\n",
                "app.py": FLASK_APP,
            }
        ),
    ]
    INVALID = [
        Example({"Procfile": "web: gunicorn --bind 127.0.0.1:8000 app:app\n", "app.py": FLASK_APP}, expect="127.0.0.1"),
        Example({"Procfile": "web: gunicorn -b 0.0.0.0:5000 app:app\n", "app.py": FLASK_APP}, expect="`5000`"),
        Example(
            {
                "Dockerfile": 'FROM python:3.12\nCMD ["gunicorn", "-b", "0.0.0.0:$PORT", "app:app"]\n',
                "app.py": FLASK_APP,
            },
            expect="exec-form",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "gunicorn.conf.py": "bind = 'localhost:8000'\n",
                "app.py": FLASK_APP,
            },
            expect="gunicorn.conf.py",
        ),
        Example({"Procfile": "web: gunicorn -b 0,0,0,0:$PORT app:app\n", "app.py": FLASK_APP}, expect="not an address"),
        Example({"Procfile": "web: gunicorn app:app --bind\n", "app.py": FLASK_APP}, expect="no value"),
        Example(
            {"Procfile": "web: python app.py\n", "app.py": FLASK_APP + "app.run(port=8080)\n"},
            expect="127.0.0.1",
        ),
        Example({"Procfile": "web: uvicorn asgi:app\n", "asgi.py": "app = None\n"}, expect="127.0.0.1"),
    ]
