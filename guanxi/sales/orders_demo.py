"""Demo data of the orders part (``seed(workspace=, users=, rng=)``), called by ``demo.py``:
three years of orders for a few dozen demo accounts — a handful of large customers, some
growing every year (class B material), the rest small — invoiced and mostly paid, with
some recent invoices unpaid or partly paid and a few overdue, so the receivables ageing,
the credit banner and the customer-value classes have something to show. Everything goes
through the services, so numbers, totals, audit rows and timeline entries are real."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from guanxi.common.errors import ApplicationError
from guanxi.customers.models import Account

from .models import Order, Product, TaxRate
from .services import invoices, orders
from .services.money import base_currency

CUSTOMERS = 40
YEARS = 3
FALLBACK_PRODUCTS = (
    ("PUMP-50", "离心泵 50m³/h", Decimal("18600")),
    ("VALVE-DN80", "电动调节阀 DN80", Decimal("4200")),
    ("PANEL-S", "变频控制柜", Decimal("32800")),
    ("SVC-YEAR", "年度维保服务", Decimal("12000")),
)


def _products(workspace) -> list[Product]:
    found = list(Product.objects.in_workspace(workspace).filter(active=True).order_by("id")[:12])
    if found:
        return found
    vat = TaxRate.objects.in_workspace(workspace).filter(is_default=True).first()
    return [
        Product.objects.create(
            workspace=workspace,
            code=code,
            name=name,
            tax_rate=vat,
            search_text=f"{code} {name}".lower(),
        )
        for code, name, _price in FALLBACK_PRODUCTS
    ]


def _price(product: Product, rng) -> Decimal:
    for code, _name, price in FALLBACK_PRODUCTS:
        if product.code == code:
            return price
    return Decimal(rng.choice((880, 1500, 4200, 9800, 18600)))


def seed(*, workspace, users, rng) -> None:
    if Order.objects.in_workspace(workspace).exists():
        return  # seeded already
    users = {u.pk: u for u in users}
    accounts = list(
        Account.objects.in_workspace(workspace)
        .filter(owner_id__in=list(users))
        .order_by("id")[:CUSTOMERS]
    )
    if not accounts:
        return
    products = _products(workspace)
    currency = base_currency(workspace)
    today = timezone.localdate()
    first_year = today.year - YEARS + 1
    for index, account in enumerate(accounts):
        actor = users[account.owner_id]
        # Annual volume: a few big customers, many small ones (a Pareto-like spread).
        volume = Decimal(int(20_000 * rng.paretovariate(1.3)))
        growth = Decimal("1.25") if index % 5 == 1 else Decimal(rng.choice(("0.8", "1", "1.05")))
        if account.credit_limit is None and index % 4 == 0:
            account.credit_limit = (volume / 3).quantize(Decimal("1000"))
            account.save(update_fields=["credit_limit"])
        for year in range(first_year, today.year + 1):
            count = rng.randint(2, 5)
            for _ in range(count):
                day = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
                if day > today:
                    continue
                product = rng.choice(products)
                price = _price(product, rng)
                quantity = max(1, int(volume / count / price))
                try:
                    order = orders.order_create(
                        actor=actor,
                        workspace=workspace,
                        account=account,
                        currency=currency,
                        order_date=day,
                        lines=[orders.OrderLineInput(product, quantity, price)],
                    )
                    _settle(actor, workspace, order, today, rng)
                except ApplicationError:
                    continue  # a demo rep who may not do it: skip, as a user would
            volume = (volume * growth).quantize(Decimal("1"))


def _settle(actor, workspace, order, today: dt.date, rng) -> None:
    """Old orders: invoiced, paid and completed. Recent ones: invoiced and unpaid, partly
    paid, or not invoiced yet — some of them overdue."""
    age = (today - order.order_date).days
    if age < 10 and rng.random() < 0.5:
        return  # not invoiced yet
    invoice = invoices.invoice_create(
        actor=actor, workspace=workspace, order_id=order.pk, issued_on=order.order_date
    )
    if age > 150 or rng.random() < 0.3:
        paid_on = min(order.order_date + dt.timedelta(days=rng.randint(10, 50)), today)
        invoices.payment_record(
            actor=actor,
            workspace=workspace,
            invoice_id=invoice.pk,
            amount=invoice.amount,
            received_on=paid_on,
            method=rng.choice(("bank", "bank", "alipay", "wechat")),
        )
        orders.order_complete(actor=actor, workspace=workspace, order_id=order.pk)
    elif rng.random() < 0.4:
        invoices.payment_record(
            actor=actor,
            workspace=workspace,
            invoice_id=invoice.pk,
            amount=(invoice.amount / 3).quantize(Decimal("0.01")),
            received_on=min(order.order_date + dt.timedelta(days=20), today),
        )
