"""Push webhooks: check that a call comes from the project's repository host, then scan pushes to its branch.

Each project has a URL token (which project) and an encrypted secret (proof
that the caller knows it). GitHub signs the raw body with HMAC-SHA256, GitLab
sends the secret in X-Gitlab-Token, anything else (a CI job, a script) sends
`Authorization: Bearer <secret>`. Every comparison is constant-time, and a
project whose secret is empty or unreadable refuses every call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from dashboard import crypto
from dashboard.models import Project
from dashboard.scans import request_scan

logger = logging.getLogger(__name__)

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class Outcome:
    """What to answer the caller: an HTTP status and a JSON body saying what happened."""

    status: int
    body: dict = field(default_factory=dict)


REFUSED = Outcome(403, {"error": "The signature or token does not match this webhook's secret."})


@dataclass(frozen=True)
class Push:
    branch: str | None  # the branch pushed to; None when the caller did not say
    default_branch: str | None = None  # the repository's default branch, when the payload names it


class BadPayload(ValueError):
    """The body is not the JSON the host sends; the message says what is wrong."""


def webhook_secret(project: Project) -> str:
    """The project's secret in clear, or "" when none is stored or the keys cannot read it (refuse everything)."""
    try:
        return crypto.decrypt(project.webhook_secret)
    except ValueError:
        logger.warning("project %s: its webhook secret cannot be decrypted; webhook calls are refused", project.pk)
        return ""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_github(secret: str, body: bytes, signature: str) -> bool:
    return bool(secret) and _same(signature, github_signature(secret, body))


def verify_gitlab(secret: str, token: str) -> bool:
    return bool(secret) and _same(token, secret)


def verify_bearer(secret: str, authorization: str) -> bool:
    scheme, _, credentials = authorization.partition(" ")
    return bool(secret) and scheme.lower() == "bearer" and _same(credentials.strip(), secret)


def _json_object(raw: bytes | str) -> dict:
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadPayload("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise BadPayload("The body must be a JSON object.")
    return payload


def _branch(ref: object) -> str | None:
    if isinstance(ref, str) and ref.startswith("refs/heads/"):
        return ref.removeprefix("refs/heads/")
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def github_payload(body: bytes, content_type: str) -> dict:
    # A GitHub webhook can be set to send its JSON form-encoded, as the `payload` field.
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(body.decode(), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise BadPayload("The form body has no `payload` field.") from None
        if "payload" not in fields:
            raise BadPayload("The form body has no `payload` field.")
        return _json_object(fields["payload"][0])
    return _json_object(body)


def github_push(payload: dict) -> Push | None:
    """The pushed branch; None for a tag, or a branch deleted."""
    branch = _branch(payload.get("ref"))
    if branch is None or payload.get("deleted") is True:
        return None
    repository = payload.get("repository") if isinstance(payload.get("repository"), dict) else {}
    return Push(branch, _text(repository.get("default_branch")))


def gitlab_push(payload: dict) -> Push | None:
    """The pushed branch; None for tag pushes, other events, or a branch deleted."""
    if payload.get("object_kind") != "push":
        return None
    branch = _branch(payload.get("ref"))
    if branch is None or payload.get("after") == ZERO_SHA:
        return None
    project = payload.get("project") if isinstance(payload.get("project"), dict) else {}
    return Push(branch, _text(project.get("default_branch")))


def generic_push(body: bytes) -> Push:
    """An empty body, or {"branch": "main"} (optionally with "default_branch")."""
    if not body.strip():
        return Push(None)
    payload = _json_object(body)
    branch = payload.get("branch")
    if branch is not None and not isinstance(branch, str):
        raise BadPayload('"branch" must be a string.')
    branch = branch.removeprefix("refs/heads/") if branch else None
    return Push(branch, _text(payload.get("default_branch")))


def tracks(project: Project, push: Push) -> bool:
    """Whether the push is to the branch the project scans.

    A project with no branch follows the remote's HEAD: a push counts when it
    is to the default branch the payload names. A caller that names no branch,
    or no default branch for such a project, is taken at its word.
    """
    tracked = project.branch or push.default_branch
    return push.branch is None or not tracked or push.branch == tracked


def scan_push(project: Project, push: Push | None) -> Outcome:
    """Request a scan for a push to the tracked branch; say why nothing happens otherwise."""
    if push is None:
        return Outcome(200, {"status": "ignored", "reason": "not a push to a branch"})
    if project.archived_at is not None:
        return Outcome(200, {"status": "ignored", "reason": "the project is archived"})
    if not tracks(project, push):
        tracked = project.branch or push.default_branch
        return Outcome(200, {"status": "ignored", "reason": f"push to {push.branch}; the project scans {tracked}"})
    scan, created = request_scan(project, "push")
    if created:
        return Outcome(202, {"status": "scan requested", "scan": scan.pk, "created": True})
    return Outcome(200, {"status": "scan pending", "scan": scan.pk, "created": False})


def receive_github(project: Project, headers, body: bytes) -> Outcome:
    if not verify_github(webhook_secret(project), body, headers.get("X-Hub-Signature-256", "")):
        return REFUSED
    event = headers.get("X-GitHub-Event", "")
    if event == "ping":
        return Outcome(200, {"status": "pong"})
    if event != "push":
        return Outcome(200, {"status": "ignored", "reason": f"the {event or 'unnamed'} event is not a push"})
    try:
        payload = github_payload(body, headers.get("Content-Type", ""))
    except BadPayload as error:
        return Outcome(400, {"error": str(error)})
    return scan_push(project, github_push(payload))


def receive_gitlab(project: Project, headers, body: bytes) -> Outcome:
    if not verify_gitlab(webhook_secret(project), headers.get("X-Gitlab-Token", "")):
        return REFUSED
    try:
        payload = _json_object(body)
    except BadPayload as error:
        return Outcome(400, {"error": str(error)})
    return scan_push(project, gitlab_push(payload))


def receive_generic(project: Project, headers, body: bytes) -> Outcome:
    if not verify_bearer(webhook_secret(project), headers.get("Authorization", "")):
        return REFUSED
    try:
        push = generic_push(body)
    except BadPayload as error:
        return Outcome(400, {"error": str(error)})
    return scan_push(project, push)
