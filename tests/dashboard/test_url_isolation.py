"""Every URL that names a team's object answers 404 to a stranger, whatever the method.

The test walks the whole URLconf, so a new view is covered the day it lands.
A pattern whose arguments the test cannot fill fails it: teach it the new
argument in `object_ids` (or list the pattern in PUBLIC with the reason).
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from analyzer import analyze
from dashboard.models import (
    Delivery,
    DeliveryKind,
    Finding,
    Invite,
    MemberReportPrefs,
    Membership,
    Project,
    ReportSettings,
    Scan,
    ScanAlert,
    ScanStatus,
    Team,
    Triage,
    TriageKind,
    Unsubscribe,
)
from tests.dashboard.urlwalk import all_routes
from workers.pipeline import finding_rows, scan_inputs, store_result

# Reachable without a membership of the object's team, on purpose.
PUBLIC = {
    "setup": "the first-run form; it is gone once any account exists",
    "login": "Django's login",
    "logout": "Django's logout",
    "password_change": "the user's own password",
    "password_change_done": "the user's own password",
    "password_reset": "Django's password reset: asks for an e-mail address",
    "password_reset_done": "Django's password reset",
    "password_reset_confirm": "Django's password reset: the signed uid and token are the credential",
    "password_reset_complete": "Django's password reset",
    "accept_invite": "the signed, single-use invite token is the credential",
    "healthz": "the platform's health check",
    "rules": "catalog, not team data",
    "rule": "catalog, not team data",
    "badge": "the unguessable, revocable badge token is the credential; it shows only verdict and score",
    "unsubscribe": "the signed unsubscribe token is the credential: no login, as one-click unsubscribing needs",
    "hook_github": "push webhook: the signature with the project's secret is the credential (tests/dashboard/test_webhooks.py)",
    "hook_gitlab": "push webhook: the project's secret in X-Gitlab-Token is the credential (test_webhooks.py)",
    "hook_generic": "push webhook: the project's secret as a bearer token is the credential (test_webhooks.py)",
}
PUBLIC_NAMESPACES = {"admin": "Django admin: staff only, with its own permission checks"}

# 405 reveals nothing: the method is refused before any object is looked up.
NOT_FOUND = {404, 405}


def _is_public(route) -> bool:
    return route.name in PUBLIC or route.namespace.split(":", 1)[0] in PUBLIC_NAMESPACES


def object_ids(team: Team, owner, member) -> dict[str, int]:
    """One of each object a URL can name, for `team`; kwarg name -> id."""
    project = Project.objects.create(team=team, name=f"{team.name} app", repo_url="https://github.com/example/app.git")
    return (
        _scan_objects(project)
        | {
            "team_id": team.pk,
            "project_id": project.pk,
            "triage_id": Triage.objects.create(
                project=project,
                fingerprint="0" * 20,
                rule="PF101",
                kind=TriageKind.ACCEPTED,
                reason="known",
                created_by=owner,
            ).pk,
            "invite_id": Invite.objects.create(
                team=team, created_by=owner, expires_at=timezone.now() + timedelta(days=7)
            ).pk,
            "membership_id": Membership.objects.get(team=team, user=member).pk,
        }
        | _report_objects(team, member)
    )


def _report_objects(team: Team, member) -> dict[str, int]:
    """One of each readiness-report row of `team` (issue 7)."""
    scan = Scan.objects.filter(project__team=team).first()
    delivery = Delivery.objects.create(team=team, kind=DeliveryKind.DIGEST, recipient="cto@example.org", period="p")
    return {
        "reportsettings_id": ReportSettings.objects.create(team=team).pk,
        "memberreportprefs_id": MemberReportPrefs.objects.create(
            membership=Membership.objects.get(team=team, user=member)
        ).pk,
        "unsubscribe_id": Unsubscribe.objects.create(team=team, address="cto@example.org", kind="alert").pk,
        "scanalert_id": ScanAlert.objects.create(scan=scan).pk,
        "delivery_id": delivery.pk,
    }


def _scan_objects(project: Project) -> dict[str, int]:
    """A scan stored the way workers store one, of a small Flask repo, so scan and finding pages render."""
    scan = Scan.objects.create(project=project, status=ScanStatus.RUNNING, commit_sha="a" * 40)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "app.py").write_text("from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n")
        Path(folder, "requirements.txt").write_text("flask\n")
        report = analyze(folder)
        store_result(scan, report, finding_rows(report, Path(folder)), scan_inputs(project))
    finding = Finding.objects.filter(scan=scan).first()
    assert finding is not None, "the sample repository must produce a finding"
    return {"scan_id": scan.pk, "finding_id": finding.pk}


def _requests(route, values, client):
    path = route.path(values)
    return path, client.get(path).status_code, client.post(path).status_code


@pytest.mark.django_db
def test_it_answers_404_to_a_stranger_on_every_url_naming_an_object(client, alice, bob, charlie):
    alices = object_ids(Team.objects.get(memberships__user=alice), alice, bob)
    charlies = object_ids(Team.objects.get(memberships__user=charlie), charlie, charlie)
    problems: list[str] = []
    checked = []
    for route in all_routes():
        if not route.kwargs or _is_public(route):
            continue
        missing = [name for name in route.kwargs if name not in alices]
        if missing:
            problems.append(
                f"{route.name} ({route.route}): cannot fill {missing}; teach object_ids, or list it in PUBLIC"
            )
            continue
        checked.append(route)

    # Alice reaches her objects: the ids are right, so a 404 below means "refused", not "wrong id".
    client.force_login(alice)
    for route in checked:
        path = route.path(alices)
        status = client.get(path).status_code
        if status == 404:
            problems.append(f"{route.name}: GET {path} is 404 for the owner; the test's objects do not fit it")

    client.force_login(charlie)
    for route in checked:
        # All of alice's ids, then (several ids) one of alice's among charlie's own: a view must check
        # that the objects belong together, not only that the user may see one of them.
        combos = [alices]
        if len(route.int_kwargs) > 1:
            combos += [charlies | {name: alices[name]} for name in route.int_kwargs]
        for values in combos:
            path, get_status, post_status = _requests(route, values, client)
            if get_status not in NOT_FOUND or post_status not in NOT_FOUND or {get_status, post_status} == {405}:
                problems.append(f"{route.name}: {path} answers GET {get_status}, POST {post_status} to a stranger")

    assert checked, "no URL names an object: the walk found nothing to check"
    assert not problems, "\n".join(problems)
