"""What the value part adds to the shared UI: the "Customer value" entry of the side
navigation and the "Customer value" section of accounts' and contacts' 360° pages
(class, revenue by year, class history; loaded with htmx after the page)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.customers import sections
from guanxi.customers.services import merge
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


# --- customer merges: the survivor takes the merged customer's revenue and class history ----


def _merge_mover(fk: str):
    def move(*, workspace, survivor, merged) -> int:
        from django.db.models import F

        from .models import ClassChange, CustomerYearRevenue

        rows = CustomerYearRevenue.objects.in_workspace(workspace)
        moved = 0
        kept = {r.year: r for r in rows.filter(**{fk: survivor})}
        for row in rows.filter(**{fk: merged}):
            same_year = kept.get(row.year)
            if same_year is None:
                rows.filter(pk=row.pk).update(**{fk: survivor})
            else:  # both bought that year: one row with the sum (the next run agrees)
                rows.filter(pk=same_year.pk).update(
                    revenue=F("revenue") + row.revenue, lines=F("lines") + row.lines
                )
                rows.filter(pk=row.pk).delete()
            moved += 1
        moved += (
            ClassChange.objects.in_workspace(workspace)
            .filter(**{fk: merged})
            .update(**{fk: survivor})
        )
        return moved

    return move


merge.register_mover(sections.ACCOUNT, _merge_mover("account"), name="analytics.value.account")
merge.register_mover(sections.CONTACT, _merge_mover("contact"), name="analytics.value.contact")
