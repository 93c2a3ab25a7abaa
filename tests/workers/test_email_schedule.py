"""The digest beat: due digests claimed once per team and period, one delivery per address, lost work picked up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from dashboard.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    DigestFrequency,
    MemberReportPrefs,
    Membership,
    Project,
    ReportSettings,
    Role,
    Team,
)
from tests.workers.racing import race_two_beats
from workers import report_schedule
from workers.tasks import send_readiness_reports

NOON = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    lock = threading.Lock()

    def record(delivery_id: int, countdown: float = 0) -> None:
        with lock:
            sent.append(delivery_id)

    monkeypatch.setattr("dashboard.enqueue.enqueue_email", record)
    return sent


def _member(team: Team, name: str, **prefs) -> Membership:
    user = get_user_model().objects.create_user(name, f"{name}@example.org", "password")
    membership = Membership.objects.create(user=user, team=team, role=Role.MEMBER)
    MemberReportPrefs.objects.create(membership=membership, **prefs)
    return membership


@pytest.fixture
def subscribed(team):
    """A team with a project, two members who want the digest, one who does not, and an outside address."""
    Project.objects.create(
        team=team, name="shop", repo_url="https://github.com/example/shop.git", recipients="cto@x.org"
    )
    _member(team, "alice", digest=True)
    _member(team, "bob", digest=True, alerts=True)
    _member(team, "dora", alerts=True)
    ReportSettings.objects.create(team=team, frequency=DigestFrequency.DAILY, hour=8, next_digest_at=NOON)
    return team


def _addresses() -> list[str]:
    return sorted(Delivery.objects.values_list("recipient", flat=True))


@pytest.mark.django_db
def test_it_queues_one_digest_per_recipient_when_the_team_is_due(
    subscribed, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = report_schedule.send_readiness_reports(NOON)

    assert (outcome["digests"], outcome["deliveries"]) == (1, 3)
    assert _addresses() == ["alice@example.org", "bob@example.org", "cto@x.org"]
    assert sorted(enqueued) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert set(Delivery.objects.values_list("kind", "period", "status")) == {
        (DeliveryKind.DIGEST, "2026-01-14", DeliveryStatus.QUEUED)
    }
    report = ReportSettings.objects.get(team=subscribed)
    assert report.next_digest_at == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    assert report.last_digest_at == NOON
    assert Delivery.objects.get(recipient="cto@x.org").since == NOON - timedelta(days=1)


@pytest.mark.django_db
def test_it_never_queues_a_digest_twice_for_a_period(subscribed, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report_schedule.send_readiness_reports(NOON)
        # The beat again, a retried tick, and an operator forcing the team's digest: all the same period.
        assert report_schedule.send_readiness_reports(NOON)["deliveries"] == 0
        assert report_schedule.send_team_digest_now(subscribed, NOON + timedelta(hours=1)) == []
        stale = ReportSettings.objects.get(team=subscribed)
        stale.next_digest_at = NOON
        assert report_schedule.claim_due_digest(stale, NOON) is None

    assert Delivery.objects.count() == 3
    assert len(enqueued) == 3


@pytest.mark.django_db
def test_it_leaves_teams_that_are_not_due_or_have_digests_off(subscribed, enqueued):
    ReportSettings.objects.filter(team=subscribed).update(next_digest_at=NOON + timedelta(minutes=1))
    quiet = Team.objects.create(name="Quiet")
    ReportSettings.objects.create(team=quiet, frequency=DigestFrequency.OFF, next_digest_at=NOON - timedelta(days=1))

    outcome = report_schedule.send_readiness_reports(NOON)

    assert outcome["digests"] == 0 and not Delivery.objects.exists()


@pytest.mark.django_db
def test_it_gives_a_new_team_daily_digests_at_eight_on_its_clock(enqueued):
    team = Team.objects.create(name="New", timezone="Europe/Paris")

    assert report_schedule.send_readiness_reports(NOON)["scheduled"] == 1

    report = ReportSettings.objects.get(team=team)
    assert (report.frequency, report.hour) == (DigestFrequency.DAILY, 8)
    assert report.next_digest_at == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)  # 08:00 in Paris, winter time


@pytest.mark.django_db
def test_it_sends_a_digest_covering_only_the_projects_a_member_chose(team, enqueued):
    shop = Project.objects.create(team=team, name="shop", repo_url="https://github.com/example/shop.git")
    Project.objects.create(team=team, name="blog", repo_url="https://github.com/example/blog.git")
    Project.objects.create(
        team=team, name="old", repo_url="https://github.com/example/old.git", archived_at=NOON, recipients="x@y.org"
    )
    _member(team, "alice", digest=True, all_projects=False).report_prefs.projects.set([shop])
    ReportSettings.objects.create(team=team, next_digest_at=NOON)

    report_schedule.send_readiness_reports(NOON)

    assert list(Delivery.objects.values_list("recipient", "projects")) == [("alice@example.org", [shop.pk])]


@pytest.mark.django_db
def test_it_sends_again_a_delivery_whose_message_was_lost(subscribed, enqueued):
    hour_ago = NOON - timedelta(hours=1)
    lost = Delivery.objects.create(
        team=subscribed, kind=DeliveryKind.TEST, recipient="a@x.org", send_after=hour_ago, enqueued_at=hour_ago
    )
    recent = Delivery.objects.create(
        team=subscribed, kind=DeliveryKind.TEST, recipient="b@x.org", send_after=hour_ago, enqueued_at=NOON
    )
    ReportSettings.objects.filter(team=subscribed).update(next_digest_at=NOON + timedelta(hours=1))

    assert report_schedule.send_readiness_reports(NOON)["requeued"] == 1
    assert report_schedule.send_readiness_reports(NOON)["requeued"] == 0

    assert enqueued == [lost.pk]
    assert Delivery.objects.get(pk=recent.pk).enqueued_at == NOON


@pytest.mark.django_db
def test_it_records_a_delivery_whose_worker_died_while_sending_as_failed(subscribed, enqueued):
    delivery = Delivery.objects.create(
        team=subscribed,
        kind=DeliveryKind.TEST,
        recipient="a@x.org",
        status=DeliveryStatus.SENDING,
        attempted_at=NOON - timedelta(minutes=10),
    )

    assert report_schedule.send_readiness_reports(NOON)["abandoned"] == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.reason == report_schedule.LOST_WORKER
    assert enqueued == []


@pytest.mark.django_db(transaction=True)
def test_it_queues_each_digest_once_when_two_beats_run_at_once(enqueued, monkeypatch):
    teams = [Team.objects.create(name=f"team {i}") for i in range(8)]
    for team in teams:
        Project.objects.create(team=team, name="app", repo_url="https://github.com/example/app.git")
        _member(team, f"owner{team.pk}", digest=True)
        ReportSettings.objects.create(team=team, next_digest_at=NOON)
    outcomes = race_two_beats(
        monkeypatch, report_schedule, "claim_due_digest", lambda: report_schedule.send_readiness_reports(NOON)
    )
    assert sum(outcome["digests"] for outcome in outcomes) == 8
    assert sum(outcome["taken"] for outcome in outcomes) == 8
    assert Delivery.objects.count() == 8
    assert sorted(enqueued) == sorted(Delivery.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_it_is_the_task_the_beat_sends_every_few_minutes(subscribed, enqueued):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == send_readiness_reports.name)
    assert entry["schedule"] <= 300
    ReportSettings.objects.filter(team=subscribed).update(next_digest_at=NOON - timedelta(days=400))

    assert send_readiness_reports.apply().get()["deliveries"] == 3
