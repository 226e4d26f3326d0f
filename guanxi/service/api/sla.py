"""``/sla/…``: SLA policies and their escalation rules, working calendars with their special
days (holidays, adjusted working days 调休, a year of Chinese public holidays loaded at
once, a month preview), the SLA dashboard's figures, and the sweep trigger for
administrators. The same services and selectors as the pages; another workspace's ids are
404, missing rights 403, a clash (a second active policy for one class and priority, a
date already in the calendar) 409."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator

from guanxi.common.api import Id, PatchSchema, require_scope
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.views import actor_scope

from ..models import (
    CalendarDayKind,
    EscalationAction,
    EscalationTarget,
    EscalationWhen,
)
from ..selectors import sla as selectors
from ..services import business_time
from ..services import sla as services

router = Router()
POLICY_TAGS = ["SLA policies"]
CALENDAR_TAGS = ["Working calendars"]
DASHBOARD_TAGS = ["SLA dashboard"]

ClassName = Literal["", "A", "B", "C"]
DayKind = Literal[tuple(CalendarDayKind.values)]  # type: ignore[valid-type]
When = Literal[tuple(EscalationWhen.values)]  # type: ignore[valid-type]
Target = Literal[tuple(EscalationTarget.values)]  # type: ignore[valid-type]
ActionName = Literal[tuple(EscalationAction.values)]  # type: ignore[valid-type]
Minutes = Annotated[int, Field(ge=1, le=services.MAX_TARGET_MINUTES)]
Priority = Annotated[int, Field(ge=1, le=4)]


def _hours(value):
    try:
        return business_time.hours_json(business_time.spans_of(value))
    except business_time.HoursError as exc:
        raise ValueError(str(exc.message)) from None


def _week(value):
    try:
        return business_time.check_week(value)
    except business_time.HoursError as exc:
        raise ValueError(str(exc.message)) from None


Hours = Annotated[
    list[Annotated[list[bounded_text(5)], Field(min_length=2, max_length=2)]],
    Field(max_length=12, description='Spans of wall-clock time: [["09:00", "12:00"], …].'),
    AfterValidator(_hours),
]
Week = Annotated[
    dict[Literal["1", "2", "3", "4", "5", "6", "7"], Hours],
    Field(description='ISO weekday ("1" Monday … "7" Sunday) → its hours; missing: off.'),
    AfterValidator(_week),
]
Day = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2100, 12, 31))]


# --- schemas ---------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    full_name: str


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    week: dict[str, list[list[str]]]
    is_default: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class CalendarIn(Schema):
    name: bounded_text(80, min_length=1)
    time_zone: bounded_text(60) = Field("Asia/Shanghai", description="An IANA time zone.")
    week: Week | None = Field(None, description="Omitted: Monday–Friday 09:00–12:00, 13:30–18:00.")
    is_default: bool = False


class CalendarPatch(PatchSchema):
    name: bounded_text(80, min_length=1) | None = None
    time_zone: bounded_text(60) | None = None
    week: Week | None = None
    is_default: bool | None = None


class DayOut(Schema):
    id: int
    calendar_id: int
    day: dt.date
    kind: DayKind
    name: str
    hours: list[list[str]] = Field(
        ..., description="A working day's own hours (empty: its weekday's, or the usual day's)."
    )


class DayIn(Schema):
    day: Day
    kind: DayKind
    name: bounded_text(80) = ""
    hours: Hours = Field(default_factory=list)


class DayPatch(PatchSchema):
    day: Day | None = None
    kind: DayKind | None = None
    name: bounded_text(80) | None = None
    hours: Hours | None = None


class HolidaysIn(Schema):
    year: int = Field(..., ge=2000, le=2100, description="A year of data/cn_holidays.py.")


class HolidaysOut(Schema):
    added: int
    kept: int = Field(..., description="Dates the calendar had already (left as they were).")


class MonthDayOut(Schema):
    day: dt.date
    kind: Literal["working", "off", "holiday", "workday"]
    name: str
    hours: list[list[str]]
    minutes: int


class MonthOut(Schema):
    month: str = Field(..., description="YYYY-MM")
    working_days: int
    minutes: int = Field(..., description="Business minutes of the month.")
    days: list[MonthDayOut]


class MonthQuery(Schema):
    month: bounded_text(7) | None = Field(None, description="YYYY-MM; omitted: this month.")


class RuleOut(Schema):
    id: int
    when: When
    target: Target
    action: ActionName
    notify_assignee: bool
    notify_supervisor: bool
    user: UserRef | None
    queue: Ref | None
    position: int


class RuleIn(Schema):
    when: When
    target: Target = "any"
    action: ActionName
    notify_assignee: bool = False
    notify_supervisor: bool = False
    user_id: Id | None = Field(None, description="Notify this user too, or reassign to them.")
    queue_id: Id | None = Field(None, description="Reassign to this queue.")
    position: int = Field(0, ge=0, le=1000)


class RulePatch(PatchSchema):
    when: When | None = None
    target: Target | None = None
    action: ActionName | None = None
    notify_assignee: bool | None = None
    notify_supervisor: bool | None = None
    user_id: Id | None = None
    queue_id: Id | None = None
    position: int | None = Field(None, ge=0, le=1000)


class PolicyOut(Schema):
    id: int
    name: str
    customer_class: ClassName = Field(..., description='"" = any class.')
    priority: int | None = Field(..., description="1 urgent … 4 low; null = any.")
    calendar: Ref
    first_response_minutes: int
    resolution_minutes: int
    warn_at_percent: int
    active: bool
    rules: list[RuleOut]


class PolicyIn(Schema):
    name: bounded_text(80, min_length=1)
    customer_class: ClassName = ""
    priority: Priority | None = None
    calendar_id: Id | None = Field(None, description="Omitted: the default calendar.")
    first_response_minutes: Minutes
    resolution_minutes: Minutes
    warn_at_percent: int = Field(80, ge=1, le=100)
    active: bool = True


class PolicyPatch(PatchSchema):
    name: bounded_text(80, min_length=1) | None = None
    customer_class: ClassName | None = None
    priority: Priority | None = None
    calendar_id: Id | None = None
    first_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    warn_at_percent: int | None = Field(None, ge=1, le=100)
    active: bool | None = None


class StatesOut(Schema):
    on_track: int
    warned: int
    breached: int
    paused: int


class DayCountOut(Schema):
    day: dt.date
    breaches: int


class AttainmentOut(Schema):
    customer_class: ClassName
    priority: int
    responses: int
    responses_met: int
    response_percent: float | None
    resolutions: int
    resolutions_met: int
    resolution_percent: float | None


class RiskOut(Schema):
    id: int
    number: str
    subject: str
    priority: int
    status: str
    due_at: dt.datetime | None
    breached: bool
    assignee: UserRef | None


class DashboardOut(Schema):
    since: dt.datetime
    states: StatesOut
    breaches_per_day: list[DayCountOut]
    attainment: list[AttainmentOut]
    median_first_response_minutes: int | None = Field(
        ..., description="Business minutes, pauses left out."
    )
    first_responses: int
    at_risk: list[RiskOut]


class SweepOut(Schema):
    response_warnings: int
    resolution_warnings: int
    response_breaches: int
    resolution_breaches: int
    escalations: int


# --- serialising -----------------------------------------------------------------------------


def _calendar_out(calendar) -> dict:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "week": calendar.week or {},
        "is_default": calendar.is_default,
        "created_at": calendar.created_at,
        "updated_at": calendar.updated_at,
    }


def _day_out(row) -> dict:
    return {
        "id": row.pk,
        "calendar_id": row.calendar_id,
        "day": row.day,
        "kind": row.kind,
        "name": row.name,
        "hours": row.hours or [],
    }


def _rule_out(rule) -> dict:
    return {
        "id": rule.pk,
        "when": rule.when,
        "target": rule.target,
        "action": rule.action,
        "notify_assignee": rule.notify_assignee,
        "notify_supervisor": rule.notify_supervisor,
        "user": {"id": rule.user.pk, "full_name": rule.user.full_name} if rule.user_id else None,
        "queue": {"id": rule.queue.pk, "name": rule.queue.name} if rule.queue_id else None,
        "position": rule.position,
    }


def _policy_out(policy, rules) -> dict:
    return {
        "id": policy.pk,
        "name": policy.name,
        "customer_class": policy.customer_class,
        "priority": policy.priority,
        "calendar": {"id": policy.calendar.pk, "name": policy.calendar.name},
        "first_response_minutes": policy.first_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "warn_at_percent": policy.warn_at_percent,
        "active": policy.active,
        "rules": [_rule_out(r) for r in rules],
    }


def _policy_one(request, policy_id: int) -> dict:
    scope = actor_scope(request)
    policy = selectors.policy_detail(**scope, policy_id=policy_id)
    return _policy_out(policy, selectors.policy_rules(**scope, policy=policy))


# --- policies --------------------------------------------------------------------------------


@router.get(
    "/sla/policies",
    response=documented(list[PolicyOut]),
    tags=POLICY_TAGS,
    operation_id="sla_policies_list",
    summary="List the SLA policies with their escalation rules",
)
def sla_policies_list(request):
    scope = actor_scope(request)
    policies = list(selectors.policy_list(**scope))
    rules: dict[int, list] = {p.pk: [] for p in policies}
    from ..models import EscalationRule

    for rule in (
        EscalationRule.objects.in_workspace(request.workspace)
        .filter(policy_id__in=list(rules))
        .select_related("user", "queue")
        .order_by("position", "id")
    ):
        rules[rule.policy_id].append(rule)
    return [_policy_out(p, rules[p.pk]) for p in policies]


@router.post(
    "/sla/policies",
    response=documented(PolicyOut, status=201),
    tags=POLICY_TAGS,
    operation_id="sla_policies_create",
    summary="Add a policy for a customer class and priority",
)
def sla_policies_create(request, payload: PolicyIn):
    """The most specific active policy applies to a case: class and priority, class,
    priority, any. One active policy per class and priority (else 409)."""
    policy = services.sla_policy_create(**actor_scope(request), **payload.dict())
    return Status(201, _policy_one(request, policy.pk))


@router.get(
    "/sla/policies/{policy_id}",
    response=documented(PolicyOut),
    tags=POLICY_TAGS,
    operation_id="sla_policies_get",
    summary="Get a policy",
)
def sla_policies_get(request, policy_id: Id):
    return _policy_one(request, policy_id)


@router.patch(
    "/sla/policies/{policy_id}",
    response=documented(PolicyOut),
    tags=POLICY_TAGS,
    operation_id="sla_policies_update",
    summary="Change a policy (new targets apply to clocks started afterwards)",
)
def sla_policies_update(request, policy_id: Id, payload: PolicyPatch):
    services.sla_policy_update(**actor_scope(request), policy_id=policy_id, **payload.changes())
    return _policy_one(request, policy_id)


@router.delete(
    "/sla/policies/{policy_id}",
    response=documented(None, status=204),
    tags=POLICY_TAGS,
    operation_id="sla_policies_delete",
    summary="Delete a policy and its rules",
)
def sla_policies_delete(request, policy_id: Id):
    services.sla_policy_delete(**actor_scope(request), policy_id=policy_id)
    return Status(204, None)


@router.post(
    "/sla/policies/{policy_id}/rules",
    response=documented(RuleOut, status=201),
    tags=POLICY_TAGS,
    operation_id="sla_rules_create",
    summary="Add an escalation rule (notify, reassign, raise the priority)",
)
def sla_rules_create(request, policy_id: Id, payload: RuleIn):
    """``notify`` needs someone to tell (assignee, supervisor or ``user_id``); ``reassign``
    needs exactly one of ``queue_id`` and ``user_id``."""
    rule = services.escalation_rule_create(
        **actor_scope(request), policy_id=policy_id, **payload.dict()
    )
    rule = services.rule_get(workspace=request.workspace, policy_id=policy_id, rule_id=rule.pk)
    return Status(201, _rule_out(rule))


@router.patch(
    "/sla/policies/{policy_id}/rules/{rule_id}",
    response=documented(RuleOut),
    tags=POLICY_TAGS,
    operation_id="sla_rules_update",
    summary="Change an escalation rule",
)
def sla_rules_update(request, policy_id: Id, rule_id: Id, payload: RulePatch):
    services.escalation_rule_update(
        **actor_scope(request), policy_id=policy_id, rule_id=rule_id, **payload.changes()
    )
    rule = services.rule_get(workspace=request.workspace, policy_id=policy_id, rule_id=rule_id)
    return _rule_out(rule)


@router.delete(
    "/sla/policies/{policy_id}/rules/{rule_id}",
    response=documented(None, status=204),
    tags=POLICY_TAGS,
    operation_id="sla_rules_delete",
    summary="Delete an escalation rule",
)
def sla_rules_delete(request, policy_id: Id, rule_id: Id):
    services.escalation_rule_delete(**actor_scope(request), policy_id=policy_id, rule_id=rule_id)
    return Status(204, None)


# --- calendars -------------------------------------------------------------------------------


@router.get(
    "/sla/calendars",
    response=documented(list[CalendarOut]),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendars_list",
    summary="List the working calendars",
)
def sla_calendars_list(request):
    return [_calendar_out(c) for c in selectors.calendar_list(**actor_scope(request))]


@router.post(
    "/sla/calendars",
    response=documented(CalendarOut, status=201),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendars_create",
    summary="Add a working calendar",
)
def sla_calendars_create(request, payload: CalendarIn):
    values = payload.dict()
    if values.get("week") is None:
        values.pop("week")
    calendar = services.calendar_create(**actor_scope(request), **values)
    return Status(201, _calendar_out(calendar))


@router.get(
    "/sla/calendars/{calendar_id}",
    response=documented(CalendarOut),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendars_get",
    summary="Get a working calendar",
)
def sla_calendars_get(request, calendar_id: Id):
    return _calendar_out(selectors.calendar_detail(**actor_scope(request), calendar_id=calendar_id))


@router.patch(
    "/sla/calendars/{calendar_id}",
    response=documented(CalendarOut),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendars_update",
    summary="Change a calendar's name, time zone, week hours or default flag",
)
def sla_calendars_update(request, calendar_id: Id, payload: CalendarPatch):
    changes = {k: v for k, v in payload.changes().items() if v is not None}
    calendar = services.calendar_update(**actor_scope(request), calendar_id=calendar_id, **changes)
    return _calendar_out(calendar)


@router.delete(
    "/sla/calendars/{calendar_id}",
    response=documented(None, status=204),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendars_delete",
    summary="Delete a calendar no policy uses (not the default one)",
)
def sla_calendars_delete(request, calendar_id: Id):
    services.calendar_delete(**actor_scope(request), calendar_id=calendar_id)
    return Status(204, None)


@router.get(
    "/sla/calendars/{calendar_id}/days",
    response=documented(list[DayOut]),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendar_days_list",
    summary="List a calendar's holidays and adjusted working days",
)
def sla_calendar_days_list(
    request, calendar_id: Id, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
):
    scope = actor_scope(request)
    calendar = selectors.calendar_detail(**scope, calendar_id=calendar_id)
    return [_day_out(d) for d in selectors.calendar_days(**scope, calendar=calendar, year=year)]


@router.post(
    "/sla/calendars/{calendar_id}/days",
    response=documented(DayOut, status=201),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendar_days_create",
    summary="Add a holiday or an adjusted working day (调休)",
)
def sla_calendar_days_create(request, calendar_id: Id, payload: DayIn):
    row = services.calendar_day_create(
        **actor_scope(request), calendar_id=calendar_id, **payload.dict()
    )
    return Status(201, _day_out(row))


@router.patch(
    "/sla/calendars/{calendar_id}/days/{day_id}",
    response=documented(DayOut),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendar_days_update",
    summary="Change a special day",
)
def sla_calendar_days_update(request, calendar_id: Id, day_id: Id, payload: DayPatch):
    changes = {k: v for k, v in payload.changes().items() if v is not None}
    row = services.calendar_day_update(
        **actor_scope(request), calendar_id=calendar_id, day_id=day_id, **changes
    )
    return _day_out(row)


@router.delete(
    "/sla/calendars/{calendar_id}/days/{day_id}",
    response=documented(None, status=204),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendar_days_delete",
    summary="Delete a special day (the date follows the week again)",
)
def sla_calendar_days_delete(request, calendar_id: Id, day_id: Id):
    services.calendar_day_delete(**actor_scope(request), calendar_id=calendar_id, day_id=day_id)
    return Status(204, None)


@router.post(
    "/sla/calendars/{calendar_id}/holidays",
    response=documented(HolidaysOut),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendar_load_holidays",
    summary="Load a year of Chinese public holidays and adjusted working days",
)
def sla_calendar_load_holidays(request, calendar_id: Id, payload: HolidaysIn):
    """Idempotent: dates the calendar has already are kept as they are."""
    return services.calendar_load_holidays(
        **actor_scope(request), calendar_id=calendar_id, year=payload.year
    )


@router.get(
    "/sla/calendars/{calendar_id}/month",
    response=documented(MonthOut),
    tags=CALENDAR_TAGS,
    operation_id="sla_calendar_month",
    summary="A month of the calendar: each day's kind and hours",
)
def sla_calendar_month(request, calendar_id: Id, query: Query[MonthQuery]):
    from django.utils import timezone

    scope = actor_scope(request)
    calendar = selectors.calendar_detail(**scope, calendar_id=calendar_id)
    month = selectors.parse_month(query.month, today=timezone.now().date())
    preview = selectors.calendar_month(**scope, calendar=calendar, month=month)
    cal = business_time.business_calendar(calendar)
    days = [
        {
            "day": d.day,
            "kind": d.kind,
            "name": d.special.name if d.special else "",
            "hours": business_time.hours_json(cal.spans_on(d.day)),
            "minutes": d.minutes,
        }
        for week in preview.weeks
        for d in week
        if d.in_month
    ]
    return {
        "month": preview.first.strftime("%Y-%m"),
        "working_days": preview.working_days,
        "minutes": preview.minutes,
        "days": days,
    }


# --- dashboard and sweep ---------------------------------------------------------------------


@router.get(
    "/sla/dashboard",
    response=documented(DashboardOut),
    tags=DASHBOARD_TAGS,
    operation_id="sla_dashboard",
    summary="The SLA dashboard's figures over the cases you may see",
)
def sla_dashboard(request, days: Annotated[int, Query(ge=1, le=366)] = 30):
    board = selectors.sla_dashboard(**actor_scope(request), days=days)
    return {
        "since": board.since,
        "states": board.states,
        "breaches_per_day": [{"day": d, "breaches": n} for d, n in board.breaches_per_day],
        "attainment": [
            {
                "customer_class": r.customer_class,
                "priority": r.priority,
                "responses": r.responses,
                "responses_met": r.responses_met,
                "response_percent": r.response_percent,
                "resolutions": r.resolutions,
                "resolutions_met": r.resolutions_met,
                "resolution_percent": r.resolution_percent,
            }
            for r in board.attainment
        ],
        "median_first_response_minutes": board.median_first_response,
        "first_responses": board.first_responses,
        "at_risk": [
            {
                "id": c.pk,
                "number": c.number,
                "subject": c.subject,
                "priority": c.priority,
                "status": c.status,
                "due_at": c.next_due,
                "breached": bool(
                    (c.response_breached_at and c.first_response_at is None)
                    or c.resolution_breached_at
                ),
                "assignee": {"id": c.assignee.pk, "full_name": c.assignee.full_name}
                if c.assignee_id
                else None,
            }
            for c in board.at_risk
        ],
    }


@router.post(
    "/sla/sweep",
    response=documented(SweepOut),
    tags=DASHBOARD_TAGS,
    operation_id="sla_sweep",
    summary="Run the SLA sweep now (administrators; it also runs every minute)",
)
def sla_sweep(request):
    require_scope(request, "admin")
    return services.sla_sweep_now(**actor_scope(request))
