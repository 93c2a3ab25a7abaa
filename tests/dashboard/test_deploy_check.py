"""Django's production checklist is clean under production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _check_deploy(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "PREFLIGHT_VAR_DIR": str(tmp_path / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **variables,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_passes_the_deploy_checklist_with_production_settings(tmp_path):
    result = _check_deploy(tmp_path, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="preflight.example.org")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_passes_on_postgres_and_redis_too(tmp_path):
    result = _check_deploy(
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="preflight.example.org",
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )

    assert result.returncode == 0, result.stderr


def test_it_flags_a_weak_secret_key(tmp_path):
    result = _check_deploy(tmp_path, SECRET_KEY="short", ALLOWED_HOSTS="preflight.example.org")

    assert result.returncode != 0
    assert "security.W009" in result.stderr
