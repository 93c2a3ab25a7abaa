"""Live progress: the JSON endpoint the progress bar polls, and the bar on the pages."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from dashboard.models import Scan, ScanStatus


def progress(client, scan) -> dict:
    response = client.get(reverse("scan_progress", args=[scan.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    return response.json()


def test_it_reports_each_stage_of_a_running_scan(client, bob, project):
    scan = Scan.objects.create(project=project)
    client.force_login(bob)
    assert progress(client, scan) | {"url": ""} == {
        "id": scan.pk,
        "status": "queued",
        "stage": "queued",
        "progress": 0,
        "finished": False,
        "error": "",
        "url": "",
    }
    for stage, percent in (("cloning", 5), ("analyzing", 45), ("storing", 85)):
        Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.RUNNING, stage=stage, progress=percent)
        state = progress(client, scan)
        assert (state["stage"], state["progress"], state["finished"]) == (stage, percent, False)


def test_it_says_when_the_scan_is_finished_and_where_the_result_is(client, bob, project):
    scan = Scan.objects.create(project=project, status=ScanStatus.SUCCEEDED, stage="done", progress=100)
    client.force_login(bob)
    state = progress(client, scan)
    assert (state["finished"], state["progress"], state["url"]) == (True, 100, reverse("scan", args=[scan.pk]))


def test_it_passes_on_the_short_error_of_a_failed_scan(client, bob, project):
    scan = Scan.objects.create(
        project=project, status=ScanStatus.FAILED, stage="failed", error="Branch `main` not found", progress=35
    )
    client.force_login(bob)
    state = progress(client, scan)
    assert (state["status"], state["finished"], state["error"]) == ("failed", True, "Branch `main` not found")


def test_it_shows_the_polling_progress_bar_on_the_scan_page(client, vic, project):
    scan = Scan.objects.create(
        project=project, status=ScanStatus.RUNNING, stage="cloning", progress=5, started_at=timezone.now()
    )
    client.force_login(vic)
    html = client.get(reverse("scan", args=[scan.pk])).content.decode()
    assert f'data-progress-url="{reverse("scan_progress", args=[scan.pk])}"' in html
    assert 'role="progressbar"' in html and 'aria-valuenow="5"' in html and "data-reload" in html


def test_it_hides_progress_from_a_stranger(client, charlie, project):
    scan = Scan.objects.create(project=project)
    client.force_login(charlie)
    assert client.get(reverse("scan_progress", args=[scan.pk])).status_code == 404


def test_it_answers_an_anonymous_poll_with_a_login_redirect(client, alice, project):
    scan = Scan.objects.create(project=project)
    assert client.get(reverse("scan_progress", args=[scan.pk])).status_code == 302
