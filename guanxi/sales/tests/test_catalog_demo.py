"""The catalogue's demo data: products with Chinese and English names, the books of every
kind, a USD rate; made through the services, once."""

from __future__ import annotations

import random
from decimal import Decimal

from guanxi.customers.tests.factories import AccountFactory
from guanxi.sales import catalog_demo
from guanxi.sales.models import ExchangeRate, PriceBook, PriceBookEntry, Product
from guanxi.sales.services.pricing import price_for
from guanxi.sales.services.setup import ensure_sales_defaults


def test_demo_catalogue(workspace, admin_user):
    ensure_sales_defaults(workspace)
    account = AccountFactory(workspace=workspace, value_class="A")
    catalog_demo.seed(workspace=workspace, users=[admin_user], rng=random.Random(1))
    products = Product.objects.in_workspace(workspace)
    assert products.count() == len(catalog_demo.PRODUCTS) >= 25
    assert {p.unit for p in products} >= {"台", "套", "件", "年"}
    service = products.get(code="SVC-YEAR")
    assert service.tax_rate.rate == Decimal("0.06") and service.name_en
    assert products.get(code="PUMP-IS50").tax_rate.rate == Decimal("0.13")
    books = PriceBook.objects.in_workspace(workspace)
    assert sorted(books.values_list("kind", "currency")) == [
        ("class", "CNY"),
        ("customer", "CNY"),
        ("standard", "CNY"),
        ("standard", "USD"),
    ]
    assert ExchangeRate.objects.in_workspace(workspace).get(currency="USD").rate == Decimal("7.1")
    pump = products.get(code="PUMP-IS80")
    assert price_for(workspace=workspace, product=pump).unit_price == Decimal("11800")
    assert price_for(workspace=workspace, product=pump, currency="USD").unit_price == Decimal(
        "1661.97"
    )
    valve = products.get(code="VALVE-CV80")
    assert price_for(workspace=workspace, product=valve, account=account).unit_price == Decimal(
        "3990.00"
    )
    own = books.get(kind="customer")
    assert own.account_id == account.pk and own.entries.count() == 6
    entries = PriceBookEntry.objects.in_workspace(workspace).count()
    catalog_demo.seed(workspace=workspace, users=[admin_user], rng=random.Random(1))
    assert PriceBookEntry.objects.in_workspace(workspace).count() == entries
