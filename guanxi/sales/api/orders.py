"""``/orders``, ``/invoices``, ``/receivables``: orders and their status, invoices and
payments, the receivables ageing and credit check, and the order import. The same services
and selectors as the pages; another workspace's ids are 404, missing rights 403."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Literal

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from guanxi.activities import localtime
from guanxi.common.api import Id, PageParams, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import Invoice, Order
from ..models.orders import OrderImport
from ..objects import INVOICE, ORDER
from ..selectors import orders as selectors
from ..selectors import receivables
from ..services import invoices as invoice_services
from ..services import order_import
from ..services import orders as services

router = Router()
TAGS = ["Orders"]
RECEIVABLE_TAGS = ["Receivables"]

OrderStatusName = Literal["draft", "confirmed", "shipped", "completed", "cancelled"]
InvoiceStatusName = Literal["open", "partly_paid", "paid", "void"]
MethodName = Literal["bank", "cash", "cheque", "alipay", "wechat", "card", "other"]
Money = Decimal


# --- schemas ---------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str
    code: str


class LineOut(Schema):
    position: int
    product_id: int | None
    product_code: str | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount: Money


class PaymentOut(Schema):
    id: int
    received_on: dt.date
    amount: Money
    method: MethodName
    reference: str


class InvoiceOut(Schema):
    id: int
    order_id: int
    number: str
    status: InvoiceStatusName
    issued_on: dt.date
    due_on: dt.date
    currency: str
    amount: Money
    paid_amount: Money
    unpaid: Money


class CreditOut(Schema):
    limit: Money | None = Field(..., description="None: the customer has no credit limit.")
    outstanding: Money = Field(..., description="Unpaid invoices + uninvoiced orders (base).")
    available: Money | None
    over: bool
    currency: str = Field(..., description="The workspace's base currency.")
    message: str


class OrderOut(Schema):
    id: int
    number: str
    status: OrderStatusName
    order_date: dt.date
    account: Ref | None
    contact: Ref | None
    owner_id: int | None
    currency: str
    subtotal: Money
    tax_total: Money
    total: Money
    total_base: Money
    invoiced_total: Money
    paid_total: Money
    payment_terms_days: int
    notes: str
    quote_id: int | None
    deal_id: int | None
    created_at: dt.datetime


class OrderDetailOut(OrderOut):
    lines: list[LineOut]
    invoices: list[InvoiceOut]


class OrderCreatedOut(OrderDetailOut):
    credit: CreditOut = Field(..., description="The credit check: a warning, never a block.")


class LineIn(Schema):
    product_id: Id | None = Field(None, description="A product of the workspace.")
    description: bounded_text(300) = ""
    quantity: Decimal = Field(..., gt=0, max_digits=14, decimal_places=3)
    unit_price: Decimal = Field(..., ge=0, max_digits=18, decimal_places=4)
    tax_rate: Decimal | None = Field(
        None, ge=0, le=1, description="A fraction (0.13 for 13%). Empty: the product's rate."
    )


class OrderIn(Schema):
    account_id: Id | None = None
    contact_id: Id | None = Field(None, description="An individual customer (or the person).")
    currency: bounded_text(3, min_length=3)
    order_date: dt.date
    lines: list[LineIn] = Field(..., min_length=1, max_length=500)
    owner_id: Id | None = None
    payment_terms_days: int | None = Field(None, ge=0, le=3650)
    number: bounded_text(40) | None = Field(None, description="Default: SO-<year>-<seq>.")
    notes: bounded_text(10_000) = ""
    draft: bool = False
    quote_id: Id | None = None
    deal_id: Id | None = None


class StatusIn(Schema):
    status: OrderStatusName


class InvoiceIn(Schema):
    amount: Decimal | None = Field(
        None, gt=0, max_digits=18, decimal_places=2, description="Default: all not invoiced."
    )
    issued_on: dt.date | None = None
    due_on: dt.date | None = Field(None, description="Default: after the payment terms.")
    number: bounded_text(40) | None = None


class PaymentIn(Schema):
    amount: Decimal = Field(..., gt=0, max_digits=18, decimal_places=2)
    received_on: dt.date | None = None
    method: MethodName = "bank"
    reference: bounded_text(120) = ""


class OrderFilters(Schema):
    status: OrderStatusName | None = None
    account_id: Id | None = None
    contact_id: Id | None = None


class AgeingRowOut(Schema):
    kind: Literal["account", "contact", "rep", "total"]
    id: int | None
    label: str
    code: str
    d0_30: Money
    d31_60: Money
    d61_90: Money
    d90_plus: Money
    total: Money
    overdue: Money
    invoices: int


class AgeingOut(Schema):
    by: Literal["customer", "rep"]
    as_of: dt.date
    currency: str
    rows: list[AgeingRowOut]
    totals: AgeingRowOut
    truncated: bool = Field(..., description="Only the largest balances are listed.")


class AgeingParams(Schema):
    by: Literal["customer", "rep"] = "customer"


class CreditParams(Schema):
    account_id: Id | None = None
    contact_id: Id | None = None


class ImportOut(Schema):
    id: int
    file_name: str
    lines_total: int | None
    lines_done: int
    orders_created: int
    lines_created: int
    products_created: int
    customers_created: int = Field(
        ..., description="Accounts made for unknown customer codes (`create_customers`)."
    )
    failed: int
    skipped: int = Field(
        ..., description="Return lines left out (`returns` = `skip`); not counted as failed."
    )
    returns: str = Field(..., description="What became of return lines: refuse, skip or credit.")
    create_customers: bool
    job_id: int | None
    job_state: str | None
    finished_at: dt.datetime | None


# --- serializers -----------------------------------------------------------------------------


def _ref(row) -> dict | None:
    return {"id": row.pk, "name": row.name, "code": row.code} if row is not None else None


def order_out(order: Order) -> dict:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "order_date": order.order_date,
        "account": _ref(order.account) if order.account_id else None,
        "contact": _ref(order.contact) if order.contact_id else None,
        "owner_id": order.owner_id,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "tax_total": order.tax_total,
        "total": order.total,
        "total_base": order.total_base,
        "invoiced_total": order.invoiced_total,
        "paid_total": order.paid_total,
        "payment_terms_days": order.payment_terms_days,
        "notes": order.notes,
        "quote_id": order.quote_id,
        "deal_id": order.deal_id,
        "created_at": order.created_at,
    }


def invoice_out(invoice: Invoice) -> dict:
    return {
        "id": invoice.pk,
        "order_id": invoice.order_id,
        "number": invoice.number,
        "status": invoice.status,
        "issued_on": invoice.issued_on,
        "due_on": invoice.due_on,
        "currency": invoice.currency,
        "amount": invoice.amount,
        "paid_amount": invoice.paid_amount,
        "unpaid": invoice.amount - invoice.paid_amount,
    }


def _detail(request, order_id) -> dict:
    order = selectors.order_detail(**actor_scope(request), order_id=order_id)
    data = order_out(order)
    data["lines"] = [
        {
            "position": line.position,
            "product_id": line.product_id,
            "product_code": line.product.code if line.product_id else None,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
            "amount": line.amount,
        }
        for line in order.lines.all()
    ]
    data["invoices"] = [invoice_out(i) for i in order.invoices.all()]
    return permissions.redact(request.user, ORDER, data)


def credit_out(credit) -> dict:
    return {
        "limit": credit.limit,
        "outstanding": credit.outstanding,
        "available": credit.available,
        "over": credit.over,
        "currency": credit.currency,
        "message": credit.message,
    }


def import_out(run: OrderImport) -> dict:
    return {
        "id": run.pk,
        "file_name": run.file_name,
        "lines_total": run.lines_total,
        "lines_done": run.lines_done,
        "orders_created": run.orders_created,
        "lines_created": run.lines_created,
        "products_created": run.products_created,
        "customers_created": run.customers_created,
        "failed": run.failed,
        "skipped": run.skipped,
        "returns": run.options.get("returns") or order_import.REFUSE,
        "create_customers": bool(run.options.get("create_customers")),
        "job_id": run.job_id,
        "job_state": run.job.state if run.job_id else None,
        "finished_at": run.finished_at,
    }


# --- import (declared before /orders/{order_id}, which would match its path) ----------------------------------------------------------------------------------


@router.post(
    "/orders/import",
    response=documented(ImportOut, status=202),
    tags=TAGS,
    operation_id="orders_import",
    summary="Import orders from a CSV file (runs in the background)",
)
def orders_import(
    request,
    file: File[UploadedFile],
    create_products: Form[bool] = False,
    settled: Form[bool] = True,
    returns: Form[Literal["refuse", "skip", "credit"]] = "refuse",
    create_customers: Form[bool] = False,
):
    """Columns: customer code, date, product (code), quantity, amount; optionally order
    number, unit price, currency. ``create_products`` creates unknown product codes;
    ``settled`` (default) marks the orders as past sales already invoiced and paid.

    ``returns`` — lines with a negative quantity or amount (cancellations, credit notes):
    ``refuse`` (default) reports them as bad lines and leaves their order out; ``skip``
    leaves them out and imports the rest of their order (counted in ``skipped``);
    ``credit`` imports them as given, so they reduce the customer's revenue (an order may
    total below zero). ``create_customers`` makes an account for each unknown customer
    code (code and name = the code, owned by the importer; needs the right to create
    accounts, else 403), counted in ``customers_created``."""
    run = order_import.order_import_create(
        **actor_scope(request),
        file_name=file.name,
        source=file,
        create_products=create_products,
        settled=settled,
        returns=returns,
        create_customers=create_customers,
    )
    run = order_import.order_import_start(**actor_scope(request), import_id=run.pk)
    run = order_import.order_import_get(**actor_scope(request), import_id=run.pk)
    return Status(202, import_out(run))


@router.get(
    "/orders/import/{import_id}",
    response=documented(ImportOut),
    tags=TAGS,
    operation_id="orders_import_get",
    summary="An order import's progress and counts",
)
def orders_import_get(request, import_id: Id):
    return import_out(order_import.order_import_get(**actor_scope(request), import_id=import_id))


@router.get(
    "/orders/import/{import_id}/errors",
    response=documented(None),
    tags=TAGS,
    operation_id="orders_import_errors",
    summary="The import's report of bad lines as CSV (line, column, value, message)",
    openapi_extra={
        "responses": {200: {"description": "CSV", "content": {"text/csv": {"schema": {}}}}}
    },
)
def orders_import_errors(request, import_id: Id):
    run = order_import.order_import_get(**actor_scope(request), import_id=import_id)
    path = Path(run.error_path) if run.error_path else None
    if path is None or not path.exists():
        raise NotFound()
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"order-import-{run.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


# --- orders ----------------------------------------------------------------------------------


@router.get(
    "/orders",
    response=documented(page_of(OrderOut)),
    tags=TAGS,
    operation_id="orders_list",
    summary="List the orders you may see, newest first",
)
def orders_list(request, filters: Query[OrderFilters], page: Query[PageParams]):
    permissions.require(request.user, ORDER, Action.READ)
    qs = selectors.order_list(**actor_scope(request))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.account_id:
        qs = qs.filter(account_id=filters.account_id)
    if filters.contact_id:
        qs = qs.filter(contact_id=filters.contact_id)
    return page_response(qs, page, order_out, key="pk", descending=True)


@router.post(
    "/orders",
    response=documented(OrderCreatedOut, status=201),
    tags=TAGS,
    operation_id="orders_create",
    summary="Place an order (over the credit limit: a warning in `credit`, not a refusal)",
)
def orders_create(request, payload: OrderIn):
    order = services.order_create(
        **actor_scope(request),
        account=payload.account_id,
        contact=payload.contact_id,
        currency=payload.currency,
        order_date=payload.order_date,
        lines=[
            services.OrderLineInput(
                product=line.product_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                description=line.description,
            )
            for line in payload.lines
        ],
        owner=payload.owner_id,
        payment_terms_days=payload.payment_terms_days,
        number=payload.number,
        notes=payload.notes,
        status="draft" if payload.draft else "confirmed",
        quote=payload.quote_id,
        deal=payload.deal_id,
    )
    data = _detail(request, order.pk)
    data["credit"] = credit_out(order.credit_status)
    return Status(201, data)


@router.get(
    "/orders/{order_id}",
    response=documented(OrderDetailOut),
    tags=TAGS,
    operation_id="orders_get",
    summary="An order with its lines and invoices",
)
def orders_get(request, order_id: Id):
    return _detail(request, order_id)


@router.post(
    "/orders/{order_id}/status",
    response=documented(OrderDetailOut),
    tags=TAGS,
    operation_id="orders_set_status",
    summary="Confirm, ship, complete or cancel (cancel is refused once invoiced or paid: 409)",
)
def orders_set_status(request, order_id: Id, payload: StatusIn):
    services.order_set_status(**actor_scope(request), order_id=order_id, status=payload.status)
    return _detail(request, order_id)


@router.get(
    "/orders/{order_id}/invoices",
    response=documented(list[InvoiceOut]),
    tags=TAGS,
    operation_id="orders_invoices_list",
    summary="The order's invoices",
)
def orders_invoices_list(request, order_id: Id):
    permissions.require(request.user, INVOICE, Action.READ)
    order = selectors.order_get(**actor_scope(request), order_id=order_id)
    qs = selectors.invoice_list(**actor_scope(request)).filter(order=order).order_by("id")
    return [invoice_out(i) for i in qs]


@router.post(
    "/orders/{order_id}/invoices",
    response=documented(InvoiceOut, status=201),
    tags=TAGS,
    operation_id="orders_invoices_create",
    summary="Invoice the order: all that is left, or part of it (never more)",
)
def orders_invoices_create(request, order_id: Id, payload: InvoiceIn):
    invoice = invoice_services.invoice_create(
        **actor_scope(request), order_id=order_id, **payload.dict()
    )
    return Status(201, invoice_out(invoice))


@router.post(
    "/invoices/{invoice_id}/void",
    response=documented(InvoiceOut),
    tags=TAGS,
    operation_id="invoices_void",
    summary="Void an invoice nobody has paid anything on (409 otherwise)",
)
def invoices_void(request, invoice_id: Id):
    return invoice_out(invoice_services.invoice_void(**actor_scope(request), invoice_id=invoice_id))


@router.get(
    "/invoices/{invoice_id}/payments",
    response=documented(list[PaymentOut]),
    tags=TAGS,
    operation_id="invoices_payments_list",
    summary="The payments received on an invoice",
)
def invoices_payments_list(request, invoice_id: Id):
    permissions.require(request.user, INVOICE, Action.READ)
    invoice = selectors.invoice_get(**actor_scope(request), invoice_id=invoice_id)
    return [
        {
            "id": p.pk,
            "received_on": p.received_on,
            "amount": p.amount,
            "method": p.method,
            "reference": p.reference,
        }
        for p in selectors.payment_list(**actor_scope(request), invoice=invoice)
    ]


@router.post(
    "/invoices/{invoice_id}/payments",
    response=documented(InvoiceOut, status=201),
    tags=TAGS,
    operation_id="invoices_payments_create",
    summary="Record a payment (part is fine, more than unpaid is not); returns the invoice",
)
def invoices_payments_create(request, invoice_id: Id, payload: PaymentIn):
    invoice_services.payment_record(**actor_scope(request), invoice_id=invoice_id, **payload.dict())
    invoice = selectors.invoice_get(**actor_scope(request), invoice_id=invoice_id)
    return Status(201, invoice_out(invoice))


# --- receivables -----------------------------------------------------------------------------


def _ageing_row(row) -> dict:
    return {
        "kind": row.kind,
        "id": row.key,
        "label": str(row.label),
        "code": row.code,
        **row.buckets,
        "total": row.total,
        "overdue": row.overdue,
        "invoices": row.invoices,
    }


@router.get(
    "/receivables/ageing",
    response=documented(AgeingOut),
    tags=RECEIVABLE_TAGS,
    operation_id="receivables_ageing",
    summary="Open invoices by age (0–30, 31–60, 61–90, 90+ days) per customer or rep",
)
def receivables_ageing(request, params: Query[AgeingParams]):
    permissions.require(request.user, INVOICE, Action.READ)
    report = receivables.ageing(
        **actor_scope(request), by=params.by, as_of=localtime.local_today(request.user)
    )
    return {
        "by": report.by,
        "as_of": report.as_of,
        "currency": report.currency,
        "rows": [_ageing_row(r) for r in report.rows],
        "totals": _ageing_row(report.totals) | {"label": ""},
        "truncated": report.truncated,
    }


@router.get(
    "/receivables/credit",
    response=documented(CreditOut),
    tags=RECEIVABLE_TAGS,
    operation_id="receivables_credit",
    summary="A customer's credit limit, what they owe and what is left",
)
def receivables_credit(request, params: Query[CreditParams]):
    from guanxi.customers import selectors as customer_selectors

    permissions.require(request.user, INVOICE, Action.READ)
    scope = actor_scope(request)
    if params.account_id:
        customer = customer_selectors.account_get(**scope, account_id=params.account_id)
        credit = receivables.credit_status(workspace=request.workspace, account=customer)
    elif params.contact_id:
        customer = customer_selectors.contact_get(**scope, contact_id=params.contact_id)
        credit = receivables.credit_status(workspace=request.workspace, contact=customer)
    else:
        raise ApplicationError(
            _("Name the customer: account_id or contact_id."),
            fields={"account_id": [_("This field is required.")]},
        )
    return credit_out(credit)
