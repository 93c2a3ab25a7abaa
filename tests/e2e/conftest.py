"""A real browser (Debian's chromium through Playwright), a real Celery worker on Redis, a real git server.

The pages are served by pytest-django's live_server from this process; the
worker is another process, so it is pointed at the test database by URL, which
needs Postgres (an SQLite test database lives in this process's memory).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.workers.gitservers import GitDaemon
from workers.celery import app

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def needs(what: str) -> None:
    message = f"the browser test needs {what}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _database_url() -> str:
    database = connection.settings_dict
    credentials = quote(database["USER"] or "postgres")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"])
    host = database["HOST"] or "127.0.0.1"
    return f"postgresql://{credentials}@{host}:{database['PORT'] or 5432}/{database['NAME']}"


@pytest.fixture
def git_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    daemon = GitDaemon(root)
    yield daemon
    daemon.stop()


@pytest.fixture
def scan_worker(live_server, tmp_path):
    """A Celery worker process on REDIS_URL using this test's database, on a queue of its own.

    The dashboard sends scans to the default queue; for this test that is a
    fresh one, so no other worker on the same Redis takes them.
    """
    if not os.environ.get("REDIS_URL"):
        needs("REDIS_URL (a Redis broker the worker process shares)")
    if connection.vendor != "postgresql":
        needs("Postgres (DATABASE_URL), so the worker process sees the test database")
    queue = f"scans-e2e-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "PREFLIGHT_GIT_CACHE": str(tmp_path / "git-cache"),
        # Each analysis takes 2 s longer, so the page is seen mid-scan rather than already finished.
        "PREFLIGHT_TEST_SLOW_ANALYSIS": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.workers.celery_worker", queue, "e2e"],
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    default_queue = app.conf.task_default_queue
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert process.poll() is None and "ready." in log.read_text(), log.read_text()
        app.conf.task_default_queue = queue
        yield log
    finally:
        app.conf.task_default_queue = default_queue
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def page(live_server, tmp_path):
    """A page of a fresh headless chromium whose context may read and write the clipboard.

    Playwright's sync API runs an event loop in this thread while the page
    lives, so the test checks what the pages show, not the database: Django
    refuses ORM calls from a thread with a running loop.
    """
    if not os.access(CHROMIUM, os.X_OK):
        needs(f"Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=live_server.url, permissions=["clipboard-read", "clipboard-write"], accept_downloads=True
        )
        context.set_default_timeout(30_000)
        page = context.new_page()
        try:
            yield page
        finally:
            # What the browser showed last, for whoever reads a failure.
            with contextlib.suppress(PlaywrightError):
                page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
            context.close()
            browser.close()
