"""Forms for accounts and teams: first-run set-up, sign-up through an invite, members and invites."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from dashboard.models import Role


class SignupForm(UserCreationForm):
    email = forms.EmailField(help_text="Used for password resets and readiness reports.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class SetupForm(SignupForm):
    team_name = forms.CharField(max_length=100, label="Team name", help_text="You can rename it or add teams later.")


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, label="Team name")


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
    email = forms.EmailField(required=False, help_text="Optional: a note of whom the link is for.")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SwitchTeamForm(forms.Form):
    team = forms.IntegerField()
