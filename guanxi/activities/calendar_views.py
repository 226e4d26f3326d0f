"""The calendar pages (month, week and day, server-rendered on a CSS grid), the private
feed's management, and the feed itself (no session: the secret in the URL is the key)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from guanxi.common.views import actor_scope, page
from guanxi.platform import permissions
from guanxi.platform.models import Action

from . import localtime
from .objects import TASK
from .selectors import calendar as selectors
from .services import calendar as services
from .task_views import checkin_url


@page
def calendar_page(request):
    permissions.require(request.user, TASK, Action.READ)
    view = request.GET.get("view") or "month"
    if view not in selectors.VIEWS:
        view = "month"
    today = localtime.local_today(request.user)
    try:
        day = parse_date(request.GET.get("date") or "") or today
    except ValueError:
        day = today
    user = selectors.calendar_user(**actor_scope(request), user_id=request.GET.get("user") or None)
    first, stop = selectors.window(view, day)
    start = localtime.day_bounds(user, first)[0]
    end = localtime.day_bounds(user, stop)[0]
    events = selectors.events(**actor_scope(request), user=user, start=start, end=end)
    for event in events:
        event.extra["checkin_url"] = checkin_url(event.task)
    days = selectors.days(events, user=user, first=first, stop=stop, month=day.month, today=today)
    context = {
        "view": view,
        "day": day,
        "today": today,
        "days": days,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "weekday_names": [d.date for d in days[:7]],
        "prev": selectors.step(view, day, -1),
        "next": selectors.step(view, day, 1),
        "shown_user": user,
        "members": selectors.team_members(**actor_scope(request)),
        "user_param": "" if user.pk == request.user.pk else str(user.pk),
        "feed": services.calendar_feed_active(**actor_scope(request)),
        "views": [(v, v) for v in selectors.VIEWS],
    }
    return render(request, "activities/calendar_page.html", context)


@page
@require_POST
def calendar_feed(request):
    """Create (or replace) the private feed — its URL is shown this once — or revoke it."""
    if request.POST.get("op") == "revoke":
        services.calendar_feed_revoke(**actor_scope(request))
        return render(request, "activities/calendar_feed.html", {"feed": None, "revoked": True})
    feed, url = services.calendar_feed_create(**actor_scope(request))
    return render(request, "activities/calendar_feed.html", {"feed": feed, "url": url})


@require_GET
def calendar_ics(request, prefix: str, secret: str):
    feed = services.calendar_feed_lookup(prefix=prefix, secret=secret)
    if feed is None or not permissions.can(feed.user, TASK, Action.READ):
        raise Http404()
    body = services.render_ics(user=feed.user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="guanxi.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
