"""Downloads of a finished scan: the analyzer's JSON and SARIF, rebuilt from the stored rows."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from analyzer.formats import json_format, sarif
from dashboard import pages
from dashboard.access import get_scan_for_user
from dashboard.models import Scan, ScanStatus


def _finished_scan(request: HttpRequest, scan_id: int) -> Scan:
    scan, _ = get_scan_for_user(request, scan_id)
    if scan.status != ScanStatus.SUCCEEDED:
        raise Http404("This scan has no result to download")
    return scan


def _download(body: str, content_type: str, scan: Scan, suffix: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    name = slugify(scan.project.name) or "project"
    response["Content-Disposition"] = f'attachment; filename="preflight-{name}-scan-{scan.pk}.{suffix}"'
    return response


@login_required
@require_safe
def scan_export_json(request: HttpRequest, scan_id: int) -> HttpResponse:
    scan = _finished_scan(request, scan_id)
    report = pages.stored_report(scan, pages.stored_findings([scan])[scan.pk])
    return _download(json_format.render(report), "application/json", scan, "json")


@login_required
@require_safe
def scan_export_sarif(request: HttpRequest, scan_id: int) -> HttpResponse:
    scan = _finished_scan(request, scan_id)
    report = pages.stored_report(scan, pages.stored_findings([scan])[scan.pk])
    return _download(sarif.render(report), "application/sarif+json", scan, "sarif")
