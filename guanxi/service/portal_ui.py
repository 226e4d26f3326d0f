"""What the portal part adds to the shared UI: the staff's navigation entries (the portal's
deflection figures and its settings). The portal itself has its own pages and base
template (``templates/service/portal/base.html``), with no staff navigation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .objects import CONFIGURATION
from .ui import SERVICE


def _can(action: str):
    return lambda user: permissions.can(user, CONFIGURATION, action)


for order, label, url_name, allowed in (
    (580, _("Portal deflection"), "service:portal_deflection", _can("read")),
    (581, _("Customer portal"), "service:portal_settings", _can("read")),
):
    register(NavItem(section=SERVICE, label=label, url_name=url_name, order=order, allowed=allowed))
