"""The dashboard's only door to the workers: sending tasks."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def enqueue_scan(scan_id: int) -> None:
    from workers.tasks import scan_project

    try:
        scan_project.delay(scan_id)
    except Exception:
        # A broker that is down must not lose the scan: it stays queued and the
        # periodic recover task re-sends it.
        logger.exception("could not enqueue scan %s; it stays queued", scan_id)


def enqueue_email(delivery_id: int, countdown: float = 0) -> None:
    from workers.tasks import deliver_email

    try:
        deliver_email.apply_async((delivery_id,), countdown=countdown or None)
    except Exception:
        # The delivery stays queued: the report beat sends it again.
        logger.exception("could not enqueue e-mail delivery %s; it stays queued", delivery_id)


def enqueue_scan_alert(scan_id: int) -> None:
    from workers.tasks import send_scan_alert

    try:
        send_scan_alert.delay(scan_id)
    except Exception:
        # The report beat checks recently finished scans that were never checked.
        logger.exception("could not enqueue the alert check of scan %s", scan_id)
