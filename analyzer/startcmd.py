"""The effective start command (RULES.md "The effective start command") and the server it runs."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzer.deployfiles import exec_form
from analyzer.gunicorn import GunicornArgs, parse_gunicorn_args
from analyzer.report import StartCommand
from analyzer.shell import ShellSyntaxError, SimpleCommand, parse_chain, quote, tokenize, unwrap

if TYPE_CHECKING:
    from analyzer.project import Project

# `#!/bin/sh`, `#!/usr/bin/env bash`, `#!/bin/bash -e`: a script the shell runs.
_SHELL_SHEBANG = re.compile(r"^#!\s*(?:/usr)?/bin/(?:env\s+)?(?:sh|bash|dash|ash|zsh)\b")
RAILPACK_ENTRY_FILES = ("main.py", "app.py", "start.py", "bot.py", "hello.py", "server.py")
RAILPACK_INFERRED = "gunicorn --bind 0.0.0.0:${PORT:-8000} main:app"
NON_DOCKER_BUILDERS = frozenset({"NIXPACKS", "RAILPACK", "HEROKU", "PAKETO"})
WSGI_SERVERS = frozenset({"gunicorn", "waitress", "uwsgi", "uvicorn", "hypercorn"})
_PYTHON = re.compile(r"^python(\d(\.\d+)?)?$")
_ALL_ARGS = frozenset({"$@", "${@}", "$*", "${*}"})


def uses_docker(project: Project) -> bool:
    """Railway builds with Docker when a Dockerfile is there and no other builder is chosen."""
    railway = project.railway_config
    builder = str(railway.get("build", "builder") or "").upper() if railway else ""
    if builder in NON_DOCKER_BUILDERS:
        return False
    return project.dockerfile is not None


def resolve_start_command(project: Project) -> StartCommand | None:
    platform = project.platform
    if platform.start_command:
        return StartCommand(platform.start_command, "platform settings", kind="platform")
    railway = project.railway_config
    if railway is not None:
        command = railway.get("deploy", "startCommand")
        if isinstance(command, str) and command.strip():
            line = railway.line_of("startCommand")
            return StartCommand(command, _at(railway.path, line), railway.path, line, "railway")
    if platform.has_variable("RAILPACK_START_CMD"):
        return StartCommand("$RAILPACK_START_CMD", "RAILPACK_START_CMD variable", kind="variable")
    if uses_docker(project):
        return _dockerfile_command(project)
    nixpacks = project.nixpacks
    if nixpacks is not None:
        start = nixpacks.data.get("start")
        command = start.get("cmd") if isinstance(start, dict) else None
        if isinstance(command, str) and command.strip():
            line = nixpacks.line_of("cmd")
            return StartCommand(command, _at(nixpacks.path, line), nixpacks.path, line, "nixpacks")
    railpack = project.railpack
    if railpack is not None:
        command = railpack.get("deploy", "startCommand")
        if isinstance(command, str) and command.strip():
            line = railpack.line_of("startCommand")
            return StartCommand(command, _at(railpack.path, line), railpack.path, line, "railpack")
    procfile = project.procfile
    if procfile is not None:
        entry = procfile.web_entry()
        if entry is not None:
            return StartCommand(entry.command, f"{procfile.path}:{entry.line}", procfile.path, entry.line, "procfile")
    return railpack_inference(project)


def railpack_inference(project: Project) -> StartCommand | None:
    """Railpack's Python provider: flask + gunicorn in the dependency files -> gunicorn main:app."""
    entry = next((name for name in RAILPACK_ENTRY_FILES if project.exists(name)), None)
    if entry is None:
        return None
    mentions = project.dependency_text().lower()
    if "flask" not in mentions:
        return None
    if "gunicorn" in mentions:
        return StartCommand(RAILPACK_INFERRED, "inferred by Railpack", kind="inferred")
    return StartCommand(f"python {entry}", "inferred by Railpack (no gunicorn declared)", kind="inferred")


def _dockerfile_command(project: Project) -> StartCommand | None:
    dockerfile = project.dockerfile
    stage = dockerfile.final_stage()
    entrypoints = [ins for ins in stage if ins.keyword == "ENTRYPOINT"]
    cmds = [ins for ins in stage if ins.keyword == "CMD"]
    entrypoint, cmd = (entrypoints[-1] if entrypoints else None), (cmds[-1] if cmds else None)
    if entrypoint is None and cmd is None:
        return None
    parts: list[str] = []
    exec_only = True
    shown = entrypoint or cmd
    for instruction in (entrypoint, cmd):
        if instruction is None:
            continue
        argv = exec_form(instruction.value)
        if argv is None:
            exec_only = False
            # A shell-form ENTRYPOINT ignores CMD entirely.
            parts = [instruction.value] if instruction is entrypoint else [*parts, instruction.value]
            if instruction is entrypoint:
                break
        else:
            parts.extend(quote(word) for word in argv)
    command = _substitute_build_values(" ".join(parts), dockerfile.env())
    line = shown.line
    return StartCommand(
        command,
        _at(dockerfile.path, line),
        dockerfile.path,
        line,
        "dockerfile-exec" if exec_only else "dockerfile",
    )


def _substitute_build_values(command: str, values: dict[str, tuple[str, int]]) -> str:
    """Replace `$NAME`/`${NAME}` set by the Dockerfile's ARG/ENV with their values.

    PORT is left alone: Railway sets it at run time, over any image default.
    """

    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name == "PORT" or name not in values or not values[name][0]:
            return match.group(0)
        return values[name][0]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", replace, command)


def _at(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


@dataclass
class ServerRun:
    """The command that serves the app, and what runs before it."""

    kind: str  # gunicorn, waitress, uwsgi, uvicorn, hypercorn, flask-run, python-file, python-module, manage
    command: SimpleCommand
    argv: list[str]  # the server's own arguments, without the program
    before: list[SimpleCommand] = field(default_factory=list)
    script: str | None = None  # repo path of the shell script it came from
    gunicorn: GunicornArgs | None = None
    target: str | None = None
    cwd: str = "."  # relative to the app root
    # False for an exec-form Docker CMD: no shell runs, so `$PORT` reaches the server as text.
    expands_variables: bool = True


def classify(command: SimpleCommand) -> tuple[str, list[str]] | None:
    """What kind of server a simple command starts, and its arguments."""
    argv = command.argv
    program = command.program
    if _PYTHON.match(program) and len(argv) > 1:
        rest = [word for word in argv[1:]]
        while rest and rest[0] in ("-u", "-O", "-B", "-OO", "-E", "-s", "-S"):
            rest = rest[1:]
        if len(rest) >= 2 and rest[0] == "-m":
            module, args = rest[1], rest[2:]
            if module in WSGI_SERVERS:
                return classify(SimpleCommand([module, *args], command.assignments, command.cwd))
            if module == "flask":
                return classify(SimpleCommand(["flask", *args], command.assignments, command.cwd))
            return "python-module", rest[1:]
        if rest and rest[0].endswith(".py"):
            if posixpath.basename(rest[0]) == "manage.py" and "runserver" in rest[1:]:
                return "manage", rest
            return "python-file", rest
        return None
    if program == "gunicorn":
        return "gunicorn", argv[1:]
    if program == "waitress-serve":
        return "waitress", argv[1:]
    if program in ("uwsgi", "uvicorn", "hypercorn"):
        return program, argv[1:]
    if program == "flask" and "run" in _flask_subcommand(argv[1:]):
        return "flask-run", argv[1:]
    return None


def _flask_subcommand(args: list[str]) -> list[str]:
    """Words of a `flask` command after its global options (`--app X`, `-A X`, `--debug`)."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("--app", "-A", "-e", "--env-file"):
            i += 2
        else:
            i += 1
    return args[i:]


def flask_app_option(args: list[str]) -> str | None:
    for i, word in enumerate(args):
        if word in ("--app", "-A") and i + 1 < len(args):
            return args[i + 1]
        if word.startswith("--app="):
            return word.split("=", 1)[1]
    return None


def find_server_run(project: Project, start: StartCommand, depth: int = 0) -> ServerRun | None:
    """The last command of the start command (or the script it runs) that starts a server."""
    try:
        if start.kind == "dockerfile-exec":
            # Exec form runs without a shell: words are final and `$PORT` stays
            # literal, unless the words themselves start a shell (`sh -c`).
            commands = unwrap([w for w in tokenize(start.command) if not w.startswith("\0")], ".", expanded=False)
        else:
            commands = parse_chain(start.command)
    except ShellSyntaxError:
        return None
    run = _server_in(project, commands, None, depth)
    if run is not None:
        run.expands_variables = run.command.expanded
    return run


def _server_in(project: Project, commands: list[SimpleCommand], script: str | None, depth: int) -> ServerRun | None:
    found: ServerRun | None = None
    for index, command in enumerate(commands):
        kind_args = classify(command)
        script_path = _script_of(project, command)
        if script_path and depth < 3:
            text = project.read_text(script_path)
            if text is not None:
                try:
                    inner = _with_script_args(parse_chain(text, command.cwd), command)
                except ShellSyntaxError:
                    inner = []
                run = _server_in(project, inner, script_path, depth + 1)
                if run is not None:
                    run.before = [*commands[:index], *run.before]
                    found = run
                continue
        if kind_args is None:
            continue
        kind, args = kind_args
        run = ServerRun(kind, command, args, list(commands[:index]), script, cwd=command.cwd)
        if kind == "gunicorn":
            run.gunicorn = parse_gunicorn_args(args)
            run.target = run.gunicorn.target
        elif kind in ("waitress", "uvicorn", "hypercorn"):
            positional = [word for word in args if not word.startswith("-")]
            run.target = positional[-1] if positional else None
        elif kind == "uwsgi":
            run.target = _uwsgi_target(args)
        found = run
    return found


def _script_args(command: SimpleCommand) -> list[str]:
    """The arguments a script receives: `sh boot.sh a b` and `./boot.sh a b` both pass `a b`."""
    argv = command.argv
    return argv[2:] if command.program in ("sh", "bash", "dash", "zsh") else argv[1:]


def _with_script_args(commands: list[SimpleCommand], caller: SimpleCommand) -> list[SimpleCommand]:
    """Substitute `"$@"` with the arguments `caller` gives the script: a Docker ENTRYPOINT script
    that ends in `exec "$@"` runs the image's CMD, so that CMD is the server. The arguments are
    passed on as they are: expanded only if the caller's shell expanded them."""
    args = _script_args(caller)
    found: list[SimpleCommand] = []
    for command in commands:
        if not any(word in _ALL_ARGS for word in command.argv):
            found.append(command)
            continue
        words = [new for word in command.argv for new in (args if word in _ALL_ARGS else [word])]
        for inner in unwrap(words, command.cwd, caller.expanded):
            inner.assignments = {**command.assignments, **inner.assignments}
            found.append(inner)
    return found


def commands_run(project: Project, text: str, depth: int = 0) -> list[SimpleCommand]:
    """Every simple command a command line runs, descending into the shell scripts it runs."""
    try:
        commands = parse_chain(text)
    except ShellSyntaxError:
        return []
    return _expand_scripts(project, commands, depth)


def _expand_scripts(project: Project, commands: list[SimpleCommand], depth: int) -> list[SimpleCommand]:
    found: list[SimpleCommand] = []
    for command in commands:
        found.append(command)
        script_path = _script_of(project, command)
        text = project.read_text(script_path) if script_path and depth < 3 else None
        if text is None:
            continue
        try:
            inner = _with_script_args(parse_chain(text, command.cwd), command)
        except ShellSyntaxError:
            continue
        found.extend(_expand_scripts(project, inner, depth + 1))
    return found


def _uwsgi_target(args: list[str]) -> str | None:
    for i, word in enumerate(args):
        if word in ("--module", "-w", "--wsgi") and i + 1 < len(args):
            return args[i + 1]
        if word.startswith(("--module=", "--wsgi=")):
            return word.split("=", 1)[1]
    return None


def _script_of(project: Project, command: SimpleCommand) -> str | None:
    """The repo path of a shell script the command runs (`./start.sh`, `sh boot.sh`, or an executable
    file of the repository with a shell shebang, such as `bin/docker-entrypoint-web`)."""
    argv = command.argv
    candidate = None
    if command.program in ("sh", "bash", "dash", "zsh") and len(argv) > 1 and not argv[1].startswith("-"):
        candidate = argv[1]
    elif argv and (argv[0].endswith(".sh") or "/" in argv[0]):
        candidate = argv[0]
    if candidate is None:
        return None
    path = project.app_path(posixpath.join(command.cwd, in_repository(project, candidate)))
    if path not in project.files.paths:
        return None
    if path.endswith(".sh") or command.program in ("sh", "bash", "dash", "zsh"):
        return path
    first_line = (project.read_text(path) or "").split("\n", 1)[0]
    return path if _SHELL_SHEBANG.match(first_line) else None


def in_repository(project: Project, path: str) -> str:
    """A script's container path as a path in the repository: under the image's WORKDIR (where
    `COPY . .` puts the repository) or Railway's /app, the rest; anything else unchanged."""
    if not path.startswith("/"):
        return path
    dockerfile = project.dockerfile
    workdirs = [i.value.strip() for i in dockerfile.final_stage() if i.keyword == "WORKDIR"] if dockerfile else []
    for root in [*reversed(workdirs), "/app"]:
        prefix = root.rstrip("/") + "/"
        if root.startswith("/") and path.startswith(prefix):
            return path[len(prefix) :]
    return path
