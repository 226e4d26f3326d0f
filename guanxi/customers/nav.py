"""The customers' entries in the side navigation (and the lists they show, registered for
the pages and the export job). Imported once from ``CustomersConfig.ready``."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from . import lists  # noqa: F401  (registers the account and contact lists)

CUSTOMERS = _("Customers")


def _can_read(object_key: str):
    return lambda user: permissions.can(user, object_key, "read")


register(
    NavItem(
        section=CUSTOMERS,
        label=_("Accounts"),
        url_name="customers:account_list",
        order=100,
        allowed=_can_read("customers.account"),
    )
)
register(
    NavItem(
        section=CUSTOMERS,
        label=_("Contacts"),
        url_name="customers:contact_list",
        order=101,
        allowed=_can_read("customers.contact"),
    )
)
register(
    NavItem(
        section=CUSTOMERS,
        label=_("Import"),
        url_name="customers:import",
        order=102,
        allowed=lambda user: (
            permissions.can(user, "customers.contact", "create")
            or permissions.can(user, "customers.account", "create")
        ),
    )
)
