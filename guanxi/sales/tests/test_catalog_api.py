# ruff: noqa: F811  (pytest fixtures imported from catalog_support)
"""The catalogue's REST endpoints: happy paths, bad input, another workspace (404) and a
user without the right (403) for each of them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.platform.tests.test_api_support import assert_error, make_token
from guanxi.sales.models import PriceBookEntry, Product
from guanxi.sales.services import catalog as services

from .catalog_support import api_for, make_catalogue, manager, nobody, rep  # noqa: F401


def call(api, method: str, path: str, body):
    return getattr(api, method)(path) if body is None else getattr(api, method)(path, body)


@pytest.fixture
def cat(manager):
    return make_catalogue(manager.workspace, manager, products=3)


def test_products_list_search_create_update(manager, cat):
    api = api_for(manager)
    body = api.get("/products", q="lixinbeng").json()
    assert [p["code"] for p in body["items"]] == ["PUMP-000", "PUMP-001", "PUMP-002"]
    assert api.get("/products", category="阀门").json()["items"][0]["code"] == "PUMP-001"
    page = api.get("/products", limit=2).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get("/products", limit=2, cursor=page["next_cursor"]).json()
    assert [p["code"] for p in rest["items"]] == ["PUMP-002"]
    created = api.post("/products", {"code": "SVC-1", "name": "安装服务", "unit": "次"})
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert Decimal(created.json()["tax_rate"]) == Decimal("0.13")
    assert_error(api.post("/products", {"code": "SVC-1", "name": "again"}), 409, "duplicate")
    changed = api.patch(f"/products/{pid}", {"active": False, "name_en": "Installation"})
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert api.get(f"/products/{pid}").json()["name_en"] == "Installation"
    prices = api.get(f"/products/{cat['products'][0].pk}/prices").json()
    assert [p["price_book"]["kind"] for p in prices] == ["standard", "class"]


def test_prices_resolve(manager, cat):
    api = api_for(manager)
    pump, valve = cat["products"][0], cat["products"][1]
    account = cat["account"]
    body = api.get("/prices", product=pump.pk, account=account.pk).json()
    assert (body["source"], Decimal(body["unit_price"])) == ("class", Decimal("950"))
    body = api.get("/prices", product=valve.pk, account=account.pk).json()
    assert (body["source"], body["price_book_id"]) == ("customer", cat["own"].pk)
    body = api.get("/prices", product=valve.pk).json()
    assert (body["source"], Decimal(body["unit_price"])) == ("standard", Decimal("1001"))
    assert_error(api.get("/prices", product=pump.pk, currency="USD"), 400, "no_price")


def test_price_books_entries_and_import(manager, cat):
    api = api_for(manager)
    books = api.get("/price-books").json()
    assert {b["kind"] for b in books} == {"standard", "class", "customer"}
    created = api.post(
        "/price-books", {"name": "B类", "kind": "class", "customer_class": "B", "currency": "CNY"}
    )
    assert created.status_code == 201, created.content
    bid = created.json()["id"]
    assert_error(api.post("/price-books", {"name": "S2", "currency": "CNY"}), 409)
    assert_error(api.post("/price-books", {"name": "C", "kind": "class", "currency": "CNY"}), 400)
    assert api.patch(f"/price-books/{bid}", {"notes": "2026"}).json()["notes"] == "2026"
    pump = cat["products"][0]
    put = api.put(f"/price-books/{bid}/entries/{pump.pk}", {"unit_price": "975.5"})
    assert put.status_code == 200 and Decimal(put.json()["unit_price"]) == Decimal("975.5")
    assert api.put(f"/price-books/{bid}/entries/{pump.pk}", {"unit_price": "-1"}).status_code in (
        400,
        422,
    )
    entries = api.get(f"/price-books/{bid}/entries").json()
    assert [e["product_code"] for e in entries["items"]] == ["PUMP-000"]
    assert api.delete(f"/price-books/{bid}/entries/{pump.pk}").status_code == 204
    assert_error(api.delete(f"/price-books/{bid}/entries/{pump.pk}"), 404)
    # The import: multipart with the session-less token client.
    client = Client()
    headers = {"authorization": f"Bearer {make_token(manager, ['read', 'write'])}"}
    upload = SimpleUploadedFile("p.csv", b"code,price\nPUMP-000,1\nPUMP-001,2\n")
    response = client.post(f"/api/v1/price-books/{bid}/import", {"file": upload}, headers=headers)
    assert response.status_code == 200, response.content
    assert response.json() == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0}
    bad = SimpleUploadedFile("p.csv", b"code,price\nPUMP-000,-1\nNOPE,1\n")
    response = client.post(f"/api/v1/price-books/{bid}/import", {"file": bad}, headers=headers)
    error = assert_error(response, 400, "import_invalid")
    assert set(error["fields"]) == {"Row 2", "Row 3"}


def test_settings_endpoints(manager, workspace):
    admin_api = api_for(manager)
    rates = admin_api.get("/tax-rates").json()
    assert sorted(Decimal(r["rate"]) for r in rates) == [
        Decimal(x) for x in ("0", "0.03", "0.06", "0.09", "0.13")
    ]
    created = admin_api.post("/tax-rates", {"name": "VAT 5%", "rate": "0.05"})
    assert created.status_code == 201
    assert admin_api.post("/tax-rates", {"name": "bad", "rate": "1.5"}).status_code in (400, 422)
    assert (
        admin_api.patch(f"/tax-rates/{created.json()['id']}", {"active": False}).json()["active"]
        is False
    )
    currencies = admin_api.get("/currencies").json()
    assert [c["code"] for c in currencies if c["is_base"]] == ["CNY"]
    usd = admin_api.post("/currencies", {"code": "USD"})
    assert usd.status_code == 201
    assert_error(admin_api.post("/currencies", {"code": "XYZ"}), 400)
    assert_error(admin_api.post("/currencies", {"code": "USD"}), 409, "duplicate")
    assert (
        admin_api.patch(f"/currencies/{usd.json()['id']}", {"name": "美元"}).json()["name"]
        == "美元"
    )
    rate = admin_api.post(
        "/exchange-rates", {"currency": "USD", "valid_from": "2026-01-01", "rate": "7.1"}
    )
    assert rate.status_code == 201, rate.content
    assert_error(
        admin_api.post(
            "/exchange-rates", {"currency": "USD", "valid_from": "2026-01-01", "rate": "7.2"}
        ),
        409,
    )
    assert admin_api.post(
        "/exchange-rates", {"currency": "USD", "valid_from": "2026-01-02", "rate": "0"}
    ).status_code in (400, 422)
    assert_error(
        admin_api.post(
            "/exchange-rates", {"currency": "CNY", "valid_from": "2026-01-02", "rate": "1"}
        ),
        400,
    )
    rid = rate.json()["id"]
    assert Decimal(admin_api.patch(f"/exchange-rates/{rid}", {"rate": "7.3"}).json()["rate"]) == (
        Decimal("7.3")
    )
    assert admin_api.get("/exchange-rates", currency="USD").json()["items"][0]["id"] == rid
    assert admin_api.delete(f"/exchange-rates/{rid}").status_code == 204


def test_another_workspace_gets_404(manager, cat, other_admin):
    api = api_for(other_admin)
    pump, book = cat["products"][0], cat["standard"]
    services.currency_create(actor=manager, workspace=manager.workspace, code="USD")
    rate = services.exchange_rate_create(
        actor=manager,
        workspace=manager.workspace,
        currency="USD",
        valid_from="2026-01-01",
        rate="7",
    )
    tax = pump.tax_rate_id
    from guanxi.sales.models import Currency

    usd = Currency.objects.in_workspace(manager.workspace).get(code="USD")
    for method, path, body in (
        ("get", f"/products/{pump.pk}", None),
        ("patch", f"/products/{pump.pk}", {"name": "x"}),
        ("get", f"/products/{pump.pk}/prices", None),
        ("get", f"/price-books/{book.pk}", None),
        ("patch", f"/price-books/{book.pk}", {"name": "x"}),
        ("get", f"/price-books/{book.pk}/entries", None),
        ("put", f"/price-books/{book.pk}/entries/{pump.pk}", {"unit_price": "1"}),
        ("delete", f"/price-books/{book.pk}/entries/{pump.pk}", None),
        ("patch", f"/tax-rates/{tax}", {"name": "x"}),
        ("patch", f"/currencies/{usd.pk}", {"name": "x"}),
        ("patch", f"/exchange-rates/{rate.pk}", {"rate": "1"}),
        ("delete", f"/exchange-rates/{rate.pk}", None),
    ):
        response = call(api, method, path, body)
        assert_error(response, 404)
    assert_error(api.get("/prices", product=pump.pk), 404)
    # Their lists hold none of ours; our product in their book is "not found".
    assert api.get("/products").json()["items"] == []
    their = make_catalogue(other_admin.workspace, other_admin, products=1)
    assert_error(
        api.put(f"/price-books/{their['standard'].pk}/entries/{pump.pk}", {"unit_price": "1"}),
        404,
    )
    assert_error(
        api.get("/prices", product=their["products"][0].pk, account=cat["account"].pk), 404
    )
    assert Product.objects.in_workspace(manager.workspace).get(pk=pump.pk).name != "x"


def test_users_without_the_right_get_403(rep, nobody, cat):
    rep_api, nobody_api = api_for(rep), api_for(nobody)
    pump, book = cat["products"][0], cat["standard"]
    # A rep reads the catalogue and resolves prices but changes nothing.
    assert rep_api.get("/products").status_code == 200
    assert rep_api.get("/prices", product=pump.pk).status_code == 200
    for method, path, body in (
        ("post", "/products", {"code": "N", "name": "N"}),
        ("patch", f"/products/{pump.pk}", {"name": "x"}),
        ("post", "/price-books", {"name": "x", "currency": "CNY", "active": False}),
        ("patch", f"/price-books/{book.pk}", {"name": "x"}),
        ("put", f"/price-books/{book.pk}/entries/{pump.pk}", {"unit_price": "1"}),
        ("delete", f"/price-books/{book.pk}/entries/{pump.pk}", None),
        ("post", "/tax-rates", {"name": "x", "rate": "0.1"}),
        ("post", "/currencies", {"code": "USD"}),
    ):
        response = call(rep_api, method, path, body)
        assert_error(response, 403)
    for path in (
        "/products",
        f"/products/{pump.pk}",
        "/price-books",
        f"/price-books/{book.pk}/entries",
        "/tax-rates",
        "/currencies",
        "/exchange-rates",
        f"/prices?product={pump.pk}",
    ):
        assert_error(nobody_api.get(path), 403)
    assert PriceBookEntry.objects.in_workspace(rep.workspace).get(
        price_book=book, product=pump
    ).unit_price == Decimal("1000")
    # A read-only token cannot write, whatever the role.
    from guanxi.platform.tests.test_api_support import ApiClient

    read_only = ApiClient(make_token(rep, ["read"]))
    assert_error(read_only.post("/products", {"code": "N", "name": "N"}), 403)


def test_openapi_documents_the_errors(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operations = {
        op["operationId"]: op
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    }
    for name in (
        "products_list",
        "products_create",
        "products_update",
        "price_books_entries",
        "price_books_entry_set",
        "price_books_import",
        "prices_resolve",
        "tax_rates_create",
        "currencies_create",
        "exchange_rates_delete",
    ):
        assert {"400", "401", "403", "404", "409", "422"} <= set(operations[name]["responses"])
