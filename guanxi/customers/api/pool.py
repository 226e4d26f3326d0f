"""``/pool``: the customer pool (公海) — list, claim, release, assign, rules."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema

from guanxi.common.api import Id, PageParams, page_of, page_response, responses, text
from guanxi.platform.api.common import _admin_scope

from .. import pool_selectors
from ..services import pool

router = Router()
TAGS = ["Customer pool"]
ObjectKey = Literal["customers.account", "customers.contact"]


def _ws(request) -> dict:
    return {"actor": request.user, "workspace": request.workspace}


class UserRef(Schema):
    id: int
    full_name: str


class PoolCustomerOut(Schema):
    object_key: ObjectKey
    id: int
    code: str
    name: str
    city: str
    industry: str
    last_activity_at: dt.datetime | None


class PoolFilters(Schema):
    object_key: ObjectKey = Field(
        "customers.account",
        description="Accounts, or individual customers (contacts without an account).",
    )
    q: text(100) = Field("", description="Name, phone, e-mail, pinyin or initials.")


class PoolMoveIn(Schema):
    object_key: ObjectKey
    record_id: Id


class PoolReleaseIn(PoolMoveIn):
    reason: text(200) = ""


class PoolAssignIn(Schema):
    object_key: ObjectKey
    record_ids: list[Id] = Field(..., min_length=1, max_length=pool.MAX_ASSIGN)
    owner_id: Id | None = Field(None, description="The new owner; null gives them to the pool.")
    reason: text(200) = ""


class CustomerOwnerOut(Schema):
    object_key: ObjectKey
    id: int
    code: str
    name: str
    owner: UserRef | None
    owned_since: dt.datetime | None


class PoolAssignOut(Schema):
    items: list[CustomerOwnerOut]


class PoolSettingsIn(Schema):
    max_per_rep: int = Field(..., ge=0, le=pool.MAX_CAP, description="0 = no cap.")
    return_after_days: int = Field(..., ge=0, le=pool.MAX_DAYS, description="0 = never.")
    return_on_departure: bool
    reclaim_after_days: int = Field(..., ge=0, le=pool.MAX_DAYS)


class PoolSettingsOut(PoolSettingsIn):
    held_by_me: int = Field(..., description="Customers the caller holds (counted for the cap).")


def _owner_out(object_key: str, record) -> dict:
    owner = record.owner if record.owner_id else None
    return {
        "object_key": object_key,
        "id": record.pk,
        "code": record.code,
        "name": record.name,
        "owner": {"id": owner.pk, "full_name": owner.full_name} if owner else None,
        "owned_since": record.owned_since,
    }


@router.get(
    "/pool",
    response=responses(page_of(PoolCustomerOut)),
    tags=TAGS,
    operation_id="customers_pool_list",
    summary="List the customers in the pool (no owner)",
)
def pool_list(request, filters: Query[PoolFilters], page: Query[PageParams]):
    from guanxi.platform import permissions

    permissions.require(request.user, filters.object_key, "read")
    qs = pool_selectors.pool_customers(
        **_ws(request), object_key=filters.object_key, term=filters.q
    )
    return page_response(
        qs.only("pk", "code", "name", "city", "industry", "last_activity_at"),
        page,
        lambda r: {
            "object_key": filters.object_key,
            "id": r.pk,
            "code": r.code,
            "name": r.name,
            "city": r.city,
            "industry": r.industry,
            "last_activity_at": r.last_activity_at,
        },
        key="name",
    )


@router.post(
    "/pool/claim",
    response=responses(CustomerOwnerOut),
    tags=TAGS,
    operation_id="customers_pool_claim",
    summary="Claim a customer from the pool",
    description="409 `owned_by_other` names the owner; 409 `pool_cap_reached` the cap; "
    "409 `reclaim_too_soon` when the caller gave it back too recently.",
)
def pool_claim(request, payload: PoolMoveIn):
    record = pool.customer_claim(
        **_ws(request), object_key=payload.object_key, record_id=payload.record_id
    )
    return _owner_out(payload.object_key, record)


@router.post(
    "/pool/release",
    response=responses(CustomerOwnerOut),
    tags=TAGS,
    operation_id="customers_pool_release",
    summary="Give a customer back to the pool (its owner or a manager)",
)
def pool_release(request, payload: PoolReleaseIn):
    record = pool.customer_release(
        **_ws(request),
        object_key=payload.object_key,
        record_id=payload.record_id,
        reason=payload.reason,
    )
    return _owner_out(payload.object_key, record)


@router.post(
    "/pool/assign",
    response=responses(PoolAssignOut),
    tags=TAGS,
    operation_id="customers_pool_assign",
    summary="Assign customers to a rep, or to the pool (managers, or bulk rights)",
    description="All or nothing; the new owner's cap counts every customer moved.",
)
def pool_assign(request, payload: PoolAssignIn):
    records = pool.customer_assign(
        **_ws(request),
        object_key=payload.object_key,
        record_ids=payload.record_ids,
        owner_id=payload.owner_id,
        reason=payload.reason,
    )
    return {"items": [_owner_out(payload.object_key, r) for r in records]}


def _settings_out(request) -> dict:
    settings = pool.pool_settings_get(workspace=request.workspace)
    data = {name: getattr(settings, name) for name in pool.POOL_SETTING_FIELDS}
    data["held_by_me"] = pool.held_count(workspace=request.workspace, owner=request.user)
    return data


@router.get(
    "/pool/settings",
    response=responses(PoolSettingsOut),
    tags=TAGS,
    operation_id="customers_pool_settings_get",
    summary="The pool's rules, and how many customers the caller holds",
)
def pool_settings_get(request):
    return _settings_out(request)


@router.put(
    "/pool/settings",
    response=responses(PoolSettingsOut),
    tags=TAGS,
    operation_id="customers_pool_settings_update",
    summary="Change the pool's rules (administrators)",
)
def pool_settings_update(request, payload: PoolSettingsIn):
    _admin_scope(request)
    pool.pool_settings_update(**_ws(request), **payload.dict())
    return _settings_out(request)
