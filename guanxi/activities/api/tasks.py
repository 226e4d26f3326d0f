"""``/tasks``, ``/my-day``, ``/notifications`` and ``/calendar``: tasks and reminders, the
day's view, in-app notifications, calendar events and the private iCalendar feed. The
same services and selectors as the pages; another workspace's ids are 404, missing rights
403."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import DateTime, Id, PageParams, PatchSchema, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import Notification, Task
from ..objects import TASK
from ..selectors import calendar as calendar_selectors
from ..selectors import tasks as selectors
from ..services import calendar as calendar_services
from ..services import notifications as notification_services
from ..services import tasks as services

router = Router()
TAGS = ["Tasks"]
NOTIFICATION_TAGS = ["Notifications"]
CALENDAR_TAGS = ["Calendar"]

Kind = Literal["todo", "call", "meeting", "visit", "email"]
Status_ = Literal["open", "done", "cancelled"]
PriorityName = Literal["low", "normal", "high"]
RecurrenceName = Literal["", "daily", "weekly", "monthly", "quarterly", "yearly"]


# --- schemas ---------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    full_name: str


class TaskOut(Schema):
    id: int
    kind: Kind
    title: str
    description: str
    due_at: dt.datetime
    ends_at: dt.datetime | None
    all_day: bool
    priority: PriorityName
    status: Status_
    completed_at: dt.datetime | None
    overdue: bool
    assignee: UserRef
    account: Ref | None
    contact: Ref | None
    related_object_key: str
    related_object_id: int | None
    location: str
    recurrence: RecurrenceName
    recurrence_interval: int
    recurrence_until: dt.date | None
    previous_id: int | None
    remind_at: dt.datetime | None
    reminder_state: Literal["", "pending", "sending", "sent", "failed"]
    created_at: dt.datetime
    updated_at: dt.datetime


class TaskIn(Schema):
    title: bounded_text(200, min_length=1)
    kind: Kind = "todo"
    due_at: DateTime = Field(
        ..., description="ISO 8601 with an offset; not in the past. All-day: its day counts."
    )
    ends_at: DateTime | None = None
    all_day: bool = False
    priority: PriorityName = "normal"
    description: bounded_text(10_000) = ""
    location: bounded_text(300) = ""
    assignee_id: Id | None = Field(
        None, description="Default: the caller. Others need the manager's right."
    )
    account_id: Id | None = None
    contact_id: Id | None = None
    related_object_key: bounded_text(60) = ""
    related_object_id: Id | None = None
    recurrence: RecurrenceName = ""
    recurrence_interval: int = Field(1, ge=1, le=99)
    recurrence_until: dt.date | None = None
    remind_at: DateTime | None = Field(None, description="At or before the due time.")
    remind_before_minutes: int | None = Field(
        None, ge=0, le=527_040, description="Instead of remind_at: minutes before due_at."
    )
    window_start: dt.time | None = None
    window_end: dt.time | None = None


class TaskPatch(PatchSchema):
    title: bounded_text(200, min_length=1) | None = None
    kind: Kind | None = None
    due_at: DateTime | None = None
    ends_at: DateTime | None = None
    all_day: bool | None = None
    priority: PriorityName | None = None
    description: bounded_text(10_000) | None = None
    location: bounded_text(300) | None = None
    assignee_id: Id | None = None
    account_id: Id | None = None
    contact_id: Id | None = None
    recurrence: RecurrenceName | None = None
    recurrence_interval: int | None = Field(None, ge=1, le=99)
    recurrence_until: dt.date | None = None
    remind_at: DateTime | None = None
    remind_before_minutes: int | None = Field(None, ge=0, le=527_040)
    window_start: dt.time | None = None
    window_end: dt.time | None = None


class CompleteIn(Schema):
    note: bounded_text(10_000) = ""


class TaskFilters(Schema):
    assignee_id: Id | None = None
    status: Status_ | None = None
    kind: Kind | None = None
    due_from: dt.date | None = Field(None, description="Due on or after this day (your zone).")
    due_to: dt.date | None = Field(None, description="Due on or before this day (your zone).")
    account_id: Id | None = None
    contact_id: Id | None = None


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    url: str
    task_id: int | None
    read_at: dt.datetime | None
    created_at: dt.datetime


class MyDayOut(Schema):
    date: dt.date
    overdue: list[TaskOut]
    today: list[TaskOut]
    tomorrow: list[TaskOut]
    notifications: list[NotificationOut]
    unread_notifications: int


class ReadAllOut(Schema):
    marked_read: int


class EventOut(Schema):
    uid: str
    task_id: int
    title: str
    kind: Kind
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    status: Status_
    overdue: bool


class EventFilters(Schema):
    start: DateTime
    end: DateTime
    user_id: Id | None = Field(None, description="A team member's calendar (managers).")


class FeedOut(Schema):
    url: str = Field(..., description="The private feed URL. Shown only in this answer.")
    prefix: str
    created_at: dt.datetime


# --- serializers ------------------------------------------------------------------------------


def task_out(task: Task, *, actor) -> dict:
    return {
        "id": task.pk,
        "kind": task.kind,
        "title": task.title,
        "description": task.description,
        "due_at": task.due_at,
        "ends_at": task.ends_at,
        "all_day": task.all_day,
        "priority": task.priority,
        "status": task.status,
        "completed_at": task.completed_at,
        "overdue": selectors.is_overdue(task, actor=actor),
        "assignee": {"id": task.assignee_id, "full_name": task.assignee.full_name},
        "account": {"id": task.account_id, "name": task.account.name} if task.account_id else None,
        "contact": {"id": task.contact_id, "name": task.contact.name} if task.contact_id else None,
        "related_object_key": task.related_object_key,
        "related_object_id": task.related_object_id,
        "location": task.location,
        "recurrence": task.recurrence,
        "recurrence_interval": task.recurrence_interval,
        "recurrence_until": task.recurrence_until,
        "previous_id": task.previous_id,
        "remind_at": task.remind_at,
        "reminder_state": task.reminder_state,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


def _one(request, task_id: int) -> dict:
    return task_out(selectors.task_get(**actor_scope(request), task_id=task_id), actor=request.user)


# --- tasks ------------------------------------------------------------------------------------


@router.get(
    "/tasks",
    response=documented(page_of(TaskOut)),
    tags=TAGS,
    operation_id="tasks_list",
    summary="List the tasks you may see (yours; a manager's team), soonest due first",
)
def tasks_list(request, filters: Query[TaskFilters], page: Query[PageParams]):
    permissions.require(request.user, TASK, Action.READ)
    parsed = selectors.TaskFilters(**filters.dict())
    qs = selectors.filter_tasks(
        selectors.task_list(**actor_scope(request)), parsed, actor=request.user
    )
    return page_response(qs, page, lambda t: task_out(t, actor=request.user), key="due_at")


@router.post(
    "/tasks",
    response=documented(TaskOut, status=201),
    tags=TAGS,
    operation_id="tasks_create",
    summary="Create a task (not in the past; a reminder at or before it is due)",
)
def tasks_create(request, payload: TaskIn):
    values = payload.dict()
    if values.get("remind_before_minutes") is None:
        values.pop("remind_before_minutes")
    task = services.task_create(**actor_scope(request), **values)
    return Status(201, _one(request, task.pk))


@router.get(
    "/tasks/{task_id}",
    response=documented(TaskOut),
    tags=TAGS,
    operation_id="tasks_get",
    summary="Get a task",
)
def tasks_get(request, task_id: Id):
    return _one(request, task_id)


@router.patch(
    "/tasks/{task_id}",
    response=documented(TaskOut),
    tags=TAGS,
    operation_id="tasks_update",
    summary="Change a task (only the fields sent; moving the due time moves the reminder)",
)
def tasks_update(request, task_id: Id, payload: TaskPatch):
    services.task_update(**actor_scope(request), task_id=task_id, **payload.changes())
    return _one(request, task_id)


@router.delete(
    "/tasks/{task_id}",
    response=documented(None, status=204),
    tags=TAGS,
    operation_id="tasks_delete",
    summary="Delete a task (managers; reps cancel)",
)
def tasks_delete(request, task_id: Id):
    services.task_delete(**actor_scope(request), task_id=task_id)
    return Status(204, None)


@router.post(
    "/tasks/{task_id}/complete",
    response=documented(TaskOut),
    tags=TAGS,
    operation_id="tasks_complete",
    summary="Mark a task done (on the customer's timeline; a recurring task's next once)",
)
def tasks_complete(request, task_id: Id, payload: CompleteIn | None = None):
    services.task_complete(
        **actor_scope(request), task_id=task_id, note=payload.note if payload else ""
    )
    return _one(request, task_id)


@router.post(
    "/tasks/{task_id}/cancel",
    response=documented(TaskOut),
    tags=TAGS,
    operation_id="tasks_cancel",
    summary="Cancel an open task (409 when it is done)",
)
def tasks_cancel(request, task_id: Id):
    services.task_cancel(**actor_scope(request), task_id=task_id)
    return _one(request, task_id)


@router.post(
    "/tasks/{task_id}/reopen",
    response=documented(TaskOut),
    tags=TAGS,
    operation_id="tasks_reopen",
    summary="Open a done or cancelled task again",
)
def tasks_reopen(request, task_id: Id):
    services.task_reopen(**actor_scope(request), task_id=task_id)
    return _one(request, task_id)


# --- my day -----------------------------------------------------------------------------------


@router.get(
    "/my-day",
    response=documented(MyDayOut),
    tags=TAGS,
    operation_id="my_day",
    summary="Your day: overdue, today (in time order), tomorrow, unread notifications",
)
def my_day(request):
    permissions.require(request.user, TASK, Action.READ)
    day = selectors.my_day(**actor_scope(request))
    actor = request.user
    return {
        "date": day.today,
        "overdue": [task_out(t, actor=actor) for t in day.overdue],
        "today": [task_out(t, actor=actor) for t in day.today_tasks],
        "tomorrow": [task_out(t, actor=actor) for t in day.tomorrow],
        "notifications": day.notifications,
        "unread_notifications": day.unread,
    }


# --- notifications ----------------------------------------------------------------------------


@router.get(
    "/notifications",
    response=documented(page_of(NotificationOut)),
    tags=NOTIFICATION_TAGS,
    operation_id="notifications_list",
    summary="Your notifications, newest first",
)
def notifications_list(request, page: Query[PageParams], unread: bool = False):
    qs = selectors.notification_list(**actor_scope(request))
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return page_response(qs, page, key="created_at", descending=True)


@router.post(
    "/notifications/read-all",
    response=documented(ReadAllOut),
    tags=NOTIFICATION_TAGS,
    operation_id="notifications_read_all",
    summary="Mark all your notifications read",
)
def notifications_read_all(request):
    return {
        "marked_read": notification_services.notifications_mark_all_read(**actor_scope(request))
    }


@router.post(
    "/notifications/{notification_id}/read",
    response=documented(NotificationOut),
    tags=NOTIFICATION_TAGS,
    operation_id="notifications_read",
    summary="Mark one of your notifications read",
)
def notifications_read(request, notification_id: Id) -> Notification:
    return notification_services.notification_mark_read(
        **actor_scope(request), notification_id=notification_id
    )


# --- calendar ---------------------------------------------------------------------------------


@router.get(
    "/calendar/events",
    response=documented(list[EventOut]),
    tags=CALENDAR_TAGS,
    operation_id="calendar_events",
    summary="Tasks, meetings and visits overlapping [start, end) (at most 400 days)",
)
def calendar_events(request, filters: Query[EventFilters]):
    user = calendar_selectors.calendar_user(**actor_scope(request), user_id=filters.user_id)
    events = calendar_selectors.events(
        **actor_scope(request), user=user, start=filters.start, end=filters.end
    )
    return [
        {
            "uid": e.uid,
            "task_id": e.task.pk,
            "title": e.title,
            "kind": e.kind,
            "start": e.start,
            "end": e.end,
            "all_day": e.all_day,
            "status": e.status,
            "overdue": e.overdue,
        }
        for e in events
    ]


@router.post(
    "/calendar/feed",
    response=documented(FeedOut, status=201),
    tags=CALENDAR_TAGS,
    operation_id="calendar_feed_create",
    summary="Make your private iCalendar feed URL (shown once; an older one stops working)",
)
def calendar_feed_create(request):
    feed, url = calendar_services.calendar_feed_create(**actor_scope(request))
    return Status(201, {"url": url, "prefix": feed.prefix, "created_at": feed.created_at})


@router.delete(
    "/calendar/feed",
    response=documented(None, status=204),
    tags=CALENDAR_TAGS,
    operation_id="calendar_feed_revoke",
    summary="Revoke your iCalendar feed (its URL answers 404 from now on)",
)
def calendar_feed_revoke(request):
    calendar_services.calendar_feed_revoke(**actor_scope(request))
    return Status(204, None)
