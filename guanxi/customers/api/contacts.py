"""``/contacts``: people — at one or more accounts with a role and level, or individual
customers — with their addresses, phones, e-mails, tags, interests and stages."""

from __future__ import annotations

from ninja import Router, Status

from guanxi.common.api import Id, responses

from ..schemas import ContactCreateIn, ContactFilters, ContactOut, ContactUpdateIn, MembershipIn
from ..services import records
from . import _endpoints
from . import _records as R

router = Router()
TAGS = ["Contacts"]

_endpoints.register(
    router,
    object_key=R.CONTACT,
    path="/contacts",
    tag="Contacts",
    prefix="contacts",
    out=ContactOut,
    create_in=ContactCreateIn,
    update_in=ContactUpdateIn,
    filters=ContactFilters,
    label="contact",
)


@router.put(
    "/contacts/{record_id}/memberships",
    response=responses(ContactOut),
    tags=TAGS,
    operation_id="contacts_membership_set",
    summary="Place a contact at an account with a role and level (primary: sets the account)",
    exclude_unset=True,
)
def membership_set(request, record_id: Id, payload: MembershipIn):
    R.get_one(request, R.CONTACT, record_id)
    records.membership_set(**R.ws(request), contact_id=record_id, **payload.dict())
    return R.record_out(request, R.CONTACT, record_id)


@router.delete(
    "/contacts/{record_id}/memberships/{account_id}",
    response=responses(None, status=204),
    tags=TAGS,
    operation_id="contacts_membership_remove",
    summary="Take a contact off an account",
)
def membership_remove(request, record_id: Id, account_id: Id):
    R.get_one(request, R.CONTACT, record_id)
    records.membership_remove(**R.ws(request), contact_id=record_id, account_id=account_id)
    return Status(204, None)
