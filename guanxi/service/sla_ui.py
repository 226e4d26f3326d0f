"""What the SLA part adds to the shared UI and its hooks:

- side navigation: the SLA dashboard (who may read cases), SLA policies and working
  calendars (who may read the service configuration);
- the sweep, a periodic job every minute (``sla_jobs``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from . import sla_jobs  # noqa: F401  (registers the periodic sweep)
from .objects import CASE, CONFIGURATION
from .ui import SERVICE


def _can(key: str, action: str = "read"):
    return lambda user: permissions.can(user, key, action)


for order, label, url_name, allowed in (
    (430, _("SLA dashboard"), "service:sla_dashboard", _can(CASE)),
    (431, _("SLA policies"), "service:sla_policies", _can(CONFIGURATION)),
    (432, _("Working calendars"), "service:sla_calendars", _can(CONFIGURATION)),
):
    register(NavItem(section=SERVICE, label=label, url_name=url_name, order=order, allowed=allowed))
