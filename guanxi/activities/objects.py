"""The activities' business objects, registered for roles, field rules and the audit log."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform import registry

from .models import CheckIn, Commitment, EmailMessage, Task, TimelineEntry, VisitPlan

ENTRY = "activities.entry"
TASK = "activities.task"
COMMITMENT = "activities.commitment"
EMAIL = "activities.email"
VISIT_PLAN = "activities.visit_plan"
CHECKIN = "activities.checkin"

registry.register(
    registry.BusinessObject(
        key=ENTRY,
        model=TimelineEntry,
        label=_("timeline entry"),
        label_plural=_("timeline entries"),
        owner_field="author",
    )
)
registry.register(
    registry.BusinessObject(
        key=TASK, model=Task, label=_("task"), label_plural=_("tasks"), owner_field="assignee"
    )
)
registry.register(
    registry.BusinessObject(
        key=COMMITMENT,
        model=Commitment,
        label=_("commitment"),
        label_plural=_("commitments"),
        owner_field="promised_by",
    )
)
registry.register(
    registry.BusinessObject(
        key=EMAIL,
        model=EmailMessage,
        label=_("e-mail"),
        label_plural=_("e-mails"),
        owner_field=None,
    )
)
registry.register(
    registry.BusinessObject(
        key=VISIT_PLAN, model=VisitPlan, label=_("visit plan"), label_plural=_("visit plans")
    )
)
registry.register(
    registry.BusinessObject(
        key=CHECKIN,
        model=CheckIn,
        label=_("check-in"),
        label_plural=_("check-ins"),
        owner_field="user",
    )
)
