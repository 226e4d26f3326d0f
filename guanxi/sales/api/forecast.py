"""Forecasts, quotas and rep performance: ``/forecast``, ``/forecast/deals``, ``/quotas``,
``/performance``, ``/leaderboard`` and ``/deals/{id}/suggested-owners``. The same services
and selectors as the pages. Amounts are decimal strings in the workspace's base currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, page_of, page_response, responses, text
from guanxi.common.errors import NotFound
from guanxi.common.views import actor_scope
from guanxi.platform import permissions

from ..models import Deal
from ..objects import DEAL, QUOTA
from ..selectors import forecast as forecast_selectors
from ..selectors import performance as performance_selectors
from ..services import quotas as quota_services
from ..services.quotas import parse_period

router = Router()
TAGS = ["Forecast"]
PERIOD_HELP = "A year (2026), a quarter (2026-Q4) or a month (2026-11)."


class UserRef(Schema):
    id: int
    full_name: str


class TeamRef(Schema):
    id: int
    name: str


def _user(user) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _team(team) -> dict | None:
    return {"id": team.pk, "name": team.name} if team is not None else None


# --- quotas --------------------------------------------------------------------------------------


class QuotaOut(Schema):
    id: int
    user: UserRef | None = Field(..., description="The rep, for a rep's quota.")
    team: TeamRef | None = Field(..., description="The team, for a team's own quota.")
    period: str = Field(..., description=PERIOD_HELP)
    period_kind: Literal["month", "quarter", "year"]
    period_start: dt.date
    amount: Decimal


class QuotaIn(Schema):
    period: text(7) = Field(..., description=PERIOD_HELP)
    user_id: Id | None = Field(None, description="A rep (give this or team_id).")
    team_id: Id | None = Field(None, description="A team: its own number, not a sum.")
    amount: Decimal = Field(..., description="In the base currency; 0 or more, two decimals.")


class QuotaAmountIn(Schema):
    amount: Decimal


class QuotaFilters(Schema):
    period: text(7) = Field(..., description=PERIOD_HELP)


def _quota_out(quota) -> dict:
    return {
        "id": quota.pk,
        "user": _user(quota.user),
        "team": _team(quota.team),
        "period": quota.period_label,
        "period_kind": quota.period_kind,
        "period_start": quota.period_start,
        "amount": quota.amount,
    }


@router.get(
    "/quotas",
    response=responses(list[QuotaOut]),
    tags=TAGS,
    operation_id="quota_list",
    summary="The quotas of a period (yours; managers: their teams' and their reps')",
)
def quota_list(request, filters: Query[QuotaFilters]):
    permissions.require(request.user, QUOTA, "read")
    period = parse_period(filters.period)
    rows = forecast_selectors.quota_list(**actor_scope(request), period=period)
    users, teams = _names(request, rows)
    for quota in rows:
        quota.user = users.get(quota.user_id)
        quota.team = teams.get(quota.team_id)
    return [_quota_out(q) for q in rows]


def _names(request, rows) -> tuple[dict, dict]:
    scope = forecast_selectors.scope_for(**actor_scope(request), object_key=QUOTA)
    return scope.users_for([q.user_id for q in rows if q.user_id]), scope.teams


@router.post(
    "/quotas",
    response=responses(QuotaOut),
    tags=TAGS,
    operation_id="quota_set",
    summary="Set a rep's or a team's quota for a period (creates it or changes it)",
)
def quota_set(request, payload: QuotaIn):
    quota = quota_services.quota_set(**actor_scope(request), **payload.dict())
    return _quota_out(quota)


@router.put(
    "/quotas/{quota_id}",
    response=responses(QuotaOut),
    tags=TAGS,
    operation_id="quota_update",
    summary="Change a quota's amount",
)
def quota_update(request, quota_id: Id, payload: QuotaAmountIn):
    quota = quota_services.quota_update(
        **actor_scope(request), quota_id=quota_id, amount=payload.amount
    )
    users, teams = _names(request, [quota])
    quota.user, quota.team = users.get(quota.user_id), teams.get(quota.team_id)
    return _quota_out(quota)


@router.delete(
    "/quotas/{quota_id}",
    response=responses(None, status=204),
    tags=TAGS,
    operation_id="quota_delete",
    summary="Remove a quota",
)
def quota_delete(request, quota_id: Id):
    quota_services.quota_delete(**actor_scope(request), quota_id=quota_id)
    return Status(204, None)


# --- the forecast --------------------------------------------------------------------------------


class ForecastFilters(Schema):
    period: text(7) = Field(..., description=PERIOD_HELP)
    kind: Literal["rep", "team"] = Field("rep", description="Rows per rep or per team.")
    team: Id | None = Field(None, description="Only this team and the teams below.")


class ForecastRowOut(Schema):
    user: UserRef | None
    team: TeamRef | None
    depth: int = Field(..., description="A team's depth under the first row's level.")
    quota: Decimal | None
    closed_won: Decimal = Field(..., description="Won, closed in the period.")
    won_count: int
    commit: Decimal = Field(..., description="Open, closing in the period, category commit.")
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal = Field(..., description="Σ amount × probability of those open deals.")
    open_count: int
    projected: Decimal = Field(..., description="Closed won + commit.")
    attainment: Decimal | None = Field(..., description="Closed won / quota, in percent.")


class ForecastOut(Schema):
    period: str
    start: dt.date
    end: dt.date = Field(..., description="Exclusive.")
    kind: Literal["rep", "team"]
    currency: str
    items: list[ForecastRowOut]
    total: ForecastRowOut


def _row_out(row) -> dict:
    f = row.figures
    return {
        "user": _user(row.user),
        "team": _team(row.team),
        "depth": row.depth,
        "quota": row.quota,
        "closed_won": f.closed_won,
        "won_count": f.won_count,
        "commit": f.commit,
        "best_case": f.best_case,
        "pipeline": f.pipeline,
        "weighted": f.weighted,
        "open_count": f.open_count,
        "projected": f.projected,
        "attainment": row.attainment,
    }


@router.get(
    "/forecast",
    response=responses(ForecastOut),
    tags=TAGS,
    operation_id="forecast_get",
    summary="The forecast of a period per rep or per team, against quota",
    description="Reps and teams as your visibility on deals allows (a rep: themselves; a "
    "manager: their team and the teams below). Open deals count by their forecast "
    "category when their expected close date is in the period; omitted ones do not count.",
)
def forecast_get(request, filters: Query[ForecastFilters]):
    permissions.require(request.user, DEAL, "read")
    period = parse_period(filters.period)
    result = forecast_selectors.forecast(
        **actor_scope(request), period=period, kind=filters.kind, team_id=filters.team
    )
    return {
        "period": period.label,
        "start": period.start,
        "end": period.end,
        "kind": result.kind,
        "currency": result.currency,
        "items": [_row_out(r) for r in result.rows],
        "total": _row_out(result.total),
    }


class ForecastDealFilters(PageParams):
    period: text(7) = Field(..., description=PERIOD_HELP)
    column: Literal["closed_won", "commit", "best_case", "pipeline", "open"]
    owner: Id | None = None
    team: Id | None = None


class ForecastDealOut(Schema):
    id: int
    name: str
    owner: UserRef | None
    account_id: int | None
    stage: str
    status: str
    forecast_category: str
    amount: Decimal
    currency: str
    amount_base: Decimal
    probability: int
    expected_close_date: dt.date | None
    closed_at: dt.datetime | None


def _deal_out(deal: Deal) -> dict:
    return {
        "id": deal.pk,
        "name": deal.name,
        "owner": _user(deal.owner),
        "account_id": deal.account_id,
        "stage": deal.stage.name,
        "status": deal.status,
        "forecast_category": deal.forecast_category,
        "amount": deal.amount,
        "currency": deal.currency,
        "amount_base": deal.amount_base,
        "probability": deal.probability,
        "expected_close_date": deal.expected_close_date,
        "closed_at": deal.closed_at,
    }


@router.get(
    "/forecast/deals",
    response=responses(page_of(ForecastDealOut)),
    tags=TAGS,
    operation_id="forecast_deals",
    summary="The deals behind one forecast figure (a cursor page)",
)
def forecast_deals(request, filters: Query[ForecastDealFilters]):
    permissions.require(request.user, DEAL, "read")
    period = parse_period(filters.period)
    qs = forecast_selectors.forecast_deals(
        **actor_scope(request),
        period=period,
        column=filters.column,
        owner_id=filters.owner,
        team_id=filters.team,
    )
    return page_response(qs, filters, _deal_out)


# --- performance and leaderboard -----------------------------------------------------------------


class PerformanceFilters(Schema):
    period: text(7) = Field(..., description=PERIOD_HELP)
    user_id: Id | None = None


class ActivityCounts(Schema):
    call: int
    visit: int
    meeting: int
    email: int
    total: int


class RepPerformanceOut(Schema):
    user: UserRef
    won: int = Field(..., description="Deals won, closed in the period.")
    lost: int
    win_rate: Decimal | None = Field(..., description="won / (won + lost), in percent.")
    won_amount: Decimal
    average_won: Decimal | None
    average_cycle_days: Decimal | None = Field(..., description="Created → closed, won deals.")
    open_count: int = Field(..., description="Open deals today.")
    open_amount: Decimal
    activities: ActivityCounts = Field(..., description="Timeline entries written in the period.")


class PerformanceOut(Schema):
    period: str
    currency: str
    items: list[RepPerformanceOut]


def _perf_out(row) -> dict:
    return {
        "user": _user(row.user),
        "won": row.won,
        "lost": row.lost,
        "win_rate": row.win_rate,
        "won_amount": row.won_amount,
        "average_won": row.average_won,
        "average_cycle_days": row.average_cycle_days,
        "open_count": row.open_count,
        "open_amount": row.open_amount,
        "activities": {
            **{kind: row.activity(kind) for kind in performance_selectors.ACTIVITY_KINDS},
            "total": row.activity_total,
        },
    }


@router.get(
    "/performance",
    response=responses(PerformanceOut),
    tags=TAGS,
    operation_id="rep_performance",
    summary="Per rep over a period: win rate, average deal, cycle, pipeline, activities",
)
def rep_performance(request, filters: Query[PerformanceFilters]):
    permissions.require(request.user, DEAL, "read")
    period = parse_period(filters.period)
    if filters.user_id is not None:
        scope = forecast_selectors.scope_for(**actor_scope(request))
        if filters.user_id not in scope.users:
            raise NotFound()
    perf = performance_selectors.rep_performance(
        **actor_scope(request), period=period, user_id=filters.user_id
    )
    return {
        "period": period.label,
        "currency": perf.currency,
        "items": [_perf_out(r) for r in perf.rows],
    }


class LeaderboardFilters(Schema):
    period: text(7) = Field(..., description=PERIOD_HELP)
    limit: int = Field(10, ge=1, le=100)


class LeaderboardOut(Schema):
    period: str
    currency: str
    won_amount: list[RepPerformanceOut]
    win_rate: list[RepPerformanceOut]
    activities: list[RepPerformanceOut]


@router.get(
    "/leaderboard",
    response=responses(LeaderboardOut),
    tags=TAGS,
    operation_id="leaderboard",
    summary="The reps you may see, ranked by won amount, win rate and activities",
)
def leaderboard(request, filters: Query[LeaderboardFilters]):
    permissions.require(request.user, DEAL, "read")
    period = parse_period(filters.period)
    board = performance_selectors.leaderboard(
        **actor_scope(request), period=period, limit=filters.limit
    )
    return {
        "period": period.label,
        "currency": board.currency,
        "won_amount": [_perf_out(r) for r in board.won_amount],
        "win_rate": [_perf_out(r) for r in board.win_rate],
        "activities": [_perf_out(r) for r in board.activities],
    }


# --- who should take this deal? ------------------------------------------------------------------


class LikenessOut(Schema):
    key: Literal["industry", "region", "account_type", "value_class", "amount"]
    value: str
    won: int
    closed: int
    average_won: Decimal | None


class SuggestionOut(Schema):
    user: UserRef
    score: float = Field(..., description="0–1: the weighted Bayesian win rate on like deals.")
    reasons: list[str] = Field(..., description="Why, in words (the strongest two likenesses).")
    likenesses: list[LikenessOut]


class SuggestFilters(Schema):
    limit: int = Field(3, ge=1, le=20)


@router.get(
    "/deals/{deal_id}/suggested-owners",
    response=responses(list[SuggestionOut]),
    tags=TAGS,
    operation_id="deal_suggested_owners",
    summary="Who should take this deal: reps ranked by their record with similar customers",
)
def deal_suggested_owners(request, deal_id: Id, filters: Query[SuggestFilters]):
    deal = performance_selectors.deal_for_suggestion(**actor_scope(request), deal_id=deal_id)
    rows = performance_selectors.suggest_owners(
        workspace=request.workspace, deal=deal, limit=filters.limit
    )
    return [
        {
            "user": _user(s.user),
            "score": round(s.score, 4),
            "reasons": s.reasons,
            "likenesses": [
                {
                    "key": lk.key,
                    "value": lk.value,
                    "won": lk.won,
                    "closed": lk.closed,
                    "average_won": lk.average_won,
                }
                for lk in s.likenesses
            ],
        }
        for s in rows
    ]
