"""Scheduled re-scans: once a minute, request a scan of every project whose time has come.

Each due project is claimed by a compare-and-swap on `next_scan_at`: the
UPDATE names the time this process read, so when two beats (or a beat
restarted mid-tick) reach the same project, one UPDATE changes a row and the
other changes none and moves on. The claim and the scan request commit
together, so a tick that dies between them leaves the project due for the next
tick instead of losing its scan. An unchanged repository still gets its
scheduled scan row: the pipeline reuses the previous result (`reused_from`)
rather than analyzing again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dashboard.models import Project, Schedule
from dashboard.scans import request_scan
from dashboard.schedules import next_run

logger = logging.getLogger(__name__)

# Projects handled per tick; the rest are still due on the next one, a minute later.
BATCH = 500


def scheduled_projects() -> QuerySet[Project]:
    return Project.objects.filter(archived_at__isnull=True).exclude(schedule=Schedule.OFF)


def dispatch_due_scans(now: datetime | None = None) -> dict[str, int]:
    """Request the scans that are due: how many were requested, already pending, taken by another beat, or failed."""
    now = now or timezone.now()
    outcome = {"requested": 0, "pending": 0, "taken": 0, "failed": 0, "scheduled": schedule_unscheduled(now)}
    due = scheduled_projects().filter(next_scan_at__lte=now).select_related("team").order_by("next_scan_at", "pk")
    for project in due[:BATCH]:
        try:
            outcome[dispatch_project(project, now)] += 1
        except Exception:
            # Its claim rolled back: the project stays due for the next tick, and must not hold up the others.
            logger.exception("could not request the scheduled scan of project %s", project.pk)
            outcome["failed"] += 1
    if any(count for name, count in outcome.items() if name != "taken"):
        logger.info("scheduled scans: %s", outcome)
    return outcome


def dispatch_project(project: Project, now: datetime) -> str:
    """Claim the project's due scan and request it: "requested", "pending" (one was running) or "taken"."""
    following = next_run(project, now)
    if following is None:
        logger.warning("project %s has an invalid cron expression %r; no scan after this one", project.pk, project.cron)
    with transaction.atomic():
        claimed = (
            scheduled_projects().filter(pk=project.pk, next_scan_at=project.next_scan_at).update(next_scan_at=following)
        )
        if not claimed:
            return "taken"
        _scan, created = request_scan(project, "schedule")
    return "requested" if created else "pending"


def schedule_unscheduled(now: datetime) -> int:
    """Give a time to scheduled projects that have none (a schedule set in the admin, say): how many got one."""
    count = 0
    unset = scheduled_projects().filter(next_scan_at__isnull=True)
    for project in unset.select_related("team")[:BATCH]:
        following = next_run(project, now)
        if following is not None:
            count += unset.filter(pk=project.pk).update(next_scan_at=following)
    return count
