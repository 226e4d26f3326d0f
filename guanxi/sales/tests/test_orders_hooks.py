"""What the orders part registers with the lower apps: a customer merge moves orders, lines
and invoices; an individual's orders are in their personal-data export; the timeline's
sentences of order and payment events."""

from __future__ import annotations

import pytest

from guanxi.activities.models import TimelineEntry
from guanxi.activities.timeline_display import system_text
from guanxi.customers.services import merge, privacy
from guanxi.customers.tests.factories import AccountFactory
from guanxi.sales.models import Invoice, Order, OrderLine
from guanxi.sales.services import invoices

from .orders_support import *  # noqa: F403
from .orders_support import make_order

pytestmark = pytest.mark.django_db


def test_account_merge_moves_orders_lines_invoices(admin_user, rep, account, sales_ws):
    other = AccountFactory(workspace=sales_ws, owner=rep)
    order = make_order(rep, account=other)
    invoices.invoice_create(actor=rep, workspace=sales_ws, order_id=order.pk)
    merge.account_merge(
        actor=admin_user, workspace=sales_ws, survivor_id=account.pk, merged_id=other.pk
    )
    assert Order.objects.in_workspace(sales_ws).get().account_id == account.pk
    assert OrderLine.objects.in_workspace(sales_ws).get().account_id == account.pk
    assert Invoice.objects.in_workspace(sales_ws).get().account_id == account.pk


def test_personal_data_export_lists_the_persons_orders(admin_user, rep, contact, sales_ws):
    order = make_order(rep, contact=contact)
    data = privacy.contact_personal_data(
        actor=admin_user, workspace=sales_ws, contact_id=contact.pk
    )
    assert order.number in str(data)


def test_timeline_sentences(rep, account):
    order = make_order(rep, account=account, price="10")
    invoice = invoices.invoice_create(actor=rep, workspace=rep.workspace, order_id=order.pk)
    invoices.payment_record(actor=rep, workspace=rep.workspace, invoice_id=invoice.pk,
                            amount="11.30")  # fmt: skip
    texts = [system_text(e) for e in TimelineEntry.objects.in_workspace(rep.workspace)]
    assert any(order.number in t and "placed" in t for t in texts), texts
    assert any(invoice.number in t and "Payment received" in t for t in texts), texts
