"""Scheduled re-scans: when a project is due, and the beat that requests each due scan exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from dashboard.models import Project, Scan, ScanStatus, Schedule
from dashboard.schedules import next_run
from tests.workers.gitservers import FLASK_APP, make_repo
from tests.workers.racing import race_two_beats
from workers import pipeline, schedule
from workers.tasks import dispatch_due_scans

# Committed for real, as in production: a scan is sent to the workers once its row is committed.
pytestmark = pytest.mark.django_db(transaction=True)

NOON = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    lock = threading.Lock()

    def record(scan_id: int) -> None:
        with lock:
            sent.append(scan_id)

    monkeypatch.setattr("dashboard.enqueue.enqueue_scan", record)
    return sent


@pytest.fixture
def scheduled(team):
    def make(name: str = "shop", *, schedule: str = Schedule.DAILY, due: datetime | None = NOON, **fields) -> Project:
        return Project.objects.create(
            team=team,
            name=name,
            repo_url=f"https://github.com/example/{name}.git",
            schedule=schedule,
            next_scan_at=due,
            **fields,
        )

    return make


def _at(project: Project, zone: str, after: datetime) -> datetime | None:
    project.team.timezone = zone
    return next_run(project, after)


def test_it_runs_hourly_daily_and_weekly_at_a_minute_spread_by_project(scheduled):
    project = scheduled(schedule=Schedule.HOURLY)
    minute = project.pk % 60
    after = NOON + timedelta(minutes=minute)  # exactly on the hour's slot: the next one is an hour later
    assert _at(project, "UTC", after) == NOON + timedelta(hours=1, minutes=minute)
    project.schedule = Schedule.DAILY
    assert _at(project, "UTC", NOON) == datetime(2026, 1, 15, 6, minute, tzinfo=UTC)
    project.schedule = Schedule.WEEKLY
    assert _at(project, "UTC", NOON) == datetime(2026, 1, 19, 6, minute, tzinfo=UTC)  # the next Monday


def test_it_reads_the_schedule_in_the_teams_timezone(scheduled):
    project = scheduled(schedule=Schedule.CRON, cron="0 9 * * 1-5")
    # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer; Tokyo is ahead of UTC, so still on Thursday.
    assert _at(project, "Europe/Paris", NOON) == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    assert _at(project, "Europe/Paris", datetime(2026, 7, 1, 12, tzinfo=UTC)) == datetime(2026, 7, 2, 7, tzinfo=UTC)
    assert _at(project, "Asia/Tokyo", NOON) == datetime(2026, 1, 15, 0, 0, tzinfo=UTC)
    friday_evening = datetime(2026, 1, 16, 18, tzinfo=UTC)
    assert _at(project, "America/New_York", friday_evening) == datetime(2026, 1, 19, 14, tzinfo=UTC)


def test_it_keeps_local_time_across_daylight_saving_changes(scheduled):
    project = scheduled(schedule=Schedule.DAILY)
    minute = project.pk % 60
    # Berlin moves its clocks forward on 2026-03-29: 06:m local is 05:m UTC before, 04:m UTC after.
    first = _at(project, "Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=UTC))
    second = _at(project, "Europe/Berlin", first)
    assert (first, second) == (
        datetime(2026, 3, 29, 4, minute, tzinfo=UTC),
        datetime(2026, 3, 30, 4, minute, tzinfo=UTC),
    )


def test_it_runs_a_time_skipped_by_the_clock_change_once_and_later(scheduled):
    project = scheduled(schedule=Schedule.CRON, cron="30 2 * * *")
    project.team.timezone = "Europe/Berlin"
    runs = [datetime(2026, 3, 28, 12, tzinfo=UTC)]
    for _ in range(3):
        runs.append(next_run(project, runs[-1]))
    # 02:30 does not exist on 2026-03-29 in Berlin: that day's run is at 03:30 CEST (01:30 UTC).
    assert runs[1:] == [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 31, 0, 30, tzinfo=UTC),
    ]


def test_it_runs_a_repeated_hour_once_when_the_clocks_go_back(scheduled):
    project = scheduled(schedule=Schedule.CRON, cron="30 2 * * *")
    project.team.timezone = "Europe/Berlin"
    first = next_run(project, datetime(2026, 10, 24, 12, tzinfo=UTC))
    second = next_run(project, first)
    # 02:30 happens twice on 2026-10-25; the first (CEST, 00:30 UTC) runs, then the next day's 02:30 CET.
    assert (first, second) == (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 1, 30, tzinfo=UTC))


def test_it_has_no_next_run_when_off_or_without_a_valid_cron_expression(scheduled):
    assert next_run(scheduled(schedule=Schedule.OFF), NOON) is None
    assert next_run(scheduled("a", schedule=Schedule.CRON, cron="every day"), NOON) is None
    assert next_run(scheduled("b", schedule=Schedule.CRON, cron=""), NOON) is None


def test_it_falls_back_to_utc_for_an_unknown_timezone(scheduled):
    project = scheduled(schedule=Schedule.CRON, cron="0 6 * * *")
    assert _at(project, "Mars/Olympus_Mons", NOON) == datetime(2026, 1, 15, 6, tzinfo=UTC)


def test_it_requests_a_scheduled_scan_of_a_due_project(scheduled, enqueued):
    project = scheduled()
    outcome = schedule.dispatch_due_scans(NOON + timedelta(seconds=30))
    assert outcome["requested"] == 1
    scan = Scan.objects.get(project=project)
    assert (scan.trigger, scan.status) == ("schedule", ScanStatus.QUEUED)
    assert enqueued == [scan.pk]
    project.refresh_from_db()
    assert project.next_scan_at == next_run(project, NOON + timedelta(seconds=30))


def test_it_leaves_projects_that_are_not_due_off_or_archived(scheduled, enqueued):
    scheduled("later", due=NOON + timedelta(minutes=1))
    scheduled("off", schedule=Schedule.OFF)
    archived = scheduled("archived", archived_at=NOON - timedelta(days=1))
    assert schedule.dispatch_due_scans(NOON)["requested"] == 0
    assert not Scan.objects.exists() and enqueued == []
    archived.refresh_from_db()
    assert archived.next_scan_at == NOON


def test_it_never_scans_twice_when_the_beat_runs_twice(scheduled, enqueued):
    projects = [scheduled(f"app{i}") for i in range(5)]
    first = schedule.dispatch_due_scans(NOON)
    second = schedule.dispatch_due_scans(NOON)
    assert (first["requested"], second["requested"]) == (5, 0)
    assert sorted(Scan.objects.values_list("project_id", flat=True)) == sorted(p.pk for p in projects)
    assert len(enqueued) == 5


def test_it_lets_only_one_of_two_beats_holding_the_same_view_claim_a_project(scheduled, enqueued):
    project = scheduled()
    # Both beats read the project before either claimed it.
    seen_by_first = Project.objects.select_related("team").get(pk=project.pk)
    seen_by_second = Project.objects.select_related("team").get(pk=project.pk)
    assert schedule.dispatch_project(seen_by_first, NOON) == "requested"
    assert schedule.dispatch_project(seen_by_second, NOON) == "taken"
    assert Scan.objects.filter(project=project).count() == 1
    assert len(enqueued) == 1


def test_it_leaves_the_project_due_when_a_tick_dies_before_requesting_the_scan(scheduled, enqueued, monkeypatch):
    project = scheduled()

    def beat_killed(*args, **kwargs):
        raise SystemExit("beat killed")

    monkeypatch.setattr(schedule, "request_scan", beat_killed)
    with pytest.raises(SystemExit):
        schedule.dispatch_due_scans(NOON)
    project.refresh_from_db()
    assert project.next_scan_at == NOON
    monkeypatch.undo()

    monkeypatch.setattr("dashboard.enqueue.enqueue_scan", enqueued.append)
    assert schedule.dispatch_due_scans(NOON)["requested"] == 1
    assert schedule.dispatch_due_scans(NOON)["requested"] == 0
    assert Scan.objects.filter(project=project).count() == 1


def test_it_requests_the_other_scans_when_one_project_fails(scheduled, enqueued, monkeypatch, caplog):
    broken, healthy = scheduled("broken"), scheduled("healthy", due=NOON + timedelta(seconds=1))
    request_scan = schedule.request_scan

    def failing_for_broken(project, trigger):
        if project.pk == broken.pk:
            raise RuntimeError("database hiccup")
        return request_scan(project, trigger)

    monkeypatch.setattr(schedule, "request_scan", failing_for_broken)
    outcome = schedule.dispatch_due_scans(NOON + timedelta(minutes=1))
    assert (outcome["requested"], outcome["failed"]) == (1, 1)
    assert list(Scan.objects.values_list("project_id", flat=True)) == [healthy.pk]
    broken.refresh_from_db()
    assert broken.next_scan_at == NOON
    assert "could not request the scheduled scan" in caplog.text


def test_it_counts_a_running_scan_as_the_scheduled_one(scheduled, enqueued):
    project = scheduled()
    running = Scan.objects.create(project=project, status=ScanStatus.RUNNING, trigger="manual")
    assert schedule.dispatch_due_scans(NOON)["pending"] == 1
    assert list(Scan.objects.filter(project=project)) == [running]
    project.refresh_from_db()
    assert project.next_scan_at > NOON


def test_it_gives_a_time_to_a_scheduled_project_that_has_none_without_scanning_it(scheduled, enqueued):
    project = scheduled(schedule=Schedule.WEEKLY, due=None)
    assert schedule.dispatch_due_scans(NOON)["scheduled"] == 1
    project.refresh_from_db()
    assert project.next_scan_at == next_run(project, NOON)
    assert not Scan.objects.exists()


def test_it_scans_a_project_whose_cron_became_invalid_once_then_stops(scheduled, enqueued):
    project = scheduled(schedule=Schedule.CRON, cron="61 * * * *")
    assert schedule.dispatch_due_scans(NOON)["requested"] == 1
    project.refresh_from_db()
    assert project.next_scan_at is None
    Scan.objects.update(status=ScanStatus.SUCCEEDED)
    assert schedule.dispatch_due_scans(NOON + timedelta(days=1))["requested"] == 0


def test_it_never_scans_twice_when_two_beats_run_at_once(scheduled, enqueued, monkeypatch):
    projects = [scheduled(f"app{i}") for i in range(40)]
    outcomes = race_two_beats(monkeypatch, schedule, "dispatch_project", lambda: schedule.dispatch_due_scans(NOON))
    assert sum(outcome["requested"] for outcome in outcomes) == 40
    assert sum(outcome["taken"] for outcome in outcomes) == 40
    assert sorted(Scan.objects.values_list("project_id", flat=True)) == sorted(p.pk for p in projects)
    assert sorted(enqueued) == sorted(Scan.objects.values_list("pk", flat=True))


def test_it_records_the_scheduled_check_of_an_unchanged_repository(
    git_daemon, git_root, repo_name, make_project, monkeypatch
):
    make_repo(git_root, repo_name, FLASK_APP)
    project = make_project(git_daemon.url(repo_name), schedule=Schedule.DAILY, next_scan_at=NOON)
    # The worker, in process: the scan runs as soon as it is sent.
    monkeypatch.setattr("dashboard.enqueue.enqueue_scan", pipeline.scan_project)

    schedule.dispatch_due_scans(NOON)
    project.refresh_from_db()
    schedule.dispatch_due_scans(project.next_scan_at)

    first, second = Scan.objects.filter(project=project).order_by("pk")
    assert [scan.trigger for scan in (first, second)] == ["schedule", "schedule"]
    assert [scan.status for scan in (first, second)] == [ScanStatus.SUCCEEDED, ScanStatus.SUCCEEDED]
    assert first.reused_from is None
    assert second.reused_from == first
    assert (second.commit_sha, second.score) == (first.commit_sha, first.score)


def test_it_is_the_task_the_beat_sends_every_minute(scheduled, enqueued):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "workers.tasks.dispatch_due_scans")
    assert entry["schedule"] == 60.0
    scheduled(due=NOON - timedelta(days=1))
    assert dispatch_due_scans.name == entry["task"]
    assert dispatch_due_scans.apply().get()["requested"] == 1
    assert len(enqueued) == 1
