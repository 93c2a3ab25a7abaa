from dashboard.access import current_membership, request_memberships


def teams(request):
    """The user's teams and the current one, for the team switcher in base.html."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"memberships": request_memberships(request), "current_membership": current_membership(request)}
