"""`manage.py scan <project> [--wait]`: operators request a scan and follow it to its verdict or error."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dashboard.management.commands import scan as scan_command
from dashboard.models import Project, Scan, ScanStatus, Team
from tests.workers.gitservers import FLASK_APP, GitDaemon, make_repo
from workers import pipeline

# Committed for real, as when an operator runs the command: the scan is sent once its row is committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr("dashboard.enqueue.enqueue_scan", sent.append)
    return sent


@pytest.fixture(scope="module")
def git_daemon(tmp_path_factory):
    daemon = GitDaemon(tmp_path_factory.mktemp("served"))
    yield daemon
    daemon.stop()


@pytest.fixture
def served_project(git_daemon, team, settings, tmp_path, request):
    settings.GIT_CACHE_DIR = tmp_path / "git-cache"
    repository = request.node.name[:60]
    make_repo(git_daemon.root, repository, FLASK_APP, message="Flask shop")
    return Project.objects.create(team=team, name="served-shop", repo_url=git_daemon.url(repository))


@pytest.fixture
def worker_steps(monkeypatch):
    """Instead of sleeping between checks, the command lets an in-process worker take the next step."""

    def steps(project: Project) -> None:
        claimed: list[Scan] = []

        def step(_seconds: float) -> None:
            if not claimed:
                claimed.append(pipeline.claim_scan(Scan.objects.get(project=project, status=ScanStatus.QUEUED).pk))
            else:
                try:
                    pipeline.run_scan(claimed[0])
                except pipeline.ScanFailed as failure:
                    pipeline.fail_scan(claimed[0].pk, str(failure))

        monkeypatch.setattr(scan_command, "sleep", step)

    return steps


def run(*args: str) -> str:
    out = StringIO()
    call_command("scan", *args, stdout=out)
    return out.getvalue()


def test_it_requests_a_scan_by_id(project, enqueued):
    output = run(str(project.pk))
    scan = Scan.objects.get(project=project)
    assert (scan.trigger, scan.status) == ("command", ScanStatus.QUEUED)
    assert enqueued == [scan.pk]
    assert f"scan {scan.pk} of shop queued" in output


def test_it_requests_a_scan_by_name(project, enqueued):
    run("SHOP")
    assert Scan.objects.get(project=project).trigger == "command"


def test_it_follows_the_pending_scan_instead_of_queueing_another(project, enqueued):
    running = Scan.objects.create(project=project, status=ScanStatus.RUNNING, trigger="push")
    output = run("shop")
    assert list(Scan.objects.all()) == [running]
    assert enqueued == []
    assert "already running" in output


def test_it_refuses_an_unknown_project(db, enqueued):
    with pytest.raises(CommandError, match="No project has the id or name 'nope'"):
        run("nope")


def test_it_asks_for_the_id_when_several_projects_share_the_name(project, enqueued):
    other = Project.objects.create(team=Team.objects.create(name="Other"), name="shop", repo_url=project.repo_url)
    with pytest.raises(CommandError, match=rf"pass the id of one of {project.pk} .*, {other.pk} \(team Other\)"):
        run("shop")
    assert not Scan.objects.exists()


def test_it_refuses_an_archived_project(project, enqueued):
    Project.objects.filter(pk=project.pk).update(archived_at=timezone.now())
    with pytest.raises(CommandError, match="archived"):
        run(str(project.pk))
    assert not Scan.objects.exists()


def test_it_waits_printing_progress_then_the_verdict_and_score(served_project, enqueued, worker_steps):
    worker_steps(served_project)
    output = run(str(served_project.pk), "--wait", "--interval", "0")
    scan = Scan.objects.get(project=served_project)
    assert scan.status == ScanStatus.SUCCEEDED
    lines = output.splitlines()
    assert lines[:3] == [f"scan {scan.pk} of served-shop queued", "  queued 0%", "  cloning 5%"]
    assert lines[-1].startswith(f"scan {scan.pk} succeeded: {scan.verdict}, score {scan.score} (")
    assert scan.commit_sha[:12] in lines[-1]


def test_it_exits_non_zero_with_the_error_when_the_scan_fails(served_project, enqueued, worker_steps, git_daemon):
    Project.objects.filter(pk=served_project.pk).update(repo_url=git_daemon.url("no-such-repository"))
    worker_steps(served_project)
    with pytest.raises(CommandError) as failure:
        run("served-shop", "--wait", "--interval", "0")
    scan = Scan.objects.get(project=served_project)
    assert scan.status == ScanStatus.FAILED
    assert failure.value.returncode == 1
    assert str(failure.value) == f"scan {scan.pk} failed: {scan.error}"
    assert scan.error


def test_it_gives_up_waiting_when_no_worker_takes_the_scan(project, enqueued):
    with pytest.raises(CommandError, match="still queued") as gave_up:
        run(str(project.pk), "--wait", "--timeout", "0")
    assert gave_up.value.returncode == 2
