"""Reads of tasks and notifications: the visible tasks with their joins, the filters the
list and the API share, "my day", a customer's open tasks, a user's notifications.

Every selector takes the workspace and the actor and applies the actor's visibility of
tasks (their own; a manager's team), so another workspace's task is "not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from .. import localtime
from ..models import Notification, Task, TaskKind, TaskStatus
from ..objects import TASK

MY_DAY_LIMIT = 100
# Overdue items on "my day": the oldest few, and a link to the rest (the list, filtered).
MY_DAY_OVERDUE = 20
NOTIFICATION_LIMIT = 10


def task_list(*, workspace: Workspace, actor: User) -> QuerySet[Task]:
    qs = Task.objects.in_workspace(workspace).select_related("assignee", "account", "contact")
    return permissions.visible(qs, actor=actor, object_key=TASK)


def task_get(*, workspace: Workspace, actor: User, task_id) -> Task:
    try:
        return task_list(workspace=workspace, actor=actor).get(pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


PERIODS = {
    "overdue": _("Overdue"),
    "today": _("Today"),
    "tomorrow": _("Tomorrow"),
    "week": _("Next 7 days"),
    "later": _("Later"),
}


@dataclass
class TaskFilters:
    status: str = ""
    kind: str = ""
    period: str = ""
    assignee_id: int | None = None
    account_id: int | None = None
    contact_id: int | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None


def parse_filters(params) -> TaskFilters:
    """The list's filters from a query string; bad values are a clear error."""
    errors: dict[str, list] = {}
    out = TaskFilters()
    status = params.get("status", "") or ""
    if status and status not in TaskStatus.values:
        errors["status"] = [_("Choose open, done or cancelled.")]
    out.status = status
    kind = params.get("kind", "") or ""
    if kind and kind not in TaskKind.values:
        errors["kind"] = [_("“%(value)s” is not one of the choices.") % {"value": kind}]
    out.kind = kind
    period = params.get("period", "") or ""
    if period and period not in PERIODS:
        errors["period"] = [_("“%(value)s” is not one of the choices.") % {"value": period}]
    out.period = period
    for name in ("assignee_id", "account_id", "contact_id"):
        raw = params.get(name) or ""
        if raw:
            if not str(raw).isdigit():
                errors[name] = [_("Enter a whole number.")]
            else:
                setattr(out, name, int(raw))
    for name in ("due_from", "due_to"):
        raw = params.get(name) or ""
        if raw:
            try:
                day = parse_date(str(raw))
            except ValueError:
                day = None
            if day is None:
                errors[name] = [_("Enter a date as YYYY-MM-DD.")]
            setattr(out, name, day)
    if errors:
        raise ApplicationError(_("A filter value is not valid."), fields=errors)
    return out


def filter_tasks(qs: QuerySet[Task], filters: TaskFilters, *, actor: User, now=None):
    """Narrow ``qs`` by status, kind, assignee, customer and due period; days are the
    actor's days."""
    now = now or timezone.now()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.assignee_id:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.account_id:
        qs = qs.filter(account_id=filters.account_id)
    if filters.contact_id:
        qs = qs.filter(contact_id=filters.contact_id)
    if filters.due_from:
        qs = qs.filter(due_at__gte=localtime.day_bounds(actor, filters.due_from)[0])
    if filters.due_to:
        qs = qs.filter(due_at__lt=localtime.day_bounds(actor, filters.due_to)[1])
    if filters.period:
        today = localtime.local_today(actor, now)
        start, end = localtime.day_bounds(actor, today)
        if filters.period == "overdue":
            qs = qs.filter(status=TaskStatus.OPEN).filter(
                Q(due_at__lt=start) | Q(due_at__lt=now, all_day=False)
            )
        elif filters.period == "today":
            qs = qs.filter(due_at__gte=start, due_at__lt=end)
        elif filters.period == "tomorrow":
            qs = qs.filter(due_at__gte=end, due_at__lt=end + dt.timedelta(days=1))
        elif filters.period == "week":
            qs = qs.filter(due_at__gte=start, due_at__lt=start + dt.timedelta(days=7))
        elif filters.period == "later":
            qs = qs.filter(due_at__gte=start + dt.timedelta(days=7))
    return qs


def is_overdue(task: Task, *, actor: User, now=None) -> bool:
    now = now or timezone.now()
    if task.status != TaskStatus.OPEN:
        return False
    if task.all_day:
        return task.due_at < localtime.day_bounds(actor, localtime.local_today(actor, now))[0]
    return task.due_at < now


# --- my day ---------------------------------------------------------------------------------


@dataclass
class MyDay:
    today: dt.date
    overdue: list[Task]
    overdue_more: bool
    today_tasks: list[Task]
    tomorrow: list[Task]
    notifications: list[Notification]
    unread: int


def my_day(*, workspace: Workspace, actor: User, now=None) -> MyDay:
    """The actor's day: overdue open tasks (oldest first), today's tasks and visits in
    time order (done ones included, cancelled not), tomorrow's preview, and unread
    notifications — five queries whatever the numbers."""
    now = now or timezone.now()
    today = localtime.local_today(actor, now)
    start, end = localtime.day_bounds(actor, today)
    mine = (
        Task.objects.in_workspace(workspace)
        .filter(assignee=actor)
        .select_related("account", "contact")
    )
    overdue = list(
        mine.filter(status=TaskStatus.OPEN, due_at__lt=start).order_by("due_at", "pk")[
            : MY_DAY_OVERDUE + 1
        ]
    )
    overdue_more = len(overdue) > MY_DAY_OVERDUE
    overdue = overdue[:MY_DAY_OVERDUE]
    today_tasks = list(
        mine.filter(due_at__gte=start, due_at__lt=end)
        .exclude(status=TaskStatus.CANCELLED)
        .order_by("-all_day", "due_at", "pk")[:MY_DAY_LIMIT]
    )
    tomorrow = list(
        mine.filter(
            status=TaskStatus.OPEN, due_at__gte=end, due_at__lt=end + dt.timedelta(days=1)
        ).order_by("-all_day", "due_at", "pk")[:MY_DAY_LIMIT]
    )
    for task in (*overdue, *today_tasks, *tomorrow):
        task.is_overdue = is_overdue(task, actor=actor, now=now)
    unread = unread_notifications(workspace=workspace, actor=actor)
    return MyDay(
        today=today,
        overdue=overdue,
        overdue_more=overdue_more,
        today_tasks=today_tasks,
        tomorrow=tomorrow,
        notifications=list(unread[:NOTIFICATION_LIMIT]),
        unread=unread_count(workspace=workspace, actor=actor),
    )


def customer_open_tasks(
    *, workspace: Workspace, actor: User, account_id=None, contact_id=None, limit: int = 20
) -> list[Task]:
    """A customer's open tasks that the actor may see, soonest first (one query)."""
    qs = task_list(workspace=workspace, actor=actor).filter(status=TaskStatus.OPEN)
    qs = qs.filter(account_id=account_id) if account_id else qs.filter(contact_id=contact_id)
    tasks = list(qs.order_by("due_at", "pk")[:limit])
    now = timezone.now()
    for task in tasks:
        task.is_overdue = is_overdue(task, actor=actor, now=now)
    return tasks


# --- notifications --------------------------------------------------------------------------


def notification_list(*, workspace: Workspace, actor: User) -> QuerySet[Notification]:
    """The actor's own notifications (nobody reads another's)."""
    return Notification.objects.in_workspace(workspace).filter(user=actor)


def unread_notifications(*, workspace: Workspace, actor: User) -> QuerySet[Notification]:
    return (
        notification_list(workspace=workspace, actor=actor)
        .filter(read_at__isnull=True)
        .order_by("-created_at", "-pk")
    )


def unread_count(*, workspace: Workspace, actor: User, cap: int = 99) -> int:
    """Unread notifications, counted up to ``cap`` (the bell shows "99+")."""
    qs = notification_list(workspace=workspace, actor=actor).filter(read_at__isnull=True)
    return qs.values("pk")[: cap + 1].count()
