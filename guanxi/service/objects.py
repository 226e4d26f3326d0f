"""The service's business objects, registered for roles, field rules and the audit log."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform import registry

from .models import Article, CallEvent, Case, Dispatch, Queue, Survey

CASE = "service.case"
ARTICLE = "service.article"
# "create" on dispatches is the right to send a technician; technicians read their own.
DISPATCH = "service.dispatch"
SURVEY = "service.survey"
# Calls: the call log, screen pops and click-to-call.
CALL = "service.call"
# Case types and categories, queues and agents, working calendars, SLA policies and
# escalation rules, the telephony and SMS providers.
CONFIGURATION = "service.configuration"

for key, model, label, plural, owner in (
    (CASE, Case, _("case"), _("cases"), "assignee"),
    (ARTICLE, Article, _("article"), _("articles"), None),
    (DISPATCH, Dispatch, _("dispatch"), _("dispatches"), "technician"),
    (SURVEY, Survey, _("satisfaction survey"), _("satisfaction surveys"), "agent"),
    (CALL, CallEvent, _("call"), _("calls"), "agent"),
    (CONFIGURATION, Queue, _("service configuration"), _("service configuration"), None),
):
    registry.register(
        registry.BusinessObject(
            key=key,
            model=model,
            label=label,
            label_plural=plural,
            owner_field=owner,
            supports_custom_fields=key == CASE,
        )
    )
