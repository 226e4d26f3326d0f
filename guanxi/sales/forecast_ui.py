"""What the forecast part adds to the shared UI: the side navigation's Forecast, Quotas and
Rep performance; the deal page's section "Who should take this deal?" (its fragment,
``sales:deal_suggested_owners``, loads after the page). Quotas point at users and teams,
not customers: no merge mover and no personal data to register."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from . import deal_sections
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


# --- "Who should take this deal?" on the deal page ----------------------------------------------


def _suggestion_section(request, deal) -> dict | None:
    """Shown on open deals to those who hand deals out; the ranking (one grouped query over
    the closed deals) loads after the page, with htmx."""
    from .selectors.performance import may_see_suggestions

    if deal.status != "open" or not may_see_suggestions(request.user):
        return None
    return {"url": reverse("sales:deal_suggested_owners", args=[deal.pk])}


deal_sections.register(
    deal_sections.Section(
        key="sales.suggested_owners",
        title=_("Who should take this deal?"),
        loader=_suggestion_section,
        template="sales/forecast/suggested_owners_section.html",
        order=300,
    )
)
