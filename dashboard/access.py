"""The one way views reach teams, projects and scans: scoped to the user's memberships.

A stranger gets 404 (nothing reveals that an id exists); a viewer who tries to
change something gets 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from dashboard.models import Finding, Membership, Project, Scan, Team, Triage


def memberships(user) -> list[Membership]:
    if not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).select_related("team").order_by("team__name"))


def request_memberships(request: HttpRequest) -> list[Membership]:
    """The user's memberships, loaded once per request (views and base.html both need them)."""
    if not hasattr(request, "_preflight_memberships"):
        request._preflight_memberships = memberships(request.user)
    return request._preflight_memberships


def current_membership(request: HttpRequest) -> Membership | None:
    """The team the user is working in: the one chosen in the session, else their first."""
    chosen = request.session.get("team_id")
    found = request_memberships(request)
    return next((m for m in found if m.team_id == chosen), found[0] if found else None)


def membership_for(request: HttpRequest, team: Team, *, write: bool = False) -> Membership:
    membership = (
        Membership.objects.filter(user=request.user, team=team).first() if request.user.is_authenticated else None
    )
    if membership is None:
        raise Http404("No such team")
    if write and not membership.can_write:
        raise PermissionDenied("Viewers have read-only access")
    return membership


def get_project_for_user(request: HttpRequest, project_id: int, *, write: bool = False) -> tuple[Project, Membership]:
    project = get_object_or_404(Project.objects.select_related("team"), pk=project_id)
    return project, membership_for(request, project.team, write=write)


def get_scan_for_user(request: HttpRequest, scan_id: int, *, write: bool = False) -> tuple[Scan, Membership]:
    scan = get_object_or_404(Scan.objects.select_related("project__team"), pk=scan_id)
    return scan, membership_for(request, scan.project.team, write=write)


def get_team_for_user(request: HttpRequest, team_id: int, *, write: bool = False) -> tuple[Team, Membership]:
    team = get_object_or_404(Team, pk=team_id)
    return team, membership_for(request, team, write=write)


def get_finding_for_user(request: HttpRequest, finding_id: int, *, write: bool = False) -> tuple[Finding, Membership]:
    finding = get_object_or_404(
        Finding.objects.select_related("scan__project__team").defer("scan__report"), pk=finding_id
    )
    return finding, membership_for(request, finding.scan.project.team, write=write)


def get_triage_for_user(request: HttpRequest, triage_id: int, *, write: bool = False) -> tuple[Triage, Membership]:
    mark = get_object_or_404(Triage.objects.select_related("project__team"), pk=triage_id)
    return mark, membership_for(request, mark.project.team, write=write)
