# ruff: noqa: F811  (pytest fixtures imported from test_quotes_support)
"""The quote services: prices from the books, totals rounded half-up, numbers, bad input
that writes nothing, approval reasons (discounts and the "two prices" rule), approvals,
optimistic locking between two editors, versions, sending, accepting and expiring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.activities.models import Notification, TimelineEntry
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import AuditEntry
from guanxi.sales.models import (
    ApprovalStatus,
    Order,
    Quote,
    QuoteApproval,
    QuoteLine,
    QuoteStatus,
)
from guanxi.sales.services import quote_approvals, quotes
from guanxi.sales.services.orders import OrderLineInput, order_create

from .test_quotes_support import (  # noqa: F401
    _media_in_tmp,
    account,
    cabinet,
    catalog,
    contact,
    make_catalog,
    manager,
    outsider,
    pump,
    reader,
    rep,
    rep2,
    team,
)

pytestmark = pytest.mark.django_db


def new_quote(actor, workspace, account, lines, **kwargs) -> Quote:
    return quotes.quote_create(
        actor=actor, workspace=workspace, account_id=account.pk, lines=lines, **kwargs
    )


def line(product, quantity="1", discount="0") -> dict:
    return {"product_id": product.pk, "quantity": quantity, "discount_percent": discount}


# --- prices and totals ------------------------------------------------------------------------


def test_create_prices_lines_from_the_book_and_totals_half_up(
    workspace, rep, account, pump, cabinet, catalog
):
    quote = new_quote(
        rep, workspace, account, [line(pump, "3", "5"), line(cabinet, "2")], discount_percent="2"
    )
    first, second = quote.lines.order_by("position")
    assert (first.list_price, first.unit_price, first.subtotal) == (
        Decimal("100"),
        Decimal("95.0000"),
        Decimal("285.00"),
    )
    assert (first.tax, first.total) == (Decimal("37.05"), Decimal("322.05"))
    assert second.subtotal == Decimal("501.00") and second.tax == Decimal("65.13")
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("786.00")
    assert quote.discount_total == Decimal("15.72")
    # Tax on what remains of each line after the 2%: 285×0.98×0.13 = 36.309 → 36.31,
    # 501×0.98×0.13 = 63.8274 → 63.83.
    assert quote.tax_total == Decimal("100.14")
    assert quote.total == Decimal("870.42")
    assert quote.total_base == quote.total
    assert quote.price_book_id == catalog["book"].pk
    assert quote.number == f"Q-{timezone.localdate().year}-0001"
    assert quote.approval_reasons == []
    assert quote.lines.first().account_id == account.pk


def test_half_cent_rounds_up(workspace, rep, account, catalog):
    cheap = catalog["products"]["P-CHEAP"]
    quote = new_quote(rep, workspace, account, [line(cheap, "1")])
    assert quote.lines.get().subtotal == Decimal("0.13")  # banker's rounding would say 0.12


def test_numbers_count_up_per_workspace(
    workspace, other_workspace, other_admin, rep, account, pump
):
    year = timezone.localdate().year
    first = new_quote(rep, workspace, account, [line(pump)])
    second = new_quote(rep, workspace, account, [line(pump)])
    assert (first.number, second.number) == (f"Q-{year}-0001", f"Q-{year}-0002")
    foreign = make_catalog(other_workspace)["products"]["P-100"]
    other = quotes.quote_create(
        actor=other_admin,
        workspace=other_workspace,
        account_id=AccountFactory(workspace=other_workspace).pk,
        lines=[line(foreign)],
    )
    assert other.number == f"Q-{year}-0001"


def test_usd_quote_prices_from_the_usd_book_and_converts_to_base(workspace, rep, account, pump):
    quote = new_quote(rep, workspace, account, [line(pump, "2")], currency="usd")
    assert quote.currency == "USD"
    assert quote.total == Decimal("33.90")  # 30 + 13%
    assert quote.total_base == Decimal("240.69")  # × 7.10


# --- bad input writes nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"quantity": "-1"}, "lines.0.quantity"),
        ({"quantity": "0"}, "lines.0.quantity"),
        ({"quantity": "abc"}, "lines.0.quantity"),
        ({"discount_percent": "100.01"}, "lines.0.discount_percent"),
        ({"discount_percent": "-1"}, "lines.0.discount_percent"),
        ({"discount_percent": "1e30"}, "lines.0.discount_percent"),
        ({"quantity": "1e30"}, "lines.0.quantity"),
        ({"quantity": "0.0001"}, "lines.0.quantity"),
        ({"quantity": "NaN"}, "lines.0.quantity"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(workspace, rep, account, pump, values, field):
    with pytest.raises(ApplicationError) as caught:
        new_quote(rep, workspace, account, [{**line(pump), **values}])
    assert field in caught.value.fields
    assert not Quote.objects.in_workspace(workspace).exists()
    assert not QuoteLine.objects.in_workspace(workspace).exists()


def test_every_bad_field_is_reported_at_once(workspace, rep, account, pump):
    with pytest.raises(ApplicationError) as caught:
        new_quote(rep, workspace, account, [line(pump, "-2", "150")], discount_percent="101")
    assert {"lines.0.quantity", "lines.0.discount_percent", "discount_percent"} <= set(
        caught.value.fields
    )


def test_another_workspaces_product_is_not_found(workspace, other_workspace, rep, account, pump):
    foreign = make_catalog(other_workspace)["products"]["P-100"]
    with pytest.raises(NotFound):
        new_quote(rep, workspace, account, [line(foreign)])
    assert not Quote.objects.in_workspace(workspace).exists()


def test_a_currency_without_a_rate_is_refused(workspace, rep, account, pump):
    with pytest.raises(ApplicationError) as caught:
        new_quote(rep, workspace, account, [line(pump)], currency="EUR")
    assert caught.value.code == "no_exchange_rate"
    assert not Quote.objects.in_workspace(workspace).exists()


def test_another_workspaces_customer_is_not_found(workspace, other_workspace, rep, pump):
    with pytest.raises(NotFound):
        new_quote(rep, workspace, AccountFactory(workspace=other_workspace), [line(pump)])


def test_a_reader_cannot_create_and_the_denial_is_audited(workspace, reader, account, pump):
    with pytest.raises(PermissionDenied):
        new_quote(reader, workspace, account, [line(pump)])
    assert AuditEntry.objects.filter(workspace=workspace, action="denied").exists() or (
        AuditEntry.objects.filter(workspace=workspace, object_key="sales.quote").exists()
    )
    assert not Quote.objects.in_workspace(workspace).exists()


# --- editing and locking --------------------------------------------------------------------------


def test_two_editors_the_second_save_is_refused_and_nothing_overwritten(
    workspace, rep, manager, account, pump
):
    quote = new_quote(rep, workspace, account, [line(pump, "1")])
    read_by_a = read_by_b = quote.lock_version
    first_line = quote.lines.get()
    quotes.quote_line_update(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        line_id=first_line.pk,
        lock_version=read_by_a,
        quantity="5",
    )
    with pytest.raises(Conflict) as caught:
        quotes.quote_line_update(
            actor=manager,
            workspace=workspace,
            quote_id=quote.pk,
            line_id=first_line.pk,
            lock_version=read_by_b,
            quantity="7",
        )
    assert caught.value.status == 409 and caught.value.code == "stale_version"
    assert "reload" in str(caught.value.message)
    first_line.refresh_from_db()
    assert first_line.quantity == Decimal("5")
    with pytest.raises(Conflict):
        quotes.quote_update(
            actor=manager,
            workspace=workspace,
            quote_id=quote.pk,
            lock_version=read_by_b,
            notes="mine",
        )
    quote.refresh_from_db()
    assert quote.notes == "" and quote.lock_version == read_by_a + 1
    assert quote.subtotal == Decimal("500.00")


def test_line_add_update_remove_recompute_totals(workspace, rep, account, pump, cabinet):
    quote = new_quote(rep, workspace, account, [line(pump, "1")])
    added = quotes.quote_line_add(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        product_id=cabinet.pk,
        quantity="2",
        discount_percent="10",
    )
    assert added.position == 2 and added.unit_price == Decimal("225.4500")
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("550.90")
    assert quote.approval_reasons == []  # 10% is the limit, not above it
    quote = quotes.quote_line_remove(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        line_id=added.pk,
        lock_version=quote.lock_version,
    )
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("100.00") and quote.lines.count() == 1


def test_a_sent_quote_cannot_be_edited_a_new_version_can(workspace, rep, account, pump):
    quote = new_quote(rep, workspace, account, [line(pump, "2")])
    quote = quotes.quote_send(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        email=False,
    )
    with pytest.raises(Conflict) as caught:
        quotes.quote_update(
            actor=rep,
            workspace=workspace,
            quote_id=quote.pk,
            lock_version=quote.lock_version,
            notes="x",
        )
    assert caught.value.code == "quote_not_editable"
    new = quotes.quote_new_version(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SUPERSEDED
    assert (new.number, new.version_number, new.status) == (quote.number, 2, QuoteStatus.DRAFT)
    assert new.previous_id == quote.pk
    assert [(x.product_id, x.quantity) for x in new.lines.all()] == [(pump.pk, Decimal("2"))]
    assert new.total == quote.total


# --- approval reasons and approvals -------------------------------------------------------------


def test_a_discount_above_the_threshold_needs_approval(workspace, rep, manager, account, pump):
    quote = new_quote(rep, workspace, account, [line(pump, "1", "15")])
    assert [r["code"] for r in quote.approval_reasons] == ["line_discount", "overall_discount"]
    with pytest.raises(Conflict) as caught:
        quotes.quote_send(
            actor=rep,
            workspace=workspace,
            quote_id=quote.pk,
            lock_version=quote.lock_version,
            email=False,
        )
    assert caught.value.code == "approval_required"
    approval = quote_approvals.quote_submit(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        note="大客户",
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    assert approval.approver_id == manager.pk and approval.reasons == quote.approval_reasons
    assert Notification.objects.in_workspace(workspace).filter(user=manager).count() == 1
    with pytest.raises(PermissionDenied):  # a rep has no right to approve
        quote_approvals.quote_approve(actor=rep, workspace=workspace, approval_id=approval.pk)
    quote_approvals.quote_approve(
        actor=manager, workspace=workspace, approval_id=approval.pk, comment="OK 这次"
    )
    quote.refresh_from_db()
    approval.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED and approval.status == ApprovalStatus.APPROVED
    assert approval.decided_by_id == manager.pk and approval.comment == "OK 这次"
    assert Notification.objects.in_workspace(workspace).filter(user=rep).count() == 1
    subtypes = set(
        TimelineEntry.objects.in_workspace(workspace)
        .filter(account=account)
        .values_list("subtype", flat=True)
    )
    assert {"quote_created", "quote_submitted", "quote_approved"} <= subtypes
    quotes.quote_send(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        email=False,
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_header_discount_on_top_of_line_discounts_counts_overall(workspace, rep, account, pump):
    quote = new_quote(rep, workspace, account, [line(pump, "1", "8")], discount_percent="5")
    assert [r["code"] for r in quote.approval_reasons] == ["overall_discount"]
    assert quote.approval_reasons[0]["detail"]["discount"] == "12.60"


def test_reject_needs_a_comment_and_editing_sends_back_to_draft(
    workspace, rep, manager, account, pump
):
    quote = new_quote(rep, workspace, account, [line(pump, "1", "20")])
    approval = quote_approvals.quote_submit(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    with pytest.raises(ApplicationError) as caught:
        quote_approvals.quote_reject(
            actor=manager, workspace=workspace, approval_id=approval.pk, comment=" "
        )
    assert "comment" in caught.value.fields
    quote_approvals.quote_reject(
        actor=manager, workspace=workspace, approval_id=approval.pk, comment="最多 12%"
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.REJECTED
    with pytest.raises(Conflict):  # decided once
        quote_approvals.quote_approve(actor=manager, workspace=workspace, approval_id=approval.pk)
    changed = quotes.quote_line_update(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        line_id=quote.lines.get().pk,
        lock_version=quote.lock_version,
        discount_percent="10",
    )
    quote.refresh_from_db()
    assert changed.unit_price == Decimal("90.0000")
    assert quote.status == QuoteStatus.DRAFT and quote.approval_reasons == []


def test_editing_a_pending_quote_withdraws_the_request(workspace, rep, manager, account, pump):
    quote = new_quote(rep, workspace, account, [line(pump, "1", "20")])
    approval = quote_approvals.quote_submit(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    quote.refresh_from_db()
    quotes.quote_update(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        terms="30 天付款",
    )
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.WITHDRAWN
    with pytest.raises(Conflict):
        quote_approvals.quote_approve(actor=manager, workspace=workspace, approval_id=approval.pk)


def test_no_one_approves_their_own_request(workspace, manager, account, pump):
    quote = new_quote(manager, workspace, account, [line(pump, "1", "30")])
    approval = quote_approvals.quote_submit(
        actor=manager, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    with pytest.raises(PermissionDenied):
        quote_approvals.quote_approve(actor=manager, workspace=workspace, approval_id=approval.pk)


def test_a_quote_without_reasons_needs_no_approval(workspace, rep, account, pump):
    quote = new_quote(rep, workspace, account, [line(pump)])
    with pytest.raises(ApplicationError) as caught:
        quote_approvals.quote_submit(
            actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
        )
    assert caught.value.code == "approval_not_needed"


def test_a_manager_of_another_team_cannot_see_the_request(workspace, rep, account, pump):
    from guanxi.platform.tests.factories import TeamFactory, UserFactory

    stranger = UserFactory(
        workspace=workspace, role_code="sales_manager", team=TeamFactory(workspace=workspace)
    )
    quote = new_quote(rep, workspace, account, [line(pump, "1", "30")])
    approval = quote_approvals.quote_submit(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    with pytest.raises(NotFound):
        quote_approvals.quote_approve(actor=stranger, workspace=workspace, approval_id=approval.pk)


# --- the "two prices" rule ------------------------------------------------------------------------


def test_a_second_rep_quoting_lower_needs_approval(workspace, rep, rep2, manager, account, pump):
    first = new_quote(rep, workspace, account, [line(pump, "10")])
    quotes.quote_send(
        actor=rep,
        workspace=workspace,
        quote_id=first.pk,
        lock_version=first.lock_version,
        email=False,
    )
    # 5% is within what a rep may give, but below what this customer already holds.
    second = new_quote(rep2, workspace, account, [line(pump, "10", "5")])
    codes = [r["code"] for r in second.approval_reasons]
    assert codes == ["below_quoted_price"]
    detail = second.approval_reasons[0]["detail"]
    assert (detail["price"], detail["other_price"]) == ("95.0000", "100.0000")
    assert detail["other"] == f"{first.number} v1"
    with pytest.raises(Conflict):
        quotes.quote_send(
            actor=rep2,
            workspace=workspace,
            quote_id=second.pk,
            lock_version=second.lock_version,
            email=False,
        )
    approval = quote_approvals.quote_submit(
        actor=rep2, workspace=workspace, quote_id=second.pk, lock_version=second.lock_version
    )
    quote_approvals.quote_approve(
        actor=manager, workspace=workspace, approval_id=approval.pk, comment="批准例外"
    )
    approval.refresh_from_db()
    assert approval.reasons[0]["code"] == "below_quoted_price"  # the recorded exception
    second.refresh_from_db()
    quotes.quote_send(
        actor=rep2,
        workspace=workspace,
        quote_id=second.pk,
        lock_version=second.lock_version,
        email=False,
    )
    # The same price as the customer holds needs nothing; a higher one is a warning.
    third = new_quote(rep2, workspace, account, [line(pump, "1")])
    assert third.approval_reasons == []
    assert [w["code"] for w in quotes.quote_warnings(third)] == ["above_sent_price"]


def test_the_rule_ignores_expired_drafts_and_other_customers(workspace, rep, rep2, account, pump):
    other = AccountFactory(workspace=workspace, owner=rep2)
    draft = new_quote(rep, workspace, account, [line(pump, "1")])  # a draft holds nothing
    sent_elsewhere = new_quote(rep2, workspace, other, [line(pump, "1", "9")])
    quotes.quote_send(
        actor=rep2,
        workspace=workspace,
        quote_id=sent_elsewhere.pk,
        lock_version=sent_elsewhere.lock_version,
        email=False,
    )
    assert draft.approval_reasons == []
    assert new_quote(rep2, workspace, account, [line(pump, "1", "5")]).approval_reasons == []


def test_a_price_below_last_years_order_needs_approval(workspace, rep, account, pump):
    order_create(
        actor=rep,
        workspace=workspace,
        account=account,
        currency="CNY",
        order_date=timezone.localdate() - dt.timedelta(days=40),
        lines=[OrderLineInput(product=pump, quantity=Decimal(4), unit_price=Decimal("92"))],
    )
    quote = new_quote(rep, workspace, account, [line(pump, "1", "9")])
    assert [r["code"] for r in quote.approval_reasons] == ["below_order_price"]
    assert "92" in quotes.reason_text(quote.approval_reasons[0])
    old = timezone.localdate() - dt.timedelta(days=400)
    Order.objects.in_workspace(workspace).update(order_date=old)
    from guanxi.sales.models import OrderLine

    OrderLine.objects.in_workspace(workspace).update(order_date=old)
    assert new_quote(rep, workspace, account, [line(pump, "1", "9")]).approval_reasons == []


# --- send, accept, decline, expire --------------------------------------------------------------


def test_accepting_makes_an_order_at_the_quoted_prices(workspace, rep, account, pump, cabinet):
    quote = new_quote(
        rep, workspace, account, [line(pump, "3", "5"), line(cabinet, "1")], discount_percent="2"
    )
    quote = quotes.quote_send(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        email=False,
    )
    accepted = quotes.quote_accept(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    assert accepted.status == QuoteStatus.ACCEPTED
    order = Order.objects.in_workspace(workspace).get(quote=quote)
    assert order.account_id == account.pk and order.currency == "CNY"
    prices = sorted(order.lines.values_list("unit_price", flat=True))
    assert prices == [Decimal("93.1000"), Decimal("245.4900")]
    with pytest.raises(Conflict):  # once
        quotes.quote_accept(
            actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=accepted.lock_version
        )
    assert Order.objects.in_workspace(workspace).count() == 1


def test_a_quote_of_a_deal_takes_its_customer_and_accepting_wins_the_deal(
    workspace, rep, account, pump
):
    from guanxi.sales.services.deals import deal_create

    deal = deal_create(actor=rep, workspace=workspace, name="泵站改造", account=account)
    quote = quotes.quote_create(
        actor=rep, workspace=workspace, deal_id=deal.pk, lines=[line(pump, "4")]
    )
    assert (quote.deal_id, quote.account_id) == (deal.pk, account.pk)
    quote = quotes.quote_send(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        email=False,
    )
    quotes.quote_accept(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    deal.refresh_from_db()
    assert deal.status == "won"
    assert Order.objects.in_workspace(workspace).get(quote=quote).deal_id == deal.pk


def test_only_a_sent_quote_is_accepted_or_declined(workspace, rep, account, pump):
    quote = new_quote(rep, workspace, account, [line(pump)])
    for service in (quotes.quote_accept, quotes.quote_decline):
        with pytest.raises(Conflict):
            service(
                actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
            )
    quote.refresh_from_db()
    quote = quotes.quote_send(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        email=False,
    )
    declined = quotes.quote_decline(
        actor=rep,
        workspace=workspace,
        quote_id=quote.pk,
        lock_version=quote.lock_version,
        reason="太贵",
    )
    assert declined.status == QuoteStatus.DECLINED
    assert not Order.objects.in_workspace(workspace).exists()


def test_expiry_job(workspace, rep, manager, account, pump):
    sent = new_quote(rep, workspace, account, [line(pump)])
    sent = quotes.quote_send(
        actor=rep,
        workspace=workspace,
        quote_id=sent.pk,
        lock_version=sent.lock_version,
        email=False,
    )
    pending = new_quote(rep, workspace, account, [line(pump, "1", "30")])
    approval = quote_approvals.quote_submit(
        actor=rep, workspace=workspace, quote_id=pending.pk, lock_version=pending.lock_version
    )
    later = new_quote(
        rep,
        workspace,
        account,
        [line(pump)],
        valid_until=timezone.localdate() + dt.timedelta(days=90),
    )
    in_two_months = timezone.localdate() + dt.timedelta(days=60)
    assert quotes.quotes_expire(today=in_two_months) == 2
    statuses = dict(Quote.objects.in_workspace(workspace).values_list("pk", "status"))
    assert statuses == {sent.pk: "expired", pending.pk: "expired", later.pk: "draft"}
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.WITHDRAWN
    assert quotes.quotes_expire(today=in_two_months) == 0


def test_sending_e_mails_the_pdf(
    workspace, rep, account, contact, pump, smtp_server, django_capture_on_commit_callbacks
):
    quote = quotes.quote_create(
        actor=rep,
        workspace=workspace,
        account_id=account.pk,
        contact_id=contact.pk,
        lines=[line(pump, "2")],
        language="en",
    )
    with django_capture_on_commit_callbacks(execute=True):
        quotes.quote_send(
            actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
        )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert len(smtp_server.messages) == 1
    raw = smtp_server.messages[0]
    text = raw.as_string() if hasattr(raw, "as_string") else str(raw)
    assert "buyer@customer.example.com" in text
    assert f"{quote.number}-v1.pdf" in text
    assert "application/pdf" in text


def test_credit_warning_is_a_warning_not_a_block(workspace, rep, account, pump):
    account.credit_limit = Decimal("500")
    account.save(update_fields=["credit_limit"])
    quote = new_quote(rep, workspace, account, [line(pump, "5")])  # 565.00 with tax
    assert [w["code"] for w in quotes.quote_warnings(quote)] == ["over_credit_limit"]
    assert quote.approval_reasons == []


def test_approvals_are_listed_for_the_manager_only(
    workspace, rep, manager, outsider, account, pump
):
    from guanxi.sales.selectors.quotes import approvals_inbox

    quote = new_quote(rep, workspace, account, [line(pump, "1", "30")])
    approval = quote_approvals.quote_submit(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    assert list(approvals_inbox(workspace=workspace, actor=manager)) == [approval]
    assert list(approvals_inbox(workspace=workspace, actor=outsider)) == []
    assert QuoteApproval.objects.in_workspace(workspace).count() == 1


def test_the_most_specific_book_prices_the_quote(workspace, rep, account, pump, cabinet):
    from guanxi.sales.models import PriceBook, PriceBookEntry

    account.value_class = "A"
    account.save(update_fields=["value_class"])
    class_book = PriceBook.objects.create(
        workspace=workspace, name="A 类", kind="class", customer_class="A", currency="CNY"
    )
    PriceBookEntry.objects.create(
        workspace=workspace, price_book=class_book, product=pump, unit_price=Decimal("95")
    )
    own = PriceBook.objects.create(
        workspace=workspace, name="专属", kind="customer", account=account, currency="CNY"
    )
    PriceBookEntry.objects.create(
        workspace=workspace, price_book=own, product=cabinet, unit_price=Decimal("200")
    )
    expired = PriceBook.objects.create(
        workspace=workspace,
        name="旧",
        kind="customer",
        account=account,
        currency="CNY",
        valid_until=timezone.localdate() - dt.timedelta(days=1),
    )
    PriceBookEntry.objects.create(
        workspace=workspace, price_book=expired, product=pump, unit_price=Decimal("1")
    )
    quote = new_quote(rep, workspace, account, [line(pump), line(cabinet)])
    assert quote.price_book_id == own.pk
    prices = dict(quote.lines.values_list("product_id", "list_price"))
    assert prices == {pump.pk: Decimal("95.0000"), cabinet.pk: Decimal("200.0000")}


def test_timeline_sentences(workspace, rep, manager, account, pump):
    from guanxi.activities.timeline_display import system_text

    quote = new_quote(rep, workspace, account, [line(pump, "1", "20")])
    approval = quote_approvals.quote_submit(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    quote_approvals.quote_approve(actor=manager, workspace=workspace, approval_id=approval.pk)
    texts = [
        system_text(entry)
        for entry in TimelineEntry.objects.in_workspace(workspace)
        .filter(related_object_key="sales.quote")
        .order_by("id")
    ]
    assert texts == [
        f"Quote {quote.number} v1 made: 90.40 CNY",
        f"Quote {quote.number} v1 sent to a manager for approval",
        f"Quote {quote.number} v1 approved by {manager.full_name}",
    ]


def test_a_persons_export_lists_their_quotes_and_erasure_empties_the_notes(
    workspace, admin_user, rep, account, contact, pump
):
    from guanxi.customers.services.privacy import contact_erase, contact_personal_data

    quote = quotes.quote_create(
        actor=rep,
        workspace=workspace,
        account_id=account.pk,
        contact_id=contact.pk,
        lines=[line(pump)],
        notes="王先生说预算只有五万",
    )
    data = contact_personal_data(actor=admin_user, workspace=workspace, contact_id=contact.pk)
    exported = data["sales.quotes"]
    assert [row["number"] for row in exported] == [quote.number]
    contact_erase(actor=admin_user, workspace=workspace, contact_id=contact.pk, reason="PIPL")
    quote.refresh_from_db()
    assert quote.notes == "" and quote.total == Decimal("113.00")


def test_the_contact_must_work_at_the_account(workspace, rep, account, contact, pump):
    from guanxi.customers.tests.factories import ContactFactory

    stranger = ContactFactory(workspace=workspace, owner=rep)
    with pytest.raises(ApplicationError) as caught:
        quotes.quote_create(
            actor=rep,
            workspace=workspace,
            account_id=account.pk,
            contact_id=stranger.pk,
            lines=[line(pump)],
        )
    assert "contact_id" in caught.value.fields
    quote = quotes.quote_create(
        actor=rep,
        workspace=workspace,
        account_id=account.pk,
        contact_id=contact.pk,
        lines=[line(pump)],
    )
    with pytest.raises(ApplicationError):
        quotes.quote_update(
            actor=rep,
            workspace=workspace,
            quote_id=quote.pk,
            lock_version=quote.lock_version,
            contact_id=stranger.pk,
        )
    assert Quote.objects.in_workspace(workspace).get().contact_id == contact.pk


def test_sending_without_a_recipient_changes_nothing(workspace, rep, account, pump):
    quote = new_quote(rep, workspace, account, [line(pump)])
    with pytest.raises(ApplicationError) as caught:
        quotes.quote_send(
            actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
        )
    assert caught.value.code == "no_recipient"
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and quote.sent_at is None
    account.email = "purchase@customer.example.com"
    account.save(update_fields=["email"])
    quotes.quote_send(
        actor=rep, workspace=workspace, quote_id=quote.pk, lock_version=quote.lock_version
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    from guanxi.activities.models import EmailMessage

    email = EmailMessage.objects.in_workspace(workspace).get()
    assert email.to == ["purchase@customer.example.com"]
    assert email.attachments.get().filename == f"{quote.number}-v1.pdf"
