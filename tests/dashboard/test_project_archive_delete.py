"""Archiving, unarchiving and deleting a project (with a confirmation page)."""

from __future__ import annotations

from django.urls import reverse

from dashboard.models import Finding, Project, Scan
from tests.dashboard.scandata import store_scan


def test_it_archives_and_unarchives_a_project(client, alice, project):
    client.force_login(alice)
    response = client.post(reverse("project_archive", args=[project.pk]))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.archived_at is not None and project.next_scan_at is None
    body = client.get(reverse("project", args=[project.pk])).content.decode()
    assert "archived" in body and "Unarchive" in body and "Scan now" not in body

    client.post(reverse("project_unarchive", args=[project.pk]))
    project.refresh_from_db()
    assert project.archived_at is None
    assert project.next_scan_at is not None, "a scheduled project is due again"


def test_it_does_not_scan_an_archived_project(client, bob, project):
    client.force_login(bob)
    client.post(reverse("project_archive", args=[project.pk]))
    response = client.post(reverse("scan_now", args=[project.pk]), follow=True)
    assert "Unarchive it to scan it again" in response.content.decode()
    assert not Scan.objects.exists()


def test_it_asks_before_deleting(client, alice, project):
    store_scan(project)
    client.force_login(alice)
    response = client.get(reverse("project_delete", args=[project.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Delete shop?" in body and "1 scan," in body and "cannot be undone" in body
    assert Project.objects.filter(pk=project.pk).exists()


def test_it_deletes_the_project_with_its_scans_and_findings(client, alice, project):
    store_scan(project)
    client.force_login(alice)
    response = client.post(reverse("project_delete", args=[project.pk]))
    assert response.status_code == 302 and response.url == reverse("home")
    assert not Project.objects.exists()
    assert not Scan.objects.exists() and not Finding.objects.exists()


def test_it_refuses_every_write_to_a_viewer(client, vic, project):
    client.force_login(vic)
    for name in ("project_archive", "project_unarchive", "project_delete"):
        assert client.post(reverse(name, args=[project.pk])).status_code == 403, name
    assert client.get(reverse("project_delete", args=[project.pk])).status_code == 403
    project.refresh_from_db()
    assert project.archived_at is None


def test_it_hides_the_project_from_a_stranger(client, charlie, project):
    client.force_login(charlie)
    for name in ("project_archive", "project_unarchive", "project_delete"):
        assert client.post(reverse(name, args=[project.pk])).status_code == 404, name
    assert Project.objects.filter(pk=project.pk, archived_at__isnull=True).exists()
