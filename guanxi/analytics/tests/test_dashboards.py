# ruff: noqa: F811  (the shared fixtures are imported by name, and pytest passes them in)
"""The sales dashboard (page and API): the panels' figures, visibility (a rep sees their
own deals), rights (a panel without the right is left out; no right at all is 403),
other workspaces, fixed query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.localtime import local_today
from guanxi.analytics.selectors import dashboards
from guanxi.analytics.services import value
from guanxi.analytics.tests.value_support import D, add_order, nobody  # noqa: F401
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import Role
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token
from guanxi.sales.models import Deal, Invoice, Quota, Stage
from guanxi.sales.services.setup import default_pipeline, ensure_sales_defaults

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(workspace):
    ensure_sales_defaults(workspace)
    team = TeamFactory(workspace=workspace)
    return {
        "team": team,
        "rep": UserFactory(workspace=workspace, team=team, full_name="Rep A"),
        "other": UserFactory(workspace=workspace, team=team, full_name="Rep B"),
        "pipeline": default_pipeline(workspace),
    }


def _stage(workspace, kind="open", order=None):
    qs = Stage.objects.in_workspace(workspace).filter(kind=kind).order_by("order")
    return qs[order] if order is not None else qs.first()


def _deal(workspace, owner, *, amount, stage, status="open", closed_at=None, close=None):
    now = timezone.now()
    return Deal.objects.create(
        workspace=workspace,
        owner=owner,
        name="商机",
        pipeline=stage.pipeline,
        stage=stage,
        status=status,
        amount=D(amount),
        amount_base=D(amount),
        currency="CNY",
        probability=stage.probability,
        forecast_category=stage.forecast_category,
        expected_close_date=close,
        closed_at=closed_at,
        stage_changed_at=now,
    )


def _book(workspace, sales, n: int, today: dt.date):
    rep, other = sales["rep"], sales["other"]
    for i in range(n):
        _deal(workspace, rep, amount=100 + i, stage=_stage(workspace, order=i % 5), close=today)
        _deal(workspace, other, amount=1000, stage=_stage(workspace, order=0), close=today)
        closed = timezone.now() - dt.timedelta(days=40 * (i % 3))
        _deal(
            workspace,
            rep,
            amount=50,
            stage=_stage(workspace, "won"),
            status="won",
            closed_at=closed,
        )
        _deal(
            workspace,
            rep,
            amount=50,
            stage=_stage(workspace, "lost"),
            status="lost",
            closed_at=closed,
        )
        account = AccountFactory(workspace=workspace, owner=rep if i % 2 else other)
        order = add_order(workspace, account=account, day=today, amounts=[str(200 + i)])
        order.owner = rep
        order.save()
        Invoice.objects.create(
            workspace=workspace,
            order=order,
            number=f"INV-{order.pk}",
            issued_on=today - dt.timedelta(days=45),
            due_on=today - dt.timedelta(days=15),
            currency="CNY",
            amount=D(200 + i),
            account=account,
            owner=rep,
        )
    value.value_recompute(workspace=workspace, year=today.year)


def test_panels_for_an_administrator(workspace, admin_user, sales):
    today = local_today(admin_user)
    _book(workspace, sales, 3, today)
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    Quota.objects.create(
        workspace=workspace,
        user=sales["rep"],
        period_kind="quarter",
        period_start=quarter_start,
        amount=D(1000),
    )
    board = dashboards.sales_dashboard(workspace=workspace, actor=admin_user)
    assert board.pipeline.count == 6 and board.pipeline.amount == D(100 + 101 + 102 + 3000)
    assert [s.count for s in board.pipeline.stages] == [4, 1, 1, 0, 0]
    assert board.forecast.quota == D(1000) and board.forecast.closed_won > 0
    months = {m.month: m for m in board.win_rate}
    assert len(board.win_rate) == 12 and months[today.replace(day=1)].rate == D("50.0")
    assert sum(m.won for m in board.win_rate) == 3
    assert board.receivables.totals.buckets["d31_60"] == D(200 + 201 + 202)
    assert [c.revenue for c in board.top_customers] == [D(202), D(201), D(200)]


def test_a_rep_sees_their_own(workspace, sales):
    today = local_today(sales["rep"])
    _book(workspace, sales, 2, today)
    board = dashboards.sales_dashboard(workspace=workspace, actor=sales["other"])
    assert board.pipeline.count == 2 and board.pipeline.amount == D(2000)  # own deals only
    assert sum(m.won for m in board.win_rate) == 0
    assert board.receivables.totals.total == 0  # the invoices are the other rep's
    assert [c.revenue for c in board.top_customers] == [D(200)]  # own account only


def test_page_api_rights_and_other_workspaces(
    client, workspace, admin_user, other_admin, nobody, sales
):
    today = local_today(admin_user)
    _book(workspace, sales, 2, today)
    client.force_login(admin_user)
    html = client.get(reverse("analytics:sales_dashboard")).content.decode()
    for panel in (
        "chart-pipeline",
        "chart-forecast",
        "chart-win-rate",
        "chart-receivables",
        "chart-top-customers",
    ):
        assert f'data-chart="{panel}"' in html, panel
    body = ApiClient(make_token(admin_user)).get("/analytics/dashboards/sales").json()
    assert body["pipeline"]["deals"] == 4 and len(body["win_rate"]) == 12
    assert body["receivables"]["buckets"][1] == {"bucket": "31–60", "amount": "401.00"}
    theirs = ApiClient(make_token(other_admin)).get("/analytics/dashboards/sales").json()
    assert theirs["pipeline"] is None and theirs["top_customers"] == []
    assert theirs["receivables"]["total"] == "0.00"
    assert_error(
        ApiClient(make_token(other_admin)).get(
            "/analytics/dashboards/sales", pipeline=sales["pipeline"].pk
        ),
        404,
    )
    assert_error(
        ApiClient(make_token(nobody, scopes=["read"])).get("/analytics/dashboards/sales"), 403
    )
    client.force_login(nobody)
    assert client.get(reverse("analytics:sales_dashboard")).status_code == 403
    # only customer value: the deal and invoice panels are left out
    role = Role.objects.create(
        workspace=workspace,
        name="Analyst",
        code="analyst",
        rights={
            "analytics.customer_value": {"actions": ["read"], "visibility": "all"},
            "customers.account": {"actions": ["read"], "visibility": "all"},
        },
    )
    analyst = UserFactory(workspace=workspace, role=role)
    body = ApiClient(make_token(analyst, scopes=["read"])).get("/analytics/dashboards/sales").json()
    assert (
        body["pipeline"] is None and body["receivables"] is None and len(body["top_customers"]) == 2
    )


def test_query_count_does_not_grow(client, workspace, admin_user, sales):
    today = local_today(admin_user)
    client.force_login(admin_user)
    url = reverse("analytics:sales_dashboard")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _book(workspace, sales, 2, today)
    queries()
    small = queries()
    _book(workspace, sales, 12, today)
    assert queries() == small
