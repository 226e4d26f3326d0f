"""What the dashboards part adds to the shared UI: the "Sales dashboard" entry of the side
navigation, for users who may read deals, invoices or customer value."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register
from guanxi.sales.objects import DEAL, INVOICE

from .objects import CUSTOMER_VALUE
from .value_ui import ANALYSIS


def _allowed(user) -> bool:
    return any(permissions.can(user, key, "read") for key in (DEAL, INVOICE, CUSTOMER_VALUE))


register(
    NavItem(
        section=ANALYSIS,
        label=_("Sales dashboard"),
        url_name="analytics:sales_dashboard",
        order=590,
        allowed=_allowed,
    )
)
