"""Complaint trends: by period (week, month, quarter), category and product — how many, their
share of all cases, the median time to resolve them and the customers' satisfaction — and
what service brings in: orders of customers within 90 days after a resolved case of theirs,
and orders linked to cases.

Every figure is one grouped query, whatever the number of cases: seven for the trends and
two for the revenue panel. Periods are cut in the workspace's time zone; a case counts in
the period it was opened in (its resolution time and its survey's score too, so each period
is one cohort of cases). The current period is the one today is in, so far; "rising" compares
it with the whole previous one.

Read only: nothing here writes. The sales tables are read for the revenue panel, for actors
whose role may read orders (the orders they may see).
"""

from __future__ import annotations

import datetime as dt
import statistics
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Extract, TruncDate, TruncMonth, TruncQuarter, TruncWeek
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import FieldErrors
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Case, CaseTypeKind, Survey
from ..objects import CASE

WEEK = "week"
MONTH = "month"
QUARTER = "quarter"
PERIODS = {WEEK: 12, MONTH: 12, QUARTER: 8}
MAX_PERIODS = 60
TOP = 10
CHART_CATEGORIES = 5
UPSELL_DAYS = 90
_TRUNC = {WEEK: TruncWeek, MONTH: TruncMonth, QUARTER: TruncQuarter}
NOT_SALES = ("draft", "cancelled")


class Median(Aggregate):
    """PostgreSQL's continuous median (``percentile_cont(0.5) WITHIN GROUP``)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


# --- periods -----------------------------------------------------------------------------------


def period_start(day: dt.date, period: str) -> dt.date:
    if period == WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period == MONTH:
        return day.replace(day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_next(start: dt.date, period: str) -> dt.date:
    if period == WEEK:
        return start + dt.timedelta(days=7)
    return _add_months(start, 1 if period == MONTH else 3)


def period_back(start: dt.date, period: str, count: int) -> dt.date:
    if period == WEEK:
        return start - dt.timedelta(days=7 * count)
    return _add_months(start, -count * (1 if period == MONTH else 3))


def period_label(start: dt.date, period: str) -> str:
    if period == WEEK:
        year, week, _day = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == MONTH:
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _instant(day: dt.date, zone) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)


# --- the figures --------------------------------------------------------------------------------


@dataclass
class TrendFilters:
    period: str = MONTH
    periods: int = 12
    kind: str = CaseTypeKind.COMPLAINT  # "" for every kind
    category_id: int | None = None
    product_id: int | None = None


@dataclass
class PeriodFigures:
    start: dt.date
    label: str
    cases: int = 0  # every case opened in the period
    matched: int = 0  # the cases the filters pick (complaints by default)
    resolved: int = 0
    median_hours: float | None = None
    answers: int = 0
    satisfaction: float | None = None

    @property
    def share(self) -> float | None:
        return round(100 * self.matched / self.cases, 1) if self.cases else None


@dataclass
class Mover:
    id: int | None
    name: str
    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def change_percent(self) -> float | None:
        return round(100 * self.change / self.previous, 1) if self.previous else None


@dataclass
class Trends:
    filters: TrendFilters
    periods: list[PeriodFigures]
    categories: list[Mover]
    products: list[Mover]
    rising_categories: list[Mover]
    rising_products: list[Mover]
    # Opened per period for the largest categories: {name: [count per period]}.
    category_series: dict[str, list[int]] = field(default_factory=dict)
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    @property
    def current(self) -> PeriodFigures:
        return self.periods[-1]

    @property
    def previous(self) -> PeriodFigures | None:
        return self.periods[-2] if len(self.periods) > 1 else None


def clean_filters(
    *, period=None, periods=None, kind=None, category_id=None, product_id=None
) -> TrendFilters:
    """Filters from a page or the API; bad values are field errors."""
    errors = FieldErrors()
    period = (period or MONTH).strip() if isinstance(period, str) else (period or MONTH)
    if period not in PERIODS:
        errors.add("period", _("Choose one of: %(choices)s.") % {"choices": ", ".join(PERIODS)})
        period = MONTH
    count = PERIODS[period]
    if periods not in (None, ""):
        try:
            count = int(periods)
        except (TypeError, ValueError):
            count = 0
        if not 2 <= count <= MAX_PERIODS:
            errors.add(
                "periods",
                _("Enter a whole number from %(low)s to %(high)s.")
                % {"low": 2, "high": MAX_PERIODS},
            )
    kind = CaseTypeKind.COMPLAINT if kind is None else str(kind).strip()
    if kind and kind not in CaseTypeKind.values:
        errors.add(
            "kind", _("Choose one of: %(choices)s.") % {"choices": ", ".join(CaseTypeKind.values)}
        )
    ids = {}
    for name, value in (("category_id", category_id), ("product_id", product_id)):
        if value in (None, ""):
            ids[name] = None
            continue
        try:
            ids[name] = int(value)
            if ids[name] < 1:
                raise ValueError
        except (TypeError, ValueError):
            errors.add(name, _("Enter a whole number."))
            ids[name] = None
    errors.raise_if_any()
    return TrendFilters(period=period, periods=count, kind=kind, **ids)


def workspace_zone(workspace) -> zoneinfo.ZoneInfo:
    from guanxi.activities import localtime

    return localtime.zone_named(getattr(workspace, "time_zone", ""))


def _cases(workspace, actor) -> QuerySet:
    permissions.require(actor, CASE, Action.READ)
    return permissions.visible(Case.objects.in_workspace(workspace), actor=actor, object_key=CASE)


def _restricted(actor) -> bool:
    from guanxi.platform.models import Visibility

    return permissions.visibility_for(actor, CASE) != Visibility.ALL


def _picked(filters: TrendFilters, prefix: str = "") -> Q:
    q = Q()
    if filters.kind:
        q &= Q(**{f"{prefix}kind": filters.kind})
    if filters.category_id:
        q &= Q(**{f"{prefix}category_id": filters.category_id}) | Q(
            **{f"{prefix}category__parent_id": filters.category_id}
        )
    if filters.product_id:
        q &= Q(**{f"{prefix}product_id": filters.product_id})
    return q


def complaint_trends(
    *, workspace: Workspace, actor: User, filters: TrendFilters, today: dt.date | None = None
) -> Trends:
    """The trend figures for the ``filters.periods`` periods up to the current one."""
    zone = workspace_zone(workspace)
    today = today or dt.datetime.now(zone).date()
    current = period_start(today, filters.period)
    starts = [period_back(current, filters.period, n) for n in range(filters.periods - 1, -1, -1)]
    end_day = period_next(current, filters.period)
    start, end = _instant(starts[0], zone), _instant(end_day, zone)
    cases = _cases(workspace, actor)
    bucket = _TRUNC[filters.period]("created_at", tzinfo=zone, output_field=DateField())
    in_range = cases.filter(created_at__gte=start, created_at__lt=end)
    picked = _picked(filters)

    by_start = {s: PeriodFigures(start=s, label=period_label(s, filters.period)) for s in starts}

    # 1. cases and the picked ones per period
    for row in (
        in_range.annotate(bucket=bucket)
        .values("bucket")
        .annotate(cases=Count("id"), matched=Count("id", filter=picked) if picked else Count("id"))
        .order_by()
    ):
        figures = by_start.get(_as_date(row["bucket"]))
        if figures is not None:
            figures.cases, figures.matched = row["cases"], row["matched"]

    # 2. the median time to resolve them
    resolved = in_range.filter(picked, resolved_at__isnull=False).annotate(bucket=bucket)
    for day, count, median in _medians(resolved):
        figures = by_start.get(day)
        if figures is not None:
            figures.resolved, figures.median_hours = count, median

    # 3. satisfaction of the picked cases, per the period they were opened in
    surveys = Survey.objects.in_workspace(workspace).filter(
        _picked(filters, "case__"),
        answered_at__isnull=False,
        case__created_at__gte=start,
        case__created_at__lt=end,
    )
    if _restricted(actor):
        surveys = surveys.filter(case__in=cases.values("pk"))
    survey_bucket = _TRUNC[filters.period](
        "case__created_at", tzinfo=zone, output_field=DateField()
    )
    for row in (
        surveys.annotate(bucket=survey_bucket)
        .values("bucket")
        .annotate(answers=Count("id"), average=Avg("score"))
        .order_by()
    ):
        figures = by_start.get(_as_date(row["bucket"]))
        if figures is not None:
            figures.answers = row["answers"]
            figures.satisfaction = round(float(row["average"]), 2)

    # 4, 5. categories and products: this period against the previous one
    previous_start = _instant(starts[-2], zone) if len(starts) > 1 else start
    current_start = _instant(current, zone)
    window = cases.filter(picked, created_at__gte=previous_start, created_at__lt=end)
    categories = _movers(window, "category", current_start)
    products = _movers(window, "product", current_start)

    # 6. the largest categories over the periods
    series = _category_series(in_range.filter(picked), bucket, starts)

    return Trends(
        filters=filters,
        periods=[by_start[s] for s in starts],
        categories=categories[:TOP],
        products=products[:TOP],
        rising_categories=_rising(categories),
        rising_products=_rising(products),
        category_series=series,
        start=start,
        end=end,
    )


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def _medians(resolved: QuerySet) -> list[tuple[dt.date, int, float | None]]:
    """``(period start, resolved, median hours)`` per period: PostgreSQL computes the
    median; SQLite has no such aggregate, so the durations of the period come back in one
    query and Python takes their median."""
    duration = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    if connection.vendor == "postgresql":
        rows = (
            resolved.values("bucket")
            .annotate(count=Count("id"), median=Median(Extract(duration, "epoch")))
            .order_by()
        )
        return [
            (
                _as_date(r["bucket"]),
                r["count"],
                round(r["median"] / 3600, 1) if r["median"] is not None else None,
            )
            for r in rows
        ]
    grouped: dict[dt.date, list[float]] = {}
    for day, opened, closed in resolved.values_list("bucket", "created_at", "resolved_at"):
        grouped.setdefault(_as_date(day), []).append((closed - opened).total_seconds())
    return [
        (day, len(values), round(statistics.median(values) / 3600, 1))
        for day, values in grouped.items()
    ]


def _movers(window: QuerySet, name: str, current_start: dt.datetime) -> list[Mover]:
    rows = (
        window.values(f"{name}_id", f"{name}__name")
        .annotate(
            current=Count("id", filter=Q(created_at__gte=current_start)),
            previous=Count("id", filter=Q(created_at__lt=current_start)),
        )
        .order_by()
    )
    unnamed = str(_("(none)"))
    movers = [
        Mover(
            id=r[f"{name}_id"],
            name=r[f"{name}__name"] or unnamed,
            current=r["current"],
            previous=r["previous"],
        )
        for r in rows
    ]
    movers.sort(key=lambda m: (-m.current, -m.previous, m.name))
    return movers


def _rising(movers: list[Mover]) -> list[Mover]:
    rising = [m for m in movers if m.change > 0]
    rising.sort(key=lambda m: (-m.change, -m.current, m.name))
    return rising[:TOP]


def _category_series(qs: QuerySet, bucket, starts: list[dt.date]) -> dict[str, list[int]]:
    rows = list(
        qs.annotate(bucket=bucket)
        .values("bucket", "category_id", "category__name")
        .annotate(n=Count("id"))
        .order_by()
    )
    totals: dict[tuple, int] = {}
    for row in rows:
        key = (row["category_id"], row["category__name"] or str(_("(none)")))
        totals[key] = totals.get(key, 0) + row["n"]
    top = [k for k, _n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0][1]))]
    shown, rest = top[:CHART_CATEGORIES], set(top[CHART_CATEGORIES:])
    index = {s: i for i, s in enumerate(starts)}
    series = {key[1]: [0] * len(starts) for key in shown}
    other = [0] * len(starts)
    for row in rows:
        i = index.get(_as_date(row["bucket"]))
        if i is None:
            continue
        key = (row["category_id"], row["category__name"] or str(_("(none)")))
        if key in rest:
            other[i] += row["n"]
        elif key[1] in series:
            series[key[1]][i] += row["n"]
    if rest:
        series[str(_("Other"))] = other
    return series


# --- what service brings in ---------------------------------------------------------------------


@dataclass
class Revenue:
    currency: str
    upsell_orders: int
    upsell_customers: int
    upsell_revenue: Decimal
    linked_orders: int
    linked_revenue: Decimal
    days: int = UPSELL_DAYS


def service_revenue(
    *, workspace: Workspace, actor: User, start: dt.datetime, end: dt.datetime
) -> Revenue | None:
    """Orders placed by customers within ``UPSELL_DAYS`` days after a case of theirs was
    resolved (cases resolved from ``start`` to ``end``; an order counts once however many
    cases precede it), and orders linked to cases opened then. Drafts and cancelled orders
    do not count; amounts in the workspace's base currency. ``None`` for an actor whose
    role may not read orders."""
    from guanxi.sales.models import Order
    from guanxi.sales.objects import ORDER

    if not (permissions.can(actor, ORDER, Action.READ) and permissions.can(actor, CASE, "read")):
        return None
    zone = workspace_zone(workspace)
    orders = permissions.visible(
        Order.objects.in_workspace(workspace).exclude(status__in=NOT_SALES),
        actor=actor,
        object_key=ORDER,
    )
    preceding = (
        Case.objects.in_workspace(workspace)
        .filter(resolved_at__gte=start, resolved_at__lt=end)
        .annotate(
            resolved_day=TruncDate("resolved_at", tzinfo=zone),
            last_day=TruncDate(
                ExpressionWrapper(
                    F("resolved_at") + dt.timedelta(days=UPSELL_DAYS),
                    output_field=Case._meta.get_field("resolved_at"),
                ),
                tzinfo=zone,
            ),
        )
        .filter(resolved_day__lte=OuterRef("order_date"), last_day__gte=OuterRef("order_date"))
        .filter(
            Q(account_id__isnull=False, account_id=OuterRef("account_id"))
            | Q(contact_id__isnull=False, contact_id=OuterRef("contact_id"))
        )
    )
    upsell = (
        orders.filter(Exists(preceding))
        .order_by()
        .aggregate(
            n=Count("id"),
            revenue=Sum("total_base"),
            accounts=Count("account_id", distinct=True),
            people=Count("contact_id", distinct=True, filter=Q(account_id__isnull=True)),
        )
    )
    linked = (
        orders.filter(
            pk__in=Case.objects.in_workspace(workspace)
            .filter(created_at__gte=start, created_at__lt=end, order_id__isnull=False)
            .values("order_id")
        )
        .order_by()
        .aggregate(n=Count("id"), revenue=Sum("total_base"))
    )
    return Revenue(
        currency=getattr(workspace, "default_currency", "CNY"),
        upsell_orders=upsell["n"],
        upsell_customers=upsell["accounts"] + upsell["people"],
        upsell_revenue=upsell["revenue"] or Decimal("0.00"),
        linked_orders=linked["n"],
        linked_revenue=linked["revenue"] or Decimal("0.00"),
    )
