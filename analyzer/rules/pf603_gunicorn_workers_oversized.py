from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from analyzer.gunicorn import read_gunicorn_conf
from analyzer.project import Project
from analyzer.pysource import PyModule
from analyzer.pyvalues import env_read, literal, shell_string
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import parameters
from analyzer.startcmd import ServerRun, uses_docker

MAX_WORKERS = 4
CPU_COUNTS = frozenset(
    {"multiprocessing.cpu_count", "os.cpu_count", "os.process_cpu_count", "psutil.cpu_count", "joblib.cpu_count"}
)
CPU_IN_SHELL = re.compile(r"\bnproc\b|cpu_count|_NPROCESSORS_ONLN|/proc/cpuinfo")

APP = "from flask import Flask\napp = Flask(__name__)\n"


@dataclass
class Verdict:
    what: str  # "the CPU count" or "9"
    shown: str  # the expression as written
    fallback_of: str | None = None  # the variable whose absence selects this value


class GunicornWorkersOversized(Rule):
    """
    ## What it does
    Flags a gunicorn worker count that comes from the CPU count
    (`multiprocessing.cpu_count()`, `os.cpu_count()`, `$(nproc)`), in
    `gunicorn.conf.py` or on the command line, or that is a literal above 4
    (`-w 9`, `workers = 8`, `WEB_CONCURRENCY=8` in the image).

    ## Why is this bad?
    The CPU count is the host's, not the container's limit: on a Railway
    machine `cpu_count() * 2 + 1` can mean dozens of workers. Each gunicorn
    worker is a full copy of the app in memory, and Railway bills per GB of
    memory used; a small service runs out of memory or costs many times what it
    needs.

    ## Example
    ```python
    # gunicorn.conf.py
    import multiprocessing

    workers = multiprocessing.cpu_count() * 2 + 1
    ```

    ## Use instead
    ```python
    # gunicorn.conf.py
    import os

    workers = int(os.environ.get("WEB_CONCURRENCY", 2))
    ```

    ## How to fix
    Set `workers = int(os.environ.get("WEB_CONCURRENCY", 2))` in gunicorn.conf.py (or drop `-w` from the command) and raise `WEB_CONCURRENCY` in Railway's Variables only when the memory graph allows it.

    ## References
    - gunicorn: settings, `workers` and `WEB_CONCURRENCY`
    - Railway: Pricing (memory per GB)
    """

    id = "PF603"
    slug = "gunicorn-workers-oversized"
    severity = Severity.MEDIUM
    title = "Gunicorn worker count too high"

    def check(self, project: Project) -> Iterator[Finding]:
        run = project.server_run
        if run is None or run.kind != "gunicorn" or run.gunicorn is None:
            return
        env = _image_env(project)
        env.update({name: (value, None, None) for name, value in run.command.assignments.items()})
        word = run.gunicorn.last("--workers")
        if word is not None:
            verdict = _judge_word(word, project, env)
            if verdict is not None:
                path, line = _command_location(project, run, word)
                source = run.script or project.start_command.source
                yield self._finding(verdict, f"`--workers {word}` in the start command, {source}", path, line)
            return
        conf_path = _conf_path(project, run)
        module = project.python(conf_path) if conf_path in project.files.paths else None
        setting = read_gunicorn_conf(module).get("workers") if module is not None else None
        if setting is not None:
            verdict = _judge_expression(setting.node, module, project, env)
            if verdict is not None:
                where = f"`workers = {verdict.shown}` in {conf_path}:{setting.line}"
                yield self._finding(verdict, where, conf_path, setting.line)
            return
        if "WEB_CONCURRENCY" in env:
            value, path, line = env["WEB_CONCURRENCY"]
            verdict = _judge_word(value, project, {})
            if verdict is not None:
                where = f"`WEB_CONCURRENCY={value}`, {f'{path}:{line}' if path else project.start_command.source}"
                yield self._finding(
                    verdict, where, path or project.start_command.path, line or project.start_command.line
                )

    def _finding(self, verdict: Verdict, where: str, path: str | None, line: int | None) -> Finding:
        if verdict.what == "the CPU count":
            count = "gunicorn's worker count comes from the CPU count"
            why = "it counts the host's cores, not the container's limit"
        else:
            count = f"gunicorn runs {verdict.what} workers"
            why = f"more than {MAX_WORKERS}"
        unset = f" whenever `{verdict.fallback_of}` is unset (Railway does not set it)" if verdict.fallback_of else ""
        return self.finding(
            f"{count} ({where}){unset}: {why}, and each worker is a full copy of the app in memory, billed per GB",
            path,
            line,
            subject="workers",
        )

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "gunicorn.conf.py": 'import os\n\nworkers = int(os.environ.get("WEB_CONCURRENCY", 2))\nthreads = 4\n',
                "app.py": APP,
            }
        ),
        Example({"Procfile": "web: gunicorn -w 4 --threads 8 app:app\n", "app.py": APP}),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn --workers ${WEB_CONCURRENCY:-3} app:app"\n',
                "app.py": APP,
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn -c gunicorn.conf.py -w 2 app:app\n",
                "gunicorn.conf.py": "import multiprocessing\n\nworkers = multiprocessing.cpu_count() * 2 + 1\n",
                "app.py": APP,
            },
            note="the command line overrides the config file",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "gunicorn.conf.py": "import multiprocessing\n\nworkers = min(multiprocessing.cpu_count() * 2 + 1, 4)\n",
                "app.py": APP,
            },
            note="capped at 4",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "gunicorn.conf.py": (
                    "import multiprocessing\nimport os\n\n"
                    'workers = int(os.getenv("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))\n'
                ),
                "app.py": APP,
            },
            platform={"variables": ["WEB_CONCURRENCY", "DATABASE_URL"]},
            note="the variable is set in Railway, so the CPU-count fallback is not used",
        ),
        Example(
            {
                "Procfile": "web: ./start.sh\n",
                "start.sh": "#!/bin/sh\nexec gunicorn app:app\n",
                "gunicorn.conf.py": "workers = 2\n",
                "app.py": APP,
            }
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "gunicorn.conf.py": "import multiprocessing as mp\n\nworkers = mp.cpu_count() * 2 + 1\n",
                "app.py": APP,
            },
            expect="comes from the CPU count (`workers = mp.cpu_count() * 2 + 1` in gunicorn.conf.py:3)",
        ),
        Example(
            {"Procfile": "web: gunicorn -w $(nproc) --bind 0.0.0.0:$PORT app:app\n", "app.py": APP},
            expect="`--workers $(nproc)` in the start command, Procfile:1",
        ),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "gunicorn --workers=9 wsgi:app"}}',
                "wsgi.py": APP,
            },
            expect="gunicorn runs 9 workers (`--workers 9` in the start command, railway.json:1)",
        ),
        Example(
            {
                "Procfile": "web: bash bin/web.sh\n",
                "bin/web.sh": (
                    "#!/bin/bash\nset -e\nflask db upgrade\n"
                    'exec gunicorn "app:create_app()" --workers "$(python -c \'import os; print(os.cpu_count())\')"\n'
                ),
                "app.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
            },
            expect="CPU count",
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12-slim\nENV WEB_CONCURRENCY=8\nCMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
                "app.py": APP,
            },
            expect="gunicorn runs 8 workers (`WEB_CONCURRENCY=8`, Dockerfile:2)",
        ),
        Example(
            {
                "backend/Procfile": "web: gunicorn -c config/gunicorn.py wsgi:app\n",
                "backend/config/gunicorn.py": (
                    "import os\nfrom multiprocessing import cpu_count\n\n_cores = cpu_count()\n"
                    'workers = int(os.environ.get("WEB_CONCURRENCY", _cores * 2 + 1))\n'
                ),
                "backend/wsgi.py": APP,
            },
            app_root="backend",
            expect="whenever `WEB_CONCURRENCY` is unset",
        ),
        Example(
            {"Procfile": "web: gunicorn app:app\n", "gunicorn.conf.py": "workers = 8\n", "app.py": APP},
            expect="gunicorn runs 8 workers (`workers = 8` in gunicorn.conf.py:1)",
        ),
    ]


def _image_env(project: Project) -> dict[str, tuple[str, str | None, int | None]]:
    """Variables the image sets: name -> (value, path, line)."""
    if not uses_docker(project):
        return {}
    dockerfile = project.dockerfile
    return {name: (value, dockerfile.path, line) for name, (value, line) in dockerfile.env().items()}


def _judge_word(word: str, project: Project, env: dict) -> Verdict | None:
    """A worker count as a shell word: `9`, `$(nproc)`, `${WEB_CONCURRENCY:-9}`."""
    if CPU_IN_SHELL.search(word):
        return Verdict("the CPU count", word)
    expansions = parameters(word)
    if len(expansions) == 1 and re.fullmatch(r"\$\{?[A-Za-z_][A-Za-z0-9_]*(:?-[^}]*)?\}?", word):
        name, default = expansions[0]
        if name in env:
            verdict = _judge_word(env[name][0], project, {})
            return Verdict(verdict.what, word) if verdict is not None else None
        if project.platform.has_variable(name) or default is None:
            return None
        verdict = _judge_word(default, project, {})
        return Verdict(verdict.what, word, fallback_of=name) if verdict is not None else None
    if word.isdigit() and int(word) > MAX_WORKERS:
        return Verdict(word, word)
    return None


def _judge_expression(node: cst.BaseExpression, module: PyModule, project: Project, env: dict) -> Verdict | None:
    shown = module.code(node)
    inner = node
    if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "int" and inner.args:
        inner = inner.args[0].value
    read = env_read(inner, module)
    if read is None and isinstance(inner, cst.BooleanOperation) and isinstance(inner.operator, cst.Or):
        read = env_read(inner.left, module)
        if read is not None:
            read.default = inner.right
    if read is not None:
        if read.name in env:
            verdict = _judge_word(env[read.name][0], project, {})
            return Verdict(verdict.what, shown) if verdict is not None else None
        if project.platform.has_variable(read.name) or read.default is None:
            return None
        verdict = _judge_expression(read.default, module, project, env)
        return Verdict(verdict.what, shown, fallback_of=read.name) if verdict is not None else None
    if _capped(inner):
        return None
    if _counts_cpus(inner, module, 0):
        return Verdict("the CPU count", shown)
    value = literal(inner)
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_WORKERS:
        return Verdict(str(value), shown)
    rendered = shell_string(node, module)
    return _judge_word(rendered, project, env) if rendered is not None and not rendered.isdigit() else None


def _capped(node: cst.BaseExpression) -> bool:
    """`min(cpu_count() * 2 + 1, 4)`: the cap is what counts."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "min"):
        return False
    caps = [literal(arg.value) for arg in node.args]
    return any(isinstance(cap, int) and cap <= MAX_WORKERS for cap in caps)


def _counts_cpus(node: cst.CSTNode, module: PyModule, depth: int) -> bool:
    if isinstance(node, cst.Call) and module.qualified_names(node.func) & CPU_COUNTS:
        return True
    if isinstance(node, cst.Name) and depth < 3:
        binding = module.bindings.get(node.value)
        if binding is not None and binding.kind == "assign" and binding.value is not None:
            return _counts_cpus(binding.value, module, depth + 1)
    return any(_counts_cpus(child, module, depth) for child in node.children)


def _conf_path(project: Project, run: ServerRun) -> str:
    """The config file gunicorn loads: `-c FILE` (or `python:module`), else ./gunicorn.conf.py."""
    option = run.gunicorn.last("--config") if run.gunicorn else None
    if option and option.startswith("python:"):
        option = option.removeprefix("python:").replace(".", "/") + ".py"
    name = option.removeprefix("/app/") if option else "gunicorn.conf.py"
    return project.app_path(posixpath.join(run.cwd, name))


def _command_location(project: Project, run: ServerRun, word: str) -> tuple[str | None, int | None]:
    start = project.start_command
    if run.script is None:
        return start.path, start.line
    text = project.read_text(run.script) or ""
    line = next((number for number, raw in enumerate(text.splitlines(), 1) if "gunicorn" in raw and word in raw), None)
    return run.script, line
