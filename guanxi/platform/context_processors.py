from django.conf import settings


def shell(request):
    """What the page shell needs on every page: the workspace, hosted mode, languages."""
    return {
        "workspace": getattr(request, "workspace", None),
        "GUANXI_HOSTED": settings.GUANXI_HOSTED,
    }
