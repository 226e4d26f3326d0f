"""Request plumbing: the signed-in user's workspace, language and time zone; session timeouts."""

from __future__ import annotations

import time
import zoneinfo

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation


class WorkspaceMiddleware:
    """Sets ``request.workspace`` and applies the user's language and time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        request.workspace = None
        if user is not None and user.is_authenticated:
            request.workspace = user.workspace
            if user.language and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
            tz_name = user.time_zone or user.workspace.time_zone
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Ends a session after ``SESSION_IDLE_TIMEOUT`` without requests, and in any case
    ``SESSION_ABSOLUTE_TIMEOUT`` after sign-in."""

    # Refresh the idle mark at most this often, so a busy page does not write every request.
    TOUCH_EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            signed_in = session.get("signed_in_at")
            seen = session.get("seen_at", signed_in)
            if signed_in is None:
                session["signed_in_at"] = session["seen_at"] = now
            elif (
                now - signed_in > settings.SESSION_ABSOLUTE_TIMEOUT
                or now - (seen or signed_in) > settings.SESSION_IDLE_TIMEOUT
            ):
                _audit_timeout(
                    request, user, idle=now - signed_in <= settings.SESSION_ABSOLUTE_TIMEOUT
                )
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                target = f"{reverse(settings.LOGIN_URL)}?expired=1"
                if request.headers.get("HX-Request"):
                    # htmx would swap the sign-in page into a fragment; send the whole page.
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = target
                    return response
                return redirect(target)
            elif now - (seen or 0) > self.TOUCH_EVERY:
                session["seen_at"] = now
        return self.get_response(request)


def _audit_timeout(request, user, *, idle: bool) -> None:
    from . import audit
    from .models import AuditAction

    audit.log(
        actor=user,
        workspace=user.workspace_id,
        action=AuditAction.SIGN_OUT,
        object_key="platform.user",
        object_id=user.pk,
        object_repr=str(user),
        changes={"session": ["active", "idle timeout" if idle else "absolute timeout"]},
        ip_address=request.META.get("REMOTE_ADDR"),
    )
