from django.urls import include, path

from dashboard.views import accounts, overview

urlpatterns = [
    path("", overview.home, name="home"),
    path("setup/", accounts.setup, name="setup"),
    # Django's own login, logout (POST), password change and password reset views.
    path("accounts/", include("django.contrib.auth.urls")),
    path("teams/switch/", accounts.switch_team, name="switch_team"),
    path("teams/new/", accounts.create_team, name="create_team"),
    path("teams/<int:team_id>/", accounts.team_settings, name="team_settings"),
    path("teams/<int:team_id>/invites/", accounts.create_invite, name="create_invite"),
    path("teams/<int:team_id>/invites/<int:invite_id>/revoke/", accounts.revoke_invite, name="revoke_invite"),
    path("teams/<int:team_id>/members/<int:membership_id>/role/", accounts.change_role, name="change_role"),
    path("teams/<int:team_id>/members/<int:membership_id>/remove/", accounts.remove_member, name="remove_member"),
    path("invite/<str:token>/", accounts.accept_invite, name="accept_invite"),
]
