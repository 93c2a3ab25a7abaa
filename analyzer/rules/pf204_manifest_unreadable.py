from __future__ import annotations

from collections.abc import Iterator

from analyzer.deps import redact
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

APP = "from flask import Flask\n\napp = Flask(__name__)\n"
PROCFILE = "web: gunicorn app:app\n"


class ManifestUnreadable(Rule):
    """
    ## What it does
    Flags a manifest the build installs that does not parse: a requirements
    line that is not a requirement, an option or an include (pasted prose,
    merge conflict markers, `pip install flask`), an unknown pip option, a
    `-r` include whose file does not exist, invalid TOML in pyproject.toml or
    the Pipfile. Also flags, at low severity, two lines naming the same
    package (after PEP 503 normalisation: `Flask_Login` is `flask-login`).

    ## Why is this bad?
    pip and the other installers stop at the first line they cannot read, so
    the build fails before any package is installed. Two lines for one package
    either repeat themselves or pin two versions that the resolver cannot
    satisfy together. Files the build does not install (`requirements-dev.txt`)
    are not checked.

    ## Example
    ```
    # requirements.txt
    flask==3.1.0
    <<<<<<< HEAD
    gunicorn==22.0.0
    =======
    gunicorn==23.0.0
    >>>>>>> main
    ```

    ## Use instead
    ```
    # requirements.txt
    flask==3.1.0
    gunicorn==23.0.0
    ```

    ## How to fix
    Fix the line the message names so that `pip install -r requirements.txt` (or `poetry check`, `pipenv verify`) passes locally, and keep one line per package.

    ## References
    - pip: Requirements File Format
    - PEP 508: dependency specification; PEP 503: name normalisation
    """

    id = "PF204"
    slug = "manifest-unreadable"
    severity = Severity.BLOCKER
    title = "Manifest unreadable"

    def check(self, project: Project) -> Iterator[Finding]:
        for manifest in project.manifests.build:
            for line, problem in manifest.problems:
                yield self.finding(
                    f"{problem}; the install stops there and the build fails",
                    manifest.path,
                    line,
                    subject=problem,
                )
            for first, repeated in manifest.duplicates:
                where = f"line {first.line}" if first.path == repeated.path else f"{first.path}:{first.line}"
                yield self.finding(
                    f"`{repeated.name}` is listed twice (`{redact(repeated.raw)}` repeats `{redact(first.raw)}` of {where})",
                    repeated.path,
                    repeated.line,
                    subject=f"duplicate {repeated.name}",
                    severity=Severity.LOW,
                )

    VALID = [
        Example(
            {
                "requirements.txt": (
                    "# Production dependencies\n--index-url https://pypi.org/simple\n"
                    "--extra-index-url https://download.pytorch.org/whl/cpu\n--prefer-binary\n"
                    "-c constraints.txt\n\n"
                    "Flask[async]==3.1.0 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\n"
                    'gunicorn>=23.0 ; python_version >= "3.10"  # the server\n'
                    "flask-login~=0.6.3\n"
                    "-e git+https://github.com/acme/flask-utils.git@v1.2#egg=acme_flask_utils\n"
                    "internal-sdk @ https://files.acme.dev/internal_sdk-2.0-py3-none-any.whl\n"
                    "psycopg[binary] (>=3.2)\n"
                ),
                "constraints.txt": "urllib3<3\n",
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            note="options, hashes, continuations, markers, extras, VCS and direct references",
        ),
        Example(
            {
                "requirements.txt": b"\xff\xfe"
                + "blinker==1.9.0\r\nFlask==3.1.0\r\ngunicorn==23.0.0\r\n".encode("utf-16-le"),
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            note="UTF-16 with a BOM, as PowerShell's `pip freeze >` writes it",
        ),
        Example(
            {
                "requirements.txt": "flask\ngunicorn\n",
                "requirements-dev.txt": "-r requirements.txt\n<<<<<<< HEAD\npytest==8.0\n=======\npytest==8.3\n>>>>>>> dev\n",
                "Pipfile": "[packages\nflask = '*'\n",
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            note="files the build does not install are not checked",
        ),
        Example(
            {
                "pyproject.toml": (
                    '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\n'
                    'python = "^3.12"\nflask = { version = "^3.0", extras = ["async"] }\ngunicorn = "^23.0"\n'
                    'psycopg2-binary = [\n  { version = "^2.9", markers = "sys_platform != \'win32\'" },\n]\n\n'
                    '[tool.poetry.group.dev.dependencies]\nflask = "^3.0"\n'
                ),
                "poetry.lock": "# lock\n",
                "Procfile": "web: gunicorn shop:app\n",
                "shop/__init__.py": APP,
            }
        ),
        Example(
            {
                "requirements.txt": (
                    'numpy==1.24.4; python_version < "3.9"\nnumpy==2.1.3; python_version >= "3.9"\nflask\ngunicorn\n'
                ),
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            note="the same package under different markers is not a duplicate",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements/docker.txt .\n"
                    "RUN pip install -r docker.txt\nCOPY . .\nCMD gunicorn -b 0.0.0.0:$PORT app:app\n"
                ),
                "requirements/docker.txt": "flask\ngunicorn\n",
                "requirements.txt": "flask\npip install gunicorn\n",
                "app.py": APP,
            },
            note="a Docker build installs only what the Dockerfile names",
        ),
    ]
    INVALID = [
        Example(
            {
                "requirements.txt": (
                    "flask==3.1.0\n<<<<<<< HEAD\ngunicorn==22.0.0\n=======\ngunicorn==23.0.0\n>>>>>>> main\n"
                ),
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            expect="`<<<<<<< HEAD` is an unresolved merge conflict marker",
        ),
        Example(
            {"requirements.txt": "flask\npip install gunicorn\n", "Procfile": PROCFILE, "app.py": APP},
            expect="is a shell command",
        ),
        Example(
            {
                "requirements.txt": "-r requirements/base.txt\ngunicorn\n",
                "requirements/base.txt": "Flask==3.1.0\nThese are the packages you need to run the app\n",
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            expect="`These are the packages you need to run the app` is not a requirement, option or include",
        ),
        Example(
            {
                "requirements.txt": "-r requirements/common.txt\ngunicorn\n",
                "requirements/base.txt": "flask\n",
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            expect="points to requirements/common.txt, which does not exist",
        ),
        Example(
            {
                "pyproject.toml": (
                    '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\n'
                    'python = "^3.12"\nflask = ^3.0\n'
                ),
                "poetry.lock": "# lock\n",
                "Procfile": "web: gunicorn shop:app\n",
                "shop/__init__.py": APP,
            },
            expect="pyproject.toml is not valid TOML",
        ),
        Example(
            {"Pipfile": '[packages]\nflask = "*"\ngunicorn = "*\n', "Procfile": PROCFILE, "app.py": APP},
            expect="Pipfile is not valid TOML",
        ),
        Example(
            {
                "requirements.txt": b"\xff\xfe"
                + "Flask==3.1.0\r\ngunicorn==23.0.0\r\nflask==3.1.0\r\n".encode("utf-16-le"),
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            expect="`flask` is listed twice",
        ),
        Example(
            {
                "requirements.txt": "-r requirements/base.txt\nFlask_Login==0.6.3\n",
                "requirements/base.txt": "flask\nflask-login==0.6.2\ngunicorn\n",
                "Procfile": PROCFILE,
                "app.py": APP,
            },
            expect="`flask-login` is listed twice",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                    "RUN pip install --no-cache-dir -r requirements/docker.txt\nCMD gunicorn app:app\n"
                ),
                "requirements/docker.txt": "flask\n--process-dependency-links\ngunicorn\n",
                "app.py": APP,
            },
            expect="`--process-dependency-links`",
        ),
        Example(
            {
                "services/api/requirements.txt": "flask>=3.0,\ngunicorn\n",
                "services/api/Procfile": PROCFILE,
                "services/api/app.py": APP,
            },
            app_root="services/api",
            expect="`flask>=3.0,`",
        ),
    ]
