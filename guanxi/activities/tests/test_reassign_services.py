# ruff: noqa: F811  (the shared fixtures are imported by name, and pytest passes them in)
"""Reassignment services: the preview, each mode, the all-or-nothing validation, resuming an
interrupted job, history kept, notifications, deactivation and who may do it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.activities.models import Notification, TimelineEntry
from guanxi.activities.services import reassign
from guanxi.activities.services.timeline import record_entry
from guanxi.activities.tests.factories import TaskFactory
from guanxi.activities.tests.test_reassign_support import (  # noqa: F401
    book_of,
    leaver,
    manager_a,
    manager_b,
    open_commitments,
    open_tasks,
    rep_a1,
    rep_a2,
    rep_b,
    run,
    team_a,
    team_b,
)
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.models import Account, Contact, PoolEvent, PoolSettings
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import AuditEntry, JobState
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def start(actor, leaver, **kwargs):
    return reassign.reassign_start(
        actor=actor, workspace=actor.workspace, from_user_id=leaver.pk, **kwargs
    )


def owned(workspace, user):
    return (
        Account.objects.in_workspace(workspace).filter(owner=user).count(),
        Contact.objects.in_workspace(workspace).filter(owner=user).count(),
    )


# --- preview --------------------------------------------------------------------------------------


def test_preview_counts_what_the_person_holds(workspace, admin_user, leaver):
    book_of(workspace, leaver, accounts=3, contacts_each=2, individuals=1)
    held = reassign.reassign_preview(actor=admin_user, workspace=workspace, from_user_id=leaver.pk)
    assert (held.accounts, held.contacts, held.individuals) == (3, 7, 1)
    assert held.customers == 4
    assert (held.tasks, held.visit_tasks, held.commitments) == (5, 1, 3)
    assert held.visit_plans == 0


def test_preview_runs_a_fixed_number_of_queries(workspace, admin_user, leaver):
    book_of(workspace, leaver, accounts=1)
    with CaptureQueriesContext(connection) as small:
        reassign.reassign_preview(actor=admin_user, workspace=workspace, from_user_id=leaver.pk)
    book_of(workspace, leaver, accounts=20, individuals=10)
    with CaptureQueriesContext(connection) as large:
        reassign.reassign_preview(actor=admin_user, workspace=workspace, from_user_id=leaver.pk)
    assert len(small) == len(large) <= 7


# --- mode: one person -----------------------------------------------------------------------------


def test_everything_to_one_person(workspace, admin_user, leaver, rep_a1):
    book = book_of(workspace, leaver)
    job = run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk))
    assert job.state == JobState.SUCCEEDED, job.error
    assert owned(workspace, leaver) == (0, 0)
    assert owned(workspace, rep_a1) == (3, 7)
    assert open_tasks(workspace, leaver).count() == 0
    assert open_tasks(workspace, rep_a1).count() == 5
    assert open_commitments(workspace, rep_a1).count() == 3
    # Done work is history and stays.
    assert (
        TaskFactory._meta.model.objects.in_workspace(workspace)
        .filter(assignee=leaver, status="done")
        .count()
        == 1
    )
    (receiver,) = job.result["receivers"]
    assert receiver == {
        "user_id": rep_a1.pk,
        "name": "李娜",
        "customers": 4,
        "accounts": 3,
        "contacts": 7,
        "tasks": 5,
        "visit_tasks": 1,
        "commitments": 3,
    }
    assert job.result["url"].endswith(f"/reassign/jobs/{job.pk}/")
    # The pool's own records of each move: a pool event per customer record.
    events = PoolEvent.objects.in_workspace(workspace).filter(from_owner=leaver, to_owner=rep_a1)
    assert events.count() == 3 + 7
    assert book["accounts"][0].pk in set(events.values_list("account_id", flat=True))


def test_one_reassigned_entry_per_customer_with_from_and_to(workspace, admin_user, leaver, rep_a1):
    book = book_of(workspace, leaver, accounts=2, contacts_each=1, individuals=1)
    run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk))
    entries = TimelineEntry.objects.in_workspace(workspace).filter(
        kind="system", subtype="reassigned"
    )
    assert entries.count() == 3  # two accounts, one individual customer
    first = entries.get(account=book["accounts"][0])
    assert first.author_id == admin_user.pk
    assert first.data["from"] == {"id": leaver.pk, "name": "王伟"}
    assert first.data["to"] == {"id": rep_a1.pk, "name": "李娜"}
    assert first.data["counts"] == {
        "account": 1,
        "contacts": 1,
        "tasks": 2,
        "visit_tasks": 1,
        "commitments": 1,
    }
    assert first.subject == "王伟 → 李娜"
    # The account's contact sees the entry on their own timeline too.
    assert set(first.contacts.values_list("pk", flat=True)) == {book["contacts"][0].pk}


def test_commitments_keep_their_original_promiser_in_audit_and_timeline(
    workspace, admin_user, leaver, rep_a1
):
    book = book_of(workspace, leaver, accounts=1, contacts_each=0, individuals=0)
    commitment = book["commitments"][0]
    run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk))
    commitment.refresh_from_db()
    assert commitment.promised_by_id == rep_a1.pk
    row = AuditEntry.objects.filter(
        workspace=workspace, object_key="activities.commitment", object_id=str(commitment.pk)
    ).get()
    assert row.changes["promised_by"] == [
        {"id": leaver.pk, "label": "王伟"},
        {"id": rep_a1.pk, "label": "李娜"},
    ]
    entry = TimelineEntry.objects.in_workspace(workspace).get(subtype="reassigned")
    assert entry.data["commitments_promised_by"]["id"] == leaver.pk


def test_the_history_of_a_moved_customer_stays_with_its_authors(
    workspace, admin_user, leaver, rep_a1, rep_a2
):
    account = AccountFactory(workspace=workspace, owner=leaver)
    earlier = [
        record_entry(
            workspace=workspace, author=leaver, kind="call", account=account, subject="初次电话"
        ),
        record_entry(
            workspace=workspace, author=rep_a2, kind="note", account=account, subject="协访"
        ),
    ]
    run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk))
    timeline = TimelineEntry.objects.in_workspace(workspace).filter(account=account)
    authors = dict(timeline.exclude(kind="system").values_list("subject", "author_id"))
    assert authors == {"初次电话": leaver.pk, "协访": rep_a2.pk}
    assert set(timeline.values_list("pk", flat=True)) >= {e.pk for e in earlier}
    assert timeline.filter(subtype="reassigned").count() == 1


def test_receivers_are_notified_in_their_language(workspace, admin_user, leaver, rep_a1):
    rep_a1.language = "zh-hans"
    rep_a1.save()
    book_of(workspace, leaver, accounts=2, individuals=0)
    run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk))
    note = Notification.objects.in_workspace(workspace).get(user=rep_a1)
    assert "王伟" in note.title and "2" in note.title
    assert note.url.endswith(f"?f_owner={rep_a1.pk}")
    assert not Notification.objects.in_workspace(workspace).filter(user=leaver).exists()


def test_english_notification_names_customers_and_work(workspace, admin_user, leaver, rep_a1):
    rep_a1.language = "en"
    rep_a1.save()
    book_of(workspace, leaver, accounts=2, contacts_each=1, individuals=0)
    run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk))
    note = Notification.objects.in_workspace(workspace).get(user=rep_a1)
    assert note.title == "You received 2 customers from 王伟"
    assert note.body == "2 contacts, 3 open tasks, 1 of them a visit, 2 open commitments"


# --- mode: team -----------------------------------------------------------------------------------


def test_team_spreads_by_load_and_keeps_each_customer_together(
    workspace, admin_user, leaver, rep_a1, rep_a2, team_a
):
    AccountFactory.create_batch(3, workspace=workspace, owner=rep_a1)  # already busy
    book = book_of(workspace, leaver, accounts=5, contacts_each=1, individuals=0)
    job = run(start(admin_user, leaver, mode="team", team_id=team_a.pk))
    assert job.state == JobState.SUCCEEDED, job.error
    # 刘洋 starts empty, 李娜 with 3: the five go 4 (刘洋) + 1 (李娜) — loads end 4 and 4.
    assert owned(workspace, rep_a2)[0] == 4
    assert owned(workspace, rep_a1)[0] == 3 + 1
    for account in book["accounts"]:
        account.refresh_from_db()
        owner = account.owner_id
        contacts = Contact.objects.in_workspace(workspace).filter(account=account)
        assert set(contacts.values_list("owner_id", flat=True)) == {owner}
        tasks = TaskFactory._meta.model.objects.in_workspace(workspace).filter(
            account=account, status="open"
        )
        assert set(tasks.values_list("assignee_id", flat=True)) == {owner}
        commitments = open_commitments(workspace, owner).filter(account=account)
        assert commitments.count() == 1
    names = {r["name"]: r["customers"] for r in job.result["receivers"]}
    assert names == {"刘洋": 4, "李娜": 1}


def test_team_skips_the_leaver_and_inactive_members(workspace, admin_user, leaver, rep_a1, team_a):
    UserFactory(workspace=workspace, team=team_a, is_active=False)
    book_of(workspace, leaver, accounts=2)
    job = run(start(admin_user, leaver, mode="team", team_id=team_a.pk))
    assert [r["user_id"] for r in job.result["receivers"]] == [rep_a1.pk]


def test_a_team_without_active_members_is_refused(workspace, admin_user, leaver, team_b):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(ApplicationError) as exc:
        start(admin_user, leaver, mode="team", team_id=team_b.pk)
    assert "team_id" in exc.value.fields
    assert "no active members" in str(exc.value.message)


# --- mode: pool -----------------------------------------------------------------------------------


def test_pool_returns_customers_and_gives_the_work_to_the_manager(workspace, leaver, manager_a):
    book_of(workspace, leaver, accounts=2, individuals=1)
    job = run(start(manager_a, leaver, mode="pool"))
    assert job.state == JobState.SUCCEEDED, job.error
    assert Account.objects.in_workspace(workspace).filter(owner__isnull=True).count() == 2
    assert owned(workspace, leaver) == (0, 0)
    assert open_tasks(workspace, manager_a).count() == 4
    assert open_commitments(workspace, manager_a).count() == 2
    by = {r["user_id"]: r for r in job.result["receivers"]}
    assert by[None]["customers"] == 3 and by[None]["tasks"] == 0
    assert by[manager_a.pk]["tasks"] == 4 and by[manager_a.pk]["customers"] == 0
    entry = TimelineEntry.objects.in_workspace(workspace).filter(subtype="reassigned").first()
    assert entry.data["to"] is None and entry.data["work_to"]["id"] == manager_a.pk


def test_pool_can_hand_the_work_to_a_chosen_person(workspace, admin_user, leaver, rep_a2):
    rep_a2.language = "en"
    rep_a2.save()
    book_of(workspace, leaver, accounts=1, individuals=0)
    run(start(admin_user, leaver, mode="pool", tasks_to_user_id=rep_a2.pk))
    assert open_tasks(workspace, rep_a2).count() == 2
    note = Notification.objects.in_workspace(workspace).get(user=rep_a2)
    assert note.title.startswith("You received 2 open tasks")
    # A rep may not see the job page: the note leads to their tasks.
    assert note.url == reverse("activities:task_list")


def test_only_tasks(workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=2, individuals=0)
    job = run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk, include=["tasks"]))
    assert owned(workspace, leaver)[0] == 2
    assert open_tasks(workspace, rep_a1).count() == 3
    assert open_commitments(workspace, leaver).count() == 2
    assert job.result["totals"]["customers"] == 0


# --- validation: all or nothing -------------------------------------------------------------------


def nothing_started(workspace):
    from guanxi.platform.models import Job

    return not Job.objects.in_workspace(workspace).filter(kind=reassign.JOB_KIND).exists()


def test_from_and_to_must_differ(workspace, admin_user, leaver):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(ApplicationError) as exc:
        start(admin_user, leaver, mode="one", to_user_id=leaver.pk)
    assert "to_user_id" in exc.value.fields
    assert nothing_started(workspace)


def test_an_inactive_target_is_refused(workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    rep_a1.is_active = False
    rep_a1.save()
    with pytest.raises(ApplicationError) as exc:
        start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk)
    assert "deactivated" in str(exc.value.fields["to_user_id"][0])
    assert nothing_started(workspace)


def test_a_target_of_another_workspace_is_refused(workspace, admin_user, leaver, other_admin):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(ApplicationError) as exc:
        start(admin_user, leaver, mode="one", to_user_id=other_admin.pk)
    assert "to_user_id" in exc.value.fields


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"mode": "everyone"}, "mode"),
        ({"mode": "one"}, "to_user_id"),
        ({"mode": "one", "to_user_id": "abc"}, "to_user_id"),
        ({"mode": "team"}, "team_id"),
        ({"mode": "team", "team_id": 999999}, "team_id"),
        ({"mode": "pool", "include": []}, "include"),
        ({"mode": "pool", "include": ["deals"]}, "include"),
    ],
)
def test_bad_choices_are_field_errors(workspace, admin_user, leaver, kwargs, field):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(ApplicationError) as exc:
        start(admin_user, leaver, **kwargs)
    assert field in exc.value.fields
    assert nothing_started(workspace)


def test_a_plan_over_the_cap_is_refused_whole(workspace, admin_user, leaver, rep_a1):
    PoolSettings.objects.create(workspace=workspace, max_per_rep=4)
    AccountFactory.create_batch(2, workspace=workspace, owner=rep_a1)
    book_of(workspace, leaver, accounts=3, individuals=0)
    with pytest.raises(Conflict) as exc:
        start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk)
    assert exc.value.code == "pool_cap_reached"
    assert "李娜 holds 2 customers and would receive 3 more" in str(exc.value.message)
    assert owned(workspace, leaver)[0] == 3
    assert nothing_started(workspace)


def test_a_team_plan_over_the_cap_is_refused_and_under_it_respected(
    workspace, admin_user, leaver, rep_a1, rep_a2, team_a
):
    PoolSettings.objects.create(workspace=workspace, max_per_rep=3)
    AccountFactory.create_batch(3, workspace=workspace, owner=rep_a1)  # full
    book_of(workspace, leaver, accounts=4, individuals=0)
    with pytest.raises(Conflict) as exc:
        start(admin_user, leaver, mode="team", team_id=team_a.pk)
    assert "can take 3 more customers" in str(exc.value.message)
    assert nothing_started(workspace)
    gone = Account.objects.in_workspace(workspace).filter(owner=leaver).first()
    Account.objects.in_workspace(workspace).filter(pk=gone.pk).update(owner=None)
    Contact.objects.in_workspace(workspace).filter(account=gone).update(owner=None)
    job = run(start(admin_user, leaver, mode="team", team_id=team_a.pk))
    assert job.state == JobState.SUCCEEDED, job.error
    assert owned(workspace, rep_a2)[0] == 3 and owned(workspace, rep_a1)[0] == 3


def test_nothing_to_move_is_said(workspace, admin_user, leaver, rep_a1):
    with pytest.raises(ApplicationError) as exc:
        start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk)
    assert exc.value.code == "nothing_to_reassign"


def test_a_second_start_while_one_runs_is_refused(workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk)
    with pytest.raises(Conflict) as exc:
        start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk)
    assert exc.value.code == "reassignment_running"


# --- resume ---------------------------------------------------------------------------------------


def test_an_interrupted_job_resumes_without_moving_anything_twice(
    workspace, admin_user, leaver, rep_a1, rep_a2, team_a, monkeypatch
):
    book_of(workspace, leaver, accounts=7, contacts_each=1, individuals=0)
    monkeypatch.setattr(reassign, "BATCH_UNITS", 3)
    real = reassign._move_batch
    calls = []

    def crash_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real(*args, **kwargs)

    monkeypatch.setattr(reassign, "_move_batch", crash_on_second)
    first = run(start(admin_user, leaver, mode="team", team_id=team_a.pk))
    assert first.state == JobState.FAILED
    assert owned(workspace, leaver)[0] == 4  # one batch of three moved, then it died
    monkeypatch.setattr(reassign, "_move_batch", real)

    second = run(reassign.reassign_retry(actor=admin_user, workspace=workspace, job_id=first.pk))
    assert second.state == JobState.SUCCEEDED, second.error
    assert second.params["root"] == first.pk
    assert owned(workspace, leaver) == (0, 0)
    totals = second.result["totals"]
    assert (totals["accounts"], totals["contacts"], totals["tasks"]) == (7, 7, 8)
    assert totals["commitments"] == 7
    # Nothing moved twice: one pool event, one reassigned entry per account.
    assert PoolEvent.objects.in_workspace(workspace).filter(from_owner=leaver).count() == 14
    entries = TimelineEntry.objects.in_workspace(workspace).filter(subtype="reassigned")
    assert entries.count() == 7
    assert entries.values("account_id").distinct().count() == 7
    # One notification per receiver, with the totals of both runs.
    notes = Notification.objects.in_workspace(workspace)
    assert notes.count() == 2
    assert sum(r["customers"] for r in second.result["receivers"]) == 7
    # Retrying the same failed job again returns the same new job.
    with pytest.raises(Conflict):
        reassign.reassign_retry(actor=admin_user, workspace=workspace, job_id=second.pk)


def test_only_a_failed_job_can_be_retried(workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    job = run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk))
    with pytest.raises(Conflict) as exc:
        reassign.reassign_retry(actor=admin_user, workspace=workspace, job_id=job.pk)
    assert exc.value.code == "not_failed"


def test_the_job_moves_only_what_the_leaver_still_holds(
    workspace, admin_user, leaver, rep_a1, rep_a2
):
    book = book_of(workspace, leaver, accounts=2, individuals=0)
    job = start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk)
    # Before the worker runs, a manager gives one account to someone else.
    taken = book["accounts"][1]
    Account.objects.in_workspace(workspace).filter(pk=taken.pk).update(owner=rep_a2)
    job = run(job)
    taken.refresh_from_db()
    assert taken.owner_id == rep_a2.pk
    assert job.result["totals"]["accounts"] == 1


# --- deactivation ---------------------------------------------------------------------------------


def test_deactivate_at_the_end(workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    job = run(start(admin_user, leaver, mode="one", to_user_id=rep_a1.pk, deactivate=True))
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert job.result["deactivated"] is True
    assert (
        AuditEntry.objects.filter(
            workspace=workspace, object_key="platform.user", object_id=str(leaver.pk)
        )
        .filter(changes__has_key="is_active")
        .exists()
    )


def test_only_administrators_deactivate(workspace, manager_a, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(PermissionDenied):
        start(manager_a, leaver, mode="one", to_user_id=rep_a1.pk, deactivate=True)


def test_nobody_deactivates_themselves(workspace, admin_user, rep_a1):
    book_of(workspace, admin_user, accounts=1)
    with pytest.raises(ApplicationError) as exc:
        start(admin_user, admin_user, mode="one", to_user_id=rep_a1.pk, deactivate=True)
    assert "deactivate" in exc.value.fields
    assert nothing_started(workspace)


# --- who may ----------------------------------------------------------------------------------------


def test_a_rep_cannot_reassign(workspace, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(PermissionDenied):
        reassign.reassign_preview(actor=rep_a1, workspace=workspace, from_user_id=leaver.pk)
    with pytest.raises(PermissionDenied):
        start(rep_a1, leaver, mode="one", to_user_id=rep_a1.pk)
    assert AuditEntry.objects.filter(
        workspace=workspace, actor=rep_a1, action="permission_denied"
    ).exists()


def test_a_manager_of_another_team_cannot(workspace, leaver, manager_b, rep_b):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(PermissionDenied) as exc:
        start(manager_b, leaver, mode="one", to_user_id=rep_b.pk)
    assert "王伟 is not in your team" in str(exc.value.message)


def test_a_manager_hands_work_only_to_people_they_manage(
    workspace, leaver, manager_a, rep_b, team_b
):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(ApplicationError) as exc:
        start(manager_a, leaver, mode="one", to_user_id=rep_b.pk)
    assert "to_user_id" in exc.value.fields
    with pytest.raises(ApplicationError) as exc:
        start(manager_a, leaver, mode="team", team_id=team_b.pk)
    assert "team_id" in exc.value.fields


def test_a_manager_of_the_parent_team_can(workspace, team_a, leaver, rep_a1):
    from guanxi.platform.tests.factories import TeamFactory

    parent = TeamFactory(workspace=workspace, name="销售部")
    team_a.parent = parent
    team_a.save()
    from guanxi.platform import services

    services._refresh_paths(team_a)
    leaver.refresh_from_db()
    head = UserFactory(workspace=workspace, role_code="sales_manager", team=parent)
    book_of(workspace, leaver, accounts=1)
    job = run(start(head, leaver, mode="one", to_user_id=rep_a1.pk))
    assert job.state == JobState.SUCCEEDED, job.error


def test_another_workspace_is_not_found(workspace, leaver, other_admin):
    book_of(workspace, leaver, accounts=1)
    with pytest.raises(NotFound):
        reassign.reassign_preview(
            actor=other_admin, workspace=other_admin.workspace, from_user_id=leaver.pk
        )
    with pytest.raises(NotFound):
        reassign.reassign_start(
            actor=other_admin,
            workspace=other_admin.workspace,
            from_user_id=leaver.pk,
            mode="pool",
        )
