"""``/service/surveys`` (the results list, per-agent figures, CSV, settings) and
``/service/trends`` (complaint trends and what service brings in). The same services and
selectors as the pages; the actor sees only the surveys their role shows them, another
workspace's ids are simply not there, missing rights are 403."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from guanxi.activities import localtime
from guanxi.common.api import Id, PageParams, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.views import actor_scope
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction

from ..models import CaseTypeKind
from ..objects import CONFIGURATION, SURVEY
from ..selectors import surveys as selectors
from ..services import surveys as services
from ..services import trends as trend_services

router = Router()
TAGS = ["Service surveys and trends"]

StateName = Literal["answered", "pending", "all"]
ChannelName = Literal["email", "sms"]
PeriodName = Literal["week", "month", "quarter"]
KindName = Literal[tuple(CaseTypeKind.values)]  # type: ignore[valid-type]
DEFAULT_DAYS = 90


# --- schemas -----------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class CaseRef(Schema):
    id: int
    number: str
    subject: str
    case_type: Ref
    queue: Ref | None


class SurveyOut(Schema):
    id: int
    case: CaseRef
    round: int = Field(..., description="1 for the first resolution, 2 after one reopening…")
    channel: ChannelName
    sent_at: dt.datetime | None
    expires_at: dt.datetime
    agent: Ref | None = Field(..., description="Who resolved the case.")
    account: Ref | None
    contact: Ref | None
    answered_at: dt.datetime | None
    score: int | None = Field(..., description="1 (very dissatisfied) to 5 (very satisfied).")
    comment: str


class SurveyFilterParams(Schema):
    start: dt.date | None = Field(
        None, description=f"First day (your time zone); default: {DEFAULT_DAYS} days ago."
    )
    end: dt.date | None = Field(None, description="Last day (your time zone); default today.")
    agent_id: Id | None = None
    queue_id: Id | None = None
    case_type_id: Id | None = None


class SurveyListParams(SurveyFilterParams):
    state: StateName = "answered"
    score: int | None = Field(None, ge=1, le=5)
    case_id: Id | None = None


class AgentOut(Schema):
    agent: Ref | None
    sent: int
    answered: int
    response_rate: float | None = Field(..., description="Answered / sent, in percent.")
    average: float | None
    distribution: dict[str, int] = Field(..., description="Answers per score, keys 1–5.")


class AgentStatsOut(Schema):
    start: dt.date
    end: dt.date
    agents: list[AgentOut]
    total: AgentOut


class SettingsOut(Schema):
    enabled: bool
    case_type_ids: list[int] = Field(..., description="Empty: every case type is surveyed.")


class SettingsIn(Schema):
    enabled: bool
    case_type_ids: list[Id] = Field(default_factory=list, max_length=200)


class TrendParams(Schema):
    period: PeriodName = "month"
    periods: int | None = Field(
        None, ge=2, le=trend_services.MAX_PERIODS, description="Default 12 (quarters: 8)."
    )
    kind: KindName | Literal["all"] = Field(
        "complaint", description="Which cases; `all` for every kind."
    )
    category_id: Id | None = Field(None, description="A category (its subcategories too).")
    product_id: Id | None = None


class PeriodOut(Schema):
    start: dt.date
    label: str
    cases: int = Field(..., description="Every case opened in the period.")
    matched: int = Field(..., description="The cases the filters pick (complaints by default).")
    share: float | None = Field(..., description="matched / cases, in percent.")
    resolved: int
    median_hours: float | None = Field(..., description="Median hours from opening to resolution.")
    answers: int
    satisfaction: float | None = Field(..., description="Average survey score, 1–5.")


class MoverOut(Schema):
    id: int | None
    name: str
    current: int
    previous: int
    change: int


class RevenueOut(Schema):
    currency: str
    upsell_days: int
    upsell_orders: int
    upsell_customers: int
    upsell_revenue: Decimal
    linked_orders: int
    linked_revenue: Decimal


class TrendsOut(Schema):
    period: PeriodName
    kind: str
    periods: list[PeriodOut]
    categories: list[MoverOut] = Field(..., description="This period against the previous.")
    products: list[MoverOut]
    rising_categories: list[MoverOut]
    rising_products: list[MoverOut]
    revenue: RevenueOut | None = Field(..., description="None when your role may not read orders.")


# --- helpers -----------------------------------------------------------------------------------


def _ref(row, name: str = "name") -> dict | None:
    return {"id": row.pk, "name": getattr(row, name)} if row is not None else None


def survey_out(s) -> dict:
    case = s.case
    return {
        "id": s.pk,
        "case": {
            "id": case.pk,
            "number": case.number,
            "subject": case.subject,
            "case_type": _ref(case.case_type),
            "queue": _ref(case.queue) if case.queue_id else None,
        },
        "round": s.round,
        "channel": s.channel,
        "sent_at": s.sent_at,
        "expires_at": s.expires_at,
        "agent": _ref(s.agent, "full_name") if s.agent_id else None,
        "account": _ref(s.account) if s.account_id else None,
        "contact": _ref(s.contact) if s.contact_id else None,
        "answered_at": s.answered_at,
        "score": s.score,
        "comment": s.comment,
    }


def _days(request, params: SurveyFilterParams) -> tuple[dt.date, dt.date]:
    today = localtime.local_today(request.user)
    first = params.start or today - dt.timedelta(days=DEFAULT_DAYS - 1)
    last = params.end or today
    first, last = localtime.check_day(first, field="start"), localtime.check_day(last, field="end")
    return (first, last) if first <= last else (last, first)


def _filters(request, params: SurveyFilterParams, **extra) -> selectors.SurveyFilters:
    first, last = _days(request, params)
    return selectors.SurveyFilters(
        start=localtime.day_bounds(request.user, first)[0],
        end=localtime.day_bounds(request.user, last)[1],
        agent_id=params.agent_id,
        queue_id=params.queue_id,
        case_type_id=params.case_type_id,
        **extra,
    )


def _agent_out(figures) -> dict:
    return {
        "agent": {"id": figures.agent_id, "name": figures.name} if figures.agent_id else None,
        "sent": figures.sent,
        "answered": figures.answered,
        "response_rate": figures.response_rate,
        "average": figures.average,
        "distribution": {str(k): v for k, v in figures.distribution.items()},
    }


def _mover(m) -> dict:
    return {
        "id": m.id,
        "name": m.name,
        "current": m.current,
        "previous": m.previous,
        "change": m.change,
    }


# --- surveys -----------------------------------------------------------------------------------


@router.get(
    "/service/surveys",
    response=documented(page_of(SurveyOut)),
    tags=TAGS,
    operation_id="service_surveys_list",
    summary="List survey results, newest first (answered ones by default)",
)
def surveys_list(request, filters: Query[SurveyListParams], page: Query[PageParams]):
    """Surveys sent from ``start`` to ``end`` (default: the last 90 days), narrowed by agent,
    queue, case type, answer state, score or case."""
    qs = selectors.survey_results(
        **actor_scope(request),
        filters=_filters(request, filters, state=filters.state, score=filters.score),
    )
    if filters.case_id:
        qs = qs.filter(case_id=filters.case_id)
    return page_response(qs, page, survey_out, descending=True)


@router.get(
    "/service/surveys/agents",
    response=documented(AgentStatsOut),
    tags=TAGS,
    operation_id="service_surveys_agents",
    summary="Per agent: surveys sent, answered, response rate, average and distribution",
)
def surveys_agents(request, filters: Query[SurveyFilterParams]):
    stats = selectors.agent_stats(**actor_scope(request), filters=_filters(request, filters))
    first, last = _days(request, filters)
    return {
        "start": first,
        "end": last,
        "agents": [_agent_out(a) for a in stats.agents],
        "total": _agent_out(stats.total),
    }


@router.get(
    "/service/surveys/export",
    response=documented(None),
    tags=TAGS,
    operation_id="service_surveys_export",
    summary="The survey results under the filters as CSV",
    openapi_extra={
        "responses": {200: {"description": "CSV", "content": {"text/csv": {"schema": {}}}}}
    },
)
def surveys_export(request, filters: Query[SurveyListParams]):
    permissions.require(request.user, SURVEY, Action.EXPORT)
    qs = selectors.survey_results(
        **actor_scope(request),
        filters=_filters(request, filters, state=filters.state, score=filters.score),
    ).order_by("-id")
    if filters.case_id:
        qs = qs.filter(case_id=filters.case_id)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        [
            "case_number",
            "subject",
            "case_type",
            "queue",
            "agent",
            "customer",
            "channel",
            "sent_at",
            "answered_at",
            "score",
            "comment",
        ]
    )
    rows = 0
    for s in qs.iterator(chunk_size=1000):
        case = s.case
        customer = s.contact.name if s.contact_id else (s.account.name if s.account_id else "")
        values = [
            case.number,
            case.subject,
            case.case_type.name,
            case.queue.name if case.queue_id else "",
            s.agent.full_name if s.agent_id else "",
            customer,
            s.channel,
            s.sent_at.isoformat() if s.sent_at else "",
            s.answered_at.isoformat() if s.answered_at else "",
            s.score if s.score is not None else "",
            s.comment,
        ]
        writer.writerow(
            ["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in values]
        )
        rows += 1
    audit.log(
        actor=request.user,
        workspace=request.workspace,
        action=AuditAction.EXPORT,
        object_key=SURVEY,
        object_repr="surveys",
        changes={"rows": [None, rows]},
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="surveys.csv"'
    return response


@router.get(
    "/service/surveys/settings",
    response=documented(SettingsOut),
    tags=TAGS,
    operation_id="service_surveys_settings_get",
    summary="Whether surveys are sent, and for which case types",
)
def settings_get(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    row = services.survey_settings(request.workspace)
    return {"enabled": row.enabled, "case_type_ids": row.case_type_ids or []}


@router.put(
    "/service/surveys/settings",
    response=documented(SettingsOut),
    tags=TAGS,
    operation_id="service_surveys_settings_update",
    summary="Turn surveys on or off and choose the case types surveyed",
)
def settings_update(request, payload: SettingsIn):
    row = services.survey_settings_update(
        **actor_scope(request), enabled=payload.enabled, case_type_ids=payload.case_type_ids
    )
    return {"enabled": row.enabled, "case_type_ids": row.case_type_ids or []}


# --- trends ------------------------------------------------------------------------------------


@router.get(
    "/service/trends",
    response=documented(TrendsOut),
    tags=TAGS,
    operation_id="service_trends",
    summary="Complaint trends by period, category and product; what service brings in",
)
def trends_get(request, params: Query[TrendParams]):
    """Periods are cut in the workspace's time zone, the last one being the current one (so
    far); a case counts in the period it was opened in."""
    filters = trend_services.clean_filters(
        period=params.period,
        periods=params.periods,
        kind="" if params.kind == "all" else params.kind,
        category_id=params.category_id,
        product_id=params.product_id,
    )
    data = trend_services.complaint_trends(**actor_scope(request), filters=filters)
    revenue = trend_services.service_revenue(**actor_scope(request), start=data.start, end=data.end)
    return {
        "period": filters.period,
        "kind": filters.kind or "all",
        "periods": [
            {
                "start": p.start,
                "label": p.label,
                "cases": p.cases,
                "matched": p.matched,
                "share": p.share,
                "resolved": p.resolved,
                "median_hours": p.median_hours,
                "answers": p.answers,
                "satisfaction": p.satisfaction,
            }
            for p in data.periods
        ],
        "categories": [_mover(m) for m in data.categories],
        "products": [_mover(m) for m in data.products],
        "rising_categories": [_mover(m) for m in data.rising_categories],
        "rising_products": [_mover(m) for m in data.rising_products],
        "revenue": (
            {
                "currency": revenue.currency,
                "upsell_days": revenue.days,
                "upsell_orders": revenue.upsell_orders,
                "upsell_customers": revenue.upsell_customers,
                "upsell_revenue": revenue.upsell_revenue,
                "linked_orders": revenue.linked_orders,
                "linked_revenue": revenue.linked_revenue,
            }
            if revenue is not None
            else None
        ),
    }
