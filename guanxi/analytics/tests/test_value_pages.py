# ruff: noqa: F811  (the shared fixtures are imported by name, and pytest passes them in)
"""The customer-value page and the 360° panel with the Django test client: what they show,
rules and recompute, rights, other workspaces, bad input, fixed query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.analytics.models import ValueSettings
from guanxi.analytics.services import value
from guanxi.analytics.tests.value_support import D, add_order, nobody  # noqa: F401
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import Job
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
YEAR = 2025


def _book(workspace, n: int):
    for i in range(n):
        account = AccountFactory(workspace=workspace)
        add_order(
            workspace, account=account, day=dt.date(YEAR, 1 + i % 12, 1), amounts=[str(10 + i)]
        )
        add_order(workspace, account=account, day=dt.date(YEAR - 1, 1 + i % 12, 1), amounts=["5"])
    value.value_recompute(workspace=workspace, year=YEAR)


def test_page_shows_the_curve_top_figures_classes_and_runs(client, workspace, admin_user):
    _book(workspace, 10)
    client.force_login(admin_user)
    response = client.get(reverse("analytics:value"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="pareto-chart-data"' in html and 'data-chart="pareto-chart-data"' in html
    assert "echarts.min.js" in html and "js/charts.js" in html
    assert 'id="pareto-top"' in html and '<td class="num" data-label="Customers">2</td>' in html
    assert "?f_value_class=A" in html
    assert 'action="/analytics/value/rules/"' in html and "Recompute now" in html
    older = client.get(reverse("analytics:value"), {"year": YEAR - 1}).content.decode()
    assert f"Pareto curve, {YEAR - 1}" in older
    bad = client.get(reverse("analytics:value"), {"year": "x"})
    assert bad.status_code == 200 and "Enter a year" in bad.content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_page_and_panel_query_counts_do_not_grow(client, workspace, admin_user):
    client.force_login(admin_user)
    _book(workspace, 3)
    account = AccountFactory(workspace=workspace)
    add_order(workspace, account=account, day=dt.date(YEAR - 2, 1, 1), amounts=["1"])
    panel = reverse("analytics:value_panel", args=["account", account.pk])
    _queries(client, reverse("analytics:value"))  # warm the per-process caches
    small = (_queries(client, reverse("analytics:value")), _queries(client, panel))
    _book(workspace, 40)
    for year in range(YEAR - 6, YEAR):
        add_order(workspace, account=account, day=dt.date(year, 2, 2), amounts=["3"])
    value.value_recompute(workspace=workspace, year=YEAR)
    large = (_queries(client, reverse("analytics:value")), _queries(client, panel))
    assert small == large


def test_rules_form_saves_and_reports_bad_input(client, workspace):
    manager = UserFactory(workspace=workspace, role_code="sales_manager")
    client.force_login(manager)
    url = reverse("analytics:value_rules")
    good = {
        "a_top_percent": "15",
        "a_account_types": ["agent", "partner"],
        "b_growth_percent": "12.5",
        "b_years": "3",
        "nightly_hour": "4",
    }
    assert client.post(url, good).status_code == 302
    rules = ValueSettings.objects.in_workspace(workspace).get()
    assert (rules.a_top_percent, rules.a_account_types, rules.b_years) == (
        D(15),
        ["agent", "partner"],
        3,
    )
    bad = client.post(url, {**good, "a_top_percent": "150", "b_years": "0"})
    assert bad.status_code == 400 and bad.content.decode().count('class="error"') >= 2
    assert ValueSettings.objects.in_workspace(workspace).get().a_top_percent == D(15)


def test_recompute_button_starts_a_job(
    client, workspace, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("analytics:value_recompute"), {"year": ""})
    assert response.status_code == 302
    job = Job.objects.in_workspace(workspace).get(kind=value.JOB_KIND)
    html = client.get(reverse("analytics:value")).content.decode()
    assert f'id="job-progress-{job.pk}"' in html
    assert client.post(reverse("analytics:value_recompute"), {"year": "12"}).status_code == 400


def test_rights_and_other_workspaces(client, workspace, other_admin, nobody):
    _book(workspace, 2)
    account = AccountFactory(workspace=workspace)
    panel = reverse("analytics:value_panel", args=["account", account.pk])
    client.force_login(nobody)
    assert client.get(reverse("analytics:value")).status_code == 403
    assert client.get(panel).status_code == 403
    rep = UserFactory(workspace=workspace)
    client.force_login(rep)
    page = client.get(reverse("analytics:value")).content.decode()
    assert "Recompute now" not in page and "value/rules" not in page
    assert client.post(reverse("analytics:value_recompute"), {}).status_code == 403
    assert client.post(reverse("analytics:value_rules"), {"b_years": "2"}).status_code == 403
    assert client.get(panel).status_code == 404  # not the rep's account
    client.force_login(other_admin)
    assert client.get(panel).status_code == 404
    assert (
        client.get(reverse("analytics:value_panel", args=["lead", account.pk])).status_code == 404
    )
    other = client.get(reverse("analytics:value")).content.decode()
    assert "No sales in this year yet." in other


def test_panel_on_the_360_page(client, workspace, admin_user):
    account = AccountFactory(workspace=workspace, account_type="agent")
    add_order(workspace, account=account, day=dt.date(YEAR - 1, 3, 3), amounts=["80"])
    add_order(workspace, account=account, day=dt.date(YEAR, 3, 3), amounts=["120.50"])
    value.value_recompute(workspace=workspace, year=YEAR)
    client.force_login(admin_user)
    detail = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    panel = reverse("analytics:value_panel", args=["account", account.pk])
    assert panel in detail
    html = client.get(panel).content.decode()
    assert "value-badge--A" in html and "120.50" in html and "80.00" in html
    assert "customer type" in html  # the reason of the class change
