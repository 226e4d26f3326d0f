# ruff: noqa: F811  (pytest fixtures imported from catalog_support)
"""The catalogue's pages: products, price books with prices edited in place, the import,
the settings page, the product picker and the 360° panel; fixed query counts at two sizes,
another workspace (404) and users without the right (403)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.sales.models import Currency, ExchangeRate, PriceBookEntry, Product, TaxRate
from guanxi.sales.services import catalog as services

from .catalog_support import make_catalogue, manager, nobody, rep  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(manager):
    return make_catalogue(manager.workspace, manager, products=3)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _count(client, url, **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content[:500]
    return len(ctx)


def _more_products(manager, cat, n):
    for i in range(n):
        product = services.product_create(
            actor=manager, workspace=manager.workspace, code=f"X-{i:03d}", name=f"阀门{i}"
        )
        for book in (cat["standard"], cat["class_a"], cat["own"]):
            services.price_entry_set(
                actor=manager,
                workspace=manager.workspace,
                price_book_id=book.pk,
                product_id=product.pk,
                unit_price=str(10 + i),
            )


@pytest.mark.parametrize(
    "name", ["products", "product", "books", "book", "settings", "picker", "panel", "account"]
)
def test_fixed_query_counts(manager_client, manager, cat, name):
    account, pump = cat["account"], cat["products"][0]
    urls = {
        "products": reverse("sales:product_list"),
        "product": reverse("sales:product_detail", args=[pump.pk]),
        "books": reverse("sales:price_book_list"),
        "book": reverse("sales:price_book_detail", args=[cat["standard"].pk]),
        "settings": reverse("sales:catalog_settings"),
        "picker": reverse("sales:product_picker") + f"?account={account.pk}&q=",
        "panel": reverse("sales:customer_prices_panel", args=["account", account.pk]),
        "account": reverse("customers:account_detail", args=[account.pk]),
    }
    url = urls[name]
    manager_client.get(url)
    small = _count(manager_client, url)
    _more_products(manager, cat, 12)
    services.currency_create(actor=manager, workspace=manager.workspace, code="USD")
    for day in ("2026-01-01", "2026-02-01", "2026-03-01"):
        services.exchange_rate_create(
            actor=manager, workspace=manager.workspace, currency="USD", valid_from=day, rate="7"
        )
    services.tax_rate_create(actor=manager, workspace=manager.workspace, name="X", rate="0.01")
    big = _count(manager_client, url)
    assert big == small


def test_products_list_search_and_detail(manager_client, cat):
    page = manager_client.get(reverse("sales:product_list") + "?q=lxb").content.decode()
    assert "PUMP-000" in page and "PUMP-002" in page
    page = manager_client.get(reverse("sales:product_list") + "?f_category=阀门").content.decode()
    assert "PUMP-001" in page and "PUMP-000" not in page
    pump = cat["products"][0]
    page = manager_client.get(reverse("sales:product_detail", args=[pump.pk])).content.decode()
    assert "标准价目表" in page and "A类客户" in page and "950" in page


def test_product_create_and_edit(manager_client, manager, cat):
    url = reverse("sales:product_create")
    assert manager_client.get(url).status_code == 200
    response = manager_client.post(
        url, {"code": "NEW-1", "name": "新产品", "unit": "件", "active": "on"}
    )
    assert response.status_code == 302
    product = Product.objects.in_workspace(manager.workspace).get(code="NEW-1")
    response = manager_client.post(url, {"code": "NEW-1", "name": "重复"})
    assert (
        response.status_code == 400 and "Another product has this code" in response.content.decode()
    )
    edit = reverse("sales:product_edit", args=[product.pk])
    assert 'value="NEW-1"' in manager_client.get(edit).content.decode()
    response = manager_client.post(edit, {"code": "NEW-1", "name": "改名", "unit": "件"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "改名" and not product.active


def test_book_pages_and_prices_in_place(manager_client, manager, cat):
    book, pump = cat["standard"], cat["products"][0]
    page = manager_client.get(reverse("sales:price_book_detail", args=[book.pk])).content.decode()
    assert "PUMP-000" in page and 'id="entry-' in page
    url = reverse("sales:price_entry_set", args=[book.pk, pump.pk])
    response = manager_client.post(url, {"unit_price": "1111.5"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="entry-{pump.pk}"' in response.content.decode()
    entry = PriceBookEntry.objects.in_workspace(manager.workspace).get(
        price_book=book, product=pump
    )
    assert entry.unit_price == Decimal("1111.5")
    response = manager_client.post(url, {"unit_price": "-5"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "cannot be negative" in response.content.decode()
    entry.refresh_from_db()
    assert entry.unit_price == Decimal("1111.5")
    # Search inside the book (htmx swaps the table).
    response = manager_client.get(
        reverse("sales:price_book_detail", args=[book.pk]) + "?q=PUMP-002",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="book-entries",
    )
    body = response.content.decode()
    assert "PUMP-002" in body and "PUMP-000" not in body and "<html" not in body
    # Remove, then add back by code.
    remove = reverse("sales:price_entry_remove", args=[book.pk, pump.pk])
    assert manager_client.post(remove, HTTP_HX_REQUEST="true").content == b""
    add = reverse("sales:price_entry_add", args=[book.pk])
    manager_client.post(add, {"code": "PUMP-000", "unit_price": "990"})
    assert PriceBookEntry.objects.in_workspace(manager.workspace).get(
        price_book=book, product=pump
    ).unit_price == Decimal("990")
    response = manager_client.post(add, {"code": "NOPE", "unit_price": "1"}, follow=True)
    assert "No product has the code NOPE" in response.content.decode()


def test_book_create_form(manager_client, manager, cat):
    url = reverse("sales:price_book_create")
    assert manager_client.get(url).status_code == 200
    person = ContactFactory(workspace=manager.workspace, account=None, code="P-9")
    response = manager_client.post(
        url,
        {
            "name": "个人客户价",
            "kind": "customer",
            "currency": "CNY",
            "account": "P-9",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = manager_client.post(
        url, {"name": "again", "kind": "standard", "currency": "CNY", "active": "on"}
    )
    assert (
        response.status_code == 400
        and "already the active standard book" in response.content.decode()
    )
    response = manager_client.post(
        url, {"name": "x", "kind": "customer", "currency": "CNY", "account": "NO-SUCH"}
    )
    assert response.status_code == 400 and "No customer has this code" in response.content.decode()
    assert person.pk


def test_import_page(manager_client, manager, cat):
    book = cat["class_a"]
    url = reverse("sales:price_book_import", args=[book.pk])
    upload = SimpleUploadedFile("p.csv", "产品编码,单价\nPUMP-001,777\n".encode())
    response = manager_client.post(url, {"file": upload}, follow=True)
    assert "1 prices added" in response.content.decode()
    bad = SimpleUploadedFile("p.csv", b"code,price\nPUMP-001,abc\n")
    response = manager_client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "Row 2" in response.content.decode()
    assert PriceBookEntry.objects.in_workspace(manager.workspace).get(
        price_book=book, product=cat["products"][1]
    ).unit_price == Decimal("777")


def test_settings_page(manager_client, manager):
    url = reverse("sales:catalog_settings")
    assert 'name="percent" value="13"' in manager_client.get(url).content.decode()
    manager_client.post(url, {"action": "tax_rate_create", "name": "VAT 5%", "percent": "5"})
    assert TaxRate.objects.in_workspace(manager.workspace).get(name="VAT 5%").rate == Decimal(
        "0.05"
    )
    manager_client.post(url, {"action": "currency_create", "code": "usd"})
    assert Currency.objects.in_workspace(manager.workspace).filter(code="USD").exists()
    manager_client.post(
        url, {"action": "rate_create", "currency": "USD", "valid_from": "2026-01-01", "rate": "7.1"}
    )
    rate = ExchangeRate.objects.in_workspace(manager.workspace).get()
    response = manager_client.post(
        url,
        {"action": "rate_create", "currency": "USD", "valid_from": "2026-01-02", "rate": "-1"},
        follow=True,
    )
    assert "greater than 0" in response.content.decode()
    manager_client.post(url, {"action": "rate_update", "id": rate.pk, "rate": "7.2"})
    rate.refresh_from_db()
    assert rate.rate == Decimal("7.2")
    manager_client.post(
        url, {"action": "rate_create", "currency": "USD", "valid_from": "2026-03-01", "rate": "10"}
    )
    manager_client.post(url, {"action": "tax_rate_create", "name": "Small", "percent": "1.25"})
    page = manager_client.get(url).content.decode()
    assert "USD" in page and 'value="7.2"' in page and 'value="10"' in page
    assert 'value="1.25"' in page and 'value="5"' in page


def test_picker_contract(manager_client, manager, cat):
    account, valve = cat["account"], cat["products"][1]
    url = reverse("sales:product_picker")
    body = manager_client.get(url, {"q": "PUMP-001", "account": account.pk, "currency": "CNY"})
    html = body.content.decode()
    assert f'<option value="{valve.pk}"' in html
    assert 'data-price="900.0000"' in html and 'data-source="customer"' in html
    html = manager_client.get(url, {"q": "lixinbeng"}).content.decode()
    assert html.count("<option") == 3 and 'data-source="standard"' in html
    html = manager_client.get(url, {"q": "PUMP-001", "currency": "USD"}).content.decode()
    assert "disabled" in html
    html = manager_client.get(url, {"q": "没有这个"}).content.decode()
    assert 'value=""' in html


def test_customer_panel(manager_client, manager, cat):
    account = cat["account"]
    page = manager_client.get(
        reverse("customers:account_detail", args=[account.pk])
    ).content.decode()
    panel = reverse("sales:customer_prices_panel", args=["account", account.pk])
    assert panel in page and "Prices for this customer" in page
    html = manager_client.get(panel).content.decode()
    assert "大客户专属" in html and "A类客户" in html and "标准价目表" in html
    plain = AccountFactory(workspace=manager.workspace, owner=manager)
    html = manager_client.get(
        reverse("sales:customer_prices_panel", args=["account", plain.pk])
    ).content.decode()
    assert "标准价目表" in html and "大客户专属" not in html


def test_another_workspace_gets_404(client, cat, other_admin):
    client.force_login(other_admin)
    book, pump, account = cat["standard"], cat["products"][0], cat["account"]
    for url in (
        reverse("sales:product_detail", args=[pump.pk]),
        reverse("sales:product_edit", args=[pump.pk]),
        reverse("sales:price_book_detail", args=[book.pk]),
        reverse("sales:price_book_edit", args=[book.pk]),
        reverse("sales:customer_prices_panel", args=["account", account.pk]),
        reverse("sales:product_picker") + f"?account={account.pk}",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (reverse("sales:price_entry_set", args=[book.pk, pump.pk]), {"unit_price": "1"}),
        (reverse("sales:price_entry_remove", args=[book.pk, pump.pk]), {}),
        (reverse("sales:price_entry_add", args=[book.pk]), {"code": "PUMP-000", "unit_price": "1"}),
        (reverse("sales:product_edit", args=[pump.pk]), {"code": "Z", "name": "Z"}),
    ):
        assert client.post(url, data).status_code == 404, url
    assert "PUMP-000" not in client.get(reverse("sales:product_list")).content.decode()
    assert PriceBookEntry.objects.in_workspace(book.workspace).get(
        price_book=book, product=pump
    ).unit_price == Decimal("1000")


def test_users_without_the_right(client, rep, nobody, cat):
    book, pump = cat["standard"], cat["products"][0]
    client.force_login(rep)
    assert client.get(reverse("sales:product_list")).status_code == 200
    assert client.get(reverse("sales:price_book_detail", args=[book.pk])).status_code == 200
    for url, data in (
        (reverse("sales:product_create"), {"code": "Z", "name": "Z"}),
        (reverse("sales:product_edit", args=[pump.pk]), {"code": "Z", "name": "Z"}),
        (reverse("sales:price_book_create"), {"name": "x", "kind": "standard", "currency": "CNY"}),
        (reverse("sales:price_entry_set", args=[book.pk, pump.pk]), {"unit_price": "1"}),
        (reverse("sales:price_entry_remove", args=[book.pk, pump.pk]), {}),
        (
            reverse("sales:catalog_settings"),
            {"action": "tax_rate_create", "name": "x", "percent": "1"},
        ),
    ):
        assert client.post(url, data, follow=True).status_code in (403,), url
    client.force_login(nobody)
    for url in (
        reverse("sales:product_list"),
        reverse("sales:product_detail", args=[pump.pk]),
        reverse("sales:price_book_list"),
        reverse("sales:price_book_detail", args=[book.pk]),
        reverse("sales:catalog_settings"),
        reverse("sales:product_picker"),
        reverse("sales:customer_prices_panel", args=["account", cat["account"].pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert not Product.objects.in_workspace(book.workspace).filter(code="Z").exists()
    assert not TaxRate.objects.in_workspace(book.workspace).filter(name="x").exists()
