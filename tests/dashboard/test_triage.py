from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from dashboard import triage
from dashboard.models import Finding, Project, Scan, ScanStatus, Team, Triage, TriageKind
from tests.dashboard.scandata import store_scan

# blocker 40 + high 15 + low 1 (PF203 twice, counted once); the suppressed PF305 not at all.
ROWS = [
    ("PF101", "blocker", "f101", False),
    ("PF301", "high", "f301", False),
    ("PF203", "low", "f203a", False),
    ("PF203", "low", "f203b", False),
    ("PF305", "medium", "f305", True),
]


def _scan(project: Project, *, days_ago: int = 0, rows=ROWS) -> Scan:
    when = timezone.now() - timedelta(days=days_ago)
    scan = Scan.objects.create(
        project=project, status=ScanStatus.SUCCEEDED, commit_sha="c" * 40, created_at=when, finished_at=when
    )
    Finding.objects.bulk_create(
        Finding(
            scan=scan,
            rule=rule,
            severity=severity,
            path="app.py",
            message=f"{rule} here",
            fingerprint=print_,
            suppressed=suppressed,
        )
        for rule, severity, print_, suppressed in rows
    )
    triage.rescore(scan)
    Project.objects.filter(pk=project.pk).update(last_scan=scan)
    return scan


def _finding(scan: Scan, rule: str) -> Finding:
    return Finding.objects.get(scan=scan, rule=rule)


def _mark(client, finding: Finding, **data):
    return client.post(f"/findings/{finding.pk}/triage/", {"kind": "accepted", "reason": "behind a VPN"} | data)


def test_it_scores_stored_findings_each_rule_once_without_inline_suppressions(project):
    scan = _scan(project)
    scan.refresh_from_db()
    assert (scan.score, scan.verdict) == (44, "not ready")
    assert scan.counts == {"blocker": 1, "high": 1, "medium": 0, "low": 2}


def test_it_agrees_with_the_analyzers_score_when_nothing_is_marked(project):
    scan, report = store_scan(project)
    assert triage.rescore(scan)[:2] == (report.score, report.verdict)


def test_it_marks_a_finding_as_accepted_risk_and_rescores_the_latest_scan(client, bob, project):
    scan = _scan(project)
    client.force_login(bob)
    response = _mark(client, _finding(scan, "PF101"), reason="we deploy with a Dockerfile elsewhere")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/#triage"
    mark = Triage.objects.get(project=project)
    assert (mark.fingerprint, mark.rule, mark.kind, mark.created_by) == ("f101", "PF101", TriageKind.ACCEPTED, bob)
    assert mark.reason == "we deploy with a Dockerfile elsewhere" and mark.expires_at is None
    project.refresh_from_db()
    assert (project.last_scan.score, project.last_scan.verdict) == (84, "ready")
    assert project.last_scan.counts["blocker"] == 0


def test_it_marks_a_false_positive_from_an_older_scan_and_rescores_the_latest(client, alice, project):
    old = _scan(project, days_ago=3)
    latest = _scan(project)
    client.force_login(alice)
    _mark(client, _finding(old, "PF301"), kind="false_positive", reason="the key is a test fixture")
    old.refresh_from_db()
    latest.refresh_from_db()
    assert (old.score, latest.score) == (44, 59)
    assert Triage.objects.get().kind == TriageKind.FALSE_POSITIVE


def test_it_follows_the_finding_to_the_next_scan_by_fingerprint(client, bob, project):
    client.force_login(bob)
    _mark(client, _finding(_scan(project, days_ago=1), "PF101"))
    moved = [("PF101", "blocker", "f101", False), ("PF301", "high", "f301", False)]
    later = _scan(project, rows=moved)
    later.refresh_from_db()
    assert (later.score, later.verdict, later.counts["blocker"]) == (85, "ready", 0)


def test_it_replaces_an_earlier_mark_on_the_same_finding(client, bob, alice, project):
    scan = _scan(project)
    client.force_login(bob)
    _mark(client, _finding(scan, "PF101"))
    client.force_login(alice)
    _mark(client, _finding(scan, "PF101"), kind="false_positive", reason="no, it is a false positive")
    mark = Triage.objects.get()
    assert (mark.kind, mark.reason, mark.created_by) == (TriageKind.FALSE_POSITIVE, "no, it is a false positive", alice)


def test_it_stops_applying_an_expired_mark(project, alice):
    scan = _scan(project)
    Triage.objects.create(
        project=project,
        fingerprint="f101",
        rule="PF101",
        kind=TriageKind.ACCEPTED,
        reason="until the migration",
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    Triage.objects.create(
        project=project,
        fingerprint="f301",
        rule="PF301",
        kind=TriageKind.ACCEPTED,
        reason="for a week",
        expires_at=timezone.now() + timedelta(days=7),
    )
    assert triage.rescore(scan) == (59, "not ready", {"blocker": 1, "high": 0, "medium": 0, "low": 2})


def test_it_expires_a_mark_when_its_day_starts_in_the_teams_timezone(client, alice, team, project):
    Team.objects.filter(pk=team.pk).update(timezone="Pacific/Auckland")
    scan = _scan(project)
    client.force_login(alice)
    day = timezone.now().astimezone(ZoneInfo("Pacific/Auckland")).date() + timedelta(days=30)
    _mark(client, _finding(scan, "PF101"), expires_on=day.isoformat())
    expected = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Pacific/Auckland"))
    assert Triage.objects.get().expires_at == expected


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": ""}, "Give a reason"),
        ({"kind": "ignored"}, "Choose accepted risk or false positive"),
        ({"expires_on": "yesterday"}, "Enter the expiry as a date"),
        ({"expires_on": (timezone.now() - timedelta(days=2)).date().isoformat()}, "Choose an expiry date after today"),
    ],
)
def test_it_refuses_a_mark_with_a_message_saying_what_to_do(client, bob, project, data, error):
    scan = _scan(project)
    client.force_login(bob)
    response = _mark(client, _finding(scan, "PF101"), **data)
    assert response.status_code == 302
    assert not Triage.objects.exists()
    page = client.get("/rules/").content.decode()  # the next page shows the flashed message
    assert f"PF101 was not marked: {error}" in page


def test_it_undoes_a_mark(client, bob, project):
    scan = _scan(project)
    client.force_login(bob)
    _mark(client, _finding(scan, "PF101"))
    mark = Triage.objects.get()
    response = client.post(f"/triage/{mark.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/#triage"
    assert not Triage.objects.exists()
    scan.refresh_from_db()
    assert (scan.score, scan.verdict) == (44, "not ready")


def test_it_refuses_a_viewers_marks_with_403(client, vic, alice, project):
    scan = _scan(project)
    mark = Triage.objects.create(project=project, fingerprint="f301", rule="PF301", kind="accepted", reason="ok")
    client.force_login(vic)
    assert _mark(client, _finding(scan, "PF101")).status_code == 403
    assert client.post(f"/triage/{mark.pk}/delete/").status_code == 403
    assert list(Triage.objects.values_list("fingerprint", flat=True)) == ["f301"]


def test_it_answers_404_to_a_stranger(client, charlie, project):
    scan = _scan(project)
    mark = Triage.objects.create(project=project, fingerprint="f301", rule="PF301", kind="accepted", reason="ok")
    client.force_login(charlie)
    assert _mark(client, _finding(scan, "PF101")).status_code == 404
    assert client.post(f"/triage/{mark.pk}/delete/").status_code == 404
    assert Triage.objects.count() == 1


def test_it_only_changes_things_on_post(client, alice, project):
    scan = _scan(project)
    mark = Triage.objects.create(project=project, fingerprint="f301", rule="PF301", kind="accepted", reason="ok")
    client.force_login(alice)
    assert client.get(f"/findings/{_finding(scan, 'PF101').pk}/triage/").status_code == 405
    assert client.get(f"/triage/{mark.pk}/delete/").status_code == 405


def test_it_rescores_a_scan_that_reused_an_earlier_result(project):
    origin = _scan(project, days_ago=1)
    reused = Scan.objects.create(project=project, status=ScanStatus.SUCCEEDED, reused_from=origin)
    Triage.objects.create(project=project, fingerprint="f101", rule="PF101", kind="accepted", reason="ok")
    assert triage.rescore(reused)[:2] == (84, "ready")


def test_it_lists_a_projects_marks_with_their_authors_in_one_query(project, alice, bob, django_assert_num_queries):
    for number, user in enumerate([alice, bob, None]):
        Triage.objects.create(
            project=project, fingerprint=f"f{number}", rule="PF101", kind="accepted", reason="ok", created_by=user
        )
    with django_assert_num_queries(1):
        marks = triage.triage_for_project(project)
        authors = [mark.created_by.username if mark.created_by else None for mark in marks]
    assert authors == [None, "bob", "alice"]


def _partial(**context) -> str:
    return render_to_string("dashboard/_triage.html", context)


def test_its_partial_shows_a_mark_with_undo_for_those_who_can_write(project, bob):
    project = Project.objects.select_related("team").get(pk=project.pk)
    mark = Triage.objects.create(
        project=project,
        fingerprint="f101",
        rule="PF101",
        kind="false_positive",
        reason="<b>not</b> really",
        created_by=bob,
        expires_at=datetime(2999, 1, 2, tzinfo=ZoneInfo("UTC")),
    )
    html = _partial(mark=mark, project=project, can_write=True)
    assert "False positive" in html and "until 2 Jan 2999" in html and "bob" in html
    assert "&lt;b&gt;not&lt;/b&gt; really" in html
    assert f'action="/triage/{mark.pk}/delete/"' in html
    assert "/delete/" not in _partial(mark=mark, project=project, can_write=False)


def test_its_partial_offers_the_form_for_an_unmarked_or_expired_finding(project):
    project = Project.objects.select_related("team").get(pk=project.pk)
    scan = _scan(project)
    finding = _finding(scan, "PF101")
    html = _partial(finding=finding, mark=None, project=project, can_write=True)
    assert f'action="/findings/{finding.pk}/triage/"' in html and 'name="expires_on"' in html
    assert "triage/" not in _partial(finding=finding, mark=None, project=project, can_write=False)
    expired = Triage(
        project=project,
        fingerprint="f101",
        rule="PF101",
        kind="accepted",
        reason="old",
        expires_at=timezone.now() - timedelta(days=1),
        created_at=timezone.now() - timedelta(days=9),
    )
    expired.save()
    html = _partial(finding=finding, mark=expired, project=project, can_write=True)
    assert "expired" in html and "the finding counts again" in html and "Mark again" in html
