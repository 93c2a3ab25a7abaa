"""Celery tasks: each takes ids, calls one plain function, and returns what it did."""

from __future__ import annotations

import smtplib

from django.conf import settings

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


@app.task
def send_readiness_reports() -> dict[str, int]:
    from workers import report_schedule

    return report_schedule.send_readiness_reports()


@app.task
def send_scan_alert(scan_id: int) -> str:
    from workers import report_schedule

    return report_schedule.queue_scan_alert(scan_id)


# smtplib's errors are OSErrors too, as is a refused or dropped connection: each is retried, later each time.
@app.task(
    bind=True,
    acks_late=True,
    soft_time_limit=120,
    time_limit=150,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=settings.EMAIL_RETRY_BACKOFF,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=settings.EMAIL_MAX_RETRIES,
)
def deliver_email(self, delivery_id: int) -> str:
    from workers import email

    return email.deliver(delivery_id, final_attempt=self.request.retries >= self.max_retries)
