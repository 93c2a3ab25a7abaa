"""What a team's digest says: per project the verdict, score and change, new blockers, fixes, expiring triage, trouble."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import reports
from dashboard.models import Finding, Project, Scan, ScanStatus, Schedule, Triage, TriageKind
from tests.dashboard.scandata import FLASK_DEV_SERVER, FLASK_GUNICORN, store_scan
from workers import email

DAY = timedelta(days=1)


def _message(digest, address="alice@example.org"):
    return email.digest_message(address, reports.digest_context(digest, address))


def _project(team, name: str, **fields) -> Project:
    fields.setdefault("schedule", Schedule.OFF)
    return Project.objects.create(team=team, name=name, repo_url=f"https://github.com/example/{name}.git", **fields)


def test_it_sends_a_short_heartbeat_when_nothing_changed(team, project):
    now = timezone.now()
    Project.objects.filter(pk=project.pk).update(schedule=Schedule.OFF)
    store_scan(project, FLASK_GUNICORN, when=now - 3 * DAY)
    store_scan(project, FLASK_GUNICORN, when=now - 2 * DAY)  # a scan since, with the same result

    digest = reports.build_digest(team, None, now - DAY, now)
    message = _message(digest)

    assert digest.quiet
    assert message.subject == "Preflight digest for Alice's team: all checks ran"
    assert "All checks ran: nothing changed since the last report." in message.body
    assert "shop: ready, score 99" in message.body
    assert "All checks ran:" in message.alternatives[0].content


def test_it_reports_the_score_change_new_blockers_and_fixed_findings(team):
    now = timezone.now()
    fixed = _project(team, "fixed")
    store_scan(fixed, FLASK_DEV_SERVER, when=now - 2 * DAY)
    store_scan(fixed, FLASK_GUNICORN, sha="b" * 40, when=now - DAY / 2)
    broken = _project(team, "broken")
    store_scan(broken, FLASK_GUNICORN, when=now - 2 * DAY)
    store_scan(broken, FLASK_DEV_SERVER, sha="c" * 40, when=now - DAY / 2)

    digest = reports.build_digest(team, None, now - DAY, now)

    by_name = {report.project.name: report for report in digest.projects}
    assert (by_name["fixed"].score_change, by_name["fixed"].verdict) == (80, "ready")
    assert sorted(f.rule for f in by_name["fixed"].fixed) == ["PF103", "PF202"]
    assert by_name["fixed"].new_blockers == []
    assert by_name["broken"].score_change == -80
    assert sorted(f.rule for f in by_name["broken"].new_blockers) == ["PF103", "PF202"]
    assert [report.project.name for report in digest.attention] == ["broken"]
    message = _message(digest)
    assert message.subject == "Preflight digest for Alice's team: 1 project needs attention"
    assert "== broken: not ready, score 19 (-80 since the last report)" in message.body
    assert "== fixed: ready, score 99 (+80 since the last report)" in message.body
    assert "Fixed:\n  - PF103" in message.body


def test_it_lists_triage_that_expires_soon(team, project, alice):
    now = timezone.now()
    Project.objects.filter(pk=project.pk).update(schedule=Schedule.OFF)
    scan, _ = store_scan(project, FLASK_DEV_SERVER, when=now - 2 * DAY)
    soon, later = Finding.objects.filter(scan=scan, severity="blocker").order_by("rule")
    for finding, expires in ((soon, now + 3 * DAY), (later, now + 30 * DAY)):
        Triage.objects.create(
            project=project,
            fingerprint=finding.fingerprint,
            rule=finding.rule,
            kind=TriageKind.ACCEPTED,
            reason="known",
            expires_at=expires,
            created_by=alice,
        )

    report = reports.build_digest(team, None, now - DAY, now).projects[0]

    assert [(mark.rule, mark.kind) for mark in report.expiring] == [(soon.rule, "accepted risk")]
    assert report.needs_attention
    assert f"  - {soon.rule} " in _message(reports.build_digest(team, None, now - DAY, now)).body


def test_it_reports_failed_overdue_and_never_scanned_projects(team):
    now = timezone.now()
    failing = _project(team, "failing")
    store_scan(failing, FLASK_GUNICORN, when=now - 3 * DAY)
    failed = Scan.objects.create(
        project=failing, status=ScanStatus.FAILED, error="Repository not found", finished_at=now - DAY / 2
    )
    Project.objects.filter(pk=failing.pk).update(last_scan=failed)
    silent = _project(team, "silent", schedule=Schedule.HOURLY)
    store_scan(silent, FLASK_GUNICORN, when=now - 2 * DAY)
    _project(team, "new", created_at=now - 3 * DAY)
    _project(team, "gone", archived_at=now)

    digest = reports.build_digest(team, None, now - DAY, now)

    by_name = {report.project.name: report for report in digest.projects}
    assert sorted(by_name) == ["failing", "new", "silent"]
    assert by_name["failing"].failed_error == "Repository not found"
    assert by_name["failing"].verdict == "ready"  # the last successful result still stands
    assert by_name["silent"].overdue_since is not None
    assert by_name["new"].never_scanned
    body = _message(digest).body
    assert "The last scan failed: Repository not found" in body
    assert "No scan since" in body and "Never scanned yet." in body
    assert _message(digest).subject == "Preflight digest for Alice's team: 3 projects need attention"


def test_it_covers_only_the_projects_asked_for(team):
    now = timezone.now()
    shop, _blog = _project(team, "shop"), _project(team, "blog")

    digest = reports.build_digest(team, [shop.pk], now - DAY, now)

    assert [report.project.name for report in digest.projects] == ["shop"]


def test_it_reads_a_digest_in_the_same_number_of_queries_whatever_the_number_of_projects(team):
    now = timezone.now()

    def queries(count: int) -> int:
        for i in range(count):
            project = _project(team, f"app{count}-{i}")
            store_scan(project, FLASK_GUNICORN, when=now - 2 * DAY)
            store_scan(project, FLASK_DEV_SERVER, sha="b" * 40, when=now - DAY / 2)
        with CaptureQueriesContext(connection) as captured:
            reports.build_digest(team, None, now - DAY, now)
        return len(captured)

    assert queries(1) == queries(6) <= 6
