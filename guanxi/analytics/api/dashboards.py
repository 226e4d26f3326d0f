"""The sales dashboard over REST: the same panels as ``/analytics/sales/``, over the
records the caller may see; a panel the caller has no right to is null. Amounts are in
the workspace's base currency, as decimal strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Router, Schema

from guanxi.common.api import Id, responses
from guanxi.common.views import actor_scope

from ..selectors import dashboards as selectors

router = Router(tags=["analytics"])
TAGS = ["Dashboards"]


class StageOut(Schema):
    stage_id: int
    name: str
    probability: int
    deals: int
    amount: Decimal


class PipelineOut(Schema):
    pipeline_id: int
    name: str
    deals: int
    amount: Decimal
    stages: list[StageOut]


class RepForecastOut(Schema):
    user_id: int | None
    name: str
    quota: Decimal | None
    closed_won: Decimal
    commit: Decimal


class ForecastOut(Schema):
    period: str = Field(..., description="This quarter, e.g. `2026-Q4`.")
    quota: Decimal | None = Field(..., description="The sum of the visible reps' quotas.")
    closed_won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    attainment: Decimal | None = Field(..., description="Closed won as % of the quota.")
    reps: list[RepForecastOut]


class MonthOut(Schema):
    month: dt.date
    won: int
    lost: int
    win_rate: Decimal | None = Field(..., description="Won / (won + lost), %; null: none closed.")


class BucketOut(Schema):
    bucket: str = Field(
        ..., description="Days since the invoice was issued: 0–30, 31–60, 61–90, 90+."
    )
    amount: Decimal


class ReceivablesOut(Schema):
    total: Decimal
    overdue: Decimal
    invoices: int
    buckets: list[BucketOut]


class TopCustomerOut(Schema):
    kind: str
    id: int
    name: str
    value_class: str
    revenue: Decimal


class DashboardOut(Schema):
    currency: str
    pipeline: PipelineOut | None
    forecast: ForecastOut | None
    win_rate: list[MonthOut] | None
    receivables: ReceivablesOut | None
    top_customers_year: int | None
    top_customers: list[TopCustomerOut] | None = Field(
        ..., description="By revenue in the year, as of the last customer-value recompute."
    )


def _body(board) -> dict:
    from guanxi.sales.selectors.receivables import BUCKETS

    body: dict = {
        "currency": board.currency,
        "pipeline": None,
        "forecast": None,
        "win_rate": None,
        "receivables": None,
        "top_customers_year": board.top_year,
        "top_customers": None,
    }
    if board.pipeline is not None:
        p = board.pipeline
        body["pipeline"] = {
            "pipeline_id": p.pipeline.pk,
            "name": p.pipeline.name,
            "deals": p.count,
            "amount": p.amount,
            "stages": [
                {
                    "stage_id": s.stage.pk,
                    "name": s.stage.name,
                    "probability": s.stage.probability,
                    "deals": s.count,
                    "amount": s.amount,
                }
                for s in p.stages
            ],
        }
    if board.forecast is not None:
        f = board.forecast
        body["forecast"] = {
            "period": f.period_label,
            "quota": f.quota,
            "closed_won": f.closed_won,
            "commit": f.commit,
            "best_case": f.best_case,
            "pipeline": f.pipeline,
            "weighted": f.weighted,
            "attainment": f.attainment,
            "reps": [
                {
                    "user_id": r.user.pk if r.user else None,
                    "name": r.label,
                    "quota": r.quota,
                    "closed_won": r.figures.closed_won,
                    "commit": r.figures.commit,
                }
                for r in f.reps
            ],
        }
    if board.win_rate is not None:
        body["win_rate"] = [
            {"month": m.month, "won": m.won, "lost": m.lost, "win_rate": m.rate}
            for m in board.win_rate
        ]
    if board.receivables is not None:
        totals = board.receivables.totals
        body["receivables"] = {
            "total": totals.total,
            "overdue": totals.overdue,
            "invoices": totals.invoices,
            "buckets": [
                {"bucket": label, "amount": totals.buckets[key]} for key, label, *_ in BUCKETS
            ],
        }
    if board.top_customers is not None:
        body["top_customers"] = [
            {
                "kind": c.kind,
                "id": c.id,
                "name": c.name,
                "value_class": c.value_class,
                "revenue": c.revenue,
            }
            for c in board.top_customers
        ]
    return body


@router.get(
    "/dashboards/sales",
    response=responses(DashboardOut),
    tags=TAGS,
    operation_id="dashboard_sales",
    summary="The sales dashboard: pipeline by stage, forecast against quota this quarter, "
    "win rate by month, receivables by age, top customers",
)
def sales_dashboard(request, pipeline: Id | None = None):
    board = selectors.sales_dashboard(**actor_scope(request), pipeline_id=pipeline)
    return _body(board)
