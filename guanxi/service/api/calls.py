"""``/service/calls`` (the call log, one call, click-to-call) and ``/service/calls/pops``
(my screen pops, for a client that shows them itself). The same services and selectors as
the pages: an agent sees their own calls unless their role's call visibility says more;
another workspace's ids are simply not there; missing rights are 403."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema

from guanxi.activities import localtime
from guanxi.common.api import Id, PageParams, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.views import actor_scope

from ..selectors import calls as selectors
from ..services import telephony as services

router = Router()
TAGS = ["Service calls"]

DirectionName = Literal["in", "out"]
KindName = Literal["ringing", "answered", "ended", "dialing"]


class Ref(Schema):
    id: int
    name: str


class CallOut(Schema):
    id: int = Field(..., description="The call's id in the log (its first event's).")
    call_id: str = Field(..., description="The provider's id of the call.")
    provider: str
    direction: DirectionName
    number: str = Field(..., description="The customer's side: the caller or the callee.")
    started_at: dt.datetime
    agent: Ref | None
    account: Ref | None
    contact: Ref | None
    duration_seconds: int | None
    outcome: str
    recording_url: str
    entry_id: int | None = Field(..., description="The call's timeline entry, once it ended.")


class EventOut(Schema):
    id: int
    event_id: str
    kind: KindName
    at: dt.datetime
    agent: Ref | None


class CallDetailOut(CallOut):
    events: list[EventOut]


class CallListParams(Schema):
    agent_id: Id | None = None
    direction: DirectionName | None = None
    outcome: bounded_text(40) | None = None
    start: dt.date | None = Field(None, description="First day (your time zone).")
    end: dt.date | None = Field(None, description="Last day (your time zone).")


class DialIn(Schema):
    phone: bounded_text(40) = Field(..., description="The number to call (CN by default).")


class DialOut(Schema):
    id: int
    call_id: str
    number: str


class PopOut(Schema):
    id: int
    call_id: str
    caller: str
    url: str = Field(
        ..., description="The page to open: the 360° page, the chooser, or the new-caller form."
    )
    account: Ref | None
    contact: Ref | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


def _ref(row, name: str = "name") -> dict | None:
    return {"id": row.pk, "name": getattr(row, name)} if row is not None else None


def call_out(c) -> dict:
    return {
        "id": c.pk,
        "call_id": c.call_id,
        "provider": c.provider,
        "direction": c.direction if c.direction in ("in", "out") else "in",
        "number": c.caller if c.direction == "in" else c.callee,
        "started_at": c.created_at,
        "agent": _ref(c.agent, "full_name") if c.agent_id else None,
        "account": _ref(c.account) if c.account_id else None,
        "contact": _ref(c.contact) if c.contact_id else None,
        "duration_seconds": c.duration_seconds,
        "outcome": c.outcome,
        "recording_url": c.recording_url,
        "entry_id": c.entry_id,
    }


def pop_out(p) -> dict:
    return {
        "id": p.pk,
        "call_id": p.call_id,
        "caller": p.caller,
        "url": p.url,
        "account": _ref(p.account) if p.account_id else None,
        "contact": _ref(p.contact) if p.contact_id else None,
        "created_at": p.created_at,
        "delivered_at": p.delivered_at,
    }


@router.get(
    "/service/calls",
    response=documented(page_of(CallOut)),
    tags=TAGS,
    operation_id="service_calls_list",
    summary="The call log, newest first: one row per call",
)
def calls_list(request, filters: Query[CallListParams], page: Query[PageParams]):
    start = end = None
    if filters.start:
        day = localtime.check_day(filters.start, field="start")
        start = localtime.day_bounds(request.user, day)[0]
    if filters.end:
        day = localtime.check_day(filters.end, field="end")
        end = localtime.day_bounds(request.user, day)[1]
    qs = selectors.call_log(
        **actor_scope(request),
        filters=selectors.CallFilters(
            agent_id=filters.agent_id,
            direction=filters.direction or "",
            outcome=filters.outcome or "",
            start=start,
            end=end,
        ),
    )
    return page_response(qs, page, call_out, descending=True)


@router.get(
    "/service/calls/pops",
    response=documented(list[PopOut]),
    tags=TAGS,
    operation_id="service_calls_pops",
    summary="My screen pops not shown yet (the last 90 seconds')",
)
def pops_list(request):
    return [pop_out(p) for p in services.pops_pending(**actor_scope(request))]


@router.post(
    "/service/calls/pops/{pop_id}/ack",
    response=documented(PopOut),
    tags=TAGS,
    operation_id="service_calls_pop_ack",
    summary="Mark one of my screen pops shown",
)
def pop_ack(request, pop_id: Id):
    return pop_out(services.pop_ack(**actor_scope(request), pop_id=pop_id))


@router.post(
    "/service/calls/dial",
    response=documented(DialOut),
    tags=TAGS,
    operation_id="service_calls_dial",
    summary="Click-to-call: ring my phone (extension) and connect it to a number",
)
def dial(request, payload: DialIn):
    """409 ``no_provider`` without a telephony provider, ``no_extension`` when you have no
    extension nor phone, ``not_placed`` when the provider refused or could not be reached."""
    row = services.call_dial(**actor_scope(request), phone=payload.phone)
    return {"id": row.pk, "call_id": row.call_id, "number": row.callee}


@router.get(
    "/service/calls/{call_pk}",
    response=documented(CallDetailOut),
    tags=TAGS,
    operation_id="service_calls_get",
    summary="One call with its events",
)
def call_get(request, call_pk: Id):
    head, events = selectors.call_get(**actor_scope(request), call_pk=call_pk)
    return {
        **call_out(head),
        "events": [
            {
                "id": e.pk,
                "event_id": e.event_id,
                "kind": e.kind,
                "at": e.created_at,
                "agent": _ref(e.agent, "full_name") if e.agent_id else None,
            }
            for e in events
        ],
    }
