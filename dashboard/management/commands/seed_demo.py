"""`manage.py seed_demo --projects N --scans-per-project M`: a large, realistic data set for demos and benchmarks.

Each project gets a history of scans whose findings persist across scans by
fingerprint, with some fixed and some new along the way, lines that drift,
re-scans of an unchanged commit that reuse the previous result, and the odd
failed scan. Scores, verdicts and counts are computed the way the pipeline
computes them. Demo projects are never scheduled: their repositories do not
exist.

Speed: scan ids are reserved up front (so `reused_from` is set at insert),
scans go in with bulk_create, and findings with COPY on Postgres (bulk_create
elsewhere): 1,000 x 100 x 20 (two million findings) takes a few minutes.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from analyzer import __version__ as analyzer_version
from analyzer.report import Finding as AnalyzerFinding
from analyzer.report import Severity, score_findings
from analyzer.rules import catalog
from dashboard import crypto
from dashboard.models import Finding, Project, Scan, ScanStatus, Schedule, Team, new_token
from dashboard.projects import new_webhook_secret

PROJECTS_PER_TRANSACTION = 20
SEVERITIES = [severity.value for severity in Severity]

ADJECTIVES = (  # noqa: SIM905 (words read better as a sentence)
    "amber azure bold brisk calm cedar coral crisp daring dusty eager early fair fern frosty gentle "
    "golden hidden humble ivory jolly keen lively lunar maple mellow misty noble ocean olive plain quiet "
    "rapid rosy rustic silver solar steady sunny swift tidy urban velvet vivid warm"
).split()
NOUNS = (  # noqa: SIM905 (words read better as a sentence)
    "atlas badger beacon bistro bookshop cart clinic compass courier depot dispatch falcon garden "
    "gazette harbor invoice journal kiosk ledger lighthouse locker market meadow mint notebook orchard "
    "parcel pantry planner portal quarry radar recipes relay roster saddle scout signal studio tavern "
    "ticket timber tracker voyage wharf"
).split()
ORGS = ("acme", "northwind", "contoso", "initech", "umbrella-labs", "globex", "hooli", "stark-apps")
AUTHORS = ("Ada Lovelace", "Grace Hopper", "Linus Pauling", "Katherine Johnson", "Alan Kay", "Barbara Liskov")
COMMIT_MESSAGES = (
    "Add password reset",
    "Fix invoice totals rounding",
    "Bump Flask to 3.0.3",
    "Move settings to config.py",
    "Add Procfile for Railway",
    "Use gunicorn in production",
    "Read DATABASE_URL from the environment",
    "Add CSV export",
    "Refactor blueprints",
    "Upload avatars",
    "Add Celery worker for e-mails",
    "Pin Python 3.12",
    "Tidy requirements",
    "Add health check endpoint",
)
FAILURES = (
    "Authentication failed: the repository refused the stored token. Enter a new token with read access.",
    "Repository not found: check the URL, or give the token access to this repository.",
    "Branch `release` does not exist on the remote. Enter an existing branch, or leave it empty for the default.",
    "The scan took longer than the time limit and was stopped. Start a new scan.",
)


@dataclass(frozen=True)
class Template:
    rule: str
    path: str
    line: int
    code: str  # the flagged line
    message: str
    subject: str
    fix: str | None = None  # the line that replaces `code` in the patch


# Findings real Flask repositories get; {pkg} is the project's package name, {var} a variable name.
TEMPLATES = (
    Template(
        "PF101", "", 0, "", "Railway finds no start command: no Procfile, railway config or Dockerfile CMD", "web"
    ),
    Template(
        "PF102",
        "Procfile",
        1,
        "web: gunicorn {pkg}:app",
        "Procfile:1 runs `gunicorn {pkg}:app` but `{pkg}` defines no `app` (the factory is `create_app`)",
        "web",
        "web: gunicorn '{pkg}:create_app()'",
    ),
    Template(
        "PF103",
        "Procfile",
        1,
        "web: python app.py",
        "Procfile:1 runs `python app.py`, the Werkzeug development server",
        "web",
        "web: gunicorn app:app",
    ),
    Template(
        "PF104",
        "gunicorn.conf.py",
        3,
        'bind = "127.0.0.1:8000"',
        "gunicorn.conf.py `bind`: `127.0.0.1:8000` is not reachable from Railway's proxy",
        "bind",
        'bind = "0.0.0.0:" + os.environ.get("PORT", "8000")',
    ),
    Template(
        "PF105", "Procfile", 1, "app: gunicorn app:app", "Procfile has no `web` process (`app` serves HTTP)", "web"
    ),
    Template(
        "PF109",
        "{pkg}/__init__.py",
        41,
        'if __name__ == "__main__":',
        "`{pkg}/__init__.py` registers blueprints under `if __name__ == '__main__'`: gunicorn never runs it",
        "__main__",
    ),
    Template("PF201", "", 0, "", "no requirements.txt, pyproject.toml or Pipfile in the app root", "manifest"),
    Template(
        "PF202",
        "requirements.txt",
        1,
        "flask==3.0.3",
        "`gunicorn` is not declared in requirements.txt: the start command fails with `command not found`",
        "gunicorn",
        "flask==3.0.3\ngunicorn==22.0.0",
    ),
    Template(
        "PF203",
        "requirements.txt",
        0,
        "",
        "no Python version is pinned: Railpack picks its default, which can change",
        "python",
    ),
    Template(
        "PF301",
        "app.py",
        57,
        "    app.run(debug=True)",
        "app.py:57: `debug=True` serves the interactive Werkzeug debugger",
        "run-debug",
        '    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")',
    ),
    Template(
        "PF302",
        "config.py",
        9,
        'ENV = os.environ.get("FLASK_ENV", "production")',
        "`FLASK_ENV` is no longer read by Flask (removed in 2.3)",
        "FLASK_ENV",
    ),
    Template(
        "PF303",
        "config.py",
        12,
        'SECRET_KEY = "dev-********"',
        "`SECRET_KEY` is a hard-coded literal in config.py",
        "SECRET_KEY",
        'SECRET_KEY = os.environ["SECRET_KEY"]',
    ),
    Template(
        "PF304",
        "{pkg}/__init__.py",
        18,
        "    login_manager.init_app(app)",
        "the app uses sessions (Flask-Login at {pkg}/__init__.py:18) but no `SECRET_KEY` is set on it",
        "SECRET_KEY",
    ),
    Template("PF305", ".env", 1, "DATABASE_URL=********", "`.env` is committed with 6 variables", ".env"),
    Template(
        "PF306",
        "config.py",
        21,
        "    DEBUG = True",
        "`ProductionConfig` turns `DEBUG` on while gunicorn serves the app",
        "DEBUG",
        '    DEBUG = os.environ.get("DEBUG") == "1"',
    ),
    Template(
        "PF307",
        "config.py",
        14,
        "SECRET_KEY = os.urandom(24)",
        "`SECRET_KEY` comes from `os.urandom()`; each worker and each deploy gets its own key",
        "SECRET_KEY",
    ),
    Template(
        "PF308",
        "{pkg}/mail.py",
        7,
        'MAIL_PASSWORD = "********"',
        "`{var}` is a hard-coded literal in {pkg}/mail.py",
        "{var}",
    ),
    Template(
        "PF309",
        "{pkg}/settings.py",
        5,
        'STRIPE_KEY = os.environ["{var}"]',
        "`{var}` is required at startup and not among the platform variables",
        "{var}",
    ),
    Template(
        "PF401",
        "{pkg}/db.py",
        6,
        'engine = create_engine(os.environ["DATABASE_URL"])',
        "the URL of `create_engine()` ({pkg}/db.py:6) is `postgres://` on Railway, which SQLAlchemy 1.4+ refuses",
        "create_engine",
        'engine = create_engine(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1))',
    ),
    Template(
        "PF402",
        "config.py",
        17,
        'SQLALCHEMY_DATABASE_URI = "sqlite:///app.db"',
        "`SQLALCHEMY_DATABASE_URI` is SQLite in production: the file is lost on every deploy",
        "SQLALCHEMY_DATABASE_URI",
    ),
    Template(
        "PF403",
        "requirements.txt",
        0,
        "",
        "`DATABASE_URL` is a `postgresql` URL but requirements.txt installs no psycopg2 or psycopg: the app fails",
        "driver",
    ),
    Template(
        "PF404",
        "instance/app.db",
        0,
        "",
        "`instance/app.db` is committed: every deploy resets the data to it",
        "instance/app.db",
    ),
    Template(
        "PF405",
        "{pkg}/cache.py",
        4,
        'REDIS_URL = os.environ.get("{var}", "redis://localhost:6379/0")',
        "`{var}` falls back to `redis://localhost:6379/0` when it is unset: the app boots on Railway and fails later",
        "{var}",
        'REDIS_URL = os.environ["{var}"]',
    ),
    Template(
        "PF501",
        "app.py",
        5,
        'app = Flask(__name__, static_folder="static")',
        "static files are served by Flask through gunicorn's workers",
        "static files",
    ),
    Template(
        "PF502",
        "app.py",
        5,
        "app = Flask(__name__)",
        "`url_for(_external=True)` builds http:// links behind Railway's proxy",
        "proxy",
        "app = Flask(__name__)\napp.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)",
    ),
    Template(
        "PF503",
        "{pkg}/uploads.py",
        23,
        "    file.save(os.path.join(UPLOAD_FOLDER, name))",
        "`file.save()` writes to `uploads/` on the container disk, which each deploy wipes",
        "uploads/",
    ),
    Template(
        "PF601",
        "migrations/env.py",
        0,
        "",
        "`migrations/` holds 14 revisions but no pre-deploy command or start command runs `flask db upgrade`",
        "migrations",
    ),
    Template(
        "PF602",
        "{pkg}/tasks.py",
        3,
        'celery = Celery(__name__, broker=os.environ["REDIS_URL"])',
        "`{pkg}/tasks.py` defines Celery tasks but no worker service runs them",
        "celery",
    ),
    Template(
        "PF603",
        "gunicorn.conf.py",
        4,
        "workers = multiprocessing.cpu_count() * 2 + 1",
        "`cpu_count() * 2 + 1` (gunicorn.conf.py:4) counts the host's cores: 65 workers on Railway",
        "workers",
        'workers = int(os.environ.get("WEB_CONCURRENCY", 2))',
    ),
    Template(
        "PF701",
        "config.py",
        30,
        'REDIS_URL = os.environ["REDISCLOUD_URL"]',
        "`REDISCLOUD_URL` is set only on Heroku; Railway's counterpart: `${{Redis.REDIS_URL}}`",
        "REDISCLOUD_URL",
    ),
)
# Rules that can fire several times in one repository, once per variable.
VARIABLES = (  # noqa: SIM905 (words read better as a sentence)
    "MAIL_PASSWORD STRIPE_SECRET_KEY SENTRY_DSN REDIS_URL CACHE_URL BROKER_URL SMTP_PASSWORD "
    "AWS_SECRET_ACCESS_KEY GITHUB_TOKEN SLACK_WEBHOOK_URL OPENAI_API_KEY TWILIO_AUTH_TOKEN MAPBOX_TOKEN "
    "ALGOLIA_KEY"
).split()
CONTEXT = ("import os", "", "from flask import Flask", "", "# settings", "", "def create_app():", "    return app")


def _copy_text(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@cache
def _fix_title(rule_id: str) -> str:
    rule = catalog().by_id(rule_id)
    return rule.fix_summary()[:300] if rule else ""


class Instance:
    """One finding of one project, as it is stored in every scan that still has it."""

    def __init__(self, template: Template, pkg: str, var: str, rng: random.Random) -> None:
        rule = catalog().by_id(template.rule)
        fill = {"pkg": pkg, "var": var}
        self.rule = template.rule
        self.severity = rule.severity.value if rule else "medium"
        self.path = template.path.format(**fill)
        self.message = template.message.format(**fill)
        self.code = template.code.format(**fill)
        subject = template.subject.format(**fill)
        self.line = template.line + rng.randint(0, 30) if template.line else None
        self.fingerprint = AnalyzerFinding(
            rule=self.rule, severity=Severity(self.severity), message=self.message, path=self.path, subject=subject
        ).fingerprint
        self.evidence = [f"{self.path}:{self.line}" if self.line else self.path or "repository"]
        self.fix_title = _fix_title(self.rule)
        self.patch = ""
        if template.fix and self.path and self.line:
            new_lines = template.fix.format(**fill).splitlines()
            self.patch = (
                f"--- a/{self.path}\n+++ b/{self.path}\n@@ -{self.line} +{self.line},{len(new_lines)} @@\n"
                f"-{self.code}\n" + "".join(f"+{line}\n" for line in new_lines)
            )
        self.fix_safety = "Safe: the change keeps the app's behaviour in development." if self.patch else ""
        self.suppressed = rng.random() < 0.03
        self.suppression_reason = "inline `# preflight: ignore`" if self.suppressed else ""
        self.scorable = AnalyzerFinding(
            rule=self.rule, severity=Severity(self.severity), message=self.message, suppressed=self.suppressed
        )
        self._rows: dict[int | None, str] = {}

    def excerpt(self, line: int | None) -> list[list]:
        if not line or not self.code:
            return []
        first = max(1, line - 2)
        return [
            [number, self.code if number == line else CONTEXT[number % len(CONTEXT)]]
            for number in range(first, line + 3)
        ]

    def copy_row(self, line: int | None) -> str:
        """Every column after the scan id (FINDING_FIELDS), in COPY's text format; cached per line."""
        if line not in self._rows:
            finding = self.model(0, line)
            self._rows[line] = "\t".join(_copy_text(_plain(field, finding)) for field in FINDING_FIELDS)
        return self._rows[line]

    def model(self, scan_id: int, line: int | None) -> Finding:
        return Finding(
            scan_id=scan_id,
            rule=self.rule,
            severity=self.severity,
            path=self.path,
            line=line,
            column=1 if line else None,
            message=self.message,
            fingerprint=self.fingerprint,
            evidence=self.evidence,
            patch=self.patch,
            fix_title=self.fix_title,
            fix_safety=self.fix_safety,
            suppressed=self.suppressed,
            suppression_reason=self.suppression_reason,
            excerpt=self.excerpt(line),
        )


# Every stored column but the id, so a column added to Finding (with its Python default) is filled too.
FINDING_FIELDS = [field for field in Finding._meta.concrete_fields if field.name not in ("id", "scan")]


def _pool(pkg: str, size: int, rng: random.Random) -> list[Instance]:
    """Distinct findings a project can have over its history: every template, and per-variable repeats."""
    pool, seen = [], set()
    repeatable = [t for t in TEMPLATES if "{var}" in t.subject]
    candidates = [(t, rng.choice(VARIABLES)) for t in TEMPLATES] + [(t, var) for t in repeatable for var in VARIABLES]
    rng.shuffle(candidates)
    for template, var in candidates:
        instance = Instance(template, pkg, var, rng)
        if instance.fingerprint not in seen:
            seen.add(instance.fingerprint)
            pool.append(instance)
        if len(pool) >= size:
            break
    return pool


def reserve_ids(model, count: int) -> list[int]:
    """`count` primary keys for rows inserted with explicit ids, so rows can point at each other at insert."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # Elsewhere (SQLite) one writer at a time: the ids after the largest one are free.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def _project_names(team: Team, count: int, rng: random.Random) -> list[str]:
    taken = set(Project.objects.filter(team=team).values_list("name", flat=True))
    combos = [f"{a}-{n}" for a in ADJECTIVES for n in NOUNS]
    rng.shuffle(combos)
    names, round_ = [], 1
    while len(names) < count:
        for combo in combos:
            name = combo if round_ == 1 else f"{combo}-{round_}"
            if name not in taken:
                taken.add(name)
                names.append(name)
                if len(names) == count:
                    break
        round_ += 1
    return names


class Seeder:
    def __init__(self, team: Team, scans: int, findings: int, rng: random.Random) -> None:
        self.team, self.scans, self.findings, self.rng = team, scans, findings, rng
        self.now = timezone.now()
        self.finding_rows = 0
        self.scan_rows = 0

    def seed(self, names: list[str]) -> None:
        with transaction.atomic():
            projects = Project.objects.bulk_create([self._project(name) for name in names])
            scans, findings, last = [], [], {}
            ids = iter(reserve_ids(Scan, len(projects) * self.scans))
            for project in projects:
                history = self._history(project, ids)
                scans.extend(scan for scan, _ in history)
                findings.extend((scan.pk, rows) for scan, rows in history if rows)
                if history:
                    last[project.pk] = history[-1][0].pk
            self._insert_scans(scans)
            self._insert_findings(findings)
            for project in projects:
                project.last_scan_id = last.get(project.pk)
            Project.objects.bulk_update(projects, ["last_scan"], batch_size=500)
        self.scan_rows += len(scans)

    def _project(self, name: str) -> Project:
        rng = self.rng
        return Project(
            team=self.team,
            name=name,
            repo_url=f"https://github.com/{rng.choice(ORGS)}/{name}.git",
            branch=rng.choice(("main", "main", "main", "master", "")),
            app_root=rng.choice((".", ".", ".", ".", "services/web", "backend")),
            start_command=rng.choice(("", "", "", "gunicorn app:app")),
            variables=[*rng.sample(VARIABLES, rng.randint(2, 6)), "DATABASE_URL", "SECRET_KEY"],
            schedule=Schedule.OFF,
            webhook_token=new_token(),
            webhook_secret=crypto.encrypt(new_webhook_secret()),
            created_at=self.now - timedelta(days=self.scans + 30),
        )

    def _history(self, project: Project, ids) -> list[tuple[Scan, list[tuple[Instance, int | None]]]]:
        """The project's scans, oldest first, each with its findings (instance, line)."""
        rng = self.rng
        pool = _pool(project.name.split("-")[-1], self.findings * 2 + 10, rng)
        current = pool[: self.findings]
        spare = pool[self.findings :]
        lines = {instance.fingerprint: instance.line for instance in pool}
        # The history improves over time in most projects: fixes slightly outnumber new findings.
        improving = rng.random() < 0.7
        step = timedelta(days=1)
        start = self.now - step * self.scans
        sha, origin, score = f"{rng.getrandbits(160):040x}", None, None
        history = []
        for index in range(self.scans):
            created = start + step * index + timedelta(minutes=rng.randint(0, 600))
            scan_id = next(ids)
            last = index == self.scans - 1
            if rng.random() < (0.02 if last else 0.04):
                history.append((self._failed(project, scan_id, created), []))
                continue
            changed = origin is None or rng.random() < 0.55
            if changed:
                sha = f"{rng.getrandbits(160):040x}"
                self._churn(current, spare, improving)
                for instance in rng.sample(current, min(len(current), 3)):
                    if lines[instance.fingerprint]:
                        lines[instance.fingerprint] = max(1, lines[instance.fingerprint] + rng.randint(-3, 5))
                score = score_findings([instance.scorable for instance in current])
            counts = dict.fromkeys(SEVERITIES, 0)
            for instance in current:
                if not instance.suppressed:
                    counts[instance.severity] += 1
            trigger = rng.choices(("schedule", "push", "manual", "command"), (55, 35, 8, 2))[0]
            author = rng.choice(AUTHORS)
            duration = timedelta(seconds=rng.uniform(0.2, 1.5) if not changed else rng.uniform(2.5, 25))
            scan = Scan(
                pk=scan_id,
                project_id=project.pk,
                status=ScanStatus.SUCCEEDED,
                stage="done",
                progress=100,
                trigger="schedule" if not changed else trigger,
                commit_sha=sha,
                commit_message=rng.choice(COMMIT_MESSAGES),
                commit_author=f"{author} <{author.split()[0].lower()}@example.org>",
                analyzer_version=analyzer_version,
                score=score[0],
                verdict=score[1],
                counts=counts,
                report=self._report(project, current, score),
                inputs={"app_root": project.app_root or ".", "platform": project.platform_settings()},
                reused_from_id=None if changed else origin,
                created_at=created,
                started_at=created + timedelta(seconds=1),
                finished_at=created + timedelta(seconds=1) + duration,
            )
            if changed:
                origin = scan_id
            history.append((scan, [(instance, lines[instance.fingerprint]) for instance in current]))
        return history

    def _churn(self, current: list[Instance], spare: list[Instance], improving: bool) -> None:
        """Fix some findings and introduce others; the count drifts around the requested one."""
        rng = self.rng
        pull = (len(current) - self.findings) * 0.1
        fixed = rng.random() < (0.35 if improving else 0.25) + pull
        new = rng.random() < (0.25 if improving else 0.35) - pull
        if fixed and len(current) > 1:
            spare.append(current.pop(rng.randrange(len(current))))
        if new and spare:
            current.append(spare.pop(rng.randrange(len(spare))))

    def _failed(self, project: Project, scan_id: int, created: datetime) -> Scan:
        return Scan(
            pk=scan_id,
            project_id=project.pk,
            status=ScanStatus.FAILED,
            stage="failed",
            trigger=self.rng.choice(("schedule", "push")),
            error=self.rng.choice(FAILURES),
            created_at=created,
            started_at=created + timedelta(seconds=1),
            finished_at=created + timedelta(seconds=self.rng.uniform(1, 8)),
        )

    def _report(self, project: Project, current: list[Instance], score: tuple[int, str]) -> dict:
        patches = [instance.patch for instance in current if instance.patch and not instance.suppressed]
        rules = {instance.rule for instance in current}
        command = "python app.py" if "PF103" in rules else "gunicorn app:app"
        start = {"command": command, "source": "Procfile:1", "path": "Procfile", "line": 1, "kind": "procfile"}
        return {
            "schema_version": 1,
            "analyzer_version": analyzer_version,
            "app_root": project.app_root,
            "score": score[0],
            "verdict": score[1],
            "start_command": None if "PF101" in rules else start,
            "apps": [{"module": "app", "name": "app", "kind": "app", "path": "app.py", "line": 5, "target": "app:app"}],
            "skipped": [],
            "env_contract": [],
            "fix_all_patch": "".join(patches) or None,
        }

    def _insert_scans(self, scans: list[Scan]) -> None:
        if connection.vendor != "postgresql":
            Scan.objects.bulk_create(scans, batch_size=1000)
            return
        # bulk_create quotes each large `report` document client-side, which is most of the run; COPY is not.
        fields = list(Scan._meta.concrete_fields)
        lines = ["\t".join(_copy_text(_plain(field, scan)) for field in fields) + "\n" for scan in scans]
        _copy(Scan, [field.column for field in fields], lines)

    def _insert_findings(self, findings: list[tuple[int, list[tuple[Instance, int | None]]]]) -> None:
        if connection.vendor == "postgresql":
            self._copy_findings(findings)
        else:
            rows = [instance.model(scan_id, line) for scan_id, found in findings for instance, line in found]
            Finding.objects.bulk_create(rows, batch_size=2000)
            self.finding_rows += len(rows)

    def _copy_findings(self, findings: list[tuple[int, list[tuple[Instance, int | None]]]]) -> None:
        lines = [f"{scan_id}\t{instance.copy_row(line)}\n" for scan_id, found in findings for instance, line in found]
        _copy(Finding, ["scan_id", *(field.column for field in FINDING_FIELDS)], lines)
        self.finding_rows += len(lines)


def _plain(field: models.Field, obj: models.Model) -> object:
    """A field's value as COPY's text format spells it: JSON as its text, times in ISO 8601."""
    value = getattr(obj, field.attname)
    if isinstance(field, models.JSONField):
        return None if value is None else json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _copy(model, columns: list[str], lines: list[str]) -> None:
    quote = connection.ops.quote_name
    statement = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for first in range(0, len(lines), 20000):
            copy.write("".join(lines[first : first + 20000]))


class Command(BaseCommand):
    help = "Create demo projects with a long, realistic scan history (for demos and the page benchmark)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projects", type=int, default=10, help="how many projects to add (default 10)")
        parser.add_argument("--scans-per-project", type=int, default=30, help="scans per project (default 30)")
        parser.add_argument("--findings-per-scan", type=int, default=20, help="findings per scan (default 20)")
        parser.add_argument("--team", default="Demo", help="the team to add them to, created if missing")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for the same data every time")

    def handle(self, *args, projects: int, scans_per_project: int, findings_per_scan: int, team: str, **options):
        if projects < 0 or scans_per_project < 0 or findings_per_scan < 0:
            raise CommandError("--projects, --scans-per-project and --findings-per-scan cannot be negative.")
        started = time.monotonic()
        found = Team.objects.filter(name=team).order_by("pk").first() or Team.objects.create(name=team)
        rng = random.Random(options["seed"])
        seeder = Seeder(found, scans_per_project, findings_per_scan, rng)
        names = _project_names(found, projects, rng)
        for first in range(0, len(names), PROJECTS_PER_TRANSACTION):
            seeder.seed(names[first : first + PROJECTS_PER_TRANSACTION])
            if options["verbosity"] > 1:
                self.stdout.write(f"  {min(first + PROJECTS_PER_TRANSACTION, len(names))}/{len(names)} projects")
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in (Project, Scan, Finding))
            with connection.cursor() as cursor:
                # Fresh planner statistics, as autovacuum would gather on a real instance.
                cursor.execute(f"ANALYZE {tables}")
        self.stdout.write(
            f"team {found.name!r} (id {found.pk}): {len(names)} projects, {seeder.scan_rows} scans, "
            f"{seeder.finding_rows} findings in {time.monotonic() - started:.1f} s"
        )
