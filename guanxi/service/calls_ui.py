"""What the calls part adds to the shared UI and the hooks it registers below it:

- side navigation: Calls (the call log), Telephony (the provider settings);
- the top bar's call widget, loaded after the page: it brings the screen-pop stream and
  click-to-call (``static/js/calls.js``) to users who take or place calls;
- the telephony event handler (the provider's webhook hands every call event to the
  service's ``call_receive``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.integrations import telephony
from guanxi.platform import home, permissions
from guanxi.platform.models import Action
from guanxi.platform.navigation import NavItem, register

from .objects import CALL, CONFIGURATION
from .services import telephony as services
from .ui import SERVICE


def _can(key: str, action: str = Action.READ):
    return lambda user: permissions.can(user, key, action)


def _takes_or_places_calls(user) -> bool:
    return permissions.can(user, CALL, Action.READ) or permissions.can(user, CALL, Action.CREATE)


for order, label, url_name, allowed in (
    (545, _("Calls"), "service:call_list", _can(CALL)),
    (572, _("Telephony"), "service:call_settings", _can(CONFIGURATION)),
):
    register(NavItem(section=SERVICE, label=label, url_name=url_name, order=order, allowed=allowed))

home.register_widget(
    home.TopbarWidget(
        key="service.calls",
        url_name="service:call_widget",
        order=25,
        allowed=_takes_or_places_calls,
    )
)


def _receive(account, event):
    return services.call_receive(
        workspace=account.workspace_id, provider=account.provider, event=event
    )


telephony.register_event_handler(_receive)
