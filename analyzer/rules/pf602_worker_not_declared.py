from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from analyzer.files import QuickParse, ast_last_name
from analyzer.project import Project
from analyzer.pysource import PyModule, module_level_statements
from analyzer.pyvalues import literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import SimpleCommand
from analyzer.startcmd import commands_run

CELERY_APPS = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
CELERY_SHARED_TASKS = frozenset({"celery.shared_task", "celery.app.shared_task"})
RQ_QUEUES = frozenset({"rq.Queue", "rq.queue.Queue"})
RQ_ENQUEUE = frozenset({"enqueue", "enqueue_call", "enqueue_in", "enqueue_at"})
DRAMATIQ_ACTORS = frozenset({"dramatiq.actor"})
SCHEDULER = re.compile(r"^apscheduler\.schedulers\.\w+\.\w*Scheduler$|^flask_apscheduler\.(scheduler\.)?APScheduler$")
# Runners that start every process of a Procfile, or a whole process tree, inside one service.
PROCESS_MANAGERS = frozenset({"honcho", "foreman", "supervisord", "overmind", "circusd"})
WORKER_PROGRAMS = {"celery": "celery", "rq": "rq", "rqworker": "rq", "rqscheduler": "rq", "dramatiq": "dramatiq"}

APP = "from flask import Flask\napp = Flask(__name__)\n"


@dataclass
class Work:
    kind: str  # celery, rq, dramatiq, apscheduler, loop
    what: str  # the message, with `{where}` for the path and line
    path: str
    line: int


class WorkerNotDeclared(Rule):
    """
    ## What it does
    Flags background work in the code — a Celery app with tasks, an RQ queue
    that jobs are enqueued on, Dramatiq actors, an APScheduler scheduler that is
    started, a `while True` loop script — when the platform settings do not say
    a worker service exists and the start command does not run it.

    ## Why is this bad?
    Railway runs one process per service: the start command. A Procfile
    `worker:` line next to `web:` is never started, so tasks are queued and
    never run (e-mails not sent, reports never built) and nothing in the logs
    says so.

    ## Example
    ```
    # Procfile
    web: gunicorn wsgi:app
    worker: celery -A app.celery worker
    ```

    ## Use instead
    ```
    # a second Railway service from the same repository, start command:
    celery -A app.celery worker --loglevel=info
    ```

    ## How to fix
    Add a second service from the same repository whose start command runs the worker (a Railway cron schedule for periodic jobs), and tell Preflight it exists (`worker_service`).

    ## References
    - Railway: Services, monorepos and multiple services from one repo
    - Railway: Cron jobs
    """

    id = "PF602"
    slug = "worker-not-declared"
    severity = Severity.MEDIUM
    title = "Background worker not deployed"

    def check(self, project: Project) -> Iterator[Finding]:
        if project.platform.worker_service:
            return
        found = [*_celery(project), *_rq(project), *_dramatiq(project), *_apscheduler(project), *_loops(project)]
        if not found:
            return
        started = _started_in_service(project)
        if "all" in started:
            return
        procfile = project.procfile
        start = project.start_command
        unstarted = [
            entry
            for entry in (procfile.entries if procfile is not None else [])
            if entry.name not in ("web", "release")
            and not (start is not None and start.path == procfile.path and start.line == entry.line)
        ]
        seen: set[str] = set()
        for work in found:
            subject = work.kind if work.kind != "loop" else f"loop:{work.path}"
            # `python loop.py` runs a loop script; `python app.py` that defines tasks runs no worker.
            script_started = work.kind == "loop" and f"script:{work.path}" in started
            if subject in seen or work.kind in started or script_started:
                continue
            seen.add(subject)
            message = work.what.replace("{where}", f"{work.path}:{work.line}")
            if unstarted:
                lines = ", ".join(f"`{entry.name}:` ({procfile.path}:{entry.line})" for entry in unstarted)
                message += f"; Railway never starts the Procfile's {lines}: it runs one process per service"
            yield self.finding(message, work.path, work.line, subject=subject)

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\nworker: celery -A app.celery worker\n",
                "app.py": APP + "from celery import Celery\n\ncelery = Celery(__name__)\n\n\n"
                "@celery.task\ndef send_mail(to):\n    pass\n",
            },
            platform={"worker_service": True},
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP + "from celery import Celery\n\ncelery = Celery(__name__, broker='redis://')\n",
            },
            note="a Celery app with no tasks",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP + "from rq import Queue\nfrom redis import Redis\n\nqueue = Queue(connection=Redis())\n",
            },
            note="a queue nothing is enqueued on",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP + "from apscheduler.schedulers.background import BackgroundScheduler\n\n"
                "scheduler = BackgroundScheduler()\nscheduler.add_job(print, 'interval', minutes=5)\n",
            },
            note="a scheduler that is never started",
        ),
        Example(
            {
                "Procfile": "web: honcho start -f Procfile.services\n",
                "Procfile.services": "web: gunicorn app:app\nworker: rq worker\n",
                "app.py": APP + "from redis import Redis\nfrom rq import Queue\n\nq = Queue(connection=Redis())\n"
                "q.enqueue(print, 'hi')\n",
            },
            note="honcho starts every process inside the one service",
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "python worker.py"\n',
                "worker.py": "import time\n\nfrom jobs import run_due\n\nwhile True:\n    run_due()\n    time.sleep(60)\n",
                "jobs.py": "def run_due():\n    pass\n",
            },
            note="this service is the worker",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP + "import time\n\n\ndef retry(call):\n    while True:\n        time.sleep(1)\n",
                "cli.py": "while True:\n    command = input('> ')\n    print(command)\n",
            },
            note="a loop inside a function, and an interactive prompt",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn 'myapp:create_app()'\nworker: celery -A myapp.celery_app worker\n",
                "myapp/__init__.py": (
                    "from celery import Celery, Task\nfrom flask import Flask\n\n\ndef celery_init_app(app):\n"
                    "    celery_app = Celery(app.name, task_cls=Task)\n    return celery_app\n\n\n"
                    "def create_app():\n    app = Flask(__name__)\n    celery_init_app(app)\n    return app\n"
                ),
                "myapp/tasks.py": (
                    "from celery import shared_task\n\n\n@shared_task(ignore_result=False)\ndef add(a, b):\n"
                    "    return a + b\n"
                ),
            },
            expect="Railway never starts the Procfile's `worker:` (Procfile:2)",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP
                + "from redis import Redis\nimport rq\n\nqueue = rq.Queue('default', connection=Redis())\n\n\n"
                "@app.post('/export')\ndef export():\n    queue.enqueue('jobs.export')\n    return ''\n",
            },
            expect="RQ jobs enqueued (app.py:11) and no worker service runs them",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP,
                "tasks.py": "import dramatiq\n\n\n@dramatiq.actor(max_retries=3)\ndef resize(image_id):\n    pass\n",
            },
            expect="Dramatiq actors",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'app:create_app()'\n",
                "app/extensions.py": "from flask_apscheduler import APScheduler\n\nscheduler = APScheduler()\n",
                "app/__init__.py": (
                    "from flask import Flask\n\nfrom .extensions import scheduler\n\n\ndef create_app():\n"
                    "    app = Flask(__name__)\n    scheduler.init_app(app)\n    scheduler.start()\n    return app\n"
                ),
            },
            expect="an APScheduler scheduler started",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\nworker: python scripts/poll_feeds.py\n",
                "app.py": APP,
                "scripts/poll_feeds.py": (
                    "import time\n\n\ndef poll():\n    pass\n\n\nif __name__ == '__main__':\n"
                    "    while True:\n        poll()\n        time.sleep(300)\n"
                ),
            },
            expect="`scripts/poll_feeds.py` loops forever (`while True`, scripts/poll_feeds.py:9)",
        ),
        Example(
            {
                "services/web/railway.toml": '[deploy]\nstartCommand = "gunicorn wsgi:app"\n',
                "services/web/wsgi.py": APP,
                "services/web/worker.py": (
                    "from celery import Celery as C\n\ncelery_app = C('web')\n\n\n"
                    "@celery_app.task(bind=True)\ndef ping(self):\n    return 'pong'\n"
                ),
            },
            app_root="services/web",
            platform={"worker_service": False},
            expect="Celery tasks",
        ),
        Example(
            {
                "Procfile": "web: python app.py\n",
                "app.py": (
                    "from celery import Celery\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "celery = Celery(app.name, broker='redis://localhost:6379/0')\n\n\n"
                    "@celery.task\ndef send(to):\n    pass\n\n\n"
                    "if __name__ == '__main__':\n    app.run(host='0.0.0.0')\n"
                ),
            },
            expect="Celery tasks (app.py:9)",
            note="`python app.py` starts the web app, not a worker for the tasks it defines",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\nclock: python clock.py\n",
                "app.py": APP,
                "clock.py": (
                    "from apscheduler.schedulers.blocking import BlockingScheduler\n\nsched = BlockingScheduler()\n\n\n"
                    "@sched.scheduled_job('cron', hour=3)\ndef nightly():\n    pass\n\n\nsched.start()\n"
                ),
            },
            expect="Railway never starts the Procfile's `clock:` (Procfile:2)",
            note="Heroku's clock process",
        ),
    ]


def _celery(project: Project) -> Iterator[Work]:
    needles = (b"Celery", b"shared_task")
    if not _constructs(_modules(project, needles, _imports("celery")), "Celery", CELERY_APPS):
        return
    for module in _modules(project, needles, _decorated_with({"task", "shared_task"})):
        for function in module.nodes_of(cst.FunctionDef):
            for decorator in function.decorators:
                node = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
                # Any `@<app>.task`: the Celery app is often built in a factory and imported under another name.
                bound = isinstance(node, cst.Attribute) and node.attr.value == "task"
                shared = _last_name(node) == "shared_task" and module.qualified_names(node) & CELERY_SHARED_TASKS
                if bound or shared:
                    yield Work(
                        "celery",
                        "Celery tasks ({where}) and no worker service runs them",
                        module.path,
                        module.line(function),
                    )
                    return


def _rq(project: Project) -> Iterator[Work]:
    if not _constructs(_modules(project, (b"Queue",), _imports("rq")), "Queue", RQ_QUEUES):
        return
    for module in _modules(project, (b".enqueue",), _calls_method(RQ_ENQUEUE)):
        for call in module.nodes_of(cst.Call):
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in RQ_ENQUEUE:
                yield Work(
                    "rq", "RQ jobs enqueued ({where}) and no worker service runs them", module.path, module.line(call)
                )
                return


def _dramatiq(project: Project) -> Iterator[Work]:
    for module in _modules(project, (b"dramatiq",), _imports("dramatiq")):
        for function in module.nodes_of(cst.FunctionDef):
            for decorator in function.decorators:
                node = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
                if _last_name(node) == "actor" and module.qualified_names(node) & DRAMATIQ_ACTORS:
                    yield Work(
                        "dramatiq",
                        "Dramatiq actors ({where}) and no worker service runs them",
                        module.path,
                        module.line(function),
                    )
                    return


def _apscheduler(project: Project) -> Iterator[Work]:
    schedulers: set[str] = set()
    for module in _modules(project, (b"cheduler",), _imports("apscheduler", "flask_apscheduler")):
        for target, value in _assignments(module):
            if (
                isinstance(value, cst.Call)
                and _original_name(module, value.func).endswith("Scheduler")
                and any(SCHEDULER.match(name) for name in module.qualified_names(value.func))
            ):
                schedulers.add(target)
    if not schedulers:
        return
    for module in _modules(project, (b"cheduler",), _calls_method({"start"})):
        for call in module.nodes_of(cst.Call):
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "start" and _last_name(func.value) in schedulers:
                yield Work(
                    "apscheduler",
                    "an APScheduler scheduler started ({where}) and no worker or cron service declared",
                    module.path,
                    module.line(call),
                )
                return


def _loops(project: Project) -> Iterator[Work]:
    """`while True` at the top of a script (or of the function its main guard calls); scripts sit outside any
    package and are not tests."""
    for path in project.python_paths_containing(b"while"):
        folder, name = posixpath.split(path)
        init = f"{folder}/__init__.py" if folder else "__init__.py"
        if name.startswith("test") or "tests" in path.split("/") or init in project.files.paths:
            continue
        if not _may_hold(project, path, _endless_loop):
            continue
        module = project.python(path)
        if module is None:
            continue
        loop = _top_loop(module)
        if loop is not None:
            yield Work(
                "loop",
                f"`{path}` loops forever (`while True`, " + "{where}) and no worker service runs it",
                path,
                module.line(loop),
            )


def _top_loop(module: PyModule) -> cst.While | None:
    statements = list(module_level_statements(module.tree, include_main=True))
    functions = {statement.name.value: statement for statement in statements if isinstance(statement, cst.FunctionDef)}
    for statement in statements:
        if _is_loop(statement):
            return statement
        if isinstance(statement, cst.SimpleStatementLine):
            for call in _nodes(statement, cst.Call):
                function = functions.get(call.func.value) if isinstance(call.func, cst.Name) else None
                body = function.body.body if function is not None else ()
                loop = next((inner for inner in body if _is_loop(inner)), None)
                if loop is not None:
                    return loop
    return None


def _is_loop(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.While) or literal(statement.test) not in (True, 1):
        return False
    # An interactive prompt (`input()`) is a console tool, not background work.
    return not any(
        isinstance(call.func, cst.Name) and call.func.value == "input" for call in _nodes(statement, cst.Call)
    )


def _started_in_service(project: Project) -> set[str]:
    """What the service's own start command runs: kinds of workers, `script:<path>`, or "all"."""
    start = project.start_command
    if start is None:
        return set()
    started: set[str] = set()
    for command in commands_run(project, start.command):
        started.update(_worker_kinds(project, command))
    return started


def _worker_kinds(project: Project, command: SimpleCommand) -> set[str]:
    argv = command.argv
    program = command.program
    if program.startswith("python") and len(argv) > 2 and argv[1] == "-m":
        argv, program = argv[2:], argv[2]
    if program in PROCESS_MANAGERS:
        return {"all"}
    if program in WORKER_PROGRAMS:
        return {WORKER_PROGRAMS[program]}
    if program == "flask" and "rq" in argv[1:]:
        return {"rq"}
    script = next((word for word in argv[1:] if not word.startswith("-")), "")
    if program.startswith("python") and script.endswith(".py"):
        return {f"script:{project.app_path(posixpath.join(command.cwd, script))}"}
    return set()


def _constructs(modules: list[PyModule], name: str, qualified: frozenset[str]) -> bool:
    """Whether any module calls `name(...)` resolving to one of the qualified names (the cheap name test first)."""
    return any(
        _original_name(module, call.func) == name and module.qualified_names(call.func) & qualified
        for module in modules
        for call in module.nodes_of(cst.Call)
    )


def _original_name(module: PyModule, node: cst.BaseExpression) -> str:
    """The name as its library spells it: `C` after `from celery import Celery as C` is `Celery`."""
    last = _last_name(node) or ""
    binding = module.bindings.get(last) if isinstance(node, cst.Name) else None
    if binding is not None and binding.kind == "import" and binding.imported_name:
        return binding.imported_name.rsplit(".", 1)[-1]
    return last


def _modules(project: Project, needles: tuple[bytes, ...], holds: Callable[[QuickParse], bool]) -> list[PyModule]:
    """The parsed modules that contain a needle and whose CPython tree `holds` what is looked for
    (the cheap tests first: libcst's parse and qualified names cost far more)."""
    return [
        module
        for path in project.python_paths_containing(*needles)
        if _may_hold(project, path, holds) and (module := project.python(path))
    ]


def _may_hold(project: Project, path: str, holds: Callable[[QuickParse], bool]) -> bool:
    quick = project.quick(path)
    return quick is None or quick.tree is None or holds(quick)


def _imports(*packages: str) -> Callable[[QuickParse], bool]:
    return lambda quick: quick.may_import(set(packages))


def _decorated_with(names: set[str]) -> Callable[[QuickParse], bool]:
    """A function with a decorator whose last name is one of `names` (`@app.task`, `@shared_task(...)`)."""

    def holds(quick: QuickParse) -> bool:
        return any(
            ast_last_name(decorator.func if isinstance(decorator, ast.Call) else decorator) in names
            for node in quick.nodes
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for decorator in node.decorator_list
        )

    return holds


def _calls_method(names: set[str] | frozenset[str]) -> Callable[[QuickParse], bool]:
    return lambda quick: any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names
        for node in quick.nodes
    )


def _endless_loop(quick: QuickParse) -> bool:
    return any(
        isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value in (True, 1)
        for node in quick.nodes
    )


def _nodes(tree: cst.CSTNode, kind: type | tuple[type, ...]) -> list:
    """Every node of a kind under `tree`, in source order (one visitor pass: `.children` is slow)."""
    found: list = []

    class Collector(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, kind):
                found.append(node)
            return True

    tree.visit(Collector())
    return found


def _assignments(module: PyModule) -> Iterator[tuple[str, cst.BaseExpression]]:
    """(last name of the target, value) of every assignment: `scheduler = ...`, `app.scheduler = ...`."""
    for node in module.nodes_of((cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        for target in targets:
            name = _last_name(target)
            if name and node.value is not None:
                yield name, node.value


def _last_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None
