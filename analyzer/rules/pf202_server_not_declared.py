from __future__ import annotations

from collections.abc import Iterator

from analyzer.autofix import Fix
from analyzer.deps import SERVER_PACKAGES, Manifest, Manifests
from analyzer.fixes.deployfiles import shell_word
from analyzer.fixes.manifests import declare
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.rules.pf102_wsgi_target_unresolved import candidate_targets

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
    The autofix declares the server unpinned (`gunicorn` in requirements.txt
    or `[project] dependencies`, `gunicorn = "*"` for Poetry and the Pipfile):
    pin it to the version you test with. After a change to pyproject.toml or
    the Pipfile, update the lock file (`poetry lock`, `uv lock`, `pipenv
    lock`): the build refuses a stale one. When Railpack fell back to
    `python app.py`, the fix also adds a Procfile naming the one Flask app
    found, since Railpack would otherwise run `gunicorn main:app`. A UTF-16
    requirements file is left alone.

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
        finding.fix = _declare_fix(project, packages[0])
        if inferred_fallback and finding.fix is not None:
            finding.fix = _with_procfile(project, finding.fix)
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
            fixed={
                "pyproject.toml": (
                    '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\n'
                    'python = "^3.12"\nflask = "^3.0"\ngunicorn = "*"\n\n'
                    '[tool.poetry.group.dev.dependencies]\ngunicorn = "^23.0"\npytest = "^8.0"\n'
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "Pipfile": '[packages]\nflask = "*"\n\n[dev-packages]\ngunicorn = "*"\n',
                "app.py": APP,
            },
            expect="[dev-packages]",
            fixed={"Pipfile": '[packages]\nflask = "*"\ngunicorn = "*"\n\n[dev-packages]\ngunicorn = "*"\n'},
        ),
        Example(
            {"requirements.txt": "flask==3.1.0\n", "app.py": APP},
            expect="so Railpack runs `python app.py`",
            fixed={"requirements.txt": "flask==3.1.0\ngunicorn\n", "Procfile": "web: gunicorn app:app\n"},
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
            fixed={"requirements/docker.txt": "flask\ngunicorn\n"},
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
            fixed={"requirements.txt": "-r requirements/base.txt\ngunicorn\n"},
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
            fixed={
                "pyproject.toml": (
                    '[project]\nname = "app"\nversion = "1"\ndependencies = ["flask", "gunicorn"]\n\n'
                    '[project.optional-dependencies]\nprod = ["gunicorn"]\n'
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn --bind 0.0.0.0:$PORT 'shop:create_app()'\r\n",
                "requirements.txt": "# pinned by hand\r\nFlask==3.1.0\r\nFlask-SQLAlchemy==3.1.1  # ORM",
                "shop/__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
            },
            expect="`gunicorn` is not in requirements.txt",
            fixed={
                "requirements.txt": "# pinned by hand\r\nFlask==3.1.0\r\nFlask-SQLAlchemy==3.1.1  # ORM\r\ngunicorn\r\n"
            },
            note="Windows line endings and no final newline",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "pyproject.toml": (
                    "[project]\n"
                    'name = "app"\n'
                    'version = "1"\n'
                    "dependencies = [\n"
                    "    'flask>=3.0',\n"
                    "    'flask-login',  # sessions\n"
                    "]\n\n"
                    "[dependency-groups]\n"
                    "dev = ['pytest', 'gunicorn']\n"
                ),
                "app.py": APP,
            },
            expect="[dependency-groups] dev",
            fixed={
                "pyproject.toml": (
                    "[project]\n"
                    'name = "app"\n'
                    'version = "1"\n'
                    "dependencies = [\n"
                    "    'flask>=3.0',\n"
                    "    'flask-login',  # sessions\n"
                    "    'gunicorn',\n"
                    "]\n\n"
                    "[dependency-groups]\n"
                    "dev = ['pytest', 'gunicorn']\n"
                )
            },
            note="a multi-line array keeps its layout, quotes and trailing comma",
        ),
        Example(
            {
                "railway.json": '{"deploy": {"startCommand": "waitress-serve --port=$PORT wsgi:app"}}',
                "pyproject.toml": (
                    '[project]\nname = "shop"\nversion = "2.0"\nrequires-python = ">=3.12"\n'
                    'dependencies = [\n  "flask (>=3.1,<4)"\n]\n\n'
                    "[tool.poetry]\npackage-mode = false\n"
                ),
                "poetry.lock": "# lock\n",
                "wsgi.py": APP,
            },
            expect="`waitress` is not in pyproject.toml",
            fixed={
                "pyproject.toml": (
                    '[project]\nname = "shop"\nversion = "2.0"\nrequires-python = ">=3.12"\n'
                    'dependencies = [\n  "flask (>=3.1,<4)",\n  "waitress"\n]\n\n'
                    "[tool.poetry]\npackage-mode = false\n"
                )
            },
            note="Poetry 2 reads `[project] dependencies`",
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


def _declare_fix(project: Project, name: str) -> Fix | None:
    declared = declare(project, name)
    if declared is None:
        return None
    safety = f"Adds `{name}` unpinned, so the build installs its newest release; pin it to the version you test with."
    if declared.note:
        safety += f" Then {declared.note}."
    return Fix(f"Add `{name}` to {declared.where}", safety, {declared.path: declared.text})


def _with_procfile(project: Project, fix: Fix) -> Fix | None:
    """Railpack infers `gunicorn main:app` once gunicorn is declared: name the app when it is not `main:app`."""
    targets = candidate_targets(project, ".")
    if targets == ["main:app"]:
        return fix
    path = project.app_path("Procfile")
    if len(targets) != 1 or path in project.files.paths:
        return None
    line = f"web: gunicorn {shell_word(targets[0])}"
    fix.changes[path] = line + "\n"
    fix.title += f", and a Procfile: `{line}`"
    fix.safety += (
        f" With gunicorn declared Railpack would run `main:app`; the Procfile serves `{targets[0]}`, the only "
        "Flask app found: check it is the one you deploy."
    )
    return fix
