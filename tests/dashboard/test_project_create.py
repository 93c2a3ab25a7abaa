"""Registering a repository: the form, its errors, and where the secrets go."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.urls import reverse
from django.utils import timezone

from dashboard import crypto
from dashboard.models import AuthKind, Project
from dashboard.schedules import next_run

URL = reverse("project_new")
GITHUB_ADDRESS = "140.82.112.3"


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    """The test machine has no DNS: the well-known hosts resolve to a public address, the rest fail."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in ("github.com", "gitlab.com", "bitbucket.org"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (GITHUB_ADDRESS, port))]
        if host in ("127.0.0.1", "::1"):
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def form(**changes) -> dict:
    data = {
        "name": "",
        "repo_url": "https://github.com/acme/shop.git",
        "branch": "",
        "app_root": "",
        "auth_kind": "none",
        "token": "",
        "private_key": "",
        "start_command": "",
        "pre_deploy_command": "",
        "variables": "",
        "volume_mount_path": "",
        "schedule": "daily",
        "cron": "",
        "recipients": "",
    }
    return data | changes


def private_key(passphrase: bytes | None = None) -> str:
    """An OpenSSH key as ssh-keygen writes it; with a passphrase, PKCS#8 (OpenSSH's needs bcrypt to write)."""
    key = ed25519.Ed25519PrivateKey.generate()
    if passphrase:
        encryption = serialization.BestAvailableEncryption(passphrase)
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()


def errors(response) -> dict:
    return response.context["form"].errors


def test_it_registers_a_public_repository_with_its_railway_settings(client, alice, team):
    client.force_login(alice)
    response = client.post(
        URL,
        form(
            branch="main",
            app_root="services/web/",
            start_command="gunicorn app:app",
            pre_deploy_command="flask db upgrade",
            variables="DATABASE_URL, SECRET_KEY\nREDIS_URL\nSECRET_KEY",
            volume_mount_path="/data",
            worker_service="on",
            schedule="weekly",
            recipients="ops@example.org\ncto@example.org",
        ),
    )
    project = Project.objects.get()
    assert response.status_code == 302 and response.url == reverse("project", args=[project.pk])
    assert project.team == team
    assert project.name == "shop"
    assert project.repo_url == "https://github.com/acme/shop.git"
    assert (project.branch, project.app_root) == ("main", "services/web")
    assert project.variables == ["DATABASE_URL", "SECRET_KEY", "REDIS_URL"]
    assert project.platform_settings() == {
        "start_command": "gunicorn app:app",
        "pre_deploy_command": "flask db upgrade",
        "variables": ["DATABASE_URL", "SECRET_KEY", "REDIS_URL"],
        "volume_mount_path": "/data",
        "worker_service": True,
    }
    assert project.recipients == "ops@example.org\ncto@example.org"
    assert project.next_scan_at == next_run(project, project.next_scan_at - timedelta(days=7))
    assert project.next_scan_at > timezone.now()
    assert project.credential == ""
    assert len(crypto.decrypt(project.webhook_secret)) == 64


def test_it_defaults_to_the_remote_head_and_the_repository_root(client, bob):
    client.force_login(bob)
    client.post(URL, form(name="Shop", schedule="off"))
    project = Project.objects.get()
    assert (project.name, project.branch, project.app_root, project.next_scan_at) == ("Shop", "", ".", None)


def test_it_stores_a_token_encrypted_and_never_shows_it(client, alice):
    client.force_login(alice)
    client.post(URL, form(auth_kind="token", token="ghp_s3cretT0ken"))
    project = Project.objects.get()
    assert project.auth_kind == AuthKind.TOKEN
    assert "ghp_s3cretT0ken" not in project.credential
    assert crypto.decrypt(project.credential) == "ghp_s3cretT0ken"
    for url in (reverse("project", args=[project.pk]), reverse("project_edit", args=[project.pk])):
        assert "ghp_s3cretT0ken" not in client.get(url).content.decode()


def test_it_stores_an_ssh_deploy_key_for_an_ssh_url(client, alice):
    client.force_login(alice)
    key = private_key()
    response = client.post(URL, form(repo_url="git@github.com:acme/shop.git", auth_kind="ssh_key", private_key=key))
    assert response.status_code == 302
    project = Project.objects.get()
    assert project.repo_url == "git@github.com:acme/shop.git"
    assert crypto.decrypt(project.credential) == key.strip() + "\n"


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"repo_url": "file:///etc/passwd"}, "repo_url", "file:// URLs"),
        ({"repo_url": "https://alice:hunter2@github.com/acme/shop.git"}, "repo_url", "token field"),
        ({"repo_url": "https://nowhere.invalid/acme/shop.git"}, "repo_url", "does not resolve"),
        ({"repo_url": "--upload-pack=touch /tmp/x"}, "repo_url", "cannot start with '-'"),
        ({"app_root": "../other"}, "app_root", "inside the repository"),
        ({"app_root": "/srv/app"}, "app_root", "relative to the repository root"),
        ({"branch": "feature..x"}, "branch", "not a valid branch name"),
        ({"variables": "DATABASE-URL"}, "variables", "letters, digits and underscores"),
        ({"variables": "9LIVES"}, "variables", "not a variable name"),
        ({"volume_mount_path": "data"}, "volume_mount_path", "absolute path"),
        ({"schedule": "cron", "cron": ""}, "cron", "Enter a cron expression"),
        ({"schedule": "cron", "cron": "every monday"}, "cron", "five fields"),
        ({"schedule": "cron", "cron": "0 6 * * 1-5 2030"}, "cron", "five fields"),
        ({"recipients": "ops@example.org\nnot-an-address"}, "recipients", "'not-an-address' is not an e-mail"),
        ({"auth_kind": "token"}, "token", "Paste the access token"),
        ({"auth_kind": "token", "token": "x", "repo_url": "git@github.com:acme/shop.git"}, "repo_url", "https"),
        ({"auth_kind": "ssh_key", "private_key": private_key()}, "repo_url", "ssh URL"),
        ({"auth_kind": "ssh_key", "repo_url": "git@github.com:a/b.git"}, "private_key", "Paste the private"),
        (
            {"auth_kind": "ssh_key", "repo_url": "git@github.com:a/b.git", "private_key": "ssh-ed25519 AAAA x"},
            "private_key",
            "not the .pub file",
        ),
        (
            {"auth_kind": "ssh_key", "repo_url": "git@github.com:a/b.git", "private_key": private_key(b"pw")},
            "private_key",
            "without one",
        ),
    ],
)
def test_it_says_what_to_do_about_invalid_input(client, alice, changes, field, says):
    client.force_login(alice)
    response = client.post(URL, form(**changes))
    assert response.status_code == 200
    assert says in " ".join(errors(response)[field])
    assert not Project.objects.exists()


def test_it_never_echoes_a_variable_value_pasted_by_mistake(client, alice):
    client.force_login(alice)
    response = client.post(URL, form(variables="SECRET_KEY=very-secret-value"))
    message = " ".join(errors(response)["variables"])
    assert "names only" in message and "SECRET_KEY" in message
    assert "very-secret-value" not in message
    assert "very-secret-value" not in response.content.decode().split("<textarea", 2)[0]


def test_it_accepts_a_valid_cron_expression(client, alice):
    client.force_login(alice)
    client.post(URL, form(schedule="cron", cron=" 0 6 * * 1-5 "))
    assert Project.objects.get().cron == "0 6 * * 1-5"


def test_it_shows_the_form_with_every_section(client, bob):
    client.force_login(bob)
    body = client.get(URL).content.decode()
    for text in (
        "Repository URL",
        "App root",
        "Pre-deploy command",
        "Variable names",
        "Cron expression",
        "Report recipients",
    ):
        assert text in body


def test_it_refuses_a_viewer(client, vic):
    client.force_login(vic)
    assert client.get(URL).status_code == 403
    assert client.post(URL, form()).status_code == 403
    assert not Project.objects.exists()


def test_it_sends_an_anonymous_visitor_to_log_in(client, alice):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response.url
