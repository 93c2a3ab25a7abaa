from __future__ import annotations

from django.contrib.messages import get_messages

from dashboard.models import Membership, Role, Team
from tests.dashboard.test_url_isolation import PUBLIC, PUBLIC_NAMESPACES, object_ids
from tests.dashboard.urlwalk import all_routes


def _member(team, user) -> Membership:
    return Membership.objects.get(team=team, user=user)


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_it_lets_an_owner_change_a_role(client, alice, bob, team):
    client.force_login(alice)
    response = client.post(f"/teams/{team.pk}/members/{_member(team, bob).pk}/role/", {"role": "viewer"})
    assert response["Location"] == f"/teams/{team.pk}/#members"
    assert _member(team, bob).role == Role.VIEWER


def test_it_lets_an_owner_remove_a_member(client, alice, bob, team):
    client.force_login(alice)
    client.post(f"/teams/{team.pk}/members/{_member(team, bob).pk}/remove/")
    assert not Membership.objects.filter(team=team, user=bob).exists()
    client.force_login(bob)
    assert client.get(f"/teams/{team.pk}/").status_code == 404


def test_it_keeps_the_last_owner(client, alice, bob, team):
    client.force_login(alice)
    own = _member(team, alice)
    response = client.post(f"/teams/{team.pk}/members/{own.pk}/remove/")
    assert "The last owner cannot be removed" in " ".join(_messages(response))
    response = client.post(f"/teams/{team.pk}/members/{own.pk}/role/", {"role": "member"})
    assert "at least one owner" in " ".join(_messages(response))
    assert _member(team, alice).role == Role.OWNER


def test_it_lets_an_owner_step_down_when_another_owner_remains(client, alice, bob, team):
    Membership.objects.filter(team=team, user=bob).update(role=Role.OWNER)
    client.force_login(alice)
    client.post(f"/teams/{team.pk}/members/{_member(team, alice).pk}/role/", {"role": "viewer"})
    assert _member(team, alice).role == Role.VIEWER
    client.force_login(bob)
    response = client.post(f"/teams/{team.pk}/members/{_member(team, alice).pk}/remove/")
    assert not Membership.objects.filter(team=team, user=alice).exists()
    assert response["Location"] == f"/teams/{team.pk}/#members"


def test_it_forbids_members_and_viewers_to_manage_the_team(client, alice, bob, vic, team):
    target = _member(team, alice)
    for user in (bob, vic):
        client.force_login(user)
        assert client.get(f"/teams/{team.pk}/").status_code == 200
        assert client.post(f"/teams/{team.pk}/members/{target.pk}/role/", {"role": "viewer"}).status_code == 403
        assert client.post(f"/teams/{team.pk}/members/{target.pk}/remove/").status_code == 403
        assert client.post(f"/teams/{team.pk}/", {"name": "Taken over"}).status_code == 403
    assert _member(team, alice).role == Role.OWNER
    assert Team.objects.get(pk=team.pk).name == team.name


def test_it_lets_an_owner_rename_the_team(client, alice, team):
    client.force_login(alice)
    client.post(f"/teams/{team.pk}/", {"name": "Platform"})
    assert Team.objects.get(pk=team.pk).name == "Platform"


def test_it_finds_no_member_of_another_team_through_this_one(client, alice, team, charlie):
    client.force_login(alice)
    outsider = Membership.objects.get(user=charlie)
    assert client.post(f"/teams/{team.pk}/members/{outsider.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=outsider.pk).exists()


# A viewer may POST here: these change nothing of the team's.
VIEWER_POSTS = {"switch_team": "choosing the team to look at", "accept_invite": "joining another team"}


def test_it_answers_403_to_every_write_by_a_viewer(client, alice, bob, vic, team):
    """Every POST to a URL naming one of the team's objects is refused to a viewer (or not a POST view)."""
    ids = object_ids(team, alice, bob)
    client.force_login(vic)
    problems = []
    for route in all_routes():
        public = route.name in PUBLIC or route.namespace.split(":", 1)[0] in PUBLIC_NAMESPACES
        if not route.int_kwargs or public or route.name in VIEWER_POSTS:
            continue
        if any(name not in ids for name in route.kwargs):
            continue  # test_url_isolation fails for it already
        path = route.path(ids)
        status = client.post(path).status_code
        if status not in (403, 405):
            problems.append(f"{route.name}: POST {path} answers {status} to a viewer")
    assert not problems, "\n".join(problems)
