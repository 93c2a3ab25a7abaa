"""Push webhooks: GitHub (signed body), GitLab (token header), generic (bearer); only tracked pushes scan."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard import crypto, webhooks
from dashboard.models import Scan, ScanStatus
from dashboard.projects import regenerate_webhook

SECRET = "b3f1c0ffee-webhook-secret"
# Committed for real, as in production: a scan is sent to the workers once its row is committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hooked(project):
    project.branch = "main"
    project.webhook_secret = crypto.encrypt(SECRET)
    project.save()
    return project


@pytest.fixture
def enqueued(monkeypatch):
    """The scan ids sent to the workers."""
    sent: list[int] = []
    monkeypatch.setattr("dashboard.enqueue.enqueue_scan", sent.append)
    return sent


@pytest.fixture
def hook_client():
    return Client(enforce_csrf_checks=True)


def _github_push(ref="refs/heads/main", default_branch="main", **extra) -> dict:
    return {
        "ref": ref,
        "before": "1" * 40,
        "after": "2" * 40,
        "deleted": False,
        "repository": {"full_name": "example/shop", "default_branch": default_branch},
        "head_commit": {"id": "2" * 40, "message": "Use gunicorn"},
        **extra,
    }


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_github(client, project, payload, *, event="push", signature=None, secret=SECRET):
    body = json.dumps(payload).encode()
    return client.post(
        reverse("hook_github", args=[project.webhook_token]),
        body,
        content_type="application/json",
        headers={
            "X-GitHub-Event": event,
            "X-Hub-Signature-256": _sign(body, secret) if signature is None else signature,
        },
    )


def _gitlab_push(ref="refs/heads/main", default_branch="main", **extra) -> dict:
    return {
        "object_kind": "push",
        "ref": ref,
        "before": "1" * 40,
        "after": "2" * 40,
        "project": {"path_with_namespace": "example/shop", "default_branch": default_branch},
        **extra,
    }


def post_gitlab(client, project, payload, *, token=SECRET, event="Push Hook"):
    return client.post(
        reverse("hook_gitlab", args=[project.webhook_token]),
        json.dumps(payload),
        content_type="application/json",
        headers={"X-Gitlab-Event": event, "X-Gitlab-Token": token},
    )


def post_generic(client, project, body: bytes | str = b"", *, authorization=f"Bearer {SECRET}"):
    return client.post(
        reverse("hook_generic", args=[project.webhook_token]),
        body,
        content_type="application/json",
        headers={"Authorization": authorization},
    )


def test_it_scans_a_github_push_to_the_tracked_branch(hook_client, hooked, enqueued):
    response = post_github(hook_client, hooked, _github_push())
    assert response.status_code == 202
    scan = Scan.objects.get(project=hooked)
    assert response.json() == {"status": "scan requested", "scan": scan.pk, "created": True}
    assert (scan.trigger, scan.status) == ("push", ScanStatus.QUEUED)
    assert enqueued == [scan.pk]


def test_it_accepts_a_github_push_sent_form_encoded(hook_client, hooked, enqueued):
    body = urlencode({"payload": json.dumps(_github_push())}).encode()
    response = hook_client.post(
        reverse("hook_github", args=[hooked.webhook_token]),
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": _sign(body)},
    )
    assert response.status_code == 202
    assert enqueued == [Scan.objects.get(project=hooked).pk]


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        "sha1=" + "0" * 40,
        _sign(b"{}"),  # a valid signature of another body
        _sign(json.dumps(_github_push()).encode(), "another-secret"),
        "sha256=ñ",
    ],
)
def test_it_refuses_a_github_push_with_a_bad_signature(hook_client, hooked, enqueued, signature):
    response = post_github(hook_client, hooked, _github_push(), signature=signature)
    assert response.status_code == 403
    assert not Scan.objects.exists()
    assert enqueued == []


def test_it_refuses_a_github_push_without_a_signature_header(hook_client, hooked, enqueued):
    response = hook_client.post(
        reverse("hook_github", args=[hooked.webhook_token]),
        json.dumps(_github_push()),
        content_type="application/json",
        headers={"X-GitHub-Event": "push"},
    )
    assert response.status_code == 403
    assert not Scan.objects.exists() and enqueued == []


def test_it_answers_a_github_ping(hook_client, hooked, enqueued):
    response = post_github(hook_client, hooked, {"zen": "Design for failure.", "hook_id": 1}, event="ping")
    assert response.status_code == 200
    assert response.json() == {"status": "pong"}
    assert not Scan.objects.exists()


def test_it_refuses_a_ping_with_a_bad_signature(hook_client, hooked, enqueued):
    assert post_github(hook_client, hooked, {"zen": "x"}, event="ping", signature="sha256=00").status_code == 403


@pytest.mark.parametrize(
    "payload",
    [
        _github_push(ref="refs/heads/feature/login"),
        _github_push(ref="refs/tags/v1.0.0"),
        _github_push(deleted=True),
    ],
    ids=["other-branch", "tag", "deleted-branch"],
)
def test_it_ignores_github_pushes_that_are_not_to_the_tracked_branch(hook_client, hooked, enqueued, payload):
    response = post_github(hook_client, hooked, payload)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert not Scan.objects.exists() and enqueued == []


def test_it_ignores_other_github_events(hook_client, hooked, enqueued):
    response = post_github(hook_client, hooked, {"action": "opened"}, event="pull_request")
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert not Scan.objects.exists()


def test_it_scans_pushes_to_the_default_branch_when_the_project_follows_head(hook_client, hooked, enqueued):
    hooked.branch = ""
    hooked.save()
    ignored = post_github(hook_client, hooked, _github_push(ref="refs/heads/main", default_branch="trunk"))
    assert ignored.json()["status"] == "ignored"
    response = post_github(hook_client, hooked, _github_push(ref="refs/heads/trunk", default_branch="trunk"))
    assert response.status_code == 202
    assert len(enqueued) == 1


def test_it_returns_the_pending_scan_to_a_second_push(hook_client, hooked, enqueued):
    first = post_github(hook_client, hooked, _github_push()).json()
    second = post_github(hook_client, hooked, _github_push(after="3" * 40))
    assert second.status_code == 200
    assert second.json() == {"status": "scan pending", "scan": first["scan"], "created": False}
    assert Scan.objects.count() == 1
    assert enqueued == [first["scan"]]


def test_it_scans_again_once_the_pending_scan_finished(hook_client, hooked, enqueued):
    first = post_github(hook_client, hooked, _github_push()).json()
    Scan.objects.filter(pk=first["scan"]).update(status=ScanStatus.SUCCEEDED)
    second = post_github(hook_client, hooked, _github_push()).json()
    assert second["created"] is True and second["scan"] != first["scan"]


def test_it_refuses_every_call_when_the_project_has_no_secret(hook_client, hooked, enqueued):
    hooked.webhook_secret = ""
    hooked.save()
    assert post_github(hook_client, hooked, _github_push(), secret="").status_code == 403
    assert post_gitlab(hook_client, hooked, _gitlab_push(), token="").status_code == 403
    assert post_generic(hook_client, hooked, authorization="Bearer ").status_code == 403
    assert post_generic(hook_client, hooked, authorization="Bearer").status_code == 403
    assert not Scan.objects.exists() and enqueued == []


def test_it_refuses_every_call_when_the_secret_cannot_be_decrypted(hook_client, hooked, enqueued, settings):
    settings.FERNET_KEYS = ["a key that did not encrypt it"]
    assert post_github(hook_client, hooked, _github_push()).status_code == 403
    assert post_gitlab(hook_client, hooked, _gitlab_push()).status_code == 403
    assert post_generic(hook_client, hooked).status_code == 403
    assert not Scan.objects.exists()


def test_it_answers_404_to_an_unknown_token(hook_client, hooked, enqueued):
    for name in ("hook_github", "hook_gitlab", "hook_generic"):
        response = hook_client.post(reverse(name, args=["not-a-token"]), b"{}", content_type="application/json")
        assert response.status_code == 404
    assert not Scan.objects.exists()


def test_it_stops_answering_the_old_url_and_secret_after_regeneration(hook_client, hooked, enqueued):
    old_token = hooked.webhook_token
    regenerate_webhook(hooked)
    stale = hook_client.post(
        reverse("hook_generic", args=[old_token]),
        b"",
        content_type="application/json",
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert stale.status_code == 404
    assert post_generic(hook_client, hooked).status_code == 403
    assert not Scan.objects.exists()


def test_it_accepts_only_post(client, hooked, enqueued):
    for name in ("hook_github", "hook_gitlab", "hook_generic"):
        assert client.get(reverse(name, args=[hooked.webhook_token])).status_code == 405
    assert not Scan.objects.exists()


def test_it_does_not_scan_an_archived_project(hook_client, hooked, enqueued):
    hooked.archived_at = timezone.now()
    hooked.save()
    response = post_github(hook_client, hooked, _github_push())
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "reason": "the project is archived"}
    assert not Scan.objects.exists()


def test_it_rejects_a_signed_body_that_is_not_json(hook_client, hooked, enqueued):
    body = b"not json"
    response = hook_client.post(
        reverse("hook_github", args=[hooked.webhook_token]),
        body,
        content_type="application/json",
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": _sign(body)},
    )
    assert response.status_code == 400
    assert not Scan.objects.exists()


def test_it_scans_a_gitlab_push_with_the_right_token(hook_client, hooked, enqueued):
    response = post_gitlab(hook_client, hooked, _gitlab_push())
    assert response.status_code == 202
    scan = Scan.objects.get(project=hooked)
    assert scan.trigger == "push"
    assert enqueued == [scan.pk]


@pytest.mark.parametrize("token", ["", "wrong", SECRET + "x", SECRET[:-1], "ñ"])
def test_it_refuses_a_gitlab_push_with_a_bad_token(hook_client, hooked, enqueued, token):
    assert post_gitlab(hook_client, hooked, _gitlab_push(), token=token).status_code == 403
    assert not Scan.objects.exists() and enqueued == []


@pytest.mark.parametrize(
    "payload",
    [
        _gitlab_push(ref="refs/heads/develop"),
        _gitlab_push(object_kind="tag_push", ref="refs/tags/v2"),
        _gitlab_push(after="0" * 40),
    ],
    ids=["other-branch", "tag-push", "deleted-branch"],
)
def test_it_ignores_gitlab_pushes_that_are_not_to_the_tracked_branch(hook_client, hooked, enqueued, payload):
    response = post_gitlab(hook_client, hooked, payload)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert not Scan.objects.exists()


def test_it_scans_gitlab_pushes_to_the_default_branch_when_the_project_follows_head(hook_client, hooked, enqueued):
    hooked.branch = ""
    hooked.save()
    assert post_gitlab(hook_client, hooked, _gitlab_push(ref="refs/heads/x", default_branch="main")).status_code == 200
    assert (
        post_gitlab(hook_client, hooked, _gitlab_push(ref="refs/heads/main", default_branch="main")).status_code == 202
    )
    assert len(enqueued) == 1


def test_it_scans_a_generic_call_with_the_bearer_secret(hook_client, hooked, enqueued):
    response = post_generic(hook_client, hooked)
    assert response.status_code == 202
    assert Scan.objects.get(project=hooked).trigger == "push"
    assert len(enqueued) == 1


def test_it_scans_a_generic_call_only_for_the_tracked_branch(hook_client, hooked, enqueued):
    other = post_generic(hook_client, hooked, json.dumps({"branch": "feature"}))
    assert other.status_code == 200 and other.json()["status"] == "ignored"
    tracked = post_generic(hook_client, hooked, json.dumps({"branch": "refs/heads/main"}))
    assert tracked.status_code == 202
    assert len(enqueued) == 1


@pytest.mark.parametrize("authorization", ["", SECRET, f"Basic {SECRET}", "Bearer wrong", f"Bearer {SECRET}0"])
def test_it_refuses_a_generic_call_without_the_bearer_secret(hook_client, hooked, enqueued, authorization):
    assert post_generic(hook_client, hooked, authorization=authorization).status_code == 403
    assert not Scan.objects.exists() and enqueued == []


@pytest.mark.parametrize("body", ["not json", "[1]", '{"branch": 3}'])
def test_it_rejects_a_generic_body_it_cannot_read(hook_client, hooked, enqueued, body):
    assert post_generic(hook_client, hooked, body).status_code == 400
    assert not Scan.objects.exists()


def test_it_signs_like_github_does():
    # The worked example in GitHub's "Validating webhook deliveries" documentation.
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert webhooks.verify_github("It's a Secret to Everybody", b"Hello, World!", signature)
