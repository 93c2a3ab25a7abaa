"""Push webhooks from GitHub, GitLab, or anything that can POST with a bearer token."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard import webhooks
from dashboard.models import Project

# GitHub caps its payloads at 25 MB; Django's request.body limit (2.5 MB) would refuse a large push.
MAX_BODY = 25 * 1024 * 1024


def _receive(request: HttpRequest, token: str, receive: Callable[..., webhooks.Outcome]) -> JsonResponse:
    # The token only names the project (it is in the URL, and in the host's settings page); the
    # secret checked by `receive` is the proof. An unknown token says so, to help fix a stale URL.
    project = Project.objects.filter(webhook_token=token).first()
    if project is None:
        return JsonResponse(
            {"error": "No project has this webhook URL; copy it again from the project page."}, status=404
        )
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return JsonResponse({"error": "The body is too large."}, status=413)
    outcome = receive(project, request.headers, body)
    return JsonResponse(outcome.body, status=outcome.status)


@csrf_exempt
@require_POST
def github(request: HttpRequest, token: str) -> JsonResponse:
    return _receive(request, token, webhooks.receive_github)


@csrf_exempt
@require_POST
def gitlab(request: HttpRequest, token: str) -> JsonResponse:
    return _receive(request, token, webhooks.receive_gitlab)


@csrf_exempt
@require_POST
def generic(request: HttpRequest, token: str) -> JsonResponse:
    return _receive(request, token, webhooks.receive_generic)
