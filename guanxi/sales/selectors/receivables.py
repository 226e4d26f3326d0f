"""What customers owe: the credit check (for new orders and quotes) and the ageing report.

Amounts are in the workspace's base currency: every order and invoice keeps the rate of its
order date, so the sums are ``Σ unpaid × rate`` in SQL — one query per figure, whatever the
number of invoices.

Outstanding = the unpaid part of open invoices + the not-yet-invoiced part of confirmed
(also shipped or completed) orders. Ageing buckets count days since the invoice was issued
(0–30, 31–60, 61–90, over 90); an invoice is overdue once its due date has passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from guanxi.common.errors import ApplicationError
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from ..models import Invoice, InvoiceStatus, Order, OrderStatus
from ..objects import INVOICE
from ..services.money import base_currency, round_money

OPEN_INVOICE = (InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID)
OWED_ORDER = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
MONEY = DecimalField(max_digits=24, decimal_places=10)
ZERO = Decimal(0)

# (key, label, first day, last day) — days since the invoice was issued.
BUCKETS = (
    ("d0_30", "0–30", 0, 30),
    ("d31_60", "31–60", 31, 60),
    ("d61_90", "61–90", 61, 90),
    ("d90_plus", "90+", 91, None),
)


def _unpaid_base():
    return ExpressionWrapper(
        (F("amount") - F("paid_amount")) * F("exchange_rate"), output_field=MONEY
    )


def _uninvoiced_base():
    return ExpressionWrapper(
        (F("total") - F("invoiced_total")) * F("exchange_rate"), output_field=MONEY
    )


def _sum(value) -> Decimal:
    return round_money(value or ZERO)


@dataclass
class CreditStatus:
    """A customer's credit position in the base currency. ``limit`` is None when the customer
    has none (individuals never do); ``over`` means outstanding (plus what is being added)
    is above the limit. ``adding`` is the amount of the order or quote being checked."""

    limit: Decimal | None
    outstanding: Decimal
    available: Decimal | None
    over: bool
    adding: Decimal = ZERO
    currency: str = ""

    @property
    def message(self) -> str:
        """The warning banner's text (in the active language)."""
        if not self.over or self.limit is None:
            return ""
        if self.adding:
            return _(
                "Credit limit exceeded: the customer owes %(outstanding)s %(currency)s, this "
                "adds %(adding)s, and the limit is %(limit)s."
            ) % {
                "outstanding": self.outstanding,
                "adding": self.adding,
                "limit": self.limit,
                "currency": self.currency,
            }
        return _(
            "Credit limit exceeded: the customer owes %(outstanding)s %(currency)s and the "
            "limit is %(limit)s."
        ) % {"outstanding": self.outstanding, "limit": self.limit, "currency": self.currency}


def _customer_filter(account, contact) -> Q | None:
    if account is not None:
        return Q(account_id=getattr(account, "pk", account))
    if contact is not None:
        return Q(contact_id=getattr(contact, "pk", contact))
    return None


def outstanding(*, workspace, account=None, contact=None) -> Decimal:
    """What the customer owes in the base currency (two aggregate queries). An account is
    judged with all its orders; an individual by the orders placed in their name."""
    where = _customer_filter(account, contact)
    if where is None:
        return ZERO
    invoices = (
        Invoice.objects.in_workspace(workspace)
        .filter(where, status__in=OPEN_INVOICE)
        .aggregate(v=Sum(_unpaid_base()))["v"]
    )
    orders = (
        Order.objects.in_workspace(workspace)
        .filter(where, status__in=OWED_ORDER, total__gt=F("invoiced_total"))
        .aggregate(v=Sum(_uninvoiced_base()))["v"]
    )
    return _sum(invoices) + _sum(orders)


def credit_status(*, workspace, account=None, contact=None, adding=ZERO) -> CreditStatus:
    """The customer's credit limit, what they owe, what is left, and whether they are over
    the limit — counting ``adding`` (the new order's or quote's total in the base
    currency) when given. ``account``/``contact`` are rows or ids of the workspace."""
    limit = None
    if account is not None:
        limit = getattr(account, "credit_limit", None)
        if limit is None and not hasattr(account, "credit_limit"):
            from guanxi.customers.models import Account

            limit = (
                Account.objects.in_workspace(workspace)
                .filter(pk=account)
                .values_list("credit_limit", flat=True)
                .first()
            )
    owed = outstanding(workspace=workspace, account=account, contact=contact)
    adding = round_money(adding or ZERO)
    available = None if limit is None else round_money(limit - owed)
    over = limit is not None and owed + adding > limit
    return CreditStatus(
        limit=limit,
        outstanding=owed,
        available=available,
        over=over,
        adding=adding,
        currency=base_currency(workspace),
    )


# --- ageing ----------------------------------------------------------------------------------


@dataclass
class AgeingRow:
    key: int | None  # the account's, contact's or rep's id (None: no rep)
    kind: str  # "account", "contact" or "rep"
    label: str = ""
    code: str = ""
    buckets: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = ZERO
    overdue: Decimal = ZERO
    invoices: int = 0


@dataclass
class Ageing:
    by: str
    as_of: dt.date
    currency: str
    rows: list[AgeingRow]
    totals: AgeingRow
    truncated: bool


def open_invoices(*, workspace: Workspace, actor: User) -> QuerySet[Invoice]:
    """The open (unpaid or partly paid) invoices the actor may see."""
    qs = Invoice.objects.in_workspace(workspace).filter(status__in=OPEN_INVOICE)
    return permissions.visible(qs, actor=actor, object_key=INVOICE)


def _bucket_sums(as_of: dt.date) -> dict:
    out = {}
    for key, _label, first, last in BUCKETS:
        # An invoice dated ahead (typed in advance) counts as current: no lower bound on 0–30.
        if first == 0:
            cond = Q(issued_on__gte=as_of - dt.timedelta(days=last))
        else:
            cond = Q(issued_on__lte=as_of - dt.timedelta(days=first))
            if last is not None:
                cond &= Q(issued_on__gte=as_of - dt.timedelta(days=last))
        out[key] = Coalesce(
            Sum(Case(When(cond, then=_unpaid_base()), default=None, output_field=MONEY)),
            ZERO,
            output_field=MONEY,
        )
    out["overdue"] = Coalesce(
        Sum(Case(When(due_on__lt=as_of, then=_unpaid_base()), default=None, output_field=MONEY)),
        ZERO,
        output_field=MONEY,
    )
    out["total"] = Coalesce(Sum(_unpaid_base()), ZERO, output_field=MONEY)
    return out


def _row(kind: str, key, values: dict, count: int) -> AgeingRow:
    return AgeingRow(
        key=key,
        kind=kind,
        buckets={b[0]: _sum(values.get(b[0])) for b in BUCKETS},
        total=_sum(values.get("total")),
        overdue=_sum(values.get("overdue")),
        invoices=count,
    )


def ageing(
    *,
    workspace: Workspace,
    actor: User,
    by: str = "customer",
    as_of: dt.date,
    limit: int = 200,
    account_id=None,
    contact_id=None,
) -> Ageing:
    """Receivables by customer (``by="customer"``) or by rep (``by="rep"``), largest first,
    at most ``limit`` rows, with the totals over all of them. Four queries: the groups, the
    totals, and the names (accounts and contacts, or users)."""
    from django.db.models import Count

    from guanxi.customers.models import Account, Contact

    if by not in ("customer", "rep"):
        raise ApplicationError(
            _("Group the report by customer or by rep."), fields={"by": [_("Choose one.")]}
        )
    qs = open_invoices(workspace=workspace, actor=actor)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    sums = _bucket_sums(as_of)
    group = ("account_id", "contact_id") if by == "customer" else ("owner_id",)
    grouped = list(
        qs.values(*group).annotate(n=Count("id"), **sums).order_by("-total", *group)[: limit + 1]
    )
    truncated = len(grouped) > limit
    grouped = grouped[:limit]
    totals_values = qs.aggregate(n=Count("id"), **sums)
    totals = _row("total", None, totals_values, totals_values["n"] or 0)
    rows: list[AgeingRow] = []
    if by == "customer":
        account_ids = {g["account_id"] for g in grouped if g["account_id"]}
        contact_ids = {g["contact_id"] for g in grouped if not g["account_id"] and g["contact_id"]}
        accounts = (
            Account.objects.in_workspace(workspace).only("id", "name", "code").in_bulk(account_ids)
            if account_ids
            else {}
        )
        contacts = (
            Contact.objects.in_workspace(workspace).only("id", "name", "code").in_bulk(contact_ids)
            if contact_ids
            else {}
        )
        merged: dict[tuple, AgeingRow] = {}
        for g in grouped:
            if g["account_id"]:
                ident, customer = ("account", g["account_id"]), accounts.get(g["account_id"])
            else:
                ident, customer = ("contact", g["contact_id"]), contacts.get(g["contact_id"])
            row = _row(ident[0], ident[1], g, g["n"])
            row.label = customer.name if customer else "—"
            row.code = customer.code if customer else ""
            if ident in merged:  # an account's invoices, some with and some without a contact
                old = merged[ident]
                for key in old.buckets:
                    old.buckets[key] += row.buckets[key]
                old.total += row.total
                old.overdue += row.overdue
                old.invoices += row.invoices
            else:
                merged[ident] = row
        rows = sorted(merged.values(), key=lambda r: (-r.total, r.label))
    else:
        user_ids = {g["owner_id"] for g in grouped if g["owner_id"]}
        users = (
            User.objects.filter(workspace=workspace, pk__in=user_ids).in_bulk() if user_ids else {}
        )
        for g in grouped:
            row = _row("rep", g["owner_id"], g, g["n"])
            user = users.get(g["owner_id"])
            row.label = (user.full_name or user.email) if user else _("No rep")
            rows.append(row)
    return Ageing(
        by=by,
        as_of=as_of,
        currency=base_currency(workspace),
        rows=rows,
        totals=totals,
        truncated=truncated,
    )


def customer_open_invoices(
    *, workspace: Workspace, actor: User, account_id=None, contact_id=None, as_of: dt.date
) -> list[Invoice]:
    """The drill-down: a customer's open invoices, oldest first, each with ``age_days``,
    ``bucket`` (label), ``overdue``, ``unpaid`` and ``unpaid_base``."""
    qs = open_invoices(workspace=workspace, actor=actor).select_related("order", "owner")
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    elif contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    else:
        return []
    invoices = list(qs.order_by("issued_on", "id")[:500])
    for invoice in invoices:
        invoice.age_days = max((as_of - invoice.issued_on).days, 0)
        invoice.bucket = bucket_label(invoice.age_days)
        invoice.overdue = invoice.due_on < as_of
        invoice.unpaid = invoice.amount - invoice.paid_amount
        invoice.unpaid_base = round_money(invoice.unpaid * invoice.exchange_rate)
    return invoices


def bucket_label(days: int) -> str:
    for _key, label, first, last in BUCKETS:
        if days >= first and (last is None or days <= last):
            return label
    return BUCKETS[0][1]
