"""`manage.py send_reports [--dry-run] [--team T]`."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dashboard.models import Delivery, DigestFrequency, MemberReportPrefs, Project, ReportSettings, Team


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr("dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: sent.append(delivery_id))
    return sent


@pytest.fixture
def subscribed(team, alice, project):
    MemberReportPrefs.objects.create(membership=alice.memberships.get(), digest=True)
    Project.objects.filter(pk=project.pk).update(recipients="cto@example.org")
    return team


def _run(*args: str) -> str:
    out = StringIO()
    call_command("send_reports", *args, stdout=out)
    return out.getvalue()


def test_it_says_who_would_get_the_due_digests_without_queueing_them(subscribed, enqueued):
    ReportSettings.objects.create(team=subscribed, next_digest_at=timezone.now() - timedelta(minutes=1))

    output = _run("--dry-run")

    assert "Alice's team" in output and ": 2 to send" in output
    assert "  alice@example.org: shop" in output and "  cto@example.org: shop" in output
    assert "Dry run: nothing was queued." in output
    assert not Delivery.objects.exists() and enqueued == []


def test_it_queues_the_due_digests(subscribed, enqueued, django_capture_on_commit_callbacks):
    ReportSettings.objects.create(team=subscribed, next_digest_at=timezone.now() - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        output = _run()

    assert "Queued 2 digest(s)" in output
    assert len(enqueued) == 2
    assert "No digest is due." in _run()


def test_it_sends_one_teams_digest_now_but_only_once_per_period(
    subscribed, enqueued, django_capture_on_commit_callbacks
):
    ReportSettings.objects.create(team=subscribed, frequency=DigestFrequency.WEEKLY)

    with django_capture_on_commit_callbacks(execute=True):
        first = _run("--team", str(subscribed.pk))
        second = _run("--team", "alice's TEAM")

    assert "Queued 2 digest(s)" in first
    assert "  alice@example.org: already sent for this period" in second and "Queued 0 digest(s)" in second
    assert Delivery.objects.count() == 2 and len(enqueued) == 2
    assert Delivery.objects.first().period.count("-W") == 1


def test_it_refuses_an_unknown_or_ambiguous_team(subscribed):
    with pytest.raises(CommandError, match="No team has the id or name 'nope'"):
        _run("--team", "nope")
    Team.objects.create(name="Alice's team")
    with pytest.raises(CommandError, match="Several teams are named"):
        _run("--team", "Alice's team", "--dry-run")
