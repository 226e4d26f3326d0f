"""Orders: create one (from a form, the API, an accepted quote or the import), and move it
through its status flow (confirm, ship, complete, cancel).

Every service checks the actor's rights before its transaction (so the audit row of a
denial survives), validates all its input at once (nothing is written when any of it is
wrong), and writes its audit row and timeline entry in the same transaction.

Numbers are ``<prefix>-<year>-<seq>`` (``SO-2026-000042``): the sequence is one counter row
per workspace and year, bumped with an UPDATE inside the order's transaction, so two orders
saved at once never get the same number. A credit limit is a warning, never a block: the
order carries ``credit_status`` (a ``CreditStatus``) and ``credit_warning`` (the message, or
None) for the page and the API to show.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import EntryKind
from guanxi.activities.services.timeline import record_entry
from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.services.codes import codes_reserve
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Deal, Order, OrderLine, OrderStatus, Product, Quote, TaxRate
from ..objects import ORDER
from ..selectors import receivables
from .money import rate as exchange_rate
from .money import round_money
from .setup import sales_settings

# Timeline subtypes of the orders part (sentences: ``orders_ui``).
EVENT_ORDER_PLACED = "order_placed"
EVENT_ORDER_CANCELLED = "order_cancelled"
EVENT_PAYMENT_RECEIVED = "payment_received"

MAX_LINES = 500
MAX_QUANTITY = Decimal("99999999999")  # fits max_digits=14, decimal_places=3
MAX_PRICE = Decimal("99999999999999")  # fits max_digits=18, decimal_places=4
MAX_TERMS_DAYS = 3650
DEFAULT_TERMS_DAYS = 30
SEQUENCE_WIDTH = 6
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")

# Which status may follow which; cancelling has its own rule (nothing invoiced or paid).
NEXT_STATUS = {
    OrderStatus.DRAFT: {OrderStatus.CONFIRMED, OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.COMPLETED, OrderStatus.CANCELLED},
    OrderStatus.COMPLETED: set(),
    OrderStatus.CANCELLED: set(),
}
# Orders that count as owed (credit) and may be invoiced.
ACTIVE_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


@dataclass
class OrderLineInput:
    """One line of a new order. ``product`` is a Product (or its id) of the workspace, or
    None for a free-text line (then ``description`` is required). ``tax_rate`` is a fraction
    (0.13 for 13%); None takes the product's rate, else the workspace's default."""

    product: Any
    quantity: Any
    unit_price: Any
    tax_rate: Any = None
    description: str = ""


# --- numbers ---------------------------------------------------------------------------------


def _sequence_key(kind: str, year: int) -> str:
    # One counter per kind and year (the counter table's keys are at most 8 characters).
    return f"{kind}{year:04d}"


def reserve_numbers(*, workspace, kind: str, prefix: str, year: int, count: int) -> list[str]:
    """``count`` fresh numbers ``<prefix>-<year>-<seq>``; a number once handed out is never
    handed out again, even if the transaction that asked for it rolls back. ``kind`` is
    ``o`` (orders) or ``i`` (invoices)."""
    key = _sequence_key(kind, year)
    codes = codes_reserve(workspace=workspace, prefix=key, count=count)
    return [f"{prefix}-{year:04d}-{int(code[len(key) :]):0{SEQUENCE_WIDTH}d}" for code in codes]


def next_free_number(*, workspace, kind: str, prefix: str, year: int, taken) -> str:
    """The next reserved number that ``taken(number)`` says is not in use (numbers typed by
    hand or imported may already hold one)."""
    for _attempt in range(1000):
        number = reserve_numbers(workspace=workspace, kind=kind, prefix=prefix, year=year, count=1)[
            0
        ]
        if not taken(number):
            return number
    raise Conflict(_("Could not find a free number; check the number prefix in the settings."))


# --- validation helpers ----------------------------------------------------------------------


def decimal_or_none(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def terms_days_from_text(text: str) -> int | None:
    """The days in a customer's payment terms ("30天", "Net 45", "60 days"), if any."""
    found = re.search(r"\d{1,4}", text or "")
    return int(found.group()) if found else None


def _customer(errors: FieldErrors, *, workspace, actor, account, contact):
    """The account and contact rows, visible to the actor (ids or rows accepted)."""
    found_account = found_contact = None
    if account not in (None, ""):
        pk = getattr(account, "pk", account)
        found_account = (
            customer_selectors.account_list(workspace=workspace, actor=actor)
            .filter(pk=_int(pk))
            .first()
        )
        if found_account is None:
            errors.add("account", _("Choose an account you can see."))
    if contact not in (None, ""):
        pk = getattr(contact, "pk", contact)
        found_contact = (
            customer_selectors.contact_list(workspace=workspace, actor=actor)
            .filter(pk=_int(pk))
            .first()
        )
        if found_contact is None:
            errors.add("contact", _("Choose a contact you can see."))
    if account in (None, "") and contact in (None, ""):
        errors.add("account", _("Choose the customer: an account or an individual."))
    return found_account, found_contact


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _owner(errors: FieldErrors, *, workspace, actor, owner) -> User | None:
    if owner in (None, ""):
        return actor
    pk = getattr(owner, "pk", owner)
    user = User.objects.filter(workspace=workspace, pk=_int(pk), is_active=True).first()
    if user is None:
        errors.add("owner", _("Choose an active user of this workspace."))
    return user


def _related(errors: FieldErrors, workspace, model, value, field: str):
    if value in (None, ""):
        return None
    pk = getattr(value, "pk", value)
    row = model.objects.in_workspace(workspace).filter(pk=_int(pk)).first()
    if row is None:
        errors.add(field, _("That record does not exist."))
    return row


def _clean_lines(errors: FieldErrors, *, workspace, lines) -> list[dict]:
    lines = list(lines or [])
    if not lines:
        errors.add("lines", _("An order needs at least one line."))
        return []
    if len(lines) > MAX_LINES:
        errors.add("lines", _("An order has at most %(n)s lines.") % {"n": MAX_LINES})
        return []
    product_ids = {
        _int(getattr(line.product, "pk", line.product))
        for line in lines
        if line.product not in (None, "")
    }
    products = (
        Product.objects.in_workspace(workspace)
        .filter(pk__in=product_ids)
        .select_related("tax_rate")
        .in_bulk()
        if product_ids
        else {}
    )
    default_rate = (
        TaxRate.objects.in_workspace(workspace)
        .filter(is_default=True, active=True)
        .values_list("rate", flat=True)
        .first()
    )
    cleaned = []
    for position, line in enumerate(lines, start=1):
        field = f"lines.{position}"
        product = None
        if line.product not in (None, ""):
            product = products.get(_int(getattr(line.product, "pk", line.product)))
            if product is None:
                errors.add(f"{field}.product", _("Choose a product of this workspace."))
        description = str(line.description or "").strip()
        if "\x00" in description or len(description) > 300:
            errors.add(f"{field}.description", _("At most 300 characters."))
        if product is None and line.product in (None, "") and not description:
            errors.add(f"{field}.product", _("Choose a product or describe the line."))
        quantity = decimal_or_none(line.quantity)
        if quantity is None:
            errors.add(f"{field}.quantity", _("Enter a number."))
        elif quantity <= 0:
            errors.add(f"{field}.quantity", _("The quantity must be more than zero."))
        elif quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.001")):
            errors.add(f"{field}.quantity", _("Enter a quantity with at most 3 decimal places."))
        unit_price = decimal_or_none(line.unit_price)
        if unit_price is None:
            errors.add(f"{field}.unit_price", _("Enter a number."))
        elif unit_price < 0:
            errors.add(f"{field}.unit_price", _("The price cannot be negative."))
        elif unit_price > MAX_PRICE:
            errors.add(f"{field}.unit_price", _("The price is too large."))
        else:
            # A discounted price (an accepted quote's) may have more places than are kept.
            unit_price = unit_price.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        if line.tax_rate in (None, ""):
            if product is not None and product.tax_rate is not None:
                tax_rate = product.tax_rate.rate
            else:
                tax_rate = default_rate or Decimal(0)
        else:
            tax_rate = decimal_or_none(line.tax_rate)
            if tax_rate is None or not Decimal(0) <= tax_rate <= Decimal(1):
                errors.add(
                    f"{field}.tax_rate",
                    _("Enter the tax rate as a fraction between 0 and 1 (0.13 for 13%)."),
                )
        cleaned.append(
            {
                "position": position,
                "product": product,
                "description": description or (product.name if product else ""),
                "quantity": quantity,
                "unit_price": unit_price,
                "tax_rate": tax_rate,
            }
        )
    return cleaned


# --- create ----------------------------------------------------------------------------------


def order_create(
    *,
    actor: User,
    workspace: Workspace,
    account=None,
    contact=None,
    currency: str,
    order_date: dt.date,
    lines,
    quote=None,
    deal=None,
    owner=None,
    payment_terms_days: int | None = None,
    number: str | None = None,
    notes: str = "",
    status: str = OrderStatus.CONFIRMED,
) -> Order:
    """Place an order for an account or an individual (contact). Totals are computed from the
    lines (net amounts rounded per line, tax per line); the base-currency figures use the
    rate of the order date (a currency without one is refused). A customer over its credit
    limit does not block the order: ``order.credit_warning`` says so."""
    permissions.require(actor, ORDER, Action.CREATE)
    errors = FieldErrors()
    account_row, contact_row = _customer(
        errors, workspace=workspace, actor=actor, account=account, contact=contact
    )
    owner_row = _owner(errors, workspace=workspace, actor=actor, owner=owner)
    quote_row = _related(errors, workspace, Quote, quote, "quote")
    deal_row = _related(errors, workspace, Deal, deal, "deal")
    currency = str(currency or "").strip().upper()
    if not CURRENCY_RE.match(currency):
        errors.add("currency", _("Enter a three-letter currency code (CNY, USD …)."))
    if isinstance(order_date, dt.datetime):
        order_date = order_date.date()
    if not isinstance(order_date, dt.date):
        errors.add("order_date", _("Enter a date."))
        order_date = None
    if status not in (OrderStatus.DRAFT, OrderStatus.CONFIRMED):
        errors.add("status", _("A new order is a draft or confirmed."))
    notes = str(notes or "").strip()
    if "\x00" in notes or len(notes) > 10_000:
        errors.add("notes", _("At most %(n)s characters.") % {"n": 10_000})
    if number not in (None, ""):
        number = str(number).strip()
        if len(number) > 40 or "\x00" in number:
            errors.add("number", _("At most %(n)s characters.") % {"n": 40})
    else:
        number = None
    if payment_terms_days in (None, ""):
        payment_terms_days = (
            terms_days_from_text(account_row.payment_terms if account_row else "")
            or terms_days_from_text(contact_row.payment_terms if contact_row else "")
            or DEFAULT_TERMS_DAYS
        )
    try:
        payment_terms_days = int(payment_terms_days)
    except (TypeError, ValueError):
        payment_terms_days = -1
    if not 0 <= payment_terms_days <= MAX_TERMS_DAYS:
        errors.add(
            "payment_terms_days",
            _("Payment is due 0 to %(n)s days after the invoice.") % {"n": MAX_TERMS_DAYS},
        )
    cleaned = _clean_lines(errors, workspace=workspace, lines=lines)
    rate = None
    if currency and CURRENCY_RE.match(currency) and order_date is not None:
        try:
            rate = exchange_rate(workspace, currency, order_date)
        except ApplicationError as exc:
            errors.add("currency", exc.message)
    errors.raise_if_any()

    subtotal = tax_total = Decimal(0)
    for line in cleaned:
        line["amount"] = round_money(line["quantity"] * line["unit_price"])
        line["amount_base"] = round_money(line["amount"] * rate)
        subtotal += line["amount"]
        tax_total += round_money(line["amount"] * line["tax_rate"])
    total = subtotal + tax_total
    total_base = round_money(total * rate)
    credit = receivables.credit_status(
        workspace=workspace, account=account_row, contact=contact_row, adding=total_base
    )

    try:
        with transaction.atomic():
            if number is None:
                settings_row = sales_settings(workspace)
                number = next_free_number(
                    workspace=workspace,
                    kind="o",
                    prefix=settings_row.order_number_prefix,
                    year=order_date.year,
                    taken=lambda n: Order.objects.in_workspace(workspace).filter(number=n).exists(),
                )
            elif Order.objects.in_workspace(workspace).filter(number=number).exists():
                raise Conflict(
                    _("Order number %(number)s is already taken.") % {"number": number},
                    fields={"number": [_("This number is already taken.")]},
                )
            with transaction.atomic():
                order = Order.objects.create(
                    workspace=workspace,
                    number=number,
                    status=status,
                    order_date=order_date,
                    account=account_row,
                    contact=contact_row,
                    deal=deal_row,
                    quote=quote_row,
                    owner=owner_row,
                    currency=currency,
                    subtotal=subtotal,
                    tax_total=tax_total,
                    total=total,
                    total_base=total_base,
                    exchange_rate=rate,
                    payment_terms_days=payment_terms_days,
                    notes=notes,
                )
            OrderLine.objects.bulk_create(
                OrderLine(
                    workspace=workspace,
                    order=order,
                    position=line["position"],
                    product=line["product"],
                    description=line["description"],
                    quantity=line["quantity"],
                    unit_price=line["unit_price"],
                    tax_rate=line["tax_rate"],
                    amount=line["amount"],
                    amount_base=line["amount_base"],
                    order_date=order_date,
                    account=account_row,
                    contact=contact_row,
                )
                for line in cleaned
            )
            audit.log_create(actor=actor, instance=order)
            record_entry(
                workspace=workspace,
                author=actor,
                kind=EntryKind.SYSTEM,
                subtype=EVENT_ORDER_PLACED,
                channel="system",
                account=account_row,
                contacts=[contact_row] if contact_row else [],
                data={
                    "number": order.number,
                    "total": str(total),
                    "currency": currency,
                    "lines": len(cleaned),
                },
                related_object_key=ORDER,
                related_object_id=order.pk,
            )
    except IntegrityError:
        raise Conflict(
            _("Order number %(number)s is already taken.") % {"number": number},
            fields={"number": [_("This number is already taken.")]},
        ) from None
    order.credit_status = credit
    order.credit_warning = credit.message if credit.over else None
    return order


# --- status flow -----------------------------------------------------------------------------


def _locked_order(*, workspace, actor, order_id) -> Order:
    """The order, locked for the rest of the transaction, if the actor may see it."""
    from ..selectors import orders as order_selectors

    visible = order_selectors.order_list(workspace=workspace, actor=actor)
    pk = _int(getattr(order_id, "pk", order_id))
    if pk <= 0 or not visible.filter(pk=pk).exists():
        raise NotFound()
    return Order.objects.in_workspace(workspace).select_for_update().get(pk=pk)


def order_set_status(*, actor: User, workspace: Workspace, order_id, status: str) -> Order:
    """Move an order along draft → confirmed → shipped → completed, or cancel it. An order
    with an invoice (not void) or a payment can no longer be cancelled."""
    permissions.require(actor, ORDER, Action.UPDATE)
    if status not in OrderStatus.values:
        raise ApplicationError(
            _("“%(value)s” is not one of the choices.") % {"value": status},
            fields={"status": [_("Choose a status.")]},
        )
    with transaction.atomic():
        order = _locked_order(workspace=workspace, actor=actor, order_id=order_id)
        if status == order.status:
            return order
        if status not in NEXT_STATUS[OrderStatus(order.status)]:
            raise Conflict(
                _("An order that is %(current)s cannot become %(next)s.")
                % {
                    "current": OrderStatus(order.status).label.lower(),
                    "next": OrderStatus(status).label.lower(),
                },
                code="bad_transition",
            )
        if status == OrderStatus.CANCELLED and (order.invoiced_total > 0 or order.paid_total > 0):
            raise Conflict(
                _(
                    "This order has been invoiced or paid, so it cannot be cancelled; void "
                    "its unpaid invoices first."
                ),
                code="order_invoiced",
            )
        before = audit.snapshot(order)
        order.status = status
        order.save(update_fields=["status", "updated_at"])
        audit.log_update(actor=actor, instance=order, before=before)
        if status == OrderStatus.CANCELLED:
            record_entry(
                workspace=workspace,
                author=actor,
                kind=EntryKind.SYSTEM,
                subtype=EVENT_ORDER_CANCELLED,
                channel="system",
                account=order.account_id,
                contacts=[order.contact_id] if order.contact_id else [],
                data={"number": order.number},
                related_object_key=ORDER,
                related_object_id=order.pk,
            )
    return order


def order_confirm(*, actor: User, workspace: Workspace, order_id) -> Order:
    return order_set_status(
        actor=actor, workspace=workspace, order_id=order_id, status=OrderStatus.CONFIRMED
    )


def order_ship(*, actor: User, workspace: Workspace, order_id) -> Order:
    return order_set_status(
        actor=actor, workspace=workspace, order_id=order_id, status=OrderStatus.SHIPPED
    )


def order_complete(*, actor: User, workspace: Workspace, order_id) -> Order:
    return order_set_status(
        actor=actor, workspace=workspace, order_id=order_id, status=OrderStatus.COMPLETED
    )


def order_cancel(*, actor: User, workspace: Workspace, order_id) -> Order:
    return order_set_status(
        actor=actor, workspace=workspace, order_id=order_id, status=OrderStatus.CANCELLED
    )
