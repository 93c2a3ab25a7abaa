from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.html import escape

from dashboard import teams
from dashboard.models import Invite, Membership, Role

SIGNUP = {
    "username": "dora",
    "email": "dora@example.org",
    "password1": "a long passphrase",
    "password2": "a long passphrase",
}


def _link(invite: Invite) -> str:
    return f"/invite/{teams.invite_token(invite)}/"


def test_it_lets_an_owner_create_an_invite_link(client, alice, team):
    client.force_login(alice)
    response = client.post(f"/teams/{team.pk}/invites/", {"role": "viewer", "email": "dora@example.org"})
    assert response["Location"] == f"/teams/{team.pk}/#invites"
    invite = Invite.objects.get(team=team)
    assert invite.role == Role.VIEWER and invite.created_by == alice
    assert timedelta(days=6, hours=23) < invite.expires_at - timezone.now() <= timedelta(days=7)
    html = client.get(f"/teams/{team.pk}/").content.decode()
    shown = re.search(r'class="invite-link" readonly value="([^"]+)"', html).group(1)
    assert shown == "http://testserver" + _link(invite)


def test_it_lets_a_logged_in_user_join(client, alice, team, charlie):
    invite = teams.create_invite(team, Role.MEMBER, alice)
    client.force_login(charlie)
    page = client.get(_link(invite)).content.decode()
    assert f"Join {escape(team.name)}" in page and "Join as charlie" in page
    response = client.post(_link(invite))
    assert response["Location"] == "/"
    assert Membership.objects.get(user=charlie, team=team).role == Role.MEMBER
    assert client.session["team_id"] == team.pk
    invite.refresh_from_db()
    assert invite.used_at is not None and invite.used_by == charlie


def test_it_lets_a_new_visitor_sign_up_and_join(client, alice, team):
    invite = teams.create_invite(team, Role.VIEWER, alice, email="dora@example.org")
    page = client.get(_link(invite)).content.decode()
    assert 'value="dora@example.org"' in page and "Sign up and join" in page
    response = client.post(_link(invite), SIGNUP)
    assert response["Location"] == "/"
    dora = get_user_model().objects.get(username="dora")
    assert not dora.is_staff
    assert Membership.objects.get(user=dora, team=team).role == Role.VIEWER
    assert escape(team.name) in client.get("/").content.decode()


def test_it_shows_sign_up_errors_without_using_the_invite(client, alice, team):
    invite = teams.create_invite(team, Role.MEMBER, alice)
    response = client.post(_link(invite), SIGNUP | {"username": "alice"})
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    invite.refresh_from_db()
    assert invite.used_at is None


def test_it_works_once(client, alice, team, charlie):
    invite = teams.create_invite(team, Role.MEMBER, alice)
    client.post(_link(invite), SIGNUP)
    client.logout()
    response = client.get(_link(invite))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    client.force_login(charlie)
    assert client.post(_link(invite)).status_code == 410
    assert not Membership.objects.filter(user=charlie, team=team).exists()


def test_it_claims_an_invite_exactly_once(alice, team, bob, charlie):
    invite = teams.create_invite(team, Role.OWNER, alice)
    stale_copy = Invite.objects.get(pk=invite.pk)
    assert teams.claim_invite(invite, charlie)
    assert not teams.claim_invite(stale_copy, bob)
    assert Membership.objects.get(user=bob, team=team).role == Role.MEMBER


def test_it_creates_no_account_when_the_invite_went_meanwhile(alice, team, charlie):
    invite = teams.create_invite(team, Role.MEMBER, alice)
    teams.claim_invite(Invite.objects.get(pk=invite.pk), charlie)
    assert teams.sign_up_with_invite(invite, username="dora", email="d@example.org", password="x" * 16) is None
    assert not get_user_model().objects.filter(username="dora").exists()


def test_it_refuses_an_expired_link(client, alice, team):
    invite = teams.create_invite(team, Role.MEMBER, alice)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(_link(invite))
    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    assert client.post(_link(invite), SIGNUP).status_code == 410
    assert not get_user_model().objects.filter(username="dora").exists()


def test_it_refuses_a_tampered_link(client, alice, team):
    invite = teams.create_invite(team, Role.MEMBER, alice)
    token = teams.invite_token(invite)
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), invite.nonce, "nonsense"):
        response = client.get(f"/invite/{forged}/")
        assert response.status_code == 400
        assert "not valid" in response.content.decode()


def test_it_refuses_a_revoked_link(client, alice, team):
    invite = teams.create_invite(team, Role.MEMBER, alice)
    link = _link(invite)
    client.force_login(alice)
    assert client.post(f"/teams/{team.pk}/invites/{invite.pk}/revoke/")["Location"] == f"/teams/{team.pk}/#invites"
    client.logout()
    response = client.get(link)
    assert response.status_code == 410
    assert "revoked" in response.content.decode()


def test_it_keeps_the_invite_when_the_visitor_is_already_a_member(client, alice, bob, team):
    invite = teams.create_invite(team, Role.VIEWER, alice)
    client.force_login(bob)
    assert client.get(_link(invite))["Location"] == "/"
    invite.refresh_from_db()
    assert invite.used_at is None
    assert Membership.objects.get(user=bob, team=team).role == Role.MEMBER


def test_it_lets_only_owners_create_and_revoke_invites(client, alice, bob, vic, team):
    invite = teams.create_invite(team, Role.MEMBER, alice)
    for user in (bob, vic):
        client.force_login(user)
        assert client.post(f"/teams/{team.pk}/invites/", {"role": "owner"}).status_code == 403
        assert client.post(f"/teams/{team.pk}/invites/{invite.pk}/revoke/").status_code == 403
        assert "invite-link" not in client.get(f"/teams/{team.pk}/").content.decode()
    assert list(Invite.objects.filter(team=team)) == [invite]
