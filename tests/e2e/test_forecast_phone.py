"""Forecast, quotas and rep performance in the browser, on a phone-sized screen: the period
picker updates the table in place (htmx), a quota typed in the editor shows as attainment,
nothing scrolls sideways at 390 px, and a manager sees "Who should take this deal?" on the
deal page with the rep who won most with such customers first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"


def _data(workspace):
    from django.utils import timezone

    from guanxi.customers.tests.factories import AccountFactory
    from guanxi.platform.tests.factories import TeamFactory, UserFactory
    from guanxi.sales.models import DealStatus
    from guanxi.sales.tests.forecast_support import make_deal

    team = TeamFactory(workspace=workspace, name="华东销售组")
    li = UserFactory(workspace=workspace, team=team, full_name="李娜")
    zhao = UserFactory(workspace=workspace, team=team, full_name="赵强")
    factory = AccountFactory(workspace=workspace, industry="制造业")
    now = timezone.now()
    for i in range(5):
        make_deal(
            workspace,
            zhao,
            amount="400000",
            status=DealStatus.WON if i < 4 else DealStatus.LOST,
            closed_at=now - dt.timedelta(days=3),
            account=factory,
        )
    make_deal(workspace, li, amount="120000", category="commit", close=timezone.localdate())
    big = make_deal(
        workspace,
        li,
        amount="450000",
        close=timezone.localdate() + dt.timedelta(days=30),
        account=AccountFactory(workspace=workspace, industry="制造业", name="新客户制造厂"),
    )
    return {"li": li, "zhao": zhao, "big": big}


def test_forecast_pages_on_a_phone(page, workspace_admin, login, screenshot):
    from guanxi.sales.models import Quota
    from guanxi.sales.services.setup import ensure_sales_defaults

    workspace = workspace_admin.workspace
    ensure_sales_defaults(workspace)
    data = _data(workspace)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, workspace_admin.email, workspace_admin.password)

    page.goto("/sales/quotas/")
    page.fill(f"#q-user-{data['zhao'].pk}", "3200000")
    page.click("form.fc-quotas button[type=submit]")
    page.wait_for_selector(".toast, .messages, #toasts")
    assert Quota.objects.in_workspace(workspace).get(user=data["zhao"]).amount == Decimal("3200000")
    _no_sideways_scroll(page)

    page.goto("/sales/forecast/")
    row = page.locator("#forecast-rows tbody tr", has_text="赵强")
    row.wait_for()
    assert "50.0%" in row.inner_text()  # 1.6M won of a 3.2M quota
    _no_sideways_scroll(page)
    screenshot(page, "forecast-phone")
    # Per team, in place: the table is swapped by htmx, the address follows.
    page.select_option("#kind-select", "team")
    page.wait_for_selector("#forecast-rows tbody span.fc-depth-0:has-text('华东销售组')")
    page.wait_for_function("location.search.includes('kind=team')")
    _no_sideways_scroll(page)

    page.goto("/sales/performance/")
    page.wait_for_selector("#performance-body .fc-board")
    assert "80.0%" in page.locator("#performance-body").inner_text()  # 赵: 4 of 5
    _no_sideways_scroll(page)
    screenshot(page, "rep-performance-phone")

    page.goto(f"/sales/deals/{data['big'].pk}/")
    first = page.locator(".fc-suggest-list > li").first
    first.wait_for()
    assert "赵强" in first.inner_text() and "制造业" in first.inner_text()
    _no_sideways_scroll(page)
    screenshot(page, "deal-suggested-owners-phone")
