# ruff: noqa: F811  (pytest fixtures imported from test_quotes_support)
"""The quote pages: list, new quote, the editor (htmx line editing, the history beside the
lines, the approval banner, a stale save refused with "reload"), the approvals inbox, the
PDF, the customer's 360° section; fixed query counts at two sizes; another workspace and
users without the right see nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.factories import UserFactory
from guanxi.sales.models import Product, Quote, QuoteApproval, QuoteStatus
from guanxi.sales.services import quote_approvals, quotes
from guanxi.sales.services.orders import OrderLineInput, order_create

from .test_quotes_support import (  # noqa: F401
    _media_in_tmp,
    account,
    cabinet,
    catalog,
    contact,
    manager,
    outsider,
    pump,
    reader,
    rep,
    rep2,
    team,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def login(client, user):
    client.force_login(user)
    return client


def make(actor, workspace, account, products, discount="0") -> Quote:
    return quotes.quote_create(
        actor=actor,
        workspace=workspace,
        account_id=account.pk,
        lines=[
            {"product_id": p.pk, "quantity": "1", "discount_percent": discount} for p in products
        ],
    )


def test_list_mine_team_and_status(client, workspace, rep, manager, account, pump):
    mine = make(rep, workspace, account, [pump])
    login(client, rep)
    page = client.get(reverse("sales:quote_list")).content.decode()
    assert mine.number in page
    login(client, manager)
    assert mine.number not in client.get(reverse("sales:quote_list")).content.decode()
    team_page = client.get(reverse("sales:quote_list"), {"scope": "team"}, **HTMX)
    assert mine.number in team_page.content.decode()
    sent_only = client.get(reverse("sales:quote_list"), {"scope": "team", "status": "sent"})
    assert mine.number not in sent_only.content.decode()


def test_list_queries_do_not_grow(client, workspace, rep, account, pump):
    login(client, rep)
    url = reverse("sales:quote_list")
    make(rep, workspace, account, [pump])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.get(url)
    small = count()
    for _ in range(15):
        make(rep, workspace, AccountFactory(workspace=workspace, owner=rep), [pump])
    assert count() == small


def test_new_quote_from_the_form(client, workspace, rep, account, contact, pump):
    login(client, rep)
    url = reverse("sales:quote_new") + f"?account={account.pk}"
    page = client.get(url)
    assert page.status_code == 200 and account.name in page.content.decode()
    response = client.post(
        url,
        {
            "account": account.pk,
            "contact": contact.pk,
            "language": "en",
            "discount_percent": "",
            "currency": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    quote = Quote.objects.in_workspace(workspace).get()
    assert response["Location"] == reverse("sales:quote_detail", args=[quote.pk])
    assert (quote.contact_id, quote.language, quote.currency) == (contact.pk, "en", "CNY")
    bad = client.post(url, {"account": account.pk, "language": "en", "currency": "EUR"})
    assert bad.status_code == 200 and "exchange rate" in bad.content.decode()
    assert Quote.objects.in_workspace(workspace).count() == 1


def test_editor_htmx_line_editing_and_history_beside_lines(
    client, workspace, rep, rep2, account, pump, cabinet
):
    # The old customer: a quote sent last month by another rep and an order.
    old = make(rep2, workspace, account, [pump], discount="4")
    quotes.quote_send(
        actor=rep2, workspace=workspace, quote_id=old.pk, lock_version=old.lock_version, email=False
    )
    order_create(
        actor=rep,
        workspace=workspace,
        account=account,
        currency="CNY",
        order_date=timezone.localdate() - dt.timedelta(days=20),
        lines=[OrderLineInput(product=pump, quantity=Decimal(2), unit_price=Decimal("97.50"))],
    )
    quote = make(rep, workspace, account, [pump])
    login(client, rep)
    page = client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    # "What price do I quote this old customer?" — answered beside the line.
    assert "96.00 CNY" in page and rep2.full_name in page and f"{old.number} v1" in page
    assert "97.50 CNY" in page
    # The catalogue's product picker fills the add-line select, priced for this customer.
    assert reverse("sales:product_picker") + f"?account={account.pk}&amp;currency=CNY" in page
    options = client.get(
        reverse("sales:product_picker"),
        {"q": "", "account": account.pk, "currency": "CNY"},
    ).content.decode()
    assert f'value="{cabinet.pk}"' in options
    response = client.post(
        reverse("sales:quote_line_add", args=[quote.pk]),
        {
            "lock_version": quote.lock_version,
            "product_id": cabinet.pk,
            "quantity": "2",
            "discount_percent": "15",
        },
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith('<div id="quote-body"')
    assert "needs a manager" in body and "Ask for approval" in body
    quote.refresh_from_db()
    assert quote.lines.count() == 2 and quote.status == QuoteStatus.DRAFT
    line = quote.lines.get(product=cabinet)
    response = client.post(
        reverse("sales:quote_line_update", args=[quote.pk, line.pk]),
        {"lock_version": quote.lock_version, "quantity": "3", "discount_percent": "5"},
        **HTMX,
    )
    assert "needs a manager" not in response.content.decode()
    line.refresh_from_db()
    assert line.quantity == Decimal("3")


def test_a_stale_save_says_reload_and_writes_nothing(client, workspace, rep, account, pump):
    quote = make(rep, workspace, account, [pump])
    line = quote.lines.get()
    stale = quote.lock_version
    quotes.quote_line_update(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        line_id=line.pk,
        lock_version=stale,
        quantity="4",
    )
    login(client, rep)
    response = client.post(
        reverse("sales:quote_line_update", args=[quote.pk, line.pk]),
        {"lock_version": stale, "quantity": "9"},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and "notice error" in body
    assert "Someone else changed this quote at" in body and "Reload" in body
    line.refresh_from_db()
    assert line.quantity == Decimal("4")
    bad = client.post(
        reverse("sales:quote_line_update", args=[quote.pk, line.pk]),
        {"lock_version": quote.lock_version + 1, "quantity": "-3"},
        **HTMX,
    )
    assert "more than zero" in bad.content.decode()
    line.refresh_from_db()
    assert line.quantity == Decimal("4")


def test_editor_queries_do_not_grow_with_lines_and_history(
    client, workspace, rep, rep2, account, pump
):
    quote = make(rep, workspace, account, [pump])
    login(client, rep)
    url = reverse("sales:quote_detail", args=[quote.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.get(url)
    small = count()
    products = [
        Product.objects.create(workspace=workspace, code=f"X{i}", name=f"产品{i}", unit="件")
        for i in range(8)
    ]
    from guanxi.sales.models import PriceBookEntry

    book = quote.price_book
    for product in products:
        PriceBookEntry.objects.create(
            workspace=workspace, price_book=book, product=product, unit_price=Decimal("10")
        )
    for _ in range(3):  # history for every product
        other = make(rep2, workspace, account, products)
        quotes.quote_send(
            actor=rep2,
            workspace=workspace,
            quote_id=other.pk,
            lock_version=other.lock_version,
            email=False,
        )
    quote.refresh_from_db()
    for product in products:
        quotes.quote_line_add(
            actor=rep,
            workspace=workspace,
            quote_id=quote.pk,
            lock_version=quote.lock_version,
            product_id=product.pk,
        )
        quote.refresh_from_db()
    assert count() == small


def test_submit_and_decide_from_the_inbox(client, workspace, rep, manager, account, pump):
    quote = make(rep, workspace, account, [pump], discount="20")
    login(client, rep)
    response = client.post(
        reverse("sales:quote_submit", args=[quote.pk]),
        {"lock_version": quote.lock_version, "note": "老客户"},
        **HTMX,
    )
    assert "Waiting for a manager" in response.content.decode()
    approval = QuoteApproval.objects.in_workspace(workspace).get()
    login(client, manager)
    inbox = client.get(reverse("sales:quote_approvals")).content.decode()
    assert quote.number in inbox and "老客户" in inbox and "20" in inbox
    decide = reverse("sales:quote_approval_decide", args=[approval.pk])
    refused = client.post(decide, {"decision": "reject", "comment": ""}, **HTMX)
    assert "Say why" in refused.content.decode()
    response = client.post(decide, {"decision": "approve", "comment": "可以"}, **HTMX)
    assert response.status_code == 200 and "可以" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    login(client, rep)
    page = client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    assert "Approved exception" in page and "E-mail with PDF" in page


def test_inbox_queries_do_not_grow(client, workspace, rep, manager, account, pump):
    login(client, manager)
    url = reverse("sales:quote_approvals")

    def submit():
        quote = make(rep, workspace, account, [pump], discount="30")
        quote_approvals.quote_submit(
            actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
        )

    submit()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.get(url)
    small = count()
    for _ in range(6):
        submit()
    assert count() == small


def test_send_accept_and_versions_through_the_page(client, workspace, rep, account, pump):
    quote = make(rep, workspace, account, [pump])
    login(client, rep)
    client.post(
        reverse("sales:quote_send", args=[quote.pk]),
        {"lock_version": quote.lock_version, "email": "0"},
        **HTMX,
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    response = client.post(
        reverse("sales:quote_new_version", args=[quote.pk]),
        {"lock_version": quote.lock_version},
        **HTMX,
    )
    assert response.status_code == 204
    new = Quote.objects.in_workspace(workspace).get(version_number=2)
    assert response["HX-Redirect"] == reverse("sales:quote_detail", args=[new.pk])
    client.post(
        reverse("sales:quote_send", args=[new.pk]), {"lock_version": new.lock_version, "email": "0"}
    )
    new.refresh_from_db()
    response = client.post(
        reverse("sales:quote_accept", args=[new.pk]), {"lock_version": new.lock_version}
    )
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.status == QuoteStatus.ACCEPTED


def test_pdf_in_chinese_and_english_contains_the_number(client, workspace, rep, account, pump):
    from weasyprint import HTML

    from guanxi.sales.services.quote_pdf import quote_pdf_html

    quote = make(rep, workspace, account, [pump])
    login(client, rep)
    response = client.get(reverse("sales:quote_pdf", args=[quote.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 5000

    def words(document) -> str:
        found = []

        def walk(box):
            if hasattr(box, "text") and isinstance(box.text, str):
                found.append(box.text)
            for child in getattr(box, "children", ()) or ():
                walk(child)

        for page in document.pages:
            walk(page._page_box)
        return "".join(found)

    chinese = words(HTML(string=quote_pdf_html(quote)).render())
    # The number, the product's Chinese name (CJK fonts), labels in Chinese.
    assert quote.number in chinese and "离心泵" in chinese and "合计" in chinese
    quote.language = "en"
    english = words(HTML(string=quote_pdf_html(quote)).render())
    assert quote.number in english and "Quotation" in english and "Total" in english
    assert "合计" not in english


def test_the_customer_360_section(client, workspace, rep, account, pump):
    quote = make(rep, workspace, account, [pump])
    login(client, rep)
    page = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert quote.number in page and reverse("sales:quote_new") + f"?account={account.pk}" in page


def test_another_workspace_and_users_without_the_right(
    client, workspace, other_admin, rep, reader, outsider, account, pump
):
    quote = make(rep, workspace, account, [pump], discount="30")
    approval = quote_approvals.quote_submit(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    quote.refresh_from_db()
    line = quote.lines.get()
    pages = [
        reverse("sales:quote_detail", args=[quote.pk]),
        reverse("sales:quote_pdf", args=[quote.pk]),
    ]
    posts = [
        (reverse("sales:quote_line_update", args=[quote.pk, line.pk]), {"quantity": "5"}),
        (reverse("sales:quote_line_add", args=[quote.pk]), {"product_id": pump.pk}),
        (reverse("sales:quote_line_remove", args=[quote.pk, line.pk]), {}),
        (reverse("sales:quote_send", args=[quote.pk]), {"email": "0"}),
        (reverse("sales:quote_new_version", args=[quote.pk]), {}),
        (reverse("sales:quote_approval_decide", args=[approval.pk]), {"decision": "approve"}),
        (
            reverse("sales:quote_decide", args=[quote.pk]),
            {"decision": "approve", "approval_id": approval.pk},
        ),
    ]
    for user in (other_admin, outsider):
        login(client, user)
        for url in pages:
            assert client.get(url).status_code == 404, (user, url)
        for url, data in posts:
            data = {**data, "lock_version": quote.lock_version}
            # A rep has no right to decide at all (403); other ids are simply not there.
            expected = 403 if user == outsider and "decide" in url else 404
            assert client.post(url, data, **HTMX).status_code == expected, (user, url)
        assert (
            quote.number
            not in client.get(reverse("sales:quote_list") + "?scope=all").content.decode()
        )
    login(client, reader)
    assert client.get(pages[0]).status_code == 200
    for url, data in posts[:6]:
        data = {**data, "lock_version": quote.lock_version}
        assert client.post(url, data, **HTMX).status_code == 403, url
    assert client.get(reverse("sales:quote_new")).status_code == 403
    from guanxi.platform.models import Role

    role = Role.objects.create(workspace=workspace, name="No sales", code="no_sales", rights={})
    login(client, UserFactory(workspace=workspace, role=role))
    assert client.get(reverse("sales:quote_list")).status_code == 403
    assert client.get(reverse("sales:quote_approvals")).status_code == 403
    assert client.get(pages[0]).status_code == 404
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL and quote.lines.get().quantity == 1


def test_the_deal_page_lists_the_deals_quotes(client, workspace, rep, account, pump):
    from guanxi.sales.services.deals import deal_create

    deal = deal_create(actor=rep, workspace=workspace, name="泵站改造", account=account)
    quote = quotes.quote_create(
        actor=rep,
        workspace=workspace,
        deal_id=deal.pk,
        lines=[{"product_id": pump.pk, "quantity": "1"}],
    )
    other = make(rep, workspace, account, [pump])  # the customer's, not the deal's
    login(client, rep)
    page = client.get(reverse("sales:deal_detail", args=[deal.pk])).content.decode()
    assert quote.number in page
    assert reverse("sales:quote_new") + f"?deal={deal.pk}" in page
    assert other.number not in page


def test_a_manager_decides_on_the_quote_page(client, workspace, rep, manager, account, pump):
    quote = make(rep, workspace, account, [pump], discount="25")
    approval = quote_approvals.quote_submit(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    login(client, rep)
    page = client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    assert 'value="approve"' not in page  # not on one's own request
    login(client, manager)
    page = client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    assert 'value="approve"' in page and "25" in page
    response = client.post(
        reverse("sales:quote_decide", args=[quote.pk]),
        {"decision": "reject", "approval_id": approval.pk, "comment": "太低了"},
        **HTMX,
    )
    assert "Approval was refused" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == "rejected" and approval.comment == "太低了"


def test_a_manager_deletes_a_draft_from_its_page(client, workspace, rep, manager, account, pump):
    quote = make(rep, workspace, account, [pump])
    login(client, rep)
    assert (
        "Delete the draft"
        not in client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    )
    login(client, manager)
    assert (
        "Delete the draft"
        in client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    )
    response = client.post(
        reverse("sales:quote_delete", args=[quote.pk]),
        {"lock_version": quote.lock_version},
        **HTMX,
    )
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("sales:quote_list")
    assert not Quote.objects.in_workspace(workspace).exists()


def test_a_new_quote_for_a_deal_takes_its_customer(client, workspace, rep, account, catalog):
    from guanxi.sales.services.deals import deal_create

    deal = deal_create(actor=rep, workspace=workspace, name="改造项目", account=account)
    login(client, rep)
    url = reverse("sales:quote_new") + f"?deal={deal.pk}"
    assert client.get(url).status_code == 200
    response = client.post(url, {"deal": deal.pk, "language": "zh-hans"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    quote = Quote.objects.in_workspace(workspace).get()
    assert (quote.deal_id, quote.account_id) == (deal.pk, account.pk)
