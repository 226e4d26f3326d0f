"""The orders' demo data: three years of orders for the demo accounts, invoices, payments,
some receivables (a few overdue); seeding twice adds nothing."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from guanxi.customers.demo import seed_demo as seed_customers
from guanxi.sales import orders_demo
from guanxi.sales.models import Invoice, Order, OrderLine
from guanxi.sales.selectors.receivables import ageing
from guanxi.sales.services.setup import ensure_sales_defaults

from .orders_support import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_demo_orders(sales_ws, rep, manager, admin_user, monkeypatch):
    monkeypatch.setattr(orders_demo, "CUSTOMERS", 8)
    ensure_sales_defaults(sales_ws)
    seed_customers(workspace=sales_ws, users=[rep], count=20)
    orders_demo.seed(workspace=sales_ws, users=[rep], rng=random.Random(3))
    made = Order.objects.in_workspace(sales_ws)
    assert made.count() >= 8 * 3
    years = {d.year for d in made.values_list("order_date", flat=True)}
    assert len(years) >= 2
    assert OrderLine.objects.in_workspace(sales_ws).count() == made.count()
    assert Invoice.objects.in_workspace(sales_ws).filter(status="paid").exists()
    report = ageing(workspace=sales_ws, actor=admin_user, by="customer", as_of=dt.date.today())
    assert report.totals.total > 0
    before = made.count()
    orders_demo.seed(workspace=sales_ws, users=[rep], rng=random.Random(3))
    assert Order.objects.in_workspace(sales_ws).count() == before
