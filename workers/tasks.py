"""Celery tasks: each takes ids, calls one plain function, and returns what it did."""

from __future__ import annotations

from workers import pipeline
from workers.celery import app


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True)
def scan_project(self, scan_id: int) -> str:
    # A redelivered message was never acknowledged: the worker holding it died, so the scan may be re-claimed.
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return pipeline.scan_project(scan_id, redelivered=redelivered)


@app.task
def recover_stale_scans() -> dict[str, int]:
    return pipeline.recover_stale_scans()


@app.task
def dispatch_due_scans() -> dict[str, int]:
    from workers import schedule

    return schedule.dispatch_due_scans()
