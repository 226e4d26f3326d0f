"""Reads of visits: plan versus done per rep, an account's coming visits, a rep's visits on
a day, and check-ins. Every selector applies the actor's rights and record visibility
(tasks and check-ins are each rep's own; a manager sees their team and the teams below)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from ..models import CheckIn, Task, TaskKind, TaskStatus
from ..objects import CHECKIN, TASK
from ..services.visits import Period


def visit_tasks(*, workspace: Workspace, actor: User) -> QuerySet[Task]:
    """Visit tasks the actor may see."""
    qs = Task.objects.in_workspace(workspace).filter(kind=TaskKind.VISIT)
    return permissions.visible(qs, actor=actor, object_key=TASK)


def checkin_list(
    *, workspace: Workspace, actor: User, user_id=None, account_id=None
) -> QuerySet[CheckIn]:
    qs = CheckIn.objects.in_workspace(workspace).select_related(
        "user", "account", "contact", "task"
    )
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return permissions.visible(qs, actor=actor, object_key=CHECKIN)


def checkin_get(*, workspace: Workspace, actor: User, checkin_id) -> CheckIn:
    try:
        return checkin_list(workspace=workspace, actor=actor).get(pk=int(checkin_id))
    except (CheckIn.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


def open_checkin(*, workspace: Workspace, user: User) -> CheckIn | None:
    """The rep's check-in still waiting for its check-out, if any."""
    return (
        CheckIn.objects.in_workspace(workspace)
        .filter(user=user, checked_out_at__isnull=True)
        .select_related("account", "contact", "task")
        .first()
    )


# --- plan versus done ---------------------------------------------------------------------------


def period_bounds(period: Period, tz: dt.tzinfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    tz = tz or timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period.end, dt.time.min, tzinfo=tz)
    return start, end


@dataclass
class RepProgress:
    user: User
    planned: int
    done_tasks: int
    extra_checkouts: int
    overdue: int

    @property
    def done(self) -> int:
        return self.done_tasks + self.extra_checkouts

    @property
    def percent(self) -> int | None:
        if not self.planned:
            return None
        return round(self.done * 100 / self.planned)


def plan_progress(
    *, workspace: Workspace, actor: User, period: Period, user_id=None
) -> list[RepProgress]:
    """Per rep the actor may see (a rep: themselves; a manager: their team and below):
    visits planned in the period (visit tasks due in it, not cancelled), done (those done,
    plus check-outs in the period that had no visit task), overdue (open and past due).
    Three queries whatever the number of reps or tasks."""
    start, end = period_bounds(period)
    now = timezone.now()
    tasks = visit_tasks(workspace=workspace, actor=actor).filter(due_at__gte=start, due_at__lt=end)
    checkouts = checkin_list(workspace=workspace, actor=actor).filter(
        task__isnull=True, checked_out_at__gte=start, checked_out_at__lt=end
    )
    if user_id is not None:
        tasks = tasks.filter(assignee_id=user_id)
        checkouts = checkouts.filter(user_id=user_id)
    per_task = {
        row["assignee_id"]: row
        for row in tasks.order_by()
        .values("assignee_id")
        .annotate(
            planned=Count("pk", filter=~Q(status=TaskStatus.CANCELLED)),
            done=Count("pk", filter=Q(status=TaskStatus.DONE)),
            overdue=Count("pk", filter=Q(status=TaskStatus.OPEN, due_at__lt=now)),
        )
    }
    per_checkout = dict(
        checkouts.order_by().values("user_id").annotate(n=Count("pk")).values_list("user_id", "n")
    )
    user_ids = set(per_task) | set(per_checkout)
    users = {
        u.pk: u
        for u in User.objects.filter(workspace=workspace, pk__in=user_ids).select_related("team")
    }
    rows = [
        RepProgress(
            user=users[uid],
            planned=per_task.get(uid, {}).get("planned", 0),
            done_tasks=per_task.get(uid, {}).get("done", 0),
            extra_checkouts=per_checkout.get(uid, 0),
            overdue=per_task.get(uid, {}).get("overdue", 0),
        )
        for uid in user_ids
        if uid in users
    ]
    rows.sort(key=lambda r: (r.user.full_name, r.user.pk))
    return rows


DRILL_STATES = ("planned", "done", "overdue", "open")


def progress_tasks(
    *, workspace: Workspace, actor: User, period: Period, user_id, state: str = "planned"
) -> QuerySet[Task]:
    """One rep's visit tasks of the period (as the actor may see them), for the drill-down:
    ``planned`` (not cancelled), ``done``, ``open`` or ``overdue``."""
    start, end = period_bounds(period)
    qs = (
        visit_tasks(workspace=workspace, actor=actor)
        .filter(assignee_id=user_id, due_at__gte=start, due_at__lt=end)
        .select_related("account", "contact", "assignee")
    )
    if state == "done":
        return qs.filter(status=TaskStatus.DONE)
    if state == "open":
        return qs.filter(status=TaskStatus.OPEN)
    if state == "overdue":
        return qs.filter(status=TaskStatus.OPEN, due_at__lt=timezone.now())
    return qs.exclude(status=TaskStatus.CANCELLED)


# --- an account's visits ------------------------------------------------------------------------


def account_next_visits(
    *, workspace: Workspace, actor: User, account, limit: int = 5
) -> list[Task]:
    return list(
        visit_tasks(workspace=workspace, actor=actor)
        .filter(account=account, status=TaskStatus.OPEN, due_at__gte=timezone.now())
        .select_related("assignee")
        .order_by("due_at", "pk")[:limit]
    )


def account_done_since(*, workspace: Workspace, actor: User, account, since: dt.datetime) -> int:
    """Visits done with the account since ``since``: done visit tasks plus check-outs that
    had no task (two queries)."""
    tasks = (
        visit_tasks(workspace=workspace, actor=actor)
        .filter(account=account, status=TaskStatus.DONE, completed_at__gte=since)
        .count()
    )
    checkouts = (
        checkin_list(workspace=workspace, actor=actor)
        .filter(account=account, task__isnull=True, checked_out_at__gte=since)
        .count()
    )
    return tasks + checkouts


def day_visits(*, workspace: Workspace, actor: User, user: User, day: dt.date, tz) -> list[Task]:
    """The rep's open visit tasks due on ``day`` (in ``tz``), with their customers."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=1)
    return list(
        visit_tasks(workspace=workspace, actor=actor)
        .filter(assignee=user, status=TaskStatus.OPEN, due_at__gte=start, due_at__lt=end)
        .select_related("account", "contact")
        .order_by("due_at", "pk")
    )
