from __future__ import annotations

from collections.abc import Iterator

from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.rules.pf303_secret_key_hardcoded import (
    GENERATOR_NAMES,
    SIGNING_NEEDLES,
    column,
    environment_fix,
    generated_of,
    is_signing_key,
    production_values,
    unset_note,
)

FIXED_KEY_SAFETY = (
    "This fix is unsafe because the app then fails at boot until `{name}` is set: set it once in Railway's "
    'Variables (`python -c "import secrets; print(secrets.token_hex(32))"`) so every worker and every deploy '
    "shares it; sessions signed with the old per-process keys end once more when you deploy."
)


class SecretKeyPerProcess(Rule):
    """
    ## What it does
    Flags a signing key (`SECRET_KEY` / `app.secret_key`, `JWT_SECRET_KEY`,
    `SECURITY_PASSWORD_SALT`, `WTF_CSRF_SECRET_KEY`) that the production path
    generates at import: `os.urandom(...)`, `secrets.token_hex()` and its kin,
    `uuid.uuid4()`, directly or as the fallback of an environment read whose
    variable Railway does not set.

    ## Why is this bad?
    Every process that imports the app draws its own key. Gunicorn runs several
    workers, each importing the app (unless `--preload`), so a session cookie or a
    CSRF token signed by one worker is rejected by the next: users are logged out
    at random and forms fail with "The CSRF token is invalid". Every redeploy, restart
    or scale-out draws new keys too, so everyone is logged out and every password
    reset link and JWT already sent stops working.

    Not flagged when the platform settings list the variable: the generated fallback
    then never runs in production.

    ## Example
    ```python
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", os.urandom(24))
    ```

    ## Use instead
    ```python
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    ```

    ## How to fix
    Generate the key once (`python -c "import secrets; print(secrets.token_hex(32))"`), store it in Railway's Variables, and read it with `os.environ["SECRET_KEY"]` so every worker and every deploy shares it.

    ## Fix safety
    The autofix reads the key with `os.environ["SECRET_KEY"]`, so the app fails at
    boot until the variable is set: set it in Railway's Variables first. Sessions
    signed with the old per-process keys end once more.

    ## References
    - Flask: Configuration Handling, `SECRET_KEY`
    - gunicorn: Settings, `workers` and `preload_app`
    - Railway: Variables
    """

    id = "PF307"
    slug = "secret-key-per-process"
    severity = Severity.HIGH
    title = "Signing key generated per process"

    def check(self, project: Project) -> Iterator[Finding]:
        if not project.python_paths_containing(*SIGNING_NEEDLES):
            return
        production = project.production
        seen: set[tuple] = set()
        for item in production_values(project, is_signing_key):
            found = generated_of(item.value)
            if found is None or (found.path, found.line, item.key) in seen:
                continue
            seen.add((found.path, found.line, item.key))
            how = GENERATOR_NAMES.get(found.kind, f"`{found.kind}`")
            unset = unset_note(production, item, found)
            if unset is None:
                message = f"`{item.key}` is generated at import ({how}) in {item.place(found)}"
            else:
                message = (
                    f"`{item.key}` falls back to a value generated at import ({how}) in {item.place(found)}: {unset}"
                )
            finding = self.finding(
                message + "; each worker and each deploy gets its own key",
                found.path,
                found.line,
                column(found),
                subject=f"{item.key} {found.path}",
                evidence=item.evidence_for(found, unset),
            )
            finding.fix = environment_fix(project, item, found, FIXED_KEY_SAFETY)
            yield finding

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
                ),
            }
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app --workers 4\n",
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.secret_key = os.environ.get('SECRET_KEY', os.urandom(24))\n"
                ),
            },
            platform={"variables": ["SECRET_KEY"]},
            note="the generated fallback never runs: SECRET_KEY is set in Railway's Variables",
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\n",
                "config.py": (
                    "import os\nimport secrets\n\n\nclass Config:\n    SECRET_KEY = os.environ['SECRET_KEY']\n\n\n"
                    "class DevelopmentConfig(Config):\n    SECRET_KEY = secrets.token_hex(16)\n\n\n"
                    "class ProductionConfig(Config):\n    pass\n\n\n"
                    "config = {'development': DevelopmentConfig, 'production': ProductionConfig,\n"
                    "          'default': ProductionConfig}\n"
                ),
                "app/__init__.py": (
                    "from flask import Flask\nfrom config import config\n\n\ndef create_app(config_name):\n"
                    "    app = Flask(__name__)\n    app.config.from_object(config[config_name])\n    return app\n"
                ),
                "wsgi.py": "import os\nfrom app import create_app\n\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
            },
            note="generated only in a development config the production path does not select",
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nimport secrets\n\nfrom flask import Flask, session\n\napp = Flask(__name__)\n"
                    "app.secret_key = os.environ['SECRET_KEY']\n"
                    "UPLOAD_TOKEN = secrets.token_urlsafe(16)\n\n\n"
                    "@app.route('/nonce')\ndef nonce():\n    session['nonce'] = secrets.token_hex(8)\n    return 'ok'\n\n\n"
                    "if __name__ == '__main__':\n    app.secret_key = os.urandom(24)\n    app.run()\n"
                ),
            },
            note="per-request values, a value that is not a signing key, and a __main__ block under gunicorn",
        ),
    ]
    INVALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app --workers 3\n",
                "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\napp.secret_key = os.urandom(24)\n",
            },
            expect="`SECRET_KEY` is generated at import (`os.urandom`) in app.py:5",
            fixed={
                "app.py": (
                    "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    'app.secret_key = os.environ["SECRET_KEY"]\n'
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'blog:create_app()'\n",
                "blog/config.py": (
                    "import os\nimport secrets\n\n\nclass Config:\n"
                    "    SECRET_KEY = os.environ.get('SECRET_KEY', secrets.token_hex(32))\n"
                ),
                "blog/__init__.py": (
                    "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                    "    app.config.from_object('blog.config.Config')\n    return app\n"
                ),
            },
            platform={"variables": ["DATABASE_URL"]},
            expect="`SECRET_KEY` falls back to a value generated at import (`secrets`) in `Config` (blog/config.py:6): "
            "`SECRET_KEY` is not set (not among the platform variables)",
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn main:app"\n',
                "main.py": (
                    "import os\nfrom uuid import uuid4 as _uuid\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['SECRET_KEY'] = os.getenv('SECRET_KEY') or str(_uuid())\n"
                ),
            },
            expect="(`uuid`)",
            fixed={
                "main.py": (
                    "import os\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                    "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
                )
            },
            note="the uuid import only the generated key used goes too",
        ),
        Example(
            {
                "Procfile": "web: gunicorn 'api:create_app()'\n",
                "api/__init__.py": (
                    "import secrets\n\nfrom flask import Flask\n\nfrom .settings import ProductionConfig\n\n\n"
                    "def create_app():\n    app = Flask(__name__)\n    app.config.from_object(ProductionConfig)\n"
                    "    app.config.from_mapping(WTF_CSRF_SECRET_KEY=secrets.token_bytes(32))\n    return app\n"
                ),
                "api/settings.py": (
                    "import os\n\n\nclass BaseConfig:\n    JWT_SECRET_KEY = os.urandom(32).hex()\n\n\n"
                    "class ProductionConfig(BaseConfig):\n    SECRET_KEY = os.environ['SECRET_KEY']\n"
                ),
            },
            expect="`JWT_SECRET_KEY` is generated at import (`os.urandom`) in `BaseConfig` (api/settings.py:5), "
            "inherited by `ProductionConfig`",
            fixed={
                "api/__init__.py": (
                    "import os\n\nfrom flask import Flask\n\nfrom .settings import ProductionConfig\n\n\n"
                    "def create_app():\n    app = Flask(__name__)\n    app.config.from_object(ProductionConfig)\n"
                    '    app.config.from_mapping(WTF_CSRF_SECRET_KEY=os.environ["WTF_CSRF_SECRET_KEY"])\n'
                    "    return app\n"
                ),
                "api/settings.py": (
                    "import os\n\n\nclass BaseConfig:\n    JWT_SECRET_KEY = os.environ['JWT_SECRET_KEY']\n\n\n"
                    "class ProductionConfig(BaseConfig):\n    SECRET_KEY = os.environ['SECRET_KEY']\n"
                ),
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": (
                    "import os\nimport secrets as s\nfrom flask import Flask\n\n"
                    "SECRET_KEY = os.environ.get('SECRET_KEY') or s.token_urlsafe()\n\n"
                    "app = Flask(__name__)\napp.config.from_object(__name__)\n"
                ),
            },
            expect="`SECRET_KEY` falls back to a value generated at import (`secrets`) in app.py:5",
            fixed={
                "app.py": (
                    "import os\nfrom flask import Flask\n\nSECRET_KEY = os.environ['SECRET_KEY']\n\n"
                    "app = Flask(__name__)\napp.config.from_object(__name__)\n"
                )
            },
        ),
        Example(
            {
                "Procfile": "web: gunicorn wsgi:app\r\n",
                "config.py": (
                    "import os\r\nimport secrets\r\n\r\n\r\nclass Config:\r\n"
                    "    # a fresh key each boot keeps things simple\r\n"
                    "    SECRET_KEY = os.environ.get(\r\n        'SECRET_KEY',\r\n        secrets.token_hex(32),\r\n    )\r\n"
                    "    TOKEN_TTL = secrets.choice([3600])\r\n"
                ),
                "wsgi.py": (
                    "from flask import Flask\r\n\r\napp = Flask(__name__)\r\napp.config.from_object('config.Config')\r\n"
                ),
            },
            expect="`SECRET_KEY` falls back to a value generated at import (`secrets`) in `Config` (config.py:7)",
            fixed={
                "config.py": (
                    "import os\r\nimport secrets\r\n\r\n\r\nclass Config:\r\n"
                    "    # a fresh key each boot keeps things simple\r\n"
                    "    SECRET_KEY = os.environ['SECRET_KEY']\r\n"
                    "    TOKEN_TTL = secrets.choice([3600])\r\n"
                )
            },
            note="Windows line endings, a read split over lines under a comment; `secrets` is still used",
        ),
    ]
