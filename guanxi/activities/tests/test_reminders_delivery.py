"""Reminders end to end through a real SMTP server on loopback (aiosmtpd): a due reminder
arrives once, in the user's language, even when the job runs twice; a row left in
"sending" by a dead worker is never mailed again; workspaces stay apart."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities import reminder_jobs
from guanxi.activities.models import Notification, ReminderState, Task
from guanxi.activities.services import notifications
from guanxi.activities.services import tasks as services
from guanxi.common.tests.smtp import free_port
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(smtp_server):
    return smtp_server


@pytest.fixture
def rep(workspace):
    return UserFactory(
        workspace=workspace, language="zh-hans", time_zone="Asia/Shanghai", full_name="王小明"
    )


def _task_due_soon(rep, **values):
    account = AccountFactory(workspace=rep.workspace, owner=rep, name="星河科技")
    return services.task_create(
        actor=rep,
        workspace=rep.workspace,
        title="给张经理打电话",
        kind="call",
        due_at=timezone.now() + dt.timedelta(minutes=20),
        remind_before_minutes=30,
        account_id=account.pk,
        **values,
    )


def test_a_due_reminder_is_mailed_exactly_once(rep, smtp):
    task = _task_due_soon(rep)
    assert task.reminder_state == ReminderState.PENDING
    first = notifications.reminders_run()
    second = notifications.reminders_run()
    assert first["sent"] == 1 and second["sent"] == 0
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert smtp.recipients == [[rep.email]]
    assert "给张经理打电话" in message["Subject"]
    body = message.get_content()
    assert "星河科技" in body and "Asia/Shanghai" in body
    assert "您好" in body  # the user's language (zh-hans)
    task.refresh_from_db()
    assert task.reminder_state == ReminderState.SENT and task.reminded_at is not None
    note = Notification.objects.in_workspace(rep.workspace).get(user=rep)
    assert "给张经理打电话" in note.title and note.task_id == task.pk and note.read_at is None


def test_the_periodic_task_sends_it_too(rep, smtp):
    _task_due_soon(rep)
    reminder_jobs.send_due_reminders.call_local()
    reminder_jobs.send_due_reminders.call_local()
    assert len(smtp.messages) == 1


def test_a_reminder_not_yet_due_waits(rep, smtp):
    services.task_create(
        actor=rep,
        workspace=rep.workspace,
        title="下周拜访",
        due_at=timezone.now() + dt.timedelta(days=3),
        remind_before_minutes=60,
    )
    assert notifications.reminders_run()["sent"] == 0
    assert smtp.messages == []


def test_done_or_cancelled_tasks_are_not_reminded(rep, smtp):
    a = _task_due_soon(rep)
    b = _task_due_soon(rep)
    services.task_complete(actor=rep, workspace=rep.workspace, task_id=a.pk)
    services.task_cancel(actor=rep, workspace=rep.workspace, task_id=b.pk)
    notifications.reminders_run()
    assert smtp.messages == []


def test_a_row_stuck_in_sending_is_never_mailed_again(rep, smtp):
    task = _task_due_soon(rep)
    # A worker claimed it and died before the mail server answered.
    Task.objects.in_workspace(rep.workspace).filter(pk=task.pk).update(
        reminder_state=ReminderState.SENDING, reminded_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert notifications.reminders_run() == {"sent": 0, "failed": 0}
    later = timezone.now() + dt.timedelta(minutes=6)
    assert notifications.reminders_run(now=later) == {"sent": 0, "failed": 1}
    assert notifications.reminders_run(now=later) == {"sent": 0, "failed": 0}
    assert smtp.messages == []
    task.refresh_from_db()
    assert task.reminder_state == ReminderState.FAILED
    note = Notification.objects.in_workspace(rep.workspace).get(user=rep)
    assert "给张经理打电话" in note.title


def test_a_refusing_mail_server_marks_it_failed_and_says_so(rep, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 2
    task = _task_due_soon(rep)
    assert notifications.reminders_run()["sent"] == 0
    task.refresh_from_db()
    assert task.reminder_state == ReminderState.FAILED
    titles = list(
        Notification.objects.in_workspace(rep.workspace)
        .filter(user=rep)
        .order_by("pk")
        .values_list("title", flat=True)
    )
    assert len(titles) == 2  # the reminder, and that its e-mail failed
    assert notifications.reminders_run()["sent"] == 0  # not retried


def test_a_claimed_reminder_is_not_claimed_twice(rep):
    task = _task_due_soon(rep)
    now = timezone.now()
    assert notifications._claim(rep.workspace_id, task.pk, now) is not None
    assert notifications._claim(rep.workspace_id, task.pk, now) is None


def test_each_workspace_gets_its_own(rep, smtp, other_workspace):
    other = UserFactory(workspace=other_workspace, language="en", full_name="Alice")
    _task_due_soon(rep)
    services.task_create(
        actor=other,
        workspace=other_workspace,
        title="Call Bob",
        due_at=timezone.now() + dt.timedelta(minutes=10),
        remind_before_minutes=15,
    )
    assert notifications.reminders_run()["sent"] == 2
    by_rcpt = {r[0]: m for r, m in zip(smtp.recipients, smtp.messages, strict=True)}
    assert "Call Bob" in by_rcpt[other.email]["Subject"]
    assert "Reminder" in by_rcpt[other.email]["Subject"]
    assert not Notification.objects.in_workspace(other_workspace).filter(user=rep).exists()
