"""``/quotes`` (list, create, read, change), ``/quotes/{id}/lines``, the quote's steps
(``submit``, ``approve``, ``reject``, ``send``, ``accept``, ``decline``, ``versions``), its
``pdf`` and ``price-history``, and ``/quote-approvals`` (the managers' inbox). The same
services and selectors as the pages. Every change names the ``lock_version`` it read: a
stale one is answered 409 and nothing is written. Another workspace's ids are 404, missing
rights 403."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, PatchSchema, page_of, page_response, responses, text
from guanxi.common.errors import Conflict
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import ApprovalStatus, QuoteStatus
from ..objects import QUOTE
from ..selectors import quotes as selectors
from ..services import quote_approvals, quotes
from ..services.quote_pdf import quote_pdf_bytes, quote_pdf_filename

router = Router()
TAGS = ["Quotes"]
APPROVAL_TAGS = ["Quote approvals"]
StatusName = Literal[tuple(QuoteStatus.values)]  # type: ignore[valid-type]
ApprovalStatusName = Literal[tuple(ApprovalStatus.values)]  # type: ignore[valid-type]
Language = Literal["zh-hans", "zh-hant", "en"]
Quantity = Decimal
Percent = Decimal


# --- schemas ------------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    full_name: str


class ReasonOut(Schema):
    code: str = Field(
        ...,
        description="`line_discount`, `overall_discount`, `below_quoted_price`, "
        "`below_order_price` (approval reasons); `above_sent_price`, `over_credit_limit` "
        "(warnings).",
    )
    line: int | None = Field(None, description="The line's position, when about one line.")
    product: int | None = None
    detail: dict[str, str | None]
    text: str = Field(..., description="The reason as a sentence in the request's language.")


class LineOut(Schema):
    id: int
    position: int
    product: Ref
    product_code: str
    description: str
    quantity: Decimal
    unit: str
    list_price: Decimal = Field(..., description="The price book's price.")
    discount_percent: Decimal
    unit_price: Decimal = Field(..., description="Net unit price after the line's discount.")
    tax_rate: Decimal = Field(..., description="A fraction: 0.13 is 13%.")
    subtotal: Decimal
    tax: Decimal
    total: Decimal


class QuoteOut(Schema):
    id: int
    number: str
    version_number: int
    status: StatusName
    lock_version: int = Field(..., description="Send it back with every change.")
    account: Ref | None
    contact: Ref | None
    deal: Ref | None
    owner: UserRef | None
    price_book: Ref
    currency: str
    language: str
    valid_until: dt.date | None
    discount_percent: Decimal
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    total_base: Decimal = Field(..., description="The total in the workspace's base currency.")
    terms: str
    notes: str
    approval_reasons: list[ReasonOut]
    sent_at: dt.datetime | None
    decided_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class QuoteDetailOut(QuoteOut):
    lines: list[LineOut]
    warnings: list[ReasonOut]
    pending_approval_id: int | None
    order_id: int | None = Field(None, description="The order made when it was accepted.")


class LineIn(Schema):
    product_id: Id
    quantity: Quantity = Field(Decimal(1), description="More than zero, up to 3 decimals.")
    discount_percent: Percent = Field(Decimal(0), description="0–100, up to 2 decimals.")
    description: text(300) = ""


class QuoteIn(Schema):
    account_id: Id | None = Field(None, description="The customer (or `contact_id` alone).")
    contact_id: Id | None = None
    deal_id: Id | None = Field(None, description="Takes the deal's customer.")
    currency: text(3) | None = Field(None, description="Default: the customer's, else base.")
    language: Language | None = Field(None, description="Of the PDF and the e-mail.")
    valid_until: dt.date | None = Field(None, description="Default: today + the setting.")
    discount_percent: Percent = Field(Decimal(0), description="Overall discount, 0–100.")
    terms: text(5000) = ""
    notes: text(5000) = ""
    owner_id: Id | None = None
    lines: list[LineIn] = Field(default_factory=list, max_length=200)


class QuotePatch(PatchSchema):
    lock_version: int = Field(..., ge=1, description="The `lock_version` you read.")
    valid_until: dt.date | None = None
    discount_percent: Percent | None = None
    terms: text(5000) | None = None
    notes: text(5000) | None = None
    language: Language | None = None
    currency: text(3) | None = None
    contact_id: Id | None = None
    owner_id: Id | None = None


class LinePost(LineIn):
    lock_version: int = Field(..., ge=1)


class LinePatch(PatchSchema):
    lock_version: int = Field(..., ge=1)
    quantity: Quantity | None = None
    discount_percent: Percent | None = None
    description: text(300) | None = None


class LockIn(Schema):
    lock_version: int = Field(..., ge=1, description="The `lock_version` you read.")


class SubmitIn(LockIn):
    note: text(2000) = ""


class SendIn(LockIn):
    email: bool = Field(True, description="E-mail it with the PDF; false: only mark it sent.")
    to: list[text(254)] | None = Field(None, description="Default: the contact's addresses.")
    cc: list[text(254)] | None = None
    subject: text(300) = ""
    body: text(100_000) = ""


class AcceptIn(LockIn):
    order_date: dt.date | None = Field(None, description="Default: today.")


class DeclineIn(LockIn):
    reason: text(1000) = ""


class DecisionIn(Schema):
    comment: text(2000) = Field("", description="Required to reject.")


class ApprovalOut(Schema):
    id: int
    quote: Ref
    quote_status: StatusName
    customer: str
    total: Decimal
    currency: str
    status: ApprovalStatusName
    requested_by: UserRef
    approver: UserRef | None
    reasons: list[ReasonOut]
    request_note: str
    comment: str
    decided_by: UserRef | None
    decided_at: dt.datetime | None
    created_at: dt.datetime


class PricePointOut(Schema):
    price: Decimal = Field(..., description="Effective net unit price (after all discounts).")
    currency: str
    day: dt.date
    who: str
    status: str
    reference: str = Field(..., description="Quote number and version, or order number.")


class ProductHistoryOut(Schema):
    product_id: int
    quotes: list[PricePointOut] = Field(..., description="The last 5 quoted prices.")
    orders: list[PricePointOut] = Field(..., description="The last 3 order prices.")


class QuoteFilters(Schema):
    scope: Literal["", "mine", "team"] = ""
    status: Literal[("", "open", *QuoteStatus.values)] = ""  # type: ignore[valid-type]
    account_id: Id | None = None
    contact_id: Id | None = None
    deal_id: Id | None = None


# --- serialisers --------------------------------------------------------------------------------


def _user(user) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _ref(record, name: str = "name") -> dict | None:
    return {"id": record.pk, "name": getattr(record, name)} if record is not None else None


def _reasons(items) -> list[dict]:
    return [
        {
            "code": item.get("code", ""),
            "line": item.get("line"),
            "product": item.get("product"),
            "detail": {
                k: (None if v is None else str(v)) for k, v in (item.get("detail") or {}).items()
            },
            "text": quotes.reason_text(item),
        }
        for item in items or []
    ]


def _quote_out(quote) -> dict:
    return {
        "id": quote.pk,
        "number": quote.number,
        "version_number": quote.version_number,
        "status": quote.status,
        "lock_version": quote.lock_version,
        "account": _ref(quote.account),
        "contact": _ref(quote.contact),
        "deal": _ref(quote.deal),
        "owner": _user(quote.owner),
        "price_book": _ref(quote.price_book),
        "currency": quote.currency,
        "language": quote.language,
        "valid_until": quote.valid_until,
        "discount_percent": quote.discount_percent,
        "subtotal": quote.subtotal,
        "discount_total": quote.discount_total,
        "tax_total": quote.tax_total,
        "total": quote.total,
        "total_base": quote.total_base,
        "terms": quote.terms,
        "notes": quote.notes,
        "approval_reasons": _reasons(quote.approval_reasons),
        "sent_at": quote.sent_at,
        "decided_at": quote.decided_at,
        "created_at": quote.created_at,
        "updated_at": quote.updated_at,
    }


def _line_out(line) -> dict:
    return {
        "id": line.pk,
        "position": line.position,
        "product": _ref(line.product),
        "product_code": line.product.code,
        "description": line.description,
        "quantity": line.quantity,
        "unit": line.unit,
        "list_price": line.list_price,
        "discount_percent": line.discount_percent,
        "unit_price": line.unit_price,
        "tax_rate": line.tax_rate,
        "subtotal": line.subtotal,
        "tax": line.tax,
        "total": line.total,
    }


def _detail(request, quote_id) -> dict:
    from ..models import Order

    quote = selectors.quote_get(**actor_scope(request), quote_id=quote_id)
    lines = selectors.quote_lines(quote)
    out = _quote_out(quote)
    out["lines"] = [_line_out(line) for line in lines]
    out["warnings"] = _reasons(quotes.quote_warnings(quote, lines))
    out["pending_approval_id"] = quote_approvals.pending_approval_id(
        workspace=request.workspace, quote=quote
    )
    out["order_id"] = (
        Order.objects.in_workspace(request.workspace)
        .filter(quote=quote)
        .values_list("pk", flat=True)
        .first()
        if quote.status == QuoteStatus.ACCEPTED
        else None
    )
    return out


def _approval_out(approval) -> dict:
    quote = approval.quote
    customer = quote.account or quote.contact
    return {
        "id": approval.pk,
        "quote": {"id": quote.pk, "name": str(quote)},
        "quote_status": quote.status,
        "customer": customer.name if customer is not None else "",
        "total": quote.total,
        "currency": quote.currency,
        "status": approval.status,
        "requested_by": _user(approval.requested_by),
        "approver": _user(approval.approver),
        "reasons": _reasons(approval.reasons),
        "request_note": approval.request_note,
        "comment": approval.comment,
        "decided_by": _user(approval.decided_by),
        "decided_at": approval.decided_at,
        "created_at": approval.created_at,
    }


# --- quotes -------------------------------------------------------------------------------------


@router.get(
    "/quotes",
    response=responses(page_of(QuoteOut)),
    tags=TAGS,
    operation_id="quotes_list",
    summary="List the quotes you may see, newest first (mine / team, by status, customer, deal)",
)
def quotes_list(request, filters: Query[QuoteFilters], page: Query[PageParams]):
    permissions.require(request.user, QUOTE, Action.READ)
    qs = selectors.quote_list(**actor_scope(request), **filters.dict())
    return page_response(qs, page, _quote_out, key="created_at", descending=True)


@router.post(
    "/quotes",
    response=responses(QuoteDetailOut, status=201),
    tags=TAGS,
    operation_id="quotes_create",
    summary="Make a draft quote for a customer or a deal, priced from the price books",
    description="Unit prices come from the customer's price books; you choose products, "
    "quantities and discounts. A currency without an exchange rate is refused (400).",
)
def quotes_create(request, payload: QuoteIn):
    values = payload.dict()
    values["lines"] = [quotes.LineInput(**line) for line in values["lines"]]
    quote = quotes.quote_create(**actor_scope(request), **values)
    return Status(201, _detail(request, quote.pk))


@router.get(
    "/quotes/{quote_id}",
    response=responses(QuoteDetailOut),
    tags=TAGS,
    operation_id="quotes_get",
    summary="A quote with its lines, approval reasons and warnings",
)
def quotes_get(request, quote_id: Id):
    return _detail(request, quote_id)


@router.patch(
    "/quotes/{quote_id}",
    response=responses(QuoteDetailOut),
    tags=TAGS,
    operation_id="quotes_update",
    summary="Change a quote's header (409 when `lock_version` is stale or the quote was sent)",
)
def quotes_update(request, quote_id: Id, payload: QuotePatch):
    changes = payload.changes()
    lock_version = changes.pop("lock_version")
    quotes.quote_update(
        **actor_scope(request), quote_id=quote_id, lock_version=lock_version, **changes
    )
    return _detail(request, quote_id)


@router.delete(
    "/quotes/{quote_id}",
    response=responses(None, status=204),
    tags=TAGS,
    operation_id="quotes_delete",
    summary="Delete a first-version draft made by mistake (`lock_version` as a query parameter)",
)
def quotes_delete(request, quote_id: Id, lock_version: int = Query(..., ge=1)):
    quotes.quote_delete(**actor_scope(request), quote_id=quote_id, lock_version=lock_version)
    return Status(204, None)


@router.get(
    "/quotes/{quote_id}/lines",
    response=responses(list[LineOut]),
    tags=TAGS,
    operation_id="quotes_lines",
    summary="A quote's lines",
)
def quotes_lines(request, quote_id: Id):
    quote = selectors.quote_get(**actor_scope(request), quote_id=quote_id)
    return [_line_out(line) for line in selectors.quote_lines(quote)]


@router.post(
    "/quotes/{quote_id}/lines",
    response=responses(QuoteDetailOut, status=201),
    tags=TAGS,
    operation_id="quotes_line_add",
    summary="Add a product at its price-book price",
)
def quotes_line_add(request, quote_id: Id, payload: LinePost):
    quotes.quote_line_add(**actor_scope(request), quote_id=quote_id, **payload.dict())
    return Status(201, _detail(request, quote_id))


@router.patch(
    "/quotes/{quote_id}/lines/{line_id}",
    response=responses(QuoteDetailOut),
    tags=TAGS,
    operation_id="quotes_line_update",
    summary="Change a line's quantity, discount or description",
)
def quotes_line_update(request, quote_id: Id, line_id: Id, payload: LinePatch):
    changes = payload.changes()
    lock_version = changes.pop("lock_version")
    quotes.quote_line_update(
        **actor_scope(request),
        quote_id=quote_id,
        line_id=line_id,
        lock_version=lock_version,
        **changes,
    )
    return _detail(request, quote_id)


@router.delete(
    "/quotes/{quote_id}/lines/{line_id}",
    response=responses(QuoteDetailOut),
    tags=TAGS,
    operation_id="quotes_line_remove",
    summary="Remove a line (`lock_version` as a query parameter)",
)
def quotes_line_remove(request, quote_id: Id, line_id: Id, lock_version: int = Query(..., ge=1)):
    quotes.quote_line_remove(
        **actor_scope(request), quote_id=quote_id, line_id=line_id, lock_version=lock_version
    )
    return _detail(request, quote_id)


@router.post(
    "/quotes/{quote_id}/submit",
    response=responses(ApprovalOut, status=201),
    tags=TAGS,
    operation_id="quotes_submit",
    summary="Ask a manager to approve a quote that has approval reasons",
)
def quotes_submit(request, quote_id: Id, payload: SubmitIn):
    approval = quote_approvals.quote_submit(
        **actor_scope(request), quote_id=quote_id, **payload.dict()
    )
    return Status(201, _approval_out(_approval(request, approval.pk)))


def _approval(request, approval_id):
    from guanxi.common.errors import NotFound

    row = (
        quote_approvals.approval_queryset(**actor_scope(request))
        .select_related("decided_by")
        .filter(pk=approval_id)
        .first()
    )
    if row is None:
        raise NotFound()
    return row


def _pending_of(request, quote_id) -> int:
    quote = selectors.quote_get(**actor_scope(request), quote_id=quote_id)
    pending = quote_approvals.pending_approval_id(workspace=request.workspace, quote=quote)
    if pending is None:
        raise Conflict(_("This quote is not waiting for approval."), code="quote_not_pending")
    return pending


@router.post(
    "/quotes/{quote_id}/approve",
    response=responses(ApprovalOut),
    tags=TAGS,
    operation_id="quotes_approve",
    summary="Approve the quote's pending request (managers of the rep's team)",
)
def quotes_approve(request, quote_id: Id, payload: DecisionIn):
    approval = quote_approvals.quote_approve(
        **actor_scope(request), approval_id=_pending_of(request, quote_id), comment=payload.comment
    )
    return _approval_out(_approval(request, approval.pk))


@router.post(
    "/quotes/{quote_id}/reject",
    response=responses(ApprovalOut),
    tags=TAGS,
    operation_id="quotes_reject",
    summary="Reject the quote's pending request (a comment is required)",
)
def quotes_reject(request, quote_id: Id, payload: DecisionIn):
    approval = quote_approvals.quote_reject(
        **actor_scope(request), approval_id=_pending_of(request, quote_id), comment=payload.comment
    )
    return _approval_out(_approval(request, approval.pk))


@router.post(
    "/quotes/{quote_id}/send",
    response=responses(QuoteDetailOut),
    tags=TAGS,
    operation_id="quotes_send",
    summary="Send the quote (e-mailed with its PDF unless `email` is false)",
    description="409 when it still needs approval, is waiting for it, expired, or was "
    "already sent.",
)
def quotes_send(request, quote_id: Id, payload: SendIn):
    quotes.quote_send(**actor_scope(request), quote_id=quote_id, **payload.dict())
    return _detail(request, quote_id)


@router.post(
    "/quotes/{quote_id}/accept",
    response=responses(QuoteDetailOut),
    tags=TAGS,
    operation_id="quotes_accept",
    summary="The customer accepted: make the order (and win the deal)",
)
def quotes_accept(request, quote_id: Id, payload: AcceptIn):
    quotes.quote_accept(**actor_scope(request), quote_id=quote_id, **payload.dict())
    return _detail(request, quote_id)


@router.post(
    "/quotes/{quote_id}/decline",
    response=responses(QuoteDetailOut),
    tags=TAGS,
    operation_id="quotes_decline",
    summary="The customer declined a sent quote",
)
def quotes_decline(request, quote_id: Id, payload: DeclineIn):
    quotes.quote_decline(**actor_scope(request), quote_id=quote_id, **payload.dict())
    return _detail(request, quote_id)


@router.post(
    "/quotes/{quote_id}/versions",
    response=responses(QuoteDetailOut, status=201),
    tags=TAGS,
    operation_id="quotes_new_version",
    summary="Make the next version (a draft copy); this one becomes superseded",
)
def quotes_new_version(request, quote_id: Id, payload: LockIn):
    new = quotes.quote_new_version(**actor_scope(request), quote_id=quote_id, **payload.dict())
    return Status(201, _detail(request, new.pk))


@router.get(
    "/quotes/{quote_id}/versions",
    response=responses(list[QuoteOut]),
    tags=TAGS,
    operation_id="quotes_versions",
    summary="Every version of this quote's number, newest first",
)
def quotes_versions(request, quote_id: Id):
    quote = selectors.quote_get(**actor_scope(request), quote_id=quote_id)
    ids = [v.pk for v in selectors.quote_versions(quote)]
    qs = selectors.quote_list(**actor_scope(request)).filter(pk__in=ids)
    return [_quote_out(q) for q in sorted(qs, key=lambda q: -q.version_number)]


@router.get(
    "/quotes/{quote_id}/price-history",
    response=responses(list[ProductHistoryOut]),
    tags=TAGS,
    operation_id="quotes_price_history",
    summary="Per product on the quote: the customer's last quoted and ordered prices",
)
def quotes_price_history(request, quote_id: Id):
    quote = selectors.quote_get(**actor_scope(request), quote_id=quote_id)
    product_ids = list(dict.fromkeys(line.product_id for line in selectors.quote_lines(quote)))
    history = selectors.price_history(
        **actor_scope(request),
        account_id=quote.account_id,
        contact_id=quote.contact_id,
        product_ids=product_ids,
        exclude_number=quote.number,
    )

    def points(items):
        return [
            {
                "price": p.price,
                "currency": p.currency,
                "day": p.day,
                "who": p.who,
                "status": p.status,
                "reference": p.reference,
            }
            for p in items
        ]

    return [
        {"product_id": pk, "quotes": points(h["quotes"]), "orders": points(h["orders"])}
        for pk, h in history.items()
    ]


@router.get(
    "/quotes/{quote_id}/pdf",
    response=responses(None),
    tags=TAGS,
    operation_id="quotes_pdf",
    summary="The quote as a PDF (in the quote's language)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def quotes_pdf(request, quote_id: Id):
    quote = selectors.quote_get(**actor_scope(request), quote_id=quote_id)
    response = HttpResponse(quote_pdf_bytes(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote_pdf_filename(quote)}"'
    return response


# --- approvals ----------------------------------------------------------------------------------


class ApprovalFilters(Schema):
    status: Literal[("", *ApprovalStatus.values)] = "pending"  # type: ignore[valid-type]


@router.get(
    "/quote-approvals",
    response=responses(page_of(ApprovalOut)),
    tags=APPROVAL_TAGS,
    operation_id="quote_approvals_list",
    summary="Approval requests on the quotes you may see (pending by default), oldest first",
)
def quote_approvals_list(request, filters: Query[ApprovalFilters], page: Query[PageParams]):
    permissions.require(request.user, "sales.quote_approval", Action.READ)
    qs = selectors.approvals_inbox(**actor_scope(request), status=filters.status).select_related(
        "decided_by"
    )
    return page_response(qs, page, _approval_out)


@router.get(
    "/quote-approvals/{approval_id}",
    response=responses(ApprovalOut),
    tags=APPROVAL_TAGS,
    operation_id="quote_approvals_get",
    summary="One approval request",
)
def quote_approvals_get(request, approval_id: Id):
    return _approval_out(_approval(request, approval_id))


@router.post(
    "/quote-approvals/{approval_id}/approve",
    response=responses(ApprovalOut),
    tags=APPROVAL_TAGS,
    operation_id="quote_approvals_approve",
    summary="Approve a request",
)
def quote_approvals_approve(request, approval_id: Id, payload: DecisionIn):
    quote_approvals.quote_approve(
        **actor_scope(request), approval_id=approval_id, comment=payload.comment
    )
    return _approval_out(_approval(request, approval_id))


@router.post(
    "/quote-approvals/{approval_id}/reject",
    response=responses(ApprovalOut),
    tags=APPROVAL_TAGS,
    operation_id="quote_approvals_reject",
    summary="Reject a request (with the reason)",
)
def quote_approvals_reject(request, approval_id: Id, payload: DecisionIn):
    quote_approvals.quote_reject(
        **actor_scope(request), approval_id=approval_id, comment=payload.comment
    )
    return _approval_out(_approval(request, approval_id))
