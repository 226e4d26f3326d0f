"""Reads of customer value: the Pareto curve of a year (computed in SQL over
``CustomerYearRevenue``), the runs, the class counts and rules, one customer's revenue by
year and class history.

Money is exact: on PostgreSQL the sums are ``numeric``; on SQLite, where a decimal column
holds a binary float, every amount is summed as whole cents (integers), so a share of
revenue is exact to the cent on both databases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.activities.localtime import zone_named
from guanxi.common.errors import ApplicationError, NotFound
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import ClassChange, CustomerYearRevenue, RunState, ValueRun, ValueSettings
from ..objects import CUSTOMER_VALUE

# The Pareto curve: the share of revenue held by the top x % of customers, every half per
# cent (201 points), and the figures every report quotes.
CURVE_STEP = Decimal("0.5")
TOP_FIGURES = (Decimal(1), Decimal(5), Decimal(10), Decimal(20), Decimal(50))
MIN_YEAR, MAX_YEAR = 1900, 2999
CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")


def cents_sql(column: str) -> str:
    """SQL for ``column`` (a money column) in whole cents: exact ``numeric`` on PostgreSQL,
    an integer on SQLite (whose decimals are floats; rounding to the cent is exact)."""
    if connection.vendor == "sqlite":
        return f"CAST(ROUND({column} * 100) AS INTEGER)"
    return f"ROUND({column} * 100)"


def from_cents(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def share(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return Decimal(0).quantize(SHARE_PLACES)
    return (part * 100 / whole).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def top_count(customers: int, percent: Decimal) -> int:
    """How many customers "the top ``percent`` %" is: rounded up, so the top 20 % of 7
    customers is 2 (never an empty top while there are customers)."""
    return math.ceil(Decimal(customers) * Decimal(percent) / 100)


def curve_percents() -> list[Decimal]:
    steps = int(100 / CURVE_STEP)
    return [CURVE_STEP * i for i in range(steps + 1)]


@dataclass
class ParetoPoint:
    percent: Decimal  # share of customers, %
    customers: int  # how many customers that is
    revenue: Decimal  # what they bought, base currency
    share: Decimal  # share of the year's revenue, %

    def as_list(self) -> list:
        return [float(self.percent), float(self.share), self.customers, str(self.revenue)]


@dataclass
class Pareto:
    year: int
    customers: int
    revenue: Decimal
    points: list[ParetoPoint]
    run: ValueRun | None = None
    cutoffs: dict[int, Decimal] = field(default_factory=dict)  # rank → that customer's revenue

    @property
    def top(self) -> list[ParetoPoint]:
        by_percent = {p.percent: p for p in self.points}
        return [by_percent[p] for p in TOP_FIGURES if p in by_percent]


def _ranked(workspace_id: int, year: int, ranks: list[int]) -> dict[int, tuple]:
    """Cumulative revenue (cents) of the top ``rank`` customers of ``year``, and the
    rank-th customer's own revenue, for each asked rank — one window query."""
    if not ranks:
        return {}
    table = CustomerYearRevenue._meta.db_table
    cents = cents_sql("revenue")
    marks = ", ".join(["%s"] * len(ranks))
    order = "ORDER BY revenue DESC, id"
    sql = (
        f"SELECT rn, cum, cents FROM ("
        f" SELECT ROW_NUMBER() OVER ({order}) AS rn,"
        f" SUM({cents}) OVER ({order} ROWS UNBOUNDED PRECEDING) AS cum,"
        f" {cents} AS cents"
        f" FROM {table} WHERE workspace_id = %s AND year = %s AND revenue > 0"
        f") ranked WHERE rn IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id, year, *ranks])
        return {int(rn): (cum, own) for rn, cum, own in cursor.fetchall()}


def pareto_compute(*, workspace, year: int, extra_ranks=()) -> Pareto:
    """The Pareto curve of ``year`` from the stored revenue per customer and year.
    Customers are those whose net revenue in the year is above zero. ``extra_ranks``: ranks
    whose own revenue the caller needs (the class cut-off), returned in ``cutoffs``."""
    table = CustomerYearRevenue._meta.db_table
    ws_id = getattr(workspace, "pk", workspace)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), SUM({cents_sql('revenue')}) FROM {table}"
            " WHERE workspace_id = %s AND year = %s AND revenue > 0",
            [ws_id, year],
        )
        customers, total_cents = cursor.fetchone()
    customers = int(customers or 0)
    total = from_cents(total_cents)
    percents = curve_percents()
    counts = [top_count(customers, p) for p in percents]
    wanted = sorted({k for k in counts if k > 0} | {k for k in extra_ranks if 0 < k <= customers})
    ranked = _ranked(ws_id, year, wanted)
    points = []
    for percent, k in zip(percents, counts, strict=True):
        revenue = from_cents(ranked[k][0]) if k else Decimal(0).quantize(CENT)
        points.append(ParetoPoint(percent, k, revenue, share(revenue, total)))
    cutoffs = {k: from_cents(ranked[k][1]) for k in extra_ranks if k in ranked}
    return Pareto(year, customers, total, points, cutoffs=cutoffs)


def _points_from_run(run: ValueRun) -> list[ParetoPoint]:
    return [
        ParetoPoint(Decimal(str(x)), int(k), Decimal(rev), Decimal(str(s)).quantize(SHARE_PLACES))
        for x, s, k, rev in run.pareto
    ]


def reference_year(workspace, *, now=None) -> int:
    """The default year to classify by: the last full calendar year in the workspace's
    time zone."""
    now = now or timezone.now()
    return now.astimezone(zone_named(workspace.time_zone)).year - 1


def check_year(value, *, field_name: str = "year") -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = None
    if year is None or isinstance(value, bool) or not (MIN_YEAR <= year <= MAX_YEAR):
        message = _("Enter a year from %(min)s to %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR}
        raise ApplicationError(message, fields={field_name: [message]})
    return year


def require_read(actor: User, workspace: Workspace) -> None:
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    permissions.require(actor, CUSTOMER_VALUE, Action.READ)


def last_run(*, workspace, done_only: bool = True) -> ValueRun | None:
    qs = ValueRun.objects.in_workspace(workspace)
    if done_only:
        qs = qs.filter(state=RunState.DONE)
    return qs.select_related("job").order_by("-started_at", "-id").first()


def pareto_get(*, actor: User, workspace: Workspace, year=None) -> Pareto:
    """The Pareto figures of ``year`` (default: the year of the last run): the last run's
    stored curve when it was for that year, else computed now from the stored revenue."""
    require_read(actor, workspace)
    return pareto_for(workspace=workspace, year=year)


def pareto_for(*, workspace, year=None) -> Pareto:
    """``pareto_get`` without the rights check, for the operator's command line."""
    run = last_run(workspace=workspace)
    if year in (None, ""):
        year = run.year if run is not None else reference_year(workspace)
    year = check_year(year)
    if run is not None and run.year == year and run.pareto:
        return Pareto(year, run.customers, run.revenue, _points_from_run(run), run=run)
    return pareto_compute(workspace=workspace, year=year)


def value_settings_read(*, workspace) -> ValueSettings:
    """The workspace's rules; the defaults (unsaved) until someone saves them."""
    stored = ValueSettings.objects.in_workspace(workspace).first()
    if stored is not None:
        return stored
    return ValueSettings(
        workspace_id=getattr(workspace, "pk", workspace), a_account_types=["agent"]
    )


def runs_list(*, actor: User, workspace: Workspace, limit: int = 10) -> list[ValueRun]:
    require_read(actor, workspace)
    return list(
        ValueRun.objects.in_workspace(workspace)
        .select_related("job__owner")
        .order_by("-started_at", "-id")[:limit]
    )


@dataclass
class CustomerValue:
    kind: str
    record: object
    value_class: str
    years: list[CustomerYearRevenue]
    history: list[ClassChange]

    @property
    def top_revenue(self):
        """The best year's revenue (the scale of the panel's bars)."""
        return max((y.revenue for y in self.years), default=0) or 1


HISTORY_LIMIT = 50


def customer_value_get(*, actor: User, workspace: Workspace, kind: str, record_id) -> CustomerValue:
    """One customer's class, revenue by year (oldest first) and class history (newest
    first, the last ``HISTORY_LIMIT``); a customer the actor may not see is not found."""
    require_read(actor, workspace)
    if kind == "account":
        record = customer_selectors.account_get(
            workspace=workspace, actor=actor, account_id=record_id
        )
        link = {"account_id": record.pk}
    elif kind == "contact":
        record = customer_selectors.contact_get(
            workspace=workspace, actor=actor, contact_id=record_id
        )
        link = {"contact_id": record.pk}
    else:
        raise NotFound()
    years = list(
        CustomerYearRevenue.objects.in_workspace(workspace).filter(**link).order_by("year")
    )
    history = list(
        ClassChange.objects.in_workspace(workspace)
        .filter(**link)
        .select_related("run")
        .order_by("-changed_at", "-id")[:HISTORY_LIMIT]
    )
    return CustomerValue(kind, record, record.value_class, years, history)
