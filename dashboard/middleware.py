from django.contrib.auth import get_user_model
from django.shortcuts import redirect

_OPEN_PREFIXES = ("/setup/", "/static/", "/healthz/", "/hooks/", "/badge/")


class FirstRunMiddleware:
    """Until the first account exists, every page leads to the set-up form."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.ready = False

    def __call__(self, request):
        if not self.ready:
            self.ready = get_user_model().objects.exists()
            if not self.ready and not request.path.startswith(_OPEN_PREFIXES):
                return redirect("setup")
        return self.get_response(request)
