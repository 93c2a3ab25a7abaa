"""`manage.py runlocal` on the embedded defaults: it migrates, serves, runs a worker and a scheduler, and Ctrl-C stops all."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(condition, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the output was:\n{log.read_text()}")
        time.sleep(0.2)


def _get(port: int, path: str) -> http.client.HTTPResponse | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.body = response.read()
        return response
    except OSError:
        return None
    finally:
        connection.close()


def _proc_stat(pid: int) -> tuple[str, int, str] | None:
    """(state, process group, start time) of a live process, None once it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, pgrp, start = fields[0], int(fields[2]), fields[19]
    return None if state in ("Z", "X") else (state, pgrp, start)


def _group(pgid: int) -> dict[int, str]:
    """Every live process of the group, by pid, with its start time (so a reused pid is not mistaken for it)."""
    members = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat and stat[1] == pgid:
                members[int(entry.name)] = stat[2]
    return members


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


@pytest.fixture
def runlocal(tmp_path):
    port = _free_port()
    log = tmp_path / "runlocal.log"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PREFLIGHT_LOCAL": "1",
        "PREFLIGHT_VAR_DIR": str(tmp_path / "var"),
        # The URL line must reach the log as it is written, as it reaches a terminal.
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runlocal", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group, as a shell gives a foreground job: Ctrl-C signals the whole group.
            start_new_session=True,
        )
    try:
        yield process, port, log, tmp_path / "var"
    finally:
        if process.poll() is None or _group(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _start(runlocal) -> tuple[subprocess.Popen, int, Path, dict[int, str]]:
    process, port, log, var = runlocal
    _wait(lambda: "Preflight is running" in log.read_text() or process.poll() is not None, 120, "the URL", log)
    assert process.poll() is None, log.read_text()
    assert re.search(rf"open http://127\.0\.0\.1:{port}/", log.read_text())

    _wait(lambda: _get(port, "/healthz/") is not None, 60, "the web server", log)
    health = _get(port, "/healthz/")
    assert (health.status, health.body) == (200, b"ok")

    # Migrated: a fresh database has no account yet, so every page leads to the first-run set-up.
    home = _get(port, "/")
    assert home.status == 302
    assert home.getheader("Location") == "/setup/"
    assert (var / "preflight.sqlite3").exists()
    setup = _get(port, "/setup/")
    assert setup.status == 200
    assert b"Set up Preflight" in setup.body

    # runlocal, gunicorn's arbiter and 2 workers, celery's worker and its 2 pool processes, beat.
    _wait(lambda: len(_group(process.pid)) >= 8, 60, "the worker's pool", log)
    members = _group(process.pid)
    commands = [_command_line(pid) for pid in members]
    assert any("gunicorn dashboard.wsgi" in command for command in commands), commands
    assert any("celery -A workers worker" in command for command in commands), commands
    assert any("celery -A workers beat" in command for command in commands), commands
    output = log.read_text()
    assert "transport:   filesystem://" in output
    assert "celery beat" in output
    return process, port, log, members


def _assert_all_stop(process: subprocess.Popen, members: dict[int, str], log: Path) -> None:
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"runlocal is still running 30 s after the signal:\n{log.read_text()}") from None

    def leftovers() -> list[str]:
        return [
            _command_line(pid)
            for pid, start in members.items()
            if (stat := _proc_stat(pid)) is not None and stat[2] == start
        ] + [_command_line(pid) for pid in _group(process.pid)]

    deadline = time.monotonic() + 15
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers() == [], log.read_text()


def test_it_serves_the_setup_page_and_ctrl_c_stops_every_process(runlocal):
    process, port, log, members = _start(runlocal)

    os.killpg(process.pid, signal.SIGINT)

    _assert_all_stop(process, members, log)
    assert _get(port, "/healthz/") is None


def test_it_stops_its_children_when_only_it_is_interrupted(runlocal):
    process, port, log, members = _start(runlocal)

    os.kill(process.pid, signal.SIGINT)

    _assert_all_stop(process, members, log)
    assert _get(port, "/healthz/") is None
