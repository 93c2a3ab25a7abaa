"""First-run set-up, team switching, team settings (members, roles, invites) and invite links."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from dashboard import teams
from dashboard.access import get_team_for_user
from dashboard.forms_accounts import InviteForm, RoleForm, SetupForm, SignupForm, SwitchTeamForm, TeamForm
from dashboard.models import Invite, Membership, Role, Team


def _owner_team(request: HttpRequest, team_id: int) -> tuple[Team, Membership]:
    team, membership = get_team_for_user(request, team_id, write=True)
    if membership.role != Role.OWNER:
        raise PermissionDenied("Only team owners manage members and invites")
    return team, membership


def _settings_url(team: Team, anchor: str = "") -> str:
    return reverse("team_settings", args=[team.pk]) + (f"#{anchor}" if anchor else "")


def setup(request: HttpRequest) -> HttpResponse:
    if not teams.setup_open():
        return redirect("login")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = teams.create_first_admin(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                team_name=form.cleaned_data["team_name"],
            )
        except teams.SetupClosed:
            return redirect("login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Preflight. Add your first project, or invite your team.")
        return redirect("home")
    return render(request, "dashboard/setup.html", {"form": form})


@login_required
@require_POST
def switch_team(request: HttpRequest) -> HttpResponse:
    form = SwitchTeamForm(request.POST)
    if not form.is_valid():
        return redirect("home")
    team, _ = get_team_for_user(request, form.cleaned_data["team"])
    request.session["team_id"] = team.pk
    following = request.POST.get("next", "")
    if following and url_has_allowed_host_and_scheme(following, {request.get_host()}, request.is_secure()):
        return redirect(following)
    return redirect("home")


@login_required
def create_team(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = teams.create_team(request.user, form.cleaned_data["name"])
        request.session["team_id"] = team.pk
        messages.success(request, f"Created {team.name}. You are its owner.")
        return redirect(_settings_url(team))
    return render(request, "dashboard/team_new.html", {"form": form})


@login_required
def team_settings(request: HttpRequest, team_id: int) -> HttpResponse:
    team, membership = get_team_for_user(request, team_id, write=request.method == "POST")
    is_owner = membership.role == Role.OWNER
    form = TeamForm(request.POST or None, initial={"name": team.name})
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied("Only team owners rename the team")
        if form.is_valid():
            Team.objects.filter(pk=team.pk).update(name=form.cleaned_data["name"])
            messages.success(request, "Team renamed.")
            return redirect(_settings_url(team))
    members = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
    invites = [(invite, _invite_url(request, invite)) for invite in teams.pending_invites(team)] if is_owner else []
    return render(
        request,
        "dashboard/team_settings.html",
        {
            "team": team,
            "membership": membership,
            "is_owner": is_owner,
            "form": form,
            "members": members,
            "invites": invites,
            "invite_form": InviteForm(),
            "roles": Role.choices,
        },
    )


def _invite_url(request: HttpRequest, invite: Invite) -> str:
    return request.build_absolute_uri(reverse("accept_invite", args=[teams.invite_token(invite)]))


@login_required
@require_POST
def create_invite(request: HttpRequest, team_id: int) -> HttpResponse:
    team, _ = _owner_team(request, team_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role for the invite.")
        return redirect(_settings_url(team, "invites"))
    teams.create_invite(team, form.cleaned_data["role"], request.user, form.cleaned_data["email"])
    messages.success(request, "Invite link created. Send it to the person joining; it works once, for 7 days.")
    return redirect(_settings_url(team, "invites"))


@login_required
@require_POST
def revoke_invite(request: HttpRequest, team_id: int, invite_id: int) -> HttpResponse:
    team, _ = _owner_team(request, team_id)
    get_object_or_404(Invite, pk=invite_id, team=team, used_at__isnull=True).delete()
    messages.success(request, "Invite revoked: its link no longer works.")
    return redirect(_settings_url(team, "invites"))


@login_required
@require_POST
def change_role(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    team, _ = _owner_team(request, team_id)
    member = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, team=team)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            teams.change_role(member, form.cleaned_data["role"])
        except teams.LastOwner:
            messages.error(request, "A team needs at least one owner: make someone else owner first.")
        else:
            messages.success(request, f"{member.user.username} is now {member.get_role_display().lower()}.")
    return redirect(_settings_url(team, "members"))


@login_required
@require_POST
def remove_member(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    team, _ = _owner_team(request, team_id)
    member = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, team=team)
    try:
        teams.remove_member(member)
    except teams.LastOwner:
        messages.error(request, "The last owner cannot be removed: make someone else owner first.")
        return redirect(_settings_url(team, "members"))
    messages.success(request, f"{member.user.username} was removed from {team.name}.")
    if member.user_id == request.user.pk:
        return redirect("home")
    return redirect(_settings_url(team, "members"))


def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    """Public by design: the signed token is the credential. Join as yourself, or sign up and join."""
    check = teams.check_invite(token)
    if not check.ok:
        return render(request, "dashboard/invite_invalid.html", {"problem": check.problem}, status=check.status)
    invite = check.invite
    user = request.user
    if user.is_authenticated and Membership.objects.filter(user=user, team_id=invite.team_id).exists():
        request.session["team_id"] = invite.team_id
        messages.info(request, f"You are already a member of {invite.team.name}.")
        return redirect("home")
    form = None if user.is_authenticated else SignupForm(request.POST or None, initial={"email": invite.email})
    if request.method == "POST":
        if user.is_authenticated:
            joined = teams.claim_invite(invite, user)
        elif form.is_valid():
            user = teams.sign_up_with_invite(
                invite,
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
            joined = user is not None
            if joined:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        else:
            joined = None
        if joined is False:
            problem = "This invite was used or expired a moment ago. Ask a team owner for a new link."
            return render(request, "dashboard/invite_invalid.html", {"problem": problem}, status=410)
        if joined:
            request.session["team_id"] = invite.team_id
            messages.success(request, f"Welcome to {invite.team.name}.")
            return redirect("home")
    return render(
        request,
        "dashboard/invite.html",
        {"invite": invite, "form": form, "login_url": f"{reverse('login')}?{urlencode({'next': request.path})}"},
    )
