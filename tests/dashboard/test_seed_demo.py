"""`manage.py seed_demo`: a large demo history whose numbers add up the way real scans' do."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from analyzer.report import Finding as AnalyzerFinding
from analyzer.report import Severity, score_findings
from analyzer.rules import catalog
from dashboard.models import Finding, Project, Scan, ScanStatus, Schedule, Team


def seed(projects=3, scans=15, findings=8, team="Demo", seed=3) -> str:
    out = StringIO()
    call_command(
        "seed_demo",
        f"--projects={projects}",
        f"--scans-per-project={scans}",
        f"--findings-per-scan={findings}",
        f"--team={team}",
        f"--seed={seed}",
        stdout=out,
    )
    return out.getvalue()


@pytest.mark.django_db
def test_it_builds_the_requested_projects_and_scans():
    output = seed()
    team = Team.objects.get(name="Demo")
    projects = list(Project.objects.filter(team=team))
    assert len(projects) == 3
    assert Scan.objects.filter(project__team=team).count() == 45
    assert f"3 projects, 45 scans, {Finding.objects.count()} findings" in output
    for project in projects:
        newest = Scan.objects.filter(project=project).order_by("-created_at", "-pk").first()
        assert project.last_scan_id == newest.pk
        # The repositories do not exist: a demo project must never be scanned by the schedule.
        assert (project.schedule, project.next_scan_at) == (Schedule.OFF, None)
        assert project.repo_url.startswith("https://github.com/") and project.webhook_secret


@pytest.mark.django_db
def test_it_stores_scores_verdicts_and_counts_that_match_the_findings():
    seed()
    known_rules = {rule.id for rule in catalog().rules}
    for scan in Scan.objects.filter(status=ScanStatus.SUCCEEDED):
        rows = list(Finding.objects.filter(scan=scan))
        assert {row.rule for row in rows} <= known_rules
        assert all(len(row.fingerprint) == 20 for row in rows)
        scored = [
            AnalyzerFinding(
                rule=row.rule, severity=Severity(row.severity), message=row.message, suppressed=row.suppressed
            )
            for row in rows
        ]
        assert (scan.score, scan.verdict) == score_findings(scored)
        unsuppressed = Counter(row.severity for row in rows if not row.suppressed)
        assert scan.counts == {severity.value: unsuppressed[severity.value] for severity in Severity}
        assert (scan.report["score"], scan.report["verdict"]) == (scan.score, scan.verdict)


@pytest.mark.django_db
def test_it_keeps_findings_across_scans_with_some_fixed_and_some_new():
    seed(projects=2, scans=30, findings=10)
    for project in Project.objects.all():
        history = [
            {row.fingerprint for row in Finding.objects.filter(scan=scan)}
            for scan in Scan.objects.filter(project=project, status=ScanStatus.SUCCEEDED).order_by("created_at")
        ]
        assert all(5 <= len(found) <= 15 for found in history)
        for before, after in pairwise(history):
            assert len(before & after) >= min(len(before), len(after)) - 2
        seen_new = any(after - before for before, after in pairwise(history))
        seen_fixed = any(before - after for before, after in pairwise(history))
        assert seen_new and seen_fixed


@pytest.mark.django_db
def test_it_records_rescans_of_an_unchanged_commit_as_reused_results():
    seed(projects=2, scans=30)
    reused = list(Scan.objects.filter(reused_from__isnull=False).select_related("reused_from"))
    assert reused
    for scan in reused:
        origin = scan.reused_from
        assert (scan.commit_sha, scan.trigger) == (origin.commit_sha, "schedule")
        assert origin.created_at < scan.created_at and origin.reused_from_id is None
        assert set(Finding.objects.filter(scan=scan).values_list("fingerprint", flat=True)) == set(
            Finding.objects.filter(scan=origin).values_list("fingerprint", flat=True)
        )


@pytest.mark.django_db
def test_it_includes_failed_scans_with_an_error_and_no_findings():
    seed(projects=4, scans=40)
    failed = Scan.objects.filter(status=ScanStatus.FAILED)
    assert failed.exists()
    assert all(scan.error and scan.score is None for scan in failed)
    assert not Finding.objects.filter(scan__in=failed).exists()


@pytest.mark.django_db
def test_it_adds_projects_to_an_existing_team_without_reusing_names():
    seed(projects=3, scans=2)
    seed(projects=3, scans=2, seed=3)
    names = list(Project.objects.values_list("name", flat=True))
    assert len(names) == 6 == len(set(names))
    assert Team.objects.filter(name="Demo").count() == 1


@pytest.mark.django_db
def test_it_refuses_negative_sizes():
    with pytest.raises(CommandError, match="cannot be negative"):
        seed(projects=-1)


def test_it_builds_data_the_pages_show(client, alice, team):
    seed(projects=4, scans=20, team=team.name)
    client.force_login(alice)
    overview = client.get(reverse("home"))
    assert overview.status_code == 200
    for project in Project.objects.filter(team=team):
        assert project.name in overview.content.decode()
        page = client.get(reverse("project", kwargs={"project_id": project.pk}))
        assert page.status_code == 200
        scan = client.get(reverse("scan", kwargs={"scan_id": project.last_scan_id}))
        assert scan.status_code == 200
