"""The case services: opening a case, validation, the status flow, the conversation,
optimistic locking, assignment, the open-complaint flag, audit, events and the timeline, and
the calls into the SLA, routing, channels and surveys contracts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from guanxi.activities.models import Notification, TimelineEntry
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.models import Account, AccountContact, Contact
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory
from guanxi.sales.models import Order, Product
from guanxi.sales.services.setup import ensure_sales_defaults
from guanxi.service.models import (
    Case,
    CaseCategory,
    CaseEvent,
    CaseMessage,
    CaseStatus,
    CaseType,
    CaseTypeKind,
    MessageKind,
    Queue,
)
from guanxi.service.services import (
    case_types,
    cases,
    customer_messages,
    routing,
    sla_clock,
    survey_hooks,
)

from .cases_support import *  # noqa: F403
from .cases_support import case_type, make_case


def _refresh(row):
    row.refresh_from_db()
    return row


# --- set-up ----------------------------------------------------------------------------------


def test_service_setup_makes_the_five_types_once(workspace):
    case_types.service_setup(workspace)
    case_types.service_setup(workspace)
    kinds = list(CaseType.objects.in_workspace(workspace).values_list("kind", flat=True))
    assert sorted(kinds) == sorted(CaseTypeKind.values)
    assert len(kinds) == 5


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_types_are_named_in_the_workspace_language(workspace, language):
    from django.utils import translation

    workspace.language = language
    workspace.save()
    case_types.service_setup(workspace)
    names = set(CaseType.objects.in_workspace(workspace).values_list("name", flat=True))
    with translation.override(language):
        assert str(CaseTypeKind.COMPLAINT.label) in names


# --- create ----------------------------------------------------------------------------------


def test_create_writes_number_event_message_timeline_and_audit(agent, account, contact):
    case = make_case(
        agent, account=account, contact=contact, description="早上开机后一直卡纸", priority=2
    )
    year = timezone.now().year
    assert re.fullmatch(rf"CS-{year}-\d{{6}}", case.number)
    assert case.status == CaseStatus.NEW
    assert case.kind == CaseTypeKind.FAULT
    assert case.priority == 2
    assert case.created_by == agent
    events = list(CaseEvent.objects.in_workspace(agent.workspace).filter(case=case))
    assert [e.kind for e in events] == ["created"]
    assert events[0].note == "phone"
    message = CaseMessage.objects.in_workspace(agent.workspace).get(case=case)
    assert message.kind == MessageKind.INBOUND and message.body == "早上开机后一直卡纸"
    assert message.contact == contact
    entry = TimelineEntry.objects.in_workspace(agent.workspace).get(
        related_object_key="service.case", related_object_id=case.pk
    )
    assert entry.subtype == cases.EVENT_CASE_OPENED
    assert entry.account_id == account.pk
    assert entry.data["number"] == case.number
    assert AuditEntry.objects.filter(
        workspace=agent.workspace, object_key="service.case", object_id=str(case.pk)
    ).exists()
    assert case.number.lower() in case.search_text
    assert "王芳" in case.search_text


def test_numbers_are_a_sequence_per_workspace(agent, other_admin):
    first = make_case(agent)
    second = make_case(agent)
    elsewhere = make_case(other_admin)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    assert elsewhere.number.endswith("000001")


def test_contact_brings_its_account(agent, account, contact):
    case = make_case(agent, contact=contact)
    assert case.account == account


def test_unknown_sender_case_keeps_the_reply_address(service_ws):
    case = make_case(
        None,
        workspace=service_ws,
        channel="email",
        reply_email=" Someone@Example.COM ",
        description="hello",
    )
    assert case.reply_email == "someone@example.com"
    assert case.account is None and case.contact is None
    assert case.created_by is None
    # No customer: nothing on any timeline.
    assert not TimelineEntry.objects.in_workspace(service_ws).exists()


@pytest.mark.parametrize(
    "values,field",
    [
        ({"subject": "x"}, "case_type"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "x", "priority": 0}, "priority"),
        ({"subject": "x", "priority": 5}, "priority"),
        ({"subject": "x", "priority": "urgent"}, "priority"),
        ({"subject": "x", "category": 999999}, "category"),
        ({"subject": "x", "product": 999999}, "product"),
        ({"subject": "x", "order": 999999}, "order"),
        ({"subject": "x", "assignee": 999999}, "assignee"),
        ({"subject": "x", "queue": 999999}, "queue"),
        ({"subject": "x", "status": "open"}, "status"),
    ],
)
def test_create_refuses_bad_values(agent, values, field):
    values = dict(values)
    if field != "case_type":
        values["case_type"] = case_type(agent.workspace).pk
    with pytest.raises(ApplicationError) as caught:
        cases.case_create(actor=agent, workspace=agent.workspace, values=values, channel="phone")
    assert field in caught.value.fields
    assert not Case.objects.in_workspace(agent.workspace).exists()


def test_create_refuses_other_workspaces_rows(agent, other_admin, other_workspace):
    case_types.service_setup(other_workspace)
    ensure_sales_defaults(other_workspace)
    foreign_type = case_type(other_workspace)
    category = CaseCategory.objects.create(workspace=other_workspace, name="账单")
    product = Product.objects.create(workspace=other_workspace, code="P", name="泵")
    account = AccountFactory(workspace=other_workspace)
    contact = ContactFactory(workspace=other_workspace)
    queue = Queue.objects.create(workspace=other_workspace, name="Q")
    order = Order.objects.create(
        workspace=other_workspace,
        number="SO-1",
        order_date=dt.date.today(),
        account=account,
        currency="CNY",
        owner=other_admin,
    )
    values = {
        "case_type": foreign_type.pk,
        "subject": "x",
        "category": category.pk,
        "product": product.pk,
        "order": order.pk,
        "assignee": other_admin.pk,
        "queue": queue.pk,
    }
    with pytest.raises(ApplicationError) as caught:
        cases.case_create(
            actor=agent,
            workspace=agent.workspace,
            values=values,
            channel="phone",
            account=account.pk,
            contact=contact.pk,
        )
    assert set(caught.value.fields) >= {
        "case_type",
        "category",
        "product",
        "order",
        "assignee",
        "queue",
        "account",
        "contact",
    }
    assert not Case.objects.in_workspace(agent.workspace).exists()


def test_contact_must_belong_to_the_account(agent, account, service_ws):
    stranger = ContactFactory(workspace=service_ws, name="路人")
    with pytest.raises(ApplicationError) as caught:
        make_case(agent, account=account, contact=stranger)
    assert "contact" in caught.value.fields
    # A membership (not the primary account) is enough.
    AccountContact.objects.create(workspace=service_ws, account=account, contact=stranger)
    assert make_case(agent, account=account, contact=stranger).contact == stranger


def test_inactive_type_and_bad_channel_are_refused(agent):
    fault = case_type(agent.workspace)
    fault.active = False
    fault.save()
    with pytest.raises(ApplicationError) as caught:
        make_case(agent)
    assert "case_type" in caught.value.fields
    with pytest.raises(ApplicationError) as caught:
        make_case(agent, kind=CaseTypeKind.INQUIRY, channel="pigeon")
    assert "channel" in caught.value.fields


def test_order_must_be_the_customers(agent, account, service_ws):
    ensure_sales_defaults(service_ws)
    other = AccountFactory(workspace=service_ws)
    order = Order.objects.create(
        workspace=service_ws,
        number="SO-9",
        order_date=dt.date.today(),
        account=other,
        currency="CNY",
        owner=agent,
    )
    with pytest.raises(ApplicationError) as caught:
        make_case(agent, account=account, order=order.pk)
    assert "order" in caught.value.fields
    # Without a customer, the order's customer is taken.
    assert make_case(agent, order=order.pk).account == other


def test_no_right_no_case_and_the_denial_is_audited(nobody):
    with pytest.raises(PermissionDenied):
        make_case(nobody)
    assert AuditEntry.objects.filter(
        workspace=nobody.workspace, action="permission_denied", object_key="service.case"
    ).exists()


# --- status flow -----------------------------------------------------------------------------


def _status(actor, case, status, **extra):
    return cases.case_change_status(
        actor=actor, workspace=actor.workspace, case_id=case.pk, status=status, **extra
    )


def test_the_status_flow(agent, account):
    case = make_case(agent, account=account)
    case = _status(agent, case, "open")
    case = _status(agent, case, "waiting")
    case = _status(agent, case, "open")
    case = _status(agent, case, "resolved", resolution="换了搓纸轮")
    assert case.resolved_at is not None and case.resolution == "换了搓纸轮"
    case = _status(agent, case, "open")
    assert case.reopened == 1 and case.resolved_at is None
    case = _status(agent, case, "resolved", resolution="again")
    case = _status(agent, case, "closed")
    assert case.closed_at is not None
    kinds = list(
        CaseEvent.objects.in_workspace(agent.workspace)
        .filter(case=case, kind="status")
        .values_list("from_value", "to_value")
    )
    assert kinds == [
        ("new", "open"),
        ("open", "waiting"),
        ("waiting", "open"),
        ("open", "resolved"),
        ("resolved", "open"),
        ("open", "resolved"),
        ("resolved", "closed"),
    ]
    resolved = TimelineEntry.objects.in_workspace(agent.workspace).filter(
        subtype=cases.EVENT_CASE_RESOLVED, related_object_id=case.pk
    )
    assert resolved.count() == 2


@pytest.mark.parametrize(
    "path,refused",
    [
        ([], "resolved"),
        ([], "waiting"),
        ([], "closed"),
        (["open"], "closed"),
        (["open", "waiting"], "resolved"),
        (["open", "resolved"], "waiting"),
        (["open", "resolved"], "cancelled"),
        (["cancelled"], "open"),
        (["open", "resolved", "closed"], "open"),
    ],
)
def test_refused_moves_write_nothing(agent, path, refused):
    case = make_case(agent)
    for status in path:
        case = _status(agent, case, status, resolution="done")
    version = _refresh(case).lock_version
    events = CaseEvent.objects.in_workspace(agent.workspace).filter(case=case).count()
    with pytest.raises(ApplicationError) as caught:
        _status(agent, case, refused, resolution="done")
    assert caught.value.status == 409 and caught.value.code == "bad_transition"
    assert str(CaseStatus(case.status).label).lower() in str(caught.value.message)
    case = _refresh(case)
    assert case.lock_version == version
    assert CaseEvent.objects.in_workspace(agent.workspace).filter(case=case).count() == events


def test_cancel_from_every_open_status(agent):
    for path in ([], ["open"], ["open", "waiting"]):
        case = make_case(agent)
        for status in path:
            case = _status(agent, case, status)
        assert _status(agent, case, "cancelled").status == "cancelled"


def test_resolving_needs_the_resolution_and_unknown_status_is_refused(agent):
    case = _status(agent, make_case(agent), "open")
    with pytest.raises(ApplicationError) as caught:
        _status(agent, case, "resolved", resolution="  ")
    assert "resolution" in caught.value.fields
    with pytest.raises(ApplicationError) as caught:
        _status(agent, case, "done")
    assert "status" in caught.value.fields
    assert _refresh(case).status == "open"


# --- optimistic locking ----------------------------------------------------------------------


def test_a_stale_edit_is_refused_and_writes_nothing(agent, other_agent):
    case = make_case(agent)
    seen = case.lock_version
    cases.case_update(
        actor=other_agent,
        workspace=agent.workspace,
        case_id=case.pk,
        changes={"subject": "first"},
        lock_version=seen,
    )
    for call in (
        lambda: cases.case_update(
            actor=agent,
            workspace=agent.workspace,
            case_id=case.pk,
            changes={"subject": "second", "priority": 1},
            lock_version=seen,
        ),
        lambda: _status(agent, case, "open", lock_version=seen),
        lambda: cases.case_reply(
            actor=agent, workspace=agent.workspace, case_id=case.pk, body="hi", lock_version=seen
        ),
        lambda: cases.case_assign(
            actor=agent,
            workspace=agent.workspace,
            case_id=case.pk,
            assignee_id=agent.pk,
            lock_version=seen,
        ),
    ):
        with pytest.raises(ApplicationError) as caught:
            call()
        assert caught.value.status == 409 and caught.value.code == "stale"
    case = _refresh(case)
    assert case.subject == "first" and case.priority == 3 and case.status == "new"
    assert case.assignee is None
    assert case.lock_version == seen + 1
    assert not CaseMessage.objects.in_workspace(agent.workspace).filter(case=case).exists()


def test_update_changes_fields_writes_events_and_audit(agent, account, contact, service_ws):
    case = make_case(agent, account=account)
    category = CaseCategory.objects.create(workspace=service_ws, name="硬件")
    changed = cases.case_update(
        actor=agent,
        workspace=service_ws,
        case_id=case.pk,
        changes={"priority": "1", "category": category.pk, "contact": contact.pk},
        lock_version=case.lock_version,
    )
    assert changed.priority == 1 and changed.category == category and changed.contact == contact
    assert changed.lock_version == case.lock_version + 1
    event = CaseEvent.objects.in_workspace(service_ws).get(case=case, kind="priority")
    assert (event.from_value, event.to_value) == ("3", "1")
    assert AuditEntry.objects.filter(
        workspace=service_ws, action="update", object_id=str(case.pk)
    ).exists()


def test_update_refuses_status_assignment_and_final_cases(agent):
    case = make_case(agent)
    with pytest.raises(ApplicationError) as caught:
        cases.case_update(
            actor=agent,
            workspace=agent.workspace,
            case_id=case.pk,
            changes={"status": "open"},
            lock_version=0,
        )
    assert caught.value.code == "not_editable"
    _status(agent, case, "cancelled")
    with pytest.raises(ApplicationError) as caught:
        cases.case_update(
            actor=agent,
            workspace=agent.workspace,
            case_id=case.pk,
            changes={"subject": "late"},
            lock_version=None,
        )
    assert caught.value.status == 409


# --- the conversation ------------------------------------------------------------------------


def test_first_answer_is_the_first_response_and_opens_the_case(agent):
    case = make_case(agent)
    message = cases.case_reply(
        actor=agent, workspace=agent.workspace, case_id=case.pk, body="我们马上处理"
    )
    assert message.kind == MessageKind.OUTBOUND and message.author == agent
    case = _refresh(case)
    assert case.first_response_at is not None and case.status == "open"
    first = case.first_response_at
    cases.case_reply(actor=agent, workspace=agent.workspace, case_id=case.pk, body="again")
    assert _refresh(case).first_response_at == first


def test_an_internal_note_changes_nothing_on_the_case(agent):
    case = make_case(agent)
    message = cases.case_reply(
        actor=agent, workspace=agent.workspace, case_id=case.pk, body="内部", internal=True
    )
    assert message.kind == MessageKind.NOTE
    after = _refresh(case)
    assert after.first_response_at is None and after.status == "new"
    assert after.lock_version == case.lock_version


def test_reply_refused_on_final_cases_and_empty_bodies(agent):
    case = make_case(agent)
    with pytest.raises(ApplicationError) as caught:
        cases.case_reply(actor=agent, workspace=agent.workspace, case_id=case.pk, body="  ")
    assert "body" in caught.value.fields
    _status(agent, case, "cancelled")
    with pytest.raises(ApplicationError) as caught:
        cases.case_reply(actor=agent, workspace=agent.workspace, case_id=case.pk, body="hi")
    assert caught.value.status == 409
    # A note on a closed case is still allowed (the agents' own record).
    cases.case_reply(
        actor=agent, workspace=agent.workspace, case_id=case.pk, body="n", internal=True
    )


def test_customer_message_reopens_waiting_and_resolved_cases(agent, contact):
    case = make_case(agent, contact=contact, assignee=agent.pk)
    _status(agent, case, "open")
    _status(agent, case, "waiting")
    cases.case_customer_message(
        workspace=agent.workspace, case=case, body="照片已发", channel="email"
    )
    case = _refresh(case)
    assert case.status == "open" and case.last_message_at is not None
    _status(agent, case, "resolved", resolution="ok")
    cases.case_customer_message(
        workspace=agent.workspace, case=case, body="又坏了", channel="portal", contact=contact
    )
    case = _refresh(case)
    assert case.status == "open" and case.reopened == 1
    notes = CaseEvent.objects.in_workspace(agent.workspace).filter(case=case, actor=None)
    assert notes.filter(kind="status").count() == 2
    inbound = CaseMessage.objects.in_workspace(agent.workspace).filter(
        case=case, kind=MessageKind.INBOUND
    )
    assert inbound.count() == 2


def test_customer_message_on_a_closed_case_is_kept_and_the_agent_told(agent, other_agent):
    case = make_case(agent, assignee=other_agent.pk)
    _status(agent, case, "cancelled")
    before = Notification.objects.in_workspace(agent.workspace).filter(user=other_agent).count()
    cases.case_customer_message(workspace=agent.workspace, case=case, body="?", channel="sms")
    assert _refresh(case).status == "cancelled"
    assert (
        Notification.objects.in_workspace(agent.workspace).filter(user=other_agent).count()
        == before + 1
    )


def test_customer_message_refuses_another_workspaces_case(agent, other_admin):
    foreign = make_case(other_admin)
    with pytest.raises(NotFound):
        cases.case_customer_message(
            workspace=agent.workspace, case=foreign, body="x", channel="email"
        )


# --- assignment ------------------------------------------------------------------------------


def test_manual_assignment_event_and_notification(agent, other_agent, queue):
    case = make_case(agent)
    cases.case_assign(
        actor=agent,
        workspace=agent.workspace,
        case_id=case.pk,
        assignee_id=other_agent.pk,
        queue_id=queue.pk,
    )
    case = _refresh(case)
    assert case.assignee == other_agent and case.queue == queue
    event = CaseEvent.objects.in_workspace(agent.workspace).get(case=case, kind="assigned")
    assert event.to_value == "Agent Zhao" and event.actor == agent
    note = Notification.objects.in_workspace(agent.workspace).get(user=other_agent)
    assert case.number in note.title and note.url.endswith(f"/service/cases/{case.pk}/")
    # To the queue only: the agent is cleared, the queue's agents take it.
    cases.case_assign(actor=agent, workspace=agent.workspace, case_id=case.pk, queue_id=queue.pk)
    case = _refresh(case)
    assert case.assignee is None and case.queue == queue


def test_assigning_to_someone_of_another_workspace_is_refused(agent, other_admin):
    case = make_case(agent)
    with pytest.raises(ApplicationError) as caught:
        cases.case_assign(
            actor=agent, workspace=agent.workspace, case_id=case.pk, assignee_id=other_admin.pk
        )
    assert "assignee" in caught.value.fields


def test_assignee_at_creation_is_told_unless_it_is_oneself(agent, other_agent):
    make_case(agent, assignee=agent.pk)
    assert not Notification.objects.in_workspace(agent.workspace).filter(user=agent).exists()
    case = make_case(agent, assignee=other_agent.pk)
    assert Notification.objects.in_workspace(agent.workspace).filter(user=other_agent).exists()
    assert (
        CaseEvent.objects.in_workspace(agent.workspace).filter(case=case, kind="assigned").exists()
    )


# --- the open-complaint flag -----------------------------------------------------------------


def _flags(account, contact):
    return (
        Account.objects.in_workspace(account.workspace).get(pk=account.pk).open_complaint,
        Contact.objects.in_workspace(contact.workspace).get(pk=contact.pk).open_complaint,
    )


def test_open_complaint_flag_follows_open_complaints(agent, account, contact):
    first = make_case(agent, kind="complaint", contact=contact)
    assert _flags(account, contact) == (True, True)
    second = make_case(agent, kind="complaint", account=account)
    _status(agent, first, "open")
    _status(agent, first, "resolved", resolution="道歉并退款")
    # The account still has the second complaint; the contact has none open.
    assert _flags(account, contact) == (True, False)
    _status(agent, second, "cancelled")
    assert _flags(account, contact) == (False, False)
    # Reopening flags again; closing after resolving clears it.
    _status(agent, first, "open")
    assert _flags(account, contact) == (True, True)
    _status(agent, first, "resolved", resolution="再次处理")
    _status(agent, first, "closed")
    assert _flags(account, contact) == (False, False)


def test_faults_do_not_flag_and_a_type_change_does(agent, account, contact):
    case = make_case(agent, contact=contact)
    assert _flags(account, contact) == (False, False)
    case = cases.case_update(
        actor=agent,
        workspace=agent.workspace,
        case_id=case.pk,
        changes={"case_type": case_type(agent.workspace, "complaint").pk},
        lock_version=case.lock_version,
    )
    assert case.kind == "complaint"
    assert _flags(account, contact) == (True, True)
    # Moving the complaint to another customer clears the old one's flag.
    other = AccountFactory(workspace=agent.workspace)
    cases.case_update(
        actor=agent,
        workspace=agent.workspace,
        case_id=case.pk,
        changes={"account": other.pk, "contact": None},
        lock_version=case.lock_version,
    )
    assert _flags(account, contact) == (False, False)
    assert Account.objects.in_workspace(agent.workspace).get(pk=other.pk).open_complaint


def test_a_customer_message_reopening_a_complaint_flags_again(agent, contact, account):
    case = make_case(agent, kind="complaint", contact=contact)
    _status(agent, case, "open")
    _status(agent, case, "resolved", resolution="ok")
    assert _flags(account, contact) == (False, False)
    cases.case_customer_message(workspace=agent.workspace, case=case, body="没好", channel="sms")
    assert _flags(account, contact) == (True, True)


# --- the contracts ---------------------------------------------------------------------------


@pytest.fixture
def calls(monkeypatch):
    """Records each contract call (the contract modules belong to other parts; what is
    tested here is that the case services call them at the right points)."""
    seen: list[tuple[str, int, str]] = []

    def recorder(name):
        def record(case, *args, **kwargs):
            seen.append((name, case.pk, case.status))

        return record

    for module, names in (
        (
            sla_clock,
            (
                "sla_start",
                "sla_pause",
                "sla_resume",
                "sla_first_response",
                "sla_reapply",
                "sla_stop",
                "sla_reopen",
            ),
        ),
        (routing, ("case_route",)),
        (customer_messages, ("case_acknowledge", "case_deliver")),
        (survey_hooks, ("survey_start",)),
    ):
        for name in names:
            monkeypatch.setattr(module, name, recorder(name))
    return seen


def test_contract_calls_at_the_right_points(agent, calls):
    case = make_case(agent)
    assert [c[0] for c in calls] == ["sla_start", "case_route", "case_acknowledge"]
    calls.clear()
    make_case(agent, assignee=agent.pk, acknowledge=False)
    assert [c[0] for c in calls] == ["sla_start"]
    calls.clear()
    cases.case_reply(actor=agent, workspace=agent.workspace, case_id=case.pk, body="hi")
    cases.case_reply(actor=agent, workspace=agent.workspace, case_id=case.pk, body="hi 2")
    assert [c[0] for c in calls] == ["sla_first_response", "case_deliver", "case_deliver"]
    calls.clear()
    _status(agent, case, "waiting")
    _status(agent, case, "open")
    _status(agent, case, "waiting")
    cases.case_customer_message(workspace=agent.workspace, case=case, body="x", channel="sms")
    cases.case_update(
        actor=agent,
        workspace=agent.workspace,
        case_id=case.pk,
        changes={"priority": 1},
        lock_version=None,
    )
    _status(agent, case, "resolved", resolution="fixed")
    _status(agent, case, "open")
    _status(agent, case, "resolved", resolution="fixed again")
    cases.case_customer_message(workspace=agent.workspace, case=case, body="y", channel="sms")
    assert calls == [
        ("sla_pause", case.pk, "waiting"),
        ("sla_resume", case.pk, "open"),
        ("sla_pause", case.pk, "waiting"),
        ("sla_resume", case.pk, "open"),
        ("sla_reapply", case.pk, "open"),
        ("sla_stop", case.pk, "resolved"),
        ("survey_start", case.pk, "resolved"),
        ("sla_reopen", case.pk, "open"),
        ("sla_stop", case.pk, "resolved"),
        ("survey_start", case.pk, "resolved"),
        ("sla_reopen", case.pk, "open"),
    ]


def test_routing_result_is_saved_with_an_event(agent, other_agent, queue, monkeypatch):
    def route(case, *, actor):
        case.queue = queue
        case.assignee = other_agent

    monkeypatch.setattr(routing, "case_route", route)
    case = make_case(agent)
    case = _refresh(case)
    assert case.assignee == other_agent and case.queue == queue
    event = CaseEvent.objects.in_workspace(agent.workspace).get(case=case, kind="assigned")
    assert event.note  # "Assigned automatically"
    assert Notification.objects.in_workspace(agent.workspace).filter(user=other_agent).exists()


def test_case_event_writes_a_history_line(agent):
    case = make_case(agent)
    event = cases.case_event(case, "sla_warning", to_value="response", note="x" * 500)
    assert event.actor is None and len(event.note) == 300
    with pytest.raises(ValueError):
        cases.case_event(case, "nonsense")


# --- types and categories --------------------------------------------------------------------


def test_type_and_category_upkeep(admin_user, agent, queue):
    workspace = admin_user.workspace
    row = case_types.case_type_create(
        actor=admin_user, workspace=workspace, name="退货", kind="request"
    )
    with pytest.raises(ApplicationError) as caught:
        case_types.case_type_create(
            actor=admin_user, workspace=workspace, name="退货", kind="fault"
        )
    assert caught.value.status == 409
    with pytest.raises(ApplicationError) as caught:
        case_types.case_type_create(actor=admin_user, workspace=workspace, name="", kind="x")
    assert set(caught.value.fields) == {"name", "kind"}
    make_case(agent, case_type=row.pk)
    with pytest.raises(ApplicationError) as caught:
        case_types.case_type_update(
            actor=admin_user, workspace=workspace, type_id=row.pk, kind="complaint"
        )
    assert caught.value.code == "in_use"
    case_types.case_type_update(
        actor=admin_user, workspace=workspace, type_id=row.pk, name="退换货", active=False
    )
    assert _refresh(row).name == "退换货" and not row.active

    top = case_types.case_category_create(
        actor=admin_user, workspace=workspace, name="硬件", queue=queue.pk
    )
    child = case_types.case_category_create(
        actor=admin_user, workspace=workspace, name="打印机", parent=top.pk
    )
    with pytest.raises(ApplicationError) as caught:
        case_types.case_category_create(
            actor=admin_user, workspace=workspace, name="墨盒", parent=child.pk
        )
    assert "parent" in caught.value.fields
    with pytest.raises(ApplicationError) as caught:
        case_types.case_category_create(actor=admin_user, workspace=workspace, name="硬件")
    assert caught.value.status == 409
    case_types.case_category_update(
        actor=admin_user, workspace=workspace, category_id=child.pk, active=False
    )
    assert not _refresh(child).active
    tree = case_types.categories_as_tree(
        case_types.case_category_list(actor=admin_user, workspace=workspace)
    )
    assert [(c.name, depth) for c, depth in tree] == [("硬件", 0), ("打印机", 1)]


def test_type_upkeep_needs_the_configuration_right(agent, nobody, other_admin):
    with pytest.raises(PermissionDenied):
        case_types.case_type_create(actor=agent, workspace=agent.workspace, name="x", kind="fault")
    with pytest.raises(PermissionDenied):
        case_types.case_category_create(actor=nobody, workspace=nobody.workspace, name="x")
    with pytest.raises(NotFound):
        case_types.case_type_update(
            actor=other_admin,
            workspace=other_admin.workspace,
            type_id=case_type(agent.workspace).pk,
            name="stolen",
        )


def test_another_workspace_cannot_touch_a_case(agent, other_admin):
    case = make_case(agent)
    for call in (
        lambda: _status(other_admin, case, "open"),
        lambda: cases.case_reply(
            actor=other_admin, workspace=other_admin.workspace, case_id=case.pk, body="x"
        ),
        lambda: cases.case_update(
            actor=other_admin,
            workspace=other_admin.workspace,
            case_id=case.pk,
            changes={"subject": "x"},
            lock_version=None,
        ),
        lambda: cases.case_assign(
            actor=other_admin, workspace=other_admin.workspace, case_id=case.pk
        ),
    ):
        with pytest.raises(NotFound):
            call()


def test_a_user_without_the_right_cannot_change_a_case(agent, nobody):
    case = make_case(agent)
    for call in (
        lambda: _status(nobody, case, "open"),
        lambda: cases.case_reply(
            actor=nobody, workspace=nobody.workspace, case_id=case.pk, body="x"
        ),
        lambda: cases.case_assign(actor=nobody, workspace=nobody.workspace, case_id=case.pk),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_a_reader_sees_but_cannot_change(service_ws, agent):
    reader = UserFactory(workspace=service_ws, role_code="marketing")
    case = make_case(agent)
    with pytest.raises(PermissionDenied):
        _status(reader, case, "open")
