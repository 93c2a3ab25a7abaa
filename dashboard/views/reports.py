"""Readiness reports: the team's report settings, the digest preview, a test report, and unsubscribing.

Every member reads the page; changing anything (the schedule, one's own
switches, sending a test) is a write, refused to viewers, who can still be
listed as a project's outside recipient. Unsubscribing needs no login: the
signed token in the link is the credential.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from dashboard import reports
from dashboard.access import get_team_for_user
from dashboard.forms_reports import PrefsForm, ScheduleForm
from dashboard.models import DigestFrequency, ReportKind


def _settings_url(team_id: int, anchor: str = "") -> str:
    return reverse("report_settings", args=[team_id]) + (f"#{anchor}" if anchor else "")


@login_required
@require_safe
def report_settings(request: HttpRequest, team_id: int) -> HttpResponse:
    team, membership = get_team_for_user(request, team_id)
    page = reports.settings_page(team, membership)
    report, prefs = page.report, page.prefs
    schedule_form = ScheduleForm(
        initial={
            "frequency": report.frequency,
            "weekday": report.weekday,
            "hour": report.hour,
            "timezone": team.timezone,
        }
    )
    prefs_form = PrefsForm(
        team=team,
        initial={
            "digest": prefs.digest if prefs else False,
            "alerts": prefs.alerts if prefs else False,
            "scope": "all" if prefs is None or prefs.all_projects else "chosen",
            "projects": page.chosen_projects,
        },
    )
    return render(
        request,
        "dashboard/report_settings.html",
        {
            "team": team,
            "membership": membership,
            "page": page,
            "schedule_form": schedule_form,
            "prefs_form": prefs_form,
            "weekdays": reports.WEEKDAYS,
            "off": DigestFrequency.OFF,
        },
    )


@login_required
@require_POST
def report_schedule(request: HttpRequest, team_id: int) -> HttpResponse:
    team, _ = get_team_for_user(request, team_id, write=True)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a frequency, a day, an hour and a timezone from the lists.")
        return redirect(_settings_url(team.pk, "schedule"))
    data = form.cleaned_data
    report = reports.save_schedule(
        team, frequency=data["frequency"], weekday=data["weekday"], hour=data["hour"], timezone_name=data["timezone"]
    )
    if report.next_digest_at is None:
        messages.success(request, "Digests are off for this team. Alerts still go out.")
    else:
        when = timezone.localtime(report.next_digest_at, reports.team_zone(team.timezone))
        messages.success(request, f"Schedule saved. The next digest goes out {when:%a %d %b, %H:%M} ({team.timezone}).")
    return redirect(_settings_url(team.pk, "schedule"))


@login_required
@require_POST
def report_prefs(request: HttpRequest, team_id: int) -> HttpResponse:
    team, membership = get_team_for_user(request, team_id, write=True)
    form = PrefsForm(request.POST, team=team)
    if not form.is_valid():
        messages.error(request, "Choose which projects your e-mails cover.")
        return redirect(_settings_url(team.pk, "mine"))
    data = form.cleaned_data
    reports.save_prefs(
        membership,
        digest=data["digest"],
        alerts=data["alerts"],
        all_projects=data["scope"] == "all",
        projects=data["projects"],
    )
    if (data["digest"] or data["alerts"]) and not request.user.email:
        messages.error(request, "Saved, but your account has no e-mail address: nothing can reach you yet.")
    else:
        messages.success(request, "Your e-mail settings are saved.")
    return redirect(_settings_url(team.pk, "mine"))


@login_required
@require_POST
def report_test(request: HttpRequest, team_id: int) -> HttpResponse:
    team, _ = get_team_for_user(request, team_id, write=True)
    if not request.user.email:
        messages.error(request, "Your account has no e-mail address to send the test report to.")
        return redirect(_settings_url(team.pk, "mine"))
    reports.request_test_report(team, request.user.email)
    messages.success(
        request, f"A test report is on its way to {request.user.email}. It is listed under Deliveries below."
    )
    return redirect(_settings_url(team.pk, "deliveries"))


@login_required
@require_safe
def digest_preview(request: HttpRequest, team_id: int) -> HttpResponse:
    team, _ = get_team_for_user(request, team_id)
    digest = reports.preview_digest(team)
    email = reports.render_email("digest", reports.digest_context(digest, request.user.email or "you@example.org"))
    return render(request, "dashboard/digest_preview.html", {"team": team, "digest": digest, "email": email})


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners fetch links); POST unsubscribes: the page's button, or a mail client's one-click.

    No CSRF token: RFC 8058 clients cannot send one, and the signed token is
    what authorises the request.
    """
    link = reports.read_unsubscribe_token(token)
    if link is None:
        return render(request, "dashboard/unsubscribe.html", {"invalid": True}, status=400)
    context = {"link": link, "team": link.team, "what": "digests" if link.kind == ReportKind.DIGEST else "alerts"}
    if request.method == "POST":
        reports.unsubscribe(link)
        context["done"] = True
    return render(request, "dashboard/unsubscribe.html", context)
