"""Cases in the browser, on a phone-sized screen: an agent takes a call, finds the caller by
name, opens a complaint for them, answers (the page updates in place), waits on the
customer, resolves it; the queue and the case page fit the screen; the customer's 360°
page shows the open complaint while it is open. Nothing scrolls sideways at 390 px."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    assert width <= 390, f"the page is {width}px wide on a 390px screen: {wide}"


def _settle(page) -> None:
    """Let the panels that load after the page (suggestions, dispatch, satisfaction)
    finish: the test database (SQLite in memory, shared cache) locks a table instead of
    waiting when a click writes while they read."""
    page.wait_for_load_state("networkidle")


def test_a_complaint_from_a_call_on_a_phone(page, workspace_admin, login, screenshot):
    from guanxi.activities.models import Notification
    from guanxi.customers.models import Account
    from guanxi.customers.tests.factories import AccountFactory, ContactFactory
    from guanxi.service.models import Case, CaseType
    from guanxi.service.services.case_types import service_setup

    workspace, admin = workspace_admin.workspace, workspace_admin.user
    service_setup(workspace)
    account = AccountFactory(workspace=workspace, name="杭州青禾食品有限公司")
    contact = ContactFactory(
        workspace=workspace, name="林晓燕", account=account, mobile="+8613900001111"
    )
    complaint = CaseType.objects.in_workspace(workspace).get(kind="complaint")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, workspace_admin.email, workspace_admin.password)

    # The call: find the caller, open the complaint.
    page.goto("/service/cases/new/")
    page.fill("#find-contact", "林晓燕")
    page.wait_for_selector(f"#id_contact option[value='{contact.pk}']", state="attached")
    page.select_option("#id_contact", str(contact.pk))
    page.select_option("#id_case_type", str(complaint.pk))
    page.select_option("#id_priority", "2")
    page.fill("#id_subject", "月饼礼盒少发了两盒")
    page.fill("#id_description", "客户说订单到了，但少了两盒月饼。")
    _no_sideways_scroll(page)
    page.click("form.case-form button[type=submit]")
    page.wait_for_selector(".case-number")
    _settle(page)
    case = Case.objects.in_workspace(workspace).get()
    assert case.contact_id == contact.pk and case.account_id == account.pk
    assert case.kind == "complaint" and case.assignee_id == admin.pk
    _no_sideways_scroll(page)

    # Answer in place (htmx), then wait on the customer.
    page.fill("#reply-body", "非常抱歉，我们马上补发。")
    page.click("form.case-reply button[type=submit]")
    page.wait_for_selector("text=非常抱歉，我们马上补发。")
    _settle(page)
    page.click("button:has-text('Wait on the customer'), button:has-text('等待客户')")
    page.wait_for_selector(".badge.warn")
    _settle(page)
    case.refresh_from_db()
    assert case.status == "waiting" and case.first_response_at is not None
    screenshot(page, "case-page-phone")

    # The customer's page says there is an open complaint.
    page.goto(f"/customers/accounts/{account.pk}/")
    page.wait_for_selector(".badge.danger")
    assert Account.objects.in_workspace(workspace).get(pk=account.pk).open_complaint

    # The queue fits the screen.
    Notification.objects.in_workspace(workspace).update(read_at=case.created_at)
    page.goto("/service/cases/")
    page.wait_for_selector(f"text={case.number}")
    _no_sideways_scroll(page)
    screenshot(page, "cases-queue-phone")

    # Back on the case: the customer answered (by hand here), then resolve.
    page.goto(f"/service/cases/{case.pk}/")
    _settle(page)
    page.click("button:has-text('Customer answered'), button:has-text('客户已答复')")
    page.wait_for_selector("details.case-resolve")
    _settle(page)
    page.click("details.case-resolve summary")
    page.fill("#resolution", "已补发两盒，快递单号已发短信。")
    page.click("details.case-resolve button[type=submit]")
    page.wait_for_selector("text=已补发两盒，快递单号已发短信。")
    case.refresh_from_db()
    assert case.status == "resolved"
    assert not Account.objects.in_workspace(workspace).get(pk=account.pk).open_complaint
