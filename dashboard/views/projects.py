"""Projects: register, edit, archive, delete; the project page; scan requests; webhook secret and badge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from dashboard import pages, projects
from dashboard.access import current_membership, get_project_for_user
from dashboard.forms_projects import ProjectForm
from dashboard.models import AuthKind, Project
from dashboard.scans import request_scan

WEBHOOKS = (("GitHub", "hook_github"), ("GitLab", "hook_gitlab"), ("Generic (bearer token)", "hook_generic"))


def _form_initial(project: Project) -> dict:
    initial = {name: getattr(project, name) for name in projects.SETTINGS_FIELDS}
    initial["variables"] = "\n".join(project.variables or [])
    initial["app_root"] = "" if project.app_root in ("", ".") else project.app_root
    return initial


@login_required
def project_new(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return redirect("home")
    if not membership.can_write:
        raise PermissionDenied("Viewers have read-only access")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = projects.create_project(membership.team, form.cleaned_data)
        messages.success(request, f"Registered {project.name}. Start a scan to see whether it will deploy cleanly.")
        return redirect("project", project.pk)
    return render(request, "dashboard/project_form.html", {"form": form, "team": membership.team})


@login_required
def project_edit(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = get_project_for_user(request, project_id, write=True)
    stored_kind = project.auth_kind if project.credential and project.auth_kind != AuthKind.NONE else None
    form = ProjectForm(request.POST or None, initial=_form_initial(project), stored_auth_kind=stored_kind)
    if request.method == "POST" and form.is_valid():
        projects.update_project(project, form.cleaned_data)
        messages.success(request, "Project settings saved. They apply from the next scan.")
        return redirect("project", project.pk)
    return render(request, "dashboard/project_form.html", {"form": form, "project": project, "team": project.team})


@login_required
@require_safe
def project(request: HttpRequest, project_id: int) -> HttpResponse:
    project, membership = get_project_for_user(request, project_id)
    page = pages.project_page(project)
    context = {
        "page": page,
        "project": project,
        "membership": membership,
        "can_write": membership.can_write,
        "scan_list_limit": pages.SCAN_LIST_LIMIT,
    }
    if membership.can_write:
        # The hook URLs carry the project's token; with the secret they let anyone trigger scans.
        context["webhooks"] = [
            (label, request.build_absolute_uri(reverse(name, kwargs={"token": project.webhook_token})))
            for label, name in WEBHOOKS
        ]
        context["webhook_secret"] = projects.webhook_secret(project)
    if project.badge_token:
        badge_url = request.build_absolute_uri(reverse("badge", kwargs={"token": project.badge_token}))
        context["badge_url"] = badge_url
        context["badge_markdown"] = f"[![Preflight]({badge_url})]({request.build_absolute_uri(request.path)})"
    return render(request, "dashboard/project.html", context)


@login_required
@require_POST
def project_archive(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = get_project_for_user(request, project_id, write=True)
    projects.archive_project(project)
    messages.success(request, f"{project.name} is archived: no more scheduled scans; its history stays readable.")
    return redirect("project", project.pk)


@login_required
@require_POST
def project_unarchive(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = get_project_for_user(request, project_id, write=True)
    projects.unarchive_project(project)
    messages.success(request, f"{project.name} is active again.")
    return redirect("project", project.pk)


@login_required
def project_delete(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = get_project_for_user(request, project_id, write=True)
    if request.method == "POST":
        projects.delete_project(project)
        messages.success(request, f"{project.name} and all its scans were deleted.")
        return redirect("home")
    scan_count = project.scans.count()
    return render(request, "dashboard/project_confirm_delete.html", {"project": project, "scan_count": scan_count})


@login_required
@require_POST
def scan_now(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = get_project_for_user(request, project_id, write=True)
    if project.archived_at is not None:
        messages.error(request, "This project is archived. Unarchive it to scan it again.")
        return redirect("project", project.pk)
    _, created = request_scan(project, "manual")
    if created:
        messages.success(request, "Scan queued.")
    else:
        messages.info(request, "A scan of this project is already queued or running; here is its progress.")
    return redirect("project", project.pk)


@login_required
@require_POST
def webhook_regenerate(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = get_project_for_user(request, project_id, write=True)
    projects.regenerate_webhook(project)
    messages.success(request, "New webhook URL and secret generated. Update them in your repository's settings.")
    return redirect(reverse("project", args=[project.pk]) + "#webhooks")


@login_required
@require_POST
def badge_enable(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = get_project_for_user(request, project_id, write=True)
    projects.enable_badge(project)
    messages.success(request, "Badge enabled. Anyone with its URL sees this project's verdict and score.")
    return redirect(reverse("project", args=[project.pk]) + "#badge")


@login_required
@require_POST
def badge_revoke(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = get_project_for_user(request, project_id, write=True)
    projects.revoke_badge(project)
    messages.success(request, "Badge revoked: its URL no longer works.")
    return redirect(reverse("project", args=[project.pk]) + "#badge")


@require_safe
def badge(request: HttpRequest, token: str) -> HttpResponse:
    """Public by design: the unguessable, revocable token is the credential, and it shows only verdict and score."""
    project = (
        Project.objects.select_related("last_scan")
        .only("pk", "last_scan__status", "last_scan__score", "last_scan__verdict")
        .filter(badge_token=token)
        .first()
    )
    if project is None:
        raise Http404("No such badge")
    response = HttpResponse(pages.badge_svg(project.last_scan), content_type="image/svg+xml; charset=utf-8")
    # Revoking must take effect: image proxies (GitHub's camo) may keep it only briefly.
    response["Cache-Control"] = "no-cache, max-age=0"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
