"""The SLA pages in the browser, on a phone-sized screen: the administrator opens the working
calendar (made with the workspace's first visit, with the Chinese holidays), moves to the
Spring Festival month without reloading the page (htmx), marks a company holiday, changes
a policy's first-response target; a case gets breached by the sweep and the SLA dashboard
shows it among the cases at risk, its charts drawn. Nothing scrolls sideways at 390 px."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.e2e


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    assert width <= 390, f"the page is {width}px wide on a 390px screen: {wide}"


def test_calendar_policy_and_dashboard_on_a_phone(page, workspace_admin, login, screenshot):
    from guanxi.service.models import CalendarDay, Case, CaseType, SlaPolicy, WorkCalendar
    from guanxi.service.services import sla, sla_clock
    from guanxi.service.services.case_types import service_setup

    workspace = workspace_admin.workspace
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, workspace_admin.email, workspace_admin.password)

    page.goto("/service/sla/calendars/")
    calendar = WorkCalendar.objects.in_workspace(workspace).get()
    _no_sideways_scroll(page)
    page.click(f"a[href='/service/sla/calendars/{calendar.pk}/']")
    page.wait_for_selector("#sla-month")
    _no_sideways_scroll(page)

    # Move to February 2026 with the month arrows: htmx swaps the month in place.
    page.goto(f"/service/sla/calendars/{calendar.pk}/?month=2026-01")
    page.evaluate("window.__same_page = true")
    page.click("#sla-month a[aria-label]:last-of-type")
    page.locator("#sla-month h3", has_text="2026-02").wait_for()
    assert page.evaluate("window.__same_page === true")  # no reload
    holidays = page.locator("#sla-month td.sla-day--holiday:not(.sla-day--out)")
    assert holidays.count() == 9  # 春节 15–23 February
    assert page.locator("#sla-month td.sla-day--workday:not(.sla-day--out)").count() == 2
    screenshot(page, "sla-calendar-phone")

    # A company holiday.
    page.fill("#id_day-day", "2026-03-02")
    page.select_option("#id_day-kind", "holiday")
    page.fill("#id_day-name", "公司年会")
    page.click("form:has(input[value=add_day]) button[type=submit]")
    page.wait_for_url(f"**/service/sla/calendars/{calendar.pk}/")
    page.goto(f"/service/sla/calendars/{calendar.pk}/?month=2026-03")
    page.wait_for_selector("#sla-days >> text=公司年会")
    assert (
        CalendarDay.objects.in_workspace(workspace)
        .filter(calendar=calendar, day=dt.date(2026, 3, 2), name="公司年会")
        .exists()
    )
    _no_sideways_scroll(page)

    # A policy's first-response target.
    policy = SlaPolicy.objects.in_workspace(workspace).get(customer_class="", priority=1)
    page.goto(f"/service/sla/policies/{policy.pk}/")
    _no_sideways_scroll(page)
    page.fill("#id_first_response_minutes", "45")
    page.click("form:has(input[value=save]) button[type=submit]")
    page.wait_for_url(f"**/service/sla/policies/{policy.pk}/")
    policy.refresh_from_db()
    assert policy.first_response_minutes == 45

    # A case opened long ago is breached by the sweep and shows on the dashboard.
    service_setup(workspace)
    case_type = CaseType.objects.in_workspace(workspace).filter(kind="repair").first()
    opened = dt.datetime(2026, 10, 26, 9, tzinfo=dt.UTC)
    case = Case.objects.create(
        workspace=workspace, number="CS-2026-000001", case_type=case_type, kind="repair",
        subject="空调不制冷", priority=1, status="open", channel="phone",
    )  # fmt: skip
    sla_clock.sla_start(case, now=opened)
    case.save()
    sla.sla_sweep(workspace_ids=[workspace.pk])
    page.goto("/service/sla/")
    page.wait_for_selector("#sla-states canvas")
    page.wait_for_selector("#sla-breaches canvas")
    row = page.locator("#sla-at-risk tbody tr", has_text="CS-2026-000001")
    assert row.count() == 1 and row.locator(".badge.danger").count() == 1
    _no_sideways_scroll(page)
    screenshot(page, "sla-dashboard-phone")
