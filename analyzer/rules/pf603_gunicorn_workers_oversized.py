from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from analyzer.autofix import Fix
from analyzer.fixes.deployfiles import Span, TextEdit, apply_edits, command_spans, line_bounds, utf8_text
from analyzer.fixes.pycode import ModuleEdit
from analyzer.project import Project
from analyzer.pysource import PyModule
from analyzer.pyvalues import env_read, literal, shell_string
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import ShellSyntaxError, parameters, tokenize
from analyzer.startcmd import ServerRun, uses_docker

MAX_WORKERS = 4
DEFAULT_WORKERS = 2
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

    ## Fix safety
    In a config file the autofix sets `workers = int(os.environ.get("WEB_CONCURRENCY", 2))`;
    on the command line it drops `-w`/`--workers`, so gunicorn reads
    `WEB_CONCURRENCY` itself (1 worker when it is unset); an image's
    `ENV WEB_CONCURRENCY` is set to 2. Fewer workers serve fewer requests at
    once: set `WEB_CONCURRENCY` in Railway's Variables to what the memory graph
    allows.

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
                finding = self._finding(verdict, f"`--workers {word}` in the start command, {source}", path, line)
                finding.fix = _drop_option(project, run, word)
                yield finding
            return
        conf_path = project.gunicorn_conf_path
        setting = project.gunicorn_conf.get("workers")
        if setting is not None:
            verdict = _judge_expression(setting.node, project.python(conf_path), project, env)
            if verdict is not None:
                where = f"`workers = {verdict.shown}` in {conf_path}:{setting.line}"
                finding = self._finding(verdict, where, conf_path, setting.line)
                finding.fix = _conf_fix(project, conf_path, setting.node)
                yield finding
            return
        if "WEB_CONCURRENCY" in env:
            value, path, line = env["WEB_CONCURRENCY"]
            verdict = _judge_word(value, project, {})
            if verdict is not None:
                where = f"`WEB_CONCURRENCY={value}`, {f'{path}:{line}' if path else project.start_command.source}"
                finding = self._finding(
                    verdict, where, path or project.start_command.path, line or project.start_command.line
                )
                finding.fix = _env_fix(project, run, value, path, line)
                yield finding

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
            fixed={"gunicorn.conf.py": 'import os\n\nworkers = int(os.environ.get("WEB_CONCURRENCY", 2))\n'},
            note="the import only the old value used goes too",
        ),
        Example(
            {"Procfile": "web: gunicorn -w $(nproc) --bind 0.0.0.0:$PORT app:app\n", "app.py": APP},
            expect="`--workers $(nproc)` in the start command, Procfile:1",
            fixed={"Procfile": "web: gunicorn --bind 0.0.0.0:$PORT app:app\n"},
        ),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "gunicorn --workers=9 wsgi:app"}}',
                "wsgi.py": APP,
            },
            expect="gunicorn runs 9 workers (`--workers 9` in the start command, railway.json:1)",
            fixed={"railway.json": '{"deploy": {"startCommand": "gunicorn wsgi:app"}}'},
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
            fixed={"bin/web.sh": '#!/bin/bash\nset -e\nflask db upgrade\nexec gunicorn "app:create_app()"\n'},
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12-slim\nENV WEB_CONCURRENCY=8\nCMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n',
                "app.py": APP,
            },
            expect="gunicorn runs 8 workers (`WEB_CONCURRENCY=8`, Dockerfile:2)",
            fixed={
                "Dockerfile": 'FROM python:3.12-slim\nENV WEB_CONCURRENCY=2\nCMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n'
            },
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
            fixed={
                "backend/config/gunicorn.py": (
                    "import os\nfrom multiprocessing import cpu_count\n\n_cores = cpu_count()\n"
                    'workers = int(os.environ.get("WEB_CONCURRENCY", 2))\n'
                )
            },
        ),
        Example(
            {"Procfile": "web: gunicorn app:app\n", "gunicorn.conf.py": "workers = 8\n", "app.py": APP},
            expect="gunicorn runs 8 workers (`workers = 8` in gunicorn.conf.py:1)",
            fixed={"gunicorn.conf.py": 'import os\n\nworkers = int(os.environ.get("WEB_CONCURRENCY", 2))\n'},
        ),
        Example(
            {
                "Procfile": "web: gunicorn -c gunicorn_config.py 'shop:create_app()'\r\n",
                "gunicorn_config.py": (
                    '"""gunicorn settings."""\r\nimport multiprocessing\r\n\r\n'
                    'bind = "0.0.0.0:8000"\r\n'
                    "workers = multiprocessing.cpu_count() * 2 + 1  # the docs' rule of thumb\r\n"
                    "timeout = 120\r\n"
                ),
                "shop/__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
            },
            expect="comes from the CPU count",
            fixed={
                "gunicorn_config.py": (
                    '"""gunicorn settings."""\r\nimport os\r\n\r\nbind = "0.0.0.0:8000"\r\n'
                    'workers = int(os.environ.get("WEB_CONCURRENCY", 2))  # the docs\' rule of thumb\r\n'
                    "timeout = 120\r\n"
                )
            },
            note="Windows line endings, a docstring and a comment next to the edit",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                    'CMD ["gunicorn", "-w", "8", "--bind", "0.0.0.0:8000", "wsgi:app"]\n'
                ),
                "wsgi.py": APP,
            },
            expect="gunicorn runs 8 workers",
            fixed={
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                    'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "wsgi:app"]\n'
                )
            },
        ),
        Example(
            {"Procfile": "web: WEB_CONCURRENCY=12 gunicorn app:app\n", "app.py": APP},
            expect="gunicorn runs 12 workers",
            fixed={"Procfile": "web: gunicorn app:app\n"},
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


def _command_location(project: Project, run: ServerRun, word: str) -> tuple[str | None, int | None]:
    start = project.start_command
    if run.script is None:
        return start.path, start.line
    text = project.read_text(run.script) or ""
    line = next((number for number, raw in enumerate(text.splitlines(), 1) if "gunicorn" in raw and word in raw), None)
    return run.script, line


# -- fixes -------------------------------------------------------------------------------

_SHELL_STOP = frozenset(" \t\r\n;&|<>()")
_DROPPED = (
    f"gunicorn then runs `WEB_CONCURRENCY` workers, or 1 (its default) when the variable is unset; set "
    f"`WEB_CONCURRENCY` in Railway's Variables (start with {DEFAULT_WORKERS}) and raise it only while the memory "
    "graph allows. Fewer workers serve fewer requests at once."
)


def _conf_fix(project: Project, path: str, node: cst.BaseExpression) -> Fix | None:
    """`workers = int(os.environ.get("WEB_CONCURRENCY", 2))` in place of the value, with `import os`."""
    edit = ModuleEdit.of(project, path)
    if edit is None:
        return None
    os_name = edit.os_name()
    if os_name is None:
        return None
    edit.replace(node, f"int({os_name}.environ.get({edit.string('WEB_CONCURRENCY', node)}, {DEFAULT_WORKERS}))")
    return edit.fix(
        f"Read `workers` from WEB_CONCURRENCY in {path}",
        f"gunicorn then runs {DEFAULT_WORKERS} workers unless `WEB_CONCURRENCY` is set in Railway's Variables; "
        "raise it only while the memory graph allows. Fewer workers serve fewer requests at once.",
    )


def _drop_option(project: Project, run: ServerRun, word: str) -> Fix | None:
    """The start command without `-w WORD` / `--workers=WORD`, wherever it is written."""
    start = project.start_command
    if start is None:
        return None
    edits = []
    for span in command_spans(project, start, run):
        text = utf8_text(project, span.path) or ""
        edits.extend(_option_places(text, span, word))
    if len(edits) != 1:
        return None
    changes = apply_edits(project, edits)
    if not changes:
        return None
    return Fix(f"Drop the worker count from the gunicorn command in {edits[0].path}", _DROPPED, changes)


def _option_places(text: str, span: Span, word: str) -> list[TextEdit]:
    if span.kind == "exec":
        pattern = re.compile(r'\s*,\s*(?:"(?:-w|--workers)"\s*,\s*"([^"\\]*)"|"(?:-w|--workers=)([^"\\]*)")')
        return [
            TextEdit(span.path, match.start(), match.end(), "")
            for match in pattern.finditer(text, span.start, span.end)
            if (match.group(1) if match.group(1) is not None else match.group(2)) == word
        ]
    places = []
    for match in re.compile(r"[ \t]+(?:-w|--workers)(?:=|[ \t]+)?").finditer(text, span.start, span.end):
        end = _word_end(text, match.end(), span.end)
        if end == match.end() or not _reads_as(text[match.end() : end], word, span.kind):
            continue
        places.append(TextEdit(span.path, match.start(), end, ""))
    return places


def _env_fix(project: Project, run: ServerRun, value: str, path: str | None, line: int | None) -> Fix | None:
    """A Dockerfile `ENV WEB_CONCURRENCY=...` set to 2; a `WEB_CONCURRENCY=...` command prefix dropped."""
    if path is None:
        start = project.start_command
        edits = []
        for span in command_spans(project, start, run) if start is not None else []:
            text = utf8_text(project, span.path) or ""
            for match in re.compile(r"(?<![^\s'\"])WEB_CONCURRENCY=").finditer(text, span.start, span.end):
                end = _word_end(text, match.end(), span.end)
                if _reads_as(text[match.end() : end], value, span.kind):
                    blanks = re.compile(r"[ \t]+").match(text, end)
                    edits.append(TextEdit(span.path, match.start(), blanks.end() if blanks else end, ""))
        changes = apply_edits(project, edits) if len(edits) == 1 else None
        return Fix(f"Drop `WEB_CONCURRENCY={value}` from {edits[0].path}", _DROPPED, changes) if changes else None
    text = utf8_text(project, path)
    bounds = line_bounds(text, line or 0) if text is not None else None
    if bounds is None:
        return None
    pattern = re.compile(rf"""(?<![\w$])WEB_CONCURRENCY(=|[ \t]+)(["']?){re.escape(value)}\2(?=\s|$)""")
    matches = list(pattern.finditer(text, bounds[0], bounds[1]))
    if len(matches) != 1:
        return None
    match = matches[0]
    written = f"WEB_CONCURRENCY{match.group(1)}{match.group(2)}{DEFAULT_WORKERS}{match.group(2)}"
    return Fix(
        f"Set WEB_CONCURRENCY to {DEFAULT_WORKERS} in {path}",
        f"gunicorn then runs {DEFAULT_WORKERS} workers unless `WEB_CONCURRENCY` is set in Railway's Variables "
        "(they override the image's ENV); raise it only while the memory graph allows.",
        {path: text[: match.start()] + written + text[match.end() :]},
    )


def _word_end(text: str, index: int, limit: int) -> int:
    """Where the shell word starting at `index` ends: quotes, escapes and `$(...)` / `${...}` kept whole."""
    while index < limit and text[index] not in _SHELL_STOP:
        char = text[index]
        if char == "\\":
            index += 2
        elif char == "'":
            close = text.find("'", index + 1, limit)
            index = limit if close < 0 else close + 1
        elif char == '"':
            index += 1
            while index < limit and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
            index += 1
        elif char == "$" and text[index + 1 : index + 2] in ("(", "{"):
            opening, closing = text[index + 1], ")" if text[index + 1] == "(" else "}"
            depth, index = 0, index + 1
            while index < limit:
                depth += (text[index] == opening) - (text[index] == closing)
                index += 1
                if depth == 0:
                    break
        else:
            index += 1
    return min(index, limit)


def _reads_as(written: str, word: str, kind: str) -> bool:
    """Whether the text as written is the shell word `word` (simple words only inside JSON/TOML/YAML strings)."""
    if kind != "shell":
        return written == word and not re.search(r"[\\\"']", written)
    try:
        return tokenize(written) == [word]
    except ShellSyntaxError:
        return False
