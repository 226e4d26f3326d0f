"""Satisfaction surveys in the browser, on a phone-sized screen: a resolved case's customer
opens the link from their e-mail, taps a score, writes a comment and sends it once (the
link then says it was answered); the manager sees the answer in the results and the
complaint trends' charts drawn. Nothing scrolls sideways at 390 px."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"


def test_customer_answers_on_a_phone_and_manager_sees_it(page, workspace_admin, login, screenshot):
    from guanxi.activities.models import EmailMessage
    from guanxi.customers.tests.factories import ContactFactory
    from guanxi.service.models import CaseStatus, CaseType, Survey
    from guanxi.service.services import cases
    from guanxi.service.services.case_types import service_setup

    workspace, admin = workspace_admin.workspace, workspace_admin.user
    service_setup(workspace)
    person = ContactFactory(workspace=workspace, name="李娜", email="li.na@example.cn")
    complaint = CaseType.objects.in_workspace(workspace).get(kind="complaint")
    case = cases.case_create(
        actor=admin,
        workspace=workspace,
        values={"case_type": complaint.pk, "subject": "送货晚了三天", "assignee": admin.pk},
        channel="phone",
        contact=person,
        acknowledge=False,
        language="zh-hans",
    )
    for status in (CaseStatus.OPEN, CaseStatus.RESOLVED):
        cases.case_change_status(
            actor=admin, workspace=workspace, case_id=case.pk, status=status, resolution="已补发"
        )
    mail = EmailMessage.objects.in_workspace(workspace).get(to=["li.na@example.cn"])
    path = re.search(r"/s/[A-Za-z0-9_\-]+/", mail.body_text).group(0)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)
    assert case.number in page.inner_text("main")
    choice = page.locator("label.survey-choice--2")
    box = choice.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300  # a big tap target
    _no_sideways_scroll(page)
    screenshot(page, "surveys-public-phone")
    choice.click()
    page.fill("#survey-comment", "等了太久，不过师傅态度很好")
    page.click("button.survey-send")
    page.wait_for_selector("[role=status]")
    survey = Survey.objects.in_workspace(workspace).get()
    assert (survey.score, survey.comment) == (2, "等了太久，不过师傅态度很好")
    page.goto(path)
    assert page.locator("input[name=score]").count() == 0

    login(page, workspace_admin.email, workspace_admin.password)
    page.goto("/service/surveys/")
    assert "等了太久" in page.inner_text("#survey-answers")
    page.wait_for_selector("[data-chart=chart-survey-distribution] canvas")
    _no_sideways_scroll(page)
    screenshot(page, "surveys-results-phone")
    page.goto("/service/trends/")
    page.wait_for_selector("[data-chart=chart-trend-volume] canvas")
    page.wait_for_selector("[data-chart=chart-trend-resolution] canvas")
    _no_sideways_scroll(page)
    screenshot(page, "surveys-trends-phone")
