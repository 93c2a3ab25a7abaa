"""A scan's page (what changed since the previous one) and its live progress."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from dashboard import pages
from dashboard.access import get_scan_for_user


@login_required
@require_safe
def scan(request: HttpRequest, scan_id: int) -> HttpResponse:
    scan, _ = get_scan_for_user(request, scan_id)
    page = pages.scan_page(scan)
    return render(request, "dashboard/scan.html", {"page": page, "scan": scan, "project": scan.project})


@login_required
@require_safe
def scan_progress(request: HttpRequest, scan_id: int) -> JsonResponse:
    scan, _ = get_scan_for_user(request, scan_id)
    state = pages.progress(scan) | {"url": reverse("scan", args=[scan.pk])}
    response = JsonResponse(state)
    response["Cache-Control"] = "no-store"
    return response
