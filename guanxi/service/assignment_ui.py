"""What the assignment part adds to the shared UI: the side navigation (queues, agents, the
supervisor's board, my availability, my visits) and the top bar's availability toggle."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform import home, permissions
from guanxi.platform.models import Action
from guanxi.platform.navigation import NavItem, register

from .objects import CASE, CONFIGURATION, DISPATCH
from .ui import SERVICE


def _can(key: str, action: str = Action.READ):
    return lambda user: permissions.can(user, key, action)


def _works_cases(user) -> bool:
    return permissions.can(user, CASE, Action.UPDATE) or permissions.can(
        user, DISPATCH, Action.UPDATE
    )


def _supervises(user) -> bool:
    # Queue supervisors without the right to change the configuration reach the board from
    # the queue page; the entry is for those who run every queue.
    return permissions.can(user, CONFIGURATION, Action.UPDATE) and permissions.can(
        user, CASE, Action.READ
    )


for order, label, url_name, allowed in (
    (540, _("Supervisor board"), "service:board", _supervises),
    (541, _("My availability"), "service:availability", _works_cases),
    (542, _("My visits"), "service:dispatch_list", _can(DISPATCH)),
    (560, _("Queues"), "service:queue_list", _can(CONFIGURATION)),
    (561, _("Agents and skills"), "service:agent_list", _can(CONFIGURATION)),
):
    register(NavItem(section=SERVICE, label=label, url_name=url_name, order=order, allowed=allowed))

home.register_widget(
    home.TopbarWidget(
        key="service.availability",
        url_name="service:availability_widget",
        order=20,
        allowed=_works_cases,
    )
)
