"""Invoices, payments, the status flow and the overdue reminders: amounts never exceed what
is left, statuses follow, cancel is refused once invoiced, one reminder task per invoice."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.activities.models import Task, TimelineEntry
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.sales.models import Invoice, InvoiceStatus, Order, OrderStatus, Payment
from guanxi.sales.selectors.receivables import credit_status
from guanxi.sales.services import invoices, orders
from guanxi.sales.services.setup import sales_settings

from .orders_support import *  # noqa: F403
from .orders_support import D, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(rep, account):
    return make_order(rep, account=account, price="1000")  # 1,130.00 with VAT


def test_invoice_in_parts_never_more_than_the_order(rep, order):
    ws = rep.workspace
    first = invoices.invoice_create(
        actor=rep, workspace=ws, order_id=order.pk, amount="500", issued_on=dt.date(2026, 1, 10)
    )
    assert first.number == "INV-2026-000001"
    assert first.due_on == dt.date(2026, 2, 9)  # 30 days' terms
    assert first.owner == rep and first.account_id == order.account_id
    with pytest.raises(ApplicationError) as err:
        invoices.invoice_create(actor=rep, workspace=ws, order_id=order.pk, amount="630.01")
    assert "amount" in err.value.fields
    rest = invoices.invoice_create(actor=rep, workspace=ws, order_id=order.pk)
    assert rest.amount == D("630.00")
    order.refresh_from_db()
    assert order.invoiced_total == D("1130.00")
    with pytest.raises(Conflict):
        invoices.invoice_create(actor=rep, workspace=ws, order_id=order.pk)
    for bad in ("0", "-5", "abc", "1.001"):
        with pytest.raises(ApplicationError):
            invoices.invoice_create(actor=rep, workspace=ws, order_id=order.pk, amount=bad)
    assert Invoice.objects.in_workspace(ws).count() == 2


def test_payments_partial_then_paid_and_never_overpaid(rep, order, account):
    ws = rep.workspace
    invoice = invoices.invoice_create(actor=rep, workspace=ws, order_id=order.pk)
    invoices.payment_record(
        actor=rep,
        workspace=ws,
        invoice_id=invoice.pk,
        amount="130",
        method="wechat",
        reference="T-1",
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTLY_PAID and invoice.paid_amount == D("130")
    with pytest.raises(ApplicationError) as err:
        invoices.payment_record(actor=rep, workspace=ws, invoice_id=invoice.pk, amount="1000.01")
    assert err.value.code == "overpaid"
    assert credit_status(workspace=ws, account=account).outstanding == D("1000.00")
    invoices.payment_record(actor=rep, workspace=ws, invoice_id=invoice.pk, amount="1000")
    invoice.refresh_from_db()
    order.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert order.paid_total == D("1130.00")
    assert credit_status(workspace=ws, account=account).outstanding == 0
    with pytest.raises(Conflict):
        invoices.payment_record(actor=rep, workspace=ws, invoice_id=invoice.pk, amount="1")
    assert Payment.objects.in_workspace(ws).count() == 2
    subtypes = set(
        TimelineEntry.objects.in_workspace(ws)
        .filter(account=account)
        .values_list("subtype", flat=True)
    )
    assert {orders.EVENT_ORDER_PLACED, orders.EVENT_PAYMENT_RECEIVED} <= subtypes
    with pytest.raises(Conflict):
        invoices.invoice_void(actor=rep, workspace=ws, invoice_id=invoice.pk)


def test_bad_payment_fields_all_at_once(rep, order):
    invoice = invoices.invoice_create(actor=rep, workspace=rep.workspace, order_id=order.pk)
    with pytest.raises(ApplicationError) as err:
        invoices.payment_record(
            actor=rep,
            workspace=rep.workspace,
            invoice_id=invoice.pk,
            amount="-1",
            received_on="2099-01-01",
            method="gold",
        )
    assert set(err.value.fields) == {"amount", "received_on", "method"}


def test_void_returns_the_amount_to_invoice(rep, order):
    ws = rep.workspace
    invoice = invoices.invoice_create(actor=rep, workspace=ws, order_id=order.pk)
    invoices.invoice_void(actor=rep, workspace=ws, invoice_id=invoice.pk)
    order.refresh_from_db()
    assert order.invoiced_total == 0
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    with pytest.raises(Conflict):
        invoices.payment_record(actor=rep, workspace=ws, invoice_id=invoice.pk, amount="1")
    again = invoices.invoice_create(actor=rep, workspace=ws, order_id=order.pk)
    assert again.amount == D("1130.00")


def test_status_flow_and_cancel_refused_once_invoiced(rep, account, order):
    ws = rep.workspace
    draft = make_order(rep, account=account, status="draft")
    with pytest.raises(Conflict):
        invoices.invoice_create(actor=rep, workspace=ws, order_id=draft.pk)
    with pytest.raises(Conflict):
        orders.order_ship(actor=rep, workspace=ws, order_id=draft.pk)
    orders.order_confirm(actor=rep, workspace=ws, order_id=draft.pk)
    orders.order_cancel(actor=rep, workspace=ws, order_id=draft.pk)
    assert Order.objects.in_workspace(ws).get(pk=draft.pk).status == OrderStatus.CANCELLED
    invoices.invoice_create(actor=rep, workspace=ws, order_id=order.pk, amount="1")
    with pytest.raises(Conflict) as err:
        orders.order_cancel(actor=rep, workspace=ws, order_id=order.pk)
    assert err.value.code == "order_invoiced"
    orders.order_ship(actor=rep, workspace=ws, order_id=order.pk)
    orders.order_complete(actor=rep, workspace=ws, order_id=order.pk)
    with pytest.raises(Conflict):
        orders.order_confirm(actor=rep, workspace=ws, order_id=order.pk)


def test_other_workspace_and_no_right(rep, order, other_admin, reader, nobody):
    invoice = invoices.invoice_create(actor=rep, workspace=rep.workspace, order_id=order.pk)
    ws2 = other_admin.workspace
    with pytest.raises(NotFound):
        invoices.invoice_create(actor=other_admin, workspace=ws2, order_id=order.pk)
    with pytest.raises(NotFound):
        invoices.payment_record(actor=other_admin, workspace=ws2, invoice_id=invoice.pk, amount="1")
    with pytest.raises(NotFound):
        orders.order_cancel(actor=other_admin, workspace=ws2, order_id=order.pk)
    for user in (reader, nobody):
        with pytest.raises(PermissionDenied):
            invoices.payment_record(
                actor=user, workspace=rep.workspace, invoice_id=invoice.pk, amount="1"
            )
    with pytest.raises(PermissionDenied):
        orders.order_cancel(actor=nobody, workspace=rep.workspace, order_id=order.pk)


def test_another_reps_order_is_not_found(rep, order, sales_ws, team):
    from guanxi.platform.tests.factories import UserFactory

    colleague = UserFactory(workspace=sales_ws, team=team)
    with pytest.raises(NotFound):
        invoices.invoice_create(actor=colleague, workspace=sales_ws, order_id=order.pk)


def test_overdue_reminder_task_made_once(rep, order, account):
    ws = rep.workspace
    settings_row = sales_settings(ws)
    settings_row.payment_reminder_days = 3
    settings_row.save()
    today = dt.date.today()
    invoice = invoices.invoice_create(
        actor=rep, workspace=ws, order_id=order.pk, issued_on=today - dt.timedelta(days=40)
    )
    # Due 10 days ago; a second one due yesterday is not late enough yet.
    invoice_late = invoice
    other = make_order(rep, account=account, price="10")
    not_yet = invoices.invoice_create(
        actor=rep, workspace=ws, order_id=other.pk, issued_on=today - dt.timedelta(days=31)
    )
    assert invoices.reminders_create_overdue(workspace_id=ws.pk, today=today) == 1
    assert invoices.reminders_run(today=today) == {"made": 0}  # exactly once
    invoice_late.refresh_from_db()
    task = Task.objects.in_workspace(ws).get(pk=invoice_late.reminder_task_id)
    assert task.assignee == rep and task.account_id == account.pk
    assert invoice_late.number in task.title
    assert task.related_object_key == "sales.invoice"
    not_yet.refresh_from_db()
    assert not_yet.reminder_task_id is None
    # Paid invoices get none.
    invoices.payment_record(actor=rep, workspace=ws, invoice_id=not_yet.pk, amount="11.30")
    later = today + dt.timedelta(days=30)
    assert invoices.reminders_create_overdue(workspace_id=ws.pk, today=later) == 0
