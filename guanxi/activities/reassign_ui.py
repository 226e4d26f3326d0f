"""What the reassign part adds to the shared UI: the side navigation's "Reassign work" for
administrators and managers."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform.navigation import NavItem, register

from .selectors.reassign import is_reassigner

register(
    NavItem(
        section=_("Activities"),
        label=_("Reassign work"),
        url_name="activities:reassign_home",
        order=290,
        allowed=is_reassigner,
    )
)
