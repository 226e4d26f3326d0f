"""What the surveys part adds to the shared UI and its hooks:

- side navigation: Satisfaction surveys, Complaint trends, Survey settings;
- the 360° page's "Satisfaction" section (a customer's last scores);
- the timeline's sentence for an answered survey;
- customer merges: a merged account's or contact's surveys follow the survivor;
- personal data: a person's survey answers are in their export and emptied on erasure.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.activities.timeline_display import register_system_renderer
from guanxi.customers import sections
from guanxi.customers.services import merge, privacy
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .customer_panels import panel_url
from .models import Survey
from .objects import CASE, CONFIGURATION, SURVEY
from .ui import SERVICE


def _can(key: str, action: str = "read"):
    return lambda user: permissions.can(user, key, action)


for order, label, url_name, allowed in (
    (440, gettext_lazy("Satisfaction surveys"), "service:survey_results", _can(SURVEY)),
    (441, gettext_lazy("Complaint trends"), "service:trends", _can(CASE)),
    (442, gettext_lazy("Survey settings"), "service:survey_settings", _can(CONFIGURATION)),
):
    register(NavItem(section=SERVICE, label=label, url_name=url_name, order=order, allowed=allowed))


sections.register(
    sections.Section(
        key="service.satisfaction",
        title=gettext_lazy("Satisfaction"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=420,
        lazy_url=panel_url("satisfaction"),
        allowed=_can(SURVEY),
    )
)


register_system_renderer(
    "survey_answered",
    lambda d: (
        _("Satisfaction survey on %(number)s answered: %(score)s/5")
        % {"number": d["number"], "score": d["score"]}
    ),
)


# --- customer merges and personal data ------------------------------------------------------------


def _mover(fk: str):
    def move(*, workspace, survivor, merged) -> int:
        return (
            Survey.objects.in_workspace(workspace).filter(**{fk: merged}).update(**{fk: survivor})
        )

    return move


merge.register_mover(sections.ACCOUNT, _mover("account"), name="service.Survey.account")
merge.register_mover(sections.CONTACT, _mover("contact"), name="service.Survey.contact")


def _personal_surveys(workspace_id: int, contact) -> dict:
    rows = (
        Survey.objects.in_workspace(workspace_id)
        .filter(contact=contact)
        .order_by("id")
        .values("case__number", "channel", "sent_to", "sent_at", "answered_at", "score", "comment")[
            :5000
        ]
    )
    return {
        "service.surveys": [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
            for row in rows
        ]
    }


def _erase_surveys(workspace_id: int, contact) -> dict:
    """The score stays (the agent's figures need it); what the person wrote and where the
    link went are emptied."""
    changed = (
        Survey.objects.in_workspace(workspace_id)
        .filter(contact=contact)
        .update(comment="", sent_to="")
    )
    return {"service.surveys": changed}


privacy.register_personal_data("service.surveys", provider=_personal_surveys, eraser=_erase_surveys)
