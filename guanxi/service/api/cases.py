"""``/service/cases`` (the agent queue's list, get, create, change, status, reply, assign,
messages, history) and ``/service/case-types``, ``/service/case-categories``. The same
services and selectors as the pages: another workspace's ids are 404, missing rights 403,
a stale ``lock_version`` or a move the status flow does not allow 409, bad input 400/422."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, PatchSchema, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.errors import NotFound
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import (
    Case,
    CaseCategory,
    CaseChannel,
    CaseEventKind,
    CaseStatus,
    CaseTypeKind,
    MessageKind,
)
from ..objects import CASE
from ..selectors import cases as selectors
from ..services import case_types
from ..services import cases as services

router = Router(tags=["service"])
TAGS = ["Service: cases"]
CONFIG_TAGS = ["Service: case types and categories"]

StatusName = Literal[tuple(CaseStatus.values)]  # type: ignore[valid-type]
ChannelName = Literal[tuple(CaseChannel.values)]  # type: ignore[valid-type]
KindName = Literal[tuple(CaseTypeKind.values)]  # type: ignore[valid-type]
MessageKindName = Literal[tuple(MessageKind.values)]  # type: ignore[valid-type]
EventKindName = Literal[tuple(CaseEventKind.values)]  # type: ignore[valid-type]


# --- schemas ---------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    full_name: str


class CaseOut(Schema):
    id: int
    number: str = Field(..., description='"CS-2026-000123"')
    case_type: Ref
    kind: KindName
    category: Ref | None
    subject: str
    description: str
    priority: int = Field(..., description="1 urgent, 2 high, 3 normal, 4 low.")
    status: StatusName
    channel: ChannelName
    language: str
    account: Ref | None
    contact: Ref | None
    product: Ref | None
    order: Ref | None = Field(..., description="name: the order number.")
    reply_email: str
    reply_phone: str = Field(..., description="E.164")
    queue: Ref | None
    assignee: UserRef | None
    sla_state: Literal["overdue", "due_soon", ""]
    response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    sla_paused_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened: int
    resolution: str
    escalation_level: int
    lock_version: int = Field(..., description="Send it back with changes (409 when stale).")
    created_at: dt.datetime
    updated_at: dt.datetime


class CaseFilters(Schema):
    status: StatusName | Literal["open", "all"] = Field(
        "open", description='"open": new, open and waiting (the default); "all": newest first.'
    )
    assignee: bounded_text(20) | None = Field(
        None, description='"me", "unassigned", or a user id; omit for anyone.'
    )
    queue: bounded_text(20) | None = Field(None, description='A queue id, or "none".')
    priority: int | None = Field(None, ge=1, le=4)
    case_type_id: Id | None = None
    category_id: Id | None = Field(None, description="The category or its sub-categories.")
    sla: Literal["overdue", "due_soon"] | None = None
    q: bounded_text(200) | None = Field(
        None, description="A case number (finds it whatever the status), or subject/customer."
    )
    account_id: Id | None = Field(None, description="One customer's cases (newest first).")
    contact_id: Id | None = Field(None, description="One person's cases (newest first).")


class CaseIn(Schema):
    case_type_id: Id = Field(..., description="An active case type of the workspace.")
    subject: bounded_text(200)
    description: bounded_text(20_000) = Field("", description="The customer's first message.")
    priority: int = Field(3, ge=1, le=4)
    category_id: Id | None = None
    product_id: Id | None = None
    order_id: Id | None = None
    account_id: Id | None = None
    contact_id: Id | None = Field(None, description="Must be one of the account's people.")
    reply_email: bounded_text(254) = ""
    reply_phone: bounded_text(40) = ""
    language: bounded_text(10) = ""
    channel: ChannelName = "api"
    assignee_id: Id | None = Field(None, description="Omit: the queues decide.")
    queue_id: Id | None = None
    acknowledge: bool = Field(True, description="Send the customer the case number.")


class CasePatch(PatchSchema):
    lock_version: int = Field(..., ge=0, description="The case's lock_version you read.")
    case_type_id: Id | None = None
    subject: bounded_text(200) | None = None
    description: bounded_text(20_000) | None = None
    priority: int | None = Field(None, ge=1, le=4)
    category_id: Id | None = None
    product_id: Id | None = None
    order_id: Id | None = None
    account_id: Id | None = None
    contact_id: Id | None = None
    language: bounded_text(10) | None = None
    reply_email: bounded_text(254) | None = None
    reply_phone: bounded_text(40) | None = None


class StatusIn(Schema):
    status: StatusName
    resolution: bounded_text(10_000) = Field("", description="Required to resolve.")
    lock_version: int | None = Field(None, ge=0)


class ReplyIn(Schema):
    body: bounded_text(20_000)
    internal: bool = Field(False, description="An internal note: never sent to the customer.")
    lock_version: int | None = Field(None, ge=0)


class AssignIn(Schema):
    assignee_id: Id | None = Field(None, description="null: nobody.")
    queue_id: Id | None = Field(None, description="null: no queue.")
    lock_version: int | None = Field(None, ge=0)


class MessageOut(Schema):
    id: int
    kind: MessageKindName
    channel: ChannelName
    body: str
    author: UserRef | None
    contact: Ref | None
    created_at: dt.datetime


class EventOut(Schema):
    id: int
    kind: EventKindName
    from_value: str
    to_value: str
    note: str
    actor: UserRef | None
    created_at: dt.datetime


class CaseTypeOut(Schema):
    id: int
    name: str
    kind: KindName
    position: int
    active: bool


class CaseTypeIn(Schema):
    name: bounded_text(80)
    kind: KindName
    position: int = Field(0, ge=0, le=32767)
    active: bool = True


class CaseTypePatch(PatchSchema):
    name: bounded_text(80) | None = None
    kind: KindName | None = None
    position: int | None = Field(None, ge=0, le=32767)
    active: bool | None = None


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    queue: Ref | None
    active: bool


class CategoryIn(Schema):
    name: bounded_text(80)
    parent_id: Id | None = Field(None, description="A top-level category (two levels).")
    queue_id: Id | None = Field(None, description="Its cases go to this queue.")
    active: bool = True


class CategoryPatch(PatchSchema):
    name: bounded_text(80) | None = None
    parent_id: Id | None = None
    queue_id: Id | None = None
    active: bool | None = None


# --- serializers -----------------------------------------------------------------------------


def _ref(row, label: str = "name") -> dict | None:
    return {"id": row.pk, "name": getattr(row, label)} if row is not None else None


def _user(row) -> dict | None:
    return {"id": row.pk, "full_name": row.full_name} if row is not None else None


def case_out(case: Case, now: dt.datetime | None = None) -> dict:
    from django.utils import timezone

    return {
        **{
            name: getattr(case, name)
            for name in (
                "number",
                "kind",
                "subject",
                "description",
                "priority",
                "status",
                "channel",
                "language",
                "reply_email",
                "reply_phone",
                "response_due_at",
                "resolution_due_at",
                "first_response_at",
                "sla_paused_at",
                "resolved_at",
                "closed_at",
                "reopened",
                "resolution",
                "escalation_level",
                "lock_version",
                "created_at",
                "updated_at",
            )
        },
        "id": case.pk,
        "case_type": _ref(case.case_type),
        "category": _ref(case.category) if case.category_id else None,
        "account": _ref(case.account) if case.account_id else None,
        "contact": _ref(case.contact) if case.contact_id else None,
        "product": _ref(case.product) if case.product_id else None,
        "order": _ref(case.order, "number") if case.order_id else None,
        "queue": _ref(case.queue) if case.queue_id else None,
        "assignee": _user(case.assignee) if case.assignee_id else None,
        "sla_state": selectors.sla_state(case, now or timezone.now()),
    }


def _one(request, case_id) -> dict:
    return case_out(selectors.case_get(**actor_scope(request), case_id=case_id))


def _read(request) -> None:
    permissions.require(request.user, CASE, Action.READ)


def _changes(payload: dict) -> dict:
    """API names (``*_id``) to the services' (``category``, ``product``…)."""
    return {(k[:-3] if k.endswith("_id") else k): v for k, v in payload.items()}


# --- cases -----------------------------------------------------------------------------------


@router.get(
    "/service/cases",
    response=documented(page_of(CaseOut)),
    tags=TAGS,
    operation_id="service_cases_list",
    summary="The agent queue: cases by priority, then resolution due time (or one customer's)",
)
def cases_list(request, filters: Query[CaseFilters], page: Query[PageParams]):
    _read(request)
    scope = actor_scope(request)
    f = filters
    if f.account_id or f.contact_id:
        qs = selectors.cases_visible(**scope).select_related(
            "case_type", "category", "account", "contact", "product", "order", "queue", "assignee"
        )
        qs = qs.filter(account_id=f.account_id) if f.account_id else qs
        qs = qs.filter(contact_id=f.contact_id) if f.contact_id else qs
        if f.status == "open":
            qs = qs.filter(status__in=selectors.OPEN_STATUSES)
        elif f.status != "all":
            qs = qs.filter(status=f.status)
        return page_response(qs, page, case_out, key="pk", descending=True)
    result = selectors.queue_page(
        **scope,
        filters=selectors.QueueFilters(
            status=f.status,
            assignee=f.assignee or "",
            queue=f.queue or "",
            priority=str(f.priority or ""),
            case_type=str(f.case_type_id or ""),
            category=str(f.category_id or ""),
            sla=f.sla or "",
            q=f.q or "",
        ),
        cursor=page.cursor,
        limit=page.limit,
    )
    # Product and order are not in the queue's join: one query for the page's few.
    _attach(result.items)
    return {"items": [case_out(c) for c in result.items], "next_cursor": result.next_cursor}


def _attach(rows: list[Case]) -> None:
    from guanxi.sales.models import Order, Product

    if not rows:
        return
    workspace_id = rows[0].workspace_id
    for field, model in (("product", Product), ("order", Order)):
        ids = {getattr(c, f"{field}_id") for c in rows} - {None}
        found = model.objects.in_workspace(workspace_id).in_bulk(ids) if ids else {}
        for c in rows:
            setattr(c, field, found.get(getattr(c, f"{field}_id")))


@router.post(
    "/service/cases",
    response=documented(CaseOut, status=201),
    tags=TAGS,
    operation_id="service_cases_create",
    summary="Open a case (numbered, SLA-timed, routed, acknowledged to the customer)",
)
def cases_create(request, payload: CaseIn):
    data = payload.dict()
    values = {
        "case_type": data["case_type_id"],
        "subject": data["subject"],
        "description": data["description"],
        "priority": data["priority"],
        "category": data["category_id"],
        "product": data["product_id"],
        "order": data["order_id"],
        "assignee": data["assignee_id"],
        "queue": data["queue_id"],
    }
    case = services.case_create(
        **actor_scope(request),
        values=values,
        channel=data["channel"],
        account=data["account_id"],
        contact=data["contact_id"],
        reply_email=data["reply_email"],
        reply_phone=data["reply_phone"],
        language=data["language"],
        acknowledge=data["acknowledge"],
    )
    return Status(201, _one(request, case.pk))


@router.get(
    "/service/cases/{case_id}",
    response=documented(CaseOut),
    tags=TAGS,
    operation_id="service_cases_get",
    summary="Get a case",
)
def cases_get(request, case_id: Id):
    _read(request)
    return _one(request, case_id)


@router.patch(
    "/service/cases/{case_id}",
    response=documented(CaseOut),
    tags=TAGS,
    operation_id="service_cases_update",
    summary="Change a case's fields (only those sent; 409 when lock_version is stale)",
)
def cases_update(request, case_id: Id, payload: CasePatch):
    changes = payload.changes()
    lock_version = changes.pop("lock_version")
    services.case_update(
        **actor_scope(request),
        case_id=case_id,
        changes=_changes(changes),
        lock_version=lock_version,
    )
    return _one(request, case_id)


@router.post(
    "/service/cases/{case_id}/status",
    response=documented(CaseOut),
    tags=TAGS,
    operation_id="service_cases_status",
    summary="Move a case along its status flow (409 for a move the flow does not allow)",
)
def cases_status(request, case_id: Id, payload: StatusIn):
    services.case_change_status(**actor_scope(request), case_id=case_id, **payload.dict())
    return _one(request, case_id)


@router.post(
    "/service/cases/{case_id}/reply",
    response=documented(MessageOut, status=201),
    tags=TAGS,
    operation_id="service_cases_reply",
    summary="Answer the customer (sent by the case's channel) or write an internal note",
)
def cases_reply(request, case_id: Id, payload: ReplyIn):
    message = services.case_reply(**actor_scope(request), case_id=case_id, **payload.dict())
    message.author = request.user
    return Status(201, message_out(message))


@router.post(
    "/service/cases/{case_id}/assign",
    response=documented(CaseOut),
    tags=TAGS,
    operation_id="service_cases_assign",
    summary="Give a case to an agent and/or a queue by hand",
)
def cases_assign(request, case_id: Id, payload: AssignIn):
    services.case_assign(**actor_scope(request), case_id=case_id, **payload.dict())
    return _one(request, case_id)


def message_out(message) -> dict:
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "body": message.body,
        "author": _user(message.author) if message.author_id else None,
        "contact": _ref(message.contact) if message.contact_id else None,
        "created_at": message.created_at,
    }


def event_out(event) -> dict:
    return {
        "id": event.pk,
        "kind": event.kind,
        "from_value": event.from_value,
        "to_value": event.to_value,
        "note": event.note,
        "actor": _user(event.actor) if event.actor_id else None,
        "created_at": event.created_at,
    }


@router.get(
    "/service/cases/{case_id}/messages",
    response=documented(page_of(MessageOut)),
    tags=TAGS,
    operation_id="service_cases_messages",
    summary="The case's conversation, oldest first (internal notes included)",
)
def cases_messages(request, case_id: Id, page: Query[PageParams]):
    _read(request)
    case = selectors.case_get(**actor_scope(request), case_id=case_id)
    qs = selectors.case_messages(workspace=request.workspace, case=case)
    return page_response(qs, page, message_out, key="pk")


@router.get(
    "/service/cases/{case_id}/events",
    response=documented(page_of(EventOut)),
    tags=TAGS,
    operation_id="service_cases_events",
    summary="The case's history (status, assignment, priority, SLA, escalations), oldest first",
)
def cases_events(request, case_id: Id, page: Query[PageParams]):
    _read(request)
    case = selectors.case_get(**actor_scope(request), case_id=case_id)
    qs = selectors.case_events(workspace=request.workspace, case=case)
    return page_response(qs, page, event_out, key="pk")


# --- types and categories --------------------------------------------------------------------


def type_out(row) -> dict:
    return {
        "id": row.pk,
        "name": row.name,
        "kind": row.kind,
        "position": row.position,
        "active": row.active,
    }


def category_out(row) -> dict:
    return {
        "id": row.pk,
        "name": row.name,
        "parent_id": row.parent_id,
        "queue": _ref(row.queue) if row.queue_id else None,
        "active": row.active,
    }


@router.get(
    "/service/case-types",
    response=documented(list[CaseTypeOut]),
    tags=CONFIG_TAGS,
    operation_id="service_case_types_list",
    summary="The case types (the five built-in ones and the workspace's own)",
)
def case_types_list(request):
    return [type_out(t) for t in case_types.case_type_list(**actor_scope(request))]


@router.post(
    "/service/case-types",
    response=documented(CaseTypeOut, status=201),
    tags=CONFIG_TAGS,
    operation_id="service_case_types_create",
    summary="Add a case type",
)
def case_types_create(request, payload: CaseTypeIn):
    row = case_types.case_type_create(**actor_scope(request), **payload.dict())
    return Status(201, type_out(row))


@router.patch(
    "/service/case-types/{type_id}",
    response=documented(CaseTypeOut),
    tags=CONFIG_TAGS,
    operation_id="service_case_types_update",
    summary="Rename, re-order, switch off or on a case type (its kind is fixed once used)",
)
def case_types_update(request, type_id: Id, payload: CaseTypePatch):
    row = case_types.case_type_update(**actor_scope(request), type_id=type_id, **payload.changes())
    return type_out(row)


@router.get(
    "/service/case-categories",
    response=documented(list[CategoryOut]),
    tags=CONFIG_TAGS,
    operation_id="service_case_categories_list",
    summary="The case categories, each top-level one followed by its sub-categories",
)
def case_categories_list(request):
    rows = case_types.case_category_list(**actor_scope(request))
    return [category_out(row) for row, _depth in case_types.categories_as_tree(rows)]


@router.post(
    "/service/case-categories",
    response=documented(CategoryOut, status=201),
    tags=CONFIG_TAGS,
    operation_id="service_case_categories_create",
    summary="Add a case category",
)
def case_categories_create(request, payload: CategoryIn):
    data = _changes(payload.dict())
    row = case_types.case_category_create(**actor_scope(request), **data)
    return Status(201, category_out(_category(request, row.pk)))


@router.patch(
    "/service/case-categories/{category_id}",
    response=documented(CategoryOut),
    tags=CONFIG_TAGS,
    operation_id="service_case_categories_update",
    summary="Rename, move, route or switch off a case category",
)
def case_categories_update(request, category_id: Id, payload: CategoryPatch):
    row = case_types.case_category_update(
        **actor_scope(request), category_id=category_id, **_changes(payload.changes())
    )
    return category_out(_category(request, row.pk))


def _category(request, pk: int) -> CaseCategory:
    row = (
        CaseCategory.objects.in_workspace(request.workspace)
        .select_related("queue")
        .filter(pk=pk)
        .first()
    )
    if row is None:
        raise NotFound()
    return row
