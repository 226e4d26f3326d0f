"""Issue 5's "done when" scenarios in a real browser.

- "Two of your reps quoted me two prices": 王伟 has sent 宁波恒力液压 a quote at the book
  price; his colleague 刘洋 quotes the same pump lower (a 5% discount, within what a rep may
  give): his quote needs approval, says why, cannot be sent; he asks; the manager 张建国 finds
  it in the approvals inbox and rejects it with a comment; 刘洋 is told and sees the outcome.

The data are made through the services, as the people in the story would have made them;
the browser does only what the people do on the day (helpers in sales_helpers.py).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e import sales_helpers as h

pytestmark = pytest.mark.e2e


# --- "Two of your reps quoted me two prices" ---------------------------------------------------

PUMP = ("HP-200", "高压柱塞泵 HP-200", "台", "12800.00")
VALVE = ("SV-16", "电磁换向阀 SV-16", "件", "860.00")
# The reason as the rep and the manager read it (the prices' trailing zeros may vary).
BELOW = re.compile(r"net price 12160\.00(00)? CNY is below the 12800\.00(00)? CNY")
REJECTION = "客户已有王伟的报价，统一按 12,800 元报价，不另给折扣。"


def test_two_of_your_reps_quoted_me_two_prices(browser, live_server, make_workspace, screenshot):
    from guanxi.customers.services import records
    from guanxi.sales.models import Quote
    from guanxi.sales.services import quotes

    admin = make_workspace(name="华东液压设备有限公司", full_name="赵敏", language="en")
    ws = admin.workspace
    team, manager = h.team_with_manager(
        admin,
        name="华东销售一组",
        manager_email="zhang.jianguo@e2e.example.com",
        manager_name="张建国",
    )
    rep_a = h.user(
        admin, email="wang.wei@e2e.example.com", name="王伟", role="sales_rep", team=team
    )
    rep_b = h.user(
        admin, email="liu.yang@e2e.example.com", name="刘洋", role="sales_rep", team=team
    )
    catalogue = h.catalogue(ws, [PUMP, VALVE])
    pump = catalogue["products"]["HP-200"]
    customer = records.account_create(
        actor=rep_a, workspace=ws, name="宁波恒力液压机械有限公司", city="宁波"
    )
    buyer = records.contact_create(
        actor=rep_a,
        workspace=ws,
        account_id=customer.pk,
        name="陈立新",
        title="采购部经理",
        email="chen.lixin@hengli-yy.cn",
    )
    h.share(rep_a, ws, customer, rep_b)
    # 王伟's quote, at the book price, sent last week.
    first = quotes.quote_create(
        actor=rep_a,
        workspace=ws,
        account_id=customer.pk,
        contact_id=buyer.pk,
        lines=[{"product_id": pump.pk, "quantity": "2"}],
    )
    first = quotes.quote_send(
        actor=rep_a, workspace=ws, quote_id=first.pk, lock_version=first.lock_version, email=False
    )
    assert first.status == "sent"

    # --- 刘洋, on the road, quotes the same customer from his phone.
    phone = h.new_context(browser, live_server, phone=True)
    try:
        page = h.sign_in(phone, rep_b)
        page.goto(f"/customers/accounts/{customer.pk}/")
        section = page.locator("#section-salesquotes")
        section.get_by_role("link", name="New quote").click()
        page.wait_for_url(re.compile(r"/sales/quotes/new/"))
        h.no_sideways_scroll(page)
        page.get_by_role("button", name="Create the quote").click()
        page.wait_for_url(re.compile(r"/sales/quotes/\d+/$"))
        second = Quote.objects.in_workspace(ws).exclude(pk=first.pk).get()
        assert second.owner_id == rep_b.pk and second.account_id == customer.pk
        h.add_quote_line(page, pump, quantity="2", discount="5")

        line = page.locator("#quote-body article.quote-line").first
        figures = h.line_figures(line)
        assert figures["List"] == "12800.00", figures
        assert figures["Net"] == "12160.00", figures
        # Beside the line: what this customer was already quoted, by whom.
        history = line.locator(".line-history").inner_text()
        assert "12800.00 CNY" in history and "王伟" in history and first.number in history
        # The quote needs approval, says why, and cannot be sent.
        banner = page.locator("#approval-banner")
        assert "needs a manager's approval before it can be sent" in banner.inner_text()
        reason = banner.locator("li").all_inner_texts()
        assert any(BELOW.search(r) and first.number in r for r in reason), reason
        assert page.get_by_role("button", name="E-mail with PDF").count() == 0
        assert page.get_by_role("button", name="Mark as sent").count() == 0
        h.no_sideways_scroll(page)
        screenshot(page, "sales-two-prices-needs-approval-phone")

        page.fill("#approval-note", "客户说竞争对手报价低 5%")
        page.get_by_role("button", name="Ask for approval").click()
        page.locator("#approval-banner", has_text="Waiting for a manager's approval").wait_for()
        assert "Waiting for approval" in page.locator(".quote-summary .badge").inner_text()
    finally:
        phone.close()

    # --- The manager, at his desk: the approvals inbox.
    desk = h.new_context(browser, live_server)
    try:
        page = h.sign_in(desk, manager)
        page.goto("/sales/quotes/approvals/")
        item = page.locator("article.approval-item", has_text=second.number)
        assert item.count() == 1
        text = item.inner_text()
        assert "宁波恒力液压机械有限公司" in text and "刘洋" in text
        assert "客户说竞争对手报价低 5%" in text
        assert BELOW.search(text) and first.number in text, text
        screenshot(page, "sales-two-prices-inbox")
        item_id = item.get_attribute("id")
        item.locator("input[name=comment]").fill(REJECTION)
        item.get_by_role("button", name="Reject").click()
        decided = page.locator(f"#{item_id}")
        decided.locator(".badge", has_text="Rejected").wait_for()
        assert REJECTION in decided.inner_text() and "张建国" in decided.inner_text()
    finally:
        desk.close()

    # --- 刘洋 is told, and his quote says so; it still cannot be sent.
    phone = h.new_context(browser, live_server, phone=True)
    try:
        page = h.sign_in(phone, rep_b)
        notices = page.locator("#my-day .notification-list").inner_text()
        told = f"张建国 rejected quote {second.number}"
        assert told in notices and REJECTION in notices, notices
        h.open_notification(page, told)
        page.wait_for_url(f"**/sales/quotes/{second.pk}/")
        banner = page.locator("#approval-banner")
        assert "Approval was refused" in banner.inner_text()
        assert page.locator(".quote-summary .badge").inner_text() == "Rejected"
        assert page.get_by_role("button", name="E-mail with PDF").count() == 0
        h.no_sideways_scroll(page)
        screenshot(page, "sales-two-prices-rejected-phone")
    finally:
        phone.close()
    second.refresh_from_db()
    assert second.status == "rejected"
