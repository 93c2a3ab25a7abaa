"""The periodic recovery: abandoned running scans fail clearly, forgotten queued scans are sent again."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import Scan, ScanStatus
from workers import clone, pipeline, tasks


@pytest.fixture
def sent(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr("dashboard.enqueue.enqueue_scan", calls.append)
    return calls


@pytest.fixture
def project(make_project):
    return make_project("https://github.com/example/shop.git")


def _scan(project, **fields) -> Scan:
    return Scan.objects.create(project=project, **fields)


def test_it_fails_a_scan_running_past_the_time_limit(settings, project, sent):
    settings.SCAN_TIME_LIMIT = 360
    started = timezone.now() - timedelta(seconds=360) - pipeline.RECOVERY_MARGIN - timedelta(seconds=1)
    scan = _scan(project, status=ScanStatus.RUNNING, stage="analyzing", started_at=started)

    assert tasks.recover_stale_scans() == {"failed": 1, "requeued": 0, "cleaned": 0}

    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED
    assert scan.error == "The worker stopped before finishing (time limit or crash). Start a new scan."
    assert scan.finished_at is not None
    project.refresh_from_db()
    assert project.last_scan == scan


def test_it_leaves_a_scan_running_within_the_time_limit(project, sent):
    scan = _scan(project, status=ScanStatus.RUNNING, started_at=timezone.now() - timedelta(seconds=30))

    assert tasks.recover_stale_scans()["failed"] == 0
    assert Scan.objects.get(pk=scan.pk).status == ScanStatus.RUNNING


def test_it_sends_a_forgotten_queued_scan_again_once(project, sent):
    scan = _scan(project, created_at=timezone.now() - timedelta(minutes=6))

    assert tasks.recover_stale_scans()["requeued"] == 1
    assert tasks.recover_stale_scans()["requeued"] == 0
    assert sent == [scan.pk]
    scan.refresh_from_db()
    assert scan.status == ScanStatus.QUEUED
    assert scan.enqueued_at is not None


def test_it_leaves_a_freshly_queued_scan_alone(project, sent):
    _scan(project)

    assert tasks.recover_stale_scans()["requeued"] == 0
    assert sent == []


def test_it_removes_leftovers_of_a_worker_that_died(settings, project, sent):
    scratch = clone.scratch_dir()
    old = scratch / "checkout-dead"
    (old / "src").mkdir(parents=True)
    (old / "src" / "app.py").write_text("x = 1\n")
    key = scratch / "home-dead"
    key.mkdir()
    long_ago = time.time() - settings.SCAN_TIME_LIMIT - 3600
    os.utime(old, (long_ago, long_ago))
    os.utime(key, (long_ago, long_ago))
    fresh = scratch / "checkout-running"
    fresh.mkdir()

    assert tasks.recover_stale_scans()["cleaned"] == 2
    assert sorted(path.name for path in scratch.iterdir()) == ["checkout-running"]
