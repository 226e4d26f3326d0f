"""``/pipelines``, ``/deals``, ``/lost-reasons`` and ``/competitors``: pipelines with their
stages, deals (list with filters and a cursor, one deal, create, change, move, win, lose,
reopen), and the lists a deal form picks from. The same services and selectors as the pages;
another workspace's ids are 404, missing rights 403, a stale ``version`` 409, a loss without
a reason 422."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, PatchSchema, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.errors import NotFound
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import Competitor, Deal, LostReason, Pipeline, Stage
from ..objects import CONFIGURATION, DEAL
from ..selectors import deals as selectors
from ..services import deals as services
from ..services import pipelines as pipeline_services

router = Router()
TAGS = ["Deals"]
SETUP_TAGS = ["Pipelines"]

StatusName = Literal["open", "won", "lost"]
KindName = Literal["open", "won", "lost"]
CategoryName = Literal["omitted", "pipeline", "best_case", "commit", "closed"]


# --- schemas ---------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class StageOut(Schema):
    id: int
    name: str
    order: int
    probability: int
    kind: KindName
    forecast_category: CategoryName


class PipelineOut(Schema):
    id: int
    name: str
    is_default: bool
    active: bool
    stages: list[StageOut]


class PipelineIn(Schema):
    name: bounded_text(120, min_length=1)


class StageIn(Schema):
    name: bounded_text(80, min_length=1)
    probability: int = Field(..., ge=0, le=100)
    kind: KindName = "open"
    forecast_category: CategoryName = "pipeline"


class StageOrderIn(Schema):
    stage_ids: list[Id] = Field(..., description="Every stage of the pipeline, once, in order.")


class DealOut(Schema):
    id: int
    name: str
    pipeline_id: int
    stage: Ref
    status: StatusName
    account: Ref | None
    contact: Ref | None
    amount: Decimal
    currency: str
    amount_base: Decimal
    probability: int
    forecast_category: CategoryName
    expected_close_date: dt.date | None
    next_step: str
    owner: Ref | None
    lost_reason: Ref | None
    lost_note: str
    source: str
    campaign: str
    stale: bool
    position: float
    version: int = Field(..., description="Send it back with a change: a stale one is 409.")
    stage_changed_at: dt.datetime
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DealIn(Schema):
    name: bounded_text(200, min_length=1)
    account_id: Id | None = None
    contact_id: Id | None = None
    pipeline_id: Id | None = Field(None, description="Default: the default pipeline.")
    stage_id: Id | None = Field(None, description="Default: the pipeline's first open stage.")
    amount: Decimal = Field(Decimal(0), ge=0, max_digits=18, decimal_places=2)
    currency: bounded_text(3) | None = Field(None, description="Default: the base currency.")
    expected_close_date: dt.date | None = None
    owner_id: Id | None = Field(None, description="Default: the caller (others: managers).")
    source: bounded_text(60) = ""
    campaign: bounded_text(120) = ""
    next_step: bounded_text(200) = ""
    competitor_ids: list[Id] = []


class DealPatch(PatchSchema):
    version: int = Field(..., description="The version you read.")
    name: bounded_text(200, min_length=1) | None = None
    account_id: Id | None = None
    contact_id: Id | None = None
    amount: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    currency: bounded_text(3) | None = None
    expected_close_date: dt.date | None = None
    probability: int | None = Field(None, ge=0, le=100)
    forecast_category: CategoryName | None = None
    next_step: bounded_text(200) | None = None
    next_step_date: dt.date | None = None
    source: bounded_text(60) | None = None
    campaign: bounded_text(120) | None = None


class MoveIn(Schema):
    stage_id: Id
    version: int
    after_id: Id | None = Field(None, description="The card above the drop (same column).")
    before_id: Id | None = Field(None, description="The card below the drop.")
    reason_id: Id | None = Field(None, description="Required when the stage is a lost stage.")
    note: bounded_text(5000) = ""


class VersionIn(Schema):
    version: int | None = None


class LoseIn(Schema):
    reason_id: Id | None = None
    note: bounded_text(5000) = ""
    version: int | None = None


class ReassignIn(Schema):
    owner_id: Id
    version: int | None = None


class DealFilters(Schema):
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    status: StatusName | None = None
    owner: bounded_text(20) | None = Field(None, description="`mine`, `team` or a user id.")
    account_id: Id | None = None
    contact_id: Id | None = None
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    stale: bool = False


class ReasonOut(Schema):
    id: int
    name: str
    active: bool


class ReasonIn(Schema):
    name: bounded_text(120, min_length=1)


class CompetitorOut(Schema):
    id: int
    name: str
    website: str


class CompetitorIn(Schema):
    name: bounded_text(120, min_length=1)
    website: bounded_text(200) = ""
    notes: bounded_text(5000) = ""


# --- serializers -------------------------------------------------------------------------------


def _ref(obj, name_attr="name"):
    return {"id": obj.pk, "name": getattr(obj, name_attr)} if obj is not None else None


def deal_out(deal: Deal, cutoff) -> dict:
    return {
        "id": deal.pk,
        "name": deal.name,
        "pipeline_id": deal.pipeline_id,
        "stage": _ref(deal.stage),
        "status": deal.status,
        "account": _ref(deal.account) if deal.account_id else None,
        "contact": _ref(deal.contact) if deal.contact_id else None,
        "amount": deal.amount,
        "currency": deal.currency,
        "amount_base": deal.amount_base,
        "probability": deal.probability,
        "forecast_category": deal.forecast_category,
        "expected_close_date": deal.expected_close_date,
        "next_step": deal.next_step,
        "owner": {"id": deal.owner_id, "name": deal.owner.full_name} if deal.owner_id else None,
        "lost_reason": _ref(deal.lost_reason) if deal.lost_reason_id else None,
        "lost_note": deal.lost_note,
        "source": deal.source,
        "campaign": deal.campaign,
        "stale": selectors.is_stale(deal, cutoff),
        "position": deal.position,
        "version": deal.version,
        "stage_changed_at": deal.stage_changed_at,
        "closed_at": deal.closed_at,
        "created_at": deal.created_at,
        "updated_at": deal.updated_at,
    }


def _one(request, deal_id: int) -> dict:
    scope = actor_scope(request)
    deal = selectors.deal_list(**scope).select_related("lost_reason").filter(pk=deal_id).first()
    if deal is None:
        raise NotFound()
    return deal_out(deal, selectors.stale_cutoff(request.workspace))


def _pipeline_out(pipeline: Pipeline, stages: list[Stage]) -> dict:
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "is_default": pipeline.is_default,
        "active": pipeline.active,
        "stages": [
            {
                "id": s.pk,
                "name": s.name,
                "order": s.order,
                "probability": s.probability,
                "kind": s.kind,
                "forecast_category": s.forecast_category,
            }
            for s in stages
        ],
    }


# --- pipelines -------------------------------------------------------------------------------


@router.get(
    "/pipelines",
    response=documented(list[PipelineOut]),
    tags=SETUP_TAGS,
    operation_id="pipelines_list",
    summary="List the pipelines with their stages in order",
)
def pipelines_list(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    from ..services.setup import ensure_sales_defaults

    ensure_sales_defaults(request.workspace)
    pipelines = list(Pipeline.objects.in_workspace(request.workspace).order_by("order", "id"))
    stages: dict[int, list] = {}
    for stage in Stage.objects.in_workspace(request.workspace).order_by(
        "pipeline_id", "order", "id"
    ):
        stages.setdefault(stage.pipeline_id, []).append(stage)
    return [_pipeline_out(p, stages.get(p.pk, [])) for p in pipelines]


def _pipeline(request, pipeline_id: int) -> dict:
    pipeline = Pipeline.objects.in_workspace(request.workspace).filter(pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound()
    stages = list(
        Stage.objects.in_workspace(request.workspace).filter(pipeline=pipeline).order_by("order")
    )
    return _pipeline_out(pipeline, stages)


@router.post(
    "/pipelines",
    response=documented(PipelineOut, status=201),
    tags=SETUP_TAGS,
    operation_id="pipelines_create",
    summary="Create a pipeline (with an open, a won and a lost stage to start from)",
)
def pipelines_create(request, payload: PipelineIn):
    pipeline = pipeline_services.pipeline_create(**actor_scope(request), name=payload.name)
    return Status(201, _pipeline(request, pipeline.pk))


@router.post(
    "/pipelines/{pipeline_id}/stages",
    response=documented(PipelineOut, status=201),
    tags=SETUP_TAGS,
    operation_id="pipelines_stage_create",
    summary="Add a stage (open stages go before won and lost)",
)
def pipelines_stage_create(request, pipeline_id: int, payload: StageIn):
    pipeline_services.stage_create(
        **actor_scope(request), pipeline_id=pipeline_id, **payload.dict()
    )
    return Status(201, _pipeline(request, pipeline_id))


@router.put(
    "/pipelines/{pipeline_id}/stages/order",
    response=documented(PipelineOut),
    tags=SETUP_TAGS,
    operation_id="pipelines_stage_reorder",
    summary="Put the pipeline's stages in a new order",
)
def pipelines_stage_reorder(request, pipeline_id: int, payload: StageOrderIn):
    pipeline_services.stage_reorder(
        **actor_scope(request), pipeline_id=pipeline_id, stage_ids=payload.stage_ids
    )
    return _pipeline(request, pipeline_id)


# --- deals -----------------------------------------------------------------------------------


@router.get(
    "/deals",
    response=documented(page_of(DealOut)),
    tags=TAGS,
    operation_id="deals_list",
    summary="List the deals you may see, newest first, with filters",
)
def deals_list(request, filters: Query[DealFilters], page: Query[PageParams]):
    permissions.require(request.user, DEAL, Action.READ)
    cutoff = selectors.stale_cutoff(request.workspace)
    qs = selectors.deal_list(**actor_scope(request)).select_related("lost_reason")
    f = filters
    for field, value in (
        ("pipeline_id", f.pipeline_id),
        ("stage_id", f.stage_id),
        ("status", f.status),
        ("account_id", f.account_id),
        ("contact_id", f.contact_id),
    ):
        if value is not None:
            qs = qs.filter(**{field: value})
    if f.close_from:
        qs = qs.filter(expected_close_date__gte=f.close_from)
    if f.close_to:
        qs = qs.filter(expected_close_date__lte=f.close_to)
    qs = selectors.filtered(
        qs, actor=request.user, owner=f.owner or "", stale_only=f.stale, cutoff=cutoff
    )
    return page_response(qs, page, lambda d: deal_out(d, cutoff), descending=True)


@router.post(
    "/deals",
    response=documented(DealOut, status=201),
    tags=TAGS,
    operation_id="deals_create",
    summary="Open a deal",
)
def deals_create(request, payload: DealIn):
    values = payload.dict()
    deal = services.deal_create(
        **actor_scope(request),
        name=values["name"],
        account=values["account_id"],
        contact=values["contact_id"],
        pipeline=values["pipeline_id"],
        stage=values["stage_id"],
        amount=values["amount"],
        currency=values["currency"],
        expected_close_date=values["expected_close_date"],
        owner=values["owner_id"],
        source=values["source"],
        campaign=values["campaign"],
        next_step=values["next_step"],
        competitors=values["competitor_ids"],
    )
    return Status(201, _one(request, deal.pk))


@router.get(
    "/deals/{deal_id}",
    response=documented(DealOut),
    tags=TAGS,
    operation_id="deals_get",
    summary="One deal",
)
def deals_get(request, deal_id: int):
    permissions.require(request.user, DEAL, Action.READ)
    return _one(request, deal_id)


@router.patch(
    "/deals/{deal_id}",
    response=documented(DealOut),
    tags=TAGS,
    operation_id="deals_update",
    summary="Change a deal's fields (send the version you read)",
)
def deals_update(request, deal_id: int, payload: DealPatch):
    changes = payload.changes()
    version = changes.pop("version")
    for api_name, name in (("account_id", "account"), ("contact_id", "contact")):
        if api_name in changes:
            changes[name] = changes.pop(api_name)
    services.deal_update(**actor_scope(request), deal=deal_id, version=version, **changes)
    return _one(request, deal_id)


@router.post(
    "/deals/{deal_id}/move",
    response=documented(DealOut),
    tags=TAGS,
    operation_id="deals_move",
    summary="Move a deal to a stage and place (the kanban's drop); won/lost stages close it",
)
def deals_move(request, deal_id: int, payload: MoveIn):
    services.deal_move(
        **actor_scope(request),
        deal=deal_id,
        stage=payload.stage_id,
        before_id=payload.before_id,
        after_id=payload.after_id,
        version=payload.version,
        reason=payload.reason_id,
        note=payload.note,
    )
    return _one(request, deal_id)


@router.post(
    "/deals/{deal_id}/win",
    response=documented(DealOut),
    tags=TAGS,
    operation_id="deals_win",
    summary="Mark a deal won",
)
def deals_win(request, deal_id: int, payload: VersionIn):
    services.deal_win(**actor_scope(request), deal=deal_id, version=payload.version)
    return _one(request, deal_id)


@router.post(
    "/deals/{deal_id}/lose",
    response=documented(DealOut),
    tags=TAGS,
    operation_id="deals_lose",
    summary="Mark a deal lost (a lost reason is required: 422 without one)",
)
def deals_lose(request, deal_id: int, payload: LoseIn):
    services.deal_lose(
        **actor_scope(request),
        deal=deal_id,
        reason=payload.reason_id,
        note=payload.note,
        version=payload.version,
    )
    return _one(request, deal_id)


@router.post(
    "/deals/{deal_id}/reopen",
    response=documented(DealOut),
    tags=TAGS,
    operation_id="deals_reopen",
    summary="Reopen a won or lost deal (back to the first open stage)",
)
def deals_reopen(request, deal_id: int, payload: VersionIn):
    services.deal_reopen(**actor_scope(request), deal=deal_id, version=payload.version)
    return _one(request, deal_id)


@router.post(
    "/deals/{deal_id}/reassign",
    response=documented(DealOut),
    tags=TAGS,
    operation_id="deals_reassign",
    summary="Give a deal to someone else (managers)",
)
def deals_reassign(request, deal_id: int, payload: ReassignIn):
    services.deal_reassign(
        **actor_scope(request), deal=deal_id, owner=payload.owner_id, version=payload.version
    )
    return _one(request, deal_id)


# --- lost reasons and competitors --------------------------------------------------------------


@router.get(
    "/lost-reasons",
    response=documented(list[ReasonOut]),
    tags=SETUP_TAGS,
    operation_id="lost_reasons_list",
    summary="List the lost reasons (inactive ones too)",
)
def lost_reasons_list(request):
    permissions.require(request.user, DEAL, Action.READ)
    return [
        {"id": r.pk, "name": r.name, "active": r.active}
        for r in LostReason.objects.in_workspace(request.workspace).order_by("order", "id")
    ]


@router.post(
    "/lost-reasons",
    response=documented(ReasonOut, status=201),
    tags=SETUP_TAGS,
    operation_id="lost_reasons_create",
    summary="Add a lost reason",
)
def lost_reasons_create(request, payload: ReasonIn):
    reason = pipeline_services.lost_reason_create(**actor_scope(request), name=payload.name)
    return Status(201, {"id": reason.pk, "name": reason.name, "active": reason.active})


@router.get(
    "/competitors",
    response=documented(list[CompetitorOut]),
    tags=SETUP_TAGS,
    operation_id="competitors_list",
    summary="List the competitors",
)
def competitors_list(request):
    permissions.require(request.user, DEAL, Action.READ)
    return [
        {"id": c.pk, "name": c.name, "website": c.website}
        for c in Competitor.objects.in_workspace(request.workspace).order_by("name", "id")
    ]


@router.post(
    "/competitors",
    response=documented(CompetitorOut, status=201),
    tags=SETUP_TAGS,
    operation_id="competitors_create",
    summary="Add a competitor (names are unique: 409 for a second one)",
)
def competitors_create(request, payload: CompetitorIn):
    competitor = pipeline_services.competitor_create(**actor_scope(request), **payload.dict())
    return Status(
        201, {"id": competitor.pk, "name": competitor.name, "website": competitor.website}
    )
