from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from dashboard import teams
from dashboard.models import Membership, Role

FORM = {
    "username": "ada",
    "email": "ada@example.org",
    "password1": "correct horse battery",
    "password2": "correct horse battery",
    "team_name": "Platform",
}


@pytest.mark.django_db
def test_it_sends_the_first_visitor_to_the_setup_form(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/setup/"
    assert client.get("/accounts/login/")["Location"] == "/setup/"
    assert "Set up Preflight" in client.get("/setup/").content.decode()


@pytest.mark.django_db
def test_it_creates_the_admin_and_the_first_team(client):
    response = client.post("/setup/", FORM)
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = get_user_model().objects.get()
    assert user.username == "ada" and user.email == "ada@example.org"
    assert user.is_superuser and user.is_staff
    membership = Membership.objects.select_related("team").get(user=user)
    assert membership.team.name == "Platform" and membership.role == Role.OWNER
    assert "Platform" in client.get("/").content.decode()


@pytest.mark.django_db
def test_it_explains_what_is_wrong_with_the_form(client):
    response = client.post("/setup/", FORM | {"password2": "something else", "team_name": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "password fields didn" in html
    assert "This field is required." in html
    assert not get_user_model().objects.exists()


def test_it_is_gone_once_an_account_exists(client, alice):
    assert client.get("/setup/")["Location"] == "/accounts/login/"
    response = client.post("/setup/", FORM)
    assert response["Location"] == "/accounts/login/"
    assert not get_user_model().objects.filter(username="ada").exists()


def test_it_refuses_a_second_admin_when_another_visitor_won(alice):
    with pytest.raises(teams.SetupClosed):
        teams.create_first_admin(username="ada", email="ada@example.org", password="x" * 12, team_name="Platform")
    assert not get_user_model().objects.filter(username="ada").exists()
