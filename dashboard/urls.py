from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    path("", include("dashboard.views.accounts_urls")),
    path("", include("dashboard.views.project_urls")),
    path("", include("dashboard.views.hook_urls")),
    path("", include("dashboard.views.rules_triage_urls")),
    path("", include("dashboard.views.reports_urls")),
]
