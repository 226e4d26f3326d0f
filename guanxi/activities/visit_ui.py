"""What the visit part adds to the shared UI: the "Visit plan" section of an account's
360° page (loaded with htmx after the page) and the side navigation entries."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.customers import sections
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .objects import TASK, VISIT_PLAN

VISITS = _("Visits")


def _plan_panel_url(object_key: str, record) -> str:
    return reverse("activities:visit_plan_panel", args=[record.pk])


sections.register(
    sections.Section(
        key="activities.visit_plan",
        title=_("Visit plan"),
        object_keys=(sections.ACCOUNT,),
        order=140,
        lazy_url=_plan_panel_url,
        allowed=lambda user: permissions.can(user, VISIT_PLAN, "read"),
    )
)


def _can_read_tasks(user) -> bool:
    return permissions.can(user, TASK, "read")


register(
    NavItem(
        section=VISITS,
        label=_("Today's route"),
        url_name="activities:route_day",
        order=210,
        allowed=_can_read_tasks,
    )
)
register(
    NavItem(
        section=VISITS,
        label=_("Plan versus done"),
        url_name="activities:visit_progress",
        order=211,
        allowed=_can_read_tasks,
    )
)
register(
    NavItem(
        section=VISITS,
        label=_("Generate visits"),
        url_name="activities:visit_generate",
        order=212,
        allowed=lambda user: (
            permissions.can(user, VISIT_PLAN, "update") and permissions.can(user, TASK, "create")
        ),
    )
)
register(
    NavItem(
        section=VISITS,
        label=_("Visit settings"),
        url_name="activities:visit_settings",
        order=213,
        allowed=lambda user: user.role.is_admin,
    )
)
