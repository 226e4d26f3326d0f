"""What the catalogue adds to the shared UI: the side navigation (products, price books,
the sales settings' tax rates and currencies) and the "Prices for this customer" panel of
the 360° page, loaded lazily."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.customers import sections
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .objects import CONFIGURATION, PRICE_BOOK, PRODUCT
from .ui import SALES


def _can(object_key: str, action: str = "read"):
    return lambda user: permissions.can(user, object_key, action)


def _can_change_settings(user) -> bool:
    return permissions.can(user, CONFIGURATION, "update")


for _order, _label, _url, _allowed in (
    (360, _("Products"), "sales:product_list", _can(PRODUCT)),
    (361, _("Price books"), "sales:price_book_list", _can(PRICE_BOOK)),
    (390, _("Tax rates and currencies"), "sales:catalog_settings", _can_change_settings),
):
    register(NavItem(section=SALES, label=_label, url_name=_url, order=_order, allowed=_allowed))


def _prices_url(object_key: str, record) -> str | None:
    kind = "account" if object_key == sections.ACCOUNT else "contact"
    if kind == "contact" and record.account_id:
        return None  # a person at an account is priced as the account: see its page
    return reverse("sales:customer_prices_panel", args=[kind, record.pk])


sections.register(
    sections.Section(
        key="sales.prices",
        title=_("Prices for this customer"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=330,
        lazy_url=_prices_url,
        allowed=_can(PRICE_BOOK),
    )
)
