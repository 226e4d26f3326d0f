"""The orders, invoices, payments, receivables and import endpoints: they work, answer bad
input with the error shape (nothing written), refuse another workspace's ids (404) and
users without the right (403)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token
from guanxi.sales.models import Order, Payment

from .orders_support import *  # noqa: F403
from .orders_support import make_order

pytestmark = pytest.mark.django_db


def api_for(user) -> ApiClient:
    return ApiClient(make_token(user, scopes=["read", "write"]))


def test_order_invoice_payment_flow(rep, account, product):
    api = api_for(rep)
    response = api.post(
        "/orders",
        {
            "account_id": account.pk,
            "currency": "CNY",
            "order_date": dt.date.today().isoformat(),
            "lines": [{"product_id": product.pk, "quantity": "2", "unit_price": "5000"}],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    order_id = body["id"]
    assert body["total"] == "11300.00" and body["lines"][0]["product_code"] == "P-1"
    assert body["credit"]["over"] is True and body["credit"]["message"]  # limit 10,000
    assert api.get(f"/orders/{order_id}").json()["number"] == body["number"]
    assert [o["id"] for o in api.get("/orders").json()["items"]] == [order_id]
    response = api.post(f"/orders/{order_id}/invoices", {"amount": "300"})
    assert response.status_code == 201, response.content
    invoice_id = response.json()["id"]
    assert_error(api.post(f"/orders/{order_id}/invoices", {"amount": "11000.01"}), 400)
    assert len(api.get(f"/orders/{order_id}/invoices").json()) == 1
    response = api.post(f"/invoices/{invoice_id}/payments", {"amount": "100", "method": "alipay"})
    assert response.status_code == 201 and response.json()["status"] == "partly_paid"
    assert_error(api.post(f"/invoices/{invoice_id}/payments", {"amount": "200.01"}), 400)
    assert len(api.get(f"/invoices/{invoice_id}/payments").json()) == 1
    assert_error(api.post(f"/orders/{order_id}/status", {"status": "cancelled"}), 409)
    response = api.post(f"/orders/{order_id}/status", {"status": "shipped"})
    assert response.status_code == 200 and response.json()["status"] == "shipped"
    assert_error(api.post(f"/invoices/{invoice_id}/void"), 409)
    ageing = api.get("/receivables/ageing", by="customer").json()
    assert ageing["rows"][0]["id"] == account.pk and ageing["rows"][0]["d0_30"] == "200.00"
    assert ageing["totals"]["total"] == "200.00"
    by_rep = api.get("/receivables/ageing", by="rep").json()
    assert by_rep["rows"][0]["id"] == rep.pk
    credit = api.get("/receivables/credit", account_id=account.pk).json()
    assert credit["outstanding"] == "11200.00" and credit["over"] is True


def test_bad_input_writes_nothing(rep, account, product):
    api = api_for(rep)
    for lines in (
        [{"product_id": product.pk, "quantity": "-1", "unit_price": "5"}],
        [{"product_id": product.pk, "quantity": "1", "unit_price": "5", "tax_rate": "13"}],
        [],
    ):
        payload = {
            "account_id": account.pk,
            "currency": "CNY",
            "order_date": "2026-01-01",
            "lines": lines,
        }
        assert api.post("/orders", payload).status_code in (400, 422)
    error = assert_error(
        api.post(
            "/orders",
            {
                "account_id": account.pk,
                "currency": "EUR",
                "order_date": "2026-01-01",
                "lines": [{"quantity": "1", "unit_price": "1", "description": "x"}],
            },
        ),
        400,
    )
    assert "currency" in error["fields"]
    assert not Order.objects.in_workspace(rep.workspace).exists()
    assert_error(api.get("/receivables/ageing", by="nobody"), 422)


def test_other_workspace_gets_404(rep, account, other_admin):
    order = make_order(rep, account=account)
    from guanxi.sales.services import invoices

    invoice = invoices.invoice_create(actor=rep, workspace=rep.workspace, order_id=order.pk)
    api = api_for(other_admin)
    assert_error(api.get(f"/orders/{order.pk}"), 404)
    assert_error(api.post(f"/orders/{order.pk}/status", {"status": "shipped"}), 404)
    assert_error(api.get(f"/orders/{order.pk}/invoices"), 404)
    assert_error(api.post(f"/orders/{order.pk}/invoices", {}), 404)
    assert_error(api.get(f"/invoices/{invoice.pk}/payments"), 404)
    assert_error(api.post(f"/invoices/{invoice.pk}/payments", {"amount": "1"}), 404)
    assert_error(api.post(f"/invoices/{invoice.pk}/void"), 404)
    assert_error(api.get("/receivables/credit", account_id=account.pk), 404)
    assert api.get("/orders").json()["items"] == []
    assert api.get("/receivables/ageing").json()["rows"] == []
    assert not Payment.objects.in_workspace(rep.workspace).exists()


def test_user_without_the_right_gets_403(rep, account, nobody, reader):
    order = make_order(rep, account=account)
    api = api_for(nobody)
    assert_error(api.get("/orders"), 403)
    assert_error(api.get("/receivables/ageing"), 403)
    assert_error(
        api.post(
            "/orders",
            {
                "account_id": account.pk,
                "currency": "CNY",
                "order_date": "2026-01-01",
                "lines": [{"quantity": "1", "unit_price": "1", "description": "x"}],
            },
        ),
        403,
    )
    assert_error(api.post(f"/orders/{order.pk}/status", {"status": "shipped"}), 403)
    # A reader sees orders but may not change them or import.
    reader_api = api_for(reader)
    assert reader_api.get(f"/orders/{order.pk}").status_code == 200
    assert_error(reader_api.post(f"/orders/{order.pk}/invoices", {}), 403)
    assert_error(reader_api.post(f"/orders/{order.pk}/status", {"status": "shipped"}), 403)


def test_import_endpoint(
    manager, account, product, rep, other_admin, nobody, django_capture_on_commit_callbacks
):
    token = make_token(manager, scopes=["read", "write"])
    client = Client(headers={"authorization": f"Bearer {token}"})
    from django.core.files.uploadedfile import SimpleUploadedFile

    account.owner = manager
    account.save()
    csv = f"customer code,date,product,quantity,amount\n{account.code},2025-02-01,P-1,1,9\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/orders/import",
            {"file": SimpleUploadedFile("o.csv", csv.encode(), "text/csv")},
        )
    assert response.status_code == 202, response.content
    import_id = response.json()["id"]
    body = ApiClient(token).get(f"/orders/import/{import_id}").json()
    assert body["lines_created"] == 1 and body["job_state"] == "succeeded"
    assert_error(api_for(other_admin).get(f"/orders/import/{import_id}"), 404)
    assert_error(api_for(nobody).get(f"/orders/import/{import_id}"), 403)
    assert_error(api_for(rep).get(f"/orders/import/{import_id}"), 404)  # not theirs
    # A rep may not import in bulk.
    rep_client = Client(headers={"authorization": f"Bearer {make_token(rep, scopes=['write'])}"})
    response = rep_client.post(
        "/api/v1/orders/import", {"file": SimpleUploadedFile("o.csv", csv.encode())}
    )
    assert response.status_code == 403
