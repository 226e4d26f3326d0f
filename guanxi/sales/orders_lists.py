"""The orders list (``sales.orders``): the platform's list component (sort, filter, keyset
pages, saved views, export) over the orders the actor may see."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.platform.lists import Column, Filter, ListSpec, register

from .models import OrderStatus
from .objects import ORDER
from .selectors import orders as selectors

# --- the list --------------------------------------------------------------------------------


def _orders(workspace, actor):
    return selectors.order_list(workspace=workspace, actor=actor)


def _customer_name(order) -> str:
    if order.account_id:
        return order.account.name
    return order.contact.name if order.contact_id else ""


def _status_filter(qs, value):
    return qs.filter(status=value) if value in OrderStatus.values else qs


def _search(qs, term):
    term = term.strip()
    if not term:
        return qs
    return qs.filter(Q(number__istartswith=term) | Q(account__code=term) | Q(contact__code=term))


ORDERS = register(
    ListSpec(
        key="sales.orders",
        object_key=ORDER,
        title=_("Orders"),
        queryset=_orders,
        search=_search,
        columns=[
            Column("number", pgettext_lazy("document", "Number"), sort="number", link=True),
            Column("order_date", _("Order date"), sort="order_date"),
            Column("customer", _("Customer"), value=_customer_name),
            Column("status", _("Status"), value=lambda o: o.get_status_display()),
            Column("currency", _("Currency"), default=False),
            Column("total", _("Total"), sort="total", numeric=True),
            Column("paid_total", _("Paid"), numeric=True),
            Column("owner", _("Owner"), value=lambda o: o.owner.full_name if o.owner_id else ""),
        ],
        filters=[
            Filter(
                "status",
                _("Status"),
                choices=lambda w, a: list(OrderStatus.choices),
                apply=_status_filter,
            ),
        ],
        default_sort="order_date",
        default_descending=True,
        detail_url=lambda row: reverse("sales:order_detail", args=[row.pk]),
    )
)
