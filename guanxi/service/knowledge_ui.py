"""What the knowledge part adds to the shared UI: the side navigation (the knowledge base,
its categories). The "Suggested articles" box is a template other parts include
(``service/knowledge/_suggest_box.html``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .objects import ARTICLE
from .ui import SERVICE


def _can(action: str):
    return lambda user: permissions.can(user, ARTICLE, action)


for _order, _label, _url, _allowed in (
    (470, _("Knowledge base"), "service:kb_home", _can("read")),
    (471, _("Article categories"), "service:kb_categories", _can("update")),
):
    register(NavItem(section=SERVICE, label=_label, url_name=_url, order=_order, allowed=_allowed))
