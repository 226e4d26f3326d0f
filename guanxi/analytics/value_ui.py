"""What the value part adds to the shared UI: the "Customer value" entry of the side
navigation and the "Customer value" section of accounts' and contacts' 360° pages
(class, revenue by year, class history; loaded with htmx after the page)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.customers import sections
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .objects import CUSTOMER_VALUE

ANALYSIS = _("Analysis")


def _can_read(user) -> bool:
    return permissions.can(user, CUSTOMER_VALUE, "read")


def _panel_url(object_key: str, record) -> str:
    kind = "account" if object_key == sections.ACCOUNT else "contact"
    return reverse("analytics:value_panel", args=[kind, record.pk])


sections.register(
    sections.Section(
        key="analytics.value",
        title=_("Customer value"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=120,
        lazy_url=_panel_url,
        allowed=_can_read,
    )
)

register(
    NavItem(
        section=ANALYSIS,
        label=_("Customer value"),
        url_name="analytics:value",
        order=600,
        allowed=_can_read,
    )
)
