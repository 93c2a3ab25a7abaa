"""Alerts: a scan that makes a project worse is alerted once; alerts close together reach an address as one e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from dashboard.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Finding,
    MemberReportPrefs,
    Membership,
    Project,
    Role,
    Scan,
    ScanAlert,
    ScanStatus,
    Unsubscribe,
)
from tests.dashboard.scandata import FLASK_DEV_SERVER, FLASK_GUNICORN, analyzed, store_scan
from workers import email, pipeline, report_schedule
from workers.celery import app
from workers.tasks import send_scan_alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[tuple[int, float]] = []
    monkeypatch.setattr(
        "dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: sent.append((delivery_id, countdown))
    )
    return sent


@pytest.fixture
def check(django_capture_on_commit_callbacks):
    """The alert check, its transaction committed (so its deliveries are enqueued)."""

    def run(scan_id: int, now) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return report_schedule.queue_scan_alert(scan_id, now)

    return run


@pytest.fixture
def alice(team):
    user = get_user_model().objects.create_user("alice", "alice@example.org", "password")
    membership = Membership.objects.create(user=user, team=team, role=Role.OWNER)
    MemberReportPrefs.objects.create(membership=membership, digest=True, alerts=True)
    return user


def _project(team, name: str, **fields) -> Project:
    return Project.objects.create(team=team, name=name, repo_url=f"https://github.com/example/{name}.git", **fields)


def _got_worse(project: Project, at) -> Scan:
    """Ready a day before `at`, then not ready with two new blockers at `at`."""
    store_scan(project, FLASK_GUNICORN, when=at - timedelta(days=1))
    scan, _ = store_scan(project, FLASK_DEV_SERVER, sha="b" * 40, when=at)
    return scan


def test_it_alerts_members_who_want_alerts_and_outside_addresses_once_per_scan(team, alice, enqueued, check):
    other = get_user_model().objects.create_user("bob", "bob@example.org", "password")
    MemberReportPrefs.objects.create(membership=Membership.objects.create(user=other, team=team), digest=True)
    now = timezone.now()
    scan = _got_worse(_project(team, "shop", recipients="cto@example.org"), now)

    assert check(scan.pk, now) == "alerted"
    assert check(scan.pk, now) == "already checked"

    alert = ScanAlert.objects.get(scan=scan)
    assert alert.worse
    assert (alert.summary["verdict_before"], alert.summary["verdict"]) == ("ready", "not ready")
    assert alert.summary["verdict_dropped"] and alert.summary["new_blocker_count"] == 2
    assert sorted(d.recipient for d in Delivery.objects.filter(kind=DeliveryKind.ALERT)) == [
        "alice@example.org",
        "cto@example.org",
    ]
    assert [countdown for _, countdown in enqueued] == [0, 0]
    for delivery_id, _ in enqueued:
        assert email.deliver(delivery_id, now=now) == "sent"
    message = mail.outbox[0]
    assert message.subject == "Preflight alert for Workers team: shop is no longer ready"
    assert "PF103" in message.body and f"/scans/{scan.pk}/" in message.body
    assert "PF202" in message.alternatives[0].content
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_sends_no_alert_when_a_scan_is_no_worse(team, alice, enqueued, check):
    now = timezone.now()
    project = _project(team, "shop")
    first, _ = store_scan(project, FLASK_DEV_SERVER, when=now - timedelta(days=1))
    same, _ = store_scan(project, FLASK_DEV_SERVER, when=now)
    better, _ = store_scan(_project(team, "blog"), FLASK_GUNICORN, when=now)

    assert check(first.pk, now) == "not worse"  # a first scan: nothing to be worse than
    assert check(same.pk, now) == "not worse"
    assert check(better.pk, now) == "not worse"
    assert not Delivery.objects.exists() and enqueued == []


def test_it_alerts_when_the_verdict_drops_from_ready_without_a_new_blocker(team, alice, enqueued, check):
    now = timezone.now()
    project = _project(team, "shop")
    store_scan(project, FLASK_GUNICORN, when=now - timedelta(days=1))
    scan, _ = store_scan(project, FLASK_GUNICORN, sha="c" * 40, when=now)
    Scan.objects.filter(pk=scan.pk).update(verdict="needs work", score=80)

    assert check(scan.pk, now) == "alerted"
    assert ScanAlert.objects.get(scan=scan).summary["new_blocker_count"] == 0
    delivery_id, _ = enqueued[0]
    email.deliver(delivery_id, now=now)
    assert mail.outbox[0].subject == "Preflight alert for Workers team: shop is no longer ready"


def test_it_gathers_alerts_to_one_address_within_a_few_minutes_into_one_message(team, alice, enqueued, settings, check):
    settings.ALERT_COALESCE_SECONDS = 300
    start = timezone.now()
    scans = [_got_worse(_project(team, name), start) for name in ("shop", "blog", "api")]

    check(scans[0].pk, start)
    first, _ = enqueued[0]
    assert email.deliver(first, now=start) == "sent"
    # Two more bad scans a minute and two minutes later: held together until five minutes after the first alert.
    check(scans[1].pk, start + timedelta(minutes=1))
    check(scans[2].pk, start + timedelta(minutes=2))

    held = Delivery.objects.get(kind=DeliveryKind.ALERT, status=DeliveryStatus.QUEUED)
    assert held.send_after == start + timedelta(minutes=5)
    assert enqueued[1:] == [(held.pk, 240.0)]
    assert held.alerts.count() == 2
    assert email.deliver(held.pk, now=start + timedelta(minutes=4)) == "held"
    assert email.deliver(held.pk, now=start + timedelta(minutes=5)) == "sent"

    assert len(mail.outbox) == 2
    gathered = mail.outbox[1]
    assert gathered.subject == "Preflight alert for Workers team: 2 scans made projects worse"
    assert "blog" in gathered.body and "api" in gathered.body and "shop" not in gathered.body
    # Much later, an alert goes out at once again.
    later = start + timedelta(minutes=30)
    check(_got_worse(_project(team, "web"), later).pk, later)
    assert enqueued[-1][1] == 0


def test_it_alerts_nobody_who_opted_out_or_unsubscribed(team, alice, enqueued, check):
    MemberReportPrefs.objects.filter(membership__user=alice).update(all_projects=False)
    Unsubscribe.objects.create(team=team, address="cto@example.org", kind="alert")
    now = timezone.now()
    scan = _got_worse(_project(team, "shop", recipients="CTO@example.org\nops@example.org"), now)

    check(scan.pk, now)

    assert list(Delivery.objects.values_list("recipient", flat=True)) == ["ops@example.org"]


def test_it_checks_every_scan_the_pipeline_stores_once_committed(team, monkeypatch, django_capture_on_commit_callbacks):
    checked: list[int] = []
    monkeypatch.setattr("dashboard.enqueue.enqueue_scan_alert", checked.append)
    project = _project(team, "shop")
    scan = Scan.objects.create(project=project, status=ScanStatus.RUNNING, commit_sha="a" * 40)
    report, rows = analyzed(FLASK_GUNICORN)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pipeline.store_result(scan, report, rows, pipeline.scan_inputs(project))
        assert checked == []  # not before the result is committed

    assert len(callbacks) == 1 and checked == [scan.pk]
    assert Finding.objects.filter(scan=scan).exists()


def test_it_checks_a_recent_scan_whose_check_message_was_lost(team, alice, enqueued):
    now = timezone.now()
    scan = _got_worse(_project(team, "shop"), now - timedelta(minutes=10))

    assert report_schedule.send_readiness_reports(now)["alerts_checked"] == 1
    assert ScanAlert.objects.get(scan=scan).worse
    assert report_schedule.send_readiness_reports(now)["alerts_checked"] == 0


def test_it_runs_the_alert_check_on_the_email_queue(team, alice, enqueued):
    scan = _got_worse(_project(team, "shop"), timezone.now())

    assert app.amqp.router.route({}, send_scan_alert.name)["queue"].name == "email"
    assert send_scan_alert.apply((scan.pk,)).get() == "alerted"
