"""How fast the analyzer is, next to two baselines timed in the same run.

    python bench/analyzer_speed.py [--files N] [--repeat R] [--bandit-repeat B]

Two trees: a generated Flask project of N modules of about 100 lines each
(blueprints, SQLAlchemy models, WTForms forms, services, utils, config classes,
an app factory, wsgi.py, Procfile, requirements, templates, static files), and
this repository without its virtualenv. On each it times `analyzer.analyze()`
with every rule, libcst parsing every Python file once, and bandit over the
same tree, and prints the best time of each with the ratios. No pass mark: the
figures are for reading.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOMAINS = ("accounts", "billing", "catalog", "orders", "inventory", "reports", "support", "admin", "search", "blog")
KINDS = ("views", "models", "forms", "services", "utils")


def view_module(domain: str, index: int) -> str:
    name = f"{domain}_{index}"
    model = f"{domain.title()}Record{index}"
    lines = [
        f'"""Views of the {domain} area, part {index}."""',
        "",
        "from flask import Blueprint, flash, redirect, render_template, request, session, url_for",
        "",
        "from app.extensions import db",
        f"from app.{domain}.models_{index} import {model}",
        "",
        f"bp = Blueprint({name!r}, __name__, url_prefix='/{domain}/{index}')",
        "",
    ]
    for route in range(6):
        lines += [
            "",
            f"@bp.route('/r{route}', methods=['GET', 'POST'])",
            f"def page_{route}():",
            "    if 'user_id' not in session:",
            "        flash('Please sign in first.', 'warning')",
            "        return redirect(url_for('accounts_0.page_0', next=request.path))",
            f"    records = {model}.query.order_by({model}.id).limit(50).all()",
            "    if request.method == 'POST':",
            f"        record = {model}(title=request.form.get('title', ''))",
            "        db.session.add(record)",
            "        db.session.commit()",
            "        flash('Saved.', 'success')",
            f"        return redirect(url_for('{name}.page_{route}'))",
            f"    return render_template('{domain}/page_{route}.html', records=records)",
        ]
    return "\n".join(lines) + "\n"


def model_module(domain: str, index: int) -> str:
    lines = [
        f'"""Database models of the {domain} area, part {index}."""',
        "",
        "from datetime import datetime, timezone",
        "",
        "from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, Numeric, String, Text",
        "from sqlalchemy.orm import relationship",
        "",
        "from app.extensions import db",
        "",
    ]
    for number in range(5):
        suffix = "" if number == 0 else str(number)
        cls = f"{domain.title()}Record{index}{suffix}"
        lines += [
            "",
            f"class {cls}(db.Model):",
            f"    __tablename__ = '{domain}_record_{index}_{number}'",
            "",
            "    id = db.Column(Integer, primary_key=True)",
            "    title = db.Column(String(200), nullable=False, default='')",
            "    body = db.Column(Text, nullable=True)",
            "    amount = db.Column(Numeric(10, 2), default=0)",
            "    active = db.Column(Boolean, default=True)",
            "    owner_id = db.Column(Integer, ForeignKey('accounts_record_0_0.id'))",
            "    created_at = db.Column(DateTime, default=lambda: datetime.now(timezone.utc))",
            "    owner = relationship('AccountsRecord0', lazy='joined')",
            "",
            "    def __repr__(self):",
            f"        return f'<{cls} {{self.id}} {{self.title!r}}>'",
            "",
            "    def as_dict(self):",
            "        return {'id': self.id, 'title': self.title, 'active': self.active}",
        ]
    return "\n".join(lines) + "\n"


def form_module(domain: str, index: int) -> str:
    lines = [
        f'"""Forms of the {domain} area, part {index}."""',
        "",
        "from flask_wtf import FlaskForm",
        "from wtforms import BooleanField, DecimalField, SelectField, StringField, TextAreaField",
        "from wtforms.validators import DataRequired, Length, NumberRange, Optional",
        "",
    ]
    for number in range(9):
        lines += [
            "",
            f"class {domain.title()}Form{index}x{number}(FlaskForm):",
            "    title = StringField('Title', validators=[DataRequired(), Length(max=200)])",
            "    body = TextAreaField('Body', validators=[Optional(), Length(max=5000)])",
            "    amount = DecimalField('Amount', places=2, validators=[NumberRange(min=0)])",
            "    active = BooleanField('Active', default=True)",
            "    kind = SelectField('Kind', choices=[('a', 'A'), ('b', 'B'), ('c', 'C')])",
            "",
            "    def validate_title(self, field):",
            "        if field.data.strip().lower() == 'admin':",
            "            raise ValueError('Reserved title')",
        ]
    return "\n".join(lines) + "\n"


def service_module(domain: str, index: int) -> str:
    lines = [
        f'"""Business logic of the {domain} area, part {index}."""',
        "",
        "import logging",
        "import os",
        "",
        "import requests",
        "",
        "from app.extensions import db",
        "",
        "log = logging.getLogger(__name__)",
        f"API_URL = os.environ.get('{domain.upper()}_API_URL', 'https://api.example.com')",
        "TIMEOUT = float(os.getenv('HTTP_TIMEOUT', '5'))",
        "",
    ]
    for number in range(7):
        lines += [
            "",
            f"def sync_{domain}_{number}(record_id, *, dry_run=False):",
            f'    """Push record `record_id` to the {domain} API."""',
            f"    response = requests.get(f'{{API_URL}}/{domain}/{{record_id}}', timeout=TIMEOUT)",
            "    if response.status_code != 200:",
            "        log.warning('sync failed: %s', response.status_code)",
            "        return None",
            "    payload = response.json()",
            "    if not dry_run:",
            "        db.session.commit()",
            "    return {key: value for key, value in payload.items() if not key.startswith('_')}",
        ]
    return "\n".join(lines) + "\n"


def util_module(domain: str, index: int) -> str:
    lines = [
        f'"""Helpers of the {domain} area, part {index}."""',
        "",
        "import functools",
        "import hashlib",
        "import re",
        "from datetime import date, timedelta",
        "",
        "SLUG = re.compile(r'[^a-z0-9]+')",
        "",
    ]
    for number in range(11):
        lines += [
            "",
            "@functools.lru_cache(maxsize=256)",
            f"def slugify_{number}(text):",
            "    return SLUG.sub('-', text.lower()).strip('-')",
            "",
            "",
            f"def digest_{number}(value, days={number}):",
            "    stamp = (date.today() - timedelta(days=days)).isoformat()",
            "    return hashlib.sha256(f'{value}:{stamp}'.encode()).hexdigest()[:16]",
        ]
    return "\n".join(lines) + "\n"


MAKERS = {
    "views": view_module,
    "models": model_module,
    "forms": form_module,
    "services": service_module,
    "utils": util_module,
}

APP_FACTORY = '''"""The application factory."""

import os

from flask import Flask

from app.extensions import db, migrate


def create_app(config_name=None):
    app = Flask(__name__, static_folder="../static", template_folder="../templates")
    config_name = config_name or os.environ.get("APP_CONFIG", "production")
    app.config.from_object(f"config.{config_name.title()}Config")
    db.init_app(app)
    migrate.init_app(app, db)
{registrations}
    return app
'''

CONFIG = '''"""Configuration classes, picked by APP_CONFIG."""

import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///app.db")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_SECURE = True


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"


class ProductionConfig(Config):
    DEBUG = False
'''


def generate_flask_tree(root: Path, modules: int) -> None:
    """Write a realistic Flask project of `modules` Python modules of about 100 lines each."""
    files: dict[str, str] = {
        "Procfile": "web: gunicorn wsgi:app --workers 2 --bind 0.0.0.0:$PORT\nrelease: flask db upgrade\n",
        "requirements.txt": "flask==3.0.3\nflask-sqlalchemy==3.1.1\nflask-migrate==4.0.7\nflask-wtf==1.2.1\n"
        "gunicorn==23.0.0\npsycopg2-binary==2.9.9\nrequests==2.32.3\n",
        ".python-version": "3.12\n",
        "wsgi.py": "from app import create_app\n\napp = create_app()\n",
        "config.py": CONFIG,
        "app/extensions.py": "from flask_migrate import Migrate\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
        "db = SQLAlchemy()\nmigrate = Migrate()\n",
        "static/css/site.css": "body { font-family: sans-serif; }\n",
        "static/js/site.js": "document.documentElement.classList.add('js');\n",
        "templates/base.html": "<!doctype html>\n<title>{% block title %}{% endblock %}</title>\n"
        "{% block content %}{% endblock %}\n",
    }
    registrations = []
    # wsgi.py, config.py, app/extensions.py, app/__init__.py and one __init__.py per domain are fixed.
    for number in range(max(modules - 4 - len(DOMAINS), 0)):
        domain = DOMAINS[number % len(DOMAINS)]
        index = number // len(DOMAINS) // len(KINDS)
        kind = KINDS[number // len(DOMAINS) % len(KINDS)]
        files[f"app/{domain}/{kind}_{index}.py"] = MAKERS[kind](domain, index)
        if kind == "views":
            registrations.append(f"    from app.{domain}.views_{index} import bp as {domain}_{index}_bp")
            registrations.append(f"    app.register_blueprint({domain}_{index}_bp)")
            files[f"templates/{domain}/page_{index % 6}.html"] = (
                '{% extends "base.html" %}\n{% block content %}{{ records|length }}{% endblock %}\n'
            )
    for domain in DOMAINS:
        files[f"app/{domain}/__init__.py"] = ""
    files["app/__init__.py"] = APP_FACTORY.replace("{registrations}", "\n".join(registrations))
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def python_files(root: Path) -> list[Path]:
    from analyzer.files import IGNORED_DIRS

    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name not in IGNORED_DIRS)
        found += [Path(dirpath, name) for name in sorted(filenames) if name.endswith(".py")]
    return found


def parse_all(paths: list[Path]) -> None:
    import libcst

    for path in paths:
        try:
            libcst.parse_module(path.read_bytes())
        except libcst.ParserSyntaxError:
            continue


def bandit_command(root: Path) -> list[str]:
    beside_python = Path(sys.executable).with_name("bandit")
    bandit = str(beside_python) if beside_python.exists() else shutil.which("bandit")
    if bandit is None:
        raise SystemExit("bandit is not installed: pip install -r requirements-dev.txt")
    excluded = ",".join(str(root / name) for name in (".venv", ".git", ".pytest_cache", ".ruff_cache"))
    return [bandit, "-r", "-q", "-f", "json", "-o", os.devnull, "-x", excluded, str(root)]


def run_bandit(root: Path) -> None:
    result = subprocess.run(bandit_command(root), capture_output=True, text=True, check=False)
    # bandit exits 1 when it reports issues; anything else means it did not scan.
    if result.returncode not in (0, 1):
        raise SystemExit(f"bandit failed ({result.returncode}): {result.stderr.strip()[-500:]}")


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(label: str, root: Path, repeat: int, bandit_repeat: int) -> dict:
    from analyzer import analyze

    paths = python_files(root)
    lines = sum(path.read_bytes().count(b"\n") for path in paths)
    print(f"measuring {label}: {len(paths)} Python files, {lines:,} lines", file=sys.stderr, flush=True)
    report = analyze(root)
    return {
        "tree": label,
        "files": len(paths),
        "lines": lines,
        "findings": len(report.findings),
        "analyzer": best_of(repeat, lambda: analyze(root)),
        "parse": best_of(repeat, lambda: parse_all(paths)),
        "bandit": best_of(bandit_repeat, lambda: run_bandit(root)),
    }


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'tree':<28} {'py files':>8} {'lines':>9} {'findings':>8} {'analyzer':>9} {'libcst parse':>12} "
        f"{'bandit':>8} {'analyzer/bandit':>15} {'analyzer/parse':>14}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['tree']:<28} {row['files']:>8} {row['lines']:>9,} {row['findings']:>8} "
            f"{row['analyzer']:>8.2f}s {row['parse']:>11.2f}s {row['bandit']:>7.2f}s "
            f"{row['analyzer'] / row['bandit']:>15.3f} {row['analyzer'] / row['parse']:>14.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="Python modules in the generated tree (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the analyzer and of libcst; the best counts")
    parser.add_argument("--bandit-repeat", type=int, default=2, help="runs of bandit; the best counts")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))

    rows = []
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as scratch:
        generated = Path(scratch) / "flaskshop"
        generate_flask_tree(generated, args.files)
        rows.append(measure(f"generated Flask ({args.files})", generated, args.repeat, args.bandit_repeat))
    rows.append(measure("this repository", REPO, args.repeat, args.bandit_repeat))
    print_table(rows)
    print(f"best of {args.repeat} (analyzer, libcst parse) and of {args.bandit_repeat} (bandit); lower is faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
