"""When a project's next scheduled scan is due: its schedule read as a cron expression in the team's timezone.

The presets are cron expressions too: hourly at minute m, daily at 06:m, weekly
on Monday at 06:m, where m spreads projects over the hour (project id modulo 60)
so a thousand daily projects do not all start at 06:00 sharp. Times are
computed on the team's wall clock, so "daily" stays at 06:m local time across
daylight-saving changes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from dashboard.models import Project, Schedule

logger = logging.getLogger(__name__)

PRESET_HOUR = 6


def cron_expression(schedule: str, cron: str = "", spread: int = 0) -> str | None:
    """The cron expression a schedule stands for; None for off, or for a cron schedule without a valid one."""
    minute = spread % 60
    if schedule == Schedule.HOURLY:
        return f"{minute} * * * *"
    if schedule == Schedule.DAILY:
        return f"{minute} {PRESET_HOUR} * * *"
    if schedule == Schedule.WEEKLY:
        return f"{minute} {PRESET_HOUR} * * 1"
    if schedule == Schedule.CRON:
        expression = (cron or "").strip()
        if len(expression.split()) == 5 and croniter.is_valid(expression):
            return expression
        return None
    return None


def team_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown team timezone %r; schedules use UTC", name)
        return UTC


def next_time(expression: str, zone: tzinfo, after: datetime) -> datetime:
    """The first time strictly after `after` (aware) that `expression` matches on `zone`'s wall clock, in UTC.

    croniter walks naive local times; each is then placed in the zone. A
    local time skipped by a daylight-saving jump runs as late as the jump
    (02:30 becomes 03:30), and a repeated local hour runs once (its first
    occurrence).
    """
    after = after.astimezone(UTC)
    local = after.astimezone(zone).replace(tzinfo=None)
    candidates = croniter(expression, local)
    # Local candidates strictly increase, and a clock change moves by hours at most: this ends within a few steps.
    while True:
        candidate = candidates.get_next(datetime).replace(tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate


def next_run(project: Project, after: datetime) -> datetime | None:
    """When the project's next scheduled scan is due after `after`; None when it has none.

    Reads `project.team.timezone`: select the team with the project when calling this in a loop.
    """
    expression = cron_expression(project.schedule, project.cron, project.pk or 0)
    if expression is None:
        return None
    return next_time(expression, team_zone(project.team.timezone), after)
