"""Helpers of the customer-value tests: orders and order lines written straight with the
sales models (the value part only reads them), a user without the right, and an
independent, plain-Python computation of revenue, Pareto and ABC classes to compare the
service's SQL against."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from decimal import Decimal

import pytest

from guanxi.customers.models import Account, Contact
from guanxi.platform.models import Role
from guanxi.platform.tests.factories import UserFactory
from guanxi.sales.models import Order, OrderLine

_numbers = itertools.count(1)


def D(value) -> Decimal:
    return Decimal(str(value))


def add_order(workspace, *, account=None, contact=None, day, amounts, status="confirmed"):
    """One order with one line per amount (base currency), dated ``day``."""
    order = Order.objects.create(
        workspace=workspace,
        number=f"SO-{next(_numbers):07d}",
        status=status,
        order_date=day,
        account=account,
        contact=contact,
        currency="CNY",
        total=sum((D(a) for a in amounts), D(0)),
        total_base=sum((D(a) for a in amounts), D(0)),
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                workspace=workspace,
                order=order,
                position=i,
                description="line",
                quantity=D(1),
                unit_price=D(a),
                amount=D(a),
                amount_base=D(a),
                order_date=day,
                account=account,
                contact=contact,
            )
            for i, a in enumerate(amounts, 1)
        ]
    )
    return order


@pytest.fixture
def nobody(workspace):
    """A user whose role grants nothing (no customer value, no customers)."""
    role = Role.objects.create(workspace=workspace, name="Nobody", code="nobody", rights={})
    return UserFactory(workspace=workspace, role=role)


# --- the independent computation ---------------------------------------------------------------


def expected_revenue(workspace) -> dict[tuple[str, int, int], Decimal]:
    """(kind, id, year) → net revenue, from every line of an order not cancelled."""
    out: dict = defaultdict(lambda: D("0.00"))
    lines = OrderLine.objects.in_workspace(workspace).select_related("order")
    for line in lines:
        if line.order.status == "cancelled":
            continue
        if line.account_id:
            key = ("account", line.account_id)
        elif line.contact_id:
            key = ("contact", line.contact_id)
        else:
            continue
        out[(*key, line.order_date.year)] += line.amount_base
    return dict(out)


def expected_pareto(revenue: dict, year: int) -> dict:
    values = sorted((v for (k, i, y), v in revenue.items() if y == year and v > 0), reverse=True)
    total = sum(values, D("0.00"))
    points = {}
    for step in range(201):
        x = D(step) / 2
        k = math.ceil(len(values) * x / 100)
        top = sum(values[:k], D("0.00"))
        points[x] = (k, top, (top * 100 / total).quantize(D("0.0001")) if total else D(0))
    return {"customers": len(values), "revenue": total, "points": points, "sorted": values}


def expected_classes(
    workspace,
    revenue: dict,
    year: int,
    *,
    top=Decimal(20),
    types=("agent",),
    growth=Decimal(10),
    years=2,
) -> dict[tuple[str, int], str]:
    pareto = expected_pareto(revenue, year)
    ranked = pareto["sorted"]
    k = math.ceil(len(ranked) * top / 100)
    cutoff = ranked[k - 1] if k else None
    customers = [("account", a.pk, a.account_type) for a in Account.objects.in_workspace(workspace)]
    with_revenue = {i for (kind, i, y) in revenue if kind == "contact"}
    customers += [
        ("contact", c.pk, None)
        for c in Contact.objects.in_workspace(workspace)
        if c.account_id is None or c.pk in with_revenue
    ]
    out = {}
    for kind, pk, account_type in customers:

        def rev(y, kind=kind, pk=pk):
            return revenue.get((kind, pk, y), D(0))

        if account_type in types or (cutoff is not None and rev(year) >= cutoff):
            out[(kind, pk)] = "A"
        elif all(
            rev(year - i - 1) > 0 and rev(year - i) * 100 >= rev(year - i - 1) * (100 + growth)
            for i in range(years)
        ):
            out[(kind, pk)] = "B"
        else:
            out[(kind, pk)] = "C"
    return out


def stored_classes(workspace) -> dict[tuple[str, int], str]:
    out = {
        ("account", pk): c
        for pk, c in Account.objects.in_workspace(workspace).values_list("pk", "value_class")
    }
    out.update(
        {
            ("contact", pk): c
            for pk, c in Contact.objects.in_workspace(workspace).values_list("pk", "value_class")
        }
    )
    return out


def day_in(year: int, n: int) -> dt.date:
    return dt.date(year, 1 + n % 12, 1 + n % 28)
