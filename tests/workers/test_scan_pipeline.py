"""The scan pipeline end to end against a git daemon: claim, fetch, analyze or reuse, store, fail clearly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

import analyzer
from dashboard.crypto import encrypt
from dashboard.models import AuthKind, Finding, Scan, ScanStatus, Triage, TriageKind
from tests.workers.gitservers import TOKEN, commit, git, make_repo
from workers import clone, pipeline

SAMPLE = {
    "app.py": (
        "from flask import Flask\n"
        "\n"
        "app = Flask(__name__)\n"
        'app.config["SECRET_KEY"] = "dev-secret-value-123"\n'
        "\n"
        "\n"
        '@app.route("/")\n'
        "def index():\n"
        '    return "hi"\n'
        "\n"
        "\n"
        'if __name__ == "__main__":\n'
        "    app.run(debug=True)\n"
    ),
    "requirements.txt": "flask==3.0.3\n",
    "Procfile": "web: python app.py\n",
}


@pytest.fixture
def sample(git_daemon, git_root, repo_name, make_project):
    bare = make_repo(git_root, repo_name, SAMPLE, message="Flask shop")
    return bare, make_project(git_daemon.url(repo_name))


def test_it_stores_the_findings_score_and_commit(sample, queued_scan):
    _bare, project = sample
    scan = queued_scan(project)

    assert pipeline.scan_project(scan.pk) == "succeeded"

    scan.refresh_from_db()
    assert (scan.status, scan.stage, scan.progress, scan.error) == (ScanStatus.SUCCEEDED, "done", 100, "")
    assert scan.commit_message == "Flask shop"
    assert scan.commit_author == "Ada Lovelace <ada@example.org>"
    assert len(scan.commit_sha) == 40
    assert scan.analyzer_version == analyzer.__version__
    assert (scan.score, scan.verdict) == (0, "not ready")
    assert scan.counts == {"blocker": 3, "high": 1, "medium": 0, "low": 1}
    assert "findings" not in scan.report
    assert scan.inputs == {"app_root": ".", "platform": project.platform_settings()}
    assert scan.report["start_command"]["command"] == "python app.py"
    assert scan.started_at <= scan.finished_at
    assert scan.attempts == 1
    project.refresh_from_db()
    assert project.last_scan == scan
    rules = sorted(scan.findings.values_list("rule", flat=True))
    assert rules == ["PF103", "PF104", "PF203", "PF301", "PF303"]


def test_it_stores_fingerprints_and_a_masked_excerpt_around_the_line(sample, queued_scan, tmp_path):
    bare, project = sample
    scan = queued_scan(project)
    pipeline.scan_project(scan.pk)

    secret = scan.findings.get(rule="PF303")
    assert secret.path == "app.py" and secret.line == 4
    assert secret.excerpt == [
        [2, ""],
        [3, "app = Flask(__name__)"],
        [4, 'app.config["SECRET_KEY"] = "********"'],
        [5, ""],
        [6, ""],
    ]
    git("clone", "-q", str(bare), str(tmp_path / "plain-clone"))
    expected = {f.rule: f.fingerprint for f in analyzer.analyze(tmp_path / "plain-clone").findings}
    assert {f.rule: f.fingerprint for f in scan.findings.all()} == expected


def test_it_reports_its_stage_while_analyzing(sample, queued_scan, monkeypatch):
    _bare, project = sample
    scan = queued_scan(project)
    seen = []

    def watching_analyze(*args, **kwargs):
        seen.append(Scan.objects.values_list("status", "stage", "progress").get(pk=scan.pk))
        return analyzer.analyze(*args, **kwargs)

    monkeypatch.setattr(pipeline, "analyze", watching_analyze)
    pipeline.scan_project(scan.pk)

    assert seen == [(ScanStatus.RUNNING, "analyzing", 45)]


def test_it_runs_a_scan_once_however_often_it_is_delivered(sample, queued_scan):
    _bare, project = sample
    scan = queued_scan(project)

    assert pipeline.scan_project(scan.pk) == "succeeded"
    assert pipeline.scan_project(scan.pk) == "skipped"
    assert pipeline.scan_project(scan.pk, redelivered=True) == "skipped"
    assert Finding.objects.filter(scan=scan).count() == 5


def test_it_reuses_the_result_when_commit_and_analyzer_are_unchanged(sample, queued_scan, monkeypatch):
    _bare, project = sample
    first = queued_scan(project)
    pipeline.scan_project(first.pk)

    def no_analysis(*args, **kwargs):
        raise AssertionError("an unchanged commit must not be analyzed again")

    monkeypatch.setattr(pipeline, "analyze", no_analysis)
    second = queued_scan(project)
    assert pipeline.scan_project(second.pk) == "succeeded"
    third = queued_scan(project)
    pipeline.scan_project(third.pk)

    for scan in (first, second, third):
        scan.refresh_from_db()
    assert second.reused_from_id == first.pk
    assert third.reused_from_id == first.pk
    assert (second.score, second.verdict, second.counts) == (first.score, first.verdict, first.counts)
    assert sorted(second.findings.values_list("fingerprint", flat=True)) == sorted(
        first.findings.values_list("fingerprint", flat=True)
    )
    assert second.commit_sha == first.commit_sha
    project.refresh_from_db()
    assert project.last_scan == third


def test_it_analyzes_again_when_the_commit_or_the_settings_change(sample, queued_scan):
    bare, project = sample
    first = queued_scan(project)
    pipeline.scan_project(first.pk)

    commit(bare, {"Procfile": "web: gunicorn app:app\n"}, message="Serve with gunicorn")
    second = queued_scan(project)
    pipeline.scan_project(second.pk)
    second.refresh_from_db()
    assert second.reused_from_id is None
    assert second.commit_message == "Serve with gunicorn"
    assert not second.findings.filter(rule="PF103").exists()

    project.start_command = "gunicorn app:app --bind 0.0.0.0:$PORT"
    project.save()
    third = queued_scan(project)
    pipeline.scan_project(third.pk)
    third.refresh_from_db()
    assert third.reused_from_id is None
    assert third.inputs["platform"]["start_command"] == "gunicorn app:app --bind 0.0.0.0:$PORT"


def test_it_counts_the_teams_triage_marks_as_suppressed(sample, queued_scan):
    _bare, project = sample
    first = queued_scan(project)
    pipeline.scan_project(first.pk)
    fingerprint = dict(first.findings.values_list("rule", "fingerprint"))
    now = timezone.now()
    Triage.objects.create(
        project=project, fingerprint=fingerprint["PF303"], rule="PF303", kind=TriageKind.ACCEPTED, reason="rotated"
    )
    Triage.objects.create(
        project=project, fingerprint=fingerprint["PF301"], rule="PF301", kind=TriageKind.FALSE_POSITIVE, reason="no"
    )
    expired = Triage.objects.create(
        project=project,
        fingerprint=fingerprint["PF103"],
        rule="PF103",
        kind=TriageKind.ACCEPTED,
        reason="for a week",
        expires_at=now - timedelta(days=1),
    )

    second = queued_scan(project)
    pipeline.scan_project(second.pk)
    second.refresh_from_db()
    assert (second.score, second.verdict) == (44, "not ready")
    assert second.counts == {"blocker": 1, "high": 1, "medium": 0, "low": 1}

    expired.expires_at = now + timedelta(days=7)
    expired.save()
    third = queued_scan(project)
    pipeline.scan_project(third.pk)
    third.refresh_from_db()
    assert (third.score, third.verdict) == (84, "ready")
    assert third.counts == {"blocker": 0, "high": 1, "medium": 0, "low": 1}


def test_it_fails_with_an_error_the_user_can_act_on(sample, queued_scan):
    _bare, project = sample
    project.branch = "production"
    project.save()
    scan = queued_scan(project)

    assert pipeline.scan_project(scan.pk) == "failed"

    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED
    assert scan.stage == "failed"
    assert scan.error.startswith("The branch 'production' does not exist in the repository.")
    assert scan.finished_at is not None
    project.refresh_from_db()
    assert project.last_scan == scan


def test_it_fails_with_an_analyzer_error_and_removes_the_checkout(sample, queued_scan, monkeypatch, caplog):
    _bare, project = sample
    scan = queued_scan(project)

    def crashing_analyze(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded in libcst")

    monkeypatch.setattr(pipeline, "analyze", crashing_analyze)
    assert pipeline.scan_project(scan.pk) == "failed"

    scan.refresh_from_db()
    assert scan.error == pipeline.ANALYZER_FAILED
    assert "libcst" not in scan.error
    assert "RecursionError" in caplog.text
    assert list(clone.scratch_dir().iterdir()) == []


def test_it_never_reveals_the_token_of_a_failing_private_clone(
    private_http, repo_name, make_project, queued_scan, caplog
):
    caplog.set_level("DEBUG")
    wrong = "pf-wrong-token-Qa7Zr3Lk0p"
    make_repo(private_http.root, repo_name, SAMPLE)
    project = make_project(private_http.url(repo_name), auth_kind=AuthKind.TOKEN, credential=wrong)
    scan = queued_scan(project)

    assert pipeline.scan_project(scan.pk) == "failed"

    scan.refresh_from_db()
    assert scan.error.startswith("Authentication failed: the server refused the project's token.")
    assert any(password == wrong for _user, password in private_http.attempts)  # it was really sent, to git only
    for text in (scan.error, caplog.text, str(scan.report)):
        assert wrong not in text
        assert TOKEN not in text

    project.credential = encrypt(TOKEN)
    project.save()
    retry = queued_scan(project)
    assert pipeline.scan_project(retry.pk) == "succeeded"
    assert TOKEN not in caplog.text


def test_it_re_claims_a_redelivered_scan_whose_worker_died(sample, queued_scan):
    _bare, project = sample
    scan = queued_scan(project)
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.RUNNING, stage="analyzing", attempts=1)

    assert pipeline.scan_project(scan.pk) == "skipped"
    assert pipeline.scan_project(scan.pk, redelivered=True) == "succeeded"
    scan.refresh_from_db()
    assert (scan.status, scan.attempts) == (ScanStatus.SUCCEEDED, 2)


def test_it_fails_a_scan_that_keeps_killing_its_worker(sample, queued_scan):
    _bare, project = sample
    scan = queued_scan(project)
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.RUNNING, attempts=pipeline.MAX_ATTEMPTS)

    assert pipeline.scan_project(scan.pk, redelivered=True) == "skipped"

    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED
    assert scan.error == pipeline.WORKER_STOPPED
