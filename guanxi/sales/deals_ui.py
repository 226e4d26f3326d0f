"""What the deals part adds to the shared UI (navigation, the "Open deals" section of the
customer 360° page, the timeline's sentences for deal events) and the hooks it registers
with the lower apps (a customer merge moves the merged customer's deals)."""

from django.utils.translation import gettext_lazy as _

from guanxi.activities.timeline_display import register_system_renderer
from guanxi.customers import sections
from guanxi.customers.services import merge
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from . import deals_lists  # noqa: F401  (registers the "sales.deals" list for pages and exports)
from .deals_display import RENDERERS
from .models import Deal
from .objects import CONFIGURATION, DEAL
from .ui import SALES

for _subtype, _render in RENDERERS.items():
    register_system_renderer(_subtype, _render)


def _can_read(user) -> bool:
    return permissions.can(user, DEAL, "read")


for _order, _label, _url_name, _allowed in (
    (310, _("Deal board"), "sales:deal_board", _can_read),
    (311, _("Deals"), "sales:deal_list", _can_read),
    (
        390,
        _("Pipelines"),
        "sales:pipeline_settings",
        lambda u: permissions.can(u, CONFIGURATION, "update"),
    ),
):
    register(
        NavItem(section=SALES, label=_label, url_name=_url_name, order=_order, allowed=_allowed)
    )


def _customer_section(request, object_key, record):
    from .deals_views import customer_section

    return customer_section(request, object_key, record)


sections.register(
    sections.Section(
        key="sales.open_deals",
        title=_("Open deals"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=300,
        loader=_customer_section,
        template="sales/deals/section_customer.html",
        allowed=_can_read,
    )
)


def _mover(field: str):
    def move(*, workspace, survivor, merged) -> int:
        return (
            Deal.objects.in_workspace(workspace)
            .filter(**{field: merged})
            .update(**{field: survivor})
        )

    return move


merge.register_mover(sections.ACCOUNT, _mover("account"), name="sales.Deal.account")
merge.register_mover(sections.CONTACT, _mover("contact"), name="sales.Deal.contact")
