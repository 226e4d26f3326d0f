"""Customer value over REST: the Pareto figures of a year, the class counts and rules,
starting a recompute (a background job, followed at ``/jobs/{id}``), and one customer's
revenue by year, class and class history. Amounts are in the workspace's base currency,
as decimal strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Router, Schema, Status

from guanxi.common.api import Id, PatchSchema, responses
from guanxi.common.views import actor_scope
from guanxi.customers.models import AccountType
from guanxi.platform.api.jobs import job_data
from guanxi.platform.schemas import JobOut

from ..selectors import value as selectors
from ..services import value as services

router = Router(tags=["analytics"])
TAGS = ["Customer value"]


class ParetoPointOut(Schema):
    percent: Decimal = Field(..., description="Share of customers, % (the top ones).")
    customers: int = Field(..., description="How many customers that is: ceil(N × percent / 100).")
    revenue: Decimal = Field(..., description="Their revenue in the year (base currency).")
    share: Decimal = Field(..., description="Their share of the year's revenue, % (4 decimals).")


class ParetoOut(Schema):
    year: int
    customers: int = Field(..., description="Customers whose net revenue in the year is above 0.")
    revenue: Decimal = Field(..., description="Their revenue in all (base currency).")
    currency: str
    top: list[ParetoPointOut] = Field(..., description="The top 1, 5, 10, 20 and 50 %.")
    points: list[ParetoPointOut] = Field(..., description="The curve: every 0.5 % (201 points).")
    run_id: int | None = Field(
        None,
        description="The run the figures come from; null: computed now from the stored revenue.",
    )
    computed_at: dt.datetime | None = Field(None, description="When that run finished.")
    run_seconds: float | None = Field(None, description="How long that run took.")


class RulesOut(Schema):
    a_top_percent: Decimal
    a_account_types: list[str]
    b_growth_percent: Decimal
    b_years: int
    nightly_hour: int


class ClassCountsOut(Schema):
    A: int = 0
    B: int = 0
    C: int = 0


class ClassesOut(Schema):
    counts: ClassCountsOut | None = Field(
        None, description="Customers per class after the last run; null before the first."
    )
    year: int | None = Field(None, description="The year the last run classified by.")
    run_id: int | None = None
    computed_at: dt.datetime | None = None
    rules: RulesOut


class RulesIn(PatchSchema):
    a_top_percent: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)
    a_account_types: list[Literal[tuple(AccountType.values)]] | None = Field(
        None, max_length=len(AccountType.values)
    )  # type: ignore[valid-type]
    b_growth_percent: Decimal | None = Field(None, ge=0, le=1000, decimal_places=2)
    b_years: int | None = Field(None, ge=1, le=services.MAX_B_YEARS)
    nightly_hour: int | None = Field(None, ge=0, le=23)


class RecomputeIn(Schema):
    year: int | None = Field(
        None,
        ge=selectors.MIN_YEAR,
        le=selectors.MAX_YEAR,
        description="The reference year; default: the last full year.",
    )


class YearRevenueOut(Schema):
    year: int
    revenue: Decimal
    lines: int


class ClassChangeOut(Schema):
    changed_at: dt.datetime
    from_class: str
    to_class: str
    reason: str = Field(..., description="`top_share`, `account_type`, `growth` or `rest`.")
    run_id: int | None


class CustomerValueOut(Schema):
    kind: str
    id: int
    value_class: str = Field(..., description="A, B or C; empty before the first run.")
    years: list[YearRevenueOut]
    history: list[ClassChangeOut] = Field(..., description="Newest first, at most 50.")


def _point(p) -> dict:
    return {"percent": p.percent, "customers": p.customers, "revenue": p.revenue, "share": p.share}


def _rules(rules) -> dict:
    return {
        "a_top_percent": rules.a_top_percent,
        "a_account_types": list(rules.a_account_types or []),
        "b_growth_percent": rules.b_growth_percent,
        "b_years": rules.b_years,
        "nightly_hour": rules.nightly_hour,
    }


@router.get(
    "/pareto",
    response=responses(ParetoOut),
    tags=TAGS,
    operation_id="value_pareto",
    summary="The Pareto curve of a year: the share of revenue held by the top x % of customers",
    description="`year` defaults to the year of the last run. The last run's stored curve "
    "is returned when it was for that year; otherwise it is computed now from the stored "
    "revenue per customer and year (as of the last run).",
)
def pareto(request, year: int | None = None):
    scope = actor_scope(request)
    result = selectors.pareto_get(**scope, year=year)
    run = result.run
    return {
        "year": result.year,
        "customers": result.customers,
        "revenue": result.revenue,
        "currency": request.workspace.default_currency,
        "top": [_point(p) for p in result.top],
        "points": [_point(p) for p in result.points],
        "run_id": run.pk if run else None,
        "computed_at": run.finished_at if run else None,
        "run_seconds": (run.finished_at - run.started_at).total_seconds()
        if run and run.finished_at
        else None,
    }


def _classes(request) -> dict:
    scope = actor_scope(request)
    selectors.require_read(**scope)
    run = selectors.last_run(workspace=request.workspace)
    rules = selectors.value_settings_read(workspace=request.workspace)
    return {
        "counts": run.class_counts if run else None,
        "year": run.year if run else None,
        "run_id": run.pk if run else None,
        "computed_at": run.finished_at if run else None,
        "rules": _rules(rules),
    }


@router.get(
    "/classes",
    response=responses(ClassesOut),
    tags=TAGS,
    operation_id="value_classes",
    summary="Customers per ABC class after the last run, and the rules",
)
def classes(request):
    return _classes(request)


@router.patch(
    "/classes/rules",
    response=responses(ClassesOut),
    tags=TAGS,
    operation_id="value_rules_update",
    summary="Change the ABC rules (they apply from the next recompute)",
)
def rules_update(request, payload: RulesIn):
    services.value_settings_update(**actor_scope(request), **payload.dict(exclude_unset=True))
    return _classes(request)


@router.post(
    "/recompute",
    response=responses(JobOut, status=202),
    tags=TAGS,
    operation_id="value_recompute",
    summary="Recompute revenue per year, the Pareto curve and the classes (a background job)",
    description="409 `value_recompute_running` while one is queued or running.",
)
def recompute(request, payload: RecomputeIn | None = None):
    year = payload.year if payload is not None else None
    job = services.value_recompute_start(**actor_scope(request), year=year)
    return Status(202, job_data(job))


@router.get(
    "/customers/{kind}/{record_id}/value",
    response=responses(CustomerValueOut),
    tags=TAGS,
    operation_id="value_customer",
    summary="One customer's revenue by year, class and class history",
)
def customer_value(request, kind: Literal["account", "contact"], record_id: Id):
    value = selectors.customer_value_get(**actor_scope(request), kind=kind, record_id=record_id)
    return {
        "kind": kind,
        "id": value.record.pk,
        "value_class": value.value_class,
        "years": [{"year": y.year, "revenue": y.revenue, "lines": y.lines} for y in value.years],
        "history": [
            {
                "changed_at": h.changed_at,
                "from_class": h.from_class,
                "to_class": h.to_class,
                "reason": h.reason,
                "run_id": h.run_id,
            }
            for h in value.history
        ],
    }
