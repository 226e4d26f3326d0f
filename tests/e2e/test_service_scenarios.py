"""Two service-desk scenarios end to end in the browser (issue 6).

1. "My repair request is a month old": a class A customer's repair case, filed through the
   portal a month ago, was never answered. The SLA sweep breaches it and escalates it (the
   priority goes up, it is reassigned to the service manager, who is notified). The manager
   opens it from the notification, sees it overdue and escalated, picks a technician among
   the suggestions for tomorrow and dispatches them, and answers the customer. The visit is
   on the technician's visits and day route. The customer signs in to the portal on a phone
   with the e-mailed code, sees the answer and the visit, and replies; the reply is on the
   manager's case page.
2. "Most calls are users' own mistakes": public articles answer the usual mistakes. A
   customer on a phone searches the help centre in Chinese (a 2-character query too),
   opens the article, says it helped, starts a case, is shown the same article and leaves
   without filing. Another customer searches, finds nothing that helps and files a case.
   The manager's deflection page counts the first customer's searches as deflected and the
   second's as not.

The data are made through the services, as the company's staff would have made them; the
browsers do what the people do. Staff read the pages in English (the assertions read
their words); customers read the portal in Chinese and are checked by the page's structure.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest

from guanxi.platform.tests.factories import TEST_PASSWORD
from tests.e2e.conftest import TIMEOUT_MS, login

pytestmark = pytest.mark.e2e

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
AIRCON_TITLE = "空调不制冷？先看遥控器的模式"
CODE_SUBJECT = re.compile(r"\b(\d{6})\b")


# --- browsers --------------------------------------------------------------------------------


def _context(browser, live_server, *, phone: bool, locale: str):
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {}
    context = browser.new_context(
        base_url=live_server.url,
        locale=locale,
        timezone_id="Asia/Shanghai",
        **({"viewport": DESKTOP} | options),
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _settle(page) -> None:
    """Let the panels that load after the page (suggestions, dispatch, satisfaction) finish:
    the test database (SQLite in memory, shared cache) refuses a write while they read."""
    page.wait_for_load_state("networkidle")


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 390 px phone"


def _portal_sign_in(page, home: str, email: str, smtp_server) -> None:
    """Sign in to the portal with the code e-mailed to ``email`` (read from the loopback SMTP
    server: the newest sign-in code sent to that address)."""
    page.goto(home)
    page.click(f"a[href='{home}sign-in/']")
    page.fill("#id_destination", email)
    page.click("form button[type=submit].btn-primary")
    page.wait_for_selector("#id_code")
    codes = [
        CODE_SUBJECT.search(message["Subject"] or "")
        for message, rcpt in zip(smtp_server.messages, smtp_server.recipients, strict=True)
        if rcpt == [email]
    ]
    codes = [found.group(1) for found in codes if found]
    assert codes, f"no sign-in code was mailed to {email}: {smtp_server.recipients}"
    page.fill("#id_code", codes[-1])
    page.click("form button[type=submit].btn-primary")
    page.wait_for_url(f"**{home}cases/")


# --- scenario 1: the month-old repair request -----------------------------------------------


def _repair_desk(workspace):
    """A service desk: a manager who supervises the repair queue, an agent in it, three
    technicians (all in the manager's team), the SLA defaults (class A: raise the priority on a late first response)
    with one more rule — a late first response goes to the manager — and a class A
    customer with an address in Shanghai."""
    from guanxi.customers.tests.factories import AccountFactory, ContactFactory
    from guanxi.platform.tests.factories import TeamFactory, UserFactory
    from guanxi.service.models import (
        AgentProfile,
        AgentSkill,
        AgentStatus,
        CaseType,
        Queue,
        QueueMember,
        SkillKind,
        SlaPolicy,
    )
    from guanxi.service.services import business_time
    from guanxi.service.services import sla as sla_services
    from guanxi.service.services.case_types import service_setup

    business_time.clear_cache()
    service_setup(workspace)
    sla_services.sla_setup(workspace)
    # The manager sees the dispatches of their team's technicians.
    team = TeamFactory(workspace=workspace, name="售后服务部")

    def staff(name, email, role, **profile):
        user = UserFactory(
            workspace=workspace,
            team=team,
            role_code=role,
            full_name=name,
            email=email,
            language="en",
            time_zone="Asia/Shanghai",
        )
        AgentProfile.objects.create(workspace=workspace, user=user, **profile)
        return user

    manager = staff("陈经理", "chen@cool.example.com", "service_manager")
    agent = staff("李娜", "lina@cool.example.com", "service_agent", status=AgentStatus.AVAILABLE)
    skilled = staff(
        "张师傅", "zhang@cool.example.com", "technician", is_technician=True,
        home_latitude="31.220000", home_longitude="121.480000",
    )  # fmt: skip
    near = staff(
        "王师傅", "wang@cool.example.com", "technician", is_technician=True,
        home_latitude="31.230000", home_longitude="121.460000",
    )  # fmt: skip
    staff(
        "赵师傅", "zhao@cool.example.com", "technician", is_technician=True,
        home_latitude="30.270000", home_longitude="120.150000",
    )  # fmt: skip
    repair = CaseType.objects.in_workspace(workspace).get(kind="repair")
    AgentSkill.objects.create(
        workspace=workspace,
        agent=skilled.service_profile,
        kind=SkillKind.CASE_TYPE,
        object_id=repair.pk,
        level=5,
    )
    queue = Queue.objects.create(
        workspace=workspace, name="售后维修", supervisor=manager, is_default=True
    )
    QueueMember.objects.create(workspace=workspace, queue=queue, user=agent, position=0)
    policy = SlaPolicy.objects.in_workspace(workspace).get(customer_class="A", priority=3)
    sla_services.escalation_rule_create(
        actor=manager,
        workspace=workspace,
        policy_id=policy.pk,
        when="breach",
        target="response",
        action="reassign",
        user_id=manager.pk,
        position=4,
    )
    account = AccountFactory(
        workspace=workspace,
        name="上海静安宏达商贸有限公司",
        value_class="A",
        region="华东",
        province="上海",
        city="上海",
        street="南京西路 1266 号",
    )
    customer = ContactFactory(
        workspace=workspace,
        name="周敏",
        account=account,
        email="zhou.min@hongda.example.com",
        province="上海",
        city="上海",
        district="静安区",
        street="南京西路 1266 号",
        latitude="31.229000",
        longitude="121.455000",
    )
    return {
        "manager": manager,
        "agent": agent,
        "skilled": skilled,
        "near": near,
        "repair": repair,
        "customer": customer,
    }


def _filed_a_month_ago(workspace, customer, repair, *, now):
    """The customer filed the repair case through the portal a month ago: filed by the
    portal's service, then moved back in time with its SLA clock started then."""
    from guanxi.service.models import Case, CaseEvent, CaseMessage
    from guanxi.service.services import portal, sla_clock

    case = portal.portal_case_file(
        workspace=workspace,
        contact=customer,
        visitor_key="",
        values={
            "case_type": repair.pk,
            "subject": "空调不制冷",
            "description": "会议室的空调开了一上午都是热风，遥控器已经换过电池。",
        },
        language="zh-hans",
    )
    opened = now - dt.timedelta(days=30)
    Case.objects.in_workspace(workspace).filter(pk=case.pk).update(created_at=opened)
    CaseMessage.objects.in_workspace(workspace).filter(case=case).update(created_at=opened)
    CaseEvent.objects.in_workspace(workspace).filter(case=case).update(created_at=opened)
    case.refresh_from_db()
    sla_clock.sla_start(case, now=opened)
    case.last_message_at = opened
    case.save()
    return case


def test_my_repair_request_is_a_month_old(
    browser, live_server, make_workspace, smtp_server, screenshot
):
    from django.core.cache import cache
    from django.utils import timezone

    from guanxi.activities.models import Notification
    from guanxi.service.models import CaseEvent, CaseMessage, Dispatch
    from guanxi.service.services import sla

    cache.clear()
    admin = make_workspace(name="清凉空调服务")
    ws = admin.workspace
    desk = _repair_desk(ws)
    manager, agent, skilled, customer = (
        desk["manager"], desk["agent"], desk["skilled"], desk["customer"],
    )  # fmt: skip
    case = _filed_a_month_ago(ws, customer, desk["repair"], now=timezone.now())
    assert (case.assignee_id, case.priority, case.channel) == (agent.pk, 3, "portal")
    assert case.sla_policy.customer_class == "A"
    assert case.response_due_at < timezone.now() - dt.timedelta(days=20)

    # --- The sweep (the periodic job's function): breached twice, escalated.
    counts = sla.sla_sweep(workspace_ids=[ws.pk])
    assert (counts["response_breaches"], counts["resolution_breaches"]) == (1, 1)
    case.refresh_from_db()
    assert case.priority == 2  # normal → high
    assert case.assignee_id == manager.pk  # the rule added above
    assert case.escalation_level == 2  # the response breach, then the resolution breach
    kinds = set(CaseEvent.objects.in_workspace(ws).filter(case=case).values_list("kind", flat=True))
    assert {"sla_breach", "escalated", "priority", "assigned"} <= kinds
    notes = Notification.objects.in_workspace(ws).filter(url__endswith=f"/cases/{case.pk}/")
    assert notes.filter(user=agent, title__startswith="SLA breached").exists()
    assert notes.filter(user=manager, title__startswith="SLA breached").exists()
    assert notes.filter(user=manager, title__startswith="Case escalated to you").exists()

    tomorrow = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=1)
    staff = _context(browser, live_server, phone=False, locale="en-US")
    try:
        # --- The manager: the notification, the case overdue and escalated.
        page = staff.new_page()
        login(page, manager.email, TEST_PASSWORD)
        page.goto("/activities/notifications/")
        escalated = page.locator(".notification", has_text="Case escalated to you")
        assert case.number in escalated.inner_text()
        assert page.locator(".notification.unread", has_text="SLA breached").count() >= 1
        escalated.locator("button[name=go]").click()
        page.wait_for_url(f"**/service/cases/{case.pk}/")
        _settle(page)
        head = page.locator(".case-head")
        assert head.locator(".prio.prio-2").inner_text() == "High"
        facts = page.inner_text(".case-facts")
        assert "escalation level 2" in facts and "陈经理" in facts
        assert page.locator(".case-facts .badge.danger", has_text="Overdue").count() == 2
        history = page.inner_text(".case-events")
        for words in ("SLA breached", "Escalated", "Priority changed: Normal → High",
                      "Assigned: 李娜 → 陈经理"):  # fmt: skip
            assert words in history, f"{words!r} is not in the history: {history}"
        screenshot(page, "service-month-old-case")

        # --- Suggestions for tomorrow, then the dispatch.
        page.wait_for_selector("#dispatch-panel .dispatch-suggestions li")
        page.fill("#dispatch-day", tomorrow.isoformat())
        page.wait_for_selector(
            f"#dispatch-panel input[type=hidden][name=day][value='{tomorrow.isoformat()}']",
            state="attached",
        )
        _settle(page)
        ranked = page.locator("#dispatch-panel .dispatch-suggestions li").all_inner_texts()
        assert [row.split()[0] for row in ranked] == ["张师傅", "王师傅", "赵师傅"], ranked
        assert "skill 5" in ranked[0] and "km from home" in ranked[0]
        assert page.input_value("#id_technician_id") == str(skilled.pk)
        assert page.input_value("#id_starts_at") == f"{tomorrow.isoformat()}T09:00"
        page.fill("#id_starts_at", f"{tomorrow.isoformat()}T10:00")
        page.fill("#id_ends_at", f"{tomorrow.isoformat()}T12:00")
        page.fill("#id_note", "带上冷媒和压力表。")
        page.click("#dispatch-panel form.assign-form button[type=submit]")
        page.locator("#dispatch-panel .dispatch-list li", has_text="张师傅").wait_for()
        _settle(page)
        visit = Dispatch.objects.in_workspace(ws).get(case=case)
        assert visit.technician_id == skilled.pk and visit.status == "scheduled"
        assert visit.starts_at == dt.datetime.combine(tomorrow, dt.time(10), tzinfo=SHANGHAI)

        # --- The first answer to the customer, in place.
        page.fill("#reply-body", "非常抱歉让您久等了！张师傅明天上午来处理。")
        page.click("form.case-reply button[type=submit]")
        page.locator(".case-messages", has_text="非常抱歉让您久等了").wait_for()
        toasts = page.locator("#toasts .toast", has_text="Answer sent.")
        toasts.first.wait_for()
        assert toasts.count() == 1  # one toast per answer (the page once showed two)
        _settle(page)
        page.locator(".case-head .badge", has_text="Open").wait_for()
        history = page.inner_text(".case-events")
        assert "Technician dispatched: 张师傅" in history
        screenshot(page, "service-month-old-case-dispatched")

        # --- The technician: the visit on their visits and on tomorrow's route.
        tech = _context(browser, live_server, phone=True, locale="en-US")
        try:
            tech_page = tech.new_page()
            login(tech_page, skilled.email, TEST_PASSWORD)
            tech_page.goto("/service/dispatches/")
            row = tech_page.locator(".assign-visits li", has_text=case.number)
            assert "空调不制冷" in row.inner_text() and "周敏" in row.inner_text()
            tech_page.goto(f"/activities/visits/route/?date={tomorrow.isoformat()}")
            stop = tech_page.locator(".route-stop", has_text="上海静安宏达商贸有限公司")
            assert stop.count() == 1 and "周敏" in stop.inner_text()
            _no_sideways_scroll(tech_page)
            screenshot(tech_page, "service-technician-route-phone")
        finally:
            tech.close()

        # --- The customer, on a phone: the answer and the visit; a reply.
        home = f"/portal/{ws.slug}/"
        phone = _context(browser, live_server, phone=True, locale="zh-CN")
        try:
            portal_page = phone.new_page()
            _portal_sign_in(portal_page, home, customer.email, smtp_server)
            listed = portal_page.locator(".portal-cases li", has_text=case.number)
            assert "空调不制冷" in listed.inner_text()
            _no_sideways_scroll(portal_page)
            listed.locator("a.portal-case-link").click()
            portal_page.wait_for_selector(".portal-conversation")
            conversation = portal_page.inner_text(".portal-conversation")
            assert "非常抱歉让您久等了" in conversation
            assert "张师傅" in conversation and "10:00" in conversation  # the visit
            assert "会议室的空调" in conversation  # their own first message
            status = portal_page.locator("#portal-case-status")
            assert "ok" not in (status.get_attribute("class") or "")
            assert status.inner_text() != ""
            _no_sideways_scroll(portal_page)
            screenshot(portal_page, "service-portal-case-phone")
            portal_page.fill("#id_body", "好的，明天上午我在公司等张师傅。")
            portal_page.click(".portal-conversation ~ .card form:not(.portal-solved) button")
            portal_page.locator(
                ".portal-message.mine", has_text="明天上午我在公司等张师傅"
            ).wait_for()
            _no_sideways_scroll(portal_page)
        finally:
            phone.close()

        # --- The reply is on the manager's case page.
        page.reload()
        page.locator(".case-messages li", has_text="明天上午我在公司等张师傅").wait_for()
        assert "周敏" in page.locator(".case-messages li").last.inner_text()
        _settle(page)
        screenshot(page, "service-month-old-case-replied")
    finally:
        staff.close()
    reply = CaseMessage.objects.in_workspace(ws).filter(case=case).order_by("-pk").first()
    assert (reply.kind, reply.channel, reply.contact_id) == ("in", "portal", customer.pk)


# --- scenario 2: the customers' own mistakes ------------------------------------------------


def _help_centre(workspace, author):
    """The knowledge base's public answers to the usual air-conditioner mistakes."""
    from guanxi.service.services import knowledge

    topic = knowledge.category_create(
        actor=author, workspace=workspace, name="空调使用", name_en="Using the air conditioner"
    )
    articles = {}
    for title, body in (
        (AIRCON_TITLE,
         "空调不制冷时，多半是遥控器的模式不对：\n"
         "1. 看遥控器屏幕：太阳图标是制热，水滴是除湿，风扇是送风。\n"
         "2. 按“模式”键，切换到雪花图标（制冷）。\n"
         "3. 把温度设到 26℃ 以下，等 5 分钟。\n"
         "还是不制冷，再报修。"),
        ("遥控器没有反应怎么办",
         "先换两节新的 7 号电池；对准空调的接收窗再按。屏幕不亮说明电池没电了。"),
        ("空调滴水的处理方法",
         "室内机滴水多是过滤网太脏或排水管堵了：关机后取出过滤网用清水冲洗。"),
    ):  # fmt: skip
        articles[title] = knowledge.article_create(
            actor=author,
            workspace=workspace,
            title=title,
            body=body,
            visibility="public",
            category_id=topic.pk,
            publish=True,
        )
    return articles


def test_most_calls_are_users_own_mistakes(
    browser, live_server, make_workspace, smtp_server, screenshot
):
    from django.core.cache import cache

    from guanxi.customers.tests.factories import AccountFactory, ContactFactory
    from guanxi.platform.tests.factories import UserFactory
    from guanxi.service.models import Case, CaseType, PortalSearch
    from guanxi.service.services.case_types import service_setup

    cache.clear()
    admin = make_workspace(name="清凉空调服务")
    ws = admin.workspace
    service_setup(ws)
    manager = UserFactory(
        workspace=ws,
        role_code="service_manager",
        full_name="陈经理",
        email="chen@cool.example.com",
        language="en",
        time_zone="Asia/Shanghai",
    )
    article = _help_centre(ws, manager)[AIRCON_TITLE]
    company = AccountFactory(workspace=ws, name="杭州绿城物业有限公司")
    helped = ContactFactory(
        workspace=ws, name="林晓燕", account=company, email="lin.xy@lvcheng.example.com"
    )
    not_helped = ContactFactory(
        workspace=ws, name="黄磊", account=company, email="huang.lei@lvcheng.example.com"
    )
    repair = CaseType.objects.in_workspace(ws).get(kind="repair")
    home = f"/portal/{ws.slug}/"

    # --- 1. She searches in Chinese, finds the answer, says it helped, starts a case, is
    # shown the answer again and leaves.
    phone = _context(browser, live_server, phone=True, locale="zh-CN")
    try:
        page = phone.new_page()
        page.goto(home)
        _no_sideways_scroll(page)
        page.fill("#portal-q", "空调不制冷")
        page.click(".portal-search button[type=submit]")
        page.wait_for_selector(".portal-results")
        titles = page.locator(".portal-result-title").all_inner_texts()
        assert titles[0] == AIRCON_TITLE, titles
        assert page.locator(".portal-results mark").count() >= 1  # the query's words marked
        _no_sideways_scroll(page)
        screenshot(page, "service-deflection-search-phone")

        # Two characters find it too.
        page.fill("#portal-q", "制冷")
        page.click(".portal-search button[type=submit]")
        page.wait_for_url(re.compile(r"/search/\?q=%E5%88%B6%E5%86%B7$"))
        page.wait_for_selector(".portal-results")
        assert page.locator(".portal-result-title").first.inner_text() == AIRCON_TITLE
        page.locator(".portal-result-title", has_text=AIRCON_TITLE).click()
        page.wait_for_selector(".portal-article h1")
        assert page.inner_text(".portal-article h1") == AIRCON_TITLE
        assert "雪花图标" in page.inner_text(".portal-article-body")
        _no_sideways_scroll(page)
        page.click(".portal-feedback button[value=yes]")
        page.wait_for_selector(".portal-thanks")
        screenshot(page, "service-deflection-helpful-phone")

        # She starts a case anyway (signing in), and the answer is offered first.
        _portal_sign_in(page, home, helped.email, smtp_server)
        page.click(f"a[href='{home}cases/new/']")
        page.wait_for_selector("#id_subject")
        page.select_option("#id_case_type", str(repair.pk))
        page.fill("#id_subject", "办公室空调不制冷")
        page.fill("#id_description", "空调开着，但是吹出来的不是冷风。")
        page.click("button[value=suggest]")
        page.wait_for_selector("#portal-suggestions button[value=file]")
        suggested = page.locator("#portal-suggestions .portal-result-title").all_inner_texts()
        assert AIRCON_TITLE in suggested, suggested
        _no_sideways_scroll(page)
        screenshot(page, "service-deflection-suggested-phone")
        # …and leaves without filing.
        page.goto(f"{home}cases/")
        assert page.locator(".portal-cases").count() == 0
    finally:
        phone.close()
    assert not Case.objects.in_workspace(ws).exists()
    searches = PortalSearch.objects.in_workspace(ws)
    assert searches.count() == 3 and not searches.filter(case__isnull=False).exists()
    opened = searches.get(query="制冷")
    assert (opened.opened_article_id, opened.helpful) == (article.pk, True)

    # --- 2. He searches, nothing helps, and he files a case.
    phone = _context(browser, live_server, phone=True, locale="zh-CN")
    try:
        page = phone.new_page()
        page.goto(f"{home}search/?q=压缩机异响")
        page.wait_for_selector(".portal-search")
        assert page.locator(".portal-results").count() == 0
        _portal_sign_in(page, home, not_helped.email, smtp_server)
        page.click(f"a[href='{home}cases/new/']")
        page.wait_for_selector("#id_subject")
        page.select_option("#id_case_type", str(repair.pk))
        page.fill("#id_subject", "压缩机异响")
        page.fill("#id_description", "室外机的压缩机启动时咔咔响，声音很大。")
        page.click("button[value=suggest]")
        page.wait_for_selector("#portal-suggestions button[value=file]")
        page.click("#portal-suggestions button[value=file]")
        page.wait_for_selector(".portal-conversation")
        filed = Case.objects.in_workspace(ws).get()
        assert filed.number in page.inner_text("main")
        assert (filed.contact_id, filed.channel) == (not_helped.pk, "portal")
    finally:
        phone.close()

    # --- The manager's deflection page.
    staff = _context(browser, live_server, phone=False, locale="en-US")
    try:
        page = staff.new_page()
        login(page, manager.email, TEST_PASSWORD)
        page.goto("/service/portal/deflection/")
        page.wait_for_selector("#figure-searches")
        figures = {
            name: page.inner_text(f"#figure-{name}").strip()
            for name in ("searches", "deflected", "rate", "cases")
        }
        # Hers: two searches and the case form's suggestions (3, deflected); his: a search
        # and the case form's suggestions (2, linked to his case).
        assert figures == {"searches": "5", "deflected": "3", "rate": "60%", "cases": "1"}, figures
        helpful = page.locator("#helpful-articles tbody tr").first.inner_text()
        assert AIRCON_TITLE in helpful and "1" in helpful
        assert "压缩机异响" in page.inner_text("#content-gaps")
        page.wait_for_selector("[data-chart=portal-deflection-chart] canvas")
        screenshot(page, "service-deflection-report")
    finally:
        staff.close()
