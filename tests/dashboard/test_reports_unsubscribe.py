"""Unsubscribing from a link: signed, no login, honoured for members and outside addresses alike."""

from __future__ import annotations

import pytest

from dashboard import reports
from dashboard.models import MemberReportPrefs, Project, Team, Unsubscribe


def _path(team: Team, address: str, kind: str) -> str:
    return f"/unsubscribe/{reports.unsubscribe_token(team.pk, address, kind)}/"


@pytest.fixture
def subscribed(alice, team, project):
    MemberReportPrefs.objects.create(membership=alice.memberships.get(), digest=True, alerts=True)
    Project.objects.filter(pk=project.pk).update(recipients="cto@example.org")
    project.refresh_from_db()
    return project


def test_it_asks_first_on_a_get_so_a_link_scanner_unsubscribes_nobody(client, team, subscribed):
    response = client.get(_path(team, "cto@example.org", "digest"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop sending Preflight digests from Alice&#x27;s team to <strong>cto@example.org</strong>?" in page
    assert "data-autosubmit" in page
    assert not Unsubscribe.objects.exists()


def test_it_unsubscribes_an_outside_address_without_a_login(client, team, subscribed):
    response = client.post(_path(team, "cto@example.org", "digest"))

    assert response.status_code == 200
    assert "gets no more digests from Alice&#x27;s team" in response.content.decode()
    assert reports.digest_recipients(team, [subscribed]) == {"alice@example.org": [subscribed.pk]}
    assert reports.alert_recipients(subscribed) == ["alice@example.org", "cto@example.org"]


def test_it_honours_a_mail_clients_one_click_post_for_a_member(client, team, alice, subscribed):
    response = client.post(
        _path(team, "Alice@Example.org", "alert"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    prefs = MemberReportPrefs.objects.get(membership__user=alice)
    assert (prefs.digest, prefs.alerts) == (True, False)
    assert reports.alert_recipients(subscribed) == ["cto@example.org"]
    assert list(reports.digest_recipients(team, [subscribed])) == ["alice@example.org", "cto@example.org"]


def test_it_is_idempotent(client, team, subscribed):
    path = _path(team, "cto@example.org", "digest")
    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 200
    assert Unsubscribe.objects.count() == 1


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-3] + "abc", lambda t: "nonsense", lambda t: t.replace("Wz", "Wy", 1)],
    ids=["edited signature", "not a token", "edited content"],
)
def test_it_refuses_a_link_that_was_not_signed_here(client, team, subscribed, mangle):
    token = mangle(reports.unsubscribe_token(team.pk, "cto@example.org", "digest"))

    response = client.post(f"/unsubscribe/{token}/")

    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert not Unsubscribe.objects.exists()


def test_it_cannot_be_turned_against_another_team(client, team, charlie, subscribed):
    others = Team.objects.get(memberships__user=charlie)
    client.post(_path(others, "cto@example.org", "digest"))

    assert reports.digest_recipients(team, [subscribed])["cto@example.org"] == [subscribed.pk]
