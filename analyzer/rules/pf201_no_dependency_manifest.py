from __future__ import annotations

import posixpath
from collections.abc import Iterator

from analyzer.deps import is_requirements_name
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

MANIFEST_NAMES = ("requirements.txt", "pyproject.toml", "Pipfile", "setup.py", "setup.cfg")
APP = "from flask import Flask\n\napp = Flask(__name__)\n"


class NoDependencyManifest(Rule):
    """
    ## What it does
    Flags an app root with no dependency manifest: no `requirements.txt`, no
    `pyproject.toml` that declares dependencies, no `Pipfile`, `setup.py` or
    `setup.cfg`.

    ## Why is this bad?
    Railpack and Nixpacks install dependencies only from those files, and only
    from the app root (the service's root directory). Without one nothing is
    installed, so the deploy crashes at the first `import flask`. Files in a
    subfolder (`requirements/prod.txt`) or above the app root of a monorepo are
    not read. A Docker build installs what its Dockerfile installs instead.

    ## Example
    ```
    # repository: app.py, Procfile -- the packages were only ever installed by hand
    web: gunicorn app:app
    ```

    ## Use instead
    ```
    # requirements.txt
    flask==3.1.0
    gunicorn==23.0.0
    ```

    ## How to fix
    Add a `requirements.txt` to the app root listing the packages the app imports (`pip freeze > requirements.txt` in a clean virtualenv), or `-r` the file you already have.

    ## References
    - Railpack: Python provider, package manager detection
    - pip: Requirements File Format
    """

    id = "PF201"
    slug = "no-dependency-manifest"
    severity = Severity.BLOCKER
    title = "No dependency manifest"

    def check(self, project: Project) -> Iterator[Finding]:
        manifests = project.manifests
        pyproject = manifests.get(project.app_path("pyproject.toml"))
        if manifests.docker:
            if manifests.installed or not manifests.complete:
                return
            present = [name for name in MANIFEST_NAMES if project.exists(name)]
            unused = f" ({present[0]} is in the app root, but no `RUN pip install` uses it)" if present else ""
            yield self.finding(
                f"{manifests.dockerfile_path} installs no dependencies{unused}: `import flask` fails at boot",
                manifests.dockerfile_path,
                subject="no dependency manifest",
            )
            return
        if any(project.exists(name) for name in ("requirements.txt", "Pipfile", "setup.py", "setup.cfg")):
            return
        if pyproject is not None and (pyproject.has_dependencies or not pyproject.parsed):
            return
        if pyproject is not None:
            what = "pyproject.toml declares no dependencies and there is no requirements.txt, Pipfile or setup.py"
        else:
            what = "no requirements.txt, pyproject.toml, Pipfile, setup.py or setup.cfg in the app root"
        yield self.finding(
            f"{what}: nothing is installed, so `import flask` fails at boot{self._hint(project)}",
            pyproject.path if pyproject is not None else None,
            subject="no dependency manifest",
        )

    @staticmethod
    def _hint(project: Project) -> str:
        elsewhere = sorted(
            path
            for path in project.files.paths
            if posixpath.basename(path) in ("requirements.txt", "pyproject.toml", "Pipfile")
            or is_requirements_name(path)
        )
        inside = [
            path for path in elsewhere if project.under_app_root(path) and path != project.app_path("pyproject.toml")
        ]
        if inside:
            return f"; {inside[0]} exists, but the build only reads the app root's manifest (`-r` it from a requirements.txt)"
        if elsewhere and project.app_root:
            return f"; {elsewhere[0]} is outside the app root `{project.app_root}`"
        return ""

    VALID = [
        Example({"requirements.txt": "flask==3.1.0\ngunicorn==23.0.0\n", "app.py": APP}),
        Example(
            {
                "pyproject.toml": (
                    '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n'
                    '[tool.poetry.dependencies]\npython = "^3.12"\nflask = "^3.0"\ngunicorn = "^23.0"\n'
                ),
                "poetry.lock": "# poetry lock\n",
                "shop/__init__.py": APP,
            },
            note="a Poetry project",
        ),
        Example(
            {
                "Pipfile": '[packages]\nflask = "*"\ngunicorn = "*"\n\n[requires]\npython_version = "3.12"\n',
                "wsgi.py": APP,
            }
        ),
        Example(
            {
                "setup.py": "from setuptools import setup\n\nsetup(name='blog', install_requires=['flask'])\n",
                "blog/__init__.py": APP,
            }
        ),
        Example({"setup.cfg": "[options]\ninstall_requires =\n    flask\n    gunicorn\n", "app.py": APP}),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements/ requirements/\n"
                    "RUN pip install --no-cache-dir -r requirements/docker.txt\nCOPY . .\n"
                    'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n'
                ),
                "requirements/docker.txt": "flask\ngunicorn\n",
                "app.py": APP,
            },
            note="a Docker build installs what the Dockerfile names",
        ),
        Example(
            {"backend/requirements.txt": "flask\ngunicorn\n", "backend/app.py": APP, "frontend/package.json": "{}\n"},
            app_root="backend",
        ),
        Example(
            {
                "pyproject.toml": '[project]\nname = "api"\nversion = "1.0"\ndependencies = ["flask>=3", "gunicorn"]\n',
                "api.py": APP,
            }
        ),
    ]
    INVALID = [
        Example({"app.py": APP, "Procfile": "web: gunicorn app:app\n"}, expect="no requirements.txt"),
        Example(
            {
                "pyproject.toml": '[tool.ruff]\nline-length = 100\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
                "app.py": APP,
            },
            expect="pyproject.toml declares no dependencies",
        ),
        Example(
            {"requirements/prod.txt": "flask\ngunicorn\n", "wsgi.py": APP, "Procfile": "web: gunicorn wsgi:app\n"},
            expect="requirements/prod.txt exists",
        ),
        Example(
            {"requirements.txt": "flask\ngunicorn\n", "services/web/app.py": APP},
            app_root="services/web",
            expect="outside the app root",
        ),
        Example(
            {
                "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["gunicorn", "app:app"]\n',
                "app.py": APP,
            },
            expect="Dockerfile installs no dependencies",
        ),
    ]
