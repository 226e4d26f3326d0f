# ruff: noqa: F811  (pytest fixtures imported from catalog_support)
"""The catalogue's services: tax rates, currencies and rates, products, price books, prices
and the price list import — rules, bad input (nothing written), rights, audit rows."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry
from guanxi.sales.models import (
    Currency,
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    Product,
    TaxRate,
)
from guanxi.sales.services import catalog as services
from guanxi.sales.services.pricing import price_for

from .catalog_support import make_catalogue, manager, nobody, rep, vat6, vat13  # noqa: F401


def scope(user):
    return {"actor": user, "workspace": user.workspace}


# --- tax rates -------------------------------------------------------------------------------


def test_tax_rate_rules(manager, vat13):
    row = services.tax_rate_create(**scope(manager), name="VAT 10%", rate="0.10", is_default=True)
    assert row.rate == Decimal("0.10")
    assert not TaxRate.objects.in_workspace(manager.workspace).get(pk=vat13.pk).is_default
    with pytest.raises(ApplicationError) as caught:
        services.tax_rate_create(**scope(manager), name="", rate="1.3")
    assert set(caught.value.fields) == {"name", "rate"}
    with pytest.raises(Conflict):
        services.tax_rate_create(**scope(manager), name="VAT 10%", rate="0.1")
    services.tax_rate_update(**scope(manager), tax_rate_id=row.pk, active=False)
    assert not TaxRate.objects.in_workspace(manager.workspace).get(pk=row.pk).active
    assert (
        AuditEntry.objects.in_workspace(manager.workspace)
        .filter(object_key="sales.taxrate", object_id=str(row.pk))
        .count()
        == 2
    )


def test_tax_rate_needs_the_configuration_right(rep, vat13):
    with pytest.raises(PermissionDenied):
        services.tax_rate_create(**scope(rep), name="X", rate="0.1")
    with pytest.raises(PermissionDenied):
        services.tax_rate_update(**scope(rep), tax_rate_id=vat13.pk, rate="0.2")


# --- currencies and rates --------------------------------------------------------------------


def test_currency_codes(manager):
    usd = services.currency_create(**scope(manager), code="usd")
    assert (usd.code, usd.decimals) == ("USD", 2)
    assert usd.name  # babel's name in the workspace's language
    assert services.currency_create(**scope(manager), code="JPY").decimals == 0
    for bad in ("US", "ABC", "usdx", ""):
        with pytest.raises(ApplicationError) as caught:
            services.currency_create(**scope(manager), code=bad)
        assert "code" in caught.value.fields
    with pytest.raises(Conflict):
        services.currency_create(**scope(manager), code="USD")
    base = Currency.objects.in_workspace(manager.workspace).get(code="CNY")
    with pytest.raises(ApplicationError) as caught:
        services.currency_update(**scope(manager), currency_id=base.pk, active=False)
    assert "active" in caught.value.fields
    services.currency_update(**scope(manager), currency_id=usd.pk, name="美元", decimals=2)


def test_exchange_rates(manager):
    services.currency_create(**scope(manager), code="USD")
    day = dt.date(2026, 1, 1)
    row = services.exchange_rate_create(
        **scope(manager), currency="USD", valid_from=day, rate="7.12345678"
    )
    assert row.rate == Decimal("7.12345678")
    with pytest.raises(Conflict):
        services.exchange_rate_create(**scope(manager), currency="USD", valid_from=day, rate="7")
    for rate in ("0", "-1", "abc", 7.1):
        with pytest.raises(ApplicationError) as caught:
            services.exchange_rate_create(
                **scope(manager), currency="USD", valid_from=dt.date(2026, 2, 1), rate=rate
            )
        assert "rate" in caught.value.fields
    # The base currency's rate is 1, always.
    with pytest.raises(ApplicationError) as caught:
        services.exchange_rate_create(**scope(manager), currency="CNY", valid_from=day, rate="1")
    assert "currency" in caught.value.fields
    # A currency the workspace has not set up, and one that does not exist.
    for code in ("EUR", "ZZZ"):
        with pytest.raises(ApplicationError) as caught:
            services.exchange_rate_create(**scope(manager), currency=code, valid_from=day, rate="8")
        assert "currency" in caught.value.fields
    services.exchange_rate_update(**scope(manager), rate_id=row.pk, rate="7.2")
    with pytest.raises(ApplicationError):
        services.exchange_rate_update(**scope(manager), rate_id=row.pk, rate="0")
    assert ExchangeRate.objects.in_workspace(manager.workspace).get().rate == Decimal("7.2")
    services.exchange_rate_delete(**scope(manager), rate_id=row.pk)
    assert not ExchangeRate.objects.in_workspace(manager.workspace).exists()


def test_rates_of_another_workspace_are_not_found(manager, other_admin):
    services.currency_create(**scope(other_admin), code="USD")
    theirs = services.exchange_rate_create(
        **scope(other_admin), currency="USD", valid_from=dt.date(2026, 1, 1), rate="7"
    )
    with pytest.raises(NotFound):
        services.exchange_rate_update(**scope(manager), rate_id=theirs.pk, rate="1")
    with pytest.raises(NotFound):
        services.exchange_rate_delete(**scope(manager), rate_id=theirs.pk)


# --- products --------------------------------------------------------------------------------


def test_product_create_update_deactivate(manager, vat13, vat6):
    product = services.product_create(
        **scope(manager), code="PMP-1", name="离心泵", name_en="Centrifugal Pump", unit="台"
    )
    assert product.tax_rate_id == vat13.pk  # the default rate
    assert "lixinbeng" in product.search_text and "lxb" in product.search_text
    assert "centrifugal pump" in product.search_text and "pmp-1" in product.search_text
    with pytest.raises(Conflict) as caught:
        services.product_create(**scope(manager), code="PMP-1", name="另一个")
    assert caught.value.code == "duplicate"
    services.product_update(
        **scope(manager), product_id=product.pk, name="计量泵", tax_rate_id=vat6.pk
    )
    product.refresh_from_db()
    assert "jiliangbeng" in product.search_text and product.tax_rate_id == vat6.pk
    services.product_deactivate(**scope(manager), product_id=product.pk)
    product.refresh_from_db()
    assert not product.active
    assert (
        AuditEntry.objects.in_workspace(manager.workspace)
        .filter(object_key="sales.product", object_id=str(product.pk))
        .count()
        == 3
    )


def test_product_bad_input_writes_nothing(manager, other_admin):
    from guanxi.sales.services.setup import ensure_sales_defaults

    ensure_sales_defaults(other_admin.workspace)
    theirs = TaxRate.objects.in_workspace(other_admin.workspace).first()
    with pytest.raises(ApplicationError) as caught:
        services.product_create(
            **scope(manager), code="", name="x" * 201, unit="u" * 21, tax_rate_id=theirs.pk
        )
    assert set(caught.value.fields) == {"code", "name", "unit", "tax_rate_id"}
    with pytest.raises(ApplicationError):
        services.product_create(**scope(manager), code="A", name="B", colour="red")
    assert not Product.objects.in_workspace(manager.workspace).exists()
    other = services.product_create(**scope(other_admin), code="X", name="外")
    with pytest.raises(NotFound):
        services.product_update(**scope(manager), product_id=other.pk, name="mine")


def test_product_needs_the_right(rep, nobody):
    for user in (rep, nobody):
        with pytest.raises(PermissionDenied):
            services.product_create(**scope(user), code="A", name="B")


# --- price books -----------------------------------------------------------------------------


def test_book_kind_rules(manager, other_admin):
    ws = manager.workspace
    with pytest.raises(ApplicationError) as caught:
        services.price_book_create(**scope(manager), name="A", kind="class", currency="CNY")
    assert "customer_class" in caught.value.fields
    with pytest.raises(ApplicationError) as caught:
        services.price_book_create(**scope(manager), name="C", kind="customer", currency="CNY")
    assert "account_id" in caught.value.fields
    account = AccountFactory(workspace=ws)
    with pytest.raises(ApplicationError):
        services.price_book_create(
            **scope(manager), name="S", kind="standard", currency="CNY", account_id=account.pk
        )
    at_account = ContactFactory(workspace=ws, account=account)
    with pytest.raises(ApplicationError) as caught:
        services.price_book_create(
            **scope(manager), name="P", kind="customer", currency="CNY", contact_id=at_account.pk
        )
    assert "contact_id" in caught.value.fields
    person = ContactFactory(workspace=ws, account=None)
    book = services.price_book_create(
        **scope(manager), name="P", kind="customer", currency="CNY", contact_id=person.pk
    )
    assert book.contact_id == person.pk
    with pytest.raises(NotFound):
        services.price_book_create(
            **scope(manager),
            name="X",
            kind="customer",
            currency="CNY",
            account_id=AccountFactory(workspace=other_admin.workspace).pk,
        )
    with pytest.raises(ApplicationError) as caught:
        services.price_book_create(
            **scope(manager),
            name="",
            currency="XYZ",
            valid_from="2026-02-01",
            valid_until="2026-01-01",
        )
    assert set(caught.value.fields) == {"name", "currency", "valid_until"}
    with pytest.raises(ApplicationError) as caught:
        services.price_book_create(**scope(manager), name="USD", currency="USD")
    assert "currency" in caught.value.fields  # not set up as a currency
    assert PriceBook.objects.in_workspace(ws).count() == 1


def test_one_active_standard_book_per_currency(manager):
    first = services.price_book_create(**scope(manager), name="2026", currency="CNY")
    with pytest.raises(Conflict) as caught:
        services.price_book_create(**scope(manager), name="again", currency="CNY")
    assert caught.value.code == "standard_book_exists"
    # Inactive, or in another currency, or for dates that do not overlap: allowed.
    services.price_book_create(**scope(manager), name="draft", currency="CNY", active=False)
    services.currency_create(**scope(manager), code="USD")
    services.price_book_create(**scope(manager), name="USD", currency="USD")
    services.price_book_update(
        **scope(manager), price_book_id=first.pk, valid_until=dt.date(2026, 12, 31)
    )
    nxt = services.price_book_create(
        **scope(manager), name="2027", currency="CNY", valid_from=dt.date(2027, 1, 1)
    )
    with pytest.raises(Conflict):
        services.price_book_update(**scope(manager), price_book_id=nxt.pk, valid_from=None)


def test_book_rights(rep, manager):
    book = services.price_book_create(**scope(manager), name="S", currency="CNY")
    with pytest.raises(PermissionDenied):
        services.price_book_create(**scope(rep), name="S2", currency="CNY")
    with pytest.raises(PermissionDenied):
        services.price_book_update(**scope(rep), price_book_id=book.pk, name="x")


# --- prices ----------------------------------------------------------------------------------


def test_price_entries(manager, other_admin, rep):
    cat = make_catalogue(manager.workspace, manager, products=2)
    book, pump = cat["standard"], cat["products"][0]
    services.price_entry_set(
        **scope(manager), price_book_id=book.pk, product_id=pump.pk, unit_price="1234.5678"
    )
    assert price_for(workspace=manager.workspace, product=pump).unit_price == Decimal("1234.5678")
    for bad in ("-1", "1.23456", "x", None):
        with pytest.raises(ApplicationError) as caught:
            services.price_entry_set(
                **scope(manager), price_book_id=book.pk, product_id=pump.pk, unit_price=bad
            )
        assert "unit_price" in caught.value.fields
    services.price_entry_set(
        **scope(manager), price_book_id=book.pk, product_id=pump.pk, unit_price="0"
    )
    foreign = services.product_create(**scope(other_admin), code="F", name="外")
    with pytest.raises(NotFound):
        services.price_entry_set(
            **scope(manager), price_book_id=book.pk, product_id=foreign.pk, unit_price="1"
        )
    with pytest.raises(PermissionDenied):
        services.price_entry_set(
            **scope(rep), price_book_id=book.pk, product_id=pump.pk, unit_price="1"
        )
    services.price_entry_remove(**scope(manager), price_book_id=book.pk, product_id=pump.pk)
    with pytest.raises(NotFound):
        services.price_entry_remove(**scope(manager), price_book_id=book.pk, product_id=pump.pk)
    changes = AuditEntry.objects.in_workspace(manager.workspace).filter(
        object_key="sales.price_book", object_id=str(book.pk)
    )
    assert any("price[PUMP-000]" in e.changes for e in changes)


# --- the import ------------------------------------------------------------------------------


def _csv(text: str) -> bytes:
    return text.encode("utf-8-sig")


def test_import_csv_all_or_nothing(manager):
    cat = make_catalogue(manager.workspace, manager, products=3)
    book = cat["class_a"]
    good = _csv("产品编码,单价\nPUMP-000,940\nPUMP-001,980.5\n\nPUMP-002,1002\n")
    result = services.price_list_import(
        **scope(manager), price_book_id=book.pk, file_name="a.csv", content=good
    )
    assert (result.rows, result.created, result.updated, result.unchanged) == (3, 2, 1, 0)
    prices = dict(
        PriceBookEntry.objects.in_workspace(manager.workspace)
        .filter(price_book=book)
        .values_list("product__code", "unit_price")
    )
    assert prices == {
        "PUMP-000": Decimal("940"),
        "PUMP-001": Decimal("980.5"),
        "PUMP-002": Decimal("1002"),
    }
    bad = _csv("product code,price\nPUMP-000,1\nNOPE,5\nPUMP-001,-3\nPUMP-000,2\n,4\n")
    with pytest.raises(ApplicationError) as caught:
        services.price_list_import(
            **scope(manager), price_book_id=book.pk, file_name="b.csv", content=bad
        )
    assert caught.value.code == "import_invalid"
    assert set(caught.value.fields) == {"Row 3", "Row 4", "Row 5", "Row 6"}
    assert PriceBookEntry.objects.in_workspace(manager.workspace).get(
        price_book=book, product__code="PUMP-000"
    ).unit_price == Decimal("940")
    for name, content, code in (
        ("c.csv", _csv("name,amount\nPUMP-000,1\n"), "bad_header"),
        ("d.pdf", b"%PDF", "bad_file"),
        ("e.xlsx", b"not a zip", "bad_file"),
        ("f.csv", b"", "bad_file"),
    ):
        with pytest.raises(ApplicationError) as caught:
            services.price_list_import(
                **scope(manager), price_book_id=book.pk, file_name=name, content=content
            )
        assert caught.value.code == code


def test_import_xlsx_and_gb18030(manager):
    cat = make_catalogue(manager.workspace, manager, products=2)
    book = cat["standard"]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Product code", "Unit price"])
    sheet.append(["PUMP-000", 1200.1])
    sheet.append(["PUMP-001", 7])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = services.price_list_import(
        **scope(manager), price_book_id=book.pk, file_name="prices.xlsx", content=buffer.getvalue()
    )
    assert (result.updated, result.created) == (2, 0)
    pump = cat["products"][0]
    assert price_for(workspace=manager.workspace, product=pump).unit_price == Decimal("1200.1")
    gbk = "编码,价格\nPUMP-001,8\n".encode("gb18030")
    services.price_list_import(
        **scope(manager), price_book_id=book.pk, file_name="gbk.csv", content=gbk
    )
    assert price_for(workspace=manager.workspace, product=cat["products"][1]).unit_price == Decimal(
        "8"
    )


def test_import_rights_and_other_workspace(manager, rep, other_admin):
    cat = make_catalogue(manager.workspace, manager, products=1)
    content = _csv("code,price\nPUMP-000,1\n")
    with pytest.raises(PermissionDenied):
        services.price_list_import(
            **scope(rep), price_book_id=cat["standard"].pk, file_name="a.csv", content=content
        )
    with pytest.raises(NotFound):
        services.price_list_import(
            **scope(other_admin),
            price_book_id=cat["standard"].pk,
            file_name="a.csv",
            content=content,
        )
    # Another workspace's product codes are unknown here.
    other_cat = make_catalogue(other_admin.workspace, other_admin, products=1)
    services.product_create(**scope(other_admin), code="ONLY-THERE", name="外")
    with pytest.raises(ApplicationError) as caught:
        services.price_list_import(
            **scope(manager),
            price_book_id=cat["standard"].pk,
            file_name="a.csv",
            content=_csv("code,price\nONLY-THERE,1\n"),
        )
    assert caught.value.code == "import_invalid"
    assert other_cat["standard"].pk != cat["standard"].pk
