"""``/contacts/{id}/consent``, ``…/personal-data`` and ``…/erase``: consent and
its history, the per-person export and erasure (PIPL/GDPR)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from guanxi.common.api import (
    DateTime,
    Id,
    PageParams,
    page_of,
    page_response,
    responses,
    text,
)
from guanxi.common.errors import PermissionDenied
from guanxi.platform import permissions

from .. import selectors
from ..models import ConsentMethod, ConsentPurpose, ConsentStatus
from ..services import consent, privacy

router = Router()
TAGS = ["Consent and personal data"]

ChannelIn = Literal[tuple(c.value for c in consent.CONSENT_CHANNELS)]  # type: ignore[valid-type]
PurposeIn = Literal[tuple(ConsentPurpose.values)]  # type: ignore[valid-type]
StatusIn = Literal[tuple(ConsentStatus.values)]  # type: ignore[valid-type]
MethodIn = Literal[tuple(ConsentMethod.values)]  # type: ignore[valid-type]


def _ws(request) -> dict:
    return {"actor": request.user, "workspace": request.workspace}


class UserRef(Schema):
    id: int
    full_name: str


class ConsentOut(Schema):
    channel: str
    purpose: str
    status: str
    method: str
    notice_version: str
    recorded_by: UserRef | None
    effective_at: dt.datetime


class ConsentEventOut(ConsentOut):
    id: int
    note: str
    recorded_at: dt.datetime


class ConsentStateOut(Schema):
    contact_id: int
    items: list[ConsentOut] = Field(..., description="The current answer per channel and purpose.")


class ConsentIn(Schema):
    channel: ChannelIn
    purpose: PurposeIn
    status: StatusIn
    method: MethodIn
    notice_version: text(40) = ""
    note: text(300) = ""
    effective_at: DateTime | None = Field(None, description="When it was given; default now.")


class EraseIn(Schema):
    reason: text(200, min_length=1)


class ErasedOut(Schema):
    id: int
    code: str
    name: str
    erased_at: dt.datetime


def _readable_contact(request, contact_id):
    """The contact, if visible, and its consent, unless the role hides that field."""
    contact = selectors.contact_get(**_ws(request), contact_id=contact_id)
    if "consent" in permissions.hidden_fields(request.user, "customers.contact"):
        raise PermissionDenied(_("Your role may not see consent."), code="field_hidden")
    return contact


def _user(user) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _consent_out(c) -> dict:
    return {
        "channel": c.channel,
        "purpose": c.purpose,
        "status": c.status,
        "method": c.method,
        "notice_version": c.notice_version,
        "recorded_by": _user(c.recorded_by),
        "effective_at": c.effective_at,
    }


@router.get(
    "/contacts/{contact_id}/consent",
    response=responses(ConsentStateOut),
    tags=TAGS,
    operation_id="customers_contact_consent_get",
    summary="A contact's current consent per channel and purpose",
)
def consent_get(request, contact_id: Id):
    contact = _readable_contact(request, contact_id)
    state = consent.consent_state(contact)
    items = [_consent_out(c) for _k, c in sorted(state.items())]
    return {"contact_id": contact.pk, "items": items}


@router.get(
    "/contacts/{contact_id}/consent/history",
    response=responses(page_of(ConsentEventOut)),
    tags=TAGS,
    operation_id="customers_contact_consent_history",
    summary="A contact's consent history, newest first",
)
def consent_history(request, contact_id: Id, page: Query[PageParams]):
    contact = _readable_contact(request, contact_id)
    qs = consent.consent_history(workspace=request.workspace, contact=contact)
    return page_response(
        qs,
        page,
        lambda e: {**_consent_out(e), "id": e.pk, "note": e.note, "recorded_at": e.created_at},
        descending=True,
    )


@router.post(
    "/contacts/{contact_id}/consent",
    response=responses(ConsentOut),
    tags=TAGS,
    operation_id="customers_contact_consent_record",
    summary="Record a grant or withdrawal of consent",
    description="Appends to the history; an answer older than the current one does not "
    "replace it. 409 `contact_erased` for a grant to an erased person.",
)
def consent_record(request, contact_id: Id, payload: ConsentIn):
    current = consent.consent_record(**_ws(request), contact_id=contact_id, **payload.dict())
    return _consent_out(current)


@router.get(
    "/contacts/{contact_id}/personal-data",
    response=responses(dict[str, Any]),
    tags=TAGS,
    operation_id="customers_contact_personal_data",
    summary="Everything held about one person (needs the export right)",
)
def personal_data(request, contact_id: Id):
    return privacy.contact_personal_data(**_ws(request), contact_id=contact_id)


@router.post(
    "/contacts/{contact_id}/erase",
    response=responses(ErasedOut),
    tags=TAGS,
    operation_id="customers_contact_erase",
    summary="Erase a person's personal data (needs the delete right)",
    description="Anonymises the personal fields and keeps the business facts. "
    "409 `contact_erased` when already erased.",
)
def erase(request, contact_id: Id, payload: EraseIn):
    contact = privacy.contact_erase(**_ws(request), contact_id=contact_id, reason=payload.reason)
    return {
        "id": contact.pk,
        "code": contact.code,
        "name": contact.name,
        "erased_at": contact.erased_at,
    }
