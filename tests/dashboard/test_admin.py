from __future__ import annotations

from django.apps import apps
from django.contrib import admin

from dashboard.crypto import encrypt
from dashboard.models import Project
from tests.dashboard.test_url_isolation import object_ids


def test_it_registers_every_model_and_renders_its_pages(admin_client, alice, bob, team):
    ids = object_ids(team, alice, bob)
    models = apps.get_app_config("dashboard").get_models()
    for model in models:
        assert admin.site.is_registered(model), model.__name__
        name = model._meta.model_name
        assert admin_client.get(f"/admin/dashboard/{name}/").status_code == 200, name
        assert admin_client.get(f"/admin/dashboard/{name}/{ids[f'{name}_id']}/change/").status_code == 200, name


def test_it_never_shows_a_project_secret(admin_client, alice, bob, team):
    project = Project.objects.get(pk=object_ids(team, alice, bob)["project_id"])
    project.credential = encrypt("ghp_the_token")
    project.webhook_secret = encrypt("the-webhook-secret")
    project.save()
    html = admin_client.get(f"/admin/dashboard/project/{project.pk}/change/").content.decode()
    for secret in ("ghp_the_token", "the-webhook-secret", project.credential, project.webhook_secret):
        assert secret not in html
    assert 'name="credential"' not in html and 'name="webhook_secret"' not in html
