"""Price resolution: the customer's book, then its class's, then the standard book; validity
dates, currencies, inactive books, other workspaces, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.sales.models import PriceBook, PriceBookEntry, PriceBookKind, Product, TaxRate
from guanxi.sales.services.pricing import price_book_for, price_for, prices_for
from guanxi.sales.services.setup import ensure_sales_defaults

TODAY = dt.date(2026, 6, 15)


def book(ws, name, kind=PriceBookKind.STANDARD, currency="CNY", **extra):
    return PriceBook.objects.create(workspace=ws, name=name, kind=kind, currency=currency, **extra)


def price(ws, book_, product, amount):
    return PriceBookEntry.objects.create(
        workspace=ws, price_book=book_, product=product, unit_price=Decimal(amount)
    )


def product(ws, code, tax=None):
    return Product.objects.create(workspace=ws, code=code, name=f"产品{code}", tax_rate=tax)


@pytest.fixture
def vat(workspace):
    ensure_sales_defaults(workspace)
    return TaxRate.objects.in_workspace(workspace).get(rate=Decimal("0.13"))


@pytest.fixture
def setup(workspace, vat):
    pump = product(workspace, "P1", vat)
    valve = product(workspace, "P2", vat)
    service = product(workspace, "S1")
    standard = book(workspace, "Standard")
    for p, amount in ((pump, "100"), (valve, "50"), (service, "10")):
        price(workspace, standard, p, amount)
    class_a = book(workspace, "A", PriceBookKind.CLASS, customer_class="A")
    price(workspace, class_a, pump, "95")
    price(workspace, class_a, valve, "47.5")
    account = AccountFactory(workspace=workspace, value_class="A")
    own = book(workspace, "Own", PriceBookKind.CUSTOMER, account=account)
    price(workspace, own, pump, "90")
    return {
        "pump": pump,
        "valve": valve,
        "service": service,
        "standard": standard,
        "class_a": class_a,
        "own": own,
        "account": account,
    }


def test_each_level_wins_in_order(workspace, setup):
    found = prices_for(
        workspace=workspace,
        products=[setup["pump"], setup["valve"], setup["service"]],
        account=setup["account"],
        on=TODAY,
    )
    assert found[setup["pump"].pk].unit_price == Decimal("90")
    assert found[setup["pump"].pk].source == "customer"
    assert found[setup["pump"].pk].price_book_id == setup["own"].pk
    assert found[setup["valve"].pk].unit_price == Decimal("47.5")
    assert found[setup["valve"].pk].source == "class"
    assert found[setup["service"].pk].unit_price == Decimal("10")
    assert found[setup["service"].pk].source == "standard"
    assert found[setup["pump"].pk].tax_rate == Decimal("0.13")
    assert found[setup["service"].pk].tax_rate == Decimal("0")
    assert found[setup["service"].pk].currency == "CNY"


def test_another_class_and_no_customer_get_the_standard_book(workspace, setup):
    other = AccountFactory(workspace=workspace, value_class="B")
    for customer in ({"account": other}, {}):
        p = price_for(workspace=workspace, product=setup["pump"], on=TODAY, **customer)
        assert (p.unit_price, p.source) == (Decimal("100"), "standard")


def test_individual_customer_book_and_class(workspace, setup):
    person = ContactFactory(workspace=workspace, account=None, value_class="A")
    own = book(workspace, "Person", PriceBookKind.CUSTOMER, contact=person)
    price(workspace, own, setup["service"], "8")
    found = prices_for(
        workspace=workspace, products=[setup["pump"], setup["service"]], contact=person, on=TODAY
    )
    assert found[setup["service"].pk].source == "customer"
    assert found[setup["service"].pk].unit_price == Decimal("8")
    assert found[setup["pump"].pk].source == "class"
    assert price_book_for(workspace=workspace, contact=person, on=TODAY) == own


def test_a_contact_at_an_account_is_priced_as_the_account(workspace, setup):
    person = ContactFactory(workspace=workspace, account=setup["account"], value_class="")
    p = price_for(workspace=workspace, product=setup["pump"], contact=person, on=TODAY)
    assert p.source == "customer"


def test_validity_dates(workspace, setup):
    own = setup["own"]
    own.valid_from, own.valid_until = dt.date(2026, 7, 1), dt.date(2026, 7, 31)
    own.save()
    before = price_for(
        workspace=workspace, product=setup["pump"], account=setup["account"], on=TODAY
    )
    assert before.source == "class"
    during = price_for(
        workspace=workspace,
        product=setup["pump"],
        account=setup["account"],
        on=dt.date(2026, 7, 31),
    )
    assert during.source == "customer"
    after = price_for(
        workspace=workspace, product=setup["pump"], account=setup["account"], on=dt.date(2026, 8, 1)
    )
    assert after.source == "class"


def test_inactive_books_are_skipped(workspace, setup):
    PriceBook.objects.in_workspace(workspace).filter(
        pk__in=[setup["own"].pk, setup["class_a"].pk]
    ).update(active=False)
    p = price_for(workspace=workspace, product=setup["pump"], account=setup["account"], on=TODAY)
    assert (p.source, p.unit_price) == ("standard", Decimal("100"))
    assert (
        price_book_for(workspace=workspace, account=setup["account"], on=TODAY) == setup["standard"]
    )


def test_currencies(workspace, setup):
    usd = book(workspace, "USD")
    usd.currency = "USD"
    usd.save()
    price(workspace, usd, setup["pump"], "14")
    p = price_for(workspace=workspace, product=setup["pump"], currency="usd", on=TODAY)
    assert (p.unit_price, p.currency, p.price_book_id) == (Decimal("14"), "USD", usd.pk)
    # The customer's own currency is the default.
    dollar_customer = AccountFactory(workspace=workspace, currency="USD")
    p = price_for(workspace=workspace, product=setup["pump"], account=dollar_customer, on=TODAY)
    assert p.currency == "USD"
    # The customer's CNY book does not price in USD.
    p = price_for(
        workspace=workspace,
        product=setup["pump"],
        account=setup["account"],
        currency="USD",
        on=TODAY,
    )
    assert p.source == "standard"
    with pytest.raises(ApplicationError) as caught:
        price_for(workspace=workspace, product=setup["valve"], currency="USD", on=TODAY)
    assert caught.value.code == "no_price"
    assert "P2" in str(caught.value.message)
    with pytest.raises(ApplicationError) as caught:
        price_book_for(workspace=workspace, currency="EUR", on=TODAY)
    assert caught.value.code == "no_price_book"


def test_no_price_anywhere(workspace, setup):
    lonely = product(workspace, "X9")
    assert prices_for(workspace=workspace, products=[lonely], on=TODAY) == {}
    with pytest.raises(ApplicationError) as caught:
        price_for(workspace=workspace, product=lonely, on=TODAY)
    assert caught.value.code == "no_price"
    assert "X9" in str(caught.value.message)


def test_other_workspace_products_and_customers_are_not_found(workspace, other_workspace, setup):
    foreign = product(other_workspace, "F1")
    with pytest.raises(NotFound):
        price_for(workspace=workspace, product=foreign, on=TODAY)
    with pytest.raises(NotFound):
        prices_for(workspace=workspace, products=[foreign.pk], on=TODAY)
    with pytest.raises(NotFound):
        prices_for(workspace=workspace, product_ids=[setup["pump"].pk, foreign.pk], on=TODAY)
    with pytest.raises(NotFound):
        price_for(
            workspace=workspace,
            product=setup["pump"],
            account=AccountFactory(workspace=other_workspace),
            on=TODAY,
        )
    # Another workspace's books never price this workspace's products.
    theirs = book(other_workspace, "Theirs")
    assert price_book_for(workspace=other_workspace, on=TODAY) == theirs
    assert price_book_for(workspace=workspace, on=TODAY) == setup["standard"]


def test_ids_are_accepted(workspace, setup):
    found = prices_for(workspace=workspace, product_ids=[setup["pump"].pk], on=TODAY)
    assert found[setup["pump"].pk].unit_price == Decimal("100")


def test_fixed_queries(workspace, setup, vat):
    def count(products):
        with CaptureQueriesContext(connection) as ctx:
            found = prices_for(
                workspace=workspace, products=products, account=setup["account"], on=TODAY
            )
        assert len(found) == len(products)
        return len(ctx.captured_queries)

    small = count([setup["pump"]])
    many = []
    for i in range(30):
        p = product(workspace, f"M{i}", vat)
        price(workspace, setup["standard"], p, "1")
        many.append(p)
    assert count(many) == small == 3


def test_within_a_level_the_latest_start_wins(workspace, setup):
    account = setup["account"]
    newer = book(
        workspace,
        "Own 2026-06",
        PriceBookKind.CUSTOMER,
        account=account,
        valid_from=dt.date(2026, 6, 1),
    )
    price(workspace, newer, setup["pump"], "85")
    p = price_for(workspace=workspace, product=setup["pump"], account=account, on=TODAY)
    assert (p.price_book_id, p.unit_price) == (newer.pk, Decimal("85"))
    # The newer book does not list the valve: the older own book, then the class book, do.
    p = price_for(workspace=workspace, product=setup["valve"], account=account, on=TODAY)
    assert p.source == "class"
    assert price_book_for(workspace=workspace, account=account, on=TODAY) == newer
    assert (
        price_book_for(workspace=workspace, account=account, on=dt.date(2026, 5, 31))
        == setup["own"]
    )
