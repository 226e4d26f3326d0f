"""``/leads`` (CRUD, convert, score, log an activity, assign, status) and ``/lead-forms``.
The same services and selectors as the pages; another workspace's ids are 404, missing
rights 403, a second conversion 409. The public web-form POST is a page (``/f/<key>/``),
not an endpoint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, PatchSchema, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import Lead, LeadForm, LeadSource, LeadStatus
from ..objects import LEAD, LEAD_FORM
from ..selectors import leads as selectors
from ..services import lead_conversion, lead_forms, lead_model, lead_scoring
from ..services import leads as services

router = Router()
TAGS = ["Leads"]
FORM_TAGS = ["Lead web forms"]

SourceName = Literal[tuple(LeadSource.values)]  # type: ignore[valid-type]
StatusName = Literal[tuple(LeadStatus.values)]  # type: ignore[valid-type]
SettableStatus = Literal["new", "working", "qualified", "unqualified"]
OptionalField = Literal[tuple(lead_forms.OPTIONAL_FIELDS)]  # type: ignore[valid-type]


# --- schemas ---------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    full_name: str


class FactorOut(Schema):
    feature: str
    weight: float
    text: str = Field(..., description='In words, e.g. "Industry: 制造业 +1.2".')


class LeadOut(Schema):
    id: int
    name: str
    company: str
    title: str
    phone: str = Field(..., description="E.164")
    email: str
    industry: str
    employees: int | None
    region: str
    province: str
    city: str
    interest: str
    message: str
    source: SourceName
    campaign: str
    form_id: int | None
    status: StatusName
    unqualified_reason: str
    owner: UserRef | None
    fit_score: int
    engagement_score: int
    score: int
    predicted_score: float | None = Field(..., description="0–100, or null without a model.")
    score_factors: list[FactorOut]
    assigned_at: dt.datetime | None
    first_response_due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    first_response_overdue: bool
    converted_at: dt.datetime | None
    account: Ref | None
    contact: Ref | None
    deal: Ref | None
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadIn(Schema):
    name: bounded_text(200) = Field(..., description="Required.")
    company: bounded_text(200) = ""
    title: bounded_text(120) = ""
    phone: bounded_text(40) = Field("", description="Any usual format; stored as E.164.")
    email: bounded_text(254) = Field("", description="A phone or an e-mail is required.")
    industry: bounded_text(60) = ""
    employees: int | None = Field(None, ge=0, le=10_000_000)
    region: bounded_text(60) = ""
    province: bounded_text(60) = ""
    city: bounded_text(60) = ""
    interest: bounded_text(200) = ""
    message: bounded_text(10_000) = ""
    source: SourceName = "manual"
    campaign: bounded_text(120) = ""
    owner_id: Id | None = Field(
        None,
        description="Omit: the assignment rules choose (else you keep it). Others: managers.",
    )


class LeadPatch(PatchSchema):
    name: bounded_text(200) | None = None
    company: bounded_text(200) | None = None
    title: bounded_text(120) | None = None
    phone: bounded_text(40) | None = None
    email: bounded_text(254) | None = None
    industry: bounded_text(60) | None = None
    employees: int | None = Field(None, ge=0, le=10_000_000)
    region: bounded_text(60) | None = None
    province: bounded_text(60) | None = None
    city: bounded_text(60) | None = None
    interest: bounded_text(200) | None = None
    message: bounded_text(10_000) | None = None
    source: SourceName | None = None
    campaign: bounded_text(120) | None = None


class LeadFilters(Schema):
    status: StatusName | Literal["open"] | None = None
    source: SourceName | None = None
    owner_id: Id | None = None
    unassigned: bool | None = Field(None, description="Only leads without an owner.")
    overdue: bool | None = Field(None, description="First response overdue (or not).")
    min_score: int | None = Field(None, ge=-100_000, le=100_000)
    q: bounded_text(200) | None = Field(None, description="Name, company, phone or e-mail.")


class ConvertIn(Schema):
    account_id: Id | None = Field(None, description="Use this existing account.")
    contact_id: Id | None = Field(None, description="Use this existing contact.")
    create_account: bool = Field(True, description="Make an account from the company name.")
    create_deal: bool = True
    deal_name: bounded_text(200) = ""
    amount: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    currency: bounded_text(3) | None = None
    expected_close_date: dt.date | None = None


class MatchOut(Schema):
    id: int
    name: str
    code: str
    score: float


class MatchesOut(Schema):
    accounts: list[MatchOut]
    contacts: list[MatchOut]


class RuleHitOut(Schema):
    id: int
    text: str
    points: int


class ScoreOut(Schema):
    fit: int
    engagement: int
    score: int
    counts: dict[str, int]
    rules: list[RuleHitOut]
    predicted_score: float | None
    factors: list[FactorOut]
    model_trained_at: dt.datetime | None


class ActivityIn(Schema):
    kind: Literal["call", "note", "email", "meeting", "visit"]
    body: bounded_text(10_000) = ""
    subject: bounded_text(200) = ""
    direction: Literal["in", "out"] = "out"


class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    occurred_at: dt.datetime


class AssignIn(Schema):
    owner_id: Id | None = Field(None, description="null: back to the pool.")
    auto: bool = Field(False, description="Let the assignment rules choose.")


class StatusIn(Schema):
    status: SettableStatus
    reason: bounded_text(200) = ""


class LeadFormOut(Schema):
    id: int
    name: str
    public_key: str
    public_url: str
    campaign: str
    fields: list[str]
    thank_you: str
    redirect_url: str
    active: bool
    submissions: int
    spam_blocked: int
    created_at: dt.datetime


class LeadFormIn(Schema):
    name: bounded_text(120)
    campaign: bounded_text(120) = ""
    fields: list[OptionalField] = Field(default_factory=list, max_length=20)
    thank_you: bounded_text(2000) = ""
    redirect_url: bounded_text(200) = ""
    active: bool = True


class LeadFormPatch(PatchSchema):
    name: bounded_text(120) | None = None
    campaign: bounded_text(120) | None = None
    fields: list[OptionalField] | None = Field(None, max_length=20)
    thank_you: bounded_text(2000) | None = None
    redirect_url: bounded_text(200) | None = None
    active: bool | None = None


# --- serializers -----------------------------------------------------------------------------


def _ref(obj) -> dict | None:
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


def _factors(factors) -> list[dict]:
    return [
        {"feature": f["feature"], "weight": f["weight"], "text": lead_model.factor_text(f)}
        for f in factors or []
    ]


def lead_out(lead: Lead) -> dict:
    return {
        **{
            name: getattr(lead, name)
            for name in (
                "name",
                "company",
                "title",
                "phone",
                "email",
                "industry",
                "employees",
                "region",
                "province",
                "city",
                "interest",
                "message",
                "source",
                "campaign",
                "form_id",
                "status",
                "unqualified_reason",
                "fit_score",
                "engagement_score",
                "score",
                "predicted_score",
                "assigned_at",
                "first_response_due_at",
                "first_response_at",
                "converted_at",
                "created_at",
                "updated_at",
            )
        },
        "id": lead.pk,
        "owner": {"id": lead.owner_id, "full_name": lead.owner.full_name}
        if lead.owner_id
        else None,
        "score_factors": _factors(lead.score_factors),
        "first_response_overdue": selectors.is_overdue(lead),
        "account": _ref(lead.account) if lead.account_id else None,
        "contact": _ref(lead.contact) if lead.contact_id else None,
        "deal": _ref(lead.deal) if lead.deal_id else None,
    }


def _one(request, lead_id: int) -> dict:
    return lead_out(selectors.lead_get(**actor_scope(request), lead_id=lead_id))


def form_out(request, form: LeadForm) -> dict:
    return {
        **{
            name: getattr(form, name)
            for name in (
                "name",
                "public_key",
                "campaign",
                "fields",
                "thank_you",
                "redirect_url",
                "active",
                "submissions",
                "spam_blocked",
                "created_at",
            )
        },
        "id": form.pk,
        "public_url": request.build_absolute_uri(f"/f/{form.public_key}/"),
    }


# --- leads -----------------------------------------------------------------------------------


@router.get(
    "/leads",
    response=documented(page_of(LeadOut)),
    tags=TAGS,
    operation_id="leads_list",
    summary="List the leads you may see, newest first",
)
def leads_list(request, filters: Query[LeadFilters], page: Query[PageParams]):
    permissions.require(request.user, LEAD, Action.READ)
    qs = selectors.lead_list(**actor_scope(request)).select_related("account", "contact", "deal")
    f = filters
    if f.status == "open":
        qs = qs.filter(status__in=selectors.OPEN_STATUSES)
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.owner_id:
        qs = qs.filter(owner_id=f.owner_id)
    if f.unassigned:
        qs = qs.filter(owner__isnull=True)
    if f.overdue is True:
        qs = qs.filter(selectors.overdue_q())
    elif f.overdue is False:
        qs = qs.exclude(selectors.overdue_q())
    if f.min_score is not None:
        qs = qs.filter(score__gte=f.min_score)
    if f.q:
        qs = selectors.search(qs, f.q)
    return page_response(qs, page, lead_out, key="pk", descending=True)


@router.post(
    "/leads",
    response=documented(LeadOut, status=201),
    tags=TAGS,
    operation_id="leads_create",
    summary="Create a lead (scored and assigned at once)",
)
def leads_create(request, payload: LeadIn):
    values = payload.dict()
    if "owner_id" not in payload.model_fields_set:
        values.pop("owner_id")
    lead = services.lead_create(**actor_scope(request), **values)
    return Status(201, _one(request, lead.pk))


@router.get(
    "/leads/{lead_id}",
    response=documented(LeadOut),
    tags=TAGS,
    operation_id="leads_get",
    summary="Get a lead",
)
def leads_get(request, lead_id: Id):
    permissions.require(request.user, LEAD, Action.READ)
    return _one(request, lead_id)


@router.patch(
    "/leads/{lead_id}",
    response=documented(LeadOut),
    tags=TAGS,
    operation_id="leads_update",
    summary="Change a lead (only the fields sent; 409 once converted)",
)
def leads_update(request, lead_id: Id, payload: LeadPatch):
    services.lead_update(**actor_scope(request), lead_id=lead_id, **payload.changes())
    return _one(request, lead_id)


@router.delete(
    "/leads/{lead_id}",
    response=documented(None, status=204),
    tags=TAGS,
    operation_id="leads_delete",
    summary="Delete a lead",
)
def leads_delete(request, lead_id: Id):
    services.lead_delete(**actor_scope(request), lead_id=lead_id)
    return Status(204, None)


@router.get(
    "/leads/{lead_id}/matches",
    response=documented(MatchesOut),
    tags=TAGS,
    operation_id="leads_matches",
    summary="Existing accounts and contacts this lead probably is (before converting)",
)
def leads_matches(request, lead_id: Id):
    check = lead_conversion.conversion_check(**actor_scope(request), lead_id=lead_id)

    def rows(items):
        return [
            {"id": r.pk, "name": r.name, "code": r.code, "score": round(float(s), 3)}
            for r, s, _reasons in items
        ]

    return {"accounts": rows(check["accounts"]), "contacts": rows(check["contacts"])}


@router.post(
    "/leads/{lead_id}/convert",
    response=documented(LeadOut),
    tags=TAGS,
    operation_id="leads_convert",
    summary="Convert into account, contact and deal in one step (409 when converted already)",
)
def leads_convert(request, lead_id: Id, payload: ConvertIn):
    lead_conversion.lead_convert(**actor_scope(request), lead_id=lead_id, **payload.dict())
    return _one(request, lead_id)


def _score(request, lead: Lead) -> dict:
    explain = lead_scoring.explain(workspace=request.workspace, lead=lead)
    model = selectors.active_model(workspace=request.workspace)
    return {
        **explain,
        "predicted_score": lead.predicted_score,
        "factors": _factors(lead.score_factors),
        "model_trained_at": model.trained_at if model else None,
    }


@router.get(
    "/leads/{lead_id}/score",
    response=documented(ScoreOut),
    tags=TAGS,
    operation_id="leads_score",
    summary="The lead's score explained: matching rules, predicted score and its top factors",
)
def leads_score(request, lead_id: Id):
    permissions.require(request.user, LEAD, Action.READ)
    lead = selectors.lead_get(**actor_scope(request), lead_id=lead_id)
    return _score(request, lead)


@router.post(
    "/leads/{lead_id}/score",
    response=documented(ScoreOut),
    tags=TAGS,
    operation_id="leads_rescore",
    summary="Recompute the lead's scores now",
)
def leads_rescore(request, lead_id: Id):
    lead = lead_scoring.lead_rescore(**actor_scope(request), lead_id=lead_id)
    return _score(request, lead)


@router.post(
    "/leads/{lead_id}/activities",
    response=documented(ActivityOut, status=201),
    tags=TAGS,
    operation_id="leads_log_activity",
    summary="Log a call, note, e-mail, meeting or visit (the owner's first stops the timer)",
)
def leads_log_activity(request, lead_id: Id, payload: ActivityIn):
    entry = services.lead_log_activity(**actor_scope(request), lead_id=lead_id, **payload.dict())
    return Status(
        201,
        {
            "id": entry.pk,
            "kind": entry.kind,
            "subject": entry.subject,
            "occurred_at": entry.occurred_at,
        },
    )


@router.post(
    "/leads/{lead_id}/assign",
    response=documented(LeadOut),
    tags=TAGS,
    operation_id="leads_assign",
    summary="Give the lead to someone, to the pool, or to whom the rules choose",
)
def leads_assign(request, lead_id: Id, payload: AssignIn):
    if payload.auto:
        services.lead_auto_assign(**actor_scope(request), lead_id=lead_id)
    else:
        services.lead_assign(**actor_scope(request), lead_id=lead_id, owner_id=payload.owner_id)
    return _one(request, lead_id)


@router.post(
    "/leads/{lead_id}/status",
    response=documented(LeadOut),
    tags=TAGS,
    operation_id="leads_set_status",
    summary="Working, qualified, or not a buyer (with a reason)",
)
def leads_set_status(request, lead_id: Id, payload: StatusIn):
    services.lead_set_status(**actor_scope(request), lead_id=lead_id, **payload.dict())
    return _one(request, lead_id)


# --- web forms -------------------------------------------------------------------------------


@router.get(
    "/lead-forms",
    response=documented(page_of(LeadFormOut)),
    tags=FORM_TAGS,
    operation_id="lead_forms_list",
    summary="List the web forms",
)
def lead_forms_list(request, page: Query[PageParams]):
    permissions.require(request.user, LEAD_FORM, Action.READ)
    qs = selectors.lead_form_list(**actor_scope(request))
    return page_response(qs, page, lambda f: form_out(request, f), key="pk")


@router.post(
    "/lead-forms",
    response=documented(LeadFormOut, status=201),
    tags=FORM_TAGS,
    operation_id="lead_forms_create",
    summary="Create a web form (its public URL is what the embed iframe shows)",
)
def lead_forms_create(request, payload: LeadFormIn):
    form = lead_forms.lead_form_create(**actor_scope(request), **payload.dict())
    return Status(201, form_out(request, form))


@router.get(
    "/lead-forms/{form_id}",
    response=documented(LeadFormOut),
    tags=FORM_TAGS,
    operation_id="lead_forms_get",
    summary="Get a web form",
)
def lead_forms_get(request, form_id: Id):
    permissions.require(request.user, LEAD_FORM, Action.READ)
    return form_out(request, selectors.lead_form_get(**actor_scope(request), form_id=form_id))


@router.patch(
    "/lead-forms/{form_id}",
    response=documented(LeadFormOut),
    tags=FORM_TAGS,
    operation_id="lead_forms_update",
    summary="Change a web form",
)
def lead_forms_update(request, form_id: Id, payload: LeadFormPatch):
    selectors.lead_form_get(**actor_scope(request), form_id=form_id)
    form = lead_forms.lead_form_update(**actor_scope(request), form_id=form_id, **payload.changes())
    return form_out(request, form)


@router.delete(
    "/lead-forms/{form_id}",
    response=documented(None, status=204),
    tags=FORM_TAGS,
    operation_id="lead_forms_delete",
    summary="Delete a web form (its leads stay)",
)
def lead_forms_delete(request, form_id: Id):
    lead_forms.lead_form_delete(**actor_scope(request), form_id=form_id)
    return Status(204, None)
