"""Customer value and the sales dashboard in the browser, on a phone-sized screen: the
ECharts charts draw (vendored ECharts, started by static/js/charts.js under the CSP
nonce, no inline script), nothing scrolls sideways at 390 px, the 360° section loads."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.e2e


def _book(workspace):
    from guanxi.analytics.services import value
    from guanxi.analytics.tests.value_support import add_order
    from guanxi.customers.tests.factories import AccountFactory

    year = dt.date.today().year - 1
    accounts = [AccountFactory(workspace=workspace, name=f"价值客户 {i}") for i in range(12)]
    for i, account in enumerate(accounts):
        add_order(
            workspace,
            account=account,
            day=dt.date(year, 1 + i % 12, 3),
            amounts=[str(100 * (i + 1) ** 2)],
        )
    value.value_recompute(workspace=workspace, year=year)
    return accounts


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"


def test_value_page_and_dashboard_on_a_phone(page, workspace_admin, login, screenshot):
    from guanxi.sales.services.setup import ensure_sales_defaults

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 390, "height": 844})
    accounts = _book(workspace_admin.workspace)
    ensure_sales_defaults(workspace_admin.workspace)
    login(page, workspace_admin.email, workspace_admin.password)

    page.goto("/analytics/value/")
    page.wait_for_selector('[data-chart="pareto-chart-data"] canvas')
    assert page.locator("#pareto-top tbody tr").count() == 5
    _no_sideways_scroll(page)
    screenshot(page, "value-page-phone")

    page.goto("/analytics/sales/")
    page.wait_for_selector('[data-chart="chart-pipeline"] canvas')
    page.wait_for_selector('[data-chart="chart-top-customers"] canvas')
    _no_sideways_scroll(page)
    screenshot(page, "sales-dashboard-phone")

    page.goto(f"/customers/accounts/{accounts[-1].pk}/")
    page.wait_for_selector("#value-panel .value-badge--A")
    _no_sideways_scroll(page)
    assert not [e for e in errors if "Content Security Policy" in e or "echarts" in e.lower()], (
        errors
    )
