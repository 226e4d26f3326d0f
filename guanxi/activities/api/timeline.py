"""``/timeline`` and ``/commitments``: a customer's timeline (read, log an activity) and
the promises made to customers. The same services and selectors as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import (
    DateTime,
    Id,
    JsonObject,
    PageParams,
    PatchSchema,
    page_of,
    page_response,
    responses,
)
from guanxi.common.api import (
    text as bounded_text,
)
from guanxi.common.errors import ApplicationError
from guanxi.common.views import actor_scope
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions

from .. import timeline_display
from ..models import CommitmentStatus
from ..objects import COMMITMENT
from ..selectors import commitments as commitment_selectors
from ..selectors import timeline as timeline_selectors
from ..services import commitments as commitment_services
from ..services import timeline as timeline_services

router = Router()
TAGS = ["Timeline"]
COMMITMENT_TAGS = ["Commitments"]

EntryKindName = Literal[
    "call", "email", "sms", "meeting", "visit", "note", "commitment", "task", "system"
]


class UserRef(Schema):
    id: int
    full_name: str


class ContactRef(Schema):
    id: int
    code: str
    name: str


class EntryOut(Schema):
    id: int
    kind: str
    subtype: str
    direction: str
    channel: str
    occurred_at: dt.datetime
    duration_seconds: int | None
    outcome: str
    subject: str
    body: str
    summary: str = Field(..., description="The entry's first line in the request's language.")
    account_id: int | None
    contacts: list[ContactRef] = Field(..., description="The contacts the caller can see.")
    author: UserRef | None
    is_private: bool
    related_object_key: str
    related_object_id: int | None
    data: JsonObject


class TimelineFilters(Schema):
    account_id: Id | None = Field(None, description="An account's timeline …")
    contact_id: Id | None = Field(None, description="… or a contact's (one of the two).")
    kind: list[EntryKindName] = Field(default_factory=list, description="Only these types.")
    author_id: Id | None = Field(None, description="Only entries by this user.")
    since: DateTime | None = Field(None, description="At or after this time.")
    until: DateTime | None = Field(None, description="At or before this time.")


class EntryIn(Schema):
    kind: Literal["call", "email", "sms", "meeting", "visit", "note"]
    occurred_at: DateTime = Field(..., description="Not in the future (5 minutes' slack).")
    account_id: Id | None = None
    contact_ids: list[Id] = Field(default_factory=list, max_length=50)
    subtype: bounded_text(40) = Field(
        "",
        description="Visits: company_visit, reference_visit, onsite_meeting, "
        "technical_exchange or management_research.",
    )
    direction: Literal["", "in", "out"] = Field("", description="Required for calls.")
    channel: bounded_text(20) = ""
    subject: bounded_text(200) = ""
    body: bounded_text(20000) = ""
    duration_seconds: int | None = Field(None, ge=0, le=86400)
    outcome: bounded_text(40) = Field(
        "", description="Calls: connected, no_answer, busy, voicemail or wrong_number."
    )
    is_private: bool = False
    related_object_key: bounded_text(60) = ""
    related_object_id: Id | None = None
    commitment_text: bounded_text(2000) = Field("", description="A promise made in this activity.")
    commitment_due: dt.date | None = None


def entry_out(entry) -> dict:
    author = entry.author
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "subtype": entry.subtype,
        "direction": entry.direction,
        "channel": entry.channel,
        "occurred_at": entry.occurred_at,
        "duration_seconds": entry.duration_seconds,
        "outcome": entry.outcome,
        "subject": entry.subject,
        "body": entry.body,
        "summary": timeline_display.headline(entry),
        "account_id": entry.account_id,
        "contacts": [
            {"id": c.pk, "code": c.code, "name": c.name} for c in getattr(entry, "contact_list", [])
        ],
        "author": {"id": author.pk, "full_name": author.full_name} if author else None,
        "is_private": entry.is_private,
        "related_object_key": entry.related_object_key,
        "related_object_id": entry.related_object_id,
        "data": entry.data if isinstance(entry.data, dict) else {},
    }


@router.get(
    "/timeline",
    response=responses(page_of(EntryOut)),
    tags=TAGS,
    operation_id="activities_timeline_list",
    summary="A customer's timeline, newest first (cursor pages)",
    description="Give `account_id` or `contact_id`. Private entries are listed only when "
    "the caller's visibility over timeline entries covers their author.",
)
def timeline_list(request, filters: Query[TimelineFilters], page: Query[PageParams]):
    if bool(filters.account_id) == bool(filters.contact_id):
        message = _("Give either account_id or contact_id.")
        raise ApplicationError(message, code="customer_required", fields={"account_id": [message]})
    if filters.since and filters.until and filters.since > filters.until:
        message = _("The end of the period is before its start.")
        raise ApplicationError(message, fields={"until": [message]})
    wanted = timeline_selectors.TimelineFilters(
        kinds=tuple(filters.kind),
        author_id=filters.author_id,
        since=filters.since,
        until=filters.until,
    )
    common = {**actor_scope(request), "filters": wanted, "cursor": page.cursor, "limit": page.limit}
    if filters.account_id:
        account = customer_selectors.account_get(
            **actor_scope(request), account_id=filters.account_id
        )
        result = timeline_selectors.account_timeline(account=account, **common)
    else:
        contact = customer_selectors.contact_get(
            **actor_scope(request), contact_id=filters.contact_id
        )
        result = timeline_selectors.contact_timeline(contact=contact, **common)
    return {"items": [entry_out(e) for e in result.entries], "next_cursor": result.next_cursor}


@router.post(
    "/timeline",
    response=responses(EntryOut, status=201),
    tags=TAGS,
    operation_id="activities_timeline_log",
    summary="Log a call, e-mail, SMS, meeting, visit or note",
    description="400 with `fields` for bad input (a time in the future, a visit without "
    "its means, a call without a direction…); 404 for a customer the caller cannot see.",
)
def timeline_log(request, payload: EntryIn):
    entry = timeline_services.entry_log(**actor_scope(request), **payload.model_dump())
    entry = timeline_selectors.entry_get(**actor_scope(request), entry_id=entry.pk)
    return Status(201, entry_out(entry))


@router.get(
    "/timeline/{entry_id}",
    response=responses(EntryOut),
    tags=TAGS,
    operation_id="activities_timeline_get",
    summary="One timeline entry",
)
def timeline_get(request, entry_id: Id):
    return entry_out(timeline_selectors.entry_get(**actor_scope(request), entry_id=entry_id))


# --- commitments ------------------------------------------------------------------------------


class CommitmentOut(Schema):
    id: int
    text: str
    due_date: dt.date | None
    is_overdue: bool
    status: Literal["open", "kept", "broken", "cancelled"]
    closed_at: dt.datetime | None
    resolution: str
    account_id: int | None
    contact_id: int | None
    promised_by: UserRef
    created_by_id: int | None
    source_entry_id: int | None
    created_at: dt.datetime


class CommitmentFilters(Schema):
    account_id: Id | None = None
    contact_id: Id | None = None
    status: Literal["open", "kept", "broken", "cancelled"] | None = None
    promised_by: Id | None = Field(None, description="The user who promised.")


class CommitmentIn(Schema):
    text: bounded_text(2000)
    due_date: dt.date | None = Field(None, description="Not in the past.")
    account_id: Id | None = None
    contact_id: Id | None = None
    promised_by_id: Id | None = Field(None, description="Another user (managers only).")
    source_entry_id: Id | None = Field(None, description="The activity it was made in.")


class CommitmentPatch(PatchSchema):
    text: bounded_text(2000) = None
    due_date: dt.date | None = None
    account_id: Id | None = None
    contact_id: Id | None = None
    promised_by_id: Id = None


class CommitmentCloseIn(Schema):
    status: Literal["kept", "broken", "cancelled"]
    resolution: bounded_text(500) = ""


def commitment_out(commitment) -> dict:
    promiser = commitment.promised_by
    return {
        "id": commitment.pk,
        "text": commitment.text,
        "due_date": commitment.due_date,
        "is_overdue": commitment.status == CommitmentStatus.OPEN
        and commitment.due_date is not None
        and commitment.due_date < timezone.localdate(),
        "status": commitment.status,
        "closed_at": commitment.closed_at,
        "resolution": commitment.resolution,
        "account_id": commitment.account_id,
        "contact_id": commitment.contact_id,
        "promised_by": {"id": promiser.pk, "full_name": promiser.full_name},
        "created_by_id": commitment.created_by_id,
        "source_entry_id": commitment.source_entry_id,
        "created_at": commitment.created_at,
    }


def _commitment(request, commitment_id) -> dict:
    return commitment_out(
        commitment_selectors.commitment_get(**actor_scope(request), commitment_id=commitment_id)
    )


@router.get(
    "/commitments",
    response=responses(page_of(CommitmentOut)),
    tags=COMMITMENT_TAGS,
    operation_id="activities_commitments_list",
    summary="Commitments (what we promised), newest first",
)
def commitments_list(request, filters: Query[CommitmentFilters], page: Query[PageParams]):
    permissions.require(request.user, COMMITMENT, "read")
    qs = commitment_selectors.commitment_list(**actor_scope(request))
    if filters.account_id:
        qs = qs.filter(account_id=filters.account_id)
    if filters.contact_id:
        qs = qs.filter(contact_id=filters.contact_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.promised_by:
        qs = qs.filter(promised_by_id=filters.promised_by)
    return page_response(qs, page, commitment_out, key="pk", descending=True)


@router.post(
    "/commitments",
    response=responses(CommitmentOut, status=201),
    tags=COMMITMENT_TAGS,
    operation_id="activities_commitments_create",
    summary="Record a promise made to a contact or an account",
    description="403 `assign_denied` when a non-manager names someone else as the promiser.",
)
def commitments_create(request, payload: CommitmentIn):
    commitment = commitment_services.commitment_create(
        **actor_scope(request), **payload.model_dump()
    )
    return Status(201, _commitment(request, commitment.pk))


@router.get(
    "/commitments/{commitment_id}",
    response=responses(CommitmentOut),
    tags=COMMITMENT_TAGS,
    operation_id="activities_commitments_get",
    summary="One commitment",
)
def commitments_get(request, commitment_id: Id):
    return _commitment(request, commitment_id)


@router.patch(
    "/commitments/{commitment_id}",
    response=responses(CommitmentOut),
    tags=COMMITMENT_TAGS,
    operation_id="activities_commitments_update",
    summary="Change an open commitment (only the fields sent)",
    description="409 `commitment_closed` once it is kept, broken or cancelled.",
)
def commitments_update(request, commitment_id: Id, payload: CommitmentPatch):
    commitment_services.commitment_update(
        **actor_scope(request), commitment_id=commitment_id, **payload.changes()
    )
    return _commitment(request, commitment_id)


@router.post(
    "/commitments/{commitment_id}/close",
    response=responses(CommitmentOut),
    tags=COMMITMENT_TAGS,
    operation_id="activities_commitments_close",
    summary="Mark a commitment kept, broken or cancelled",
    description="Puts the outcome on the customer's timeline. 409 `commitment_closed` when "
    "it is closed already.",
)
def commitments_close(request, commitment_id: Id, payload: CommitmentCloseIn):
    commitment_services.commitment_close(
        **actor_scope(request),
        commitment_id=commitment_id,
        status=payload.status,
        resolution=payload.resolution,
    )
    return _commitment(request, commitment_id)
