from __future__ import annotations

from collections.abc import Iterator

from analyzer.autofix import Fix
from analyzer.deps import SERVER_PACKAGES, Manifest, Manifests
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


class ServerNotDeclared(Rule):
    """
    ## What it does
    Flags a start command whose server (gunicorn, waitress, uWSGI, uvicorn,
    hypercorn) is not declared in what the build installs: the requirements
    file and the files it includes with `-r`, the `[project] dependencies` of
    pyproject.toml or Poetry's main dependencies, the Pipfile's `[packages]`,
    or, for a Docker build, what the Dockerfile's `pip install` installs.
    Dev groups, optional extras, `[dev-packages]` and `requirements-dev.txt`
    do not count.

    ## Why is this bad?
    The container starts, runs `gunicorn ...`, and the shell answers `gunicorn:
    command not found`: the deploy crashes before the app is imported. A server
    that works locally was installed by hand or by a dev group the build never
    installs. When Railpack infers the command and gunicorn is missing, it runs
    `python main.py` instead, the Werkzeug development server (see PF103).

    ## Example
    ```
    # Procfile
    web: gunicorn app:app
    # requirements.txt
    flask==3.1.0
    ```

    ## Use instead
    ```
    # requirements.txt
    flask==3.1.0
    gunicorn==23.0.0
    ```

    ## How to fix
    Declare the server in the manifest the build installs (requirements.txt, the main dependencies of pyproject.toml, the Pipfile's `[packages]`).

    ## Fix safety
    The autofix appends the server, unpinned, to requirements.txt; pin it to the version you test with.

    ## References
    - Railpack: Python provider, start command inference
    - Poetry: dependency groups (`poetry install --only main`)
    """

    id = "PF202"
    slug = "server-not-declared"
    severity = Severity.BLOCKER
    title = "Server not declared"

    def check(self, project: Project) -> Iterator[Finding]:
        start = project.start_command
        run = project.server_run
        if start is None or run is None:
            return
        inferred_fallback = start.kind == "inferred" and run.kind == "python-file"
        server = "gunicorn" if inferred_fallback else run.kind
        if server not in SERVER_PACKAGES:
            return
        manifests = project.manifests
        if not manifests.installed and not manifests.docker:
            return  # PF201: there is no manifest to declare it in
        packages = SERVER_PACKAGES[server]
        if any(manifests.declares(name) for name in packages) or not manifests.complete:
            return
        primary = manifests.primary
        where = _where(manifests, primary)
        elsewhere = _elsewhere(manifests, packages)
        if inferred_fallback:
            message = f"`gunicorn` is not in {where}, so Railpack runs `{start.command}` (the development server)"
        else:
            message = f"`{packages[0]}` is not in {where}, but the start command ({start.source}) runs `{server}`"
        finding = self.finding(
            message + elsewhere,
            primary.path if primary is not None else manifests.dockerfile_path,
            subject=f"{server} not declared",
        )
        if primary is not None and primary.kind == "requirements" and primary.path.endswith("requirements.txt"):
            finding.fix = _append_requirement(project, primary.path, packages[0])
        yield finding

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "Flask==3.1.0\ngunicorn==23.0.0\n",
                "app.py": APP,
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'shop:create_app()'\n",
                "requirements.txt": "-r requirements/base.txt\n",
                "requirements/base.txt": "flask==3.1.0\nGunicorn[gevent]==23.0.0\n",
                "shop/__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
            },
            note="followed through `-r`, compared after PEP 503 normalisation",
        ),
        Example(
            {
                "Procfile": "web: gunicorn shop.wsgi:app\n",
                "pyproject.toml": (
                    '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\n'
                    'python = "^3.12"\nflask = "^3.0"\ngunicorn = "^23.0"\n\n'
                    '[tool.poetry.group.dev.dependencies]\npytest = "^8.0"\n'
                ),
                "poetry.lock": "# lock\n",
                "shop/wsgi.py": APP,
            }
        ),
        Example(
            {
                "Procfile": "web: waitress-serve --port=$PORT app:app\n",
                "Pipfile": '[packages]\nflask = "*"\nwaitress = "==3.0.0"\n\n[dev-packages]\npytest = "*"\n',
                "app.py": APP,
            }
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements/ requirements/\n"
                    "RUN pip install -r requirements/docker.txt\nCOPY . .\n"
                    'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
                ),
                "requirements/docker.txt": "flask\ngunicorn\n",
                "requirements.txt": "flask\n",
                "app.py": APP,
            },
            note="a Docker build installs what the Dockerfile names",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                    "RUN pip install -r requirements.txt && pip install gunicorn==23.0.0\n"
                    "CMD gunicorn -b 0.0.0.0:$PORT app:app\n"
                ),
                "requirements.txt": "flask\n",
                "app.py": APP,
            }
        ),
        Example(
            {"requirements.txt": "flask\ngunicorn\n", "main.py": APP},
            note="Railpack infers gunicorn main:app",
        ),
        Example(
            {
                "requirements.txt": b"\xff\xfe" + "Flask==3.1.0\r\ngunicorn==23.0.0\r\n".encode("utf-16-le"),
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP,
            },
            note="UTF-16 with a BOM, as PowerShell's `pip freeze >` writes it",
        ),
        Example(
            {
                "Procfile": "web: uwsgi --http :$PORT --module app:app\n",
                "requirements.txt": "flask\npyuwsgi\n",
                "app.py": APP,
            }
        ),
        Example(
            {"api/Procfile": "web: gunicorn app:app\n", "api/requirements.txt": "flask\ngunicorn\n", "api/app.py": APP},
            app_root="api",
        ),
    ]
    INVALID = [
        Example(
            {"Procfile": "web: gunicorn app:app\n", "requirements.txt": "Flask==3.1.0\n", "app.py": APP},
            expect="`gunicorn` is not in requirements.txt, which is what Railway installs",
            fixed={"requirements.txt": "Flask==3.1.0\ngunicorn\n"},
        ),
        Example(
            {
                "Procfile": "web: gunicorn shop.wsgi:app\n",
                "pyproject.toml": (
                    '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\n'
                    'python = "^3.12"\nflask = "^3.0"\n\n'
                    '[tool.poetry.group.dev.dependencies]\ngunicorn = "^23.0"\npytest = "^8.0"\n'
                ),
                "poetry.lock": "# lock\n",
                "shop/wsgi.py": APP,
            },
            expect="[tool.poetry.group.dev.dependencies]",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Pipfile": '[packages]\nflask = "*"\n\n[dev-packages]\ngunicorn = "*"\n',
                "app.py": APP,
            },
            expect="[dev-packages]",
        ),
        Example(
            {"requirements.txt": "flask==3.1.0\n", "app.py": APP},
            expect="so Railpack runs `python app.py`",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements/docker.txt /tmp/requirements.txt\n"
                    "RUN pip install -r /tmp/requirements.txt\nCOPY . .\n"
                    'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
                ),
                "requirements/docker.txt": "flask\n",
                "requirements.txt": "flask\ngunicorn\n",
                "app.py": APP,
            },
            expect="requirements/docker.txt, which the Dockerfile installs",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "requirements.txt": "-r requirements/base.txt\n",
                "requirements/base.txt": "flask\n",
                "requirements/dev.txt": "-r base.txt\ngunicorn\npytest\n",
                "app.py": APP,
            },
            expect="only in requirements/dev.txt",
        ),
        Example(
            {
                "web/Procfile": "web: waitress-serve --listen=*:$PORT app:app\n",
                "web/requirements.txt": b"\xff\xfe" + "Flask==3.1.0\r\n".encode("utf-16-le"),
                "web/app.py": APP,
            },
            app_root="web",
            expect="`waitress`",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "pyproject.toml": (
                    '[project]\nname = "app"\nversion = "1"\ndependencies = ["flask"]\n\n'
                    '[project.optional-dependencies]\nprod = ["gunicorn"]\n'
                ),
                "uv.lock": "version = 1\n",
                "app.py": APP,
            },
            expect="the `prod` extra",
        ),
    ]


def _where(manifests: Manifests, primary: Manifest | None) -> str:
    if primary is None:
        return f"anything {manifests.dockerfile_path} installs"
    others = [m.path for m in manifests.installed if m is not primary and m.kind != "dockerfile"]
    files = primary.path + (f" (or {', '.join(others)})" if others else "")
    if manifests.docker:
        return f"{files}, which the Dockerfile installs"
    return f"{files}, which is what Railway installs"


def _elsewhere(manifests: Manifests, packages: tuple[str, ...]) -> str:
    """Where the server is written instead, when it is written somewhere the build does not install."""
    for name in packages:
        for manifest, group, _requirement in manifests.find(name):
            if group is None:
                return f" (it is only in {manifest.path}, which the build does not install)"
            if group.kind == "extra":
                return f" (it is only in the `{group.name}` extra of {manifest.path}, which the build does not install)"
            return f" (it is only in {group.section} of {manifest.path}, which the build does not install)"
    return ""


def _append_requirement(project: Project, path: str, name: str) -> Fix | None:
    """Append the server to a UTF-8 requirements file, keeping its line endings; None for other encodings."""
    data = project.raw(path)
    try:
        text = data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        return None
    if text is None or text.startswith("\ufeff"):
        return None
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith(("\n", "\r")):
        text += newline
    return Fix(
        f"Add `{name}` to {path}",
        "Adds the server unpinned; pin it to the version you test with.",
        {path: f"{text}{name}{newline}"},
    )
