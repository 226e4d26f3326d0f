"""The start page's panels and the top bar's widgets, and the registry apps add theirs to.

The platform renders the start page (``views.home``) and the page shell without knowing the
apps above it: an app registers a ``HomePanel`` (a template and a loader returning its
context, ``None`` to hide it) or a ``TopbarWidget`` (a URL the shell loads with htmx after
the page, e.g. a notification bell) from its ``AppConfig.ready``. Loaders must run a fixed
number of queries; the start page's query count is tested.

    home.register(HomePanel(key="activities.my_day", template="activities/myday_panel.html",
                            loader=my_day_context, order=10, wide=True))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    # (request) -> context for ``template``, or None to hide the panel.
    loader: Callable[[Any], dict | None]
    order: int = 100
    wide: bool = False
    # Stylesheets (static paths) the panel needs on the start page.
    stylesheets: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopbarWidget:
    key: str
    url_name: str
    order: int = 100
    # (user) -> bool: whether the widget is shown to this user.
    allowed: Callable[[Any], bool] | None = None


_panels: dict[str, HomePanel] = {}
_widgets: dict[str, TopbarWidget] = {}


def register(panel: HomePanel) -> HomePanel:
    _panels[panel.key] = panel
    return panel


def register_widget(widget: TopbarWidget) -> TopbarWidget:
    _widgets[widget.key] = widget
    return widget


def panels_for(request) -> list[dict]:
    """The start page's panels for this request, in order, each with its context."""
    out = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.loader(request)
        if context is not None:
            out.append({"panel": panel, "context": context})
    return out


def widgets_for(user) -> list[dict]:
    """The top bar's lazily loaded widgets for a signed-in user (no queries)."""
    out = []
    for widget in sorted(_widgets.values(), key=lambda w: (w.order, w.key)):
        if widget.allowed is not None and not widget.allowed(user):
            continue
        try:
            out.append({"key": widget.key, "url": reverse(widget.url_name)})
        except NoReverseMatch:
            continue
    return out
