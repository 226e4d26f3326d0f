"""Tasks: create, change, complete, cancel, reopen — with recurrence and reminders.

Every service checks the actor's rights before its transaction (so the audit row of a
denial survives), validates all its input at once (nothing is written when any of it is
wrong), and writes its audit row in the same transaction. Tasks are fetched through the
selectors, so another workspace's task, or one the actor may not see, is "not found".

Due times are stored in UTC; a naive datetime is the actor's local time
(``localtime.as_aware``): what they typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, FieldErrors, PermissionDenied
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import audit, permissions, registry
from guanxi.platform.models import Action, User, Visibility, Workspace

from .. import localtime
from ..models import (
    EntryKind,
    Priority,
    Recurrence,
    ReminderState,
    Task,
    TaskKind,
    TaskStatus,
)
from ..objects import TASK
from ..selectors import tasks as task_selectors
from . import notifications
from .timeline import record_entry

# A task typed as "due now" is a few seconds old by the time it is saved.
PAST_GRACE = dt.timedelta(minutes=5)
MAX_INTERVAL = 99
MAX_BULK = 500

_UNSET: Any = object()

# The timeline channel a done task of each kind is logged under.
_CHANNELS = {
    TaskKind.CALL: "phone",
    TaskKind.EMAIL: "email",
    TaskKind.MEETING: "in_person",
    TaskKind.VISIT: "in_person",
}

EDITABLE = frozenset(
    {
        "title",
        "description",
        "kind",
        "due_at",
        "ends_at",
        "all_day",
        "priority",
        "assignee_id",
        "account_id",
        "contact_id",
        "related_object_key",
        "related_object_id",
        "recurrence",
        "recurrence_interval",
        "recurrence_until",
        "remind_at",
        "remind_before_minutes",
        "location",
        "window_start",
        "window_end",
    }
)


# --- who may give a task to whom --------------------------------------------------------------


def may_assign_to(actor: User, assignee: User) -> bool:
    """Anyone may take a task themselves; giving one to someone else needs the manager's
    right: updating tasks with a visibility that covers that person (or administration)."""
    if assignee.pk == actor.pk:
        return True
    if not actor.is_active:
        return False
    if actor.role.is_admin:
        return True
    if not permissions.can(actor, TASK, Action.UPDATE):
        return False
    visibility = permissions.visibility_for(actor, TASK)
    if visibility == Visibility.ALL:
        return True
    team = actor.team
    if team is None or assignee.team_id is None:
        return False
    if visibility == Visibility.TEAM:
        return assignee.team_id == team.pk
    if visibility == Visibility.TEAM_AND_BELOW:
        return assignee.team.path.startswith(team.path)
    return False


def may_assign_others(actor: User) -> bool:
    """Whether the actor may give tasks to anyone but themselves (forms show the choice)."""
    return actor.is_active and (
        actor.role.is_admin
        or (
            permissions.can(actor, TASK, Action.UPDATE)
            and permissions.visibility_for(actor, TASK) != Visibility.OWN
        )
    )


def assignable_users(*, workspace: Workspace, actor: User) -> list[User]:
    """The active users the actor may give a task to (themselves first)."""
    users = User.objects.filter(workspace=workspace, is_active=True).select_related("team")
    if not may_assign_others(actor):
        return [actor]
    others = [
        u for u in users.order_by("full_name") if u.pk != actor.pk and may_assign_to(actor, u)
    ]
    return [actor, *others]


# --- validation ------------------------------------------------------------------------------


def _text(errors: FieldErrors, value, *, field: str, max_length: int, required=False) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        errors.add(field, _("Text may not contain NUL characters."))
    elif len(text) > max_length:
        errors.add(field, _("At most %(n)s characters.") % {"n": max_length})
    elif required and not text:
        errors.add(field, _("This field is required."))
    return text


def _choice(errors: FieldErrors, value, choices, *, field: str) -> str:
    value = str(value or "").strip()
    if value not in choices.values:
        errors.add(field, _("“%(value)s” is not one of the choices.") % {"value": value})
    return value


def _utc(errors: FieldErrors, value, actor: User, *, field: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min)
    if not isinstance(value, dt.datetime):
        errors.add(field, _("Enter a date and time."))
        return None
    try:
        return localtime.as_aware(value, actor).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        errors.add(field, _("Enter a date and time between the years 1 and 9999."))
        return None


def _user(errors: FieldErrors, workspace, user_id, *, field: str) -> User | None:
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        pk = None
    user = (
        User.objects.filter(workspace=workspace, pk=pk, is_active=True)
        .select_related("team", "role")
        .first()
        if pk
        else None
    )
    if user is None:
        errors.add(field, _("Choose an active user of this workspace."))
    return user


def _customer(errors: FieldErrors, workspace, actor, *, account_id, contact_id):
    account = contact = None
    if account_id not in (None, ""):
        account = (
            customer_selectors.account_list(workspace=workspace, actor=actor)
            .filter(pk=_int(account_id))
            .first()
        )
        if account is None:
            errors.add("account", _("Choose an account you can see."))
    if contact_id not in (None, ""):
        contact = (
            customer_selectors.contact_list(workspace=workspace, actor=actor)
            .filter(pk=_int(contact_id))
            .first()
        )
        if contact is None:
            errors.add("contact", _("Choose a contact you can see."))
    return account, contact


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _related(errors: FieldErrors, workspace, key: str, object_id) -> tuple[str, int | None]:
    key = str(key or "").strip()
    if not key and object_id in (None, ""):
        return "", None
    obj = registry.find(key)
    pk = _int(object_id)
    if obj is None or pk <= 0:
        errors.add("related_object_key", _("Choose a record this task is about."))
        return key, None
    manager = obj.model._default_manager
    qs = manager.filter(workspace=workspace, pk=pk)
    if not qs.exists():
        errors.add("related_object_id", _("That record does not exist."))
    return key, pk


def _clean(
    *,
    actor: User,
    workspace: Workspace,
    values: dict,
    current: Task | None,
    now: dt.datetime,
) -> dict:
    """The final field values of a new task, or of ``current`` with ``values`` applied.
    Raises one ``ApplicationError`` listing every bad field; writes nothing."""
    errors = FieldErrors()

    def given(name):
        return name in values

    def pick(name, default=None):
        if given(name):
            return values[name]
        if current is not None:
            return getattr(current, name)
        return default

    out: dict[str, Any] = {}
    out["title"] = _text(errors, pick("title", ""), field="title", max_length=200, required=True)
    out["description"] = _text(
        errors, pick("description", ""), field="description", max_length=10_000
    )
    out["location"] = _text(errors, pick("location", ""), field="location", max_length=300)
    out["kind"] = _choice(errors, pick("kind", TaskKind.TODO), TaskKind, field="kind")
    out["priority"] = _choice(errors, pick("priority", Priority.NORMAL), Priority, field="priority")
    out["all_day"] = bool(pick("all_day", False))

    # Due and end. An all-day task is due at the start of its day, in the actor's zone.
    due_raw = values["due_at"] if given("due_at") else (current.due_at if current else None)
    if due_raw in (None, ""):
        errors.add("due_at", _("Enter when the task is due."))
        due = None
    else:
        due = _utc(errors, due_raw, actor, field="due_at")
    ends = _utc(errors, pick("ends_at"), actor, field="ends_at")
    if due is not None and out["all_day"]:
        zone = localtime.user_zone(actor)
        due = dt.datetime.combine(due.astimezone(zone).date(), dt.time.min, tzinfo=zone)
        due = due.astimezone(dt.UTC)
        if ends is not None:
            ends = dt.datetime.combine(ends.astimezone(zone).date(), dt.time.min, tzinfo=zone)
            ends = ends.astimezone(dt.UTC)
    due_changed = current is None or (due is not None and due != current.due_at)
    if due is not None and due_changed:
        if out["all_day"]:
            in_past = due.astimezone(localtime.user_zone(actor)).date() < localtime.local_today(
                actor, now
            )
        else:
            in_past = due < now - PAST_GRACE
        if in_past:
            errors.add(
                "due_at",
                _("The due time is in the past. Choose a time from now on.")
                if current is None
                else _("A task cannot be moved into the past. Choose a time from now on."),
            )
    if due is not None and ends is not None and ends < due:
        errors.add("ends_at", _("The end is before the start."))
    out["due_at"], out["ends_at"] = due, ends

    # Visit time window at the customer.
    window_start, window_end = pick("window_start"), pick("window_end")
    for name, value in (("window_start", window_start), ("window_end", window_end)):
        if value is not None and not isinstance(value, dt.time):
            errors.add(name, _("Enter a time of day."))
    if (
        isinstance(window_start, dt.time)
        and isinstance(window_end, dt.time)
        and window_end < window_start
    ):
        errors.add("window_end", _("The window ends before it starts."))
    out["window_start"], out["window_end"] = window_start, window_end

    # Recurrence.
    out["recurrence"] = _choice(errors, pick("recurrence", ""), Recurrence, field="recurrence")
    interval = pick("recurrence_interval", 1)
    try:
        interval = int(interval if interval not in (None, "") else 1)
    except (TypeError, ValueError):
        interval = 0
    if not 1 <= interval <= MAX_INTERVAL:
        errors.add(
            "recurrence_interval",
            _("Repeat every 1 to %(n)s periods.") % {"n": MAX_INTERVAL},
        )
    out["recurrence_interval"] = interval
    until = pick("recurrence_until")
    if isinstance(until, dt.datetime):
        until = until.date()
    if until is not None and not isinstance(until, dt.date):
        errors.add("recurrence_until", _("Enter a date."))
        until = None
    if not out["recurrence"]:
        until = None
    elif (
        until is not None
        and due is not None
        and until < due.astimezone(localtime.user_zone(actor)).date()
    ):
        errors.add("recurrence_until", _("“Repeat until” is before the due date."))
    out["recurrence_until"] = until

    # Reminder: a time, or minutes before the due time.
    remind_given = given("remind_at") or given("remind_before_minutes")
    before = values.get("remind_before_minutes")
    remind_at = _utc(errors, values.get("remind_at"), actor, field="remind_at")
    if before not in (None, "") and remind_at is not None:
        errors.add("remind_at", _("Give a reminder time or an offset, not both."))
    elif before not in (None, ""):
        try:
            minutes = int(before)
        except (TypeError, ValueError):
            minutes = -1
        if not 0 <= minutes <= 60 * 24 * 366:
            errors.add("remind_before_minutes", _("Enter minutes before the due time."))
        elif due is not None:
            remind_at = due - dt.timedelta(minutes=minutes)
    if not remind_given and current is not None and current.remind_at is not None:
        # Moving the due time moves the reminder with it.
        remind_at = current.remind_at
        if due is not None and due != current.due_at:
            remind_at = current.remind_at + (due - current.due_at)
    if remind_at is not None and due is not None:
        latest = due + (dt.timedelta(days=1) if out["all_day"] else dt.timedelta(0))
        if remind_at > latest:
            errors.add("remind_at", _("The reminder is after the due time."))
    out["remind_at"] = remind_at

    # Assignee: the actor unless someone else is named.
    if given("assignee_id") and values["assignee_id"] not in (None, ""):
        assignee = _user(errors, workspace, values["assignee_id"], field="assignee")
    elif current is not None:
        assignee = current.assignee
    else:
        assignee = actor
    out["assignee"] = assignee

    # The customer and any other linked record.
    account_id = pick("account_id")
    contact_id = pick("contact_id")
    customer_changed = current is None or given("account_id") or given("contact_id")
    if customer_changed:
        account, contact = _customer(
            errors, workspace, actor, account_id=account_id, contact_id=contact_id
        )
        if account is None and contact is not None and contact.account_id:
            account = contact.account
        out["account_id"] = account.pk if account else None
        out["contact_id"] = contact.pk if contact else None
    if current is None or given("related_object_key") or given("related_object_id"):
        out["related_object_key"], out["related_object_id"] = _related(
            errors, workspace, pick("related_object_key", ""), pick("related_object_id")
        )

    errors.raise_if_any()
    reassigned = current is None or assignee.pk != current.assignee_id
    if assignee is not None and reassigned and not may_assign_to(actor, assignee):
        audit.log_permission_denied(actor=actor, object_key=TASK, action="assign")
        raise PermissionDenied(
            _("Your role may not give tasks to %(name)s.") % {"name": assignee.full_name},
            code="assign_denied",
        )
    return out


def _apply_reminder(task: Task, remind_at: dt.datetime | None, now: dt.datetime) -> None:
    """Setting a reminder (or moving it) makes it pending again; clearing it clears it."""
    if remind_at is None:
        task.remind_at = None
        task.reminder_state = ReminderState.NONE
        return
    if remind_at != task.remind_at or task.reminder_state in (ReminderState.NONE, ""):
        task.remind_at = remind_at
        task.reminder_state = ReminderState.PENDING
        task.reminded_at = None


def task_url(task: Task) -> str:
    try:
        return reverse("activities:task_edit", args=[task.pk])
    except NoReverseMatch:  # pragma: no cover - the pages are always installed
        return ""


def _notify_assigned(actor: User, task: Task) -> None:
    if task.assignee_id == actor.pk:
        return
    notifications.notify(
        workspace=task.workspace_id,
        user=task.assignee,
        title=_("%(name)s gave you a task: %(title)s"),
        params={"name": actor.full_name, "title": task.title},
        url=task_url(task),
        task=task,
    )


# --- the services -------------------------------------------------------------------------------


def task_create(*, actor: User, workspace: Workspace, now: dt.datetime | None = None, **values):
    """Create a task. ``due_at`` is required and may not be in the past; naive datetimes
    are the actor's local time. The assignee defaults to the actor (naming someone else
    needs the manager's right). ``remind_at`` (a time) or ``remind_before_minutes`` sets a
    reminder; ``recurrence`` with ``recurrence_interval`` and ``recurrence_until`` makes
    it repeat when done. The linked account/contact must be visible to the actor."""
    permissions.require(actor, TASK, Action.CREATE)
    _unknown(values)
    now = now or timezone.now()
    clean = _clean(actor=actor, workspace=workspace, values=values, current=None, now=now)
    with transaction.atomic():
        remind_at = clean.pop("remind_at")
        task = Task(workspace=workspace, created_by=actor, **clean)
        _apply_reminder(task, remind_at, now)
        task.save()
        audit.log_create(actor=actor, instance=task)
        _notify_assigned(actor, task)
    return task


def task_update(*, actor: User, workspace: Workspace, task_id: int, now=None, **changes) -> Task:
    """Change a task (only the fields given). An overdue task may be edited; moving its
    due time into the past is refused. Moving the due time moves the reminder with it."""
    permissions.require(actor, TASK, Action.UPDATE)
    _unknown(changes)
    now = now or timezone.now()
    with transaction.atomic():
        task = _lock(workspace=workspace, actor=actor, task_id=task_id)
        before = audit.snapshot(task)
        clean = _clean(actor=actor, workspace=workspace, values=changes, current=task, now=now)
        remind_at = clean.pop("remind_at")
        previous_assignee = task.assignee_id
        for name, value in clean.items():
            setattr(task, name, value)
        if task.status == TaskStatus.OPEN:
            _apply_reminder(task, remind_at, now)
        else:
            task.remind_at = remind_at
        task.save()
        audit.log_update(actor=actor, instance=task, before=before)
        if task.assignee_id != previous_assignee:
            _notify_assigned(actor, task)
    return task


def task_complete(
    *, actor: User, workspace: Workspace, task_id: int, note: str = "", now=None
) -> Task:
    """Mark a task done. Linked to a customer, it goes on their timeline; a recurring task
    gets its next occurrence — once: completing again (or after a reopen) adds no other.
    Completing a done task changes nothing."""
    permissions.require(actor, TASK, Action.UPDATE)
    errors = FieldErrors()
    note = _text(errors, note, field="note", max_length=10_000)
    errors.raise_if_any()
    now = now or timezone.now()
    with transaction.atomic():
        task = _lock(workspace=workspace, actor=actor, task_id=task_id)
        if task.status == TaskStatus.DONE:
            return task
        before = audit.snapshot(task)
        task.status = TaskStatus.DONE
        task.completed_at = now
        if task.reminder_state == ReminderState.PENDING:
            task.reminder_state = ReminderState.NONE
        task.save()
        audit.log_update(actor=actor, instance=task, before=before)
        if task.account_id or task.contact_id:
            record_entry(
                workspace=workspace,
                author=actor,
                kind=EntryKind.TASK,
                subtype=task.kind,
                channel=_CHANNELS.get(task.kind, ""),
                occurred_at=now,
                account=task.account_id,
                contacts=[task.contact_id] if task.contact_id else [],
                subject=task.title,
                body=note or task.description,
                related_object_key=TASK,
                related_object_id=task.pk,
                data={"task_id": task.pk, "due_at": task.due_at.isoformat()},
            )
        if task.recurrence:
            _create_next(actor, task, now)
    return task


def _create_next(actor: User, task: Task, now: dt.datetime) -> Task | None:
    """The next occurrence of a recurring task, unless it exists or the series ended.
    Occurrences on days already gone are skipped: completing a long-overdue daily task
    gives today's (or the next) occurrence, not a backlog."""
    if Task.objects.in_workspace(task.workspace_id).filter(previous=task).exists():
        return None
    zone = localtime.user_zone(task.assignee)
    local_due = task.due_at.astimezone(zone)
    today = localtime.local_today(task.assignee, now)
    occurrence = 1
    next_local = localtime.next_occurrence(local_due, task.recurrence, task.recurrence_interval)
    while next_local.date() < today:
        occurrence += 1
        next_local = localtime.next_occurrence(
            local_due, task.recurrence, task.recurrence_interval, occurrence
        )
    if task.recurrence_until and next_local.date() > task.recurrence_until:
        return None
    next_due = next_local.astimezone(dt.UTC)
    shift = next_due - task.due_at
    follow = Task(
        workspace_id=task.workspace_id,
        kind=task.kind,
        title=task.title,
        description=task.description,
        due_at=next_due,
        ends_at=task.ends_at + shift if task.ends_at else None,
        all_day=task.all_day,
        window_start=task.window_start,
        window_end=task.window_end,
        location=task.location,
        priority=task.priority,
        assignee_id=task.assignee_id,
        created_by=actor,
        account_id=task.account_id,
        contact_id=task.contact_id,
        related_object_key=task.related_object_key,
        related_object_id=task.related_object_id,
        recurrence=task.recurrence,
        recurrence_interval=task.recurrence_interval,
        recurrence_until=task.recurrence_until,
        previous=task,
    )
    _apply_reminder(follow, task.remind_at + shift if task.remind_at else None, now)
    follow.save()
    audit.log_create(actor=actor, instance=follow)
    return follow


def task_cancel(*, actor: User, workspace: Workspace, task_id: int) -> Task:
    """Cancel an open task; its pending reminder is dropped."""
    permissions.require(actor, TASK, Action.UPDATE)
    with transaction.atomic():
        task = _lock(workspace=workspace, actor=actor, task_id=task_id)
        if task.status == TaskStatus.CANCELLED:
            return task
        if task.status == TaskStatus.DONE:
            raise ApplicationError(
                _("This task is done. Reopen it first."), code="task_done", status=409
            )
        before = audit.snapshot(task)
        task.status = TaskStatus.CANCELLED
        if task.reminder_state == ReminderState.PENDING:
            task.reminder_state = ReminderState.NONE
        task.save()
        audit.log_update(actor=actor, instance=task, before=before)
    return task


def task_reopen(*, actor: User, workspace: Workspace, task_id: int, now=None) -> Task:
    """Open a done or cancelled task again; a reminder still ahead is pending again. A
    recurring task's next occurrence stays (completing it again adds none)."""
    permissions.require(actor, TASK, Action.UPDATE)
    now = now or timezone.now()
    with transaction.atomic():
        task = _lock(workspace=workspace, actor=actor, task_id=task_id)
        if task.status == TaskStatus.OPEN:
            return task
        before = audit.snapshot(task)
        task.status = TaskStatus.OPEN
        task.completed_at = None
        if task.remind_at and task.remind_at > now and task.reminder_state == ReminderState.NONE:
            task.reminder_state = ReminderState.PENDING
        task.save()
        audit.log_update(actor=actor, instance=task, before=before)
    return task


def task_delete(*, actor: User, workspace: Workspace, task_id: int) -> None:
    """Delete a task (a manager's right; reps cancel instead). What it left on a
    customer's timeline stays: the timeline is append-only."""
    permissions.require(actor, TASK, Action.DELETE)
    with transaction.atomic():
        task = _lock(workspace=workspace, actor=actor, task_id=task_id)
        audit.log_delete(actor=actor, instance=task)
        task.delete()


def tasks_complete(*, actor: User, workspace: Workspace, task_ids, now=None) -> int:
    """Complete several tasks at once, all or nothing; returns how many were open."""
    permissions.require(actor, TASK, Action.UPDATE)
    try:
        ids = sorted({int(i) for i in task_ids})
    except (TypeError, ValueError):
        raise ApplicationError(_("The selection is not valid.")) from None
    if not ids:
        raise ApplicationError(_("Select at least one task."))
    if len(ids) > MAX_BULK:
        raise ApplicationError(_("Select at most %(n)s tasks at a time.") % {"n": MAX_BULK})
    visible = task_selectors.task_list(workspace=workspace, actor=actor).filter(pk__in=ids)
    found = dict(visible.values_list("pk", "status"))
    if len(found) != len(ids):
        raise ApplicationError(_("Some selected tasks are not available to you."))
    done = 0
    with transaction.atomic():
        for pk in ids:
            if found[pk] == TaskStatus.OPEN:
                task_complete(actor=actor, workspace=workspace, task_id=pk, now=now)
                done += 1
    return done


# --- helpers ------------------------------------------------------------------------------------


def _unknown(values: dict) -> None:
    unknown = sorted(set(values) - EDITABLE)
    if unknown:
        raise ApplicationError(
            _("These fields cannot be set here: %(f)s.") % {"f": ", ".join(unknown)},
            fields={name: [_("Unknown field.")] for name in unknown},
        )


def _lock(*, workspace, actor, task_id) -> Task:
    """The task, visible to the actor, locked for the rest of the transaction."""
    task_selectors.task_get(workspace=workspace, actor=actor, task_id=task_id)
    return (
        Task.objects.in_workspace(workspace)
        .select_for_update(of=("self",))
        .select_related("assignee", "assignee__team", "assignee__role")
        .get(pk=task_id)
    )
