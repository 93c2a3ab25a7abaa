from __future__ import annotations

from django.utils.html import escape

from dashboard.models import Membership, Project, Role, Team


def _charlies_team() -> Team:
    return Team.objects.get(name="Charlie's team")


def test_it_switches_to_another_team_of_the_user(client, alice, team, charlie):
    other = _charlies_team()
    Membership.objects.create(user=alice, team=other, role=Role.MEMBER)
    Project.objects.create(team=other, name="charlies-app", repo_url="https://github.com/c/app.git")
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert 'action="/teams/switch/"' in html and escape(other.name) in html
    response = client.post("/teams/switch/", {"team": other.pk})
    assert response["Location"] == "/"
    assert client.session["team_id"] == other.pk
    assert 'data-project="charlies-app"' in client.get("/").content.decode()


def test_it_refuses_a_team_the_user_is_not_in(client, alice, team, charlie):
    client.force_login(alice)
    assert client.post("/teams/switch/", {"team": _charlies_team().pk}).status_code == 404
    assert "team_id" not in client.session


def test_it_switches_on_post_only(client, alice, team):
    client.force_login(alice)
    assert client.get("/teams/switch/", {"team": team.pk}).status_code == 405


def test_it_returns_to_a_local_page_only(client, alice, team, charlie):
    Membership.objects.create(user=alice, team=_charlies_team(), role=Role.MEMBER)
    client.force_login(alice)
    back = client.post("/teams/switch/", {"team": team.pk, "next": f"/teams/{team.pk}/"})
    assert back["Location"] == f"/teams/{team.pk}/"
    away = client.post("/teams/switch/", {"team": team.pk, "next": "https://evil.example/"})
    assert away["Location"] == "/"


def test_it_lets_a_user_create_another_team(client, alice, team):
    client.force_login(alice)
    response = client.post("/teams/new/", {"name": "Side project"})
    created = Team.objects.get(name="Side project")
    assert response["Location"] == f"/teams/{created.pk}/"
    assert Membership.objects.get(user=alice, team=created).role == Role.OWNER
    assert client.session["team_id"] == created.pk
