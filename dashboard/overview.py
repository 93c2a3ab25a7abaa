"""The team overview: every active project with its latest result and score trend, worst first.

Three queries whatever the team's size: the projects joined to their latest
scan, the last few scores of each (one window-function query), and the scans
in progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import Lower, RowNumber

from dashboard.models import PENDING, Project, Scan, ScanStatus, Team

SPARKLINE_POINTS = 20
SEVERITIES = ("blocker", "high", "medium", "low")

# URL value -> the filter it applies; "unscanned" is a project without a successful result yet.
VERDICT_FILTERS = {
    "not-ready": ("Not ready", Q(last_scan__verdict="not ready")),
    "needs-work": ("Needs work", Q(last_scan__verdict="needs work")),
    "ready": ("Ready", Q(last_scan__verdict="ready")),
    "unscanned": ("No result yet", Q(last_scan__isnull=True) | Q(last_scan__score__isnull=True)),
}


@dataclass
class ProjectRow:
    project: Project
    scores: list[int] = field(default_factory=list)
    pending_stage: str = ""

    @property
    def scan(self) -> Scan | None:
        return self.project.last_scan

    @property
    def counts(self) -> list[tuple[str, int]]:
        counts = (self.scan.counts or {}) if self.scan else {}
        return [(severity, int(counts.get(severity, 0))) for severity in SEVERITIES]

    @property
    def verdict_class(self) -> str:
        return self.scan.verdict.replace(" ", "-") if self.scan and self.scan.verdict else ""

    @property
    def failed(self) -> bool:
        return self.scan is not None and self.scan.status == ScanStatus.FAILED


def _active_projects(team: Team, query: str, verdict: str) -> QuerySet[Project]:
    projects = Project.objects.filter(team=team, archived_at__isnull=True)
    if query:
        projects = projects.filter(Q(name__icontains=query) | Q(repo_url__icontains=query))
    if verdict in VERDICT_FILTERS:
        projects = projects.filter(VERDICT_FILTERS[verdict][1])
    return projects


def team_overview(team: Team, *, query: str = "", verdict: str = "") -> list[ProjectRow]:
    """The team's non-archived projects, worst first: not ready, needs work, then by score.

    Projects without a result yet (never scanned, or the last scan failed) come
    last: there is nothing to fix in them until a scan says what.
    """
    base = _active_projects(team, query.strip(), verdict)
    rank = Case(
        When(last_scan__score__isnull=True, then=Value(3)),
        When(last_scan__verdict="not ready", then=Value(0)),
        When(last_scan__verdict="needs work", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    projects = list(
        base.select_related("last_scan")
        # The stored report is large and the credentials are secret: the page needs neither.
        .defer("credential", "webhook_secret", "variables", "last_scan__report")
        .order_by(rank, F("last_scan__score").asc(nulls_last=True), Lower("name"), "pk")
    )
    rows = {project.pk: ProjectRow(project) for project in projects}
    if not rows:
        return []

    recent = (
        Scan.objects.filter(project__in=base.values("pk"), status=ScanStatus.SUCCEEDED, score__isnull=False)
        .annotate(
            recency=Window(
                RowNumber(), partition_by=[F("project_id")], order_by=[F("created_at").desc(), F("pk").desc()]
            )
        )
        .filter(recency__lte=SPARKLINE_POINTS)
        .values_list("project_id", "recency", "score")
    )
    for project_id, _recency, score in sorted(recent, key=lambda r: (r[0], -r[1])):
        rows[project_id].scores.append(score)

    pending = Scan.objects.filter(project__in=base.values("pk"), status__in=PENDING).values_list("project_id", "stage")
    for project_id, stage in pending:
        rows[project_id].pending_stage = stage or "queued"

    return list(rows.values())
