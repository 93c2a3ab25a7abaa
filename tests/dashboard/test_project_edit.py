"""Editing a project: stored secrets are kept unless replaced, never shown back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard import crypto
from dashboard.models import AuthKind, Project

REPO = "https://127.0.0.1/acme/shop.git"  # loopback passes the URL policy in tests without DNS


@pytest.fixture
def private_project(team):
    return Project.objects.create(
        team=team,
        name="shop",
        repo_url=REPO,
        auth_kind=AuthKind.TOKEN,
        credential=crypto.encrypt("glpat-0ld-t0ken"),
        variables=["DATABASE_URL"],
        schedule="daily",
    )


def form(**changes) -> dict:
    data = {
        "name": "shop",
        "repo_url": REPO,
        "branch": "",
        "app_root": "",
        "auth_kind": "token",
        "token": "",
        "private_key": "",
        "start_command": "",
        "pre_deploy_command": "",
        "variables": "DATABASE_URL",
        "volume_mount_path": "",
        "schedule": "daily",
        "cron": "",
        "recipients": "",
    }
    return data | changes


def url(project) -> str:
    return reverse("project_edit", args=[project.pk])


def test_it_shows_the_current_settings_but_not_the_token(client, alice, private_project):
    client.force_login(alice)
    body = client.get(url(private_project)).content.decode()
    assert REPO in body and "DATABASE_URL" in body
    assert "A token is stored; leave empty to keep it." in body
    assert "glpat-0ld-t0ken" not in body


def test_it_keeps_the_stored_token_when_left_empty(client, bob, private_project):
    client.force_login(bob)
    response = client.post(url(private_project), form(branch="release", variables="DATABASE_URL\nSENTRY_DSN"))
    assert response.status_code == 302
    private_project.refresh_from_db()
    assert crypto.decrypt(private_project.credential) == "glpat-0ld-t0ken"
    assert private_project.branch == "release"
    assert private_project.variables == ["DATABASE_URL", "SENTRY_DSN"]


def test_it_replaces_the_token_when_a_new_one_is_given(client, alice, private_project):
    client.force_login(alice)
    client.post(url(private_project), form(token="glpat-n3w"))
    private_project.refresh_from_db()
    assert crypto.decrypt(private_project.credential) == "glpat-n3w"


def test_it_clears_the_credential_when_the_repository_becomes_public(client, alice, private_project):
    client.force_login(alice)
    client.post(url(private_project), form(auth_kind="none"))
    private_project.refresh_from_db()
    assert (private_project.auth_kind, private_project.credential) == ("none", "")


def test_it_asks_for_a_key_when_switching_from_token_to_deploy_key(client, alice, private_project):
    client.force_login(alice)
    response = client.post(url(private_project), form(auth_kind="ssh_key", repo_url="git@127.0.0.1:acme/shop.git"))
    assert response.status_code == 200
    assert "Paste the private deploy key" in " ".join(response.context["form"].errors["private_key"])


def test_it_makes_a_changed_schedule_due_and_an_unchanged_one_not(client, alice, private_project):
    client.force_login(alice)
    client.post(url(private_project), form(name="renamed"))
    private_project.refresh_from_db()
    assert (private_project.name, private_project.next_scan_at) == ("renamed", None)
    client.post(url(private_project), form(schedule="cron", cron="*/30 * * * *"))
    private_project.refresh_from_db()
    assert private_project.cron == "*/30 * * * *" and private_project.next_scan_at is not None
    client.post(url(private_project), form(schedule="off", cron="*/30 * * * *"))
    private_project.refresh_from_db()
    assert (private_project.cron, private_project.next_scan_at) == ("", None)


def test_it_keeps_the_form_and_errors_on_invalid_input(client, alice, private_project):
    client.force_login(alice)
    response = client.post(url(private_project), form(volume_mount_path="data"))
    assert response.status_code == 200
    assert "absolute path" in response.content.decode()
    private_project.refresh_from_db()
    assert private_project.volume_mount_path == ""


def test_it_refuses_a_viewer(client, vic, private_project):
    client.force_login(vic)
    assert client.get(url(private_project)).status_code == 403
    assert client.post(url(private_project), form(name="hacked")).status_code == 403
    private_project.refresh_from_db()
    assert private_project.name == "shop"


def test_it_hides_the_project_from_a_stranger(client, charlie, private_project):
    client.force_login(charlie)
    assert client.get(url(private_project)).status_code == 404
    assert client.post(url(private_project), form(name="hacked")).status_code == 404
