"""Preflight's data: teams and their members, projects, scans and findings, triage marks."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Team(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    # Declared after created_at: inside the class body this name shadows django.utils.timezone.
    timezone = models.CharField(max_length=64, default="UTC")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in (Role.OWNER, Role.MEMBER)


class Invite(models.Model):
    """A single-use invitation; the link carries a signed, expiring token naming it."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    email = models.EmailField(blank=True)
    nonce = models.CharField(max_length=64, default=new_token, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"invite to {self.team} as {self.role}"


class Schedule(models.TextChoices):
    OFF = "off", "Off"
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    CRON = "cron", "Cron expression"


class AuthKind(models.TextChoices):
    NONE = "none", "Public repository"
    TOKEN = "token", "HTTPS token"
    SSH_KEY = "ssh_key", "SSH deploy key"


class Project(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    repo_url = models.CharField(max_length=500)
    branch = models.CharField(max_length=200, blank=True, help_text="Empty: the remote's default branch")
    app_root = models.CharField(max_length=300, default=".", blank=True)
    auth_kind = models.CharField(max_length=10, choices=AuthKind.choices, default=AuthKind.NONE)
    # The token or private key, encrypted at rest (dashboard.crypto); never shown back.
    credential = models.TextField(blank=True, default="")
    # Railway service settings (RULES.md "Inputs").
    start_command = models.CharField(max_length=1000, blank=True)
    pre_deploy_command = models.CharField(max_length=1000, blank=True)
    variables = models.JSONField(default=list, blank=True)
    volume_mount_path = models.CharField(max_length=300, blank=True)
    worker_service = models.BooleanField(default=False)
    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.DAILY)
    cron = models.CharField(max_length=100, blank=True)
    next_scan_at = models.DateTimeField(null=True, blank=True)
    recipients = models.TextField(blank=True, default="", help_text="External addresses, one per line")
    webhook_token = models.CharField(max_length=64, default=new_token, unique=True)
    webhook_secret = models.TextField(default="")  # encrypted
    badge_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Denormalised from the latest finished scan, so the overview is one query.
    last_scan = models.ForeignKey("Scan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["team", "archived_at"], name="project_team_active"),
            models.Index(fields=["next_scan_at"], name="project_due", condition=~Q(schedule="off")),
        ]

    def __str__(self) -> str:
        return self.name

    def platform_settings(self) -> dict:
        return {
            "start_command": self.start_command or None,
            "pre_deploy_command": self.pre_deploy_command or None,
            "variables": list(self.variables) if self.variables else None,
            "volume_mount_path": self.volume_mount_path or None,
            "worker_service": self.worker_service,
        }


class ScanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


PENDING = (ScanStatus.QUEUED, ScanStatus.RUNNING)


class Scan(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="scans")
    status = models.CharField(max_length=10, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    stage = models.CharField(max_length=20, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    trigger = models.CharField(max_length=20, default="manual")
    commit_sha = models.CharField(max_length=64, blank=True)
    commit_message = models.TextField(blank=True)
    commit_author = models.CharField(max_length=200, blank=True)
    analyzer_version = models.CharField(max_length=20, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    verdict = models.CharField(max_length=20, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # severity -> unsuppressed findings
    report = models.JSONField(null=True, blank=True)  # the analyzer's JSON, minus findings
    # The app root and platform settings it ran with: a result is reused only for the same commit and inputs.
    inputs = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    reused_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # How many times a worker claimed it: a redelivered message re-claims a scan whose worker died, a few times.
    attempts = models.PositiveSmallIntegerField(default=0)
    # When its message was last sent (None: at creation); a scan left queued long after is sent again.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The database, not a race-prone check, keeps one pending scan per project.
            models.UniqueConstraint(
                fields=["project"], condition=Q(status__in=["queued", "running"]), name="one_pending_scan_per_project"
            )
        ]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="scan_project_recent"),
            models.Index(fields=["status", "started_at"], name="scan_status_started"),
        ]

    def __str__(self) -> str:
        return f"scan {self.pk} of {self.project}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def pending(self) -> bool:
        return self.status in PENDING


class Finding(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(max_length=10)
    severity = models.CharField(max_length=10)
    path = models.CharField(max_length=500, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)
    column = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField()
    fingerprint = models.CharField(max_length=40)
    evidence = models.JSONField(default=list, blank=True)
    patch = models.TextField(blank=True)
    fix_title = models.CharField(max_length=300, blank=True)
    fix_safety = models.TextField(blank=True)
    fix_unavailable = models.CharField(max_length=500, blank=True)  # why the rule's fix was not offered
    fix_edits = models.JSONField(default=list, blank=True)  # [path, start, end, text]: SARIF `fixes`
    suppressed = models.BooleanField(default=False)
    suppression_reason = models.CharField(max_length=500, blank=True)
    excerpt = models.JSONField(default=list, blank=True)  # [[line number, text], ...] around the line

    class Meta:
        indexes = [models.Index(fields=["scan", "fingerprint"], name="finding_scan_fingerprint")]

    def __str__(self) -> str:
        return f"{self.rule} {self.message}"


class TriageKind(models.TextChoices):
    ACCEPTED = "accepted", "Accepted risk"
    FALSE_POSITIVE = "false_positive", "False positive"


class Triage(models.Model):
    """A team's decision about a finding; it follows the finding across scans by fingerprint."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="triage")
    fingerprint = models.CharField(max_length=40)
    rule = models.CharField(max_length=10)
    kind = models.CharField(max_length=20, choices=TriageKind.choices)
    reason = models.CharField(max_length=500)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "fingerprint"], name="one_triage_per_finding")]

    def __str__(self) -> str:
        return f"{self.rule} {self.kind}"

    def active(self, now=None) -> bool:
        return self.expires_at is None or self.expires_at > (now or timezone.now())


# -- Readiness reports by e-mail ---------------------------------------------------------------------


class DigestFrequency(models.TextChoices):
    OFF = "off", "Off"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class ReportSettings(models.Model):
    """When a team's digest goes out, on the team's wall clock (`Team.timezone`)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="report_settings")
    frequency = models.CharField(max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.DAILY)
    weekday = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(6)])  # Monday is 0
    hour = models.PositiveSmallIntegerField(default=8, validators=[MaxValueValidator(23)])
    # The next digest is claimed by a compare-and-swap on this column.
    next_digest_at = models.DateTimeField(null=True, blank=True)
    # When the previous digest was claimed: "since the last report" starts there.
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_digest_at"], name="report_due", condition=~Q(frequency="off"))]

    def __str__(self) -> str:
        return f"reports of {self.team}"


class MemberReportPrefs(models.Model):
    """A member's own switches: the digest, the alerts, and which projects they cover."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="report_prefs")
    digest = models.BooleanField(default=False)
    alerts = models.BooleanField(default=False)
    all_projects = models.BooleanField(default=True)
    projects = models.ManyToManyField(Project, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"report preferences of {self.membership}"


class ReportKind(models.TextChoices):
    DIGEST = "digest", "Digest"
    ALERT = "alert", "Alert"


class Unsubscribe(models.Model):
    """An address that followed an unsubscribe link: it gets no more of that kind from the team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="unsubscribes")
    address = models.EmailField()  # lower-cased
    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "address", "kind"], name="one_unsubscribe_per_kind")]

    def __str__(self) -> str:
        return f"{self.address} unsubscribed from {self.kind}s of {self.team}"


class ScanAlert(models.Model):
    """Whether a finished scan made its project worse; one row per scan is what keeps it to one alert."""

    scan = models.OneToOneField(Scan, on_delete=models.CASCADE, related_name="alert")
    worse = models.BooleanField(default=False)
    # What made it worse, as decided then: previous verdict and score, the new blockers.
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"alert check of {self.scan}"


class DeliveryKind(models.TextChoices):
    DIGEST = "digest", "Digest"
    ALERT = "alert", "Alert"
    TEST = "test", "Test report"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Not sent"  # nothing left to send by then: unsubscribed, or no projects


class Delivery(models.Model):
    """One e-mail to one address: claimed by a compare-and-swap on `status`, recorded as sent or failed."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    recipient = models.EmailField()  # lower-cased
    # A digest's period ("2026-01-14", "2026-W03"); empty for alerts and tests.
    period = models.CharField(max_length=20, blank=True)
    since = models.DateTimeField(null=True, blank=True)  # a digest's "since the last report"
    projects = models.JSONField(default=list, blank=True)  # the project ids a digest covers for this address
    alerts = models.ManyToManyField(ScanAlert, blank=True, related_name="deliveries")
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    send_after = models.DateTimeField(default=timezone.now)  # alerts are held a few minutes to be coalesced
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)  # when a worker last claimed it
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A redelivered task, two beats or a forced send never give an address two digests for one period.
            models.UniqueConstraint(
                fields=["team", "recipient", "period"],
                condition=Q(kind="digest"),
                name="one_digest_per_recipient_per_period",
            ),
            # Alerts to one address gather in its one open delivery until it goes out.
            models.UniqueConstraint(
                fields=["team", "recipient"],
                condition=Q(kind="alert", status="queued"),
                name="one_open_alert_per_recipient",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at"], name="delivery_team_recent"),
            models.Index(fields=["status", "send_after"], name="delivery_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"
