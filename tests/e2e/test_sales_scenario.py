"""Issue 5's "done when" scenarios in a real browser.

- "What price do I quote this old customer?": 王伟 opens 上海宏达精密机械 on his phone (its own
  price book; an order half a year ago, a declined quote six weeks ago), starts a quote, finds
  the pump with the picker at the customer's price; beside the line the customer's past
  quoted prices and its last order price; he marks it sent.
- "Two of your reps quoted me two prices": 王伟 has sent 宁波恒力液压 a quote at the book
  price; his colleague 刘洋 quotes the same pump lower (a 5% discount, within what a rep may
  give): his quote needs approval, says why, cannot be sent; he asks; the manager 张建国 finds
  it in the approvals inbox and rejects it with a comment; 刘洋 is told and sees the outcome.
- "Who should take this big deal?": the manager 张建国 opens a 2.6 million deal of a 工程机械
  customer and sees the suggested owners with the why (李娜 first: won 7 of 8 deals in
  工程机械), gives it to her; 李娜 finds it on her kanban, on her phone.
- A lead from the web form to a won deal, an order, a payment and class A: a visitor fills in
  the spring fair's form on a phone; the territory rule gives the lead to 周杰 (浙江), who is
  told, converts it (account, contact, deal), moves the deal along the kanban to won with the
  cards' "move to…", orders 30 pumps from the customer's page, invoices and records the
  payment; the manager recomputes the customers' value for this year (progress bar) and the
  customer's 360° page shows class A, the biggest of five.

The data are made through the services, as the people in the story would have made them;
the browser does only what the people do on the day (helpers in sales_helpers.py).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from tests.e2e import sales_helpers as h

pytestmark = pytest.mark.e2e

# The catalogue of every story: code, name, unit, standard price (13% VAT).
PUMP = ("HP-200", "高压柱塞泵 HP-200", "台", "12800.00")
VALVE = ("SV-16", "电磁换向阀 SV-16", "件", "860.00")


# --- "What price do I quote this old customer?" ------------------------------------------------

OLD_CUSTOMER = "上海宏达精密机械有限公司"
CUSTOMER_BOOK = "宏达精密协议价"


def _old_customer(admin, manager, rep, catalogue, clock):
    """A customer of years with its own price book: the pump at 12,160 instead of 12,800.
    Half a year ago it ordered 4 pumps at that price (an accepted quote); six weeks ago the
    rep quoted 2 more pumps with 3% off (below what it paid: the manager approved the
    exception), which the customer declined."""
    from guanxi.activities.services import notifications
    from guanxi.customers.services import records
    from guanxi.sales.services import quote_approvals, quotes

    ws = admin.workspace
    pump, valve = catalogue["products"]["HP-200"], catalogue["products"]["SV-16"]
    clock.days_ago(400)
    customer = records.account_create(
        actor=rep, workspace=ws, name=OLD_CUSTOMER, city="上海", industry="机械制造"
    )
    buyer = records.contact_create(
        actor=rep, workspace=ws, account_id=customer.pk, name="李建华", title="采购经理"
    )
    h.price_book(
        admin,
        name=CUSTOMER_BOOK,
        kind="customer",
        account_id=customer.pk,
        prices={pump: "12160.00", valve: "820.00"},
    )

    def quote(days_ago, lines):
        clock.days_ago(days_ago)
        made = quotes.quote_create(
            actor=rep, workspace=ws, account_id=customer.pk, contact_id=buyer.pk, lines=lines
        )
        if made.approval_reasons:
            approval = quote_approvals.quote_submit(
                actor=rep, workspace=ws, quote_id=made.pk, lock_version=made.lock_version
            )
            quote_approvals.quote_approve(
                actor=manager, workspace=ws, approval_id=approval.pk, comment="老客户，特批 3%"
            )
            made.refresh_from_db()
        return quotes.quote_send(
            actor=rep, workspace=ws, quote_id=made.pk, lock_version=made.lock_version, email=False
        )

    ordered = quote(182, [{"product_id": pump.pk, "quantity": "4"}])
    clock.days_ago(175)
    ordered = quotes.quote_accept(
        actor=rep, workspace=ws, quote_id=ordered.pk, lock_version=ordered.lock_version
    )
    declined = quote(42, [{"product_id": pump.pk, "quantity": "2", "discount_percent": "3"}])
    clock.days_ago(35)
    declined = quotes.quote_decline(
        actor=rep,
        workspace=ws,
        quote_id=declined.pk,
        lock_version=declined.lock_version,
        reason="预算推迟到下季度",
    )
    clock.now()
    # He read the manager's approval at the time.
    notifications.notifications_mark_all_read(actor=rep, workspace=ws)
    return customer, ordered, declined


def test_what_price_do_i_quote_this_old_customer(
    browser, live_server, make_workspace, screenshot, monkeypatch
):
    from guanxi.sales.models import Order, Quote

    admin = make_workspace(name="华东液压设备有限公司", full_name="赵敏", language="en")
    ws = admin.workspace
    team, manager = h.team_with_manager(
        admin,
        name="华东销售一组",
        manager_email="zhang.jianguo@e2e.example.com",
        manager_name="张建国",
    )
    rep = h.user(admin, email="wang.wei@e2e.example.com", name="王伟", role="sales_rep", team=team)
    catalogue = h.catalogue(admin, [PUMP, VALVE])
    pump = catalogue["products"]["HP-200"]
    clock = h.Clock(monkeypatch)
    customer, ordered, declined = _old_customer(admin, manager, rep, catalogue, clock)
    order = Order.objects.in_workspace(ws).get(quote=ordered)
    today = h.today_local()

    phone = h.new_context(browser, live_server, phone=True)
    try:
        page = h.sign_in(phone, rep)
        page.goto(f"/customers/accounts/{customer.pk}/")
        quotes_section = page.locator("#section-salesquotes")
        assert ordered.number in quotes_section.inner_text()
        assert order.number in page.locator("#section-salesorders").inner_text()
        quotes_section.get_by_role("link", name="New quote").click()
        page.wait_for_url(re.compile(r"/sales/quotes/new/"))
        page.get_by_role("button", name="Create the quote").click()
        page.wait_for_url(re.compile(r"/sales/quotes/\d+/$"))
        quote = Quote.objects.in_workspace(ws).get(account=customer, status="draft")
        # The customer's own book prices the quote.
        assert CUSTOMER_BOOK in page.locator(".quote-summary").inner_text()

        picked = h.add_quote_line(page, pump, quantity="3")
        assert re.search(r"12160(\.0+)? CNY", picked), picked  # the customer's price, found
        line = page.locator("#quote-body article.quote-line").first
        figures = h.line_figures(line)
        assert figures["List"] == "12160.00" and figures["Net"] == "12160.00", figures
        assert figures["Amount"] == "36480.00", figures
        # Beside the line: what was quoted to this customer, and what it last paid.
        quoted = line.locator(".line-history div").first.locator("li").all_inner_texts()
        assert len(quoted) == 2, quoted
        newest, oldest = quoted
        day = (today - dt.timedelta(days=42)).isoformat()
        assert newest.startswith(f"11795.20 CNY · {day} · 王伟 · Declined"), newest
        assert declined.number in newest
        assert oldest.startswith("12160.00 CNY") and "Accepted" in oldest, oldest
        assert ordered.number in oldest
        paid = line.locator(".line-history div").nth(1).locator("li").all_inner_texts()
        assert len(paid) == 1 and paid[0].startswith("12160.00 CNY"), paid
        assert order.number in paid[0]
        assert page.locator("#approval-banner").count() == 0  # the book's price: no approval
        h.no_sideways_scroll(page)
        screenshot(page, "sales-old-customer-quote-phone")

        page.get_by_role("button", name="Mark as sent").click()
        page.locator(".quote-summary .badge", has_text="Sent").wait_for()
        totals = page.locator(".quote-totals").inner_text()
        assert "36480.00" in totals and "4742.40" in totals and "41222.40 CNY" in totals, totals
        h.no_sideways_scroll(page)
    finally:
        phone.close()
    quote.refresh_from_db()
    assert quote.status == "sent"


# --- "Two of your reps quoted me two prices" ---------------------------------------------------

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
    catalogue = h.catalogue(admin, [PUMP, VALVE])
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
        picked = h.add_quote_line(page, pump, quantity="2", discount="5")
        assert re.search(r"12800(\.0+)? CNY", picked), picked  # the standard book's price

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


# --- "Who should take this big deal?" ----------------------------------------------------------

BIG_DEAL = "徐工配套液压系统 2027 年度采购"
# (rep, industry, won, lost) of the last two years' closed deals, about 2 million each.
RECORDS = [
    ("李娜", "工程机械", 7, 1),
    ("王强", "工程机械", 2, 4),
    ("陈晨", "食品饮料", 3, 0),
]


def _records(admin, team) -> dict:
    """Three reps and their closed deals with customers of 华东; the big new deal of a
    工程机械 customer, still with 陈晨 who took the call."""
    from guanxi.customers.services import records
    from guanxi.sales.models import LostReason
    from guanxi.sales.services import deals

    ws = admin.workspace
    reps = {
        name: h.user(admin, email=f"rep{n}@e2e.example.com", name=name, role="sales_rep", team=team)
        for n, (name, *_rest) in enumerate(RECORDS, start=1)
    }
    reason = LostReason.objects.in_workspace(ws).order_by("order").first()
    n = 0
    for name, industry, won, lost in RECORDS:
        rep = reps[name]
        for outcome in ["won"] * won + ["lost"] * lost:
            n += 1
            account = records.account_create(
                actor=rep,
                workspace=ws,
                name=f"{industry}客户 {n:02d} 有限公司",
                industry=industry,
                region="华东",
            )
            deal = deals.deal_create(
                actor=rep,
                workspace=ws,
                name=f"{industry}项目 {n:02d}",
                account=account,
                amount=Decimal("1800000") + n * 10000,
            )
            if outcome == "won":
                deals.deal_win(actor=rep, workspace=ws, deal=deal)
            else:
                deals.deal_lose(actor=rep, workspace=ws, deal=deal, reason=reason)
    customer = records.account_create(
        actor=reps["陈晨"],
        workspace=ws,
        name="徐州重型机械有限公司",
        industry="工程机械",
        region="华东",
        city="徐州",
    )
    big = deals.deal_create(
        actor=reps["陈晨"],
        workspace=ws,
        name=BIG_DEAL,
        account=customer,
        amount=Decimal("2600000"),
        expected_close_date=h.today_local() + dt.timedelta(days=60),
    )
    return {"reps": reps, "deal": big}


def test_who_should_take_this_big_deal(browser, live_server, make_workspace, screenshot):
    admin = make_workspace(name="华东液压设备有限公司", full_name="赵敏", language="en")
    h.catalogue(admin, [PUMP])  # the sales defaults (pipeline, lost reasons) with it
    team, manager = h.team_with_manager(
        admin,
        name="华东销售一组",
        manager_email="zhang.jianguo@e2e.example.com",
        manager_name="张建国",
    )
    data = _records(admin, team)
    deal, best = data["deal"], data["reps"]["李娜"]

    # --- The manager opens the big deal: who should take it, and why.
    desk = h.new_context(browser, live_server)
    try:
        page = h.sign_in(desk, manager)
        page.goto(f"/sales/deals/{deal.pk}/")
        suggestions = page.locator(".fc-suggest-list > li")
        suggestions.first.wait_for()  # loaded after the page
        ranked = suggestions.all_inner_texts()
        assert ranked[0].startswith("李娜"), ranked
        assert "won 7 of 8 deals in 工程机械" in ranked[0], ranked[0]
        assert "ok" in suggestions.first.locator(".badge").get_attribute("class")
        wang = next(r for r in ranked[1:] if r.startswith("王强"))
        assert "won 2 of 6 deals in 工程机械" in wang, ranked
        screenshot(page, "sales-suggested-owners")

        # He gives it to the top one.
        page.locator(".page-head").get_by_role("link", name="Edit").click()
        page.wait_for_url(f"**/sales/deals/{deal.pk}/edit/")
        page.get_by_label("Give the deal to").select_option(label="李娜")
        page.get_by_role("button", name="Reassign").click()
        page.wait_for_url(f"**/sales/deals/{deal.pk}/")
        assert "The deal has a new owner." in page.inner_text("body")
        facts = page.locator("dl.deal-facts")
        owner = facts.locator("dt", has_text="Owner").locator("xpath=following-sibling::dd[1]")
        assert owner.inner_text() == "李娜"
    finally:
        desk.close()

    # --- 李娜 finds it on her kanban, on her phone.
    phone = h.new_context(browser, live_server, phone=True)
    try:
        page = h.sign_in(phone, best)
        page.goto("/sales/deals/board/")
        card = page.locator(".kanban-col .deal-card", has_text=BIG_DEAL)
        assert card.count() == 1
        assert "李娜" in card.inner_text() and "徐州重型机械有限公司" in card.inner_text()
        h.no_sideways_scroll(page)
        screenshot(page, "sales-big-deal-on-new-owners-board-phone")
    finally:
        phone.close()


# --- A lead from a web form to a won deal, an order, a payment and the customer's class --------

VISITOR = {
    "name": "方建华",
    "phone": "13957112345",
    "email": "fang.jianhua@qiantang-zn.cn",
    "company": "杭州钱塘智能装备有限公司",
    "province": "浙江",
    "city": "杭州",
    "interest": "高压柱塞泵",
    "message": "新产线需要 30 台高压柱塞泵，请尽快报价。",
}
# The workspace's other customers and what they bought this year: the new customer's order
# (30 pumps) makes it the biggest of five, the top 20% → class A.
REGULARS = [
    ("苏州金泰机电有限公司", "江苏", 3),
    ("无锡宏远液压件厂", "江苏", 5),
    ("常州恒通机械有限公司", "江苏", 8),
    ("南通华海船舶配件有限公司", "江苏", 12),
]


def _sales_office(make_workspace):
    """A manager and two reps, each with a province; a web form for the spring fair; the
    leads are shared out by territory; a small catalogue."""
    from guanxi.sales.services import lead_assignment, lead_forms

    admin = make_workspace(name="华东液压设备有限公司", full_name="赵敏", language="en")
    ws = admin.workspace
    team, manager = h.team_with_manager(
        admin,
        name="华东销售一组",
        manager_email="zhang.jianguo@e2e.example.com",
        manager_name="张建国",
    )
    zhejiang = h.user(
        admin, email="zhou.jie@e2e.example.com", name="周杰", role="sales_rep", team=team
    )
    jiangsu = h.user(
        admin, email="sun.lei@e2e.example.com", name="孙磊", role="sales_rep", team=team
    )
    catalogue = h.catalogue(admin, [PUMP, VALVE])
    for rep, province in ((zhejiang, "浙江"), (jiangsu, "江苏")):
        lead_assignment.rep_profile_save(
            actor=admin.user, workspace=ws, user_id=rep.pk, territories=[province]
        )
    lead_assignment.assignment_rule_create(
        actor=admin.user,
        workspace=ws,
        name="华东按省分配",
        method="territory",
        order=1,
        active=True,
        conditions={},
        rep_ids=[zhejiang.pk, jiangsu.pk],
    )
    webform = lead_forms.lead_form_create(
        actor=admin.user,
        workspace=ws,
        name="产品询价",
        campaign="2026 春季液压展",
        fields=["company", "province", "city", "interest", "message"],
        active=True,
    )
    return admin, manager, zhejiang, jiangsu, catalogue["products"]["HP-200"], webform


def _regular_customers(ws, rep, pump) -> None:
    """The other customers' orders of this year (the rep's), as the orders part records them."""
    from guanxi.customers.services import records
    from guanxi.sales.services import orders

    for name, province, pumps in REGULARS:
        account = records.account_create(actor=rep, workspace=ws, name=name, province=province)
        orders.order_create(
            actor=rep,
            workspace=ws,
            account=account,
            currency="CNY",
            order_date=h.today_local(),
            lines=[orders.OrderLineInput(product=pump, quantity=pumps, unit_price="12800")],
        )


def test_a_lead_from_the_web_form_becomes_a_won_deal_an_order_a_payment_and_an_a_customer(
    browser, live_server, make_workspace, screenshot, monkeypatch
):
    from guanxi.platform import jobs
    from guanxi.platform.tasks import run_job

    admin, manager, rep, other_rep, pump, webform = _sales_office(make_workspace)
    ws = admin.workspace
    _regular_customers(ws, other_rep, pump)
    lock = h.ServerLock(monkeypatch)
    queued: list[int] = []
    monkeypatch.setattr(jobs, "_enqueue", queued.append)  # the worker is the test
    year = h.today_local().year

    # --- A visitor fills in the form on the company's site, from a phone.
    visitor = h.new_context(browser, live_server, phone=True)
    try:
        page = visitor.new_page()
        page.goto(f"/f/{webform.public_key}/")
        assert page.locator("h1").inner_text() == "产品询价"
        for field, value in VISITOR.items():
            page.fill(f"#lf-{field}", value)
        page.wait_for_timeout(3500)  # people take a while; bots that post at once are spam
        h.no_sideways_scroll(page)
        page.get_by_role("button", name="Send").click()
        page.wait_for_load_state()
        assert page.locator("#lf-name").count() == 0, page.inner_text("body")  # thanked
    finally:
        visitor.close()

    # --- 周杰, the rep for 浙江, is told; he converts the lead, on his phone.
    phone = h.new_context(browser, live_server, phone=True)
    try:
        page = h.sign_in(phone, rep)
        h.open_notification(page, "New lead for you: 方建华")
        page.wait_for_url(re.compile(r"/sales/leads/\d+/$"))
        facts = page.locator(".lead-facts").inner_text()
        assert "周杰" in facts  # the territory rule chose him
        assert "Web form" in facts and "2026 春季液压展" in facts and "产品询价" in facts
        assert "浙江 杭州" in facts
        h.no_sideways_scroll(page)
        screenshot(page, "sales-lead-phone")

        page.get_by_role("link", name="Convert").click()
        page.wait_for_url(re.compile(r"/sales/leads/\d+/convert/$"))
        assert page.input_value("input[name=deal_name]") == VISITOR["company"]
        page.fill("input[name=amount]", "384000")
        page.fill("input[name=expected_close_date]", h.today_local().isoformat())
        h.no_sideways_scroll(page)
        page.get_by_role("button", name="Convert").click()
        page.wait_for_url(re.compile(r"/sales/leads/\d+/$"))
        converted = page.locator("p.notice", has_text="Converted").inner_text()
        assert VISITOR["company"] in converted and VISITOR["name"] in converted, converted

        # --- The kanban: the new deal in the first stage; on to won with "move to…".
        page.goto("/sales/deals/board/")
        card = page.locator(".kanban-col .deal-card", has_text=VISITOR["company"])
        assert card.count() == 1
        assert "384,000" in card.inner_text() or "384000" in card.inner_text()
        assert "周杰" in card.inner_text()
        h.no_sideways_scroll(page)
        deal_id = card.get_attribute("data-id")
        select = card.locator("select[data-move-select]")
        stage = select.locator("option[data-kind=open]").nth(1)
        second_stage = page.locator("ol.kanban-cards").nth(1)
        assert stage.get_attribute("value") == second_stage.get_attribute("data-stage")
        select.select_option(stage.get_attribute("value"))
        second_stage.locator(f".deal-card[data-id='{deal_id}']").wait_for()
        card = page.locator(f".kanban-col .deal-card[data-id='{deal_id}']")
        won = card.locator("select[data-move-select] option[data-kind=won]")
        card.locator("select[data-move-select]").select_option(won.get_attribute("value"))
        card.wait_for(state="detached")  # the board shows open deals only
        h.no_sideways_scroll(page)
        screenshot(page, "sales-board-after-win-phone")
        page.goto(f"/sales/deals/{deal_id}/")
        assert page.locator(".page-head .badge").first.inner_text() == "Won"

        # --- The customer's page: no class yet; the order, its invoice and the payment.
        page.get_by_role("link", name=VISITOR["company"]).first.click()
        page.wait_for_url(re.compile(r"/customers/accounts/\d+/$"))
        account_url = page.url
        value = page.locator("#section-analyticsvalue .value-panel__class")
        assert "not computed yet" in value.inner_text()
        page.locator("#section-salesorders").get_by_role("link", name="New order").click()
        page.wait_for_url(re.compile(r"/sales/orders/new/"))
        assert page.input_value("#id_customer")  # the customer's code, filled in
        page.fill("input[name=line-1-product]", pump.code)
        page.fill("input[name=line-1-quantity]", "30")
        page.fill("input[name=line-1-unit_price]", "12800")
        h.no_sideways_scroll(page)
        page.get_by_role("button", name="Place the order").click()
        page.wait_for_url(re.compile(r"/sales/orders/\d+/$"))
        assert "433,920.00" in page.inner_text("main") or "433920.00" in page.inner_text("main")
        page.locator("#order-invoices details.invoice-new summary").click()
        page.get_by_role("button", name="Issue the invoice").click()
        page.locator("#order-invoices article.invoice").wait_for()
        invoice = page.locator("#order-invoices article.invoice")
        assert "433920.00" in invoice.inner_text()
        invoice.locator("summary", has_text="Record a payment").click()
        invoice.locator("input[name=reference]").fill("工行转账 0417")
        invoice.get_by_role("button", name="Record").click()
        paid = page.locator("#order-invoices article.invoice--paid")
        paid.wait_for()
        assert "Paid" in paid.locator(".badge").inner_text()
        assert "工行转账 0417" in paid.inner_text()
        h.no_sideways_scroll(page)
        screenshot(page, "sales-order-paid-phone")
    finally:
        phone.close()

    # --- The manager recomputes the customers' value for this year and watches it finish.
    desk = h.new_context(browser, live_server)
    try:
        page = h.sign_in(desk, manager)
        page.goto("/analytics/value/")
        form = page.locator("form.value-recompute")
        form.locator("input[name=year]").fill(str(year))
        form.get_by_role("button", name="Recompute now").click()
        page.wait_for_url("**/analytics/value/")
        assert len(queued) == 1
        job_id = queued.pop()
        progress = page.locator(f"#job-progress-{job_id}")
        assert progress.get_attribute("aria-busy") == "true"
        lock.run(run_job.call_local, job_id)
        page.wait_for_selector(f"#job-progress-{job_id}.job-progress--succeeded")
        assert page.locator(f"#job-progress-{job_id}-bar").get_attribute("value") == "100"
        screenshot(page, "sales-value-recomputed")

        # The customer's 360° page: class A, this year's revenue, the change in its history.
        page.goto(account_url)
        panel = page.locator("#section-analyticsvalue .value-panel")
        panel.wait_for()
        assert panel.locator(".value-badge").inner_text() == "A"
        assert "value-badge--A" in panel.locator(".value-badge").get_attribute("class")
        assert str(year) in panel.locator("table").inner_text()
        history = panel.locator(".value-history").inner_text()
        assert "A" in history and "top customers by sales" in history, history
    finally:
        desk.close()
