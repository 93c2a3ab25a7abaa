"""A real `celery worker` on Redis, SIGKILLed mid-scan: the scan is run again, never lost.

Needs Postgres (DATABASE_URL) so the worker process sees the test's rows, and
Redis (REDIS_URL). Each test uses its own queue and Redis key prefix.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection

from dashboard.models import Scan, ScanStatus
from tests.workers.gitservers import make_repo
from tests.workers.test_scan_pipeline import SAMPLE
from workers.celery import app
from workers.tasks import scan_project

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_worker]
REPO_ROOT = Path(__file__).resolve().parents[2]


def _needs(what: str) -> None:
    message = f"a real worker test needs {what}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def broker():
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        _needs("REDIS_URL")
    if connection.vendor != "postgresql":
        _needs("Postgres (DATABASE_URL)")
    prefix = f"pf-test-{uuid.uuid4().hex[:8]}:"
    queue = f"scans-{uuid.uuid4().hex[:8]}"
    yield {"url": redis_url, "prefix": prefix, "queue": queue}
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def _database_url() -> str:
    settings = connection.settings_dict
    credentials = quote(settings["USER"] or "postgres")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"])
    return f"postgresql://{credentials}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


class Worker:
    def __init__(self, broker: dict, name: str, log: Path, git_cache: Path, **knobs: str) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": broker["url"],
            "PREFLIGHT_GIT_CACHE": str(git_cache),
            "PREFLIGHT_TEST_KEY_PREFIX": broker["prefix"],
            **knobs,
        }
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.workers.celery_worker", broker["queue"], name],
            cwd=REPO_ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait(lambda: "ready." in log.read_text() or self.process.poll() is not None, 60, "the worker to start")
        assert self.process.poll() is None, log.read_text()

    def pool_children(self) -> list[int]:
        children = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children += [int(pid) for pid in (task / "children").read_text().split()]
        return children

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def workers(broker, tmp_path, git_cache):
    started: list[Worker] = []

    def start(name: str, **knobs: str) -> Worker:
        worker = Worker(broker, name, tmp_path / f"{name}.log", git_cache, **knobs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _send(broker: dict, scan_id: int) -> None:
    with app.connection_for_write(broker["url"], transport_options={"global_keyprefix": broker["prefix"]}) as conn:
        scan_project.apply_async((scan_id,), queue=broker["queue"], connection=conn)


def _stage(scan: Scan) -> tuple[str, str]:
    return tuple(Scan.objects.values_list("status", "stage").get(pk=scan.pk))


@pytest.fixture
def scan(git_daemon, git_root, repo_name, make_project, queued_scan):
    make_repo(git_root, repo_name, SAMPLE)
    return queued_scan(make_project(git_daemon.url(repo_name)))


def test_it_reruns_a_scan_whose_worker_was_killed_on_another_worker(broker, workers, scan):
    first = workers("first", PREFLIGHT_TEST_SLOW_ANALYSIS="120")
    _send(broker, scan.pk)
    _wait(lambda: _stage(scan) == ("running", "analyzing"), 60, "the scan to reach its analysis")

    first.kill()
    time.sleep(1)
    assert _stage(scan) == ("running", "analyzing")

    # The killed worker never acknowledged the message; once it is this old, Redis hands it out again.
    workers("second", PREFLIGHT_TEST_VISIBILITY_TIMEOUT="1")
    _wait(lambda: _stage(scan)[0] in (ScanStatus.SUCCEEDED, ScanStatus.FAILED), 90, "the scan to finish")

    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED, scan.error
    assert scan.attempts == 2
    assert scan.findings.filter(rule="PF303").exists()


def test_it_reruns_a_scan_whose_pool_process_was_killed(broker, workers, scan, tmp_path):
    worker = workers("only", PREFLIGHT_TEST_SLOW_ANALYSIS="120", PREFLIGHT_TEST_SLOW_ONCE=str(tmp_path / "slept"))
    _send(broker, scan.pk)
    _wait(lambda: _stage(scan) == ("running", "analyzing"), 60, "the scan to reach its analysis")

    for child in worker.pool_children():
        os.kill(child, signal.SIGKILL)

    _wait(lambda: _stage(scan)[0] in (ScanStatus.SUCCEEDED, ScanStatus.FAILED), 90, "the scan to finish")
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED, scan.error
    assert scan.attempts == 2
