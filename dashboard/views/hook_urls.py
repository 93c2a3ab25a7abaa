from django.urls import path

from dashboard.views import hooks

urlpatterns = [
    path("hooks/github/<str:token>/", hooks.github, name="hook_github"),
    path("hooks/gitlab/<str:token>/", hooks.gitlab, name="hook_gitlab"),
    path("hooks/generic/<str:token>/", hooks.generic, name="hook_generic"),
]
