"""In-app notifications, and the reminders that raise them (in the app and by e-mail).

Reminders are sent by the worker (``reminder_jobs``) every minute, one workspace at a
time (the reminder index leads with the workspace). Each due reminder is *claimed*
(pending → sending, under ``SELECT … FOR UPDATE SKIP LOCKED``) and committed before its
e-mail goes to the mail server, then marked sent. A reminder is therefore e-mailed at most
once: a second worker, or a second run, finds it no longer pending; a worker that dies
between the claim and "sent" leaves it in "sending", and the sweeper marks such rows
failed after ``STUCK_AFTER`` and tells the user in the app instead of mailing twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.template import loader
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import NotFound
from guanxi.platform import mail
from guanxi.platform.models import User, Workspace

from .. import localtime
from ..models import Notification, ReminderState, Task, TaskStatus

logger = logging.getLogger(__name__)

STUCK_AFTER = dt.timedelta(minutes=10)
BATCH = 200


def notify(
    *,
    workspace,
    user: User,
    title,
    body="",
    params: dict | None = None,
    url: str = "",
    task: Task | None = None,
):
    """Add one in-app notification for ``user`` (inside the caller's transaction).
    ``title`` and ``body`` (translatable, filled with ``params``) are rendered in the
    user's language."""
    params = params or {}
    with translation.override(_language(user)):
        return Notification.objects.create(
            workspace_id=getattr(workspace, "pk", workspace),
            user=user,
            title=(str(title) % params if params else str(title))[:200],
            body=(str(body) % params if params and body else str(body))[:500],
            url=url[:300],
            task=task,
        )


def notification_mark_read(*, actor: User, workspace: Workspace, notification_id: int):
    """Mark one of the actor's notifications read (someone else's is "not found")."""
    with transaction.atomic():
        note = (
            Notification.objects.in_workspace(workspace)
            .filter(user=actor, pk=notification_id)
            .first()
        )
        if note is None:
            raise NotFound()
        if note.read_at is None:
            note.read_at = timezone.now()
            note.save(update_fields=["read_at", "updated_at"])
    return note


def notifications_mark_all_read(*, actor: User, workspace: Workspace) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    with transaction.atomic():
        return (
            Notification.objects.in_workspace(workspace)
            .filter(user=actor, read_at__isnull=True)
            .update(read_at=timezone.now(), updated_at=timezone.now())
        )


# --- reminders -------------------------------------------------------------------------------


def _language(user: User) -> str:
    return user.language or user.workspace.language or settings.LANGUAGE_CODE


def _pending(workspace_id: int, now: dt.datetime):
    return Task.objects.in_workspace(workspace_id).filter(
        reminder_state=ReminderState.PENDING, remind_at__lte=now, status=TaskStatus.OPEN
    )


def _claim(workspace_id: int, task_id: int, now: dt.datetime) -> tuple[Task, Notification] | None:
    """pending → sending, and the in-app notification, in one committed transaction.
    ``None`` when another worker holds or already took it."""
    from .tasks import task_url

    with transaction.atomic():
        task = (
            _pending(workspace_id, now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("assignee", "assignee__workspace", "account", "contact")
            .filter(pk=task_id)
            .first()
        )
        if task is None:
            return None
        task.reminder_state = ReminderState.SENDING
        task.reminded_at = now
        task.save(update_fields=["reminder_state", "reminded_at", "updated_at"])
        zone = localtime.user_zone(task.assignee)
        with translation.override(_language(task.assignee)):
            due = _due_text(task, zone)
            note = notify(
                workspace=workspace_id,
                user=task.assignee,
                title=_("Reminder: %(title)s"),
                body=_("Due %(due)s"),
                params={"title": task.title, "due": due},
                url=task_url(task),
                task=task,
            )
    return task, note


def _due_text(task: Task, zone) -> str:
    local = task.due_at.astimezone(zone)
    from django.utils import formats

    if task.all_day:
        return formats.date_format(local.date(), "SHORT_DATE_FORMAT")
    return formats.date_format(local.replace(tzinfo=None), "SHORT_DATETIME_FORMAT")


def _message(task: Task, note: Notification) -> dict:
    user = task.assignee
    zone = localtime.user_zone(user)
    with translation.override(_language(user)):
        context = {
            "task": task,
            "user": user,
            "due": _due_text(task, zone),
            "time_zone": str(zone),
            "url": mail.absolute_url(note.url) if note.url else "",
        }
        subject = " ".join(
            loader.render_to_string("activities/task_reminder_subject.txt", context).split()
        )
        body = loader.render_to_string("activities/task_reminder_email.txt", context)
    return {"subject": subject, "body": body, "to": [user.email], "from_email": None}


def _finish(workspace_id: int, task_id: int, state: str) -> None:
    Task.objects.in_workspace(workspace_id).filter(
        pk=task_id, reminder_state=ReminderState.SENDING
    ).update(reminder_state=state, updated_at=timezone.now())


def reminders_send_due(*, workspace_id: int, now: dt.datetime | None = None) -> int:
    """E-mail (and notify in the app) the due reminders of one workspace; returns how many
    e-mails went out."""
    now = now or timezone.now()
    sent = 0
    ids = list(
        _pending(workspace_id, now).order_by("remind_at").values_list("pk", flat=True)[:BATCH]
    )
    for task_id in ids:
        claimed = _claim(workspace_id, task_id, now)
        if claimed is None:
            continue
        task, note = claimed
        try:
            mail.deliver(_message(task, note))
        except Exception:
            # The server refused or dropped us; the mail may or may not have left, so it is
            # not retried (never twice). The in-app reminder is there; say the mail failed.
            logger.exception("reminder e-mail for task %s failed", task_id)
            with transaction.atomic():
                _finish(workspace_id, task_id, ReminderState.FAILED)
                _notify_failed(task)
            continue
        _finish(workspace_id, task_id, ReminderState.SENT)
        sent += 1
    return sent


def _notify_failed(task: Task) -> None:
    from .tasks import task_url

    with translation.override(_language(task.assignee)):
        notify(
            workspace=task.workspace_id,
            user=task.assignee,
            title=_("The reminder e-mail for “%(title)s” may not have been sent"),
            body=_("Check the task in the app; the e-mail is not sent again."),
            params={"title": task.title},
            url=task_url(task),
            task=task,
        )


def reminders_sweep_stuck(*, workspace_id: int, now: dt.datetime | None = None) -> int:
    """Mark reminders left in "sending" for over ``STUCK_AFTER`` (a worker died between
    the claim and the mail server's answer) failed, and tell their users in the app."""
    now = now or timezone.now()
    stuck = Task.objects.in_workspace(workspace_id).filter(
        reminder_state=ReminderState.SENDING, reminded_at__lt=now - STUCK_AFTER
    )
    count = 0
    for task_id in list(stuck.values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            task = (
                stuck.select_for_update(skip_locked=True, of=("self",))
                .select_related("assignee", "assignee__workspace")
                .filter(pk=task_id)
                .first()
            )
            if task is None:
                continue
            task.reminder_state = ReminderState.FAILED
            task.save(update_fields=["reminder_state", "updated_at"])
            _notify_failed(task)
            count += 1
    return count


def reminders_run(*, now: dt.datetime | None = None) -> dict:
    """The worker's minute: sweep and send, workspace by workspace."""
    now = now or timezone.now()
    totals = {"sent": 0, "failed": 0}
    for workspace_id in Workspace.objects.order_by("pk").values_list("pk", flat=True):
        totals["failed"] += reminders_sweep_stuck(workspace_id=workspace_id, now=now)
        totals["sent"] += reminders_send_due(workspace_id=workspace_id, now=now)
    return totals
