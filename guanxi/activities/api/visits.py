"""Visit plans, the day's route and field check-ins: ``/visit-settings``,
``/accounts/{id}/visit-plan``, ``/visit-plans/generate``, ``/visit-plans/progress``,
``/routes``, ``/check-ins``. The same services and selectors as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, page_of, page_response, responses, text
from guanxi.common.views import actor_scope
from guanxi.platform.api.common import _admin_scope
from guanxi.platform.api.jobs import job_data
from guanxi.platform.schemas import JobOut

from ..models import VisitMeans
from ..selectors import visits as selectors
from ..services import checkins, routes, visits
from ..services.checkins import VisitOutcome

router = Router()
TAGS = ["Visits"]
Means = Literal[tuple(VisitMeans.values)]  # type: ignore[valid-type]
Outcome = Literal[("", *VisitOutcome.values)]  # type: ignore[valid-type]


class UserRef(Schema):
    id: int
    full_name: str


class CustomerRef(Schema):
    id: int
    name: str


def _user(user) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _ref(record) -> dict | None:
    return {"id": record.pk, "name": record.name} if record is not None else None


# --- settings -----------------------------------------------------------------------------------


class VisitSettingsOut(Schema):
    visits_per_year_by_type: dict[str, int] = Field(
        ..., description="Visits a year by customer type (customer, prospect, agent…)."
    )
    visits_per_year_by_class: dict[str, int] = Field(
        ..., description="By class A/B/C: stored for when classes exist; not used yet."
    )
    far_checkin_meters: int


class VisitSettingsIn(Schema):
    visits_per_year_by_type: dict[str, int] | None = Field(
        None, description="Merged key by key; values 0–365."
    )
    visits_per_year_by_class: dict[str, int] | None = None
    far_checkin_meters: int | None = Field(None, ge=10, le=100_000)


def _settings_out(settings) -> dict:
    return {
        "visits_per_year_by_type": settings.visits_per_year_by_type,
        "visits_per_year_by_class": settings.visits_per_year_by_class or {},
        "far_checkin_meters": settings.far_checkin_meters,
    }


@router.get(
    "/visit-settings",
    response=responses(VisitSettingsOut),
    tags=TAGS,
    operation_id="visit_settings_get",
    summary="The workspace's default visit frequencies and check-in distance",
)
def visit_settings_get(request):
    return _settings_out(visits.visit_settings_get(workspace=request.workspace))


@router.put(
    "/visit-settings",
    response=responses(VisitSettingsOut),
    tags=TAGS,
    operation_id="visit_settings_update",
    summary="Change the visit defaults (administrators)",
)
def visit_settings_update(request, payload: VisitSettingsIn):
    _admin_scope(request)
    return _settings_out(visits.visit_settings_update(**actor_scope(request), **payload.dict()))


# --- an account's plan --------------------------------------------------------------------------


class VisitPlanOut(Schema):
    account: CustomerRef
    visits_per_year: int
    source: Literal["default", "custom"]
    means: str
    notes: str


class VisitPlanIn(Schema):
    visits_per_year: int = Field(..., ge=0, le=365)
    means: Means | None = None
    notes: text(500) | None = None


def _plan_out(plan) -> dict:
    return {
        "account": _ref(plan.account),
        "visits_per_year": plan.visits_per_year,
        "source": plan.source,
        "means": plan.means,
        "notes": plan.notes,
    }


@router.get(
    "/accounts/{account_id}/visit-plan",
    response=responses(VisitPlanOut),
    tags=TAGS,
    operation_id="visit_plan_get",
    summary="An account's effective visit plan (set by hand, or the default for its type)",
)
def visit_plan_get(request, account_id: Id):
    return _plan_out(visits.visit_plan_get(**actor_scope(request), account_id=account_id))


@router.put(
    "/accounts/{account_id}/visit-plan",
    response=responses(VisitPlanOut),
    tags=TAGS,
    operation_id="visit_plan_set",
    summary="Set an account's visit frequency by hand",
    description="A changed frequency cancels the plan's open future visits generated "
    "from the old one; generate again to lay out the new ones.",
)
def visit_plan_set(request, account_id: Id, payload: VisitPlanIn):
    plan = visits.visit_plan_set(**actor_scope(request), account_id=account_id, **payload.dict())
    return _plan_out(plan)


@router.delete(
    "/accounts/{account_id}/visit-plan",
    response=responses(VisitPlanOut),
    tags=TAGS,
    operation_id="visit_plan_reset",
    summary="Put an account's visit frequency back to the default for its type",
)
def visit_plan_reset(request, account_id: Id):
    return _plan_out(visits.visit_plan_reset(**actor_scope(request), account_id=account_id))


# --- generation and progress --------------------------------------------------------------------


class GenerateIn(Schema):
    period: text(7) = Field(..., description="2026, 2026-Q4 or 2026-11.")
    team_id: Id | None = Field(None, description="Only owners in this team and the teams below.")
    owner_id: Id | None = Field(None, description="Only this owner's accounts.")


@router.post(
    "/visit-plans/generate",
    response=responses(JobOut, status=202),
    tags=TAGS,
    operation_id="visit_plans_generate",
    summary="Generate the visit tasks of a period (a background job; follow it at /jobs/{id})",
    description="Idempotent: a slot (`2026-Q4#1`) is made once per plan, whatever the "
    "period asked.",
)
def visit_plans_generate(request, payload: GenerateIn):
    job = visits.visit_plans_generate_start(**actor_scope(request), **payload.dict())
    return Status(202, job_data(job))


class ProgressFilters(Schema):
    period: text(7) = Field(..., description="2026, 2026-Q4 or 2026-11.")
    user_id: Id | None = None


class RepProgressOut(Schema):
    user: UserRef
    planned: int
    done: int
    done_tasks: int
    extra_checkouts: int = Field(..., description="Check-outs in the period without a task.")
    overdue: int
    percent: int | None


class ProgressOut(Schema):
    period: str
    start: dt.date
    end: dt.date = Field(..., description="Exclusive.")
    items: list[RepProgressOut]


@router.get(
    "/visit-plans/progress",
    response=responses(ProgressOut),
    tags=TAGS,
    operation_id="visit_plans_progress",
    summary="Plan versus done per rep (yourself; managers: their team and below)",
)
def visit_plans_progress(request, filters: Query[ProgressFilters]):
    from guanxi.platform import permissions

    permissions.require(request.user, "activities.task", "read")
    period = visits.parse_period(filters.period)
    if filters.user_id is not None:  # another workspace's or an invisible rep: 404
        routes.route_user(**actor_scope(request), user_id=filters.user_id)
    rows = selectors.plan_progress(
        workspace=request.workspace, actor=request.user, period=period, user_id=filters.user_id
    )
    return {
        "period": period.label,
        "start": period.start,
        "end": period.end,
        "items": [
            {
                "user": _user(r.user),
                "planned": r.planned,
                "done": r.done,
                "done_tasks": r.done_tasks,
                "extra_checkouts": r.extra_checkouts,
                "overdue": r.overdue,
                "percent": r.percent,
            }
            for r in rows
        ],
    }


# --- the day's route ----------------------------------------------------------------------------


class RouteFilters(Schema):
    date: dt.date
    user_id: Id | None = Field(None, description="Another rep whose tasks you may see.")
    start_lat: float | None = Field(None, description="Start latitude, −90..90.")
    start_lon: float | None = Field(None, description="Start longitude, −180..180.")


class RouteStopOut(Schema):
    task_id: int
    account: CustomerRef | None
    contact: CustomerRef | None
    latitude: float
    longitude: float
    leg_m: int = Field(..., description="Straight-line metres from the previous stop.")
    cumulative_m: int
    eta: dt.datetime = Field(..., description="When the visit begins (after any wait).")
    window_start: dt.time | None
    window_end: dt.time | None
    window_missed: bool
    geo_uri: str


class UnlocatedOut(Schema):
    task_id: int
    account: CustomerRef | None
    contact: CustomerRef | None
    due_at: dt.datetime


class RouteOut(Schema):
    user: UserRef
    date: dt.date
    start: list[float] | None
    total_m: int
    windows_relaxed: bool = Field(
        ..., description="True when the windows could not all be met: solved without them."
    )
    stops: list[RouteStopOut]
    no_location: list[UnlocatedOut]


@router.get(
    "/routes",
    response=responses(RouteOut),
    tags=TAGS,
    operation_id="routes_day",
    summary="A rep's open visits of a day in the shortest order (OR-Tools)",
)
def routes_day(request, filters: Query[RouteFilters]):
    route = routes.day_route(
        **actor_scope(request),
        day=filters.date,
        user_id=filters.user_id,
        start_latitude=filters.start_lat,
        start_longitude=filters.start_lon,
    )
    return {
        "user": _user(route.user),
        "date": route.day,
        "start": list(route.start) if route.start else None,
        "total_m": route.total_m,
        "windows_relaxed": route.windows_relaxed,
        "stops": [
            {
                "task_id": s.task.pk,
                "account": _ref(s.account),
                "contact": _ref(s.contact),
                "latitude": s.latitude,
                "longitude": s.longitude,
                "leg_m": s.leg_m,
                "cumulative_m": s.cumulative_m,
                "eta": s.eta,
                "window_start": s.task.window_start,
                "window_end": s.task.window_end,
                "window_missed": s.window_missed,
                "geo_uri": s.geo_uri,
            }
            for s in route.stops
        ],
        "no_location": [
            {
                "task_id": t.pk,
                "account": _ref(t.account),
                "contact": _ref(t.contact),
                "due_at": t.due_at,
            }
            for t in route.unlocated
        ],
    }


# --- check-ins ----------------------------------------------------------------------------------


class CheckInIn(Schema):
    task_id: Id | None = Field(None, description="A visit task assigned to you.")
    account_id: Id | None = Field(None, description="Or an account directly.")
    contact_id: Id | None = None
    latitude: float | None = Field(None, description="Omit both for a check-in with no position.")
    longitude: float | None = None
    accuracy_m: float | None = None
    means: Means | None = None


class CheckOutIn(Schema):
    notes: text(10_000) = ""
    means: Means | None = None
    outcome: Outcome = ""


class CheckInOut(Schema):
    id: int
    user: UserRef
    task_id: int | None
    account: CustomerRef | None
    contact: CustomerRef | None
    means: str
    checked_in_at: dt.datetime
    checked_out_at: dt.datetime | None
    latitude: float | None
    longitude: float | None
    accuracy_m: int | None
    no_position: bool
    distance_m: int | None = Field(..., description="To the customer's coordinates, if known.")
    is_far: bool
    has_photo: bool
    notes: str
    entry_id: int | None = Field(..., description="The timeline entry written at check-out.")


def _checkin_out(c) -> dict:
    return {
        "id": c.pk,
        "user": _user(c.user),
        "task_id": c.task_id,
        "account": _ref(c.account),
        "contact": _ref(c.contact),
        "means": c.means,
        "checked_in_at": c.checked_in_at,
        "checked_out_at": c.checked_out_at,
        "latitude": None if c.latitude is None else float(c.latitude),
        "longitude": None if c.longitude is None else float(c.longitude),
        "accuracy_m": c.accuracy_m,
        "no_position": c.latitude is None,
        "distance_m": c.distance_m,
        "is_far": c.is_far,
        "has_photo": bool(c.photo),
        "notes": c.notes,
        "entry_id": c.entry_id,
    }


def _reload(request, checkin_id):
    return selectors.checkin_get(
        workspace=request.workspace, actor=request.user, checkin_id=checkin_id
    )


@router.post(
    "/check-ins",
    response=responses(CheckInOut, status=201),
    tags=TAGS,
    operation_id="checkins_create",
    summary="Check in at a visit task or a customer (photos are added on the page)",
    description="409 `already_checked_in` while you have an open check-in.",
)
def checkins_create(request, payload: CheckInIn):
    checkin = checkins.checkin_create(**actor_scope(request), **payload.dict())
    return Status(201, _checkin_out(_reload(request, checkin.pk)))


@router.post(
    "/check-ins/{checkin_id}/check-out",
    response=responses(CheckInOut),
    tags=TAGS,
    operation_id="checkins_check_out",
    summary="Check out: the visit goes on the timeline and the visit task is done",
    description="409 `checked_out` when already checked out.",
)
def checkins_check_out(request, checkin_id: Id, payload: CheckOutIn):
    checkins.checkin_checkout(**actor_scope(request), checkin_id=checkin_id, **payload.dict())
    return _checkin_out(_reload(request, checkin_id))


@router.post(
    "/check-ins/{checkin_id}/set-customer-location",
    response=responses(CheckInOut),
    tags=TAGS,
    operation_id="checkins_set_customer_location",
    summary="Give a customer without coordinates this check-in's position",
)
def checkins_set_customer_location(request, checkin_id: Id):
    checkins.checkin_set_customer_location(**actor_scope(request), checkin_id=checkin_id)
    return _checkin_out(_reload(request, checkin_id))


class CheckInFilters(Schema):
    user_id: Id | None = None
    account_id: Id | None = None


@router.get(
    "/check-ins",
    response=responses(page_of(CheckInOut)),
    tags=TAGS,
    operation_id="checkins_list",
    summary="Check-ins you may see, newest first",
)
def checkins_list(request, filters: Query[CheckInFilters], page: Query[PageParams]):
    from guanxi.platform import permissions

    permissions.require(request.user, "activities.checkin", "read")
    qs = selectors.checkin_list(
        workspace=request.workspace,
        actor=request.user,
        user_id=filters.user_id,
        account_id=filters.account_id,
    )
    return page_response(qs, page, _checkin_out, key="checked_in_at", descending=True)
