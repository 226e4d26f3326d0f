"""Each user's private iCalendar feed: create (the URL is shown once), revoke, look up by
the secret in the URL, and render.

The URL carries ``<prefix>.<secret>``; only the secret's SHA-256 is stored, so a leaked
database does not leak working feed URLs. A user has at most one live feed: creating a
new one revokes the old. The feed serves meetings, visits and timed tasks as events at
their times, in the user's time zone, and the rest (all-day tasks) as all-day events,
from 30 days back to 180 days ahead, with UIDs that stay the same from one fetch to the
next so calendar apps update events instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import icalendar
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from guanxi.platform import audit, mail, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from .. import localtime
from ..models import CalendarFeed, TaskStatus
from ..objects import TASK
from ..selectors import calendar as calendar_selectors

FEED_OBJECT = "activities.calendar_feed"
PAST = dt.timedelta(days=30)
AHEAD = dt.timedelta(days=180)
# Note the last fetch at most this often: calendar apps poll every few minutes.
TOUCH_EVERY = dt.timedelta(hours=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_path(prefix: str, secret: str) -> str:
    return reverse("activities:calendar_ics", kwargs={"prefix": prefix, "secret": secret})


def calendar_feed_create(*, actor: User, workspace: Workspace) -> tuple[CalendarFeed, str]:
    """A new private feed for the actor, revoking any earlier one. Returns the feed and
    its full URL — the only time the URL can be shown."""
    permissions.require(actor, TASK, Action.READ)
    with transaction.atomic():
        _revoke(actor, workspace)
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        feed = CalendarFeed.objects.create(
            workspace=workspace, user=actor, prefix=prefix, secret_hash=_hash(secret)
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key=FEED_OBJECT,
            object_id=feed.pk,
            object_repr=gettext("Calendar feed of %(name)s") % {"name": actor.full_name},
            changes={"prefix": [None, prefix]},
        )
    return feed, mail.absolute_url(feed_path(prefix, secret))


def _revoke(actor: User, workspace: Workspace) -> int:
    now = timezone.now()
    live = CalendarFeed.objects.in_workspace(workspace).filter(user=actor, revoked_at__isnull=True)
    revoked = 0
    for feed in live.select_for_update():
        feed.revoked_at = now
        feed.save(update_fields=["revoked_at", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.DELETE,
            object_key=FEED_OBJECT,
            object_id=feed.pk,
            object_repr=gettext("Calendar feed of %(name)s") % {"name": actor.full_name},
            changes={"prefix": [feed.prefix, None]},
        )
        revoked += 1
    return revoked


def calendar_feed_revoke(*, actor: User, workspace: Workspace) -> int:
    """Revoke the actor's feed: its URL answers 404 from now on. Returns how many."""
    with transaction.atomic():
        return _revoke(actor, workspace)


def calendar_feed_active(*, actor: User, workspace: Workspace) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.in_workspace(workspace)
        .filter(user=actor, revoked_at__isnull=True)
        .order_by("-pk")
        .first()
    )


def calendar_feed_lookup(*, prefix: str, secret: str) -> CalendarFeed | None:
    """The live feed the URL names, or None. The prefix finds the row (it is unique
    across workspaces: the URL is all a calendar app has); the secret must match its
    hash. The last use is noted, at most hourly."""
    feed = (
        CalendarFeed.objects.across_workspaces()
        .select_related("user", "user__workspace", "user__role", "user__team")
        .filter(prefix=prefix[:12], revoked_at__isnull=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.secret_hash, _hash(secret)):
        return None
    if not feed.user.is_active or feed.user.workspace_id != feed.workspace_id:
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > TOUCH_EVERY:
        CalendarFeed.objects.in_workspace(feed.workspace_id).filter(pk=feed.pk).update(
            last_used_at=now
        )
    return feed


def render_ics(*, user: User, now=None) -> bytes:
    """The user's calendar, -30..+180 days, as an iCalendar document."""
    now = now or timezone.now()
    zone = localtime.user_zone(user)
    event_list = calendar_selectors.events(
        workspace=user.workspace,
        actor=user,
        user=user,
        start=now - PAST,
        end=now + AHEAD,
        include_cancelled=True,
        now=now,
    )
    cal = icalendar.Calendar()
    cal.add("prodid", "-//guanxi//calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"guanxi · {user.full_name}")
    cal.add("x-wr-timezone", str(zone))
    for event in event_list:
        task = event.task
        vevent = icalendar.Event()
        vevent.add("uid", event.uid)
        vevent.add("dtstamp", task.updated_at)
        vevent.add("last-modified", task.updated_at)
        summary = task.title if task.status != TaskStatus.DONE else f"✓ {task.title}"
        vevent.add("summary", summary)
        if event.all_day:
            vevent.add("dtstart", event.start.astimezone(zone).date())
            vevent.add("dtend", event.end.astimezone(zone).date())
        else:
            vevent.add("dtstart", event.start.astimezone(zone))
            vevent.add("dtend", event.end.astimezone(zone))
        vevent.add("categories", [task.get_kind_display()])
        vevent.add("status", "CANCELLED" if task.status == TaskStatus.CANCELLED else "CONFIRMED")
        description = task.description
        if task.account_id:
            description = f"{task.account.name}\n{description}".strip()
        if description:
            vevent.add("description", description)
        if task.location:
            vevent.add("location", task.location)
        vevent.add("url", mail.absolute_url(reverse("activities:task_edit", args=[task.pk])))
        cal.add_component(vevent)
    cal.add_missing_timezones()
    return cal.to_ical()
