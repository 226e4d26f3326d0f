"""The sales dashboard: pipeline by stage, forecast against quota this quarter, win rate by
month, receivables by ageing bucket, top customers by revenue.

Every panel reads only what the actor may see (deals, invoices and customers through
``permissions.visible``; the forecast through the sales' forecast helper, which applies
the same visibility) and runs a fixed number of grouped queries whatever the data size. A
panel the actor has no right to is left out (``None``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Subquery, Sum
from django.db.models.functions import TruncMonth

from guanxi.activities.localtime import local_today, user_zone
from guanxi.activities.services.visits import current_period
from guanxi.common.errors import NotFound
from guanxi.customers.models import Account, Contact
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace
from guanxi.sales.models import Deal, DealStatus, Pipeline, Stage
from guanxi.sales.objects import DEAL, INVOICE
from guanxi.sales.selectors import forecast as forecast_selectors
from guanxi.sales.selectors import receivables as receivables_selectors

from ..models import CustomerYearRevenue
from ..objects import CUSTOMER_VALUE

ZERO = Decimal("0.00")
WIN_RATE_MONTHS = 12
TOP_CUSTOMERS = 10
FORECAST_REPS = 15
ACCOUNT = "customers.account"
CONTACT = "customers.contact"


@dataclass
class StageFigure:
    stage: Stage
    count: int = 0
    amount: Decimal = ZERO


@dataclass
class PipelinePanel:
    pipeline: Pipeline
    pipelines: list[Pipeline]
    stages: list[StageFigure]

    @property
    def count(self) -> int:
        return sum(s.count for s in self.stages)

    @property
    def amount(self) -> Decimal:
        return sum((s.amount for s in self.stages), ZERO)


@dataclass
class ForecastPanel:
    period_label: str
    quota: Decimal | None
    closed_won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    reps: list  # ForecastRow, the largest quota (then closed won) first

    @property
    def attainment(self) -> Decimal | None:
        if not self.quota:
            return None
        return (self.closed_won * 100 / self.quota).quantize(Decimal("0.1"))

    @property
    def projected(self) -> Decimal:
        return self.closed_won + self.commit


@dataclass
class MonthFigure:
    month: dt.date
    won: int = 0
    lost: int = 0

    @property
    def rate(self) -> Decimal | None:
        closed = self.won + self.lost
        return None if not closed else (Decimal(self.won) * 100 / closed).quantize(Decimal("0.1"))


@dataclass
class TopCustomer:
    kind: str
    id: int
    name: str
    value_class: str
    revenue: Decimal


@dataclass
class Dashboard:
    currency: str
    pipeline: PipelinePanel | None = None
    forecast: ForecastPanel | None = None
    win_rate: list[MonthFigure] | None = None
    receivables: object | None = None  # sales.selectors.receivables.Ageing
    top_customers: list[TopCustomer] | None = None
    top_year: int | None = None
    panels: list[str] = field(default_factory=list)


def _pipeline_panel(workspace, actor: User, pipeline_id) -> PipelinePanel | None:
    pipelines = list(
        Pipeline.objects.in_workspace(workspace).filter(active=True).order_by("order", "id")
    )
    if pipeline_id in (None, "") and not pipelines:
        return None
    if pipeline_id not in (None, ""):
        try:
            chosen = next(p for p in pipelines if p.pk == int(pipeline_id))
        except (StopIteration, TypeError, ValueError):
            raise NotFound() from None
    else:
        chosen = next((p for p in pipelines if p.is_default), pipelines[0])
    stages = list(
        Stage.objects.in_workspace(workspace)
        .filter(pipeline=chosen, kind="open")
        .order_by("order", "id")
    )
    deals = permissions.visible(
        Deal.objects.in_workspace(workspace).filter(pipeline=chosen, status=DealStatus.OPEN),
        actor=actor,
        object_key=DEAL,
    )
    grouped = {
        row["stage_id"]: row
        for row in deals.order_by()
        .values("stage_id")
        .annotate(n=Count("id"), amount=Sum("amount_base"))
    }
    figures = [
        StageFigure(
            stage=s,
            count=grouped.get(s.pk, {}).get("n", 0),
            amount=Decimal(grouped.get(s.pk, {}).get("amount") or 0).quantize(Decimal("0.01")),
        )
        for s in stages
    ]
    return PipelinePanel(pipeline=chosen, pipelines=pipelines, stages=figures)


def _forecast_panel(workspace, actor: User, today: dt.date) -> ForecastPanel:
    period = current_period("quarter", today=today)
    result = forecast_selectors.forecast(workspace=workspace, actor=actor, period=period)
    total = result.total.figures
    quotas = [r.quota for r in result.rows if r.quota]
    reps = sorted(
        (r for r in result.rows if r.quota or r.figures.closed_won or r.figures.open_count),
        key=lambda r: (-(r.quota or 0), -r.figures.closed_won, r.label),
    )[:FORECAST_REPS]
    return ForecastPanel(
        period_label=period.label,
        quota=sum(quotas, ZERO) if quotas else None,
        closed_won=total.closed_won,
        commit=total.commit,
        best_case=total.best_case,
        pipeline=total.pipeline,
        weighted=total.weighted,
        reps=reps,
    )


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    out, year, month = [], today.year, today.month
    for _ in range(months):
        out.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _win_rate(workspace, actor: User, today: dt.date) -> list[MonthFigure]:
    zone = user_zone(actor)
    months = _month_starts(today, WIN_RATE_MONTHS)
    start = dt.datetime.combine(months[0], dt.time.min, tzinfo=zone)
    deals = permissions.visible(
        Deal.objects.in_workspace(workspace).filter(
            status__in=[DealStatus.WON, DealStatus.LOST], closed_at__gte=start
        ),
        actor=actor,
        object_key=DEAL,
    )
    by_month = {m: MonthFigure(month=m) for m in months}
    rows = (
        deals.order_by()
        .annotate(month=TruncMonth("closed_at", tzinfo=zone))
        .values("month", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        month = row["month"]
        key = (month.date() if isinstance(month, dt.datetime) else month).replace(day=1)
        figure = by_month.get(key)
        if figure is None:  # closed in the future (a typo): not in the last 12 months
            continue
        if row["status"] == DealStatus.WON:
            figure.won += row["n"]
        else:
            figure.lost += row["n"]
    return list(by_month.values())


def _top_customers(workspace, actor: User, year: int) -> list[TopCustomer]:
    """The customers with the largest revenue in ``year`` (as of the last customer-value
    run) among those the actor may see: two queries per kind (the ranked revenue rows, then
    their names), merged."""
    out: list[TopCustomer] = []
    revenue = CustomerYearRevenue.objects.in_workspace(workspace).filter(year=year, revenue__gt=0)
    for kind, model, object_key, link in (
        ("account", Account, ACCOUNT, "account_id"),
        ("contact", Contact, CONTACT, "contact_id"),
    ):
        if not permissions.can(actor, object_key, Action.READ):
            continue
        visible = permissions.visible(
            model.objects.in_workspace(workspace), actor=actor, object_key=object_key
        )
        rows = revenue.filter(**{f"{link}__isnull": False})
        if permissions.visibility_for(actor, object_key) != "all":
            rows = rows.filter(**{f"{link}__in": Subquery(visible.values("pk"))})
        ranked = list(rows.order_by("-revenue", "id").values(link, "revenue")[:TOP_CUSTOMERS])
        names = {
            r["pk"]: r
            for r in model.objects.in_workspace(workspace)
            .filter(pk__in=[r[link] for r in ranked])
            .values("pk", "name", "value_class")
        }
        for r in ranked:
            record = names.get(r[link])
            if record is not None:
                out.append(
                    TopCustomer(kind, r[link], record["name"], record["value_class"], r["revenue"])
                )
    out.sort(key=lambda c: (-c.revenue, c.name))
    return out[:TOP_CUSTOMERS]


def sales_dashboard(
    *, workspace: Workspace, actor: User, pipeline_id=None, today: dt.date | None = None
) -> Dashboard:
    """The sales dashboard for ``actor``: the panels they have the rights to, each over
    the records they may see. Refused (403) when they may read neither deals nor invoices
    nor customer value."""
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    can_deals = permissions.can(actor, DEAL, Action.READ)
    can_invoices = permissions.can(actor, INVOICE, Action.READ)
    can_value = permissions.can(actor, CUSTOMER_VALUE, Action.READ)
    if not (can_deals or can_invoices or can_value):
        permissions.require(actor, DEAL, Action.READ)  # refused: logs the denial, says why
    today = today or local_today(actor)
    dashboard = Dashboard(currency=workspace.default_currency)
    if can_deals:
        dashboard.pipeline = _pipeline_panel(workspace, actor, pipeline_id)
        dashboard.forecast = _forecast_panel(workspace, actor, today)
        dashboard.win_rate = _win_rate(workspace, actor, today)
        dashboard.panels += ["pipeline", "forecast", "win_rate"]
    if can_invoices:
        dashboard.receivables = receivables_selectors.ageing(
            workspace=workspace, actor=actor, by="rep", as_of=today, limit=10
        )
        dashboard.panels.append("receivables")
    if can_value:
        # This year so far; early in a year (or before this year's first recompute) with
        # nothing yet, last year.
        dashboard.top_year = today.year
        dashboard.top_customers = _top_customers(workspace, actor, today.year)
        if not dashboard.top_customers:
            dashboard.top_year = today.year - 1
            dashboard.top_customers = _top_customers(workspace, actor, today.year - 1)
        dashboard.panels.append("top_customers")
    return dashboard
