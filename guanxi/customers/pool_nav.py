"""The customer pool's entry in the side navigation. Imported from ``CustomersConfig.ready``."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

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
