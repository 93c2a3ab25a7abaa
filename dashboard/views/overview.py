"""The team overview: the home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.access import current_membership
from dashboard.overview import VERDICT_FILTERS, team_overview


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    query = request.GET.get("q", "").strip()
    verdict = request.GET.get("verdict", "")
    rows = team_overview(membership.team, query=query, verdict=verdict) if membership else []
    return render(
        request,
        "dashboard/overview.html",
        {
            "membership": membership,
            "rows": rows,
            "query": query,
            "verdict": verdict if verdict in VERDICT_FILTERS else "",
            "verdicts": [(key, label) for key, (label, _) in VERDICT_FILTERS.items()],
        },
    )
