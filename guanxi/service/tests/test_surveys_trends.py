"""Complaint trends and the service revenue panel against a small data set worked out by
hand: three months of cases in Shanghai time (two of them on a month's edge in UTC), their
resolution times, survey scores, categories and products, and the orders around them."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.sales.models import Order, Product
from guanxi.sales.services import orders as order_services
from guanxi.sales.services.setup import ensure_sales_defaults
from guanxi.service.models import Case, CaseCategory, Survey
from guanxi.service.services import trends

from .surveys_support import *  # noqa: F403
from .surveys_support import make_case

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 3, 15)


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A Shanghai wall-clock time."""
    y, m, d = (int(p) for p in day.split("-"))
    return dt.datetime(y, m, d, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def data(admin, service_ws):
    ensure_sales_defaults(service_ws)
    billing = CaseCategory.objects.create(workspace=service_ws, name="账单")
    install = CaseCategory.objects.create(workspace=service_ws, name="安装")
    pump = Product.objects.create(workspace=service_ws, code="P1", name="水泵")
    valve = Product.objects.create(workspace=service_ws, code="P2", name="阀门")
    x = AccountFactory(workspace=service_ws, name="客户X")
    y = ContactFactory(workspace=service_ws, name="客户Y")
    z = AccountFactory(workspace=service_ws, name="客户Z")

    def case(kind, created, *, hours=None, category=None, product=None, score=None, **extra):
        row = make_case(
            admin,
            kind=kind,
            acknowledge=False,
            assign=False,
            category=category.pk if category else None,
            product=product.pk if product else None,
            **extra,
        )
        changes = {"created_at": created}
        if hours is not None:
            changes.update(status="resolved", resolved_at=created + dt.timedelta(hours=hours))
        Case.objects.in_workspace(service_ws).filter(pk=row.pk).update(**changes)
        if score is not None:
            Survey.objects.create(
                workspace=service_ws,
                case=row,
                round=1,
                token_hash=f"{row.pk:064d}",
                channel="email",
                sent_to="t@example.cn",
                expires_at=created + dt.timedelta(days=30),
                answered_at=created + dt.timedelta(days=1),
                score=score,
            )
        return row

    made = {
        # January: 2 complaints of 3 cases; resolved in 10 h and 30 h; scores 4 and 2.
        "x_jan": case(
            "complaint",
            at("2026-01-10"),
            hours=10,
            category=billing,
            product=pump,
            score=4,
            account=x,
        ),
        "jan_b": case("complaint", at("2026-01-20"), hours=30, category=install, score=2),
        # 23:30 in Shanghai is still January (15:30 UTC).
        "jan_fault": case("fault", at("2026-01-31", 23, 30), hours=1, score=1),
        # February: 4 complaints of 5; resolved in 4, 8 and 48 h (median 8); one score 5.
        "feb_1": case(
            "complaint", at("2026-02-03"), hours=4, category=billing, product=pump, score=5
        ),
        "feb_2": case("complaint", at("2026-02-10"), hours=8, category=billing, product=valve),
        "y_feb": case(
            "complaint", at("2026-02-11"), hours=48, category=billing, product=pump, contact=y
        ),
        "feb_open": case("complaint", at("2026-02-20"), category=install),
        "feb_inquiry": case("inquiry", at("2026-02-21")),
        # March: 4 complaints of 6; one resolved in 2 h. 00:30 on 1 March in Shanghai is
        # 28 February in UTC, and counts in March.
        "mar_1": case(
            "complaint", at("2026-03-01", 0, 30), hours=2, category=install, product=valve
        ),
        "mar_2": case("complaint", at("2026-03-02"), category=install, product=valve),
        "mar_3": case("complaint", at("2026-03-10"), category=install, product=pump),
        "mar_4": case("complaint", at("2026-03-12"), category=billing),
        "mar_fault": case("fault", at("2026-03-01"), score=1),
        "mar_repair": case("repair", at("2026-03-02")),
        # Outside the three months.
        "december": case("complaint", at("2025-12-31", 23, 0), hours=5, category=billing),
        "april": case("complaint", at("2026-04-01", 0, 10), category=billing),
    }

    def order(customer, day, amount, **extra):
        return order_services.order_create(
            actor=admin,
            workspace=service_ws,
            currency="CNY",
            order_date=dt.date.fromisoformat(day),
            lines=[
                order_services.OrderLineInput(
                    product=None, quantity=1, unit_price=amount, tax_rate=0, description="服务"
                )
            ],
            **customer,
            **extra,
        )

    orders = {
        "x_before": order({"account": x}, "2026-01-05", "100"),  # before X's case: linked only
        "x_same_day": order({"account": x}, "2026-01-10", "200"),  # counts
        "x_day_90": order({"account": x}, "2026-04-10", "300"),  # 90 days after: counts
        "x_day_91": order({"account": x}, "2026-04-11", "400"),  # too late
        "x_cancelled": order({"account": x}, "2026-02-01", "500"),
        "y_after": order({"contact": y}, "2026-02-15", "50"),  # counts (a person)
        "z_no_case": order({"account": z}, "2026-02-01", "1000"),
    }
    Order.objects.in_workspace(service_ws).filter(pk=orders["x_cancelled"].pk).update(
        status="cancelled"
    )
    # Orders linked to cases: one in range counts; a cancelled one and an out-of-range
    # case's do not.
    Case.objects.in_workspace(service_ws).filter(pk=made["feb_open"].pk).update(
        order=orders["x_before"]
    )
    Case.objects.in_workspace(service_ws).filter(pk=made["mar_2"].pk).update(
        order=orders["x_cancelled"]
    )
    Case.objects.in_workspace(service_ws).filter(pk=made["april"].pk).update(
        order=orders["z_no_case"]
    )
    return {
        "cases": made,
        "orders": orders,
        "billing": billing,
        "install": install,
        "pump": pump,
        "valve": valve,
    }


def _trends(admin, **filters):
    return trends.complaint_trends(
        actor=admin,
        workspace=admin.workspace,
        filters=trends.clean_filters(**{"periods": 3, **filters}),
        today=TODAY,
    )


def test_monthly_complaint_figures(admin, data):
    result = _trends(admin)
    rows = [
        (
            p.label,
            p.cases,
            p.matched,
            p.share,
            p.resolved,
            p.median_hours,
            p.answers,
            p.satisfaction,
        )
        for p in result.periods
    ]
    assert rows == [
        ("2026-01", 3, 2, 66.7, 2, 20.0, 2, 3.0),
        ("2026-02", 5, 4, 80.0, 3, 8.0, 1, 5.0),
        ("2026-03", 6, 4, 66.7, 1, 2.0, 0, None),
    ]
    assert result.current.label == "2026-03" and result.previous.label == "2026-02"


def test_categories_and_products_this_period_against_the_previous(admin, data):
    result = _trends(admin)
    assert [(m.name, m.current, m.previous) for m in result.categories] == [
        ("安装", 3, 1),
        ("账单", 1, 3),
    ]
    assert [(m.name, m.change) for m in result.rising_categories] == [("安装", 2)]
    products = {m.name: (m.current, m.previous) for m in result.products}
    assert products == {"阀门": (2, 1), "水泵": (1, 2), "(none)": (1, 1)}
    assert [(m.name, m.change) for m in result.rising_products] == [("阀门", 1)]
    assert result.category_series == {"安装": [1, 1, 3], "账单": [1, 3, 1]}


def test_filters(admin, data):
    billing = _trends(admin, category_id=data["billing"].pk)
    assert [p.matched for p in billing.periods] == [1, 3, 1]
    assert [p.cases for p in billing.periods] == [3, 5, 6]  # the share is of all cases
    pump = _trends(admin, product_id=data["pump"].pk)
    assert [p.matched for p in pump.periods] == [1, 2, 1]
    everything = _trends(admin, kind="")
    assert [p.matched for p in everything.periods] == [3, 5, 6]
    assert [p.satisfaction for p in everything.periods] == [round(7 / 3, 2), 5.0, 1.0]
    faults = _trends(admin, kind="fault")
    assert [p.matched for p in faults.periods] == [1, 0, 1]


def test_subcategories_count_with_their_parent(admin, data, service_ws):
    child = CaseCategory.objects.create(workspace=service_ws, name="发票", parent=data["billing"])
    Case.objects.in_workspace(service_ws).filter(pk=data["cases"]["mar_3"].pk).update(
        category=child
    )
    billing = _trends(admin, category_id=data["billing"].pk)
    assert [p.matched for p in billing.periods] == [1, 3, 2]


def test_weeks_and_quarters(admin, data):
    weeks = _trends(admin, period="week", periods=2)
    assert [p.label for p in weeks.periods] == ["2026-W10", "2026-W11"]
    # Week 10 (2–8 March): mar_2 (complaint); week 11 (9–15 March): mar_3 and mar_4.
    assert [p.matched for p in weeks.periods] == [1, 2]
    quarters = _trends(admin, period="quarter", periods=2)
    assert [p.label for p in quarters.periods] == ["2025-Q4", "2026-Q1"]
    assert [p.matched for p in quarters.periods] == [1, 10]
    assert quarters.periods[1].median_hours == 9.0  # 2, 4, 8, 10, 30, 48 → (8 + 10) / 2


def test_fixed_number_of_queries(admin, data):
    with CaptureQueriesContext(connection) as ctx:
        _trends(admin)
    assert len(ctx) <= 8


def test_bad_filters_are_field_errors():
    for filters, field in (
        ({"period": "decade"}, "period"),
        ({"periods": 1}, "periods"),
        ({"periods": "x"}, "periods"),
        ({"kind": "praise"}, "kind"),
        ({"category_id": "abc"}, "category_id"),
        ({"product_id": -3}, "product_id"),
    ):
        with pytest.raises(ApplicationError) as caught:
            trends.clean_filters(**filters)
        assert field in caught.value.fields


def test_service_revenue(admin, data):
    result = _trends(admin)
    revenue = trends.service_revenue(
        actor=admin, workspace=admin.workspace, start=result.start, end=result.end
    )
    orders = data["orders"]
    assert revenue.upsell_orders == 3
    assert revenue.upsell_revenue == Decimal("550.00")
    assert revenue.upsell_customers == 2
    assert {orders[k].total_base for k in ("x_same_day", "x_day_90", "y_after")} == {
        Decimal("200.00"),
        Decimal("300.00"),
        Decimal("50.00"),
    }
    assert (revenue.linked_orders, revenue.linked_revenue) == (1, Decimal("100.00"))
    assert revenue.currency == admin.workspace.default_currency


def test_revenue_hidden_without_the_right_to_read_orders(agent, nobody, data):
    from guanxi.platform.models import Role

    role = Role.objects.create(
        workspace=agent.workspace,
        name="Cases only",
        code="cases_only",
        rights={"service.case": {"actions": ["read"], "visibility": "all"}},
    )
    agent.role = role
    agent.save(update_fields=["role"])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    assert (
        trends.service_revenue(actor=agent, workspace=agent.workspace, start=start, end=end) is None
    )
    assert _trends(agent).periods[1].matched == 4
    with pytest.raises(PermissionDenied):
        _trends(nobody)


def test_other_workspace_data_is_not_counted(admin, data, other_admin):
    result = _trends(other_admin)
    assert all(p.cases == 0 for p in result.periods)
    assert result.categories == [] and result.products == []
    revenue = trends.service_revenue(
        actor=other_admin, workspace=other_admin.workspace, start=result.start, end=result.end
    )
    assert (revenue.upsell_orders, revenue.linked_orders) == (0, 0)
