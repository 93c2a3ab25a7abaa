from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

import libcst as cst

from analyzer.autofix import Fix
from analyzer.deployfiles import exec_form
from analyzer.devserver import DevRun, dev_server_calls
from analyzer.fixes.deployfiles import (
    Command,
    apply_edits,
    command_spans,
    ensure_import_os,
    exec_cmd_as_shell,
    utf8_text,
)
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

    ## Fix safety
    The autofix rewrites the bind to `0.0.0.0:$PORT` (`${PORT:-N}` in a
    Dockerfile or script, so a local run without PORT keeps its old port N),
    drops an empty `--bind`, runs an exec-form `CMD` through `sh -c` with
    `exec`, reads `PORT` in `gunicorn.conf.py` and in `app.run()`, and adds
    `--host`/`--port` to uvicorn, hypercorn and waitress. Listening on every
    interface also exposes a local run to the network it is on.

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
                bad = [bind for bind in binds if bind_problem(bind, project, run.expands_variables)]
                for bind in bad:
                    problem = bind_problem(bind, project, run.expands_variables)
                    finding = self.finding(f"{start.source}: gunicorn {problem}", *where, subject=f"bind {bind}")
                    if len(bad) == len(binds) == 1:
                        finding.fix = _gunicorn_bind_fix(project, start, run, bind)
                    yield finding
                return
            setting = project.gunicorn_conf.get("bind")
            if setting is not None and setting.value is not None:
                problem = bind_problem(setting.value, project)
                if problem:
                    path = project.gunicorn_conf_path
                    finding = self.finding(f"{path} `bind`: {problem}", path, setting.line, subject="conf bind")
                    finding.fix = _conf_bind_fix(project, path, setting)
                    yield finding
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
                finding = self.finding(
                    f"{start.source}: hypercorn binds 127.0.0.1:8000 by default", *where, subject="hypercorn"
                )
                finding.fix = _options_fix(project, start, run, "hypercorn", [("--bind", None, "bind")])
                yield finding
            for bind in binds:
                problem = bind_problem(bind, project, run.expands_variables)
                if problem:
                    finding = self.finding(f"{start.source}: hypercorn {problem}", *where, subject=f"bind {bind}")
                    if len(binds) == 1:
                        finding.fix = _options_fix(project, start, run, "hypercorn", [("--bind", bind, "bind")])
                    yield finding
            return
        listen = option_values(run.argv, "--listen") if run.kind == "waitress" else []
        for value in listen:
            problem = bind_problem(value, project, run.expands_variables)
            if problem:
                finding = self.finding(f"{start.source}: waitress {problem}", *where, subject=f"listen {value}")
                if len(listen) == 1:
                    finding.fix = _options_fix(project, start, run, "waitress-serve", [("--listen", value, "bind")])
                yield finding
        if listen:
            return
        hosts = option_values(run.argv, "--host")
        ports = option_values(run.argv, "--port")
        default_host = "0.0.0.0" if run.kind == "waitress" else "127.0.0.1"
        default_port = "8080" if run.kind == "waitress" else "8000"
        host = hosts[-1] or "" if hosts else default_host
        port = (ports[-1] or "") if ports else default_port
        problem = host_problem(host) or port_problem(port, project, run.expands_variables)
        if problem:
            finding = self.finding(f"{start.source}: {run.kind} {problem}", *where, subject=run.kind)
            anchor = "waitress-serve" if run.kind == "waitress" else run.kind
            finding.fix = _host_port_fix(project, start, run, anchor, hosts, ports, host, port)
            yield finding

    def _flask_run(self, project: Project, run, start) -> Iterator[Finding]:
        env = run.command.assignments
        hosts = option_values(run.argv, "--host", "-h")
        ports = option_values(run.argv, "--port", "-p")
        host = hosts[-1] if hosts else env.get("FLASK_RUN_HOST", "127.0.0.1")
        port = ports[-1] if ports else env.get("FLASK_RUN_PORT", "5000")
        problem = host_problem(host or "") or port_problem(port or "", project, run.expands_variables)
        if problem:
            # No autofix: PF103 names the dev server by its command, so any edit of it reads as a new finding.
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
            bad_host = host_problem(host) if host is not None else None
            bad_port = port_problem(port, project) if port is not None else None
            if bad_host or bad_port:
                name = "run_simple()" if call.kind == "run_simple" else f"{call.receiver}.run()"
                finding = self.finding(f"`{name}`: {bad_host or bad_port}", module.path, call.line, subject=name)
                finding.fix = _dev_run_fix(project, module, call, bool(bad_host), bool(bad_port), port)
                yield finding
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
        Example(
            {
                "Procfile": "web: gunicorn -c deploy/gunicorn_cfg.py app:app\n",
                "deploy/gunicorn_cfg.py": "import os\nbind = '0.0.0.0:' + os.environ.get('PORT', '8000')\n",
                "gunicorn.conf.py": "bind = '127.0.0.1:8000'\n",
                "app.py": FLASK_APP,
            },
            note="with `-c` gunicorn reads that file and never ./gunicorn.conf.py",
        ),
        Example(
            {
                "Dockerfile": (
                    'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["./entrypoint.sh"]\n'
                    'CMD ["sh", "-c", "gunicorn -b 0.0.0.0:$PORT app:app"]\n'
                ),
                "entrypoint.sh": '#!/bin/sh\nset -e\nflask db upgrade\nexec "$@"\n',
                "app.py": FLASK_APP,
            },
            note="the entrypoint's `exec \"$@\"` runs the CMD's `sh -c`, which expands `$PORT`",
        ),
    ]
    INVALID = [
        Example(
            {
                "Dockerfile": (
                    'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["/app/bin/docker-entrypoint-web"]\n'
                    'CMD ["gunicorn", "-c", "python:config.gunicorn", "app:app"]\n'
                ),
                "bin/docker-entrypoint-web": '#!/usr/bin/env bash\nset -e\nexec "$@"\n',
                "config/__init__.py": "",
                "config/gunicorn.py": "bind = '0.0.0.0:8000'\nworkers = 2\n",
                "app.py": FLASK_APP,
            },
            expect="config/gunicorn.py `bind`",
            note="an entrypoint script without `.sh`, and a config module given as `python:config.gunicorn`",
        ),
        Example(
            {
                "Dockerfile": (
                    'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["./entrypoint.sh"]\n'
                    'CMD ["gunicorn", "-b", "0.0.0.0:$PORT", "app:app"]\n'
                ),
                "entrypoint.sh": '#!/bin/sh\nset -e\nflask db upgrade\nexec "$@"\n',
                "app.py": FLASK_APP,
            },
            expect="`$PORT` is passed literally",
            note='`exec "$@"` passes the exec-form words on as they are: no shell expands them',
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /usr/src/app\nCOPY . /usr/src/app/\n"
                    'RUN pip install -r requirements.txt\nENTRYPOINT ["/usr/src/app/entrypoint.sh"]\n'
                ),
                "entrypoint.sh": "#!/bin/sh\nexec gunicorn --bind 127.0.0.1:5000 app:app\n",
                "requirements.txt": "flask\ngunicorn\n",
                "app.py": FLASK_APP,
            },
            expect="gunicorn host `127.0.0.1`",
            note="the entrypoint named by its path in the image, under WORKDIR",
        ),
        Example(
            {
                "Procfile": "web: gunicorn -c gunicorn-cfg.py app:app\n",
                "gunicorn-cfg.py": "bind = '0.0.0.0:5005'\nworkers = 1\n",
                "app.py": FLASK_APP,
            },
            expect="gunicorn-cfg.py `bind`",
            note="the config file named by `-c`",
        ),
        Example(
            {"Procfile": "web: gunicorn --bind 127.0.0.1:8000 app:app\n", "app.py": FLASK_APP},
            expect="127.0.0.1",
            fixed={"Procfile": "web: gunicorn --bind 0.0.0.0:$PORT app:app\n"},
        ),
        Example(
            {
                "Procfile": "web: gunicorn -b 0.0.0.0:5000 app:app  # port 5000\r\nworker: rq worker\r\n",
                "app.py": FLASK_APP,
            },
            expect="`5000`",
            fixed={"Procfile": "web: gunicorn -b 0.0.0.0:$PORT app:app  # port 5000\r\nworker: rq worker\r\n"},
            note="CRLF and the comment are kept",
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12\nCMD ["gunicorn", "-b", "0.0.0.0:$PORT", "app:app"]\n',
                "app.py": FLASK_APP,
            },
            expect="exec-form",
            fixed={"Dockerfile": 'FROM python:3.12\nCMD ["sh", "-c", "exec gunicorn -b 0.0.0.0:$PORT app:app"]\n'},
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\r\nWORKDIR /app\r\nCOPY . .\r\n"
                    'CMD ["gunicorn", "--bind=127.0.0.1:8000", "--workers", "2", "shop:create_app()"]\r\n'
                ),
                "shop/__init__.py": "from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n",
            },
            expect="127.0.0.1",
            fixed={
                "Dockerfile": (
                    "FROM python:3.12-slim\r\nWORKDIR /app\r\nCOPY . .\r\n"
                    'CMD ["sh", "-c", "exec gunicorn --bind=0.0.0.0:${PORT:-8000} --workers 2 \'shop:create_app()\'"]\r\n'
                )
            },
            note="the image keeps its old port where PORT is unset",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "gunicorn.conf.py": '"""Gunicorn settings."""\nworkers = 2\nbind = \'localhost:8000\'  # local only\n',
                "app.py": FLASK_APP,
            },
            expect="gunicorn.conf.py",
            fixed={
                "gunicorn.conf.py": (
                    '"""Gunicorn settings."""\n\nimport os\n\nworkers = 2\n'
                    "bind = f\"0.0.0.0:{os.environ.get('PORT', '8000')}\"  # local only\n"
                )
            },
        ),
        Example(
            {"Procfile": "web: gunicorn -b 0,0,0,0:$PORT app:app\n", "app.py": FLASK_APP},
            expect="not an address",
            fixed={"Procfile": "web: gunicorn -b 0.0.0.0:$PORT app:app\n"},
        ),
        Example(
            {"Procfile": "web: gunicorn app:app --bind\n", "app.py": FLASK_APP},
            expect="no value",
            fixed={"Procfile": "web: gunicorn app:app\n"},
        ),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "gunicorn -w 2 -b 127.0.0.1:8000 app:app"}}',
                "app.py": FLASK_APP,
            },
            expect="railway.json",
            fixed={"railway.json": '{"deploy": {"startCommand": "gunicorn -w 2 -b 0.0.0.0:$PORT app:app"}}'},
        ),
        Example(
            {"Procfile": "web: python app.py\n", "app.py": FLASK_APP + "app.run(port=8080)\n"},
            expect="127.0.0.1",
            fixed={
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    'app.run(port=int(os.environ.get("PORT", 8080)), host="0.0.0.0")\n'
                )
            },
        ),
        Example(
            {"Procfile": "web: uvicorn asgi:app\n", "asgi.py": "app = None\n"},
            expect="127.0.0.1",
            fixed={"Procfile": "web: uvicorn --host 0.0.0.0 --port $PORT asgi:app\n"},
        ),
        Example(
            {"railway.toml": "[deploy]\nstartCommand = 'hypercorn asgi:app'  # ASGI\n", "asgi.py": "app = None\n"},
            expect="hypercorn",
            fixed={"railway.toml": "[deploy]\nstartCommand = 'hypercorn --bind 0.0.0.0:$PORT asgi:app'  # ASGI\n"},
        ),
        Example(
            {"Procfile": "web: FLASK_RUN_HOST=127.0.0.1 flask run\n", "app.py": FLASK_APP},
            expect="`flask run`",
            note="the development server is PF103's; its fix is gunicorn",
        ),
    ]


# -- fixes ----------------------------------------------------------------------------


def _port_word(start, run, old: str | None) -> str:
    """`$PORT` where the platform always sets it; `${PORT:-N}` in an image or script that also runs locally."""
    if start.kind in ("procfile", "railway", "nixpacks", "railpack") and not run.script:
        return "$PORT"
    return f"${{PORT:-{old if old and old.isdigit() else 8000}}}"


def _safety(port: str) -> str:
    if port == "$PORT":
        return "The server listens on every interface at `$PORT`; a local run of this command needs PORT set."
    return f"The server listens on every interface at `$PORT`, and on {port[8:-1]} where PORT is unset."


def _good_bind(project: Project, start, run, bind: str) -> str:
    """The bind that follows Railway's `$PORT`, keeping a port that already reads PORT."""
    host, port = split_address(bind)
    if not (parameters(port) and port_problem(port, project) is None):
        port = _port_word(start, run, port)
    return f"{'[::]' if host.startswith('[') else '0.0.0.0'}:{port}"


def _gunicorn_bind_fix(project: Project, start, run, bind: str | None) -> Fix | None:
    command = Command(project, command_spans(project, start, run))
    if not command.spans:
        return None
    if bind is None:
        edits = [command.remove_word(word) for word in ("--bind", "-b") if command.occurrences(word)]
        if len(edits) != 1:
            return None
        safety = "Without a bind gunicorn listens on `0.0.0.0:$PORT` when PORT is set, as on Railway."
        return _fix(project, edits, "Remove the empty `--bind`", safety)
    if bind.startswith(("unix:", "fd://")):
        return None  # a socket for a proxy in the same container: rebinding it changes the setup
    new = _good_bind(project, start, run, bind)
    _host, port = split_address(new)
    title = f"Bind gunicorn to `{new}`"
    if run.expands_variables:
        return _fix(project, [command.replace_word(bind, new)], title, _safety(port))
    cmd = [ins for ins in project.dockerfile.final_stage() if ins.keyword == "CMD"] if project.dockerfile else []
    argv = exec_form(cmd[-1].value) if cmd else None
    if argv is None:
        return None
    hits = [index for index, word in enumerate(argv) if word in (bind, f"--bind={bind}")]
    if len(hits) != 1 or any("$" in word for index, word in enumerate(argv) if index != hits[0]):
        return None  # a shell would now expand those words
    words = list(argv)
    words[hits[0]] = new if argv[hits[0]] == bind else f"--bind={new}"
    safety = _safety(port) + " The CMD now runs through `sh -c` (with `exec`, so gunicorn still gets the signals)."
    return _fix(project, [exec_cmd_as_shell(project, words)], f"Run the CMD through `sh -c` and bind `{new}`", safety)


def _options_fix(project: Project, start, run, anchor: str, options: list[tuple[str, str | None, str]]) -> Fix | None:
    """Replace each option's bad value, or insert the option after `anchor` when it is missing."""
    command = Command(project, command_spans(project, start, run))
    if not command.spans or not run.expands_variables:
        return None
    edits, inserted, shown = [], [], []
    port = "$PORT"
    for option, value, role in options:
        if role == "bind":
            new = _good_bind(project, start, run, value or "127.0.0.1:8000")
            port = split_address(new)[1]
        elif role == "port":
            new = port = _port_word(start, run, value)
        else:
            new = "0.0.0.0"
        shown.append(f"{option} {new}")
        if value is None:
            inserted.extend([option, new])
        else:
            edits.append(command.replace_word(value, new))
    if inserted:
        edits.append(command.insert_after(anchor, inserted))
    return _fix(project, edits, "Use " + " ".join(f"`{text}`" for text in shown), _safety(port))


def _host_port_fix(project: Project, start, run, anchor: str, hosts, ports, host: str, port: str) -> Fix | None:
    options = []
    if host_problem(host):
        if len(hosts) > 1 or (hosts and not hosts[-1]):
            return None
        options.append(("--host", hosts[-1] if hosts else None, "host"))
    if port_problem(port, project, run.expands_variables):
        if len(ports) > 1 or (ports and not ports[-1]):
            return None
        options.append(("--port", ports[-1] if ports else None, "port"))
    return _options_fix(project, start, run, anchor, options) if options else None


def _fix(project: Project, edits: list, title: str, safety: str) -> Fix | None:
    if not edits or None in edits:
        return None
    changes = apply_edits(project, edits)
    return Fix(title, safety, changes) if changes else None


def _conf_bind_fix(project: Project, path: str, setting) -> Fix | None:
    """gunicorn.conf.py's `bind` read from PORT, keeping the old port as the local fallback."""
    module = project.python(path)
    if module is None or utf8_text(project, path) != module.text:
        return None
    host, port = split_address(setting.value)
    default = port if port.isdigit() else "8000"
    value = cst.parse_expression(
        f"f\"{'[::]' if host.startswith('[') else '0.0.0.0'}:{{os.environ.get('PORT', '{default}')}}\""
    )

    class Rebind(cst.CSTTransformer):
        def __init__(self) -> None:
            super().__init__()
            self.changed = False

        def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
            if original.value is setting.node:
                self.changed = True
                return updated.with_changes(value=value)
            return updated

    rebind = Rebind()
    tree = module.tree.visit(rebind)
    if not rebind.changed:
        return None
    safety = f"gunicorn listens on every interface at `$PORT`, and on {default} where PORT is unset."
    return Fix("Read the bind port from `PORT`", safety, {path: ensure_import_os(tree).code})


def _dev_run_fix(project: Project, module, call: DevRun, host: bool, port: bool, old_port: str | None) -> Fix | None:
    """`app.run(host="0.0.0.0", port=int(os.environ.get("PORT", N)))` in place of the literal host and port."""
    if call.kind == "run_simple" or utf8_text(project, module.path) != module.text:
        return None
    positions = {"host": 0, "port": 1} if call.kind == "app.run" else {"host": 1, "port": 2}
    default = old_port if old_port and old_port.isdigit() else "5000"
    wanted = {}
    if host:
        wanted["host"] = cst.parse_expression('"0.0.0.0"')
    if port:
        wanted["port"] = cst.parse_expression(f'int(os.environ.get("PORT", {default}))')

    class Rewrite(cst.CSTTransformer):
        def __init__(self) -> None:
            super().__init__()
            self.changed = False

        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
            if original is not call.call:
                return updated
            args, missing = list(updated.args), dict(wanted)
            for index, arg in enumerate(args):
                if arg.star:
                    return updated
                name = (
                    arg.keyword.value
                    if arg.keyword
                    else next((key for key, position in positions.items() if position == index), None)
                )
                if name in missing:
                    args[index] = arg.with_changes(value=missing.pop(name))
            for name, value in missing.items():
                if args and args[-1].comma == cst.MaybeSentinel.DEFAULT:
                    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                args.append(
                    cst.Arg(
                        value=value,
                        keyword=cst.Name(name),
                        equal=cst.AssignEqual(
                            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
                        ),
                    )
                )
            self.changed = True
            return updated.with_changes(args=args)

    rewrite = Rewrite()
    tree = module.tree.visit(rewrite)
    if not rewrite.changed:
        return None
    tree = ensure_import_os(tree) if port else tree
    safety = f"The development server then listens on every interface at `$PORT` ({default} where PORT is unset)."
    if host:
        safety += " Listening on every interface exposes it to whoever reaches the machine when run locally."
    return Fix(f"Listen on `0.0.0.0` and `$PORT` in `{call.receiver}.run()`", safety, {module.path: tree.code})
