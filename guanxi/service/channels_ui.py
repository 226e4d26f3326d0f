"""What the channels part adds to the shared UI and the hooks it registers below it:

- side navigation: SMS messages (the outbox and inbox), Channels (the SMS provider, the
  mailboxes that open cases);
- the e-mail triage action "Turn into a case";
- the inbound e-mail handler (replies thread onto their case; a case mailbox opens cases);
- the inbound SMS handler (a text threads onto the sender's open case or opens one).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.activities.services import email_in
from guanxi.integrations import sms
from guanxi.platform import permissions
from guanxi.platform.models import Action
from guanxi.platform.navigation import NavItem, register

from .objects import CASE, CONFIGURATION
from .services import case_email, case_sms
from .ui import SERVICE


def _can(key: str, action: str = Action.READ):
    return lambda user: permissions.can(user, key, action)


for order, label, url_name, allowed in (
    (570, _("SMS messages"), "service:sms_list", _can(CONFIGURATION)),
    (571, _("Channels"), "service:channel_settings", _can(CONFIGURATION)),
):
    register(NavItem(section=SERVICE, label=label, url_name=url_name, order=order, allowed=allowed))

email_in.register_triage_action(
    "service.case",
    _("Turn into a case"),
    case_email.triage_case_from_email,
    allowed=_can(CASE, Action.CREATE),
)
email_in.register_inbound_handler("service.case", case_email.case_email_inbound)
sms.register_inbound_handler("service.case", case_sms.case_from_sms)
