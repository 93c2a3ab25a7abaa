from django.urls import path

from dashboard.views import exports, projects, scans

urlpatterns = [
    path("projects/new/", projects.project_new, name="project_new"),
    path("projects/<int:project_id>/", projects.project, name="project"),
    path("projects/<int:project_id>/edit/", projects.project_edit, name="project_edit"),
    path("projects/<int:project_id>/archive/", projects.project_archive, name="project_archive"),
    path("projects/<int:project_id>/unarchive/", projects.project_unarchive, name="project_unarchive"),
    path("projects/<int:project_id>/delete/", projects.project_delete, name="project_delete"),
    path("projects/<int:project_id>/scan/", projects.scan_now, name="scan_now"),
    path("projects/<int:project_id>/webhook/regenerate/", projects.webhook_regenerate, name="webhook_regenerate"),
    path("projects/<int:project_id>/badge/", projects.badge_enable, name="badge_enable"),
    path("projects/<int:project_id>/badge/revoke/", projects.badge_revoke, name="badge_revoke"),
    path("badge/<str:token>.svg", projects.badge, name="badge"),
    path("scans/<int:scan_id>/", scans.scan, name="scan"),
    path("scans/<int:scan_id>/progress/", scans.scan_progress, name="scan_progress"),
    path("scans/<int:scan_id>/preflight.json", exports.scan_export_json, name="scan_export_json"),
    path("scans/<int:scan_id>/preflight.sarif", exports.scan_export_sarif, name="scan_export_sarif"),
]
