"""What the cases part adds to the shared UI (navigation, the "Cases" section of the customer
360° page, the timeline's sentences for case events) and the hooks it registers with the
lower apps (a customer merge moves the merged customer's cases and their complaint flag)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.activities.timeline_display import register_system_renderer
from guanxi.customers import sections
from guanxi.customers.services import merge
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .customer_panels import panel_url
from .models import Case, CaseTypeKind
from .objects import CASE, CONFIGURATION
from .services.cases import EVENT_CASE_OPENED, EVENT_CASE_RESOLVED, refresh_complaint_flags
from .ui import SERVICE


def _can(object_key: str, action: str = "read"):
    return lambda user: permissions.can(user, object_key, action)


for _order, _label, _url_name, _allowed in (
    (400, _("Cases"), "service:case_list", _can(CASE)),
    (401, _("New case"), "service:case_new", _can(CASE, "create")),
    (590, _("Case types and categories"), "service:case_types", _can(CONFIGURATION)),
):
    register(
        NavItem(section=SERVICE, label=_label, url_name=_url_name, order=_order, allowed=_allowed)
    )


# --- the timeline ----------------------------------------------------------------------------


def _opened(data: dict) -> str:
    if data.get("kind") == CaseTypeKind.COMPLAINT:
        return gettext("Complaint %(number)s filed: %(subject)s") % data
    return gettext("Case %(number)s opened: %(subject)s") % data


def _resolved(data: dict) -> str:
    return gettext("Case %(number)s resolved: %(subject)s") % data


register_system_renderer(EVENT_CASE_OPENED, _opened)
register_system_renderer(EVENT_CASE_RESOLVED, _resolved)


# --- the 360° page ---------------------------------------------------------------------------


sections.register(
    sections.Section(
        key="service.cases",
        title=_("Cases"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=320,
        lazy_url=panel_url("cases"),
        allowed=_can(CASE),
    )
)


# --- customer merges -------------------------------------------------------------------------


def _mover(field: str):
    def move(*, workspace, survivor, merged) -> int:
        moved = (
            Case.objects.in_workspace(workspace)
            .filter(**{field: merged})
            .update(**{field: survivor})
        )
        if moved:
            ids = {f"{field}_ids": [survivor.pk, merged.pk]}
            refresh_complaint_flags(workspace, **ids)
        return moved

    return move


merge.register_mover(sections.ACCOUNT, _mover("account"), name="service.Case.account")
merge.register_mover(sections.CONTACT, _mover("contact"), name="service.Case.contact")
