from __future__ import annotations

import posixpath
from collections.abc import Iterator

from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import SimpleCommand
from analyzer.startcmd import _flask_subcommand, commands_run

FLASK_APP = "from flask import Flask\nfrom flask_migrate import Migrate\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
FLASK_APP += "app = Flask(__name__)\ndb = SQLAlchemy(app)\nmigrate = Migrate(app, db)\n"
ENV_PY = "from alembic import context\nfrom flask import current_app\n\nconfig = context.config\n"
ALEMBIC_ENV_PY = "from alembic import context\n\nfrom myapp.models import Base\n\ntarget_metadata = Base.metadata\n"
REVISION = '"""create users\n\nRevision ID: 1a2b3c4d5e6f\n"""\nfrom alembic import op\n\nrevision = \'1a2b3c4d5e6f\'\n'
REVISION += "down_revision = None\n\n\ndef upgrade():\n    op.create_table('users')\n"
MIGRATIONS = {
    "migrations/env.py": ENV_PY,
    "migrations/alembic.ini": "[alembic]\n",
    "migrations/script.py.mako": "${upgrades}\n",
    "migrations/versions/1a2b3c4d5e6f_create_users.py": REVISION,
}


class MigrationsNotRun(Rule):
    """
    ## What it does
    Flags a repository with Flask-Migrate / Alembic migrations (a folder with
    `env.py` and at least one revision in `versions/`) when nothing in the
    deploy runs them: no `flask db upgrade` or `alembic upgrade` in the
    pre-deploy command (the platform setting or `deploy.preDeployCommand`), and
    none chained before the server in the start command or its start script.

    ## Why is this bad?
    Railway deploys the new code against the old schema: the first request that
    touches a new column fails with `UndefinedColumn` / `no such table`. A
    Procfile `release:` line does not help: Railpack ignores it when a `web`
    entry exists, and Nixpacks ran it at build time, when the private network to
    the database is not there.

    ## Example
    ```
    # Procfile
    web: gunicorn wsgi:app
    release: flask db upgrade
    ```

    ## Use instead
    ```toml
    # railway.toml
    [deploy]
    preDeployCommand = "flask db upgrade"
    startCommand = "gunicorn wsgi:app"
    ```

    ## How to fix
    Set the pre-deploy command to `flask db upgrade` (railway.toml `deploy.preDeployCommand` or the service settings).

    ## References
    - Railway: Pre-deploy command
    - Flask-Migrate: `flask db upgrade`
    - Alembic: `alembic upgrade head`
    """

    id = "PF601"
    slug = "migrations-not-run"
    severity = Severity.HIGH
    title = "Migrations are not run on deploy"

    def check(self, project: Project) -> Iterator[Finding]:
        folders = migration_folders(project)
        if not folders or _deploy_runs_migrations(project):
            return
        release = project.procfile.get("release") if project.procfile is not None else None
        note = ""
        if release is not None:
            note = (
                f"; the Procfile `release:` line ({project.procfile.path}:{release.line}) does not count: "
                "Railpack ignores it when a `web` entry exists, and Nixpacks ran it at build time, "
                "without the private network to the database"
            )
        for folder, (revisions, upgrade) in folders.items():
            count = f"{revisions} revision{'s' if revisions != 1 else ''}"
            yield self.finding(
                f"`{folder}/` holds {count} but no pre-deploy command or start command runs `{upgrade}`{note}",
                folder,
                subject=folder,
            )

    VALID = [
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\npreDeployCommand = "flask db upgrade"\n',
                "app.py": FLASK_APP,
                **MIGRATIONS,
            }
        ),
        Example(
            {
                "railway.json": '{"deploy": {"preDeployCommand": ["flask --app app db upgrade"]}}',
                "Procfile": "web: gunicorn app:app\n",
                "app.py": FLASK_APP,
                **MIGRATIONS,
            },
            note="railway.json gives preDeployCommand as a list",
        ),
        Example(
            {
                "Procfile": "web: ./start.sh\n",
                "start.sh": "#!/bin/sh\nset -e\nflask db upgrade\nexec gunicorn app:app\n",
            }
            | {"app.py": FLASK_APP, **MIGRATIONS}
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                    'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]\n'
                ),
                "docker-entrypoint.sh": '#!/bin/sh\nset -e\npoetry run alembic upgrade head\nexec "$@"\n',
                "app.py": FLASK_APP,
                "alembic.ini": "[alembic]\nscript_location = db\n",
                "db/env.py": ALEMBIC_ENV_PY,
                "db/versions/1a2b3c4d5e6f_create_users.py": REVISION,
            },
            note="an ENTRYPOINT script that migrates, then execs the CMD",
        ),
        Example(
            {"Procfile": "web: gunicorn app:app\n", "app.py": FLASK_APP, **MIGRATIONS},
            platform={"pre_deploy_command": "python -m flask db upgrade"},
        ),
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": FLASK_APP,
                "migrations/env.py": ENV_PY,
                "migrations/versions/.gitkeep": "",
            },
            note="flask db init was run but no revision exists yet",
        ),
        Example(
            {
                "backend/Procfile": "web: sh -c 'flask --app wsgi db upgrade && gunicorn wsgi:app'\n",
                "backend/wsgi.py": FLASK_APP,
                **{f"backend/{name}": text for name, text in MIGRATIONS.items()},
            },
            app_root="backend",
        ),
    ]
    INVALID = [
        Example(
            {"Procfile": "web: gunicorn app:app\nrelease: flask db upgrade\n", "app.py": FLASK_APP, **MIGRATIONS},
            expect="`release:` line (Procfile:2) does not count",
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\n',
                "app.py": FLASK_APP,
                **MIGRATIONS,
            },
            expect="`migrations/` holds 1 revision",
        ),
        Example(
            {
                "Procfile": "web: ./start.sh\n",
                "start.sh": "#!/bin/sh\nflask db migrate\nexec gunicorn app:app\n",
                "app.py": FLASK_APP,
                **MIGRATIONS,
            },
            note="`flask db migrate` writes a revision, it does not apply one",
        ),
        Example(
            {
                "Dockerfile": (
                    "FROM python:3.12-slim\nCOPY . /app\nWORKDIR /app\nRUN alembic upgrade head\n"
                    'CMD ["gunicorn", "app:app"]\n'
                ),
                "app.py": FLASK_APP,
                "alembic.ini": "[alembic]\nscript_location = alembic\n",
                "alembic/env.py": ALEMBIC_ENV_PY,
                "alembic/versions/1a2b3c4d5e6f_create_users.py": REVISION,
            },
            expect="`alembic/` holds 1 revision but no pre-deploy command or start command runs `alembic upgrade head`",
            note="a Dockerfile RUN runs at build time, without the database",
        ),
        Example(
            {
                "services/api/Procfile": "web: gunicorn wsgi:app\n",
                "services/api/wsgi.py": FLASK_APP,
                **{f"services/api/{name}": text for name, text in MIGRATIONS.items()},
            },
            app_root="services/api",
            expect="`services/api/migrations/`",
        ),
    ]


def migration_folders(project: Project) -> dict[str, tuple[int, str]]:
    """Alembic script folders under the app root -> (revision files, the command that applies them)."""
    folders: dict[str, tuple[int, str]] = {}
    for path in project.app_files:
        if posixpath.basename(path) != "env.py":
            continue
        folder = posixpath.dirname(path)
        text = project.read_text(path)
        if not text or "alembic" not in text:
            continue
        versions = f"{folder}/versions/" if folder else "versions/"
        revisions = sum(
            1
            for other in project.app_files
            if other.startswith(versions) and other.endswith(".py") and posixpath.basename(other) != "__init__.py"
        )
        if revisions:
            upgrade = "flask db upgrade" if "flask" in text else "alembic upgrade head"
            folders[folder or "."] = (revisions, upgrade)
    return folders


def _deploy_runs_migrations(project: Project) -> bool:
    pre_deploy = [project.platform.pre_deploy_command] if project.platform.pre_deploy_command else []
    for config in project.railway_configs:
        for deploy in _deploy_sections(config.data):
            value = deploy.get("preDeployCommand")
            pre_deploy.extend([value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)])
    for command_line in pre_deploy:
        if any(is_migration(command) for command in commands_run(project, command_line)):
            return True
    run = project.server_run
    if run is not None:
        return any(is_migration(command) for command in run.before)
    start = project.start_command
    return start is not None and any(is_migration(command) for command in commands_run(project, start.command))


def _deploy_sections(data: dict) -> list[dict]:
    """`deploy` of the config and of each of its `environments` overrides."""
    sections = [data.get("deploy")]
    environments = data.get("environments")
    if isinstance(environments, dict):
        sections.extend(env.get("deploy") for env in environments.values() if isinstance(env, dict))
    return [section for section in sections if isinstance(section, dict)]


def is_migration(command: SimpleCommand) -> bool:
    """`flask db upgrade`, `flask --app X db upgrade`, `python -m flask db upgrade`, `alembic upgrade head`,
    and Flask-Script's `python manage.py db upgrade`."""
    argv = command.argv
    program = command.program
    if program.startswith("python") and len(argv) > 2 and argv[1] == "-m":
        argv, program = argv[2:], argv[2]
    if program == "flask":
        return _flask_subcommand(argv[1:])[:2] == ["db", "upgrade"]
    if program == "alembic":
        return "upgrade" in argv[1:]
    if program.startswith("python") and len(argv) > 3 and posixpath.basename(argv[1]) == "manage.py":
        return argv[2:4] == ["db", "upgrade"]
    return False
