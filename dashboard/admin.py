"""Django admin for every model. Secrets (a project's credential, its webhook secret) are never shown.

Foreign keys use raw id inputs and changelists skip the full count: a select of
every project or scan would not load on a large installation.
"""

from django.contrib import admin

from dashboard.models import (
    Delivery,
    Finding,
    Invite,
    MemberReportPrefs,
    Membership,
    Project,
    ReportSettings,
    Scan,
    ScanAlert,
    Team,
    Triage,
    Unsubscribe,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "created_at")
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "team")
    search_fields = ("user__username", "user__email", "team__name")
    raw_id_fields = ("user", "team")


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("team", "role", "email", "created_by", "created_at", "expires_at", "used_at", "used_by")
    list_filter = ("role",)
    list_select_related = ("team", "created_by", "used_by")
    search_fields = ("team__name", "email")
    raw_id_fields = ("team", "created_by")
    # The nonce is half of a link; claiming happens through the link only.
    readonly_fields = ("nonce", "used_at", "used_by")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "repo_url", "branch", "schedule", "archived_at", "created_at")
    list_filter = ("schedule", "auth_kind")
    list_select_related = ("team",)
    search_fields = ("name", "repo_url", "team__name")
    raw_id_fields = ("team", "last_scan")
    # Encrypted secrets: never displayed, and not editable here either (a blank field would wipe them).
    exclude = ("credential", "webhook_secret")
    readonly_fields = ("webhook_token", "badge_token", "last_scan", "next_scan_at")
    show_full_result_count = False


class _ResultAdmin(admin.ModelAdmin):
    """Scan results are the workers' output: viewable and deletable, not hand-edited."""

    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Scan)
class ScanAdmin(_ResultAdmin):
    list_display = ("id", "project", "status", "stage", "score", "verdict", "trigger", "commit_sha", "created_at")
    list_filter = ("status", "trigger", "verdict")
    list_select_related = ("project",)
    search_fields = ("project__name", "commit_sha")
    raw_id_fields = ("project", "reused_from")


@admin.register(Finding)
class FindingAdmin(_ResultAdmin):
    list_display = ("rule", "severity", "path", "line", "message", "suppressed", "scan")
    list_filter = ("severity", "suppressed")
    list_select_related = ("scan__project",)
    search_fields = ("rule", "fingerprint", "path")
    raw_id_fields = ("scan",)


@admin.register(Triage)
class TriageAdmin(admin.ModelAdmin):
    list_display = ("project", "rule", "kind", "reason", "expires_at", "created_by", "created_at")
    list_filter = ("kind",)
    list_select_related = ("project", "created_by")
    search_fields = ("project__name", "rule", "fingerprint", "reason")
    raw_id_fields = ("project", "created_by")


@admin.register(ReportSettings)
class ReportSettingsAdmin(admin.ModelAdmin):
    list_display = ("team", "frequency", "weekday", "hour", "next_digest_at", "last_digest_at")
    list_filter = ("frequency",)
    list_select_related = ("team",)
    search_fields = ("team__name",)
    raw_id_fields = ("team",)


@admin.register(MemberReportPrefs)
class MemberReportPrefsAdmin(admin.ModelAdmin):
    list_display = ("membership", "digest", "alerts", "all_projects")
    list_filter = ("digest", "alerts")
    list_select_related = ("membership__user", "membership__team")
    search_fields = ("membership__user__username", "membership__user__email", "membership__team__name")
    raw_id_fields = ("membership", "projects")


@admin.register(Unsubscribe)
class UnsubscribeAdmin(admin.ModelAdmin):
    list_display = ("address", "kind", "team", "created_at")
    list_filter = ("kind",)
    list_select_related = ("team",)
    search_fields = ("address", "team__name")
    raw_id_fields = ("team",)


@admin.register(ScanAlert)
class ScanAlertAdmin(_ResultAdmin):
    list_display = ("scan", "worse", "created_at")
    list_filter = ("worse",)
    list_select_related = ("scan__project",)
    raw_id_fields = ("scan",)


@admin.register(Delivery)
class DeliveryAdmin(_ResultAdmin):
    list_display = ("created_at", "kind", "recipient", "team", "period", "status", "attempts", "sent_at", "reason")
    list_filter = ("kind", "status")
    list_select_related = ("team",)
    search_fields = ("recipient", "team__name", "subject")
    raw_id_fields = ("team", "alerts")
