"""When reports go out: due digests claimed once per team and period, alerts decided once per scan.

A team's digest is claimed by a compare-and-swap on `next_digest_at` (two
beats reading the same due row: one UPDATE changes it, the other nothing).
Each recipient's delivery row is then unique per (team, address, period), so a
forced `send_reports --team`, a retried tick or a second beat never make a
second digest for the same period. Deliveries are enqueued once committed.

Alerts: one `ScanAlert` row per scan (a unique key) decides "worse or not"
exactly once. Alerts to one address gather in its one open delivery; while an
alert to that address went out less than the coalescing window ago, the next
one is held until the window ends, so a burst of bad scans is one message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dashboard import enqueue, reports
from dashboard.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    DigestFrequency,
    ReportSettings,
    Scan,
    ScanAlert,
    ScanStatus,
    Team,
)

logger = logging.getLogger(__name__)

BATCH = 200
# A queued delivery whose message is this old was probably lost (broker down when it was sent): send it again.
REQUEUE_AFTER = timedelta(minutes=15)
# A delivery still "sending" this long after its claim lost its worker; it may have gone out, so it is not resent.
SENDING_ABANDONED_AFTER = timedelta(minutes=5)
# Finished scans whose alert check message was lost are checked by the beat within this window.
ALERT_CATCH_UP = timedelta(hours=1)
ALERT_SETTLE = timedelta(minutes=2)

LOST_WORKER = "The worker stopped while sending; not sent again, as it may have gone out."


def send_readiness_reports(now: datetime | None = None) -> dict[str, int]:
    """The beat's tick: claim the digests that are due, and pick up what lost its message."""
    now = now or timezone.now()
    outcome = {
        "scheduled": schedule_unscheduled(now),
        "digests": 0,
        "deliveries": 0,
        "taken": 0,
        "alerts_checked": check_unchecked_scans(now),
        "requeued": requeue_lost_deliveries(now),
        "abandoned": abandon_stale_sending(now),
    }
    for report in due_reports(now)[:BATCH]:
        created = claim_due_digest(report, now)
        if created is None:
            outcome["taken"] += 1
        else:
            outcome["digests"] += 1
            outcome["deliveries"] += len(created)
    if any(outcome.values()):
        logger.info("readiness reports: %s", outcome)
    return outcome


def due_reports(now: datetime):
    return (
        ReportSettings.objects.exclude(frequency=DigestFrequency.OFF)
        .filter(next_digest_at__lte=now)
        .select_related("team")
        .order_by("next_digest_at", "pk")
    )


def schedule_unscheduled(now: datetime) -> int:
    """Give every team its report settings (daily by default) and a next digest time: how many got one."""
    for team in Team.objects.filter(report_settings__isnull=True)[:BATCH]:
        reports.report_settings(team)
    count = 0
    unset = ReportSettings.objects.exclude(frequency=DigestFrequency.OFF).filter(next_digest_at__isnull=True)
    for report in unset.select_related("team")[:BATCH]:
        count += unset.filter(pk=report.pk).update(next_digest_at=reports.next_digest_time(report, report.team, now))
    return count


def claim_due_digest(report: ReportSettings, now: datetime) -> list[Delivery] | None:
    """Claim the team's due digest and queue one delivery per recipient; None when another beat claimed it."""
    period = reports.period_key(report.frequency, report.team, report.next_digest_at)
    since = reports.digest_since(report, now)
    following = reports.next_digest_time(report, report.team, now)
    with transaction.atomic():
        claimed = ReportSettings.objects.filter(
            pk=report.pk, frequency=report.frequency, next_digest_at=report.next_digest_at
        ).update(next_digest_at=following, last_digest_at=now)
        if not claimed:
            return None
        return create_digest_deliveries(report.team, period, since, now)


def send_team_digest_now(team: Team, now: datetime | None = None) -> list[Delivery]:
    """The team's digest for the current period, now (the operator asked): still once per address and period."""
    now = now or timezone.now()
    plan = plan_team_digest(team, now)
    with transaction.atomic():
        ReportSettings.objects.filter(team=team).update(last_digest_at=now)
        return create_digest_deliveries(team, plan.period, plan.since, now)


@dataclass
class DigestPlan:
    team: Team
    period: str
    since: datetime
    recipients: dict[str, list[int]] = field(default_factory=dict)  # address -> project ids
    already: set[str] = field(default_factory=set)  # addresses that have this period's digest


def plan_team_digest(team: Team, now: datetime, *, scheduled_at: datetime | None = None) -> DigestPlan:
    """Who would get the team's digest for the period of `scheduled_at` (default: now), claiming nothing."""
    report = reports.read_settings(team)
    frequency = report.frequency if report.frequency != DigestFrequency.OFF else DigestFrequency.DAILY
    period = reports.period_key(frequency, team, scheduled_at or now)
    recipients = reports.digest_recipients(team, list(reports.active_projects(team)))
    already = set(
        Delivery.objects.filter(team=team, kind=DeliveryKind.DIGEST, period=period).values_list("recipient", flat=True)
    )
    return DigestPlan(team, period, reports.digest_since(report, now), recipients, already)


def create_digest_deliveries(team: Team, period: str, since: datetime, now: datetime) -> list[Delivery]:
    """One queued delivery per recipient without this period's digest; sent once the caller's transaction commits."""
    created = []
    for address, project_ids in reports.digest_recipients(team, list(reports.active_projects(team))).items():
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    team=team,
                    kind=DeliveryKind.DIGEST,
                    recipient=address,
                    period=period,
                    since=since,
                    projects=project_ids,
                    enqueued_at=now,
                )
        except IntegrityError:
            continue  # this address has this period's digest already
        created.append(delivery)
        transaction.on_commit(partial(enqueue.enqueue_email, delivery.pk))
    return created


# -- Alerts ----------------------------------------------------------------------------------------------


def queue_scan_alert(scan_id: int, now: datetime | None = None) -> str:
    """Decide once whether the scan made its project worse and, if so, queue the alert to each recipient."""
    now = now or timezone.now()
    scan = (
        Scan.objects.select_related("project__team")
        .defer("report", "project__credential", "project__webhook_secret")
        .filter(pk=scan_id, status=ScanStatus.SUCCEEDED)
        .first()
    )
    if scan is None:
        return "not succeeded"
    change = reports.scan_change(scan)
    with transaction.atomic():
        try:
            with transaction.atomic():
                alert = ScanAlert.objects.create(
                    scan=scan, worse=change.worse, summary=reports.alert_summary(change) if change.worse else {}
                )
        except IntegrityError:
            return "already checked"
        if not change.worse:
            return "not worse"
        if scan.project.archived_at is not None:
            return "archived"
        for address in reports.alert_recipients(scan.project):
            delivery, opened = open_alert_delivery(scan.project.team, address, now)
            delivery.alerts.add(alert)
            if opened:
                wait = max(0.0, (delivery.send_after - now).total_seconds())
                transaction.on_commit(partial(enqueue.enqueue_email, delivery.pk, wait))
    return "alerted"


def open_alert_delivery(team: Team, address: str, now: datetime) -> tuple[Delivery, bool]:
    """The address's open alert delivery to add to, or a new one (True); call inside a transaction.

    The open delivery is locked while the alert joins it, so the worker's claim
    (queued -> sending) waits and then sends it with this alert included.
    """
    window = timedelta(seconds=settings.ALERT_COALESCE_SECONDS)
    mine = Q(team=team, kind=DeliveryKind.ALERT, recipient=address)
    while True:
        opened = Delivery.objects.select_for_update().filter(mine, status=DeliveryStatus.QUEUED).first()
        if opened is not None:
            return opened, False
        recent = (
            Delivery.objects.filter(
                mine, status__in=(DeliveryStatus.SENDING, DeliveryStatus.SENT), attempted_at__gt=now - window
            )
            .order_by("-attempted_at")
            .values_list("attempted_at", flat=True)
            .first()
        )
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    team=team,
                    kind=DeliveryKind.ALERT,
                    recipient=address,
                    send_after=recent + window if recent else now,
                    enqueued_at=now,
                )
            return delivery, True
        except IntegrityError:
            # Another alert opened one a moment ago: loop to join it (or, if it went out meanwhile, open anew).
            continue


def check_unchecked_scans(now: datetime) -> int:
    """Check the recent successful scans whose alert check never ran (its message was lost)."""
    unchecked = Scan.objects.filter(
        status=ScanStatus.SUCCEEDED,
        finished_at__gte=now - ALERT_CATCH_UP,
        finished_at__lte=now - ALERT_SETTLE,
        alert__isnull=True,
    ).values_list("pk", flat=True)
    return sum(queue_scan_alert(scan_id, now) != "already checked" for scan_id in unchecked[:BATCH])


# -- Lost messages and lost workers ------------------------------------------------------------------------


def requeue_lost_deliveries(now: datetime) -> int:
    lost = Q(status=DeliveryStatus.QUEUED, send_after__lte=now) & (
        Q(enqueued_at__lt=now - REQUEUE_AFTER) | Q(enqueued_at__isnull=True)
    )
    count = 0
    for delivery_id in Delivery.objects.filter(lost).values_list("pk", flat=True)[:BATCH]:
        # The CAS on enqueued_at keeps two beats from both sending it again.
        if Delivery.objects.filter(lost, pk=delivery_id).update(enqueued_at=now):
            enqueue.enqueue_email(delivery_id)
            count += 1
    return count


def abandon_stale_sending(now: datetime) -> int:
    return Delivery.objects.filter(
        status=DeliveryStatus.SENDING, attempted_at__lt=now - SENDING_ABANDONED_AFTER
    ).update(status=DeliveryStatus.FAILED, reason=LOST_WORKER)
