"""Real concurrent transactions (PostgreSQL; SQLite serialises writers): orders saved at once
get different numbers; two payments at once never together exceed the unpaid amount; two
reminder runs at once make one task per invoice."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from guanxi.activities.models import Task
from guanxi.common.errors import ApplicationError
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.factories import UserFactory, WorkspaceFactory
from guanxi.sales.models import Invoice, Order, Payment
from guanxi.sales.services import invoices, orders
from guanxi.sales.services.setup import ensure_sales_defaults

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = call()
        except ApplicationError as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # reported in the assertion below
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.fixture
def setup():
    workspace = WorkspaceFactory()
    ensure_sales_defaults(workspace)
    rep = UserFactory(workspace=workspace)
    account = AccountFactory(workspace=workspace, owner=rep)
    return workspace, rep, account


def _order(workspace, rep, account, price="100"):
    return orders.order_create(
        actor=rep,
        workspace=workspace,
        account=account,
        currency="CNY",
        order_date=dt.date.today(),
        lines=[orders.OrderLineInput(None, 1, price, description="服务")],
    )


def test_orders_at_once_get_different_numbers(setup):
    workspace, rep, account = setup
    outcomes = _race([lambda: _order(workspace, rep, account).number for _ in range(4)])
    assert all(isinstance(o, str) and o.startswith("SO-") for o in outcomes), outcomes
    assert len(set(outcomes)) == 4
    assert Order.objects.in_workspace(workspace).count() == 4


def test_payments_at_once_never_exceed_the_unpaid(setup):
    workspace, rep, account = setup
    order = _order(workspace, rep, account)  # 113.00
    invoice = invoices.invoice_create(actor=rep, workspace=workspace, order_id=order.pk)
    outcomes = _race(
        [
            lambda: (
                invoices.payment_record(
                    actor=rep, workspace=workspace, invoice_id=invoice.pk, amount="100"
                ).pk
            )
            for _ in range(2)
        ]
    )
    assert sorted(map(str, outcomes))[-1] == "overpaid", outcomes
    assert Payment.objects.in_workspace(workspace).count() == 1
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("100")


def test_two_reminder_runs_make_one_task(setup):
    workspace, rep, account = setup
    for _ in range(3):
        order = _order(workspace, rep, account)
        invoices.invoice_create(
            actor=rep,
            workspace=workspace,
            order_id=order.pk,
            issued_on=dt.date.today() - dt.timedelta(days=60),
        )
    outcomes = _race(
        [lambda: invoices.reminders_create_overdue(workspace_id=workspace.pk) for _ in range(2)]
    )
    assert sum(outcomes) == 3, outcomes
    assert Task.objects.in_workspace(workspace).count() == 3
    assert not Invoice.objects.in_workspace(workspace).filter(reminder_task_id=None).exists()
