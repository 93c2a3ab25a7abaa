"""Forms of the report settings page: the team's digest schedule, and a member's own switches."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.db.models.functions import Lower

from dashboard.models import DigestFrequency, Project, Team
from dashboard.reports import WEEKDAYS


@cache
def _timezones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class ScheduleForm(forms.Form):
    frequency = forms.ChoiceField(label="Digest", choices=DigestFrequency.choices)
    weekday = forms.TypedChoiceField(label="Day (weekly)", choices=list(enumerate(WEEKDAYS)), coerce=int)
    hour = forms.TypedChoiceField(label="At", choices=[(hour, f"{hour:02d}:00") for hour in range(24)], coerce=int)
    timezone = forms.ChoiceField(label="Timezone", choices=_timezones)


class PrefsForm(forms.Form):
    digest = forms.BooleanField(label="Send me the digest", required=False)
    alerts = forms.BooleanField(label="Alert me when a scan makes a project worse", required=False)
    scope = forms.ChoiceField(
        label="Projects",
        choices=[("all", "All projects, including new ones"), ("chosen", "Only the projects I choose")],
        widget=forms.RadioSelect,
    )
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, team: Team, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = Project.objects.filter(team=team, archived_at__isnull=True).order_by(
            Lower("name"), "pk"
        )
