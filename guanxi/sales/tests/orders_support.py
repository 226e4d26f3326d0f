"""Helpers of the orders part's tests: a catalogue, a customer, and one-line orders. Import
the fixtures into a test module with ``from .orders_support import *  # noqa: F403``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.sales.models import ExchangeRate, Product, TaxRate
from guanxi.sales.services import orders as order_services
from guanxi.sales.services.setup import ensure_sales_defaults

__all__ = [
    "D",
    "account",
    "contact",
    "make_order",
    "manager",
    "nobody",
    "product",
    "reader",
    "rep",
    "sales_ws",
    "team",
]


def D(value) -> Decimal:
    return Decimal(str(value))


@pytest.fixture
def sales_ws(workspace):
    ensure_sales_defaults(workspace)
    ExchangeRate.objects.create(
        workspace=workspace, currency="USD", valid_from=dt.date(2000, 1, 1), rate=D("7.2")
    )
    return workspace


@pytest.fixture
def team(sales_ws):
    return TeamFactory(workspace=sales_ws)


@pytest.fixture
def rep(sales_ws, team):
    return UserFactory(workspace=sales_ws, team=team, full_name="Rep Wang")


@pytest.fixture
def manager(sales_ws, team):
    return UserFactory(workspace=sales_ws, team=team, role_code="sales_manager")


@pytest.fixture
def reader(sales_ws):
    """A user whose role has no right on orders (a service agent)."""
    return UserFactory(workspace=sales_ws, role_code="service_agent")


@pytest.fixture
def nobody(sales_ws):
    """A user whose role grants nothing at all on sales."""
    from guanxi.platform.models import Role

    role = Role.objects.create(workspace=sales_ws, name="Nobody", code="nobody", rights={})
    return UserFactory(workspace=sales_ws, role=role)


@pytest.fixture
def account(sales_ws, rep):
    return AccountFactory(workspace=sales_ws, owner=rep, credit_limit=D("10000"))


@pytest.fixture
def contact(sales_ws, rep):
    return ContactFactory(workspace=sales_ws, owner=rep)


@pytest.fixture
def product(sales_ws):
    vat = TaxRate.objects.in_workspace(sales_ws).get(rate=D("0.13"))
    return Product.objects.create(workspace=sales_ws, code="P-1", name="水泵", tax_rate=vat)


def make_order(
    actor,
    *,
    account=None,
    contact=None,
    product=None,
    quantity=1,
    price="100",
    currency="CNY",
    order_date=None,
    **extra,
):
    return order_services.order_create(
        actor=actor,
        workspace=actor.workspace,
        account=account,
        contact=contact,
        currency=currency,
        order_date=order_date or dt.date.today(),
        lines=[
            order_services.OrderLineInput(
                product=product,
                quantity=quantity,
                unit_price=price,
                description="" if product else "服务",
            )
        ],
        **extra,
    )
