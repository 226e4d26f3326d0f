"""What the e-mail part adds to the shared UI: the 360° page's e-mail panel (with the
"Write e-mail" action) and the side navigation's triage inbox, templates and mailboxes."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.customers import sections
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .objects import EMAIL

MAIL = pgettext_lazy("messages", "E-mail")


def _panel_url(object_key: str, record) -> str:
    kind = "account" if object_key == sections.ACCOUNT else "contact"
    return reverse("activities:email_panel", args=[kind, record.pk])


sections.register(
    sections.Section(
        key="activities.email",
        title=pgettext_lazy("messages", "E-mail"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=40,
        lazy_url=_panel_url,
        allowed=lambda user: permissions.can(user, EMAIL, "read"),
    )
)

register(
    NavItem(
        section=MAIL,
        label=_("Triage inbox"),
        url_name="activities:email_triage",
        order=400,
        allowed=lambda user: permissions.can(user, EMAIL, "read"),
    )
)
register(
    NavItem(
        section=MAIL,
        label=_("E-mail templates"),
        url_name="activities:email_templates",
        order=401,
        allowed=lambda user: permissions.can(user, EMAIL, "read"),
    )
)
register(
    NavItem(
        section=MAIL,
        label=_("Mailboxes"),
        url_name="activities:email_mailboxes",
        order=402,
        allowed=lambda user: user.is_active and user.role.is_admin,
    )
)
