"""What the orders part adds to the shared UI (navigation, 360° sections, home panels) and
the hooks it registers with the lower apps (merge movers, personal data, timeline
sentences), and its background jobs (imported here so the worker registers them)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.activities.timeline_display import register_system_renderer
from guanxi.customers import sections
from guanxi.customers.services import merge, privacy
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from . import (
    orders_jobs,  # noqa: F401  (the reminder job and the import's handler)
    orders_lists,  # noqa: F401  (the orders list, for its export job too)
)
from .models import Invoice, Order, OrderLine
from .objects import INVOICE, ORDER
from .services.orders import EVENT_ORDER_CANCELLED, EVENT_ORDER_PLACED, EVENT_PAYMENT_RECEIVED
from .ui import SALES

# --- timeline sentences ----------------------------------------------------------------------


def _placed(data: dict) -> str:
    return gettext("Order %(number)s placed: %(total)s %(currency)s") % {
        "number": data["number"],
        "total": data.get("total", ""),
        "currency": data.get("currency", ""),
    }


def _cancelled(data: dict) -> str:
    return gettext("Order %(number)s cancelled") % {"number": data["number"]}


def _paid(data: dict) -> str:
    if data.get("paid_in_full"):
        text = gettext("Payment received: %(amount)s %(currency)s, invoice %(invoice)s paid")
    else:
        text = gettext("Payment received: %(amount)s %(currency)s on invoice %(invoice)s")
    return text % {
        "amount": data["amount"],
        "currency": data.get("currency", ""),
        "invoice": data.get("invoice", ""),
    }


register_system_renderer(EVENT_ORDER_PLACED, _placed)
register_system_renderer(EVENT_ORDER_CANCELLED, _cancelled)
register_system_renderer(EVENT_PAYMENT_RECEIVED, _paid)


# --- merge: a merged customer's orders, lines and invoices go to the survivor ------------------


def _mover(model, fk: str):
    def move(*, workspace, survivor, merged) -> int:
        return model.objects.in_workspace(workspace).filter(**{fk: merged}).update(**{fk: survivor})

    return move


for _key, _fk in ((merge.ACCOUNT, "account"), (merge.CONTACT, "contact")):
    for _model in (Order, OrderLine, Invoice):
        merge.register_mover(_key, _mover(_model, _fk), name=f"sales.{_model.__name__}.{_fk}")


# --- personal data: an individual's orders are part of their export --------------------------


def _personal_orders(workspace_id: int, contact) -> dict:
    orders = (
        Order.objects.in_workspace(workspace_id)
        .filter(contact=contact)
        .order_by("order_date", "id")
        .values("number", "order_date", "status", "currency", "total", "paid_total")[:5000]
    )
    return {
        "sales.orders": [
            {k: (str(v) if v is not None else None) for k, v in row.items()} for row in orders
        ]
    }


def _erase_orders(workspace_id: int, contact) -> dict:
    # Orders and invoices are accounting records kept for the legal retention period (tax
    # law); they hold no personal data beyond the link to the (erased) person.
    return {"sales.orders": 0}


privacy.register_personal_data("sales.orders", provider=_personal_orders, eraser=_erase_orders)


# --- the 360° section ------------------------------------------------------------------------


def _can_read_orders(user) -> bool:
    return permissions.can(user, ORDER, "read")


def _section(request, object_key: str, record) -> dict | None:
    from .orders_views import customer_section_context

    return customer_section_context(request, object_key, record)


sections.register(
    sections.Section(
        key="sales.orders",
        title=_("Orders and receivables"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=320,
        loader=_section,
        template="sales/orders/section_customer.html",
        allowed=_can_read_orders,
    )
)


# --- navigation ------------------------------------------------------------------------------


def _can_read_invoices(user) -> bool:
    return permissions.can(user, INVOICE, "read")


for _order, _label, _url, _allowed in (
    (340, _("Orders"), "sales:order_list", _can_read_orders),
    (341, _("Receivables"), "sales:receivables", _can_read_invoices),
):
    register(NavItem(section=SALES, label=_label, url_name=_url, order=_order, allowed=_allowed))
