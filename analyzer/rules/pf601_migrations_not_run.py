from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator

from analyzer.autofix import Fix
from analyzer.deployfiles import exec_form
from analyzer.fixes.deployfiles import (
    Span,
    TextEdit,
    apply_edits,
    command_spans,
    encode,
    instruction_bounds,
    shell_word,
    utf8_text,
)
from analyzer.fixes.textedit import json_object_add, toml_add_key
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule
from analyzer.shell import SimpleCommand, quote
from analyzer.startcmd import _flask_subcommand, commands_run

FLASK_APP = "from flask import Flask\nfrom flask_migrate import Migrate\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
FLASK_APP += "app = Flask(__name__)\ndb = SQLAlchemy(app)\nmigrate = Migrate(app, db)\n"
ENV_PY = "from alembic import context\nfrom flask import current_app\n\nconfig = context.config\n"
ALEMBIC_ENV_PY = "from alembic import context\n\nfrom myapp.models import Base\n\ntarget_metadata = Base.metadata\n"
REVISION = '"""create users\n\nRevision ID: 1a2b3c4d5e6f\n"""\nfrom alembic import op\n\nrevision = \'1a2b3c4d5e6f\'\n'
REVISION += "down_revision = None\n\n\ndef upgrade():\n    op.create_table('users')\n"
FACTORY_APP = (
    "from flask import Flask\nfrom flask_migrate import Migrate\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
    "db = SQLAlchemy()\nmigrate = Migrate()\n\n\ndef create_app():\n    app = Flask(__name__)\n"
    "    db.init_app(app)\n    migrate.init_app(app, db)\n    return app\n"
)
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

    ## Fix safety
    With a railway config the autofix sets `deploy.preDeployCommand`, which
    runs once per deploy. Without one it chains the migration before the
    server in the start command (`web: flask db upgrade && gunicorn ...`):
    that runs on every start of every replica, and replicas starting together
    can race, so the fix is marked unsafe and says the pre-deploy command is
    the better place. `flask --app TARGET` is added when the flask CLI would
    not find the app by itself.

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
            finding = self.finding(
                f"`{folder}/` holds {count} but no pre-deploy command or start command runs `{upgrade}`{note}",
                folder,
                subject=folder,
            )
            if len(folders) == 1:
                finding.fix = _fix(project, upgrade)
            yield finding

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
            fixed={"Procfile": "web: flask db upgrade && gunicorn app:app\nrelease: flask db upgrade\n"},
        ),
        Example(
            {
                "railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\n',
                "app.py": FLASK_APP,
                **MIGRATIONS,
            },
            expect="`migrations/` holds 1 revision",
            fixed={
                "railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\npreDeployCommand = "flask db upgrade"\n'
            },
        ),
        Example(
            {
                "Procfile": "web: ./start.sh\n",
                "start.sh": "#!/bin/sh\nflask db migrate\nexec gunicorn app:app\n",
                "app.py": FLASK_APP,
                **MIGRATIONS,
            },
            note="`flask db migrate` writes a revision, it does not apply one",
            fixed={"Procfile": "web: flask db upgrade && ./start.sh\n"},
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
            fixed={
                "Dockerfile": (
                    "FROM python:3.12-slim\nCOPY . /app\nWORKDIR /app\nRUN alembic upgrade head\n"
                    'CMD ["sh", "-c", "alembic upgrade head && exec gunicorn app:app"]\n'
                )
            },
        ),
        Example(
            {
                "services/api/Procfile": "web: gunicorn wsgi:app\n",
                "services/api/wsgi.py": FLASK_APP,
                **{f"services/api/{name}": text for name, text in MIGRATIONS.items()},
            },
            app_root="services/api",
            expect="`services/api/migrations/`",
            fixed={"services/api/Procfile": "web: flask db upgrade && gunicorn wsgi:app\n"},
        ),
        Example(
            {
                "railway.json": (
                    '{\r\n  "$schema": "https://railway.com/railway.schema.json",\r\n'
                    '  "deploy": {\r\n    "startCommand": "gunicorn \'shop:create_app()\'",\r\n'
                    '    "healthcheckPath": "/health"\r\n  }\r\n}\r\n'
                ),
                "shop/__init__.py": FACTORY_APP,
                **MIGRATIONS,
            },
            expect="`migrations/` holds 1 revision",
            fixed={
                "railway.json": (
                    '{\r\n  "$schema": "https://railway.com/railway.schema.json",\r\n'
                    '  "deploy": {\r\n    "startCommand": "gunicorn \'shop:create_app()\'",\r\n'
                    '    "healthcheckPath": "/health",\r\n'
                    '    "preDeployCommand": "flask --app \'shop:create_app()\' db upgrade"\r\n  }\r\n}\r\n'
                )
            },
            note="a factory the flask CLI would not find on its own is named with --app",
        ),
        Example(
            {
                "railway.toml": '# Railway\n[build]\nbuilder = "RAILPACK"\n',
                "Procfile": "web: gunicorn app:app\n",
                "app.py": FLASK_APP,
                **MIGRATIONS,
            },
            expect="`migrations/` holds 1 revision",
            fixed={
                "railway.toml": (
                    '# Railway\n[build]\nbuilder = "RAILPACK"\n\n[deploy]\npreDeployCommand = "flask db upgrade"\n'
                )
            },
            note="the railway config gets a [deploy] table",
        ),
        Example(
            {
                "Procfile": "web:   gunicorn --workers 2 wsgi:app   # served by gunicorn\r\nworker: rq worker\r\n",
                "wsgi.py": FLASK_APP,
                **MIGRATIONS,
            },
            expect="`migrations/` holds 1 revision",
            fixed={
                "Procfile": (
                    "web:   flask db upgrade && gunicorn --workers 2 wsgi:app   # served by gunicorn\r\n"
                    "worker: rq worker\r\n"
                )
            },
            note="Windows line endings and a comment on the line",
        ),
    ]


def _fix(project: Project, upgrade: str) -> Fix | None:
    """The railway config's pre-deploy command; without one, the migration chained before the server."""
    command = _migration_command(project, upgrade)
    if command is None:
        return None
    config = project.railway_config
    if config is not None:
        return _pre_deploy_fix(project, config, command)
    return _chained_fix(project, command)


def _migration_command(project: Project, upgrade: str) -> str | None:
    """`flask db upgrade`, naming the app when the flask CLI would not find it on its own."""
    if upgrade.startswith("alembic"):
        return upgrade if project.exists("alembic.ini") else None
    run = project.server_run
    if project.platform.has_variable("FLASK_APP") or run is None or run.kind != "gunicorn" or not run.target:
        return upgrade
    if _flask_finds(project, run.target):
        return upgrade
    if project.manifests.pinned_below("flask", "2.2"):
        return None  # `--app` came with Flask 2.2
    return f"flask --app {shell_word(run.target)} db upgrade"


def _flask_finds(project: Project, target: str) -> bool:
    """Whether `flask` with no FLASK_APP loads the served app: it imports wsgi.py, else app.py, and takes
    `app`/`application` or calls `create_app()`/`make_app()`."""
    module, _, attribute = target.partition(":")
    found = next((name for name in ("wsgi", "app") if project.exists(f"{name}.py")), None)
    return module == found and attribute.replace(" ", "") in ("app", "application", "create_app()", "make_app()")


def _pre_deploy_fix(project: Project, config, command: str) -> Fix | None:
    text = utf8_text(project, config.path)
    if text is None or config.error is not None or config.get("deploy", "preDeployCommand") is not None:
        return None
    if config.path.endswith(".json"):
        new = json_object_add(text, ("deploy",), "preDeployCommand", command)
    else:
        new = toml_add_key(text, "deploy", f"preDeployCommand = {json.dumps(command)}")
    if new is None:
        return None
    return Fix(
        f"Run `{command}` as the pre-deploy command in {config.path}",
        "Railway runs the pre-deploy command once per deploy, with the private network to the database, "
        "before the new version takes traffic; a migration that fails stops the deploy and the old version "
        "keeps serving. Check that the pending revisions are safe to apply to the production data.",
        {config.path: new},
    )


def _chained_fix(project: Project, command: str) -> Fix | None:
    """`MIGRATION && SERVER` where the start command is written (Procfile, a config string, a Dockerfile CMD)."""
    start = project.start_command
    if start is None or start.path is None or start.kind == "inferred":
        return None
    if re.search(r"\|\||(?<![&|])[;|&](?![&|])", start.command):
        return None  # `&&` binds tighter than `||` and `;`: chaining could change what runs after a failure
    spans = [span for span in command_spans(project, start) if span.path == start.path]
    if len(spans) != 1:
        return None
    edit = _chain_edit(project, spans[0], command)
    changes = apply_edits(project, [edit]) if edit is not None else None
    if not changes:
        return None
    return Fix(
        f"Run `{command}` before the server in {start.path}",
        f"This fix is unsafe because `{command}` then runs every time the web process starts, not once per "
        "deploy: each replica and each restart migrates, replicas starting together can race on the same "
        "revision, and a failing migration keeps the app from starting. Railway's pre-deploy command "
        "(`deploy.preDeployCommand` in railway.toml, or the service settings) runs it once per deploy and is "
        "the better place; the repo has no railway config to hold it.",
        changes,
    )


def _chain_edit(project: Project, span: Span, command: str) -> TextEdit | None:
    if span.kind != "exec":
        encoded = encode(span.kind, f"{command} && ")
        return TextEdit(span.path, span.start, span.start, encoded) if encoded is not None else None
    dockerfile = project.dockerfile
    stage = dockerfile.final_stage() if dockerfile is not None else []
    cmds = [ins for ins in stage if ins.keyword == "CMD"]
    argv = exec_form(cmds[-1].value) if cmds else None
    if argv is None or any(ins.keyword == "ENTRYPOINT" for ins in stage) or any("$" in word for word in argv):
        return None
    text = utf8_text(project, span.path)
    bounds = instruction_bounds(text, cmds[-1].line) if text is not None else None
    head = re.match(r"\s*CMD\s+", text[bounds[0] : bounds[1]], re.I) if bounds else None
    if head is None:
        return None
    script = f"{command} && exec " + " ".join(quote(word) for word in argv)
    return TextEdit(span.path, bounds[0] + head.end(), bounds[1], json.dumps(["sh", "-c", script]))


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
