"""Reads of orders, invoices and payments. Every selector takes the workspace and the actor
and applies the actor's visibility (orders by their owner; invoices by the order's owner,
copied onto the invoice), so another workspace's order is "not found"."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from ..models import Invoice, Order, OrderLine, Payment
from ..objects import INVOICE, ORDER


def order_list(*, workspace: Workspace, actor: User) -> QuerySet[Order]:
    qs = Order.objects.in_workspace(workspace).select_related("owner", "account", "contact")
    return permissions.visible(qs, actor=actor, object_key=ORDER)


def order_get(*, workspace: Workspace, actor: User, order_id) -> Order:
    try:
        return order_list(workspace=workspace, actor=actor).get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def order_detail(*, workspace: Workspace, actor: User, order_id) -> Order:
    """The order with its lines (and their products), invoices and their payments: four
    queries whatever the number of lines."""
    qs = order_list(workspace=workspace, actor=actor).prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.in_workspace(workspace)
            .select_related("product")
            .order_by("position", "id"),
        ),
        Prefetch(
            "invoices",
            queryset=Invoice.objects.in_workspace(workspace)
            .order_by("issued_on", "id")
            .prefetch_related(
                Prefetch(
                    "payments",
                    queryset=Payment.objects.in_workspace(workspace)
                    .select_related("recorded_by")
                    .order_by("received_on", "id"),
                )
            ),
        ),
    )
    try:
        return qs.get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def invoice_list(*, workspace: Workspace, actor: User) -> QuerySet[Invoice]:
    qs = Invoice.objects.in_workspace(workspace).select_related("order", "account", "contact")
    return permissions.visible(qs, actor=actor, object_key=INVOICE)


def invoice_get(*, workspace: Workspace, actor: User, invoice_id) -> Invoice:
    try:
        return invoice_list(workspace=workspace, actor=actor).get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def payment_list(*, workspace: Workspace, actor: User, invoice: Invoice) -> QuerySet[Payment]:
    return (
        Payment.objects.in_workspace(workspace)
        .filter(invoice=invoice)
        .select_related("recorded_by")
        .order_by("received_on", "id")
    )


def customer_orders(
    *, workspace: Workspace, actor: User, account_id=None, contact_id=None, limit: int = 5
) -> list[Order]:
    """A customer's latest orders (the 360° section)."""
    qs = order_list(workspace=workspace, actor=actor)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    elif contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    else:
        return []
    return list(qs.order_by("-order_date", "-id")[:limit])
