"""Commitments: making one (who, what, to whom, by when), changing it, closing it kept,
broken or cancelled — each making and closing on the timeline, every change audited."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities.models import Commitment, TimelineEntry
from guanxi.activities.selectors.commitments import commitment_list, open_by_promiser
from guanxi.activities.services.commitments import (
    commitment_close,
    commitment_create,
    commitment_update,
)
from guanxi.activities.services.timeline import entry_log
from guanxi.activities.timeline_display import headline
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import TeamFactory, UserFactory


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace, name="华东销售组")


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_rep", full_name="王伟", team=team)


@pytest.fixture
def manager(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_manager", full_name="李娜", team=team)


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(workspace=workspace, owner=rep)


@pytest.fixture
def contact(workspace, rep, account):
    return ContactFactory(workspace=workspace, owner=rep, account=account)


def soon(days=3):
    return timezone.localdate() + dt.timedelta(days=days)


def entries(workspace):
    return list(TimelineEntry.objects.in_workspace(workspace).order_by("id"))


def test_make_a_promise_to_a_contact(workspace, rep, account, contact):
    promise = commitment_create(
        actor=rep, workspace=workspace, text="周五前送样品", due_date=soon(), contact_id=contact.pk
    )
    assert promise.promised_by == rep and promise.created_by == rep
    assert promise.contact == contact and promise.account == account  # the contact's account
    assert promise.status == "open"
    (entry,) = entries(workspace)
    assert (entry.kind, entry.subtype, entry.subject) == ("commitment", "made", "周五前送样品")
    assert entry.account == account and list(entry.contacts.all()) == [contact]
    assert entry.data["commitment_id"] == promise.pk
    assert headline(entry) == "王伟 promised"
    assert AuditEntry.objects.filter(
        workspace=workspace, object_key="activities.commitment", action="create"
    ).exists()


def test_a_promise_needs_words_a_customer_and_no_past_date(workspace, rep, account):
    cases = [
        ({"text": "", "account_id": account.pk}, "text", "what was promised"),
        ({"text": "x", "account_id": account.pk, "due_date": soon(-1)}, "due_date", "past"),
        ({"text": "x", "account_id": account.pk, "due_date": "31/12"}, "due_date", "YYYY-MM-DD"),
        ({"text": "x"}, "contact_id", "contact or the account"),
        ({"text": "x" * 2001, "account_id": account.pk}, "text", "2000"),
    ]
    for values, field, words in cases:
        with pytest.raises(ApplicationError) as caught:
            commitment_create(actor=rep, workspace=workspace, **values)
        assert field in caught.value.fields
        assert words in " ".join(str(m) for m in caught.value.fields[field])
    assert not Commitment.objects.in_workspace(workspace).exists()
    assert not entries(workspace)
    today = commitment_create(
        actor=rep, workspace=workspace, text="今天", account_id=account.pk, due_date=soon(0)
    )
    assert today.due_date == timezone.localdate()


def test_only_a_manager_records_for_someone_else(workspace, rep, manager, account):
    other = UserFactory(workspace=workspace, role_code="sales_rep")
    with pytest.raises(PermissionDenied):
        commitment_create(
            actor=rep, workspace=workspace, text="x", account_id=account.pk, promised_by_id=other.pk
        )
    promise = commitment_create(
        actor=manager,
        workspace=workspace,
        text="下周安排技术交流",
        account_id=account.pk,
        promised_by_id=rep.pk,
    )
    assert promise.promised_by == rep and promise.created_by == manager
    other.is_active = False
    other.save()
    with pytest.raises(ApplicationError) as caught:
        commitment_create(
            actor=manager,
            workspace=workspace,
            text="x",
            account_id=account.pk,
            promised_by_id=other.pk,
        )
    assert "promised_by_id" in caught.value.fields


def test_foreign_and_hidden_customers_are_not_found(workspace, other_workspace, rep):
    foreign = AccountFactory(workspace=other_workspace)
    with pytest.raises(NotFound):
        commitment_create(actor=rep, workspace=workspace, text="x", account_id=foreign.pk)
    colleague = UserFactory(workspace=workspace, role_code="sales_rep")
    hidden = ContactFactory(workspace=workspace, owner=colleague)
    with pytest.raises(NotFound):
        commitment_create(actor=rep, workspace=workspace, text="x", contact_id=hidden.pk)


def test_close_kept_broken_cancelled(workspace, rep, account):
    made = [
        commitment_create(actor=rep, workspace=workspace, text=f"承诺{i}", account_id=account.pk)
        for i in range(3)
    ]
    for promise, status in zip(made, ["kept", "broken", "cancelled"], strict=True):
        closed = commitment_close(
            actor=rep,
            workspace=workspace,
            commitment_id=promise.pk,
            status=status,
            resolution="已完成",
        )
        assert closed.status == status and closed.closed_at is not None
    subtypes = [e.subtype for e in entries(workspace)]
    assert subtypes == ["made", "made", "made", "kept", "broken", "cancelled"]
    assert [headline(e) for e in entries(workspace)[3:]] == [
        "Promise kept",
        "Promise broken",
        "Promise cancelled",
    ]
    assert entries(workspace)[3].body == "已完成"
    with pytest.raises(Conflict):
        commitment_close(actor=rep, workspace=workspace, commitment_id=made[0].pk, status="broken")
    with pytest.raises(Conflict):
        commitment_update(actor=rep, workspace=workspace, commitment_id=made[0].pk, text="y")
    updates = AuditEntry.objects.filter(
        workspace=workspace, object_key="activities.commitment", action="update"
    )
    assert updates.count() == 3


def test_close_refuses_other_statuses(workspace, rep, account):
    promise = commitment_create(actor=rep, workspace=workspace, text="x", account_id=account.pk)
    for status in ("open", "done", ""):
        with pytest.raises(ApplicationError) as caught:
            commitment_close(
                actor=rep, workspace=workspace, commitment_id=promise.pk, status=status
            )
        assert "status" in caught.value.fields
    promise.refresh_from_db()
    assert promise.status == "open"


def test_update_text_date_and_promiser(workspace, rep, manager, account, contact):
    promise = commitment_create(actor=rep, workspace=workspace, text="x", account_id=account.pk)
    changed = commitment_update(
        actor=rep,
        workspace=workspace,
        commitment_id=promise.pk,
        text="月底前完成安装",
        due_date=soon(10),
        contact_id=contact.pk,
    )
    assert (changed.text, changed.due_date, changed.contact) == (
        "月底前完成安装",
        soon(10),
        contact,
    )
    with pytest.raises(ApplicationError):
        commitment_update(
            actor=rep, workspace=workspace, commitment_id=promise.pk, due_date=soon(-2)
        )
    with pytest.raises(ApplicationError):
        commitment_update(actor=rep, workspace=workspace, commitment_id=promise.pk, status="kept")
    with pytest.raises(PermissionDenied):
        commitment_update(
            actor=rep, workspace=workspace, commitment_id=promise.pk, promised_by_id=manager.pk
        )
    commitment_update(
        actor=manager, workspace=workspace, commitment_id=promise.pk, promised_by_id=manager.pk
    )
    promise.refresh_from_db()
    assert promise.promised_by == manager
    assert len(entries(workspace)) == 1  # only making and closing are timeline events


def test_another_workspace_cannot_touch_it(workspace, rep, account, other_admin):
    promise = commitment_create(actor=rep, workspace=workspace, text="x", account_id=account.pk)
    for call in (
        lambda: commitment_close(
            actor=other_admin,
            workspace=other_admin.workspace,
            commitment_id=promise.pk,
            status="kept",
        ),
        lambda: commitment_update(
            actor=other_admin, workspace=other_admin.workspace, commitment_id=promise.pk, text="y"
        ),
    ):
        with pytest.raises(NotFound):
            call()
    assert not commitment_list(workspace=other_admin.workspace, actor=other_admin).exists()


def test_open_commitments_grouped_by_who_promised(workspace, rep, manager, account):
    third = UserFactory(workspace=workspace, role_code="sales_rep", full_name="张敏", team=rep.team)
    commitment_create(
        actor=manager, workspace=workspace, text="A", account_id=account.pk, promised_by_id=rep.pk
    )
    late = Commitment.objects.create(
        workspace=workspace,
        account=account,
        promised_by=rep,
        text="上周就该发的",
        due_date=soon(-3),
    )
    commitment_create(
        actor=manager, workspace=workspace, text="B", account_id=account.pk, due_date=soon(1)
    )
    commitment_create(
        actor=manager,
        workspace=workspace,
        text="C",
        account_id=account.pk,
        promised_by_id=third.pk,
    )
    kept = commitment_create(
        actor=manager, workspace=workspace, text="D", account_id=account.pk, promised_by_id=third.pk
    )
    commitment_close(actor=manager, workspace=workspace, commitment_id=kept.pk, status="kept")
    groups = open_by_promiser(workspace=workspace, actor=manager, account=account)
    by_name = {g.user.full_name: [c.text for c in g.items] for g in groups}
    assert by_name == {"王伟": ["上周就该发的", "A"], "李娜": ["B"], "张敏": ["C"]}
    rep_group = next(g for g in groups if g.user == rep)
    assert rep_group.overdue == 1 and rep_group.items[0].pk == late.pk


def test_a_promise_from_the_log_form_at_once(workspace, rep, account):
    entry = entry_log(
        actor=rep,
        workspace=workspace,
        kind="meeting",
        occurred_at=timezone.now(),
        account_id=account.pk,
        commitment_text="三天内给出方案",
        commitment_due=soon(3),
    )
    promise = Commitment.objects.in_workspace(workspace).get()
    assert promise.source_entry_id == entry.pk
    again = commitment_create(
        actor=rep,
        workspace=workspace,
        text="再补充一个",
        account_id=account.pk,
        source_entry_id=entry.pk,
    )
    assert again.source_entry_id == entry.pk
    with pytest.raises(ApplicationError) as caught:
        commitment_create(
            actor=rep, workspace=workspace, text="x", account_id=account.pk, source_entry_id=999999
        )
    assert "source_entry_id" in caught.value.fields
