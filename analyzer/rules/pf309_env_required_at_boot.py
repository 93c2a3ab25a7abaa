from __future__ import annotations

import bisect
import sys
from collections.abc import Callable, Iterator

from analyzer.envcontract import boot_error, fails_at_boot
from analyzer.prodpath import EnvUse, ProductionPath
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

WSGI_SERVERS = frozenset({"gunicorn", "waitress", "uwsgi", "uvicorn", "hypercorn"})


def _execution_order(production: ProductionPath, paths: set[str]) -> Callable[[EnvUse], int]:
    """Sort key: when the statement holding the read runs (the read that raises first comes first).
    Only the steps of `paths` are located: line numbers cost a positions pass over each module."""
    steps: dict[str, list[tuple[int, int]]] = {}
    for step in production.reach.steps:
        if step.path in paths:
            steps.setdefault(step.path, []).append((step.line, step.seq))
    for found in steps.values():
        found.sort()

    def seq(use: EnvUse) -> int:
        found = steps.get(use.path, [])
        # The statement that starts on or closest above the read's line.
        index = bisect.bisect_right(found, (use.line, sys.maxsize)) - 1
        return found[index][1] if index >= 0 else sys.maxsize

    return seq


class EnvRequiredAtBoot(Rule):
    """
    ## What it does
    When the platform settings list the service's variables, flags each
    variable the app requires at startup that nothing sets in production: an
    `os.environ["NAME"]` read (or python-decouple's `config("NAME")` without a
    default, `app.config.from_envvar("NAME")`, `os.environ.get("NAME")`
    followed by `if not ...: raise`, or whose `None` is used as an object at
    once, as in `uri = os.getenv("DATABASE_URL")` then
    `if uri.startswith("postgres://"):`) that runs when the server imports the app,
    for a name that is not among the platform variables, not set by the
    Dockerfile's `ENV`, not assigned on the start command and not in a dotenv
    file the code loads at import. `PORT` and `RAILWAY_*` are set by Railway.

    Every report also carries the app's environment contract (`env_contract`
    in the JSON report, `--env-contract` on the command line): each variable
    the production path reads, whether it is required or which default it
    falls back to, and where it is read.

    ## Why is this bad?
    The read runs at import, inside every gunicorn worker, before a single
    request is served: the worker exits with `KeyError: 'NAME'`, gunicorn keeps
    restarting workers and Railway marks the deploy as crashed. Reads inside a
    request handler are listed in the contract but not flagged: the app boots
    and only the requests that need the variable fail. A read inside a branch
    the analyzer cannot decide is not flagged either.

    ## Example
    ```python
    # config.py
    class ProductionConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
    # platform variables: SECRET_KEY
    ```

    ## Use instead
    ```
    # Railway service > Variables
    DATABASE_URL=${{Postgres.DATABASE_URL}}
    SECRET_KEY=...
    ```

    ## How to fix
    Set the variable in the service's Variables on Railway (a reference such as `${{Postgres.DATABASE_URL}}` for a database), or give the read a default if the app can run without it.

    ## References
    - Railway: Variables, reference variables
    - Python: `os.environ` raises `KeyError` for an unset name
    - python-decouple: `config()` raises `UndefinedValueError` without a default
    """

    id = "PF309"
    slug = "env-required-at-boot"
    severity = Severity.MEDIUM
    title = "Required variable not set"

    def check(self, project: Project) -> Iterator[Finding]:
        if project.platform.variables is None:
            return
        production = project.production
        failing = [use for use in production.env_reads if fails_at_boot(use)]
        if not failing:
            return
        first: dict[str, EnvUse] = {}
        for use in sorted(failing, key=_execution_order(production, {use.path for use in failing})):
            first.setdefault(use.name, use)
        run = project.server_run
        server = run.kind if run is not None and run.kind in WSGI_SERVERS else "the server"
        for name, use in sorted(first.items()):
            others = [other.where for other in failing if other.name == name and other is not use]
            evidence = [*production.why(use.path)]
            if others:
                evidence.append(f"also required at {', '.join(others)}")
            yield self.finding(
                f"`{name}` is required at startup and not among the platform variables: "
                f"{boot_error(use)} at import, before {server} serves",
                use.path,
                use.line,
                subject=name,
                evidence=evidence,
            )

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n",
            },
            note="no platform variables given: it cannot be told whether SECRET_KEY is set",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "config.py": "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ['SECRET_KEY']\n"
                "    SQLALCHEMY_DATABASE_URI = os.environ['DATABASE_URL']\n",
                "app/__init__.py": "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                "    app.config.from_object('config.Config')\n    return app\n",
                "wsgi.py": "from app import create_app\n\napp = create_app()\n",
            },
            platform={"variables": ["SECRET_KEY", "DATABASE_URL"]},
            note="every required variable is among the platform variables",
        ),
        Example(
            {
                "Dockerfile": "FROM python:3.12-slim\nENV APP_MODE=production\nCMD gunicorn -b 0.0.0.0:$PORT app:app\n",
                "Procfile": "web: LOG_LEVEL=info gunicorn app:app\n",
                "app.py": "import os as _os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                "MODE = _os.environ['APP_MODE']\nPORT = int(_os.environ['PORT'])\n"
                "ENVIRONMENT = _os.environ['RAILWAY_ENVIRONMENT_NAME']\n",
            },
            platform={"variables": []},
            note="set by the Dockerfile ENV, and PORT / RAILWAY_* are set by Railway",
        ),
        Example(
            {
                "Procfile": "web: LOG_LEVEL=info gunicorn app:app\n",
                "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                "app.logger.setLevel(os.environ['LOG_LEVEL'])\n",
            },
            platform={"variables": ["SECRET_KEY"]},
            note="assigned on the start command",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route('/weather')\n"
                "def weather():\n    return {'key_set': bool(os.environ['WEATHER_API_KEY'])}\n",
            },
            platform={"variables": ["SECRET_KEY"]},
            note="read only in a request handler: the app boots",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                "app.config['REDIS_URL'] = os.environ.get('REDIS_URL', 'redis://redis:6379/0')\n"
                "app.config['SENTRY_DSN'] = os.getenv('SENTRY_DSN')\n"
                "if __name__ == '__main__':\n    app.run(port=int(os.environ['DEV_PORT']))\n",
            },
            platform={"variables": []},
            note="reads with defaults, and a read under the __main__ guard that gunicorn never runs",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                "if 'S3_BUCKET' in os.environ:\n    app.config['S3_BUCKET'] = os.environ['S3_BUCKET']\n",
            },
            platform={"variables": []},
            note="guarded by a test the analyzer cannot decide",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                    "uri = os.getenv('DATABASE_URL')\nif uri.startswith('postgres://'):\n"
                    "    uri = uri.replace('postgres://', 'postgresql://', 1)\n\n"
                    "app = Flask(__name__)\napp.config['SQLALCHEMY_DATABASE_URI'] = uri\ndb = SQLAlchemy(app)\n"
                ),
            },
            platform={"variables": ["SECRET_KEY"]},
            expect="`DATABASE_URL` is required at startup",
            note="the well-known rewrite snippet calls `.startswith` on the None an unset variable gives",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "config.py": "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ['SECRET_KEY']\n\n\n"
                "class ProductionConfig(Config):\n    SQLALCHEMY_DATABASE_URI = os.environ['DATABASE_URL']\n\n\n"
                "config = {'production': ProductionConfig, 'default': ProductionConfig}\n",
                "app/__init__.py": "from flask import Flask\nfrom config import config\n\n\n"
                "def create_app(config_name):\n    app = Flask(__name__)\n"
                "    app.config.from_object(config[config_name])\n    return app\n",
                "wsgi.py": "import os\nfrom app import create_app\n\n"
                "app = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
            },
            platform={"variables": ["SECRET_KEY", "FLASK_CONFIG"]},
            expect="`DATABASE_URL` is required at startup",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": "import os as _os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                "app.secret_key = _os.environ['SECRET_KEY']\n",
            },
            platform={"variables": ["DATABASE_URL"]},
            expect="the app raises `KeyError` at import, before gunicorn serves",
        ),
        Example(
            {
                "railway.toml": "[deploy]\nstartCommand = 'gunicorn main:app'\n",
                "main.py": "from decouple import config\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                "app.config['MAIL_PASSWORD'] = config('MAIL_PASSWORD')\n",
            },
            platform={"variables": []},
            expect="`UndefinedValueError`",
        ),
        Example(
            {
                "services/api/Procfile": "web: gunicorn api:app\n",
                "services/api/api.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                "STRIPE_KEY = os.environ.get('STRIPE_KEY')\nif not STRIPE_KEY:\n"
                "    raise RuntimeError('STRIPE_KEY is not set')\n",
                "services/web/app.py": "import os\nOTHER = os.environ['NOT_THIS_SERVICE']\n",
            },
            platform={"variables": ["SECRET_KEY"]},
            app_root="services/api",
            expect="`STRIPE_KEY`",
        ),
        Example(
            {
                "Dockerfile": "FROM python:3.12-slim\nENV OTHER=1\nCMD gunicorn -b 0.0.0.0:$PORT app:app\n",
                "app.py": "from flask import Flask\n\napp = Flask(__name__)\napp.config.from_envvar('APP_SETTINGS')\n",
            },
            platform={"variables": ["DATABASE_URL"]},
            expect="`APP_SETTINGS`",
        ),
    ]
