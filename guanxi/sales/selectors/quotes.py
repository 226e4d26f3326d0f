"""Reading quotes: lists (mine, my team, by status), one quote with its lines, the history
of prices beside each line ("what price do I quote this old customer?"), the approvals
inbox, and the quotes of a customer or a deal. Every read applies record visibility and
runs a fixed number of queries whatever the number of lines or quotes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import ApprovalStatus, OrderLine, Quote, QuoteApproval, QuoteLine, QuoteStatus
from ..objects import QUOTE, QUOTE_APPROVAL
from ..services.quotes import _pk, customer_filter, effective_unit_price, quote_queryset

HISTORY_QUOTES = 5
HISTORY_ORDERS = 3
OPEN_STATUSES = (
    QuoteStatus.DRAFT,
    QuoteStatus.PENDING_APPROVAL,
    QuoteStatus.APPROVED,
    QuoteStatus.REJECTED,
    QuoteStatus.SENT,
)


def quote_list(
    *,
    workspace: Workspace,
    actor: User,
    scope: str = "",
    status: str = "",
    account_id: int | None = None,
    contact_id: int | None = None,
    deal_id: int | None = None,
) -> QuerySet[Quote]:
    """Quotes the actor can see, newest first; ``scope`` "mine" (owned by the actor) or
    "team" (owned by the actor's team), ``status`` one status or "open"."""
    qs = quote_queryset(workspace=workspace, actor=actor)
    if scope == "mine":
        qs = qs.filter(owner=actor)
    elif scope == "team" and actor.team_id:
        qs = qs.filter(owner__team_id=actor.team_id)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    if deal_id is not None:
        qs = qs.filter(deal_id=deal_id)
    return qs.order_by("-created_at", "-id")


def quote_get(*, workspace: Workspace, actor: User, quote_id) -> Quote:
    from guanxi.common.errors import NotFound

    pk = _pk(quote_id)
    quote = quote_queryset(workspace=workspace, actor=actor).filter(pk=pk).first() if pk else None
    if quote is None:
        raise NotFound()
    if isinstance(workspace, Workspace):
        quote.workspace = workspace  # the caller's row: no second query for it
    return quote


def quote_lines(quote: Quote) -> list[QuoteLine]:
    return list(quote.lines.select_related("product", "product__tax_rate").order_by("position"))


def quote_versions(quote: Quote) -> list[Quote]:
    """Every version of this quote's number (one query), newest first."""
    return list(
        Quote.objects.in_workspace(quote.workspace_id)
        .filter(number=quote.number)
        .only("id", "number", "version_number", "status", "total", "currency", "created_at")
        .order_by("-version_number")
    )


@dataclass
class PricePoint:
    product_id: int
    price: object
    list_price: object
    discount_percent: object
    currency: str
    day: dt.date
    who: str
    status: str
    status_label: str
    reference: str
    quote_id: int | None = None
    order_id: int | None = None


def price_history(
    *,
    workspace: Workspace,
    actor: User,
    account_id: int | None,
    contact_id: int | None,
    product_ids: list[int],
    exclude_number: str = "",
) -> dict[int, dict[str, list[PricePoint]]]:
    """For each product: the customer's last five quoted prices (effective net unit price,
    day, who, status; any rep's quotes, because the point is that the customer sees one
    price) and the last three order prices. Two queries whatever the number of products."""
    out: dict[int, dict[str, list[PricePoint]]] = {
        pk: {"quotes": [], "orders": []} for pk in product_ids
    }
    if not product_ids or (account_id is None and contact_id is None):
        return out
    if not permissions.can(actor, QUOTE, Action.READ):
        return out
    customer = (
        Q(account_id=account_id)
        if account_id is not None
        else Q(contact_id=contact_id, account__isnull=True)
    )
    status_labels = dict(QuoteStatus.choices)
    quoted = (
        QuoteLine.objects.in_workspace(workspace)
        .filter(customer, product_id__in=product_ids)
        .exclude(quote__number=exclude_number)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("product_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=HISTORY_QUOTES)
        .values(
            "product_id",
            "unit_price",
            "list_price",
            "discount_percent",
            "created_at",
            "quote_id",
            "quote__number",
            "quote__version_number",
            "quote__status",
            "quote__currency",
            "quote__discount_percent",
            "quote__owner__full_name",
        )
        .order_by("product_id", "-created_at", "-id")
    )
    zone = timezone.get_current_timezone()
    for row in quoted:
        line = _Line(row["unit_price"])
        out[row["product_id"]]["quotes"].append(
            PricePoint(
                product_id=row["product_id"],
                price=effective_unit_price(line, row["quote__discount_percent"]),
                list_price=row["list_price"],
                discount_percent=row["discount_percent"],
                currency=row["quote__currency"],
                day=row["created_at"].astimezone(zone).date(),
                who=row["quote__owner__full_name"] or "",
                status=row["quote__status"],
                status_label=str(status_labels.get(row["quote__status"], row["quote__status"])),
                reference=f"{row['quote__number']} v{row['quote__version_number']}",
                quote_id=row["quote_id"],
            )
        )
    ordered = (
        OrderLine.objects.in_workspace(workspace)
        .filter(customer, product_id__in=product_ids)
        .exclude(order__status="cancelled")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("product_id")],
                order_by=[F("order_date").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=HISTORY_ORDERS)
        .values(
            "product_id",
            "unit_price",
            "order_date",
            "order_id",
            "order__number",
            "order__currency",
            "order__status",
            "order__owner__full_name",
        )
        .order_by("product_id", "-order_date", "-id")
    )
    for row in ordered:
        out[row["product_id"]]["orders"].append(
            PricePoint(
                product_id=row["product_id"],
                price=row["unit_price"],
                list_price=None,
                discount_percent=None,
                currency=row["order__currency"],
                day=row["order_date"],
                who=row["order__owner__full_name"] or "",
                status=row["order__status"],
                status_label="",
                reference=row["order__number"],
                order_id=row["order_id"],
            )
        )
    return out


class _Line:
    def __init__(self, unit_price) -> None:
        self.unit_price = unit_price


def approvals_inbox(
    *, workspace: Workspace, actor: User, status: str = ApprovalStatus.PENDING
) -> QuerySet[QuoteApproval]:
    """Approval requests on quotes the actor can see (a manager: their teams'), the ones
    addressed to the actor first, oldest first."""
    from ..services.quote_approvals import approval_queryset

    qs = approval_queryset(workspace=workspace, actor=actor)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def may_decide(actor: User) -> bool:
    return permissions.can(actor, QUOTE_APPROVAL, Action.UPDATE)


def customer_quotes(
    *, workspace: Workspace, actor: User, account_id=None, contact_id=None, limit: int = 10
) -> list[Quote]:
    """The latest quotes of one customer (the 360° section): one query."""
    qs = quote_queryset(workspace=workspace, actor=actor)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    else:
        qs = qs.filter(contact_id=contact_id)
    return list(qs.exclude(status=QuoteStatus.SUPERSEDED).order_by("-created_at", "-id")[:limit])


def deal_quotes(*, workspace: Workspace, actor: User, deal_id: int, limit: int = 20) -> list[Quote]:
    qs = quote_queryset(workspace=workspace, actor=actor).filter(deal_id=deal_id)
    return list(qs.order_by("-created_at", "-id")[:limit])


__all__ = [
    "approvals_inbox",
    "customer_filter",
    "customer_quotes",
    "deal_quotes",
    "may_decide",
    "price_history",
    "quote_get",
    "quote_lines",
    "quote_list",
    "quote_versions",
]
