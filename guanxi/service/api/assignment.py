"""``/service/queues``, ``/service/agents`` (profiles, skills, availability),
``/service/availability`` (the caller's own) and ``/service/dispatches`` (suggest, create,
complete, cancel). The same services and selectors as the pages; another workspace's ids
are 404, missing rights 403, a double booking or a finished visit 409."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import DateTime, Id, PageParams, PatchSchema, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.errors import NotFound
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import AgentStatus, DispatchStatus, DistributionMethod, SkillKind
from ..objects import CONFIGURATION, DISPATCH
from ..selectors import assignment as selectors
from ..services import agents, dispatch, queues

router = Router()
QUEUE_TAGS = ["Service queues and agents"]
DISPATCH_TAGS = ["Service dispatch"]

MethodName = Literal[tuple(DistributionMethod.values)]  # type: ignore[valid-type]
StatusName = Literal[tuple(AgentStatus.values)]  # type: ignore[valid-type]
SkillKindName = Literal[tuple(SkillKind.values)]  # type: ignore[valid-type]
DispatchStatusName = Literal[tuple(DispatchStatus.values)]  # type: ignore[valid-type]
Language = bounded_text(10)


# --- schemas -----------------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    full_name: str


class QueueOut(Schema):
    id: int
    name: str
    method: MethodName
    supervisor: UserRef | None
    members: list[UserRef] = Field(..., description="In round-robin order.")
    languages: list[str]
    is_default: bool
    active: bool
    last_assigned_id: int | None


class QueueIn(Schema):
    name: bounded_text(80)
    method: MethodName = "round_robin"
    supervisor_id: Id | None = None
    member_ids: list[Id] = Field(default_factory=list, max_length=500)
    languages: list[Language] = Field(default_factory=list, max_length=20)
    is_default: bool = False
    active: bool = True


class QueuePatch(PatchSchema):
    name: bounded_text(80) | None = None
    method: MethodName | None = None
    supervisor_id: Id | None = None
    member_ids: list[Id] | None = Field(None, max_length=500)
    languages: list[Language] | None = Field(None, max_length=20)
    is_default: bool | None = None
    active: bool | None = None


class SkillOut(Schema):
    id: int
    kind: SkillKindName
    object_id: int
    name: str
    level: int


class AgentOut(Schema):
    user: UserRef
    is_agent: bool = Field(..., description="Whether the user has an agent profile.")
    status: StatusName
    status_changed_at: dt.datetime | None
    open_cases: int
    languages: list[str]
    max_open_cases: int
    phone_extension: str
    is_technician: bool
    home_latitude: float | None
    home_longitude: float | None
    regions: list[str]
    max_visits_per_day: int
    skills: list[SkillOut]


class AgentIn(PatchSchema):
    languages: list[Language] | None = Field(None, max_length=20)
    max_open_cases: int | None = Field(None, ge=0, le=10_000)
    phone_extension: bounded_text(40) | None = None
    is_technician: bool | None = None
    home_latitude: float | None = Field(None, ge=-90, le=90)
    home_longitude: float | None = Field(None, ge=-180, le=180)
    regions: list[bounded_text(60)] | None = Field(None, max_length=50)
    max_visits_per_day: int | None = Field(None, ge=0, le=100)


class SkillIn(Schema):
    kind: SkillKindName
    object_id: Id
    level: int = Field(3, ge=1, le=5)


class StatusIn(Schema):
    status: StatusName


class CaseRef(Schema):
    id: int
    number: str
    subject: str


class StatusOut(Schema):
    status: StatusName
    handed_out: list[CaseRef] = Field(
        ..., description="Waiting cases given out because the agent became available."
    )


class SuggestionOut(Schema):
    technician: UserRef
    score: float
    skill: int = Field(..., description="Summed skill levels for the case.")
    distance_km: float | None
    distance_from: Literal["home", "visit", ""]
    region_match: bool
    visits: int = Field(..., description="Open visits that day.")
    max_visits: int
    fully_booked: bool
    reason: str


class SuggestParams(Schema):
    day: dt.date = Field(..., description="The day of the visit (your local day).")


class DispatchOut(Schema):
    id: int
    case: CaseRef
    technician: UserRef
    task_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: DispatchStatusName
    reason: str
    distance_km: float | None
    location: str
    report: str
    created_at: dt.datetime


class DispatchIn(Schema):
    case_id: Id
    technician_id: Id
    starts_at: DateTime
    ends_at: DateTime
    note: bounded_text(2000) = ""


class DispatchFilters(Schema):
    case_id: Id | None = None
    technician_id: Id | None = None
    status: DispatchStatusName | None = None


class ReportIn(Schema):
    report: bounded_text(10_000)


class CancelIn(Schema):
    reason: bounded_text(300) = ""


# --- serializers -------------------------------------------------------------------------------


def _user(user) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def queue_out(queue) -> dict:
    return {
        "id": queue.pk,
        "name": queue.name,
        "method": queue.method,
        "supervisor": _user(queue.supervisor) if queue.supervisor_id else None,
        "members": [_user(m.user) for m in queue.members.all()],
        "languages": queue.languages or [],
        "is_default": queue.is_default,
        "active": queue.active,
        "last_assigned_id": queue.last_assigned_id,
    }


def agent_out(row) -> dict:
    p = row.profile
    return {
        "user": _user(row.user),
        "is_agent": p is not None,
        "status": p.status if p else AgentStatus.OFFLINE,
        "status_changed_at": p.status_changed_at if p else None,
        "open_cases": row.open_cases,
        "languages": (p.languages or []) if p else [],
        "max_open_cases": p.max_open_cases if p else 30,
        "phone_extension": p.phone_extension if p else "",
        "is_technician": p.is_technician if p else False,
        "home_latitude": float(p.home_latitude) if p and p.home_latitude is not None else None,
        "home_longitude": float(p.home_longitude) if p and p.home_longitude is not None else None,
        "regions": (p.regions or []) if p else [],
        "max_visits_per_day": p.max_visits_per_day if p else 5,
        "skills": [
            {
                "id": s.skill.pk,
                "kind": s.skill.kind,
                "object_id": s.skill.object_id,
                "name": s.label,
                "level": s.skill.level,
            }
            for s in row.skills
        ],
    }


def _case_ref(case) -> dict:
    return {"id": case.pk, "number": case.number, "subject": case.subject}


def dispatch_out(item) -> dict:
    return {
        "id": item.pk,
        "case": _case_ref(item.case),
        "technician": _user(item.technician),
        "task_id": item.task_id,
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "status": item.status,
        "reason": item.reason,
        "distance_km": float(item.distance_km) if item.distance_km is not None else None,
        "location": item.task.location if item.task_id and item.task else "",
        "report": item.report,
        "created_at": item.created_at,
    }


def _agent(request, user_id: int) -> dict:
    rows = selectors.agent_rows(**actor_scope(request), user_ids=[user_id])
    if not rows:
        raise NotFound()
    return agent_out(rows[0])


# --- queues ------------------------------------------------------------------------------------


@router.get(
    "/service/queues",
    response=documented(list[QueueOut]),
    tags=QUEUE_TAGS,
    operation_id="service_queues_list",
    summary="List the queues with their members, method, supervisor and languages",
)
def queues_list(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return [queue_out(q) for q in selectors.queue_list(**actor_scope(request))]


@router.post(
    "/service/queues",
    response=documented(QueueOut, status=201),
    tags=QUEUE_TAGS,
    operation_id="service_queues_create",
    summary="Add a queue (making it the default unmarks the previous default)",
)
def queues_create(request, payload: QueueIn):
    queue = queues.queue_create(**actor_scope(request), **payload.dict())
    return Status(201, queue_out(selectors.queue_get(**actor_scope(request), queue_id=queue.pk)))


@router.get(
    "/service/queues/{queue_id}",
    response=documented(QueueOut),
    tags=QUEUE_TAGS,
    operation_id="service_queues_get",
    summary="Get a queue",
)
def queues_get(request, queue_id: Id):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return queue_out(selectors.queue_get(**actor_scope(request), queue_id=queue_id))


@router.patch(
    "/service/queues/{queue_id}",
    response=documented(QueueOut),
    tags=QUEUE_TAGS,
    operation_id="service_queues_update",
    summary="Change a queue (only the fields sent; member_ids replaces the members)",
)
def queues_update(request, queue_id: Id, payload: QueuePatch):
    queues.queue_update(**actor_scope(request), queue_id=queue_id, **payload.changes())
    return queue_out(selectors.queue_get(**actor_scope(request), queue_id=queue_id))


@router.delete(
    "/service/queues/{queue_id}",
    response=documented(None, status=204),
    tags=QUEUE_TAGS,
    operation_id="service_queues_delete",
    summary="Delete a queue (its cases keep their agent and lose the queue)",
)
def queues_delete(request, queue_id: Id):
    queues.queue_delete(**actor_scope(request), queue_id=queue_id)
    return Status(204, None)


# --- agents ------------------------------------------------------------------------------------


@router.get(
    "/service/agents",
    response=documented(list[AgentOut]),
    tags=QUEUE_TAGS,
    operation_id="service_agents_list",
    summary="Every active user with their agent profile, skills, availability and open cases",
)
def agents_list(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return [agent_out(r) for r in selectors.agent_rows(**actor_scope(request))]


@router.get(
    "/service/agents/{user_id}",
    response=documented(AgentOut),
    tags=QUEUE_TAGS,
    operation_id="service_agents_get",
    summary="One user's agent profile",
)
def agents_get(request, user_id: Id):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return _agent(request, user_id)


@router.patch(
    "/service/agents/{user_id}",
    response=documented(AgentOut),
    tags=QUEUE_TAGS,
    operation_id="service_agents_update",
    summary="Make or change a user's agent profile (only the fields sent)",
)
def agents_update(request, user_id: Id, payload: AgentIn):
    changes = payload.changes()
    if "home_latitude" in changes or "home_longitude" in changes:
        changes.setdefault("home_latitude", None)
        changes.setdefault("home_longitude", None)
    agents.agent_profile_save(**actor_scope(request), user_id=user_id, **changes)
    return _agent(request, user_id)


@router.post(
    "/service/agents/{user_id}/skills",
    response=documented(AgentOut),
    tags=QUEUE_TAGS,
    operation_id="service_agents_skill_set",
    summary="Give an agent a skill (category, product or case type) at a level 1–5",
)
def agents_skill_set(request, user_id: Id, payload: SkillIn):
    agents.agent_skill_set(**actor_scope(request), user_id=user_id, **payload.dict())
    return _agent(request, user_id)


@router.delete(
    "/service/agents/{user_id}/skills/{skill_id}",
    response=documented(None, status=204),
    tags=QUEUE_TAGS,
    operation_id="service_agents_skill_delete",
    summary="Take a skill away",
)
def agents_skill_delete(request, user_id: Id, skill_id: Id):
    agents.agent_skill_delete(**actor_scope(request), user_id=user_id, skill_id=skill_id)
    return Status(204, None)


def _status_out(profile, handed) -> dict:
    return {"status": profile.status, "handed_out": [_case_ref(c) for c in handed]}


@router.post(
    "/service/agents/{user_id}/availability",
    response=documented(StatusOut),
    tags=QUEUE_TAGS,
    operation_id="service_agents_set_availability",
    summary="Set an agent's availability (a supervisor's right); available hands out waiting cases",
)
def agents_set_availability(request, user_id: Id, payload: StatusIn):
    profile, handed = agents.agent_set_status(
        **actor_scope(request), user_id=user_id, status=payload.status
    )
    return _status_out(profile, handed)


@router.get(
    "/service/availability",
    response=documented(StatusOut),
    tags=QUEUE_TAGS,
    operation_id="service_availability_get",
    summary="Your own availability",
)
def availability_get(request):
    profile = selectors.agent_profile_of(workspace=request.workspace, user=request.user)
    return {"status": profile.status if profile else AgentStatus.OFFLINE, "handed_out": []}


@router.post(
    "/service/availability",
    response=documented(StatusOut),
    tags=QUEUE_TAGS,
    operation_id="service_availability_set",
    summary="Set your own availability; becoming available hands you waiting cases",
)
def availability_set(request, payload: StatusIn):
    profile, handed = agents.agent_set_status(**actor_scope(request), status=payload.status)
    return _status_out(profile, handed)


# --- dispatch ----------------------------------------------------------------------------------


@router.get(
    "/service/cases/{case_id}/dispatch-suggestions",
    response=documented(list[SuggestionOut]),
    tags=DISPATCH_TAGS,
    operation_id="service_dispatch_suggest",
    summary="Technicians for a case on a day, best first, with the reason",
)
def dispatch_suggest(request, case_id: Id, params: Query[SuggestParams]):
    rows = dispatch.dispatch_suggest(**actor_scope(request), case_id=case_id, day=params.day)
    return [
        {
            "technician": _user(s.technician),
            "score": s.score,
            "skill": s.skill,
            "distance_km": s.distance_km,
            "distance_from": s.distance_from,
            "region_match": s.region_match,
            "visits": s.visits,
            "max_visits": s.capacity,
            "fully_booked": s.full,
            "reason": s.reason,
        }
        for s in rows
    ]


@router.get(
    "/service/dispatches",
    response=documented(page_of(DispatchOut)),
    tags=DISPATCH_TAGS,
    operation_id="service_dispatches_list",
    summary="The dispatches you may see (technicians: their own), newest first",
)
def dispatches_list(request, filters: Query[DispatchFilters], page: Query[PageParams]):
    permissions.require(request.user, DISPATCH, Action.READ)
    qs = selectors.dispatches_visible(**actor_scope(request))
    if filters.case_id:
        qs = qs.filter(case_id=filters.case_id)
    if filters.technician_id:
        qs = qs.filter(technician_id=filters.technician_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page_response(qs, page, dispatch_out, key="pk", descending=True)


@router.post(
    "/service/dispatches",
    response=documented(DispatchOut, status=201),
    tags=DISPATCH_TAGS,
    operation_id="service_dispatches_create",
    summary="Send a technician: the visit goes on their day and route, the customer is told",
)
def dispatches_create(request, payload: DispatchIn):
    item = dispatch.dispatch_create(**actor_scope(request), **payload.dict())
    return Status(201, _dispatch(request, item.pk))


def _dispatch(request, dispatch_id: int) -> dict:
    return dispatch_out(selectors.dispatch_get(**actor_scope(request), dispatch_id=dispatch_id))


@router.get(
    "/service/dispatches/{dispatch_id}",
    response=documented(DispatchOut),
    tags=DISPATCH_TAGS,
    operation_id="service_dispatches_get",
    summary="Get a dispatch",
)
def dispatches_get(request, dispatch_id: Id):
    permissions.require(request.user, DISPATCH, Action.READ)
    return _dispatch(request, dispatch_id)


@router.post(
    "/service/dispatches/{dispatch_id}/complete",
    response=documented(DispatchOut),
    tags=DISPATCH_TAGS,
    operation_id="service_dispatches_complete",
    summary="The work report: the visit is done and its task completed (409 unless scheduled)",
)
def dispatches_complete(request, dispatch_id: Id, payload: ReportIn):
    dispatch.dispatch_complete(
        **actor_scope(request), dispatch_id=dispatch_id, report=payload.report
    )
    return _dispatch(request, dispatch_id)


@router.post(
    "/service/dispatches/{dispatch_id}/cancel",
    response=documented(DispatchOut),
    tags=DISPATCH_TAGS,
    operation_id="service_dispatches_cancel",
    summary="Call a visit off (409 once done)",
)
def dispatches_cancel(request, dispatch_id: Id, payload: CancelIn):
    dispatch.dispatch_cancel(**actor_scope(request), dispatch_id=dispatch_id, reason=payload.reason)
    return _dispatch(request, dispatch_id)
