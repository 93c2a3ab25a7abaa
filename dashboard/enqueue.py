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
