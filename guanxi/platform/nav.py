"""The platform's entries in the side navigation: administration for administrators, and
everyone's own pages. Imported once from ``PlatformConfig.ready``."""

from django.utils.translation import gettext_lazy as _

from . import (
    admin_lists,  # noqa: F401  (registers the teams and audit lists, for export jobs too)
    permissions,
)
from .navigation import NavItem, register


def _is_admin(user) -> bool:
    return user.is_active and user.role.is_admin


ADMINISTRATION = _("Administration")
ME = _("Me")

for order, label, url_name in (
    (900, _("Users"), "platform:user_list"),
    (901, _("Teams"), "platform:team_list"),
    (902, _("Roles"), "platform:role_list"),
    (903, _("Custom fields"), "platform:custom_field_list"),
):
    register(
        NavItem(
            section=ADMINISTRATION, label=label, url_name=url_name, order=order, allowed=_is_admin
        )
    )

register(
    NavItem(
        section=ADMINISTRATION,
        label=_("Audit log"),
        url_name="platform:audit_list",
        order=904,
        allowed=lambda user: permissions.can(user, "platform.audit", "read"),
    )
)

register(NavItem(section=ME, label=_("My profile"), url_name="platform:profile", order=950))
register(NavItem(section=ME, label=_("API tokens"), url_name="platform:token_list", order=951))
