from __future__ import annotations

import posixpath
from collections.abc import Iterator

from analyzer.project import Project
from analyzer.pyversion import PIN_FILES, RAILPACK_DEFAULT, RAILPACK_OFFERED
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

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
                yield self.finding(
                    f"{pin.path} does not pin a Python version: {pin.problem}",
                    pin.path,
                    pin.line,
                    subject=f"{pin.source} unparsable",
                )
            elif pin.offered_by_railpack() is False:
                yield self.finding(
                    f"{pin.path} pins Python {pin.version}, which Railpack does not offer "
                    f"(it builds {low[0]}.{low[1]} to {high[0]}.{high[1]})",
                    pin.path,
                    pin.line,
                    subject=f"{pin.source} not offered",
                )
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
        yield self.finding(message, path, line, subject="no python pin")

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
        ),
        Example(
            {"runtime.txt": "python-3.8.10\n", "requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP},
            expect="runtime.txt pins Python 3.8.10, which Railpack does not offer",
        ),
        Example(
            {".python-version": "system\n", "requirements.txt": REQS, "Procfile": PROCFILE, "app.py": APP},
            expect="`system` is not a Python version",
        ),
        Example(
            {
                "Pipfile": '[packages]\nflask = "*"\ngunicorn = "*"\n\n[requires]\npython_version = "3.9"\n',
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            expect="Pipfile pins Python 3.9",
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
        ),
    ]
