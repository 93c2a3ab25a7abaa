"""The team's report settings page: schedule, own switches, recipients, deliveries, preview and test report."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dashboard.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    DigestFrequency,
    MemberReportPrefs,
    Project,
    ReportSettings,
    Team,
    Unsubscribe,
)
from tests.dashboard.scandata import FLASK_DEV_SERVER, FLASK_GUNICORN, store_scan


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr("dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: sent.append(delivery_id))
    return sent


def _url(team, tail: str = "") -> str:
    return f"/teams/{team.pk}/reports/{tail}"


def test_it_shows_every_member_the_schedule_recipients_and_deliveries(client, alice, bob, vic, team, project):
    Project.objects.filter(pk=project.pk).update(recipients="cto@example.org")
    MemberReportPrefs.objects.create(membership=bob.memberships.get(), digest=True)
    Unsubscribe.objects.create(team=team, address="cto@example.org", kind="digest")
    Delivery.objects.create(
        team=team,
        kind=DeliveryKind.DIGEST,
        recipient="cto@example.org",
        period="2026-01-14",
        status=DeliveryStatus.FAILED,
        reason="Attempt 7: the mail server refused the connection (is it running?)",
        attempts=7,
    )
    for user in (alice, bob, vic):
        client.force_login(user)
        page = client.get(_url(team)).content.decode()
        assert "Digest schedule" in page
        assert "Next digest:" in page
        assert 'data-project="shop"' in page and "bob" in page and "unsubscribed from digests" in page
        assert "Attempt 7: the mail server refused the connection" in page
        assert "Failed" in page
    assert 'action="/teams/' not in page  # the viewer gets no forms
    assert "Viewers have read-only access" in page


def test_it_lets_a_member_change_the_schedule_and_timezone(client, bob, team):
    client.force_login(bob)
    response = client.post(
        _url(team, "schedule/"), {"frequency": "weekly", "weekday": "4", "hour": "17", "timezone": "Europe/Berlin"}
    )

    assert response["Location"] == _url(team, "#schedule")
    report = ReportSettings.objects.get(team=team)
    assert (report.frequency, report.weekday, report.hour) == (DigestFrequency.WEEKLY, 4, 17)
    assert Team.objects.get(pk=team.pk).timezone == "Europe/Berlin"
    local = report.next_digest_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour, local.minute) == (4, 17, 0)
    assert report.next_digest_at > timezone.now()


def test_it_turns_digests_off(client, alice, team):
    client.force_login(alice)
    client.post(_url(team, "schedule/"), {"frequency": "off", "weekday": "0", "hour": "8", "timezone": "UTC"})

    assert ReportSettings.objects.get(team=team).next_digest_at is None


def test_it_saves_a_members_own_switches_and_projects(client, bob, team, project):
    other = Project.objects.create(team=team, name="blog", repo_url="https://github.com/example/blog.git")
    Unsubscribe.objects.create(team=team, address="bob@example.org", kind="alert")
    client.force_login(bob)

    client.post(_url(team, "me/"), {"digest": "on", "alerts": "on", "scope": "chosen", "projects": [other.pk]})

    prefs = MemberReportPrefs.objects.get(membership__user=bob)
    assert (prefs.digest, prefs.alerts, prefs.all_projects) == (True, True, False)
    assert list(prefs.projects.all()) == [other]
    # Switching alerts back on lifts the earlier unsubscribe from them.
    assert not Unsubscribe.objects.filter(address="bob@example.org").exists()
    page = client.get(_url(team)).content.decode()
    assert f'value="{other.pk}"' in page and "checked" in page


def test_it_sends_the_member_a_test_report(client, alice, team, project, enqueued, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(team, "test/"))

    assert response["Location"] == _url(team, "#deliveries")
    delivery = Delivery.objects.get()
    assert (delivery.kind, delivery.recipient, delivery.period) == (DeliveryKind.TEST, "alice@example.org", "")
    assert enqueued == [delivery.pk]


def test_it_refuses_a_test_report_without_an_address(client, alice, team, enqueued):
    alice.email = ""
    alice.save()
    client.force_login(alice)

    response = client.post(_url(team, "test/"), follow=True)

    assert "no e-mail address" in response.content.decode()
    assert not Delivery.objects.exists()


def test_it_previews_the_next_digest_as_html(client, vic, team, project):
    now = timezone.now()
    store_scan(project, FLASK_GUNICORN, when=now - timedelta(days=2))
    store_scan(project, FLASK_DEV_SERVER, sha="b" * 40, when=now - timedelta(hours=1))
    client.force_login(vic)

    response = client.get(_url(team, "preview/"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Preflight digest for Alice&#x27;s team: 1 project needs attention" in page
    assert "<iframe" in page and 'srcdoc="&lt;!doctype html&gt;' in page
    assert "New blockers" in page and "PF103" in page


@pytest.mark.parametrize(
    "tail, data",
    [
        ("schedule/", {"frequency": "daily", "weekday": "0", "hour": "3", "timezone": "UTC"}),
        ("me/", {"digest": "on", "scope": "all"}),
        ("test/", {}),
    ],
)
def test_it_refuses_writes_to_viewers_and_strangers(client, vic, charlie, team, enqueued, tail, data):
    client.force_login(vic)
    assert client.post(_url(team, tail), data).status_code == 403
    client.force_login(charlie)
    assert client.post(_url(team, tail), data).status_code == 404
    assert client.get(_url(team)).status_code == 404
    assert client.get(_url(team, "preview/")).status_code == 404
    assert not ReportSettings.objects.exists() and not MemberReportPrefs.objects.exists()
    assert not Delivery.objects.exists()


def test_it_links_the_report_settings_from_the_team_settings(client, alice, team):
    client.force_login(alice)
    assert f'href="{_url(team)}"' in client.get(f"/teams/{team.pk}/").content.decode()


def test_it_escapes_what_the_preview_shows(client, alice, team):
    Project.objects.create(team=team, name='<script>alert("x")</script>', repo_url="https://github.com/example/x.git")
    client.force_login(alice)

    page = client.get(_url(team, "preview/")).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)" in page  # the plain-text part, escaped once
    assert "&amp;lt;script&amp;gt;" in page  # the HTML part: escaped in the e-mail, then for the attribute
