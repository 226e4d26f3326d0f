"""Reads for the calendar: whose calendar the actor may open, the events of a window
(tasks, meetings and visits), and the month/week/day grids the pages draw.

Events are tasks (meetings and visits are tasks of those kinds; the visit part plans
them). One query per window, whatever the number of events, capped at ``MAX_EVENTS``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Visibility, Workspace

from .. import localtime
from ..models import Task, TaskKind, TaskStatus
from ..objects import TASK
from . import tasks as task_selectors

MAX_EVENTS = 2000
MAX_WINDOW = dt.timedelta(days=400)
# How long an event without an end lasts on the calendar.
DEFAULT_LENGTH = {TaskKind.MEETING: dt.timedelta(hours=1), TaskKind.VISIT: dt.timedelta(hours=1)}
OTHER_LENGTH = dt.timedelta(minutes=30)


def may_view(actor: User, user: User) -> bool:
    """Whether the actor may open ``user``'s calendar: their own, or a team member's
    when their visibility of tasks covers that person."""
    if user.pk == actor.pk:
        return True
    if not permissions.can(actor, TASK, Action.READ):
        return False
    visibility = permissions.visibility_for(actor, TASK)
    if visibility == Visibility.ALL:
        return True
    team = actor.team
    if team is None or user.team_id is None:
        return False
    if visibility == Visibility.TEAM:
        return user.team_id == team.pk
    if visibility == Visibility.TEAM_AND_BELOW:
        return user.team.path.startswith(team.path)
    return False


def calendar_user(*, workspace: Workspace, actor: User, user_id=None) -> User:
    """The user whose calendar is asked for: the actor by default. Someone of another
    workspace is "not found"; someone the actor may not see is refused."""
    permissions.require(actor, TASK, Action.READ)
    if user_id in (None, "", actor.pk):
        return actor
    try:
        user = User.objects.filter(workspace=workspace).select_related("team").get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if not may_view(actor, user):
        raise PermissionDenied(_("You may not open this person's calendar."))
    return user


def team_members(*, workspace: Workspace, actor: User) -> list[User]:
    """The people whose calendars the actor may open (themselves first); one query."""
    users = (
        User.objects.filter(workspace=workspace, is_active=True)
        .select_related("team")
        .order_by("full_name")
    )
    if permissions.visibility_for(actor, TASK) == Visibility.OWN and not actor.role.is_admin:
        return [actor]
    return [actor, *[u for u in users if u.pk != actor.pk and may_view(actor, u)]]


@dataclass
class Event:
    uid: str
    task: Task
    title: str
    kind: str
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    status: str
    overdue: bool = False
    # Filled by the grids: the local start and end, for display.
    local_start: dt.datetime | None = None
    local_end: dt.datetime | None = None
    extra: dict = field(default_factory=dict)


def task_end(task: Task) -> dt.datetime:
    if task.ends_at:
        if task.all_day:
            return task.ends_at + dt.timedelta(days=1)  # inclusive last day
        return task.ends_at
    if task.all_day:
        return task.due_at + dt.timedelta(days=1)
    return task.due_at + DEFAULT_LENGTH.get(task.kind, OTHER_LENGTH)


def events(
    *,
    workspace: Workspace,
    actor: User,
    user: User,
    start: dt.datetime,
    end: dt.datetime,
    include_cancelled: bool = False,
    now=None,
) -> list[Event]:
    """``user``'s tasks, meetings and visits that overlap [start, end), in time order."""
    if end <= start:
        raise ApplicationError(
            _("The end is before the start."), fields={"end": [_("The end is before the start.")]}
        )
    if end - start > MAX_WINDOW:
        raise ApplicationError(
            _("Ask for at most 400 days at a time."),
            fields={"end": [_("Ask for at most 400 days at a time.")]},
        )
    # The longest an event may reach back: multi-day events start before the window.
    qs = (
        task_selectors.task_list(workspace=workspace, actor=actor)
        .filter(assignee=user, due_at__lt=end)
        .filter(Q(due_at__gte=start - dt.timedelta(days=1)) | Q(ends_at__gte=start))
    )
    if not include_cancelled:
        qs = qs.exclude(status=TaskStatus.CANCELLED)
    out = []
    for task in qs.order_by("due_at", "pk")[:MAX_EVENTS]:
        task_start, task_stop = task.due_at, task_end(task)
        if task_stop <= start and task_start < start:
            continue
        out.append(
            Event(
                uid=f"task-{task.pk}@{task.workspace_id}.guanxi",
                task=task,
                title=task.title,
                kind=task.kind,
                start=task_start,
                end=task_stop,
                all_day=task.all_day,
                status=task.status,
                overdue=task_selectors.is_overdue(task, actor=user, now=now),
            )
        )
    return out


# --- grids -------------------------------------------------------------------------------


VIEWS = ("month", "week", "day")


def window(view: str, day: dt.date, *, week_start: int = 0) -> tuple[dt.date, dt.date]:
    """The first day shown and the day after the last, for a view around ``day``.
    Months show whole weeks (Monday first by default)."""
    if view == "day":
        return day, day + dt.timedelta(days=1)
    if view == "week":
        first = day - dt.timedelta(days=(day.weekday() - week_start) % 7)
        return first, first + dt.timedelta(days=7)
    month_first = day.replace(day=1)
    first = month_first - dt.timedelta(days=(month_first.weekday() - week_start) % 7)
    next_month = localtime.add_months(month_first, 1)
    last = next_month + dt.timedelta(days=(7 - (next_month.weekday() - week_start) % 7) % 7)
    return first, last


def step(view: str, day: dt.date, direction: int) -> dt.date:
    if view == "day":
        return day + dt.timedelta(days=direction)
    if view == "week":
        return day + dt.timedelta(days=7 * direction)
    return localtime.add_months(day.replace(day=1), direction)


@dataclass
class Day:
    date: dt.date
    in_month: bool
    is_today: bool
    events: list[Event]


def days(
    event_list: list[Event], *, user: User, first: dt.date, stop: dt.date, month: int, today
) -> list[Day]:
    """Each day of [first, stop) with the events on it (a multi-day event on each day)."""
    zone = localtime.user_zone(user)
    by_day: dict[dt.date, list[Event]] = {}
    for event in event_list:
        event.local_start = event.start.astimezone(zone)
        event.local_end = event.end.astimezone(zone)
        day = max(event.local_start.date(), first)
        last = (event.local_end - dt.timedelta(microseconds=1)).date()
        while day <= last and day < stop:
            by_day.setdefault(day, []).append(event)
            day += dt.timedelta(days=1)
    out = []
    day = first
    while day < stop:
        items = sorted(by_day.get(day, []), key=lambda e: (not e.all_day, e.start, e.task.pk))
        out.append(Day(day, day.month == month, day == today, items))
        day += dt.timedelta(days=1)
    return out
