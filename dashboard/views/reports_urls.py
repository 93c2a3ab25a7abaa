from django.urls import path

from dashboard.views import reports

urlpatterns = [
    path("teams/<int:team_id>/reports/", reports.report_settings, name="report_settings"),
    path("teams/<int:team_id>/reports/schedule/", reports.report_schedule, name="report_schedule"),
    path("teams/<int:team_id>/reports/me/", reports.report_prefs, name="report_prefs"),
    path("teams/<int:team_id>/reports/test/", reports.report_test, name="report_test"),
    path("teams/<int:team_id>/reports/preview/", reports.digest_preview, name="digest_preview"),
    path("unsubscribe/<str:token>/", reports.unsubscribe, name="unsubscribe"),
]
