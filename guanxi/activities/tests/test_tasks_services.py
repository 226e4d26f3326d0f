"""Task services: validation (nothing written on bad input), rights to assign, linked
customers, completion on the timeline, recurrence (once), reminders, audit."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from guanxi.activities.models import (
    EntryKind,
    Notification,
    ReminderState,
    Task,
    TaskStatus,
    TimelineEntry,
)
from guanxi.activities.services import tasks as services
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditAction, AuditEntry
from guanxi.platform.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai", full_name="Rep")


@pytest.fixture
def manager(workspace, team):
    return UserFactory(workspace=workspace, team=team, role_code="sales_manager")


def soon(hours=2):
    return timezone.now() + dt.timedelta(hours=hours)


def create(actor, **values):
    values.setdefault("title", "回访客户")
    values.setdefault("due_at", soon())
    return services.task_create(actor=actor, workspace=actor.workspace, **values)


# --- create and validate ----------------------------------------------------------------------


def test_create_defaults_to_the_actor_and_is_audited(rep):
    task = create(rep, kind="call", priority="high")
    assert task.assignee == rep and task.created_by == rep
    assert task.status == TaskStatus.OPEN and task.reminder_state == ""
    entry = AuditEntry.objects.filter(workspace=rep.workspace, action=AuditAction.CREATE).get(
        object_key="activities.task"
    )
    assert entry.object_id == str(task.pk) and entry.changes["title"] == [None, "回访客户"]


def test_naive_due_is_the_users_local_time(rep):
    local = (timezone.now().astimezone(SHANGHAI) + dt.timedelta(days=2)).replace(
        hour=9, minute=30, second=0, microsecond=0, tzinfo=None
    )
    task = create(rep, due_at=local)
    assert task.due_at.astimezone(SHANGHAI).replace(tzinfo=None) == local


def test_a_new_task_in_the_past_is_refused_and_nothing_written(rep):
    with pytest.raises(ApplicationError) as exc:
        create(rep, due_at=timezone.now() - dt.timedelta(hours=1))
    assert "past" in str(exc.value.message)
    assert "due_at" in exc.value.fields
    assert not Task.objects.in_workspace(rep.workspace).exists()


def test_all_day_today_is_fine_yesterday_is_not(rep):
    today = timezone.now().astimezone(SHANGHAI).date()
    task = create(rep, due_at=today, all_day=True)
    assert task.due_at.astimezone(SHANGHAI).time() == dt.time.min
    with pytest.raises(ApplicationError):
        create(rep, due_at=today - dt.timedelta(days=1), all_day=True)


@pytest.mark.parametrize(
    "values, field",
    [
        ({"ends_at": "due-1h"}, "ends_at"),
        ({"recurrence": "weekly", "recurrence_until": "due-1d"}, "recurrence_until"),
        ({"remind_at": "due+1h"}, "remind_at"),
        ({"assignee_id": 999999}, "assignee"),
        ({"kind": "party"}, "kind"),
        ({"title": ""}, "title"),
        ({"recurrence": "weekly", "recurrence_interval": 0}, "recurrence_interval"),
        ({"remind_before_minutes": -5}, "remind_before_minutes"),
        ({"window_start": dt.time(15), "window_end": dt.time(9)}, "window_end"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(rep, values, field):
    due = soon(24)
    resolved = {}
    for key, value in values.items():
        if value == "due-1h":
            value = due - dt.timedelta(hours=1)
        elif value == "due+1h":
            value = due + dt.timedelta(hours=1)
        elif value == "due-1d":
            value = due.date() - dt.timedelta(days=2)
        resolved[key] = value
    with pytest.raises(ApplicationError) as exc:
        create(rep, due_at=due, **resolved)
    assert field in exc.value.fields, exc.value.fields
    assert str(exc.value.message)
    assert not Task.objects.in_workspace(rep.workspace).exists()


def test_every_bad_field_is_reported_at_once(rep):
    due = soon(24)
    with pytest.raises(ApplicationError) as exc:
        create(rep, title="", due_at=due, ends_at=due - dt.timedelta(hours=1))
    assert {"title", "ends_at"} <= set(exc.value.fields)


def test_unknown_fields_are_refused(rep):
    with pytest.raises(ApplicationError) as exc:
        create(rep, status="done")
    assert "status" in exc.value.fields


def test_a_user_of_another_workspace_is_an_unknown_assignee(rep, other_admin, manager):
    with pytest.raises(ApplicationError) as exc:
        create(manager, assignee_id=other_admin.pk)
    assert "assignee" in exc.value.fields


# --- assigning ----------------------------------------------------------------------------------


def test_a_rep_may_not_give_tasks_to_others(rep, manager):
    with pytest.raises(PermissionDenied):
        create(rep, assignee_id=manager.pk)
    assert AuditEntry.objects.filter(
        workspace=rep.workspace, action=AuditAction.PERMISSION_DENIED
    ).exists()
    assert not Task.objects.in_workspace(rep.workspace).exists()


def test_a_manager_gives_tasks_to_their_team_only(workspace, rep, manager):
    task = create(manager, assignee_id=rep.pk)
    assert task.assignee == rep
    note = Notification.objects.in_workspace(workspace).get(user=rep)
    assert manager.full_name in note.title and note.task == task
    stranger = UserFactory(workspace=workspace, team=TeamFactory(workspace=workspace))
    with pytest.raises(PermissionDenied):
        create(manager, assignee_id=stranger.pk)


def test_an_administrator_gives_tasks_to_anyone(workspace, admin_user, rep):
    assert create(admin_user, assignee_id=rep.pk).assignee == rep


# --- linked customers ---------------------------------------------------------------------------


def test_linked_customers_must_be_visible(workspace, rep, manager):
    mine = AccountFactory(workspace=workspace, owner=rep)
    theirs = AccountFactory(workspace=workspace, owner=manager)
    assert create(rep, account_id=mine.pk).account == mine
    with pytest.raises(ApplicationError) as exc:
        create(rep, account_id=theirs.pk)
    assert "account" in exc.value.fields


def test_a_contact_brings_its_account(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep)
    contact = ContactFactory(workspace=workspace, owner=rep, account=account)
    task = create(rep, contact_id=contact.pk)
    assert task.contact == contact and task.account == account


def test_a_generic_related_record(workspace, rep, manager):
    task = create(rep, related_object_key="platform.user", related_object_id=manager.pk)
    assert (task.related_object_key, task.related_object_id) == ("platform.user", manager.pk)
    with pytest.raises(ApplicationError):
        create(rep, related_object_key="nothing.here", related_object_id=1)


# --- update -----------------------------------------------------------------------------------


def test_an_overdue_task_may_be_edited_but_not_moved_into_the_past(workspace, rep):
    task = create(rep)
    Task.objects.in_workspace(workspace).filter(pk=task.pk).update(
        due_at=timezone.now() - dt.timedelta(days=2)
    )
    updated = services.task_update(
        actor=rep, workspace=workspace, task_id=task.pk, title="还没做完"
    )
    assert updated.title == "还没做完"
    with pytest.raises(ApplicationError) as exc:
        services.task_update(
            actor=rep,
            workspace=workspace,
            task_id=task.pk,
            due_at=timezone.now() - dt.timedelta(days=1),
        )
    assert "due_at" in exc.value.fields
    task.refresh_from_db()
    assert task.title == "还没做完"
    audit = AuditEntry.objects.filter(workspace=workspace, action=AuditAction.UPDATE).get()
    assert audit.changes["title"] == ["回访客户", "还没做完"]


def test_moving_the_due_time_moves_the_reminder(workspace, rep):
    due = soon(5)
    task = create(rep, due_at=due, remind_before_minutes=60)
    assert task.reminder_state == ReminderState.PENDING
    assert task.remind_at == due - dt.timedelta(hours=1)
    Task.objects.in_workspace(workspace).filter(pk=task.pk).update(
        reminder_state=ReminderState.SENT
    )
    later = due + dt.timedelta(days=1)
    task = services.task_update(actor=rep, workspace=workspace, task_id=task.pk, due_at=later)
    assert task.remind_at == later - dt.timedelta(hours=1)
    assert task.reminder_state == ReminderState.PENDING


def test_clearing_the_reminder(workspace, rep):
    task = create(rep, remind_before_minutes=15)
    task = services.task_update(actor=rep, workspace=workspace, task_id=task.pk, remind_at=None)
    assert task.remind_at is None and task.reminder_state == ""


def test_another_workspace_or_an_invisible_task_is_not_found(workspace, rep, manager, other_admin):
    task = create(manager)
    with pytest.raises(NotFound):
        services.task_update(actor=rep, workspace=workspace, task_id=task.pk, title="x")
    with pytest.raises(NotFound):
        services.task_complete(actor=other_admin, workspace=other_admin.workspace, task_id=task.pk)


def test_read_only_users_cannot_complete(workspace, rep):
    task = create(rep)
    reader = UserFactory(workspace=workspace, role_code="read_only")
    with pytest.raises(PermissionDenied):
        services.task_complete(actor=reader, workspace=workspace, task_id=task.pk)


# --- complete, cancel, reopen -----------------------------------------------------------------


def test_completing_a_customer_task_writes_the_timeline_once(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep)
    contact = ContactFactory(workspace=workspace, owner=rep, account=account)
    task = create(rep, kind="call", contact_id=contact.pk, remind_before_minutes=30)
    done = services.task_complete(actor=rep, workspace=workspace, task_id=task.pk, note="谈妥了")
    assert done.status == TaskStatus.DONE and done.completed_at is not None
    assert done.reminder_state == ""  # a done task is not reminded
    entry = TimelineEntry.objects.in_workspace(workspace).get()
    assert entry.kind == EntryKind.TASK and entry.subtype == "call"
    assert entry.account_id == account.pk and entry.body == "谈妥了"
    assert entry.related_object_key == "activities.task" and entry.related_object_id == task.pk
    assert list(entry.contact_links.values_list("contact_id", flat=True)) == [contact.pk]
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    assert TimelineEntry.objects.in_workspace(workspace).count() == 1
    assert AuditEntry.objects.filter(
        workspace=workspace, action=AuditAction.UPDATE, object_id=str(task.pk)
    ).exists()


def test_a_task_without_a_customer_writes_no_timeline(workspace, rep):
    task = create(rep)
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    assert not TimelineEntry.objects.in_workspace(workspace).exists()


def test_cancel_and_reopen(workspace, rep):
    task = create(rep, remind_before_minutes=30)
    task = services.task_cancel(actor=rep, workspace=workspace, task_id=task.pk)
    assert task.status == TaskStatus.CANCELLED and task.reminder_state == ""
    task = services.task_reopen(actor=rep, workspace=workspace, task_id=task.pk)
    assert task.status == TaskStatus.OPEN and task.reminder_state == ReminderState.PENDING
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    with pytest.raises(ApplicationError) as exc:
        services.task_cancel(actor=rep, workspace=workspace, task_id=task.pk)
    assert exc.value.status == 409


def test_bulk_complete_is_all_or_nothing(workspace, rep, manager):
    a, b = create(rep), create(rep)
    foreign = create(manager)
    with pytest.raises(ApplicationError):
        services.tasks_complete(actor=rep, workspace=workspace, task_ids=[a.pk, foreign.pk])
    assert Task.objects.in_workspace(workspace).filter(status=TaskStatus.DONE).count() == 0
    assert services.tasks_complete(actor=rep, workspace=workspace, task_ids=[a.pk, b.pk]) == 2


# --- recurrence -----------------------------------------------------------------------------------


def _next(task):
    return Task.objects.in_workspace(task.workspace_id).filter(previous=task).first()


def test_completing_a_recurring_task_creates_the_next_once(workspace, rep):
    due = soon(3)
    task = create(rep, due_at=due, recurrence="weekly", remind_before_minutes=15)
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    follow = _next(task)
    assert follow.due_at.astimezone(SHANGHAI) == (due + dt.timedelta(days=7)).astimezone(SHANGHAI)
    assert follow.remind_at == follow.due_at - dt.timedelta(minutes=15)
    assert follow.reminder_state == ReminderState.PENDING and follow.status == TaskStatus.OPEN
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    services.task_reopen(actor=rep, workspace=workspace, task_id=task.pk)
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    assert Task.objects.in_workspace(workspace).count() == 2


def test_recurrence_until_ends_the_series(workspace, rep):
    due = soon(3)
    until = due.astimezone(SHANGHAI).date() + dt.timedelta(days=3)
    task = create(rep, due_at=due, recurrence="weekly", recurrence_until=until)
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    assert _next(task) is None


def test_monthly_on_the_31st_keeps_the_month_end(workspace, rep):
    due = dt.datetime(2099, 1, 31, 10, 0, tzinfo=SHANGHAI)
    task = create(rep, due_at=due, recurrence="monthly", recurrence_interval=1)
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    feb = _next(task)
    assert feb.due_at.astimezone(SHANGHAI) == dt.datetime(2099, 2, 28, 10, 0, tzinfo=SHANGHAI)
    services.task_complete(actor=rep, workspace=workspace, task_id=feb.pk)
    # The last day of a month stays the last day: February's 28th does not drag March back.
    assert _next(feb).due_at.astimezone(SHANGHAI).date() == dt.date(2099, 3, 31)


@pytest.mark.parametrize(
    "recurrence, interval, days",
    [("daily", 2, 2), ("weekly", 1, 7), ("quarterly", 1, 91), ("yearly", 1, 365)],
)
def test_recurrence_steps(workspace, rep, recurrence, interval, days):
    due = dt.datetime(2099, 4, 1, 9, 0, tzinfo=SHANGHAI)
    task = create(rep, due_at=due, recurrence=recurrence, recurrence_interval=interval)
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    assert (_next(task).due_at - task.due_at).days == days


def test_an_overdue_daily_task_continues_from_today(workspace, rep):
    task = create(rep, recurrence="daily")
    Task.objects.in_workspace(workspace).filter(pk=task.pk).update(
        due_at=timezone.now() - dt.timedelta(days=5)
    )
    services.task_complete(actor=rep, workspace=workspace, task_id=task.pk)
    today = timezone.now().astimezone(SHANGHAI).date()
    assert _next(task).due_at.astimezone(SHANGHAI).date() == today
