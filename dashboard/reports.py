"""Readiness reports: what a team's digest and a scan's alert say, who receives them, and unsubscribing.

Plain functions over the models. The workers decide when a report goes out
(workers/report_schedule.py) and build and send the messages
(workers/email.py); the dashboard previews them and edits the settings.

"Since the last report" is measured against each project's latest successful
scan at the time the previous digest was claimed, so a digest never needs a
stored snapshot: the scans are the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import partial

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import Lower, RowNumber
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dashboard.models import (
    Delivery,
    DeliveryKind,
    DigestFrequency,
    Finding,
    MemberReportPrefs,
    Membership,
    Project,
    ReportKind,
    ReportSettings,
    Scan,
    ScanStatus,
    Team,
    Triage,
    Unsubscribe,
)
from dashboard.pages import previous_scan, public_error, stored_findings
from dashboard.schedules import next_run, next_time, team_zone
from dashboard.triage import active_marks

# A triage mark expiring within this long is listed: the finding is about to count again.
EXPIRING_WITHIN = timedelta(days=7)
# A scheduled scan this late means the scheduler or the workers are silent.
OVERDUE_AFTER = timedelta(hours=2)
PERIOD_LENGTH = {DigestFrequency.DAILY: timedelta(days=1), DigestFrequency.WEEKLY: timedelta(days=7)}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Findings listed per project and alert; the rest is a count and a link.
LIST_LIMIT = 10
_UNSUBSCRIBE_SALT = "dashboard.reports.unsubscribe"


def absolute(path: str) -> str:
    """A link for an e-mail: the dashboard's configured base URL, never the request's host."""
    return settings.SITE_URL + path


def normalize(address: str) -> str:
    return address.strip().lower()


# -- The schedule -------------------------------------------------------------------------------------


def report_settings(team: Team) -> ReportSettings:
    found, _ = ReportSettings.objects.get_or_create(team=team)
    return found


def read_settings(team: Team) -> ReportSettings:
    """The team's report settings, or the defaults (unsaved) when it has none yet: reading writes nothing."""
    return ReportSettings.objects.filter(team=team).first() or ReportSettings(team=team)


def digest_expression(report: ReportSettings) -> str | None:
    """The digest's schedule as a cron expression on the team's wall clock; None when it is off."""
    if report.frequency == DigestFrequency.DAILY:
        return f"0 {report.hour} * * *"
    if report.frequency == DigestFrequency.WEEKLY:
        # Cron counts the week from Sunday (0); ours from Monday (0).
        return f"0 {report.hour} * * {(report.weekday + 1) % 7}"
    return None


def next_digest_time(report: ReportSettings, team: Team, after: datetime) -> datetime | None:
    expression = digest_expression(report)
    return None if expression is None else next_time(expression, team_zone(team.timezone), after)


def period_key(frequency: str, team: Team, moment: datetime) -> str:
    """The period a digest at `moment` reports on: the local day, or the ISO week for weekly digests."""
    local = moment.astimezone(team_zone(team.timezone))
    if frequency == DigestFrequency.WEEKLY:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.date().isoformat()


def digest_since(report: ReportSettings, now: datetime) -> datetime:
    """Where "since the last report" starts: the previous digest, else one period back."""
    if report.last_digest_at is not None:
        return report.last_digest_at
    return now - PERIOD_LENGTH.get(report.frequency, PERIOD_LENGTH[DigestFrequency.DAILY])


def save_schedule(
    team: Team, *, frequency: str, weekday: int, hour: int, timezone_name: str, now: datetime | None = None
) -> ReportSettings:
    """Store the team's digest schedule and timezone; the next digest moves to the new schedule's next slot."""
    now = now or timezone.now()
    with transaction.atomic():
        Team.objects.filter(pk=team.pk).update(timezone=timezone_name)
        team.timezone = timezone_name
        report = report_settings(team)
        report.frequency, report.weekday, report.hour = frequency, weekday, hour
        report.next_digest_at = next_digest_time(report, team, now)
        report.save(update_fields=["frequency", "weekday", "hour", "next_digest_at"])
    return report


# -- Who receives what ----------------------------------------------------------------------------------


def member_prefs(membership: Membership) -> MemberReportPrefs:
    found, _ = MemberReportPrefs.objects.get_or_create(membership=membership)
    return found


def save_prefs(
    membership: Membership, *, digest: bool, alerts: bool, all_projects: bool, projects: Iterable[Project]
) -> MemberReportPrefs:
    with transaction.atomic():
        prefs = member_prefs(membership)
        prefs.digest, prefs.alerts, prefs.all_projects = digest, alerts, all_projects
        prefs.save(update_fields=["digest", "alerts", "all_projects"])
        prefs.projects.set(projects)
        # Switching a report back on is a new consent: it lifts an earlier unsubscribe of that kind.
        kinds = [kind for kind, on in ((ReportKind.DIGEST, digest), (ReportKind.ALERT, alerts)) if on]
        if kinds and membership.user.email:
            Unsubscribe.objects.filter(
                team_id=membership.team_id, address=normalize(membership.user.email), kind__in=kinds
            ).delete()
    return prefs


def external_addresses(project: Project) -> list[str]:
    return [normalize(line) for line in project.recipients.splitlines() if line.strip()]


def unsubscribed(team: Team, kind: str) -> set[str]:
    return set(Unsubscribe.objects.filter(team=team, kind=kind).values_list("address", flat=True))


def _subscribed_members(team: Team, kind: str) -> list[tuple[str, set[int] | None]]:
    """(address, chosen project ids or None for all) of the members who switched `kind` on."""
    switch = {"digest": True} if kind == ReportKind.DIGEST else {"alerts": True}
    prefs = (
        MemberReportPrefs.objects.filter(membership__team=team, membership__user__is_active=True, **switch)
        .exclude(membership__user__email="")
        .select_related("membership__user")
        .prefetch_related("projects")
    )
    return [
        (normalize(p.membership.user.email), None if p.all_projects else {q.pk for q in p.projects.all()})
        for p in prefs
    ]


def digest_recipients(team: Team, projects: list[Project]) -> dict[str, list[int]]:
    """Each address and the ids of the projects its digest covers (in `projects` order), unsubscribed ones left out."""
    ids = [project.pk for project in projects]
    covered: dict[str, set[int]] = defaultdict(set)
    for address, chosen in _subscribed_members(team, ReportKind.DIGEST):
        covered[address] |= set(ids) if chosen is None else chosen & set(ids)
    for project in projects:
        for address in external_addresses(project):
            covered[address].add(project.pk)
    gone = unsubscribed(team, ReportKind.DIGEST)
    return {
        address: [pk for pk in ids if pk in chosen]
        for address, chosen in sorted(covered.items())
        if chosen and address not in gone
    }


def alert_recipients(project: Project) -> list[str]:
    addresses = {
        address
        for address, chosen in _subscribed_members(project.team, ReportKind.ALERT)
        if chosen is None or project.pk in chosen
    }
    addresses.update(external_addresses(project))
    return sorted(addresses - unsubscribed(project.team, ReportKind.ALERT))


@dataclass
class ProjectRecipients:
    project: Project
    members: list[str]  # usernames of the members whose digest covers it
    alert_members: list[str]
    external: list[tuple[str, list[str]]]  # (address, what it unsubscribed from: "digests", "alerts")


def recipients_by_project(team: Team) -> list[ProjectRecipients]:
    """For the settings page: who receives what, project by project."""
    projects = list(active_projects(team))
    prefs = list(
        MemberReportPrefs.objects.filter(membership__team=team)
        .select_related("membership__user")
        .prefetch_related("projects")
    )
    gone: dict[str, list[str]] = defaultdict(list)
    for address, kind in Unsubscribe.objects.filter(team=team).order_by("-kind").values_list("address", "kind"):
        gone[address].append(f"{kind}s")

    def covers(p: MemberReportPrefs, project: Project) -> bool:
        return p.all_projects or any(q.pk == project.pk for q in p.projects.all())

    return [
        ProjectRecipients(
            project,
            sorted(p.membership.user.username for p in prefs if p.digest and covers(p, project)),
            sorted(p.membership.user.username for p in prefs if p.alerts and covers(p, project)),
            [(address, gone.get(address, [])) for address in external_addresses(project)],
        )
        for project in projects
    ]


# -- The settings page ------------------------------------------------------------------------------

DELIVERIES_SHOWN = 50


@dataclass
class SettingsPage:
    team: Team
    report: ReportSettings
    next_digest: datetime | None
    prefs: MemberReportPrefs | None  # None until the member saves theirs
    chosen_projects: list[int]
    address: str
    recipients: list[ProjectRecipients]
    deliveries: list[Delivery]

    @property
    def zone(self) -> tzinfo:
        return team_zone(self.team.timezone)


def settings_page(team: Team, membership: Membership, now: datetime | None = None) -> SettingsPage:
    """Everything the report settings page shows, read without creating anything."""
    now = now or timezone.now()
    report = read_settings(team)
    prefs = MemberReportPrefs.objects.filter(membership=membership).prefetch_related("projects").first()
    return SettingsPage(
        team=team,
        report=report,
        next_digest=report.next_digest_at or next_digest_time(report, team, now),
        prefs=prefs,
        chosen_projects=[project.pk for project in prefs.projects.all()] if prefs else [],
        address=membership.user.email,
        recipients=recipients_by_project(team),
        deliveries=list(Delivery.objects.filter(team=team).order_by("-created_at", "-pk")[:DELIVERIES_SHOWN]),
    )


# -- Unsubscribing --------------------------------------------------------------------------------------


def unsubscribe_token(team_id: int, address: str, kind: str) -> str:
    return signing.dumps([team_id, normalize(address), kind], salt=_UNSUBSCRIBE_SALT)


def unsubscribe_url(team_id: int, address: str, kind: str) -> str:
    return absolute(reverse("unsubscribe", args=[unsubscribe_token(team_id, address, kind)]))


@dataclass(frozen=True)
class UnsubscribeLink:
    team_id: int
    address: str
    kind: str

    @property
    def team(self) -> Team | None:
        return Team.objects.filter(pk=self.team_id).first()


def read_unsubscribe_token(token: str) -> UnsubscribeLink | None:
    """The link's team, address and kind; None when the token was not signed here (or was edited)."""
    try:
        team_id, address, kind = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(team_id, int) or not isinstance(address, str) or kind not in ReportKind.values:
        return None
    return UnsubscribeLink(team_id, address, kind)


def unsubscribe(link: UnsubscribeLink) -> None:
    """Honour the link: that address gets no more of that kind from that team, as member or external recipient."""
    with transaction.atomic():
        if Team.objects.filter(pk=link.team_id).exists():
            Unsubscribe.objects.get_or_create(team_id=link.team_id, address=link.address, kind=link.kind)
        switch = {"digest": False} if link.kind == ReportKind.DIGEST else {"alerts": False}
        MemberReportPrefs.objects.filter(
            membership__team_id=link.team_id, membership__user__email__iexact=link.address
        ).update(**switch)


def is_unsubscribed(team_id: int, address: str, kind: str) -> bool:
    return Unsubscribe.objects.filter(team_id=team_id, address=normalize(address), kind=kind).exists()


# -- The digest -----------------------------------------------------------------------------------------


def active_projects(team: Team):
    return (
        Project.objects.filter(team=team, archived_at__isnull=True)
        .select_related("team", "last_scan")
        .defer("credential", "webhook_secret", "variables", "last_scan__report")
        .order_by(Lower("name"), "pk")
    )


@dataclass
class FindingLine:
    rule: str
    severity: str
    message: str
    location: str

    @classmethod
    def of(cls, finding: Finding) -> FindingLine:
        where = finding.path or "(repository)"
        if finding.path and finding.line:
            where = f"{finding.path}:{finding.line}"
        return cls(finding.rule, finding.severity, finding.message, where)

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "location": self.location}


@dataclass
class ExpiringMark:
    rule: str
    message: str
    kind: str
    reason: str
    expires_at: datetime


@dataclass
class ProjectReport:
    project: Project
    latest: Scan | None  # the latest successful scan
    baseline: Scan | None  # the latest successful scan when the previous report was made
    new_blockers: list[FindingLine] = field(default_factory=list)
    fixed: list[FindingLine] = field(default_factory=list)
    expiring: list[ExpiringMark] = field(default_factory=list)
    overdue_since: datetime | None = None  # a scheduled scan expected then has not run

    @property
    def url(self) -> str:
        return absolute(reverse("project", args=[self.project.pk]))

    @property
    def scan_url(self) -> str:
        return absolute(reverse("scan", args=[self.latest.pk])) if self.latest else ""

    @property
    def listed_new_blockers(self) -> list[FindingLine]:
        return self.new_blockers[:LIST_LIMIT]

    @property
    def more_new_blockers(self) -> int:
        return max(0, len(self.new_blockers) - LIST_LIMIT)

    @property
    def listed_fixed(self) -> list[FindingLine]:
        return self.fixed[:LIST_LIMIT]

    @property
    def more_fixed(self) -> int:
        return max(0, len(self.fixed) - LIST_LIMIT)

    @property
    def verdict(self) -> str:
        return self.latest.verdict if self.latest else ""

    @property
    def score(self) -> int | None:
        return self.latest.score if self.latest else None

    @property
    def score_change(self) -> int | None:
        if self.score is None or self.baseline is None or self.baseline.score is None:
            return None
        return self.score - self.baseline.score

    @property
    def score_change_text(self) -> str:
        if self.latest is None:
            return ""
        if self.score_change is None:
            return "new"
        return f"{self.score_change:+d}" if self.score_change else "±0"

    @property
    def failed_error(self) -> str:
        """The error of the project's latest finished scan, when that scan failed."""
        last = self.project.last_scan
        return public_error(last) if last is not None and last.status == ScanStatus.FAILED else ""

    @property
    def never_scanned(self) -> bool:
        return self.project.last_scan_id is None

    @property
    def changed(self) -> bool:
        new_result = self.latest is not None and (self.baseline is None or self.latest.pk != self.baseline.pk)
        return bool(
            (new_result and (self.score_change is None or self.score_change))
            or self.new_blockers
            or self.fixed
            or self.expiring
            or self.failed_error
            or self.overdue_since
            or self.never_scanned
        )

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.new_blockers
            or self.expiring
            or self.failed_error
            or self.overdue_since
            or self.never_scanned
            or (self.score_change or 0) < 0
        )


@dataclass
class Digest:
    team: Team
    since: datetime
    until: datetime
    projects: list[ProjectReport]

    @property
    def quiet(self) -> bool:
        """Nothing changed: the digest is the short "all checks ran" heartbeat."""
        return not any(report.changed for report in self.projects)

    @property
    def attention(self) -> list[ProjectReport]:
        return [report for report in self.projects if report.needs_attention]

    @property
    def zone(self) -> tzinfo:
        return team_zone(self.team.timezone)


def latest_successful(project_ids: list[int], before: datetime | None = None) -> dict[int, Scan]:
    """Each project's latest successful scan (finished by `before`, when given): one query."""
    scans = Scan.objects.filter(project_id__in=project_ids, status=ScanStatus.SUCCEEDED).defer("report")
    if before is not None:
        scans = scans.filter(finished_at__lte=before)
    ranked = scans.annotate(
        recency=Window(RowNumber(), partition_by=[F("project_id")], order_by=[F("created_at").desc(), F("pk").desc()])
    ).filter(recency=1)
    return {scan.project_id: scan for scan in ranked}


def _counted(rows: list[Finding], triaged: set[str]) -> list[Finding]:
    return [row for row in rows if not row.suppressed and row.fingerprint not in triaged]


def _unique(rows: Iterable[Finding]) -> list[Finding]:
    seen: dict[str, Finding] = {}
    for row in rows:
        seen.setdefault(row.fingerprint, row)
    return list(seen.values())


def new_blockers(current: list[Finding], before: list[Finding] | None, triaged: set[str]) -> list[Finding]:
    """Counted blockers of `current` that were not counted blockers `before` (all of them without a before)."""
    blocking_before = {row.fingerprint for row in _counted(before or [], triaged) if row.severity == "blocker"}
    return _unique(
        row
        for row in _counted(current, triaged)
        if row.severity == "blocker" and row.fingerprint not in blocking_before
    )


def fixed_findings(current: list[Finding], before: list[Finding], triaged: set[str]) -> list[Finding]:
    """Counted findings of `before` that are gone from `current` (a triaged one is not fixed)."""
    still = {row.fingerprint for row in current}
    return _unique(row for row in _counted(before, triaged) if row.fingerprint not in still)


def overdue_since(project: Project, now: datetime) -> datetime | None:
    """When the project's next scheduled scan was due after its last one, if that is well past."""
    last = project.last_scan
    reference = (last.finished_at or last.created_at) if last is not None else project.created_at
    expected = next_run(project, reference)
    return expected if expected is not None and expected + OVERDUE_AFTER < now else None


def build_digest(team: Team, project_ids: list[int] | None, since: datetime, now: datetime | None = None) -> Digest:
    """The digest of the team's active projects (those of `project_ids`, when given): six queries in all."""
    now = now or timezone.now()
    projects = active_projects(team)
    if project_ids is not None:
        projects = projects.filter(pk__in=project_ids)
    projects = list(projects)
    ids = [project.pk for project in projects]
    latest = latest_successful(ids)
    baseline = latest_successful(ids, since)
    rows = stored_findings([*latest.values(), *baseline.values()])
    triaged: dict[int, set[str]] = defaultdict(set)
    expiring: dict[int, list[Triage]] = defaultdict(list)
    for mark in Triage.objects.filter(active_marks(now), project_id__in=ids):
        triaged[mark.project_id].add(mark.fingerprint)
        if mark.expires_at is not None and mark.expires_at <= now + EXPIRING_WITHIN:
            expiring[mark.project_id].append(mark)

    reports = []
    for project in projects:
        current, before = latest.get(project.pk), baseline.get(project.pk)
        report = ProjectReport(project, current, before, overdue_since=overdue_since(project, now))
        if current is not None:
            current_rows = rows[current.pk]
            before_rows = rows[before.pk] if before is not None else None
            marks = triaged[project.pk]
            report.new_blockers = [FindingLine.of(row) for row in new_blockers(current_rows, before_rows, marks)]
            report.fixed = [FindingLine.of(row) for row in fixed_findings(current_rows, before_rows or [], marks)]
            by_fingerprint = {row.fingerprint: row for row in current_rows}
            report.expiring = [
                ExpiringMark(
                    mark.rule,
                    by_fingerprint[mark.fingerprint].message,
                    mark.get_kind_display().lower(),
                    mark.reason,
                    mark.expires_at,
                )
                for mark in sorted(expiring[project.pk], key=lambda m: m.expires_at)
                if mark.fingerprint in by_fingerprint
            ]
        reports.append(report)
    # Projects that need attention first; alphabetical within each group (the sort is stable).
    reports.sort(key=lambda report: not report.needs_attention)
    return Digest(team, since, now, reports)


def preview_digest(team: Team, now: datetime | None = None) -> Digest:
    """The next digest as it would read now, with every active project."""
    now = now or timezone.now()
    return build_digest(team, None, digest_since(read_settings(team), now), now)


def digest_context(digest: Digest, address: str, *, test: bool = False) -> dict:
    return {
        "digest": digest,
        "team": digest.team,
        "zone": digest.zone,
        "test": test,
        "site_url": settings.SITE_URL,
        "settings_url": absolute(reverse("report_settings", args=[digest.team.pk])),
        "unsubscribe_url": unsubscribe_url(digest.team.pk, address, ReportKind.DIGEST),
    }


# -- Alerts ----------------------------------------------------------------------------------------------


@dataclass
class ScanChange:
    scan: Scan
    previous: Scan | None
    new_blockers: list[Finding]

    @property
    def verdict_dropped(self) -> bool:
        return self.previous is not None and self.previous.verdict == "ready" and self.scan.verdict != "ready"

    @property
    def worse(self) -> bool:
        """A new blocker, or the verdict dropped from ready. A first scan has nothing to be worse than."""
        return self.previous is not None and bool(self.new_blockers or self.verdict_dropped)


def scan_change(scan: Scan) -> ScanChange:
    """How a successful scan compares with the project's previous successful one."""
    previous = previous_scan(scan)
    if previous is None:
        return ScanChange(scan, None, [])
    rows = stored_findings([scan, previous])
    triaged = set(
        Triage.objects.filter(active_marks(), project_id=scan.project_id).values_list("fingerprint", flat=True)
    )
    return ScanChange(scan, previous, new_blockers(rows[scan.pk], rows[previous.pk], triaged))


def alert_summary(change: ScanChange) -> dict:
    """What the alert says about the scan, fixed when it is decided."""
    previous = change.previous
    return {
        "previous_scan": previous.pk if previous else None,
        "verdict_before": previous.verdict if previous else "",
        "score_before": previous.score if previous else None,
        "verdict": change.scan.verdict,
        "score": change.scan.score,
        "verdict_dropped": change.verdict_dropped,
        "new_blocker_count": len(change.new_blockers),
        "new_blockers": [FindingLine.of(row).as_dict() for row in change.new_blockers[:LIST_LIMIT]],
    }


@dataclass
class AlertItem:
    project: Project
    scan: Scan
    summary: dict

    @property
    def project_url(self) -> str:
        return absolute(reverse("project", args=[self.project.pk]))

    @property
    def scan_url(self) -> str:
        return absolute(reverse("scan", args=[self.scan.pk]))

    @property
    def more_blockers(self) -> int:
        return self.summary.get("new_blocker_count", 0) - len(self.summary.get("new_blockers", []))


def alert_context(team: Team, items: list[AlertItem], address: str) -> dict:
    return {
        "team": team,
        "items": items,
        "zone": team_zone(team.timezone),
        "site_url": settings.SITE_URL,
        "settings_url": absolute(reverse("report_settings", args=[team.pk])),
        "unsubscribe_url": unsubscribe_url(team.pk, address, ReportKind.ALERT),
    }


def request_test_report(team: Team, address: str, now: datetime | None = None) -> Delivery:
    """A test digest to one address now, outside any period, so it never uses up a real digest."""
    from dashboard.enqueue import enqueue_email

    now = now or timezone.now()
    since = digest_since(read_settings(team), now)
    with transaction.atomic():
        delivery = Delivery.objects.create(
            team=team, kind=DeliveryKind.TEST, recipient=normalize(address), since=since, enqueued_at=now
        )
        transaction.on_commit(partial(enqueue_email, delivery.pk))
    return delivery


def scan_finished(scan_id: int) -> None:
    """The pipeline's hook, once a scan's result is committed: the e-mail workers decide whether to alert."""
    from dashboard.enqueue import enqueue_scan_alert

    enqueue_scan_alert(scan_id)


# -- Rendering -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict) -> RenderedEmail:
    """The template triplet `emails/<name>-subject.html`, `-body-text.html`, `-body-html.html`."""
    subject = " ".join(render_to_string(f"emails/{name}-subject.html", context).split())
    text = render_to_string(f"emails/{name}-body-text.html", context)
    html = render_to_string(f"emails/{name}-body-html.html", context)
    return RenderedEmail(subject, text, html)
