"""Quotes: making them, their lines and totals, versions, sending, and the customer's answer.

Prices come from the price books (``pricing.prices_for``): the rep chooses products,
quantities and discounts, never a unit price. Every change recomputes the totals and the
*approval reasons* — a discount above the workspace's threshold, or a net price below what
this customer already holds (the "two prices" rule) — and a quote with reasons cannot be
sent until a manager approved it (``quote_approvals``).

Every change names the ``lock_version`` it read; a stale one is refused with ``Conflict``
and nothing is written (optimistic locking: two reps editing one quote never overwrite each
other). The guard is a conditional ``UPDATE … WHERE lock_version = n`` that also holds on
SQLite, where ``SELECT … FOR UPDATE`` is a no-op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from guanxi.activities import localtime
from guanxi.activities.services.timeline import record_entry
from guanxi.common.errors import (
    ApplicationError,
    Conflict,
    FieldErrors,
    NotFound,
    PermissionDenied,
)
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import (
    ApprovalStatus,
    Deal,
    OrderLine,
    Product,
    Quote,
    QuoteApproval,
    QuoteLine,
    QuoteStatus,
    SalesSettings,
)
from ..objects import DEAL, ORDER, QUOTE
from . import money, pricing
from .setup import sales_settings

HUNDRED = Decimal(100)
PRICE_PLACES = Decimal("0.0001")
MAX_QUANTITY = Decimal("99999999999.999")
MAX_LINES = 200
MAX_TEXT = 5000
# Statuses in which the quote may still be changed; a change sends it back to draft (an
# approval asked for or given no longer holds for changed lines).
EDITABLE = (
    QuoteStatus.DRAFT,
    QuoteStatus.PENDING_APPROVAL,
    QuoteStatus.APPROVED,
    QuoteStatus.REJECTED,
)
# A quote in one of these still binds us to its prices (for the "two prices" rule).
HOLDING = (QuoteStatus.APPROVED, QuoteStatus.SENT, QuoteStatus.ACCEPTED)
EXPIRABLE = (
    QuoteStatus.DRAFT,
    QuoteStatus.PENDING_APPROVAL,
    QuoteStatus.APPROVED,
    QuoteStatus.REJECTED,
    QuoteStatus.SENT,
)
ORDER_PRICE_DAYS = 365
LANGUAGES = ("zh-hans", "zh-hant", "en")


@dataclass
class LineInput:
    product_id: int
    quantity: Decimal | str | int = Decimal(1)
    discount_percent: Decimal | str | int = Decimal(0)
    description: str = ""


@dataclass
class Checks:
    """What the rules found: ``reasons`` need a manager's approval; ``warnings`` are shown."""

    reasons: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


# --- small helpers ---------------------------------------------------------------------------


def _decimal(errors: FieldErrors, value, *, name: str, low=None, high=None, places=2):
    if value in (None, ""):
        errors.add(name, _("Enter a number."))
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors.add(name, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(name, _("Enter a number."))
        return None
    if low is not None and number < low:
        errors.add(name, _("Enter %(low)s or more.") % {"low": low})
        return None
    if high is not None and number > high:
        errors.add(name, _("Enter %(high)s or less.") % {"high": high})
        return None
    if abs(number) >= Decimal(10) ** 15:
        errors.add(name, _("This number is too large."))
        return None
    if number != number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        errors.add(name, _("Use at most %(n)s decimal places.") % {"n": places})
        return None
    return number


def clean_quantity(errors: FieldErrors, value, *, name: str = "quantity") -> Decimal | None:
    quantity = _decimal(errors, value, name=name, high=MAX_QUANTITY, places=3)
    if quantity is not None and quantity <= 0:
        errors.add(name, _("The quantity must be more than zero."))
        return None
    return quantity


def clean_discount(errors: FieldErrors, value, *, name: str = "discount_percent"):
    if value in (None, ""):
        return Decimal(0)
    number = _decimal(errors, value, name=name, places=2)
    if number is None:
        return None
    if number < 0 or number > HUNDRED:
        errors.add(name, _("A discount is between 0 and 100%."))
        return None
    return number


def _text(errors: FieldErrors, value, *, name: str, max_length: int) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        errors.add(name, _("Remove the NUL characters."))
        return ""
    text = text.strip()
    if len(text) > max_length:
        errors.add(name, _("At most %(n)s characters.") % {"n": max_length})
    return text[:max_length]


def _date(errors: FieldErrors, value, *, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = parse_date(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, dt.date) or not (1900 <= value.year <= 9999):
        errors.add(name, _("Enter the date as YYYY-MM-DD."))
        return None
    return value


def _pk(value) -> int | None:
    try:
        pk = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return pk if 1 <= pk <= 2**63 - 1 else None


def _clock(user: User, moment: dt.datetime) -> str:
    return moment.astimezone(localtime.user_zone(user)).strftime("%H:%M")


def net(list_price: Decimal, discount_percent: Decimal) -> Decimal:
    return (Decimal(list_price) * (HUNDRED - discount_percent) / HUNDRED).quantize(
        PRICE_PLACES, rounding=ROUND_HALF_UP
    )


def effective_unit_price(line, quote_discount: Decimal) -> Decimal:
    """What one unit really costs the customer: the line's net price less the quote's
    overall discount (before tax) — the price the "two prices" rule compares."""
    return net(line.unit_price, Decimal(quote_discount or 0))


def customer_filter(quote) -> Q:
    if quote.account_id:
        return Q(account_id=quote.account_id)
    return Q(contact_id=quote.contact_id, account__isnull=True)


# --- pricing --------------------------------------------------------------------------------


def _prices(workspace, quote, products) -> dict:
    """Each product's price for this customer in the quote's currency, from the books."""
    return pricing.prices_for(
        workspace=workspace,
        products=products,
        account=quote.account,
        contact=quote.contact,
        currency=quote.currency,
        on=timezone.localdate(),
    )


def _price_of(prices: dict, product: Product):
    price = prices.get(product.pk)
    if price is None:
        raise ApplicationError(
            _("%(product)s has no price in any price book for this customer and currency.")
            % {"product": str(product)},
            code="no_price",
            fields={"product_id": [_("No price for this product.")]},
        )
    return price


def _products(workspace, ids: list[int]) -> dict[int, Product]:
    found = {
        p.pk: p
        for p in Product.objects.in_workspace(workspace)
        .select_related("tax_rate")
        .filter(pk__in=[i for i in ids if i is not None])
    }
    for pk in ids:
        if pk is None or pk not in found:
            raise NotFound(_("Product not found."), code="product_not_found")
    return found


def price_line(line: QuoteLine, *, list_price: Decimal, tax_rate: Decimal) -> QuoteLine:
    """Fill a line's amounts from its list price, quantity and discount (half-up to cents)."""
    line.list_price = Decimal(list_price).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)
    line.tax_rate = Decimal(tax_rate or 0)
    line.unit_price = net(line.list_price, line.discount_percent)
    line.subtotal = money.round_money(line.quantity * line.unit_price)
    line.tax = money.round_money(line.subtotal * line.tax_rate)
    line.total = line.subtotal + line.tax
    return line


def totals(quote: Quote, lines: list[QuoteLine]) -> None:
    """The quote's totals: the lines' subtotals, less the overall discount, plus tax on what
    remains of each line (so the overall discount lowers the tax too)."""
    share = (HUNDRED - Decimal(quote.discount_percent or 0)) / HUNDRED
    subtotal = sum((line.subtotal for line in lines), Decimal(0))
    quote.subtotal = money.round_money(subtotal)
    quote.discount_total = money.round_money(subtotal - subtotal * share)
    quote.tax_total = sum(
        (money.round_money(line.subtotal * share * line.tax_rate) for line in lines), Decimal(0)
    )
    quote.total = quote.subtotal - quote.discount_total + quote.tax_total


# --- the rules --------------------------------------------------------------------------------


def _held_prices(quote: Quote, product_ids: list[int], today: dt.date) -> dict[int, list[dict]]:
    """This customer's other open quotes' effective prices for these products (one query)."""
    rows = (
        QuoteLine.objects.in_workspace(quote.workspace_id)
        .filter(customer_filter(quote), product_id__in=product_ids)
        .filter(quote__status__in=HOLDING, quote__currency=quote.currency)
        .filter(Q(quote__valid_until__isnull=True) | Q(quote__valid_until__gte=today))
        .exclude(quote__number=quote.number)
        .values_list(
            "product_id",
            "unit_price",
            "quote__discount_percent",
            "quote__number",
            "quote__version_number",
            "quote__status",
            "quote_id",
        )
    )
    held: dict[int, list[dict]] = {}
    for product_id, unit_price, discount, number, version, status, quote_id in rows:
        held.setdefault(product_id, []).append(
            {
                "price": net(unit_price, Decimal(discount or 0)),
                "number": f"{number} v{version}",
                "status": status,
                "quote_id": quote_id,
            }
        )
    return held


def _ordered_prices(quote: Quote, product_ids: list[int], today: dt.date) -> dict[int, dict]:
    """The lowest unit price this customer got on an order in the last 12 months (one query)."""
    rows = (
        OrderLine.objects.in_workspace(quote.workspace_id)
        .filter(customer_filter(quote), product_id__in=product_ids)
        .filter(order_date__gte=today - dt.timedelta(days=ORDER_PRICE_DAYS))
        .filter(order__currency=quote.currency)
        .exclude(order__status="cancelled")
        .values_list("product_id", "unit_price", "order__number", "order_date")
    )
    lowest: dict[int, dict] = {}
    for product_id, unit_price, number, day in rows:
        if product_id not in lowest or unit_price < lowest[product_id]["price"]:
            lowest[product_id] = {"price": unit_price, "number": number, "day": day.isoformat()}
    return lowest


def check_quote(quote: Quote, lines: list[QuoteLine], settings: SalesSettings) -> Checks:
    """The approval reasons and warnings of a quote as it stands: discounts above the
    threshold (any line's, or the overall effective one), a net price below what the
    customer holds on another open quote or got on an order within a year (needs approval),
    and a price above a still-valid sent quote (a warning)."""
    checks = Checks()
    limit = Decimal(settings.discount_approval_percent)
    gross = Decimal(0)
    for line in lines:
        gross += line.quantity * line.list_price
        if line.discount_percent > limit:
            checks.reasons.append(
                {
                    "code": "line_discount",
                    "line": line.position,
                    "product": line.product_id,
                    "detail": {"discount": str(line.discount_percent), "limit": str(limit)},
                }
            )
    if gross > 0:
        paid = quote.subtotal - quote.discount_total
        overall = ((gross - paid) * HUNDRED / gross).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if overall > limit:
            checks.reasons.append(
                {
                    "code": "overall_discount",
                    "line": None,
                    "product": None,
                    "detail": {"discount": str(overall), "limit": str(limit)},
                }
            )
    if not lines or (quote.account_id is None and quote.contact_id is None):
        return checks
    today = timezone.localdate()
    product_ids = sorted({line.product_id for line in lines})
    held = _held_prices(quote, product_ids, today)
    ordered = _ordered_prices(quote, product_ids, today)
    for line in lines:
        price = effective_unit_price(line, quote.discount_percent)
        quoted = held.get(line.product_id, [])
        lowest_quote = min(quoted, key=lambda row: row["price"], default=None)
        if lowest_quote is not None and price < lowest_quote["price"]:
            checks.reasons.append(
                {
                    "code": "below_quoted_price",
                    "line": line.position,
                    "product": line.product_id,
                    "detail": {
                        "price": str(price),
                        "other_price": str(lowest_quote["price"]),
                        "other": lowest_quote["number"],
                        "currency": quote.currency,
                    },
                }
            )
        order = ordered.get(line.product_id)
        if order is not None and price < order["price"]:
            checks.reasons.append(
                {
                    "code": "below_order_price",
                    "line": line.position,
                    "product": line.product_id,
                    "detail": {
                        "price": str(price),
                        "other_price": str(order["price"]),
                        "other": order["number"],
                        "day": order["day"],
                        "currency": quote.currency,
                    },
                }
            )
        sent = [row for row in quoted if row["status"] == QuoteStatus.SENT]
        cheaper_sent = min(sent, key=lambda row: row["price"], default=None)
        if cheaper_sent is not None and price > cheaper_sent["price"]:
            checks.warnings.append(
                {
                    "code": "above_sent_price",
                    "line": line.position,
                    "product": line.product_id,
                    "detail": {
                        "price": str(price),
                        "other_price": str(cheaper_sent["price"]),
                        "other": cheaper_sent["number"],
                        "currency": quote.currency,
                    },
                }
            )
    return checks


def reason_text(reason: dict) -> str:
    """One approval reason or warning as a sentence in the current language."""
    detail = reason.get("detail") or {}
    line = reason.get("line")
    prefix = (_("Line %(n)s: ") % {"n": line}) if line else ""
    code = reason.get("code")
    if code == "line_discount":
        text = _("discount %(discount)s%% is above the %(limit)s%% a rep may give.") % detail
    elif code == "overall_discount":
        text = _(
            "the overall discount of %(discount)s%% is above the %(limit)s%% a rep may give."
        ) % {"discount": detail.get("discount"), "limit": detail.get("limit")}
    elif code == "below_quoted_price":
        text = (
            _(
                "net price %(price)s %(currency)s is below the %(other_price)s %(currency)s this "
                "customer holds on quote %(other)s."
            )
            % detail
        )
    elif code == "below_order_price":
        text = (
            _(
                "net price %(price)s %(currency)s is below the %(other_price)s %(currency)s this "
                "customer paid on order %(other)s (%(day)s)."
            )
            % detail
        )
    elif code == "above_sent_price":
        text = (
            _(
                "net price %(price)s %(currency)s is above the %(other_price)s %(currency)s on "
                "quote %(other)s, already sent to this customer and still valid."
            )
            % detail
        )
    elif code == "over_credit_limit":
        text = (
            _(
                "with this quote the customer would owe %(total)s %(currency)s, above the credit "
                "limit of %(limit)s %(currency)s."
            )
            % detail
        )
    else:
        text = str(code)
    return f"{prefix}{text}"


def credit_warning(quote: Quote) -> dict | None:
    """A warning (not a block) when the customer's outstanding amount plus this quote is
    above their credit limit (in the base currency)."""
    if quote.account_id is None and quote.contact_id is None:
        return None
    from ..selectors.receivables import credit_status

    status = credit_status(
        workspace=quote.workspace,
        account=quote.account,
        contact=quote.contact if quote.account_id is None else None,
        adding=Decimal(quote.total_base or 0),
    )
    if not status.over or status.limit is None:
        return None
    return {
        "code": "over_credit_limit",
        "line": None,
        "product": None,
        "detail": {
            "total": str(money.round_money(status.outstanding + status.adding)),
            "limit": str(money.round_money(status.limit)),
            "currency": status.currency,
        },
    }


def quote_warnings(quote: Quote, lines: list[QuoteLine] | None = None) -> list[dict]:
    """What the rep should see but need not have approved: prices above a valid sent quote
    of the same customer, and the credit limit."""
    lines = list(quote.lines.order_by("position")) if lines is None else lines
    warnings = check_quote(quote, lines, sales_settings(quote.workspace)).warnings
    credit = credit_warning(quote)
    if credit is not None:
        warnings.append(credit)
    return warnings


# --- reading and locking ---------------------------------------------------------------------


def quote_queryset(*, workspace: Workspace, actor: User):
    qs = Quote.objects.in_workspace(workspace).select_related(
        "owner", "account", "contact", "deal", "price_book"
    )
    return permissions.visible(qs, actor=actor, object_key=QUOTE)


def _fetch(*, workspace, actor, quote_id) -> Quote:
    pk = _pk(quote_id)
    quote = quote_queryset(workspace=workspace, actor=actor).filter(pk=pk).first() if pk else None
    if quote is None:
        raise NotFound(_("Quote not found."))
    return quote


def _stale(actor: User, quote: Quote):
    current = Quote.objects.in_workspace(quote.workspace_id).filter(pk=quote.pk).first()
    moment = current.updated_at if current is not None else timezone.now()
    return Conflict(
        _("Someone else changed this quote at %(time)s; reload it to see their changes.")
        % {"time": _clock(actor, moment)},
        code="stale_version",
        fields={"lock_version": [_("This version is out of date.")]},
    )


def _claim(actor: User, quote: Quote, lock_version) -> None:
    """Take the quote for this change if nobody changed it since ``lock_version`` was read;
    else raise ``Conflict``. Inside the caller's transaction."""
    expected = _pk(lock_version)
    if expected is None:
        raise ApplicationError(
            _("Say which version of the quote you changed (lock_version)."),
            code="lock_version_required",
            fields={"lock_version": [_("This field is required.")]},
        )
    now = timezone.now()
    claimed = (
        Quote.objects.in_workspace(quote.workspace_id)
        .filter(pk=quote.pk, lock_version=expected)
        .update(lock_version=F("lock_version") + 1, updated_at=now)
    )
    if not claimed:
        raise _stale(actor, quote)
    quote.lock_version = expected + 1
    quote.updated_at = now


def _editable(quote: Quote) -> None:
    if quote.status not in EDITABLE:
        raise Conflict(
            _("A quote that is %(status)s cannot be changed; make a new version of it.")
            % {"status": quote.get_status_display().lower()},
            code="quote_not_editable",
        )


def _back_to_draft(actor: User, quote: Quote) -> None:
    """A changed quote needs its approval again: a pending request is withdrawn."""
    if quote.status == QuoteStatus.PENDING_APPROVAL:
        QuoteApproval.objects.in_workspace(quote.workspace_id).filter(
            quote=quote, status=ApprovalStatus.PENDING
        ).update(status=ApprovalStatus.WITHDRAWN, decided_at=timezone.now(), decided_by=actor)
    quote.status = QuoteStatus.DRAFT


def _save(quote: Quote, lines: list[QuoteLine] | None = None) -> Quote:
    """Recompute totals and reasons from the lines and save the header."""
    lines = list(quote.lines.order_by("position")) if lines is None else lines
    totals(quote, lines)
    quote.total_base = money.to_base(
        quote.workspace, quote.total, quote.currency, timezone.localdate()
    )
    quote.approval_reasons = check_quote(quote, lines, sales_settings(quote.workspace)).reasons
    quote.save()
    return quote


# --- numbers ---------------------------------------------------------------------------------


def _next_number(workspace, prefix: str, year: int) -> str:
    stem = f"{prefix}-{year}-"
    last = (
        Quote.objects.in_workspace(workspace)
        .filter(number__startswith=stem)
        .annotate(size=Length("number"))
        .order_by("-size", "-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = 0
    if last is not None:
        try:
            seq = int(last[len(stem) :])
        except ValueError:
            seq = 0
    return f"{stem}{seq + 1:04d}"


# --- services --------------------------------------------------------------------------------


def _customer(actor, workspace, errors, account_id, contact_id, deal_id):
    account = contact = deal = None
    if deal_id not in (None, ""):
        pk = _pk(deal_id)
        qs = permissions.visible(
            Deal.objects.in_workspace(workspace).select_related("account", "contact"),
            actor=actor,
            object_key=DEAL,
        )
        deal = qs.filter(pk=pk).first() if pk else None
        if deal is None:
            raise NotFound(_("Deal not found."), code="deal_not_found")
        account, contact = deal.account, deal.contact
    if account_id not in (None, ""):
        account = customer_selectors.account_get(
            workspace=workspace, actor=actor, account_id=account_id
        )
    if contact_id not in (None, ""):
        contact = customer_selectors.contact_get(
            workspace=workspace, actor=actor, contact_id=contact_id
        )
    if account is None and contact is None:
        errors.add("account_id", _("Choose the customer: an account or a person."))
    _check_member(errors, account, contact)
    return account, contact, deal


def _check_member(errors: FieldErrors, account, contact) -> None:
    """The quote's contact works at its account (as their company or a membership)."""
    if account is None or contact is None or contact.account_id == account.pk:
        return
    from guanxi.customers.models import AccountContact

    linked = AccountContact.objects.in_workspace(account.workspace_id).filter(
        account=account, contact=contact
    )
    if not linked.exists():
        errors.add(
            "contact_id",
            _("%(contact)s is not a contact of %(account)s.")
            % {"contact": contact.name, "account": account.name},
        )


def _language(errors, value, workspace) -> str:
    if value in (None, ""):
        value = (workspace.language or "zh-hans").lower()
        return value if value in LANGUAGES else "zh-hans"
    value = str(value).lower()
    if value not in LANGUAGES:
        errors.add("language", _("Choose one of: %(choices)s.") % {"choices": ", ".join(LANGUAGES)})
    return value


def _currency(errors, value, account, contact, workspace) -> str:
    if value in (None, ""):
        value = (
            (account.currency if account is not None else "")
            or (contact.currency if contact is not None else "")
            or money.base_currency(workspace)
        )
    value = str(value).strip().upper()
    if len(value) != 3 or not value.isalpha() or not value.isascii():
        errors.add("currency", _("Enter a three-letter currency code (ISO 4217)."))
    return value


def _owner(actor, workspace, owner_id) -> User:
    if owner_id in (None, "") or _pk(owner_id) == actor.pk:
        return actor
    permissions.require(actor, QUOTE, Action.BULK)
    user = User.objects.filter(workspace=workspace, pk=_pk(owner_id) or 0, is_active=True).first()
    if user is None:
        raise ApplicationError(
            _("Choose an active user of this workspace."), fields={"owner_id": [_("Unknown user.")]}
        )
    return user


def _clean_lines(errors: FieldErrors, lines) -> list[LineInput]:
    cleaned = []
    for index, raw in enumerate(lines or ()):
        if isinstance(raw, dict):
            raw = LineInput(**{k: v for k, v in raw.items() if k in LineInput.__annotations__})
        prefix = f"lines.{index}."
        quantity = clean_quantity(errors, raw.quantity, name=prefix + "quantity")
        discount = clean_discount(errors, raw.discount_percent, name=prefix + "discount_percent")
        description = _text(errors, raw.description, name=prefix + "description", max_length=300)
        product_id = _pk(raw.product_id)
        if product_id is None:
            errors.add(prefix + "product_id", _("Choose a product."))
        cleaned.append(LineInput(product_id, quantity, discount, description))
    if len(cleaned) > MAX_LINES:
        errors.add("lines", _("At most %(n)s lines.") % {"n": MAX_LINES})
    return cleaned


def _build_lines(workspace, quote: Quote, inputs: list[LineInput], start: int) -> list[QuoteLine]:
    products = _products(workspace, [line.product_id for line in inputs])
    prices = _prices(workspace, quote, list(products.values())) if products else {}
    made = []
    for offset, item in enumerate(inputs):
        product = products[item.product_id]
        if not product.active:
            raise ApplicationError(
                _("%(product)s is no longer sold.") % {"product": str(product)},
                code="product_inactive",
                fields={"product_id": [_("Inactive product.")]},
            )
        price = _price_of(prices, product)
        line = QuoteLine(
            workspace_id=quote.workspace_id,
            quote=quote,
            position=start + offset,
            product=product,
            description=item.description or product.name,
            quantity=Decimal(item.quantity),
            unit=product.unit,
            discount_percent=Decimal(item.discount_percent),
            account_id=quote.account_id,
            contact_id=quote.contact_id,
        )
        made.append(price_line(line, list_price=price.unit_price, tax_rate=price.tax_rate))
    return made


def _audit_lines(actor, quote: Quote, changes: dict) -> None:
    audit.log(
        actor=actor,
        workspace=quote.workspace_id,
        action="update",
        object_key=QUOTE,
        object_id=quote.pk,
        object_repr=str(quote),
        changes=changes,
    )


def _entry(actor, quote: Quote, subtype: str, **data) -> None:
    record_entry(
        workspace=quote.workspace_id,
        author=actor,
        kind="system",
        subtype=subtype,
        account=quote.account_id,
        contacts=[quote.contact_id] if quote.contact_id else (),
        subject=str(quote),
        related_object_key=QUOTE,
        related_object_id=quote.pk,
        data={
            "quote_id": quote.pk,
            "number": quote.number,
            "version": quote.version_number,
            "total": str(quote.total),
            "currency": quote.currency,
            **data,
        },
    )


def quote_create(
    *,
    actor: User,
    workspace: Workspace,
    account_id: int | None = None,
    contact_id: int | None = None,
    deal_id: int | None = None,
    currency: str | None = None,
    language: str | None = None,
    valid_until: dt.date | str | None = None,
    discount_percent=0,
    terms: str = "",
    notes: str = "",
    owner_id: int | None = None,
    lines=(),
) -> Quote:
    """Make a draft quote for a customer (or a deal's customer) in a currency that has a
    rate, priced from the customer's price books; its number is ``<prefix>-<year>-<seq>``,
    unique in the workspace. ``lines`` are ``LineInput``s (or dicts of the same keys)."""
    permissions.require(actor, QUOTE, Action.CREATE)
    errors = FieldErrors()
    account, contact, deal = _customer(actor, workspace, errors, account_id, contact_id, deal_id)
    currency = _currency(errors, currency, account, contact, workspace)
    language = _language(errors, language, workspace)
    settings = sales_settings(workspace)
    today = timezone.localdate()
    valid = _date(errors, valid_until, name="valid_until")
    if valid is None and "valid_until" not in errors.fields:
        valid = today + dt.timedelta(days=settings.quote_valid_days)
    elif valid is not None and valid < today:
        errors.add("valid_until", _("A quote cannot expire in the past."))
    header_discount = clean_discount(errors, discount_percent)
    terms = _text(errors, terms, name="terms", max_length=MAX_TEXT)
    notes = _text(errors, notes, name="notes", max_length=MAX_TEXT)
    inputs = _clean_lines(errors, lines)
    errors.raise_if_any()
    money.rate(workspace, currency, today)  # refuses a currency without a rate
    owner = _owner(actor, workspace, owner_id)
    book = pricing.price_book_for(
        workspace=workspace, account=account, contact=contact, currency=currency, on=today
    )
    for attempt in range(5):
        try:
            with transaction.atomic():
                # One quote number at a time per workspace: the settings row is the lock.
                settings = (
                    SalesSettings.objects.in_workspace(workspace)
                    .select_for_update()
                    .get(pk=settings.pk)
                )
                quote = Quote(
                    workspace=workspace,
                    number=_next_number(workspace, settings.quote_number_prefix, today.year),
                    owner=owner,
                    deal=deal,
                    account=account,
                    contact=contact,
                    price_book=book,
                    currency=currency,
                    language=language,
                    valid_until=valid,
                    discount_percent=header_discount,
                    terms=terms,
                    notes=notes,
                )
                quote.save()
                lines_made = _build_lines(workspace, quote, inputs, start=1)
                QuoteLine.objects.bulk_create(lines_made)
                _save(quote, lines_made)
                audit.log_create(actor=actor, instance=quote)
                _entry(actor, quote, "quote_created")
                return quote
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


HEADER_FIELDS = {
    "valid_until",
    "discount_percent",
    "terms",
    "notes",
    "language",
    "currency",
    "contact_id",
    "owner_id",
}


def quote_update(
    *, actor: User, workspace: Workspace, quote_id: int, lock_version: int, **changes
) -> Quote:
    """Change a quote's header (validity, overall discount, terms, notes, language, currency
    — the lines are priced again from the books — its contact, its owner). Names the
    ``lock_version`` read; a stale one is refused (409) and nothing is written."""
    permissions.require(actor, QUOTE, Action.UPDATE)
    unknown = sorted(set(changes) - HEADER_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)},
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    permissions.check_changes_writable(actor, QUOTE, changes)
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    errors = FieldErrors()
    values: dict = {}
    if "valid_until" in changes:
        values["valid_until"] = _date(errors, changes["valid_until"], name="valid_until")
        if values["valid_until"] is not None and values["valid_until"] < timezone.localdate():
            errors.add("valid_until", _("A quote cannot expire in the past."))
    if "discount_percent" in changes:
        values["discount_percent"] = clean_discount(errors, changes["discount_percent"])
    for name in ("terms", "notes"):
        if name in changes:
            values[name] = _text(errors, changes[name], name=name, max_length=MAX_TEXT)
    if "language" in changes:
        values["language"] = _language(errors, changes["language"], workspace)
    if "currency" in changes:
        values["currency"] = _currency(
            errors, changes["currency"], quote.account, quote.contact, workspace
        )
    if changes.get("contact_id") not in (None, ""):
        values["contact"] = customer_selectors.contact_get(
            workspace=workspace, actor=actor, contact_id=changes["contact_id"]
        )
        if quote.account_id is None:
            errors.add("contact_id", _("A quote for a person keeps its customer."))
        else:
            _check_member(errors, quote.account, values["contact"])
    elif "contact_id" in changes and quote.account_id is None:
        errors.add("contact_id", _("A quote for a person keeps its customer."))
    elif "contact_id" in changes:
        values["contact"] = None
    errors.raise_if_any()
    if "owner_id" in changes:
        values["owner"] = _owner(actor, workspace, changes["owner_id"])
    if "currency" in values:
        money.rate(workspace, values["currency"], timezone.localdate())
    with transaction.atomic():
        _claim(actor, quote, lock_version)
        _editable(quote)
        before = audit.snapshot(quote)
        for name, value in values.items():
            setattr(quote, name, value)
        lines = list(quote.lines.select_related("product").order_by("position"))
        if "currency" in values and values["currency"] != before.get("currency"):
            quote.price_book = pricing.price_book_for(
                workspace=workspace,
                account=quote.account,
                contact=quote.contact,
                currency=quote.currency,
                on=timezone.localdate(),
            )
            prices = _prices(workspace, quote, [line.product for line in lines])
            for line in lines:
                price = _price_of(prices, line.product)
                price_line(line, list_price=price.unit_price, tax_rate=price.tax_rate)
            _bulk_update_lines(lines)
        _back_to_draft(actor, quote)
        _save(quote, lines)
        audit.log_update(actor=actor, instance=quote, before=before)
    return quote


LINE_AMOUNTS = [
    "position",
    "description",
    "quantity",
    "list_price",
    "discount_percent",
    "unit_price",
    "tax_rate",
    "subtotal",
    "tax",
    "total",
    "updated_at",
]


def _bulk_update_lines(lines: list[QuoteLine]) -> None:
    now = timezone.now()
    for line in lines:
        line.updated_at = now
    if lines:
        QuoteLine.objects.in_workspace(lines[0].workspace_id).bulk_update(lines, LINE_AMOUNTS)


def quote_line_add(
    *,
    actor: User,
    workspace: Workspace,
    quote_id: int,
    lock_version: int,
    product_id: int,
    quantity=1,
    discount_percent=0,
    description: str = "",
) -> QuoteLine:
    """Add a product at its price-book price; the rep sets quantity and discount."""
    permissions.require(actor, QUOTE, Action.UPDATE)
    errors = FieldErrors()
    (item,) = _clean_lines(
        errors,
        [LineInput(product_id, quantity, discount_percent, description)],
    )
    if errors.fields:
        errors.fields = {k.removeprefix("lines.0."): v for k, v in errors.fields.items()}
    errors.raise_if_any()
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    with transaction.atomic():
        _claim(actor, quote, lock_version)
        _editable(quote)
        lines = list(quote.lines.order_by("position"))
        if len(lines) >= MAX_LINES:
            raise ApplicationError(_("At most %(n)s lines.") % {"n": MAX_LINES})
        start = (lines[-1].position + 1) if lines else 1
        (line,) = _build_lines(workspace, quote, [item], start=start)
        line.save()
        _back_to_draft(actor, quote)
        _save(quote, [*lines, line])
        _audit_lines(
            actor,
            quote,
            {"lines": [None, f"+ {line.position}: {line.product_id} × {line.quantity}"]},
        )
    return line


def _line(quote: Quote, line_id) -> QuoteLine:
    pk = _pk(line_id)
    line = quote.lines.select_related("product").filter(pk=pk).first() if pk else None
    if line is None:
        raise NotFound(_("Quote line not found."))
    return line


def quote_line_update(
    *,
    actor: User,
    workspace: Workspace,
    quote_id: int,
    line_id: int,
    lock_version: int,
    **changes,
) -> QuoteLine:
    """Change a line's quantity, discount or description (the price stays the book's)."""
    permissions.require(actor, QUOTE, Action.UPDATE)
    allowed = {"quantity", "discount_percent", "description"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)},
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    errors = FieldErrors()
    values: dict = {}
    if "quantity" in changes:
        values["quantity"] = clean_quantity(errors, changes["quantity"])
    if "discount_percent" in changes:
        values["discount_percent"] = clean_discount(errors, changes["discount_percent"])
    if "description" in changes:
        values["description"] = _text(
            errors, changes["description"], name="description", max_length=300
        )
    errors.raise_if_any()
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    with transaction.atomic():
        _claim(actor, quote, lock_version)
        _editable(quote)
        line = _line(quote, line_id)
        before = {k: str(getattr(line, k)) for k in values}
        for name, value in values.items():
            setattr(line, name, value)
        price_line(line, list_price=line.list_price, tax_rate=line.tax_rate)
        _bulk_update_lines([line])
        _back_to_draft(actor, quote)
        _save(quote)
        _audit_lines(
            actor,
            quote,
            {f"lines.{line.position}.{k}": [before[k], str(getattr(line, k))] for k in values},
        )
    return line


def quote_line_remove(
    *, actor: User, workspace: Workspace, quote_id: int, line_id: int, lock_version: int
) -> Quote:
    permissions.require(actor, QUOTE, Action.UPDATE)
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    with transaction.atomic():
        _claim(actor, quote, lock_version)
        _editable(quote)
        line = _line(quote, line_id)
        label = f"- {line.position}: {line.product_id} × {line.quantity}"
        line.delete()
        _back_to_draft(actor, quote)
        _save(quote)
        _audit_lines(
            actor,
            quote,
            {"lines": [label, None]},
        )
    return quote


def quote_delete(*, actor: User, workspace: Workspace, quote_id: int, lock_version: int) -> None:
    """Delete a quote made by mistake: a first-version draft only (anything the customer
    may have seen, or a later version, stays and is declined or expires instead)."""
    permissions.require(actor, QUOTE, Action.DELETE)
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    with transaction.atomic():
        _claim(actor, quote, lock_version)
        quote.status = Quote.objects.in_workspace(workspace).get(pk=quote.pk).status
        if quote.status != QuoteStatus.DRAFT or quote.version_number != 1:
            raise Conflict(
                _("Only the first version of a draft can be deleted; this one is %(status)s.")
                % {"status": quote.get_status_display().lower()},
                code="quote_not_deletable",
            )
        audit.log_delete(actor=actor, instance=quote)
        quote.delete()


def quote_new_version(
    *, actor: User, workspace: Workspace, quote_id: int, lock_version: int
) -> Quote:
    """Copy a quote and its lines into version n+1 (a draft, checked again); the old one
    becomes *superseded*. An accepted or already superseded quote has no next version."""
    permissions.require(actor, QUOTE, Action.UPDATE)
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    today = timezone.localdate()
    money.rate(workspace, quote.currency, today)
    with transaction.atomic():
        _claim(actor, quote, lock_version)
        if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.SUPERSEDED):
            raise Conflict(
                _("A quote that is %(status)s has no next version.")
                % {"status": quote.get_status_display().lower()},
                code="quote_not_versionable",
            )
        old_lines = list(quote.lines.order_by("position"))
        before = audit.snapshot(quote)
        if quote.status == QuoteStatus.PENDING_APPROVAL:
            _back_to_draft(actor, quote)
        quote.status = QuoteStatus.SUPERSEDED
        quote.save(update_fields=["status", "updated_at"])
        audit.log_update(actor=actor, instance=quote, before=before)
        settings = sales_settings(workspace)
        valid = quote.valid_until
        if valid is None or valid < today:
            valid = today + dt.timedelta(days=settings.quote_valid_days)
        new = Quote(
            workspace=quote.workspace,
            number=quote.number,
            version_number=quote.version_number + 1,
            previous=quote,
            owner=quote.owner,
            deal=quote.deal,
            account=quote.account,
            contact=quote.contact,
            price_book=quote.price_book,
            currency=quote.currency,
            language=quote.language,
            valid_until=valid,
            discount_percent=quote.discount_percent,
            terms=quote.terms,
            notes=quote.notes,
        )
        try:
            with transaction.atomic():
                new.save()
        except IntegrityError:
            raise _stale(actor, quote) from None
        copies = []
        for line in old_lines:
            line.pk = None
            line.id = None
            line.quote = new
            line._state.adding = True
            copies.append(line)
        QuoteLine.objects.bulk_create(copies)
        _save(new, copies)
        audit.log_create(actor=actor, instance=new)
        _entry(actor, new, "quote_new_version", previous=quote.version_number)
    return new


def _sendable(quote: Quote) -> None:
    if quote.status == QuoteStatus.APPROVED:
        return
    if quote.status == QuoteStatus.DRAFT and not quote.approval_reasons:
        return
    if quote.status in (QuoteStatus.DRAFT, QuoteStatus.REJECTED) and quote.approval_reasons:
        raise Conflict(
            _("This quote needs a manager's approval before it can be sent."),
            code="approval_required",
        )
    if quote.status == QuoteStatus.PENDING_APPROVAL:
        raise Conflict(
            _("This quote is waiting for approval; it can be sent once approved."),
            code="approval_pending",
        )
    raise Conflict(
        _("A quote that is %(status)s cannot be sent.")
        % {"status": quote.get_status_display().lower()},
        code="quote_not_sendable",
    )


def quote_send(
    *,
    actor: User,
    workspace: Workspace,
    quote_id: int,
    lock_version: int,
    email: bool = True,
    to=None,
    cc=None,
    subject: str = "",
    body: str = "",
) -> Quote:
    """Mark a quote sent. With ``email`` (the default) it is e-mailed to its contact (or
    ``to``) with the PDF attached, through the activities' e-mail service (queued, sent
    once by the worker, on the customer's timeline). A quote with approval reasons must be
    approved first; an expired one must get a new version."""
    permissions.require(actor, QUOTE, Action.UPDATE)
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    if not quote.lines.exists():
        raise ApplicationError(_("Add at least one line before sending."), code="no_lines")
    if quote.valid_until is not None and quote.valid_until < timezone.localdate():
        raise Conflict(
            _("This quote expired on %(day)s; make a new version.")
            % {"day": quote.valid_until.isoformat()},
            code="quote_expired",
        )
    _sendable(quote)
    attachment = None
    if email:
        from guanxi.activities.objects import EMAIL

        permissions.require(actor, EMAIL, Action.CREATE)
        from .quote_pdf import quote_pdf_bytes, quote_pdf_filename

        attachment = (quote_pdf_filename(quote), quote_pdf_bytes(quote), "application/pdf")
    with transaction.atomic():
        _claim(actor, quote, lock_version)
        fresh = Quote.objects.in_workspace(workspace).get(pk=quote.pk)
        quote.status, quote.approval_reasons = fresh.status, fresh.approval_reasons
        _sendable(quote)
        before = audit.snapshot(quote)
        quote.status = QuoteStatus.SENT
        quote.sent_at = timezone.now()
        quote.save(update_fields=["status", "sent_at", "updated_at"])
        audit.log_update(actor=actor, instance=quote, before=before)
        if email:
            from guanxi.activities.services.email_out import email_send

            with _override(quote.language):
                default_subject = str(
                    _("Quote %(number)s from %(company)s")
                    % {"number": str(quote), "company": workspace.name}
                )
                default_body = str(
                    _(
                        "Hello,\n\nplease find our quote %(number)s attached: %(total)s "
                        "%(currency)s, valid until %(day)s.\n\nBest regards,\n%(name)s"
                    )
                    % {
                        "number": str(quote),
                        "total": quote.total,
                        "currency": quote.currency,
                        "day": quote.valid_until.isoformat() if quote.valid_until else "—",
                        "name": actor.full_name,
                    }
                )
            email_send(
                actor=actor,
                workspace=workspace,
                contact_id=quote.contact_id,
                account_id=quote.account_id if quote.contact_id is None else None,
                # Without a contact, the company's own address.
                to=to
                or (
                    [quote.account.email]
                    if quote.contact_id is None and quote.account and quote.account.email
                    else None
                ),
                cc=cc,
                subject=subject or default_subject,
                body=body or default_body,
                attachments=[attachment],
            )
        else:
            _entry(actor, quote, "quote_sent")
    return quote


def _override(language: str):
    from django.utils import translation

    return translation.override(language or "zh-hans")


def quote_accept(
    *,
    actor: User,
    workspace: Workspace,
    quote_id: int,
    lock_version: int,
    order_date: dt.date | str | None = None,
) -> Quote:
    """The customer accepted: the quote becomes an order (same lines at the quoted net
    prices), the quote *accepted*, and its deal won — all in one transaction."""
    permissions.require(actor, QUOTE, Action.UPDATE)
    permissions.require(actor, ORDER, Action.CREATE)
    errors = FieldErrors()
    day = _date(errors, order_date, name="order_date") or timezone.localdate()
    errors.raise_if_any()
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    from .orders import OrderLineInput, order_create

    with transaction.atomic():
        _claim(actor, quote, lock_version)
        quote.status = Quote.objects.in_workspace(workspace).get(pk=quote.pk).status
        if quote.status != QuoteStatus.SENT:
            raise Conflict(
                _("Only a sent quote can be accepted (this one is %(status)s).")
                % {"status": quote.get_status_display().lower()},
                code="quote_not_sent",
            )
        before = audit.snapshot(quote)
        lines = list(quote.lines.select_related("product").order_by("position"))
        order = order_create(
            actor=actor,
            workspace=workspace,
            account=quote.account,
            contact=quote.contact,
            currency=quote.currency,
            order_date=day,
            lines=[
                OrderLineInput(
                    product=line.product,
                    quantity=line.quantity,
                    unit_price=effective_unit_price(line, quote.discount_percent),
                    tax_rate=line.tax_rate,
                    description=line.description,
                )
                for line in lines
            ],
            quote=quote,
            deal=quote.deal,
            owner=quote.owner,
        )
        quote.status = QuoteStatus.ACCEPTED
        quote.decided_at = timezone.now()
        quote.save(update_fields=["status", "decided_at", "updated_at"])
        audit.log_update(actor=actor, instance=quote, before=before)
        _entry(actor, quote, "quote_accepted", order_id=order.pk, order_number=order.number)
        if quote.deal_id is not None:
            _win_deal(actor, workspace, quote.deal)
    quote.order = order
    return quote


def _win_deal(actor, workspace, deal) -> None:
    """The quote's deal is won with it. A deal someone else closed meanwhile, or one the
    actor may not change, keeps its state: the order is what the customer accepted."""
    from .deals import deal_win

    deal = Deal.objects.in_workspace(workspace).get(pk=deal.pk)
    if deal.status != "open":
        return
    try:
        deal_win(actor=actor, workspace=workspace, deal=deal, version=deal.version)
    except (PermissionDenied, NotFound, Conflict):
        return


def quote_decline(
    *, actor: User, workspace: Workspace, quote_id: int, lock_version: int, reason: str = ""
) -> Quote:
    """The customer said no to a sent quote."""
    permissions.require(actor, QUOTE, Action.UPDATE)
    errors = FieldErrors()
    reason = _text(errors, reason, name="reason", max_length=1000)
    errors.raise_if_any()
    quote = _fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    with transaction.atomic():
        _claim(actor, quote, lock_version)
        quote.status = Quote.objects.in_workspace(workspace).get(pk=quote.pk).status
        if quote.status != QuoteStatus.SENT:
            raise Conflict(
                _("Only a sent quote can be declined (this one is %(status)s).")
                % {"status": quote.get_status_display().lower()},
                code="quote_not_sent",
            )
        before = audit.snapshot(quote)
        quote.status = QuoteStatus.DECLINED
        quote.decided_at = timezone.now()
        if reason:
            quote.notes = (quote.notes + "\n" + reason).strip()[:MAX_TEXT]
        quote.save(update_fields=["status", "decided_at", "notes", "updated_at"])
        audit.log_update(actor=actor, instance=quote, before=before)
        _entry(actor, quote, "quote_declined", reason=reason)
    return quote


def quotes_expire(*, today: dt.date | None = None, workspace_id: int | None = None) -> int:
    """The periodic job: quotes whose ``valid_until`` has passed become *expired*; a
    pending approval request is withdrawn. Returns how many expired."""
    today = today or timezone.localdate()
    qs = Quote.objects.across_workspaces().filter(status__in=EXPIRABLE, valid_until__lt=today)
    if workspace_id is not None:
        qs = Quote.objects.in_workspace(workspace_id).filter(
            status__in=EXPIRABLE, valid_until__lt=today
        )
    count = 0
    for pk, ws_id in qs.values_list("pk", "workspace_id").iterator():
        with transaction.atomic():
            now = timezone.now()
            changed = (
                Quote.objects.in_workspace(ws_id)
                .filter(pk=pk, status__in=EXPIRABLE, valid_until__lt=today)
                .update(
                    status=QuoteStatus.EXPIRED,
                    lock_version=F("lock_version") + 1,
                    updated_at=now,
                )
            )
            if changed:
                QuoteApproval.objects.in_workspace(ws_id).filter(
                    quote_id=pk, status=ApprovalStatus.PENDING
                ).update(status=ApprovalStatus.WITHDRAWN, decided_at=now)
                quote = Quote.objects.in_workspace(ws_id).get(pk=pk)
                audit.log(
                    actor=None,
                    workspace=ws_id,
                    action="update",
                    object_key=QUOTE,
                    object_id=pk,
                    object_repr=str(quote),
                    changes={"status": ["", QuoteStatus.EXPIRED]},
                )
                count += changed
    return count
