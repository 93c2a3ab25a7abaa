"""Projects: registering, editing, archiving and deleting them; their webhook secret and badge token.

Credentials and webhook secrets are stored encrypted (dashboard.crypto) and
decrypted only where they are used.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from dashboard import crypto
from dashboard.models import Project, Team, new_token
from dashboard.schedules import next_run

# The form's cleaned data names these model fields directly.
SETTINGS_FIELDS = (
    "name",
    "repo_url",
    "branch",
    "app_root",
    "auth_kind",
    "start_command",
    "pre_deploy_command",
    "variables",
    "volume_mount_path",
    "worker_service",
    "schedule",
    "cron",
    "recipients",
)


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


def create_project(team: Team, data: dict) -> Project:
    """A new project from the project form's cleaned data, with its webhook token and secret."""
    project = Project(team=team, **{name: data[name] for name in SETTINGS_FIELDS})
    project.credential = crypto.encrypt(data.get("credential") or "")
    project.webhook_secret = crypto.encrypt(new_webhook_secret())
    with transaction.atomic():
        project.save()
        # The preset schedules spread projects over the hour by id, so the time needs the saved row.
        project.next_scan_at = next_run(project, timezone.now())
        project.save(update_fields=["next_scan_at"])
    return project


def update_project(project: Project, data: dict) -> Project:
    """Apply the project form; a `credential` of None keeps the stored one, "" clears it."""
    schedule_changed = (project.schedule, project.cron) != (data["schedule"], data["cron"])
    for name in SETTINGS_FIELDS:
        setattr(project, name, data[name])
    fields = list(SETTINGS_FIELDS)
    if data.get("credential") is not None:
        project.credential = crypto.encrypt(data["credential"])
        fields.append("credential")
    if schedule_changed:
        project.next_scan_at = next_run(project, timezone.now())
        fields.append("next_scan_at")
    project.save(update_fields=fields)
    return project


def archive_project(project: Project) -> None:
    """Archived projects leave the overview and the schedule; their scans stay readable."""
    Project.objects.filter(pk=project.pk, archived_at__isnull=True).update(
        archived_at=timezone.now(), next_scan_at=None
    )


def unarchive_project(project: Project) -> None:
    Project.objects.filter(pk=project.pk, archived_at__isnull=False).update(
        archived_at=None, next_scan_at=next_run(project, timezone.now())
    )


def delete_project(project: Project) -> None:
    """The project and everything recorded about it: scans, findings, triage marks."""
    with transaction.atomic():
        # last_scan points into the rows being deleted; clear it first so the
        # cascade never meets a dangling reference on databases that check late.
        Project.objects.filter(pk=project.pk).update(last_scan=None)
        Project.objects.filter(pk=project.pk).delete()


def webhook_secret(project: Project) -> str:
    return crypto.decrypt(project.webhook_secret)


def regenerate_webhook(project: Project) -> None:
    """A new webhook URL token and secret: the old URL and secret stop working at once."""
    project.webhook_token = new_token()
    project.webhook_secret = crypto.encrypt(new_webhook_secret())
    project.save(update_fields=["webhook_token", "webhook_secret"])


def enable_badge(project: Project) -> None:
    if not project.badge_token:
        project.badge_token = new_token()
        project.save(update_fields=["badge_token"])


def revoke_badge(project: Project) -> None:
    project.badge_token = None
    project.save(update_fields=["badge_token"])
