"""order_create and credit_status: totals, numbers, validation (nothing written on bad
input), rights, the credit warning, the timeline and audit rows."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.activities.models import TimelineEntry
from guanxi.common.errors import ApplicationError, Conflict, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import AuditAction, AuditEntry
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.selectors.receivables import credit_status
from guanxi.sales.services import orders as services
from guanxi.sales.services.orders import OrderLineInput

from .orders_support import *  # noqa: F403
from .orders_support import D, make_order

pytestmark = pytest.mark.django_db


def test_totals_number_lines_and_side_rows(rep, account, product):
    order = services.order_create(
        actor=rep,
        workspace=rep.workspace,
        account=account,
        currency="cny",
        order_date=dt.date(2026, 3, 5),
        lines=[
            OrderLineInput(product=product, quantity="2", unit_price="100.005"),
            OrderLineInput(
                product=None, quantity=1, unit_price="50", tax_rate="0.06", description="安装"
            ),
        ],
    )
    assert order.number == "SO-2026-000001"
    assert order.currency == "CNY"
    assert order.subtotal == D("250.01")  # 200.01 + 50
    assert order.tax_total == D("26.00") + D("3.00")
    assert order.total == D("279.01")
    assert order.total_base == order.total
    assert order.owner == rep
    assert order.payment_terms_days == 30
    lines = list(OrderLine.objects.in_workspace(rep.workspace).order_by("position"))
    assert [line.amount for line in lines] == [D("200.01"), D("50.00")]
    assert lines[0].tax_rate == D("0.13") and lines[0].description == "水泵"
    assert all(line.order_date == dt.date(2026, 3, 5) for line in lines)
    assert all(line.account_id == account.pk for line in lines)
    assert (
        AuditEntry.objects.in_workspace(rep.workspace)
        .filter(action=AuditAction.CREATE, object_key="sales.order", object_id=str(order.pk))
        .exists()
    )
    entry = TimelineEntry.objects.in_workspace(rep.workspace).get(account=account)
    assert entry.subtype == services.EVENT_ORDER_PLACED
    assert entry.data["number"] == order.number
    assert order.credit_warning is None
    second = make_order(rep, account=account, order_date=dt.date(2026, 4, 1))
    assert second.number == "SO-2026-000002"
    other_year = make_order(rep, account=account, order_date=dt.date(2025, 4, 1))
    assert other_year.number == "SO-2025-000001"


def test_foreign_currency_converts_at_the_order_date(rep, account):
    order = make_order(rep, account=account, currency="USD", price="10")
    assert order.exchange_rate == D("7.2")
    assert order.total == D("11.30")  # a free-text line takes the default VAT 13%
    assert order.total_base == D("81.36")
    line = order.lines.get()
    assert line.amount_base == D("72.00")


def test_currency_without_rate_is_refused_nothing_written(rep, account):
    with pytest.raises(ApplicationError) as err:
        make_order(rep, account=account, currency="EUR")
    assert "currency" in err.value.fields
    assert not Order.objects.in_workspace(rep.workspace).exists()


def test_every_bad_field_at_once(rep, sales_ws, other_workspace):
    foreign = Product.objects.create(workspace=other_workspace, code="X", name="X")
    with pytest.raises(ApplicationError) as err:
        services.order_create(
            actor=rep,
            workspace=sales_ws,
            currency="yuan",
            order_date="2026-01-01",
            lines=[
                OrderLineInput(product=foreign, quantity="-1", unit_price="-5"),
                OrderLineInput(product=None, quantity="abc", unit_price="1", tax_rate="13"),
            ],
        )
    fields = err.value.fields
    for name in (
        "account",
        "currency",
        "order_date",
        "lines.1.product",
        "lines.1.quantity",
        "lines.1.unit_price",
        "lines.2.quantity",
        "lines.2.tax_rate",
        "lines.2.product",
    ):
        assert name in fields, name
    assert not Order.objects.in_workspace(sales_ws).exists()
    assert not OrderLine.objects.in_workspace(sales_ws).exists()


def test_no_lines_refused(rep, account):
    with pytest.raises(ApplicationError) as err:
        services.order_create(
            actor=rep,
            workspace=rep.workspace,
            account=account,
            currency="CNY",
            order_date=dt.date.today(),
            lines=[],
        )
    assert "lines" in err.value.fields


def test_customer_the_rep_cannot_see_is_refused(rep, sales_ws):
    stranger = AccountFactory(workspace=sales_ws)  # owned by nobody: not the rep's
    with pytest.raises(ApplicationError) as err:
        make_order(rep, account=stranger)
    assert "account" in err.value.fields


def test_other_workspace_customer_is_refused(rep, other_workspace):
    foreign = AccountFactory(workspace=other_workspace)
    with pytest.raises(ApplicationError):
        make_order(rep, account=foreign)


def test_role_without_the_right_is_refused_and_audited(reader, account):
    with pytest.raises(PermissionDenied):
        make_order(reader, account=account)
    assert (
        AuditEntry.objects.in_workspace(reader.workspace)
        .filter(action=AuditAction.PERMISSION_DENIED, object_key="sales.order")
        .exists()
    )


def test_explicit_number_taken_is_a_conflict(rep, account):
    make_order(rep, account=account, number="IMP-1")
    with pytest.raises(Conflict):
        make_order(rep, account=account, number="IMP-1")
    assert Order.objects.in_workspace(rep.workspace).count() == 1


def test_generated_number_skips_one_typed_by_hand(rep, account):
    year = dt.date.today().year
    make_order(rep, account=account, number=f"SO-{year}-000001")
    order = make_order(rep, account=account)
    assert order.number == f"SO-{year}-000002"


def test_payment_terms_from_the_customer_file(rep, sales_ws):
    customer = AccountFactory(workspace=sales_ws, owner=rep, payment_terms="月结60天")
    assert make_order(rep, account=customer).payment_terms_days == 60
    with pytest.raises(ApplicationError):
        make_order(rep, account=customer, payment_terms_days=99999)


def test_credit_status_and_warning(rep, account, contact):
    status = credit_status(workspace=rep.workspace, account=account)
    assert (status.limit, status.outstanding, status.available, status.over) == (
        D("10000"),
        D("0"),
        D("10000"),
        False,
    )
    make_order(rep, account=account, price="8000")  # 9,040 with VAT
    status = credit_status(workspace=rep.workspace, account=account)
    assert status.outstanding == D("9040.00") and status.available == D("960.00")
    assert not status.over
    order = make_order(rep, account=account, price="1000")  # 1,130 more: over
    assert order.credit_warning and "10000" in order.credit_warning
    assert Order.objects.in_workspace(rep.workspace).count() == 2  # a warning, not a block
    assert credit_status(workspace=rep.workspace, account=account).over
    # An individual has no limit; a draft or cancelled order is not owed.
    make_order(rep, contact=contact, price="500", status="draft")
    status = credit_status(workspace=rep.workspace, contact=contact)
    assert status.limit is None and status.outstanding == 0 and not status.over
    # Adding a quote's amount to the check.
    assert credit_status(workspace=rep.workspace, account=account, adding=D("1")).over


def test_price_with_more_places_is_rounded_not_refused(rep, account, product):
    # An accepted quote's discounted price may carry more places than a line keeps.
    order = make_order(rep, account=account, product=product, price="33.333333", quantity=3)
    line = order.lines.get()
    assert line.unit_price == D("33.3333") and line.amount == D("100.00")
