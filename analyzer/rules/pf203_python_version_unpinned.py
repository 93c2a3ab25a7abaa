from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from analyzer.autofix import Fix
from analyzer.deps import poetry_specifier, version_key
from analyzer.fixes.deployfiles import line_bounds
from analyzer.fixes.textedit import newline_of
from analyzer.project import Project
from analyzer.pyversion import PIN_FILES, RAILPACK_DEFAULT, RAILPACK_OFFERED, PythonPin, _read_pin
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

PIN_FILE = ".python-version"
_CLAUSE = re.compile(r"^\s*(?P<op>~=|===|==|!=|<=|>=|<|>)\s*v?(?P<version>\d+(?:\.\d+)*)(?P<wild>\.\*)?\s*$")
APP = "from flask import Flask\n\napp = Flask(__name__)\n"
REQS = "flask==3.1.0\ngunicorn==23.0.0\n"
PROCFILE = "web: gunicorn app:app\n"


class PythonVersionUnpinned(Rule):
    """
    ## What it does
    Flags an app whose Python version is not pinned in a file the builder
    reads: `.python-version`, `.tool-versions`, `mise.toml`, `runtime.txt` or
    the Pipfile's `python_version` (for a Docker build, the `FROM python:X`
    tag). Also flags a pin Railpack does not offer (it builds the supported
    CPython releases from 3.10 on) and a pin file that does not parse.

    ## Why is this bad?
    Without a pin Railpack builds with its default Python, 3.13 since
    2025-09, and the default moves: the next deploy can run a Python the app
    was never tested on, and packages without wheels for it fail to build.
    `requires-python` in pyproject.toml (and Poetry's `python` constraint)
    does not count: Railpack never reads it.

    ## Example
    ```
    # pyproject.toml
    [project]
    requires-python = ">=3.11"
    ```

    ## Use instead
    ```
    # .python-version
    3.12
    ```

    ## How to fix
    Add a `.python-version` to the app root holding the Python version the app is tested on (`3.12`).

    ## Fix safety
    The autofix writes a `.python-version`: the lowest version `requires-python`
    allows that Railpack builds, else Railpack's current default (3.13), the
    version the app already gets. A pin Railpack does not build is moved, where
    it is written, to the nearest one it does, which changes the Python the app
    runs on: the fix is marked unsafe. A Dockerfile's `FROM` is left to you.

    ## References
    - Railpack: Python provider, versions (`.python-version`, `runtime.txt`, Pipfile, mise)
    - Python: status of Python versions (end-of-life dates)
    """

    id = "PF203"
    slug = "python-version-unpinned"
    severity = Severity.LOW
    title = "Python version unpinned"

    def check(self, project: Project) -> Iterator[Finding]:
        pins = project.python_pins
        if pins.docker_build:
            pin = pins.docker
            if pin is not None and not pin.parses:
                yield self.finding(
                    f"`{pin.raw}` does not pin a Python version: {pin.problem}",
                    pin.path,
                    pin.line,
                    subject="docker tag",
                )
            return
        low, high = RAILPACK_OFFERED
        for pin in pins.pins:
            if not pin.parses:
                finding = self.finding(
                    f"{pin.path} does not pin a Python version: {pin.problem}",
                    pin.path,
                    pin.line,
                    subject=f"{pin.source} unparsable",
                )
                finding.fix = _rewrite_pin(project, pin)
                yield finding
            elif pin.offered_by_railpack() is False:
                finding = self.finding(
                    f"{pin.path} pins Python {pin.version}, which Railpack does not offer "
                    f"(it builds {low[0]}.{low[1]} to {high[0]}.{high[1]})",
                    pin.path,
                    pin.line,
                    subject=f"{pin.source} not offered",
                )
                finding.fix = _rewrite_pin(project, pin)
                yield finding
        if pins.pins or pins.variable is not None:
            return
        message = f"no Python version pinned: Railpack builds with its default ({RAILPACK_DEFAULT} since 2025-09), which moves"
        path = line = None
        if pins.requires_python is not None:
            path, line, _spec, label = pins.requires_python
            message += f"; {label} in {path} does not count, because Railpack does not read it"
        outside = sorted(
            p for p in project.files.paths if posixpath.basename(p) in PIN_FILES[:-1] and not project.under_app_root(p)
        )
        if outside and project.app_root:
            message += f"; {outside[0]} is outside the app root `{project.app_root}`"
        finding = self.finding(message, path, line, subject="no python pin")
        finding.fix = _add_pin(project, outside)
        yield finding

    VALID = [
        Example({".python-version": "3.12\n", "requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP}),
        Example({"runtime.txt": "python-3.11.9\n", "requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP}),
        Example(
            {
                "Pipfile": '[packages]\nflask = "*"\ngunicorn = "*"\n\n[requires]\npython_version = "3.12"\n',
                "Procfile": PROCFILE,
                "app.py": APP,
            }
        ),
        Example(
            {
                ".tool-versions": "nodejs 20.11.0\npython 3.12.3\n",
                "requirements.txt": REQS,
                "Procfile": PROCFILE,
                "app.py": APP,
            }
        ),
        Example(
            {
                "mise.toml": '[tools]\npython = "3.13"\n',
                "pyproject.toml": '[project]\nname = "a"\nversion = "1"\nrequires-python = ">=3.12"\ndependencies = ["flask"]\n',
                "uv.lock": "version = 1\n",
                "app.py": APP,
            }
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
                    'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n'
                ),
                "requirements.txt": REQS,
                "app.py": APP,
            },
            note="a Dockerfile `FROM python:X` pins it for a Docker build",
        ),
        Example(
            {
                "Dockerfile": (
                    "ARG PYTHON_VERSION=3.12\nFROM python:${PYTHON_VERSION}-slim AS base\nWORKDIR /app\n"
                    "COPY requirements.txt .\nRUN pip install -r requirements.txt\n\nFROM base AS runtime\n"
                    "COPY . .\nCMD gunicorn app:app\n"
                ),
                "requirements.txt": REQS,
                "app.py": APP,
            },
            note="ARG default substituted, final stage built on an earlier one",
        ),
        Example(
            {"requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP},
            platform={"variables": ["RAILPACK_PYTHON_VERSION", "DATABASE_URL"]},
        ),
        Example(
            {"api/.python-version": "3.12.4\n", "api/requirements.txt": REQS, "api/app.py": APP},
            app_root="api",
        ),
    ]
    INVALID = [
        Example(
            {"requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP},
            expect="no Python version pinned: Railpack builds with its default (3.13",
            fixed={".python-version": "3.13\n"},
        ),
        Example(
            {
                "pyproject.toml": (
                    '[project]\nname = "shop"\nversion = "1.0"\nrequires-python = ">=3.11"\n'
                    'dependencies = ["flask", "gunicorn"]\n'
                ),
                "uv.lock": "version = 1\n",
                "Procfile": "web: gunicorn shop:app\n",
                "shop.py": APP,
            },
            expect='`requires-python = ">=3.11"` in pyproject.toml does not count, because Railpack does not read it',
            fixed={".python-version": "3.11\n"},
        ),
        Example(
            {
                "pyproject.toml": (
                    '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\n'
                    'python = "^3.11"\nflask = "^3.0"\ngunicorn = "^23.0"\n'
                ),
                "poetry.lock": "# lock\n",
                "shop/__init__.py": APP,
            },
            expect="Railpack does not read it",
            fixed={".python-version": "3.11\n"},
        ),
        Example(
            {"runtime.txt": "python-3.8.10\n", "requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP},
            expect="runtime.txt pins Python 3.8.10, which Railpack does not offer",
            fixed={"runtime.txt": "python-3.10\n"},
        ),
        Example(
            {".python-version": "system\n", "requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP},
            expect="`system` is not a Python version",
            fixed={".python-version": "3.13\n"},
        ),
        Example(
            {
                "Pipfile": '[packages]\nflask = "*"\ngunicorn = "*"\n\n[requires]\npython_version = "3.9"\n',
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            expect="Pipfile pins Python 3.9",
            fixed={"Pipfile": '[packages]\nflask = "*"\ngunicorn = "*"\n\n[requires]\npython_version = "3.10"\n'},
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
                    'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n'
                ),
                "requirements.txt": REQS,
                "app.py": APP,
            },
            expect="`python:latest` moves",
        ),
        Example(
            {".python-version": "3.12\n", "api/requirements.txt": REQS, "api/app.py": APP},
            app_root="api",
            expect=".python-version is outside the app root `api`",
            fixed={"api/.python-version": "3.12\n"},
        ),
        Example(
            {
                "pyproject.toml": (
                    '[project]\r\nname = "shop"\r\nversion = "1.0"\r\n'
                    'requires-python = ">=3.8, !=3.10.*, <4"  # CI runs 3.11\r\n'
                    'dependencies = ["flask", "gunicorn"]\r\n'
                ),
                "Procfile": "web: gunicorn shop:app\r\n",
                "shop.py": APP,
            },
            expect='`requires-python = ">=3.8, !=3.10.*, <4"`',
            fixed={".python-version": "3.11\n"},
            note="the lowest minor the specifier allows among those Railpack builds",
        ),
        Example(
            {".python-version": "3.8\r\n", "requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP},
            expect=".python-version pins Python 3.8, which Railpack does not offer",
            fixed={".python-version": "3.10\r\n"},
        ),
        Example(
            {
                "services/web/.python-version": "  # pyenv local\n\n",
                "services/web/requirements.txt": REQS,
                "services/web/Procfile": PROCFILE,
                "services/web/app.py": APP,
            },
            app_root="services/web",
            expect="the file is empty",
            fixed={"services/web/.python-version": "3.13\n"},
        ),
    ]


def _add_pin(project: Project, outside: list[str]) -> Fix | None:
    """A new `.python-version` in the app root: the version requires-python starts at, a pin left outside
    the app root, else Railpack's current default."""
    requires = project.python_pins.requires_python
    path = project.app_path(PIN_FILE)
    if requires is not None:
        _where, _line, spec, label = requires
        version = lowest_offered(spec, poetry=label.endswith("(Poetry)"))
        if version is None:
            return None
        return Fix(
            f"Pin Python {version} in {path}",
            f"Pins the lowest version {label} allows that Railpack builds; "
            "change it to the version the app is tested on if that is another one.",
            {path: f"{version}\n"},
        )
    for other in outside:
        pin = next((p for p in project.python_pins.pins if p.path == other), None) or _outside_pin(project, other)
        if pin is not None and pin.offered_by_railpack() and pin.minor is not None:
            version = f"{pin.minor[0]}.{pin.minor[1]}"
            return Fix(
                f"Pin Python {version} in {path}",
                f"Copies the version {other} pins into the app root, where Railpack looks for it.",
                {path: f"{version}\n"},
            )
    return Fix(
        f"Pin Python {RAILPACK_DEFAULT} in {path}",
        f"Pins Railpack's current default ({RAILPACK_DEFAULT}), the version the app is built with today; "
        "change it to the version the app is tested on if that is another one.",
        {path: f"{RAILPACK_DEFAULT}\n"},
    )


def _outside_pin(project: Project, path: str) -> PythonPin | None:
    text = project.read_text(path)
    return _read_pin(path, posixpath.basename(path), text) if text is not None else None


def _rewrite_pin(project: Project, pin: PythonPin) -> Fix | None:
    """A pin Railpack does not build moved to the nearest version it does, in place; a `.python-version`
    that does not parse rewritten like a new one."""
    data = project.raw(pin.path)
    try:
        text = data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        return None
    if text is None or text.startswith("\ufeff"):
        return None
    requires = project.python_pins.requires_python
    poetry = requires is not None and requires[3].endswith("(Poetry)")
    if pin.minor is None:
        if pin.source != PIN_FILE:
            return None
        version = lowest_offered(requires[2], poetry=poetry) if requires is not None else RAILPACK_DEFAULT
        if version is None:
            return None
        safety = (
            f"Pins the lowest version {requires[3]} allows that Railpack builds."
            if requires is not None
            else f"Pins Railpack's current default ({RAILPACK_DEFAULT}); change it to the version the app is tested on."
        )
        return Fix(f"Pin Python {version} in {pin.path}", safety, {pin.path: f"{version}{newline_of(text)}"})
    low, high = RAILPACK_OFFERED
    minor = min(max(pin.minor, low), high)
    if requires is not None and not _allows_minor(requires[2], minor, poetry=poetry):
        return None
    version = f"{minor[0]}.{minor[1]}"
    bounds = line_bounds(text, pin.line or 0)
    if bounds is None or pin.version not in text[bounds[0] : bounds[1]]:
        return None
    start = text.index(pin.version, bounds[0], bounds[1])
    safety = (
        f"This fix is unsafe because it moves the app from Python {pin.version} to {version}, the nearest "
        "version Railpack builds: run the tests on it first."
    )
    lock = posixpath.join(posixpath.dirname(pin.path), "Pipfile.lock")
    if pin.source == "Pipfile" and lock in project.files.paths:
        safety += f" Then run `pipenv lock`: the build refuses a {lock} that no longer matches the Pipfile."
    new = text[:start] + version + text[start + len(pin.version) :]
    return Fix(f"Pin Python {version} in {pin.path}", safety, {pin.path: new})


def lowest_offered(spec: str, *, poetry: bool = False) -> str | None:
    """The lowest minor version that `spec` allows and Railpack builds (`>=3.8` gives 3.10).

    None when there is none or the specifier cannot be read.
    """
    low, high = RAILPACK_OFFERED
    for minor in range(low[1], high[1] + 1):
        allowed = _allows_minor(spec, (low[0], minor), poetry=poetry)
        if allowed is None:
            return None
        if allowed:
            return f"{low[0]}.{minor}"
    return None


def _allows_minor(spec: str, minor: tuple[int, int], *, poetry: bool = False) -> bool | None:
    """Whether `spec` allows some release of `minor` (its first or a late patch release)."""
    if poetry:
        spec = poetry_specifier(spec)
    results = []
    for alternative in spec.split("||"):
        clauses = [part for part in alternative.split(",") if part.strip()]
        for patch in (0, 99):
            verdicts = [_clause_allows(clause, (*minor, patch)) for clause in clauses]
            if any(verdict is None for verdict in verdicts):
                return None
            results.append(all(verdicts))
    return any(results)


def _clause_allows(clause: str, version: tuple[int, int, int]) -> bool | None:
    match = _CLAUSE.match(clause)
    if match is None:
        return None
    op, written, wildcard = match.group("op"), match.group("version"), match.group("wild")
    release = tuple(int(part) for part in written.split("."))
    if wildcard:
        inside = version[: len(release)] == release
        return inside if op == "==" else (not inside if op == "!=" else None)
    candidate = version_key(".".join(map(str, version)))
    bound = version_key(written)
    if op == "~=":
        return len(release) >= 2 and candidate >= bound and version[: len(release) - 1] == release[:-1]
    return {
        "==": candidate == bound,
        "===": candidate == bound,
        "!=": candidate != bound,
        ">=": candidate >= bound,
        "<=": candidate <= bound,
        ">": candidate > bound,
        "<": candidate < bound,
    }[op]
