"""The self-service portal in a real browser, on a phone (390 × 844): "Most calls are users'
own mistakes".

1. A customer who is not signed in searches the help centre for her problem, opens the
   article found, answers "Did this help?" with yes, and leaves: the search counts as
   deflected (no case by her within 24 hours).
2. Another customer signs in with the code the portal e-mails him (read from a real SMTP
   server on loopback), describes his problem in "New case", is shown the articles that may
   help first, files the case anyway, and finds it in "My cases". His suggestion search is
   linked to the case, so it is not deflected.

The data are made through the services, as the company's staff would have made them; the
browser does only what the customers do.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import TIMEOUT_MS

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
JAM_TITLE = "打印机卡纸怎么办"


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 390 px phone"


def _phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        # The customers read the portal in English: the strings are translated in
        # one pass at its end, and the scenario must not depend on that pass.
        locale="en-US",
        timezone_id="Asia/Shanghai",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _help_centre(admin):
    """The service manager's knowledge base: public answers to the usual mistakes."""
    from guanxi.customers.tests.factories import AccountFactory, ContactFactory
    from guanxi.service.services import knowledge, portal
    from guanxi.service.services.case_types import service_setup

    ws, user = admin.workspace, admin.user
    service_setup(ws)
    topic = knowledge.category_create(actor=user, workspace=ws, name="打印机", name_en="Printers")
    for title, body in (
        (JAM_TITLE, "打印机卡纸时：\n1. 关闭电源。\n2. 打开前盖，慢慢取出卡住的纸张。\n3. 合上前盖，重新开机。"),
        ("更换墨粉盒", "打印变淡时更换墨粉盒：打开前盖，取出旧墨粉盒，装入新的。"),
    ):  # fmt: skip
        knowledge.article_create(
            actor=user,
            workspace=ws,
            title=title,
            body=body,
            visibility="public",
            category_id=topic.pk,
            publish=True,
        )
    portal.portal_settings_update(
        actor=user, workspace=ws, welcome="您好！多数问题在这里都能找到答案。"
    )
    account = AccountFactory(workspace=ws, name="杭州明达印务有限公司")
    return ContactFactory(
        workspace=ws, name="赵磊", account=account, email="zhao.lei@mingda.example.com"
    )


def test_most_calls_are_users_own_mistakes(browser, live_server, make_workspace, screenshot,
                                           smtp_server):  # fmt: skip
    from guanxi.service.models import Case, CaseType, PortalSearch
    from guanxi.service.selectors import portal as portal_selectors

    admin = make_workspace(name="明达办公设备")
    ws = admin.workspace
    customer = _help_centre(admin)
    fault = CaseType.objects.in_workspace(ws).get(kind="fault")
    home = f"/portal/{ws.slug}/"

    # --- 1. A customer finds the answer herself and leaves.
    context = _phone(browser, live_server)
    try:
        page = context.new_page()
        page.goto(home)
        assert "您好！多数问题在这里都能找到答案。" in page.inner_text("main")
        _no_sideways_scroll(page)
        screenshot(page, "portal-home-phone")
        page.fill("#portal-q", "打印机卡纸了")
        page.click(".portal-search button[type=submit]")
        page.wait_for_selector(".portal-results")
        _no_sideways_scroll(page)
        screenshot(page, "portal-search-phone")
        page.locator(".portal-result-title", has_text="卡纸").first.click()
        page.wait_for_selector(".portal-article h1")
        assert page.inner_text(".portal-article h1") == JAM_TITLE
        _no_sideways_scroll(page)
        page.click(".portal-feedback button[value=yes]")
        page.wait_for_selector(".portal-thanks")
        screenshot(page, "portal-article-helpful-phone")
    finally:
        context.close()
    first = PortalSearch.objects.in_workspace(ws).get()
    assert (first.query, first.results >= 1, first.helpful, first.case_id) == (
        "打印机卡纸了",
        True,
        True,
        None,
    )
    assert first.opened_article.title == JAM_TITLE and first.contact_id is None

    # --- 2. Another customer signs in with the e-mailed code and files a case anyway.
    context = _phone(browser, live_server)
    try:
        page = context.new_page()
        page.goto(home)
        page.click(f"a[href='{home}sign-in/']")
        page.fill("#id_destination", customer.email)
        page.click("form button[type=submit].btn-primary")
        page.wait_for_selector("#id_code")
        _no_sideways_scroll(page)
        assert len(smtp_server.messages) == 1, smtp_server.messages
        assert smtp_server.recipients == [[customer.email]]
        code = re.search(r"\b(\d{6})\b", smtp_server.messages[0].get_content()).group(1)
        page.fill("#id_code", code)
        page.click("form button[type=submit].btn-primary")
        page.wait_for_url(f"**{home}cases/")
        assert "赵磊" in page.inner_text("main")

        page.click(f"a[href='{home}cases/new/']")
        page.wait_for_selector("#id_subject")
        page.select_option("#id_case_type", str(fault.pk))
        page.fill("#id_subject", "打印机一直卡纸")
        page.fill("#id_description", "按文章取出了纸张，开机后还是卡纸，前盖里有异响。")
        assert page.locator("button[value=file]").count() == 0  # the answers come first
        page.click("button[value=suggest]")
        page.wait_for_selector("#portal-suggestions button[value=file]")
        assert JAM_TITLE in page.inner_text("#portal-suggestions")
        _no_sideways_scroll(page)
        screenshot(page, "portal-new-case-suggestions-phone")
        page.click("#portal-suggestions button[value=file]")
        page.wait_for_selector(".portal-conversation")
        case = Case.objects.in_workspace(ws).get()
        assert case.number in page.inner_text("main")
        assert (case.channel, case.contact_id, case.account_id) == (
            "portal",
            customer.pk,
            customer.account_id,
        )
        _no_sideways_scroll(page)
        screenshot(page, "portal-case-phone")

        page.click(".portal-crumbs a")
        page.wait_for_url(f"**{home}cases/")
        assert case.number in page.inner_text(".portal-cases")
        assert "打印机一直卡纸" in page.inner_text(".portal-cases")
        _no_sideways_scroll(page)
        screenshot(page, "portal-my-cases-phone")
    finally:
        context.close()

    # --- The figures: the first customer's search was deflected, the second's was not.
    suggestion = PortalSearch.objects.in_workspace(ws).exclude(pk=first.pk).get()
    assert suggestion.case_id == case.pk and suggestion.contact_id == customer.pk
    report = portal_selectors.deflection_report(workspace=ws, actor=admin.user)
    assert (report.searches, report.deflected, report.cases) == (2, 1, 1)
    assert report.helpful_articles[0]["title"] == JAM_TITLE
