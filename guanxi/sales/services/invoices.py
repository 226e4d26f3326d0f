"""Invoices and payments: invoice an order (all of what is left, or a part), void an invoice
nobody has paid, record a payment (a part too), and the overdue-payment reminders.

The order row is locked while an invoice or payment changes its figures, so two people
invoicing the same order at once cannot together invoice more than it is worth; the invoice
row is locked while a payment is recorded, so two payments cannot together exceed what is
unpaid. The order keeps ``invoiced_total`` (void invoices excluded) and ``paid_total``.

Reminders: a periodic job makes one task per invoice overdue by the workspace's
``payment_reminder_days``, for the invoice's owner, linked to the customer. The invoice's
``reminder_task_id`` is set in the same transaction as the task is made, with the invoice
row locked, so two workers (or a retried run) make it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.activities import localtime
from guanxi.activities.models import EntryKind
from guanxi.activities.services import tasks as task_services
from guanxi.activities.services.timeline import record_entry
from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Invoice, InvoiceStatus, Order, Payment, PaymentMethod
from ..objects import INVOICE
from ..selectors import orders as order_selectors
from .orders import ACTIVE_STATUSES, EVENT_PAYMENT_RECEIVED, decimal_or_none, next_free_number
from .setup import sales_settings

log = logging.getLogger(__name__)

OPEN_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID)
EARLIEST = dt.date(2000, 1, 1)
# A payment may be booked a little ahead (a transfer announced for tomorrow), not more.
FUTURE_DAYS = 7


def _money(errors: FieldErrors, value, *, field: str) -> Decimal | None:
    amount = decimal_or_none(value)
    if amount is None:
        errors.add(field, _("Enter an amount."))
        return None
    if amount <= 0:
        errors.add(field, _("The amount must be more than zero."))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.add(field, _("Enter an amount with at most 2 decimal places."))
        return None
    return amount


def _date(errors: FieldErrors, value, *, field: str, default: dt.date) -> dt.date | None:
    if value in (None, ""):
        return default
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, dt.date):
        errors.add(field, _("Enter a date (YYYY-MM-DD)."))
        return None
    if value < EARLIEST or value > default + dt.timedelta(days=366 * 5):
        errors.add(field, _("Enter a date between 2000 and five years from now."))
        return None
    return value


def _visible_order(*, workspace, actor, order_id) -> Order:
    pk = getattr(order_id, "pk", order_id)
    try:
        visible = order_selectors.order_list(workspace=workspace, actor=actor)
        if not visible.filter(pk=pk).exists():
            raise NotFound()
    except (ValueError, TypeError):
        raise NotFound() from None
    return Order.objects.in_workspace(workspace).select_for_update().get(pk=pk)


def _visible_invoice(*, workspace, actor, invoice_id) -> Invoice:
    pk = getattr(invoice_id, "pk", invoice_id)
    try:
        visible = order_selectors.invoice_list(workspace=workspace, actor=actor)
        if not visible.filter(pk=pk).exists():
            raise NotFound()
    except (ValueError, TypeError):
        raise NotFound() from None
    return Invoice.objects.in_workspace(workspace).select_for_update().get(pk=pk)


# --- invoices --------------------------------------------------------------------------------


def invoice_create(
    *,
    actor: User,
    workspace: Workspace,
    order_id,
    amount=None,
    issued_on=None,
    due_on=None,
    number: str | None = None,
) -> Invoice:
    """Invoice an order: ``amount`` (default: all that is not invoiced yet, never more). The
    invoice is issued ``issued_on`` (default today in the actor's zone) and due after the
    order's payment terms unless ``due_on`` says otherwise. Draft and cancelled orders
    cannot be invoiced."""
    permissions.require(actor, INVOICE, Action.CREATE)
    today = localtime.local_today(actor)
    errors = FieldErrors()
    given_amount = None if amount in (None, "") else _money(errors, amount, field="amount")
    issued = _date(errors, issued_on, field="issued_on", default=today)
    due = None if due_on in (None, "") else _date(errors, due_on, field="due_on", default=today)
    if issued and due and due < issued:
        errors.add("due_on", _("The due date is before the invoice date."))
    number = str(number or "").strip() or None
    if number and len(number) > 40:
        errors.add("number", _("At most %(n)s characters.") % {"n": 40})
    errors.raise_if_any()
    try:
        with transaction.atomic():
            order = _visible_order(workspace=workspace, actor=actor, order_id=order_id)
            if order.status not in ACTIVE_STATUSES:
                raise Conflict(
                    _("Only a confirmed, shipped or completed order can be invoiced."),
                    code="order_not_invoiceable",
                )
            left = order.total - order.invoiced_total
            if left <= 0:
                raise Conflict(
                    _("This order is fully invoiced."),
                    code="fully_invoiced",
                    fields={"amount": [_("Nothing is left to invoice.")]},
                )
            value = left if given_amount is None else given_amount
            if value > left:
                raise ApplicationError(
                    _("At most %(left)s %(currency)s of this order is not invoiced yet.")
                    % {"left": left, "currency": order.currency},
                    code="over_invoiced",
                    fields={"amount": [_("More than is left to invoice.")]},
                )
            if number is None:
                number = next_free_number(
                    workspace=workspace,
                    kind="i",
                    prefix=sales_settings(workspace).invoice_number_prefix,
                    year=issued.year,
                    taken=lambda n: (
                        Invoice.objects.in_workspace(workspace).filter(number=n).exists()
                    ),
                )
            elif Invoice.objects.in_workspace(workspace).filter(number=number).exists():
                raise Conflict(
                    _("Invoice number %(number)s is already taken.") % {"number": number},
                    fields={"number": [_("This number is already taken.")]},
                )
            with transaction.atomic():
                invoice = Invoice.objects.create(
                    workspace=workspace,
                    order=order,
                    number=number,
                    issued_on=issued,
                    due_on=due or issued + dt.timedelta(days=order.payment_terms_days),
                    currency=order.currency,
                    amount=value,
                    exchange_rate=order.exchange_rate,
                    account_id=order.account_id,
                    contact_id=order.contact_id,
                    owner_id=order.owner_id,
                )
            order.invoiced_total = order.invoiced_total + value
            order.save(update_fields=["invoiced_total", "updated_at"])
            audit.log_create(actor=actor, instance=invoice)
    except IntegrityError:
        raise Conflict(
            _("Invoice number %(number)s is already taken.") % {"number": number},
            fields={"number": [_("This number is already taken.")]},
        ) from None
    return invoice


def invoice_void(*, actor: User, workspace: Workspace, invoice_id) -> Invoice:
    """Void an invoice nobody has paid anything on; its amount can be invoiced again."""
    permissions.require(actor, INVOICE, Action.UPDATE)
    with transaction.atomic():
        invoice = _visible_invoice(workspace=workspace, actor=actor, invoice_id=invoice_id)
        if invoice.status == InvoiceStatus.VOID:
            return invoice
        if invoice.paid_amount > 0:
            raise Conflict(
                _("A payment was recorded on this invoice, so it cannot be voided."),
                code="invoice_paid",
            )
        order = Order.objects.in_workspace(workspace).select_for_update().get(pk=invoice.order_id)
        before = audit.snapshot(invoice)
        invoice.status = InvoiceStatus.VOID
        invoice.save(update_fields=["status", "updated_at"])
        order.invoiced_total = order.invoiced_total - invoice.amount
        order.save(update_fields=["invoiced_total", "updated_at"])
        audit.log_update(actor=actor, instance=invoice, before=before)
    return invoice


# --- payments --------------------------------------------------------------------------------


def payment_record(
    *,
    actor: User,
    workspace: Workspace,
    invoice_id,
    amount,
    received_on=None,
    method: str = PaymentMethod.BANK_TRANSFER,
    reference: str = "",
) -> Payment:
    """Record money received against an invoice (a part is fine, more than is unpaid is
    not). The invoice becomes partly paid or paid; the order's ``paid_total`` follows; the
    customer's timeline says so."""
    permissions.require(actor, INVOICE, Action.UPDATE)
    today = localtime.local_today(actor)
    errors = FieldErrors()
    value = _money(errors, amount, field="amount")
    received = _date(errors, received_on, field="received_on", default=today)
    if received and received > today + dt.timedelta(days=FUTURE_DAYS):
        errors.add("received_on", _("A payment cannot be booked that far ahead."))
    method = str(method or PaymentMethod.BANK_TRANSFER)
    if method not in PaymentMethod.values:
        errors.add("method", _("“%(value)s” is not one of the choices.") % {"value": method})
    reference = str(reference or "").strip()
    if len(reference) > 120 or "\x00" in reference:
        errors.add("reference", _("At most %(n)s characters.") % {"n": 120})
    errors.raise_if_any()
    with transaction.atomic():
        invoice = _visible_invoice(workspace=workspace, actor=actor, invoice_id=invoice_id)
        if invoice.status not in OPEN_STATUSES:
            raise Conflict(
                _("This invoice is %(status)s; no payment can be recorded on it.")
                % {"status": InvoiceStatus(invoice.status).label.lower()},
                code="invoice_closed",
            )
        unpaid = invoice.amount - invoice.paid_amount
        if value > unpaid:
            raise ApplicationError(
                _("Only %(unpaid)s %(currency)s is unpaid on this invoice.")
                % {"unpaid": unpaid, "currency": invoice.currency},
                code="overpaid",
                fields={"amount": [_("More than is unpaid.")]},
            )
        payment = Payment.objects.create(
            workspace=workspace,
            invoice=invoice,
            received_on=received,
            amount=value,
            method=method,
            reference=reference,
            recorded_by=actor,
        )
        before = audit.snapshot(invoice)
        invoice.paid_amount = invoice.paid_amount + value
        invoice.status = (
            InvoiceStatus.PAID
            if invoice.paid_amount >= invoice.amount
            else InvoiceStatus.PARTLY_PAID
        )
        invoice.save(update_fields=["paid_amount", "status", "updated_at"])
        Order.objects.in_workspace(workspace).filter(pk=invoice.order_id).update(
            paid_total=F("paid_total") + value, updated_at=timezone.now()
        )
        audit.log_create(actor=actor, instance=payment)
        audit.log_update(actor=actor, instance=invoice, before=before)
        record_entry(
            workspace=workspace,
            author=actor,
            kind=EntryKind.SYSTEM,
            subtype=EVENT_PAYMENT_RECEIVED,
            channel="system",
            account=invoice.account_id,
            contacts=[invoice.contact_id] if invoice.contact_id else [],
            data={
                "invoice": invoice.number,
                "amount": str(value),
                "currency": invoice.currency,
                "paid_in_full": invoice.status == InvoiceStatus.PAID,
            },
            related_object_key=INVOICE,
            related_object_id=invoice.pk,
        )
    return payment


# --- overdue reminders -----------------------------------------------------------------------


def _reminder_actor(invoice: Invoice) -> User | None:
    owner = invoice.owner
    if owner is not None and owner.is_active:
        return owner
    return None


def reminders_create_overdue(*, workspace_id: int, today: dt.date | None = None) -> int:
    """Make the overdue-payment tasks of one workspace: one per open invoice whose due date
    is ``payment_reminder_days`` or more behind, once. Returns how many were made."""
    workspace = Workspace.objects.get(pk=workspace_id)
    days = sales_settings(workspace).payment_reminder_days
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=days)
    candidates = list(
        Invoice.objects.in_workspace(workspace)
        .filter(status__in=OPEN_STATUSES, due_on__lte=cutoff, reminder_task_id__isnull=True)
        .order_by("due_on", "id")
        .values_list("pk", flat=True)[:5000]
    )
    made = 0
    for pk in candidates:
        with transaction.atomic():
            invoice = (
                Invoice.objects.in_workspace(workspace)
                .select_for_update(of=("self",))
                .filter(pk=pk, reminder_task_id__isnull=True, status__in=OPEN_STATUSES)
                .select_related("owner__role", "owner__team", "order")
                .first()
            )
            if invoice is None:
                continue  # another worker made it, or it was paid meanwhile
            actor = _reminder_actor(invoice)
            if actor is None:
                log.warning("invoice %s is overdue but has no active owner", invoice.pk)
                continue
            with translation.override(actor.language or workspace.language or "zh-hans"):
                title = gettext("Payment overdue: invoice %(number)s") % {"number": invoice.number}
                body = gettext("%(unpaid)s %(currency)s unpaid, due %(due)s (order %(order)s).") % {
                    "unpaid": invoice.amount - invoice.paid_amount,
                    "currency": invoice.currency,
                    "due": invoice.due_on.isoformat(),
                    "order": invoice.order.number,
                }
            try:
                task = task_services.task_create(
                    actor=actor,
                    workspace=workspace,
                    title=title[:200],
                    description=body,
                    kind="call",
                    priority="high",
                    due_at=dt.datetime.combine(localtime.local_today(actor), dt.time.min),
                    all_day=True,
                    assignee_id=actor.pk,
                    account_id=invoice.account_id,
                    contact_id=invoice.contact_id,
                    related_object_key=INVOICE,
                    related_object_id=invoice.pk,
                )
            except ApplicationError as exc:
                # The owner may no longer see the customer (reassigned): the task says
                # which invoice it is about and the customer is named in it.
                log.warning("reminder for invoice %s: %s", invoice.pk, exc.as_dict())
                continue
            Invoice.objects.in_workspace(workspace).filter(pk=invoice.pk).update(
                reminder_task_id=task.pk
            )
            made += 1
    return made


def reminders_run(*, today: dt.date | None = None) -> dict:
    """The periodic job: every workspace with open overdue invoices."""
    workspace_ids = (
        Invoice.objects.across_workspaces()
        .filter(status__in=OPEN_STATUSES, reminder_task_id__isnull=True)
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    made = 0
    for workspace_id in sorted(set(workspace_ids)):
        made += reminders_create_overdue(workspace_id=workspace_id, today=today)
    return {"made": made}
