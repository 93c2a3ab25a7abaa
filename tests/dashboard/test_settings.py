"""Settings come from the environment: each case starts a fresh process with only the variables it names."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"
SHOW_SETTINGS = """
import json, sys
import django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def _run(tmp_path: Path, argv: list[str], **variables: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "PREFLIGHT_VAR_DIR": str(tmp_path / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **variables,
    }
    return subprocess.run(
        [sys.executable, *argv], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def settings_of(tmp_path: Path, *names: str, **variables: str) -> dict:
    result = _run(tmp_path, ["-c", SHOW_SETTINGS, *names], **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _needs(host_port: tuple[str, int], what: str) -> None:
    with socket.socket() as probe:
        probe.settimeout(2)
        if probe.connect_ex(host_port) == 0:
            return
    message = f"this test needs {what} at {host_port[0]}:{host_port[1]}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def test_it_refuses_to_start_without_a_secret_key_outside_local_development(tmp_path):
    result = _run(tmp_path, ["manage.py", "check"])

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert "PREFLIGHT_LOCAL=1" in result.stderr
    assert not (tmp_path / "var" / "secret-key").exists()


def test_it_uses_the_secret_key_from_the_environment_or_a_file(tmp_path):
    assert settings_of(tmp_path, "SECRET_KEY", SECRET_KEY="from-the-environment")["SECRET_KEY"] == (
        "from-the-environment"
    )
    (tmp_path / "key").write_text("from-a-file\n")
    assert settings_of(tmp_path, "SECRET_KEY", SECRET_KEY_FILE=str(tmp_path / "key"))["SECRET_KEY"] == "from-a-file"


def test_it_generates_a_secret_key_on_the_first_local_run_and_keeps_it(tmp_path):
    first = settings_of(tmp_path, "SECRET_KEY", PREFLIGHT_LOCAL="1")["SECRET_KEY"]

    kept = tmp_path / "var" / "secret-key"
    assert kept.read_text().strip() == first
    assert len(first) >= 50
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert settings_of(tmp_path, "SECRET_KEY", PREFLIGHT_LOCAL="1")["SECRET_KEY"] == first
    assert settings_of(tmp_path / "elsewhere", "SECRET_KEY", PREFLIGHT_LOCAL="1")["SECRET_KEY"] != first


def test_it_keeps_the_generated_key_out_of_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/secret-key"], cwd=REPO, check=False)
    assert ignored.returncode == 0


def test_it_keeps_debug_off_unless_asked(tmp_path):
    assert settings_of(tmp_path, "DEBUG", PREFLIGHT_LOCAL="1")["DEBUG"] is False
    assert settings_of(tmp_path, "DEBUG", SECRET_KEY="x" * 60)["DEBUG"] is False
    assert settings_of(tmp_path, "DEBUG", DEBUG="1")["DEBUG"] is True

    result = _run(tmp_path, ["manage.py", "check"], DEBUG="maybe", PREFLIGHT_LOCAL="1")
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def test_it_serves_no_host_in_production_until_allowed_hosts_is_set(tmp_path):
    production = {"SECRET_KEY": "x" * 60}
    assert settings_of(tmp_path, "ALLOWED_HOSTS", **production)["ALLOWED_HOSTS"] == []
    assert settings_of(tmp_path, "ALLOWED_HOSTS", ALLOWED_HOSTS="a.example.org, b.example.org", **production)[
        "ALLOWED_HOSTS"
    ] == ["a.example.org", "b.example.org"]


def test_it_uses_sqlite_in_the_var_folder_without_database_url(tmp_path):
    database = settings_of(tmp_path, "DATABASES", PREFLIGHT_LOCAL="1")["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "var" / "preflight.sqlite3")


def test_it_uses_postgres_through_psycopg_3_with_database_url(tmp_path):
    for url in (POSTGRES_URL, POSTGRES_URL.replace("postgresql://", "postgres://", 1)):
        database = settings_of(tmp_path, "DATABASES", PREFLIGHT_LOCAL="1", DATABASE_URL=url)["DATABASES"]["default"]
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert (database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
            "127.0.0.1",
            5432,
            "test",
            "postgres",
        )

    _needs(("127.0.0.1", 5432), "Postgres")
    query = (
        "import django; django.setup(); from django.db import connection\n"
        "with connection.cursor() as cursor: cursor.execute('select 41 + 1'); answer = cursor.fetchone()[0]\n"
        "print(connection.vendor, connection.Database.__name__, answer)"
    )
    result = _run(tmp_path, ["-c", query], PREFLIGHT_LOCAL="1", DATABASE_URL=POSTGRES_URL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["postgresql", "psycopg", "42"]


def _broker_round_trip(tmp_path: Path, **variables: str) -> tuple[str, str]:
    """A message put on a queue by one process and taken by another, through the Celery app's broker."""
    queue = f"settings-test-{uuid.uuid4().hex[:8]}"
    put = (
        "import sys; from workers.celery import app\n"
        "with app.connection_for_write() as conn:\n"
        "    conn.SimpleQueue(sys.argv[1]).put({'hello': sys.argv[1]})\n"
        "    print(conn.transport.driver_type)"
    )
    take = (
        "import json, sys; from workers.celery import app\n"
        "with app.connection_for_read() as conn:\n"
        "    q = conn.SimpleQueue(sys.argv[1]); message = q.get(timeout=10); message.ack(); q.close()\n"
        "    print(json.dumps(message.payload))"
    )
    sent = _run(tmp_path, ["-c", put, queue], **variables)
    assert sent.returncode == 0, sent.stderr
    received = _run(tmp_path, ["-c", take, queue], **variables)
    assert received.returncode == 0, received.stderr
    assert json.loads(received.stdout) == {"hello": queue}
    return sent.stdout.strip(), queue


def test_it_uses_a_filesystem_broker_without_redis_url(tmp_path):
    celery = settings_of(tmp_path, "CELERY_BROKER_URL", "CELERY_BROKER_TRANSPORT_OPTIONS", PREFLIGHT_LOCAL="1")
    assert celery["CELERY_BROKER_URL"] == "filesystem://"
    assert celery["CELERY_BROKER_TRANSPORT_OPTIONS"]["data_folder_in"] == str(tmp_path / "var" / "broker" / "in")

    driver, _queue = _broker_round_trip(tmp_path, PREFLIGHT_LOCAL="1")
    assert driver == "filesystem"


def test_it_uses_redis_with_redis_url(tmp_path):
    celery = settings_of(tmp_path, "CELERY_BROKER_URL", PREFLIGHT_LOCAL="1", REDIS_URL=REDIS_URL)
    assert celery["CELERY_BROKER_URL"] == REDIS_URL

    _needs(("127.0.0.1", 6379), "Redis")
    driver, _queue = _broker_round_trip(tmp_path, PREFLIGHT_LOCAL="1", REDIS_URL=REDIS_URL)
    assert driver == "redis"
    assert not (tmp_path / "var" / "broker").exists()
