"""Requesting scans: one pending scan per project, enqueued once the row is committed."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from dashboard.models import PENDING, Project, Scan


def request_scan(project: Project, trigger: str) -> tuple[Scan, bool]:
    """The project's pending scan, or a new queued one; True when it is new.

    The partial unique index on (project) for queued/running scans makes this
    safe under concurrency: a second request loses the insert and gets the
    pending scan instead.
    """
    pending = Scan.objects.filter(project=project, status__in=PENDING).first()
    if pending is not None:
        return pending, False
    try:
        with transaction.atomic():
            scan = Scan.objects.create(project=project, trigger=trigger)
    except IntegrityError:
        return Scan.objects.get(project=project, status__in=PENDING), False
    from dashboard.enqueue import enqueue_scan

    transaction.on_commit(lambda: enqueue_scan(scan.pk))
    return scan, True
