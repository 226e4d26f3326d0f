"""The orders pages: list, order (record a payment in place with htmx), new order with the
credit banner, receivables by customer and by rep (drill-down, CSV), the import page and
the 360° section — fixed query counts, other workspaces 404, users without the right 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers.tests.factories import AccountFactory
from guanxi.sales.models import Invoice, Order, Payment
from guanxi.sales.services import invoices

from .orders_support import *  # noqa: F403
from .orders_support import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def _orders(rep, account, product, n):
    made = []
    for i in range(n):
        order = make_order(rep, account=account, product=product, price=str(10 + i))
        invoices.invoice_create(
            actor=rep,
            workspace=rep.workspace,
            order_id=order.pk,
            issued_on=dt.date.today() - dt.timedelta(days=20 * i),
        )
        made.append(order)
    return made


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
    return len(ctx)


@pytest.mark.parametrize(
    "name", ["order_list", "receivables", "receivables_by_rep", "detail", "section"]
)
def test_fixed_query_counts(rep_client, rep, account, product, sales_ws, name):
    def url():
        if name == "order_list":
            return reverse("sales:order_list")
        if name == "receivables":
            return reverse("sales:receivables")
        if name == "receivables_by_rep":
            return reverse("sales:receivables") + "?by=rep"
        if name == "detail":
            return reverse("sales:order_detail", args=[order.pk])
        return reverse("customers:account_detail", args=[account.pk])

    others = [AccountFactory(workspace=sales_ws, owner=rep) for _ in range(6)]
    order = make_order(rep, account=account, product=product, price="100")
    invoices.invoice_create(actor=rep, workspace=sales_ws, order_id=order.pk, amount="1")
    rep_client.get(url())
    small = _count(rep_client, url())
    for other in others:
        _orders(rep, other, product, 2)
    _orders(rep, account, product, 4)
    for _ in range(3):
        invoices.invoice_create(actor=rep, workspace=sales_ws, order_id=order.pk, amount="1")
    big = _count(rep_client, url())
    assert big == small


def test_customer_section(rep_client, rep, account, product):
    order = _orders(rep, account, product, 1)[0]
    page = rep_client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert "Orders and receivables" in page and order.number in page
    assert reverse("sales:order_create") + f"?account={account.pk}" in page


def test_order_page_and_payment_in_place(rep_client, rep, account, product):
    order = _orders(rep, account, product, 1)[0]
    invoice = Invoice.objects.in_workspace(rep.workspace).get(order=order)
    page = rep_client.get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert order.number in page and invoice.number in page and "水泵" in page
    url = reverse("sales:payment_create", args=[invoice.pk])
    response = rep_client.post(
        url,
        {"amount": "5", "received_on": dt.date.today().isoformat(), "method": "bank"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="order-invoices"' in response.content.decode()
    assert Payment.objects.in_workspace(rep.workspace).count() == 1
    response = rep_client.post(
        url,
        {"amount": "99999", "received_on": dt.date.today().isoformat(), "method": "bank"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400 and "unpaid" in response.content.decode()
    assert Payment.objects.in_workspace(rep.workspace).count() == 1


def test_status_invoice_and_void_buttons(rep_client, rep, account, product):
    order = make_order(rep, account=account, product=product)
    rep_client.post(reverse("sales:order_status", args=[order.pk]), {"status": "shipped"})
    order.refresh_from_db()
    assert order.status == "shipped"
    response = rep_client.post(reverse("sales:invoice_create", args=[order.pk]), {"amount": "1"})
    assert response.status_code == 302
    invoice = Invoice.objects.in_workspace(rep.workspace).get()
    response = rep_client.post(
        reverse("sales:invoice_create", args=[order.pk]), {"amount": "99999"}
    )
    assert response.status_code == 400
    rep_client.post(reverse("sales:invoice_void", args=[invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.status == "void"


def test_new_order_form_with_credit_banner(rep_client, rep, account, product):
    make_order(rep, account=account, price="9000")  # 10,170 owed: over the 10,000 limit
    url = reverse("sales:order_create") + f"?account={account.pk}"
    page = rep_client.get(url).content.decode()
    assert "Credit limit exceeded" in page
    banner = rep_client.get(reverse("sales:order_credit_banner"), {"customer": account.code})
    assert "Credit limit exceeded" in banner.content.decode()
    data = {
        "customer": account.code,
        "order_date": dt.date.today().isoformat(),
        "currency": "CNY",
        "line-1-product": "P-1",
        "line-1-quantity": "1",
        "line-1-unit_price": "10",
    }
    response = rep_client.post(reverse("sales:order_create"), data, follow=True)
    assert response.status_code == 200
    assert "Credit limit exceeded" in response.content.decode()  # warned, not blocked
    assert Order.objects.in_workspace(rep.workspace).count() == 2
    bad = {
        **data,
        "line-1-quantity": "-3",
        "line-2-product": "NOPE",
        "line-2-quantity": "1",
        "line-2-unit_price": "1",
    }
    response = rep_client.post(reverse("sales:order_create"), bad)
    assert response.status_code == 400
    assert Order.objects.in_workspace(rep.workspace).count() == 2


def test_receivables_drill_and_csv(rep_client, rep, account, product):
    _orders(rep, account, product, 3)
    page = rep_client.get(reverse("sales:receivables")).content.decode()
    drill = reverse("sales:receivables_customer", args=["accounts", account.pk])
    assert drill in page and account.name in page
    detail = rep_client.get(drill).content.decode()
    assert "31–60" in detail
    response = rep_client.get(reverse("sales:receivables"), {"format": "csv", "by": "rep"})
    text = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv") and rep.full_name in text


def test_import_page(client, manager, sales_ws, product, django_capture_on_commit_callbacks):
    client.force_login(manager)
    AccountFactory(workspace=sales_ws, code="IMP-A", owner=manager)
    csv = "客户编码,日期,产品编码,数量,金额\nIMP-A,2025-01-05,P-1,2,20\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sales:order_import"),
            {"file": SimpleUploadedFile("o.csv", csv.encode()), "settled": "1"},
        )
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and "o.csv" in detail.content.decode()
    assert Order.objects.in_workspace(sales_ws).get().status == "completed"
    owed = "客户编码,日期,产品编码,数量,金额\nIMP-A,2025-01-06,P-1,2,20\n"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("sales:order_import"), {"file": SimpleUploadedFile("p.csv", owed.encode())}
        )
    assert Order.objects.in_workspace(sales_ws).get(order_date="2025-01-06").status == "confirmed"
    bad = client.post(
        reverse("sales:order_import"), {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")}
    )
    assert bad.status_code == 400


def test_other_workspace_and_no_right(client, rep, account, product, other_admin, nobody):
    order = _orders(rep, account, product, 1)[0]
    invoice = Invoice.objects.in_workspace(rep.workspace).get()
    client.force_login(other_admin)
    for url in (
        reverse("sales:order_detail", args=[order.pk]),
        reverse("sales:receivables_customer", args=["accounts", account.pk]),
    ):
        assert client.get(url).status_code == 404
    assert (
        client.post(
            reverse("sales:order_status", args=[order.pk]), {"status": "shipped"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("sales:payment_create", args=[invoice.pk]), {"amount": "1"}).status_code
        == 404
    )
    assert account.name not in client.get(reverse("sales:receivables")).content.decode()
    client.force_login(nobody)
    for url in (
        reverse("sales:order_list"),
        reverse("sales:receivables"),
        reverse("sales:order_create"),
        reverse("sales:order_import"),
        reverse("sales:order_detail", args=[order.pk]),
    ):
        assert client.get(url).status_code in (403, 404), url
    assert client.post(
        reverse("sales:payment_create", args=[invoice.pk]),
        {"amount": "1", "received_on": "2026-01-01", "method": "bank"},
    ).status_code in (403, 404)
    assert not Payment.objects.in_workspace(rep.workspace).exists()
