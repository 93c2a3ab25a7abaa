"""Triage: a team marks a finding as accepted risk or false positive, and the score stops counting it.

A mark belongs to the project and the finding's line-independent fingerprint,
so it follows the finding from scan to scan. A mark with an expiry stops
applying when it expires, and the finding counts again from then on.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from analyzer.report import Finding as AnalyzerFinding
from analyzer.report import Severity, score_findings
from dashboard.models import Finding, Project, Scan, ScanStatus, Team, Triage


def active_marks(now: datetime | None = None) -> Q:
    """The marks that apply at `now`: no expiry, or one still ahead."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now or timezone.now())


def triage_for_project(project: Project) -> list[Triage]:
    """Every mark of the project, active and expired, newest first, with who made it: one query."""
    return list(Triage.objects.filter(project=project).select_related("created_by").order_by("-created_at", "-pk"))


def team_zone(team: Team) -> ZoneInfo:
    try:
        return ZoneInfo(team.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def team_today(team: Team) -> date:
    return timezone.now().astimezone(team_zone(team)).date()


def expiry_moment(team: Team, expires_on: date | None) -> datetime | None:
    """A mark "expiring on" a day stops applying when that day starts in the team's timezone."""
    if expires_on is None:
        return None
    return datetime.combine(expires_on, time.min, tzinfo=team_zone(team))


def mark_finding(finding: Finding, user, kind: str, reason: str, expires_on: date | None = None) -> Triage:
    """Mark the finding's fingerprint in its project (replacing an earlier mark) and rescore the project."""
    project = finding.scan.project
    with transaction.atomic():
        _lock(project)
        mark, _ = Triage.objects.update_or_create(
            project=project,
            fingerprint=finding.fingerprint,
            defaults={
                "rule": finding.rule,
                "kind": kind,
                "reason": reason,
                "expires_at": expiry_moment(project.team, expires_on),
                "created_by": user,
                "created_at": timezone.now(),
            },
        )
        rescore_latest(project)
    return mark


def unmark(mark: Triage) -> None:
    """Undo a mark: the finding counts toward the score again."""
    with transaction.atomic():
        _lock(mark.project)
        Triage.objects.filter(pk=mark.pk).delete()
        rescore_latest(mark.project)


def _lock(project: Project) -> None:
    # Marking and rescoring one project one at a time: two marks made at once
    # would otherwise each rescore without seeing the other.
    Project.objects.select_for_update().filter(pk=project.pk).values_list("pk").first()


def rescore_latest(project: Project) -> Scan | None:
    """Rescore the project's latest successful scan, the one its page and the overview show."""
    latest = (
        Scan.objects.filter(project=project, status=ScanStatus.SUCCEEDED)
        .only("pk", "project", "reused_from")
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is not None:
        rescore(latest)
    return latest


def rescore(scan: Scan) -> tuple[int, str, dict[str, int]]:
    """Recompute and save `scan.score`, `scan.verdict` and `scan.counts` from its stored findings.

    Inline suppressions and the project's active triage marks do not count;
    the rest is scored as `analyzer.report.score_findings` does (each rule
    counts once, at its worst severity; a blocker means "not ready").
    `counts` maps every severity to its number of counted findings.

    Call it whenever what counts changes: after a mark is added or removed
    (done here), and when a scan's findings are stored, inside that
    transaction once the Finding rows exist (workers/pipeline.py).
    """
    score, verdict, counts = score_rows(scan.project_id, _stored_rows(scan))
    Scan.objects.filter(pk=scan.pk).update(score=score, verdict=verdict, counts=counts)
    scan.score, scan.verdict, scan.counts = score, verdict, counts
    return score, verdict, counts


def _stored_rows(scan: Scan) -> list[Finding]:
    # A scan that reused an earlier result may hold no rows of its own and read its origin's.
    ids = {scan.pk, scan.reused_from_id} - {None}
    rows = list(Finding.objects.filter(scan_id__in=ids).only("scan", "rule", "severity", "fingerprint", "suppressed"))
    own = [row for row in rows if row.scan_id == scan.pk]
    return own or [row for row in rows if row.scan_id == scan.reused_from_id]


def score_rows(project_id: int, rows: list[Finding]) -> tuple[int, str, dict[str, int]]:
    """Score, verdict and counts by severity of Finding rows (saved or not) under the project's active marks."""
    triaged = set(Triage.objects.filter(active_marks(), project_id=project_id).values_list("fingerprint", flat=True))
    findings = [
        AnalyzerFinding(
            rule=row.rule,
            severity=Severity(row.severity),
            message="",
            suppressed=row.suppressed or row.fingerprint in triaged,
        )
        for row in rows
    ]
    score, verdict = score_findings(findings)
    counts = {severity.value: 0 for severity in Severity}
    for finding in findings:
        if not finding.suppressed:
            counts[finding.severity.value] += 1
    return score, verdict, counts
