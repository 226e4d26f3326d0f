"""What the forecast part adds to the shared UI: the side navigation's Forecast, Quotas and
Rep performance. (Quotas point at users and teams, not customers: no merge mover and no
personal data to register.) The "who should take this deal?" fragment is the URL
``sales:deal_suggested_owners`` (``/sales/deals/<id>/suggested-owners/``), for the deal
page to load."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .objects import DEAL, QUOTA
from .ui import SALES


def _can(key: str, action: str = "read"):
    return lambda user: permissions.can(user, key, action)


for order, label, url_name, allowed in (
    (360, _("Forecast"), "sales:forecast", _can(DEAL)),
    (361, _("Quotas"), "sales:quotas", _can(QUOTA)),
    (362, _("Rep performance"), "sales:performance", _can(DEAL)),
):
    register(NavItem(section=SALES, label=label, url_name=url_name, order=order, allowed=allowed))
