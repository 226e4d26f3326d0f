"""Logging activities (each validation rule, rights, visibility, audit, "last activity"),
and the one insert path ``record_entry``."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities.models import EntryContact, TimelineEntry
from guanxi.activities.services.timeline import entry_log, record_entry
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.models import Account, Contact, PoolSettings
from guanxi.customers.services import pool
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep")


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(workspace=workspace, owner=rep)


@pytest.fixture
def contact(workspace, rep, account):
    return ContactFactory(workspace=workspace, owner=rep, account=account)


def log(rep, **kwargs):
    values = {
        "actor": rep,
        "workspace": rep.workspace,
        "kind": "call",
        "occurred_at": timezone.now() - dt.timedelta(minutes=10),
        "direction": "out",
    }
    values.update(kwargs)
    return entry_log(**values)


def refused(rep, field, **kwargs) -> str:
    """Log with bad input: refused on ``field``, nothing written; the message."""
    before = TimelineEntry.objects.in_workspace(rep.workspace).count()
    with pytest.raises(ApplicationError) as caught:
        log(rep, **kwargs)
    assert field in caught.value.fields, caught.value.fields
    assert TimelineEntry.objects.in_workspace(rep.workspace).count() == before
    return " ".join(str(m) for m in caught.value.fields[field])


def test_a_call_is_logged_with_its_facts_audited_and_on_both_timelines(rep, account, contact):
    entry = log(
        rep,
        account_id=account.pk,
        contact_ids=[contact.pk],
        outcome="connected",
        duration_seconds=300,
        subject="报价跟进",
        body="客户要下周再谈",
    )
    assert (entry.kind, entry.direction, entry.outcome, entry.duration_seconds) == (
        "call",
        "out",
        "connected",
        300,
    )
    assert entry.channel == "phone" and entry.author == rep and entry.account == account
    assert list(entry.contacts.all()) == [contact]
    link = EntryContact.objects.in_workspace(rep.workspace).get(entry=entry)
    assert link.occurred_at == entry.occurred_at
    audit = AuditEntry.objects.filter(
        workspace=rep.workspace, object_key="activities.entry", object_id=str(entry.pk)
    ).get()
    assert audit.action == "create" and audit.actor == rep


def test_a_contact_alone_puts_the_entry_on_its_primary_account(rep, account, contact):
    entry = log(rep, kind="note", body="生日快乐", contact_ids=[contact.pk], direction="")
    assert entry.account_id == account.pk


def test_contacts_need_not_belong_to_the_account(workspace, rep, account):
    stranger = ContactFactory(workspace=workspace, owner=rep)
    entry = log(rep, kind="meeting", account_id=account.pk, contact_ids=[stranger.pk])
    assert entry.account_id == account.pk and list(entry.contacts.all()) == [stranger]


@pytest.mark.parametrize("kind", ["system", "task", "commitment", "fax", ""])
def test_only_what_a_user_may_log(rep, account, kind):
    message = refused(rep, "kind", kind=kind, account_id=account.pk)
    assert "call, e-mail, SMS, meeting, visit or note" in message


def test_a_visit_needs_one_of_the_five_means(rep, account):
    message = refused(rep, "subtype", kind="visit", account_id=account.pk, direction="")
    assert "Company visit" in message and "Management research" in message
    refused(rep, "subtype", kind="visit", account_id=account.pk, subtype="lunch")
    entry = log(rep, kind="visit", subtype="technical_exchange", account_id=account.pk)
    assert entry.subtype == "technical_exchange" and entry.channel == "in_person"


def test_a_call_needs_a_direction_and_a_known_outcome(rep, account):
    assert "inbound or outbound" in refused(rep, "direction", account_id=account.pk, direction="")
    assert "inbound or outbound" in refused(
        rep, "direction", account_id=account.pk, direction="sideways"
    )
    assert "call outcomes" in refused(rep, "outcome", account_id=account.pk, outcome="happy")


@pytest.mark.parametrize("seconds", [-1, 24 * 3600 + 1, "long"])
def test_a_duration_lies_between_0_and_24_hours(rep, account, seconds):
    message = refused(rep, "duration_seconds", account_id=account.pk, duration_seconds=seconds)
    assert "24 hours" in message or "whole number" in message


def test_the_duration_bounds_are_allowed(rep, account):
    assert log(rep, account_id=account.pk, duration_seconds=0).duration_seconds == 0
    assert log(rep, account_id=account.pk, duration_seconds=86400).duration_seconds == 86400


def test_the_time_is_not_in_the_future_and_not_before_1970(rep, account):
    soon = timezone.now() + dt.timedelta(minutes=4)
    assert log(rep, account_id=account.pk, occurred_at=soon).occurred_at == soon
    later = timezone.now() + dt.timedelta(minutes=6)
    assert "future" in refused(rep, "occurred_at", account_id=account.pk, occurred_at=later)
    old = dt.datetime(1969, 12, 31, 23, 0, tzinfo=dt.UTC)
    assert "1970" in refused(rep, "occurred_at", account_id=account.pk, occurred_at=old)
    assert "Enter when" in refused(rep, "occurred_at", account_id=account.pk, occurred_at=None)
    assert "date and time" in refused(
        rep, "occurred_at", account_id=account.pk, occurred_at="yesterday-ish"
    )


def test_an_iso_string_time_is_read(rep, account):
    entry = log(rep, account_id=account.pk, occurred_at="2024-03-01T09:30:00+08:00")
    assert entry.occurred_at == dt.datetime(2024, 3, 1, 1, 30, tzinfo=dt.UTC)


def test_a_customer_is_required(rep):
    assert "account or at least one contact" in refused(rep, "account_id")


def test_a_note_needs_words_and_text_has_limits(rep, account):
    assert "Write the note" in refused(rep, "body", kind="note", account_id=account.pk)
    refused(rep, "subject", account_id=account.pk, subject="x" * 201)
    refused(rep, "body", account_id=account.pk, body="bad\x00text")
    refused(rep, "channel", account_id=account.pk, channel="system")
    refused(rep, "channel", account_id=account.pk, channel="pigeon")


def test_several_bad_fields_are_reported_at_once(rep):
    with pytest.raises(ApplicationError) as caught:
        log(rep, kind="visit", occurred_at=None, duration_seconds=-5)
    assert {"subtype", "occurred_at", "duration_seconds", "account_id"} <= set(caught.value.fields)
    assert str(caught.value.message) == "Some fields are not valid."


def test_customers_of_another_workspace_or_hidden_ones_are_not_found(
    workspace, rep, other_workspace
):
    foreign = AccountFactory(workspace=other_workspace)
    with pytest.raises(NotFound):
        log(rep, account_id=foreign.pk)
    foreign_contact = ContactFactory(workspace=other_workspace)
    with pytest.raises(NotFound):
        log(rep, contact_ids=[foreign_contact.pk])
    colleague = UserFactory(workspace=workspace, role_code="sales_rep")
    hidden = AccountFactory(workspace=workspace, owner=colleague)  # reps see their own only
    with pytest.raises(NotFound):
        log(rep, account_id=hidden.pk)
    with pytest.raises(NotFound):
        log(rep, account_id="abc")
    assert not TimelineEntry.objects.in_workspace(workspace).exists()


def test_the_create_right_is_required_and_the_denial_audited(workspace, account):
    viewer = UserFactory(workspace=workspace, role_code="read_only")
    with pytest.raises(PermissionDenied):
        log(viewer, account_id=account.pk)
    assert AuditEntry.objects.filter(
        workspace=workspace, actor=viewer, action="permission_denied"
    ).exists()


def test_logging_touches_the_customer_for_the_pool_rule(workspace, rep, account):
    """The pool returns customers untouched for N days; a logged call touches them."""
    PoolSettings.objects.create(workspace=workspace, return_after_days=30)
    long_ago = timezone.now() - dt.timedelta(days=90)
    Account.objects.in_workspace(workspace).filter(pk=account.pk).update(owned_since=long_ago)
    individual = ContactFactory(workspace=workspace, owner=rep)
    Contact.objects.in_workspace(workspace).filter(pk=individual.pk).update(owned_since=long_ago)
    log(rep, account_id=account.pk, occurred_at=timezone.now() - dt.timedelta(days=2))
    log(rep, kind="note", body="x", contact_ids=[individual.pk], direction="")
    result = pool.pool_return_sweep(workspace=workspace)
    assert result.returned_inactive == 0
    account.refresh_from_db()
    assert account.owner == rep and account.last_activity_at is not None


def test_an_older_activity_does_not_move_last_activity_back(rep, account):
    recent = log(rep, account_id=account.pk, occurred_at=timezone.now() - dt.timedelta(hours=1))
    log(rep, account_id=account.pk, occurred_at=timezone.now() - dt.timedelta(days=20))
    account.refresh_from_db()
    assert account.last_activity_at == recent.occurred_at


def test_system_entries_do_not_count_as_activity(workspace, account):
    record_entry(workspace=workspace, author=None, kind="system", subtype="merge", account=account)
    account.refresh_from_db()
    assert account.last_activity_at is None


def test_a_promise_made_in_the_activity_is_linked_to_it(rep, account, contact):
    due = timezone.localdate() + dt.timedelta(days=7)
    entry = log(
        rep,
        account_id=account.pk,
        contact_ids=[contact.pk],
        commitment_text="下周一前发报价单",
        commitment_due=due,
    )
    from guanxi.activities.models import Commitment

    promise = Commitment.objects.in_workspace(rep.workspace).get()
    assert promise.source_entry == entry and promise.promised_by == rep
    assert promise.contact == contact and promise.account == account and promise.due_date == due
    kinds = list(
        TimelineEntry.objects.in_workspace(rep.workspace)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["call", "commitment"]


def test_a_bad_promise_writes_nothing_not_even_the_activity(rep, account):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    message = refused(
        rep, "due_date", account_id=account.pk, commitment_text="送样品", commitment_due=yesterday
    )
    assert "past" in message
    refused(rep, "commitment_text", account_id=account.pk, commitment_due=timezone.localdate())
