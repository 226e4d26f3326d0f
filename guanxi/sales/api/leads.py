"""``/leads`` (CRUD, convert, score, log an activity, assign, status) and ``/lead-forms``.
The same services and selectors as the pages; another workspace's ids are 404, missing
rights 403, a second conversion 409. The public web-form POST is a page (``/f/<key>/``),
not an endpoint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from guanxi.common.api import Id, PageParams, PatchSchema, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.api.jobs import job_data
from guanxi.platform.models import Action
from guanxi.platform.schemas import JobOut

from ..models import Lead, LeadForm, LeadSource, LeadStatus
from ..objects import CONFIGURATION, LEAD, LEAD_FORM
from ..selectors import leads as selectors
from ..services import (
    lead_assignment,
    lead_conversion,
    lead_forms,
    lead_import,
    lead_model,
    lead_scoring,
)
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


# --- import ----------------------------------------------------------------------------------


@router.post(
    "/lead-imports",
    response=documented(JobOut, status=202),
    tags=TAGS,
    operation_id="leads_import",
    summary="Import a CSV or XLSX file of leads (a background job; all rows or none)",
)
def leads_import(request, file: File[UploadedFile], campaign: Form[str] = ""):
    """Headers in English or Chinese (name/姓名, company/公司, phone/手机, email/邮箱, …).
    Follow the job at ``/jobs/{id}``; a file with any bad row fails with every row error
    listed and imports nothing."""
    job = lead_import.lead_import_start(
        **actor_scope(request),
        file_name=file.name,
        chunks=file.chunks(),
        campaign=campaign[:120],
    )
    return Status(202, job_data(job))


# --- scoring rules, the model, assignment rules, rep profiles --------------------------------

CONFIG_TAGS = ["Lead scoring and assignment"]
Kind = Literal["fit", "engagement"]
Attribute = Literal[tuple([*lead_scoring.FIT_ATTRIBUTES, *lead_scoring.ENGAGEMENT_ATTRIBUTES])]  # type: ignore[valid-type]
Operator = Literal[tuple(lead_scoring.OPERATORS)]  # type: ignore[valid-type]
Method = Literal["round_robin", "territory", "load", "skill"]


class ScoringRuleOut(Schema):
    id: int
    kind: Kind
    attribute: Attribute
    operator: Operator
    value: str
    points: int
    active: bool
    text: str


class ScoringRuleIn(Schema):
    kind: Kind
    attribute: Attribute
    operator: Operator
    value: bounded_text(200)
    points: int = Field(..., ge=-1000, le=1000)
    active: bool = True


class ScoringRulePatch(PatchSchema):
    kind: Kind | None = None
    attribute: Attribute | None = None
    operator: Operator | None = None
    value: bounded_text(200) | None = None
    points: int | None = Field(None, ge=-1000, le=1000)
    active: bool | None = None


class ModelOut(Schema):
    trained_at: dt.datetime | None
    samples: int | None
    positives: int | None
    auc: float | None
    history_samples: int
    history_positives: int
    ready: bool
    reason: str


class Conditions(Schema):
    source: list[bounded_text(120)] = Field(default_factory=list, max_length=100)
    campaign: list[bounded_text(120)] = Field(default_factory=list, max_length=100)
    region: list[bounded_text(120)] = Field(default_factory=list, max_length=100)
    province: list[bounded_text(120)] = Field(default_factory=list, max_length=100)
    industry: list[bounded_text(120)] = Field(default_factory=list, max_length=100)


class AssignmentRuleOut(Schema):
    id: int
    name: str
    order: int
    method: Method
    conditions: dict[str, list[str]]
    rep_ids: list[int]
    active: bool


class AssignmentRuleIn(Schema):
    name: bounded_text(120)
    method: Method
    order: int = Field(100, ge=0, le=1_000_000)
    conditions: Conditions = Field(default_factory=Conditions)
    rep_ids: list[Id] = Field(default_factory=list, max_length=500)
    active: bool = True


class AssignmentRulePatch(PatchSchema):
    name: bounded_text(120) | None = None
    method: Method | None = None
    order: int | None = Field(None, ge=0, le=1_000_000)
    conditions: Conditions | None = None
    rep_ids: list[Id] | None = Field(None, max_length=500)
    active: bool | None = None


class RepProfileOut(Schema):
    user: UserRef
    territories: list[str]
    skills: list[str]
    max_open_leads: int | None
    available: bool


class RepProfileIn(Schema):
    territories: list[bounded_text(120)] = Field(default_factory=list, max_length=100)
    skills: list[bounded_text(120)] = Field(default_factory=list, max_length=100)
    max_open_leads: int | None = Field(None, ge=0, le=100_000)
    available: bool = True


def _rule_out(rule) -> dict:
    return {
        **{k: getattr(rule, k) for k in ("kind", "attribute", "operator", "value", "points")},
        "id": rule.pk,
        "active": rule.active,
        "text": lead_scoring.describe(rule),
    }


def _assignment_out(rule) -> dict:
    return {
        "id": rule.pk,
        "name": rule.name,
        "order": rule.order,
        "method": rule.method,
        "conditions": rule.conditions or {},
        "rep_ids": [u.pk for u in rule.rep_list],
        "active": rule.active,
    }


def _assignment_one(request, rule_id: int) -> dict:
    rules = selectors.assignment_rules(**actor_scope(request))
    rule = next((r for r in rules if r.pk == rule_id), None)
    if rule is None:
        raise NotFound()
    return _assignment_out(rule)


def _conditions(payload) -> dict:
    return {k: v for k, v in payload.items() if v}


@router.get(
    "/lead-scoring-rules",
    response=documented(list[ScoringRuleOut]),
    tags=CONFIG_TAGS,
    operation_id="lead_scoring_rules_list",
    summary="The scoring rules",
)
def lead_scoring_rules_list(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return [_rule_out(r) for r in selectors.scoring_rules(**actor_scope(request))]


@router.post(
    "/lead-scoring-rules",
    response=documented(ScoringRuleOut, status=201),
    tags=CONFIG_TAGS,
    operation_id="lead_scoring_rules_create",
    summary="Add a scoring rule (every lead is rescored after the commit)",
)
def lead_scoring_rules_create(request, payload: ScoringRuleIn):
    rule = lead_scoring.scoring_rule_create(**actor_scope(request), **payload.dict())
    return Status(201, _rule_out(rule))


@router.patch(
    "/lead-scoring-rules/{rule_id}",
    response=documented(ScoringRuleOut),
    tags=CONFIG_TAGS,
    operation_id="lead_scoring_rules_update",
    summary="Change a scoring rule",
)
def lead_scoring_rules_update(request, rule_id: Id, payload: ScoringRulePatch):
    rule = lead_scoring.scoring_rule_update(
        **actor_scope(request), rule_id=rule_id, **payload.changes()
    )
    return _rule_out(rule)


@router.delete(
    "/lead-scoring-rules/{rule_id}",
    response=documented(None, status=204),
    tags=CONFIG_TAGS,
    operation_id="lead_scoring_rules_delete",
    summary="Delete a scoring rule",
)
def lead_scoring_rules_delete(request, rule_id: Id):
    lead_scoring.scoring_rule_delete(**actor_scope(request), rule_id=rule_id)
    return Status(204, None)


def _model_out(workspace) -> dict:
    model = selectors.active_model(workspace=workspace)
    ready = lead_model.readiness(workspace=workspace)
    return {
        "trained_at": model.trained_at if model else None,
        "samples": model.samples if model else None,
        "positives": model.positives if model else None,
        "auc": model.auc if model else None,
        "history_samples": ready["samples"],
        "history_positives": ready["positives"],
        "ready": ready["ready"],
        "reason": ready["reason"],
    }


@router.get(
    "/lead-model",
    response=documented(ModelOut),
    tags=CONFIG_TAGS,
    operation_id="lead_model_get",
    summary="The predictive model: when trained, on what, or why there is none",
)
def lead_model_get(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return _model_out(request.workspace)


@router.post(
    "/lead-model/retrain",
    response=documented(ModelOut),
    tags=CONFIG_TAGS,
    operation_id="lead_model_retrain",
    summary="Retrain now (422 with the reason when the history is too small)",
)
def lead_model_retrain(request):
    model, reason = lead_model.model_retrain(**actor_scope(request))
    if model is None:
        raise ApplicationError(reason, code="not_enough_history", status=422)
    return _model_out(request.workspace)


@router.get(
    "/lead-assignment-rules",
    response=documented(list[AssignmentRuleOut]),
    tags=CONFIG_TAGS,
    operation_id="lead_assignment_rules_list",
    summary="The assignment rules, in the order they are tried",
)
def lead_assignment_rules_list(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return [_assignment_out(r) for r in selectors.assignment_rules(**actor_scope(request))]


@router.post(
    "/lead-assignment-rules",
    response=documented(AssignmentRuleOut, status=201),
    tags=CONFIG_TAGS,
    operation_id="lead_assignment_rules_create",
    summary="Add an assignment rule",
)
def lead_assignment_rules_create(request, payload: AssignmentRuleIn):
    values = payload.dict()
    values["conditions"] = _conditions(values["conditions"])
    rule = lead_assignment.assignment_rule_create(**actor_scope(request), **values)
    return Status(201, _assignment_one(request, rule.pk))


@router.patch(
    "/lead-assignment-rules/{rule_id}",
    response=documented(AssignmentRuleOut),
    tags=CONFIG_TAGS,
    operation_id="lead_assignment_rules_update",
    summary="Change an assignment rule",
)
def lead_assignment_rules_update(request, rule_id: Id, payload: AssignmentRulePatch):
    changes = payload.changes()
    if changes.get("conditions") is not None:
        changes["conditions"] = _conditions(changes["conditions"])
    lead_assignment.assignment_rule_update(**actor_scope(request), rule_id=rule_id, **changes)
    return _assignment_one(request, rule_id)


@router.delete(
    "/lead-assignment-rules/{rule_id}",
    response=documented(None, status=204),
    tags=CONFIG_TAGS,
    operation_id="lead_assignment_rules_delete",
    summary="Delete an assignment rule",
)
def lead_assignment_rules_delete(request, rule_id: Id):
    lead_assignment.assignment_rule_delete(**actor_scope(request), rule_id=rule_id)
    return Status(204, None)


def _profile_out(user, profile) -> dict:
    return {
        "user": {"id": user.pk, "full_name": user.full_name},
        "territories": profile.territories if profile else [],
        "skills": profile.skills if profile else [],
        "max_open_leads": profile.max_open_leads if profile else None,
        "available": profile.available if profile else True,
    }


@router.get(
    "/rep-profiles",
    response=documented(list[RepProfileOut]),
    tags=CONFIG_TAGS,
    operation_id="rep_profiles_list",
    summary="Every active user with what assignment knows of them",
)
def rep_profiles_list(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return [_profile_out(u, p) for u, p in selectors.rep_profiles(**actor_scope(request))]


@router.put(
    "/rep-profiles/{user_id}",
    response=documented(RepProfileOut),
    tags=CONFIG_TAGS,
    operation_id="rep_profiles_save",
    summary="Set a rep's territories, skills, capacity and presence",
)
def rep_profiles_save(request, user_id: Id, payload: RepProfileIn):
    profile = lead_assignment.rep_profile_save(
        **actor_scope(request), user_id=user_id, **payload.dict()
    )
    return _profile_out(profile.user, profile)
