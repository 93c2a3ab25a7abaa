from django.urls import path

from dashboard.views import rules, triage

urlpatterns = [
    path("rules/", rules.rule_list, name="rules"),
    path("rules/<str:rule_id>/", rules.rule, name="rule"),
    path("findings/<int:finding_id>/triage/", triage.triage_finding, name="triage_finding"),
    path("triage/<int:triage_id>/delete/", triage.triage_delete, name="triage_delete"),
]
