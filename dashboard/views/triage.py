"""Triage marks on findings: mark one as accepted risk or false positive, or undo a mark."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard import triage
from dashboard.access import get_finding_for_user, get_triage_for_user
from dashboard.models import Project, TriageKind


class TriageForm(forms.Form):
    kind = forms.ChoiceField(
        choices=TriageKind.choices,
        error_messages={
            "required": "Choose accepted risk or false positive.",
            "invalid_choice": "Choose accepted risk or false positive.",
        },
    )
    reason = forms.CharField(
        max_length=500,
        error_messages={
            "required": "Give a reason, so the team knows later why this finding does not count.",
            "max_length": "Keep the reason under 500 characters.",
        },
    )
    expires_on = forms.DateField(
        required=False, error_messages={"invalid": "Enter the expiry as a date (YYYY-MM-DD), or leave it empty."}
    )

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_expires_on(self) -> date | None:
        expires_on = self.cleaned_data["expires_on"]
        if expires_on is not None and expires_on <= self.today:
            raise forms.ValidationError("Choose an expiry date after today, or leave it empty for a lasting mark.")
        return expires_on


def _triage_url(project: Project) -> str:
    return reverse("project", args=[project.pk]) + "#triage"


@login_required
@require_POST
def triage_finding(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding, _ = get_finding_for_user(request, finding_id, write=True)
    project = finding.scan.project
    form = TriageForm(request.POST, today=triage.team_today(project.team))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"{finding.rule} was not marked: {error}")
        return redirect(_triage_url(project))
    mark = triage.mark_finding(
        finding, request.user, form.cleaned_data["kind"], form.cleaned_data["reason"], form.cleaned_data["expires_on"]
    )
    messages.success(
        request, f"Marked {mark.rule} as {mark.get_kind_display().lower()}: it no longer counts toward the score."
    )
    return redirect(_triage_url(project))


@login_required
@require_POST
def triage_delete(request: HttpRequest, triage_id: int) -> HttpResponse:
    mark, _ = get_triage_for_user(request, triage_id, write=True)
    triage.unmark(mark)
    messages.success(
        request, f"Removed the {mark.get_kind_display().lower()} mark on {mark.rule}: it counts toward the score again."
    )
    return redirect(_triage_url(mark.project))
