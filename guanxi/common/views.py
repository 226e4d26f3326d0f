"""Helpers shared by every app's page views."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from .errors import ApplicationError, NotFound, PermissionDenied


def error_message(exc: ApplicationError) -> str:
    """The text of a service's error, for a message on the page. Denials and unknown
    records are not messages: they keep their own pages (403 with the reason, 404)."""
    if exc.status in (403, 404):
        raise exc
    return str(exc.message)


def page(view):
    """A signed-in page: "not found" (other workspaces included) is a 404, a denial within
    the workspace is a 403 page that says why."""

    @functools.wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None
        except PermissionDenied as exc:
            return render(request, "403.html", {"reason": exc.message}, status=403)

    return wrapper


def actor_scope(request) -> dict:
    """The ``actor``/``workspace`` pair every service and selector takes, from a request."""
    return {"actor": request.user, "workspace": request.workspace}
