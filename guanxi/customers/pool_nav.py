"""The customer pool's entry in the side navigation and its panel on the 360° page.
Imported from ``CustomersConfig.ready``."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from . import sections

register(
    NavItem(
        section=_("Customers"),
        label=_("Customer pool"),
        url_name="customers:pool",
        order=105,
        allowed=lambda user: (
            permissions.can(user, "customers.account", "read")
            or permissions.can(user, "customers.contact", "read")
        ),
    )
)


def _pool_panel_url(object_key: str, record) -> str:
    from django.urls import reverse

    kind = "account" if object_key == "customers.account" else "contact"
    return reverse("customers:record_pool_panel", args=[kind, record.pk])


sections.register(
    sections.Section(
        key="customers.pool",
        title=_("Customer pool"),
        object_keys=("customers.account", "customers.contact"),
        order=70,
        lazy_url=_pool_panel_url,
    )
)
