from django.conf import settings

from . import navigation


def shell(request):
    """What the page shell needs on every page: the workspace, the navigation, hosted mode."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "workspace": getattr(request, "workspace", None),
        "nav_sections": navigation.for_user(user) if signed_in else [],
        "GUANXI_HOSTED": settings.GUANXI_HOSTED,
    }
