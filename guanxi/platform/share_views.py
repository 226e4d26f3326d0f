"""The share panel: who one record is shared with, a form to share it with a user or a
team, and buttons to stop sharing.

A detail page includes ``components/share_panel.html`` with ``object_key`` and
``object_id``; the panel then loads itself from ``share_panel`` and every change posts
here and gets the whole panel back (htmx swaps its outer HTML). Errors are shown inside it.
"""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.pagination import MAX_ID
from guanxi.common.views import page

from . import permissions, registry, selectors, services
from .models import Action

PANEL_TEMPLATE = "components/share_panel.html"


class ShareForm(forms.Form):
    """Only collects the choice; ``services.record_share`` decides whether it is valid."""

    user_id = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    team_id = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    can_edit = forms.BooleanField(required=False)


def _panel(request, object_key: str, object_id: int, *, error=None):
    """The panel as the actor sees it; a fixed number of queries whatever the share count."""
    ws = {"workspace": request.workspace, "actor": request.user}
    shares = list(selectors.record_shares(**ws, object_key=object_key, object_id=object_id))
    obj = registry.get(object_key)
    can_share = obj.owner_field is not None and permissions.can(
        request.user, object_key, Action.UPDATE
    )
    context = {
        "loaded": True,
        "object_key": object_key,
        "object_id": object_id,
        "shares": shares,
        "can_share": can_share,
        "error": error,
        "users": [],
        "teams": [],
    }
    if can_share:
        context["users"] = selectors.user_list(**ws).filter(is_active=True).order_by("full_name")
        context["teams"] = [(t.pk, "— " * depth + t.name) for t, depth in selectors.team_tree(**ws)]
    return render(request, PANEL_TEMPLATE, context)


def _error_text(exc: ApplicationError) -> str:
    messages = [str(exc.message)]
    messages += [str(m) for msgs in exc.fields.values() for m in msgs]
    return " ".join(messages)


@page
@require_http_methods(["GET", "POST"])
def share_panel(request, object_key: str, object_id: int):
    """GET renders the panel; POST shares the record, then renders it again."""
    if object_id > MAX_ID:
        raise NotFound()
    error = None
    if request.method == "POST":
        form = ShareForm(request.POST)
        if not form.is_valid():
            # Only a tampered form gets here: the choices are selects.
            error = " ".join(str(m) for msgs in form.errors.values() for m in msgs)
        else:
            try:
                services.record_share(
                    actor=request.user,
                    workspace=request.workspace,
                    object_key=object_key,
                    object_id=object_id,
                    **form.cleaned_data,
                )
            except NotFound:
                raise
            except ApplicationError as exc:
                error = _error_text(exc)
    return _panel(request, object_key, object_id, error=error)


@page
@require_POST
def share_remove(request, object_key: str, object_id: int, share_id: int):
    """Stop sharing, then render the panel again."""
    if max(object_id, share_id) > MAX_ID:
        raise NotFound()
    ws = {"workspace": request.workspace, "actor": request.user}
    shares = selectors.record_shares(**ws, object_key=object_key, object_id=object_id)
    if not shares.filter(pk=share_id).exists():
        raise NotFound()
    try:
        services.record_unshare(**ws, share_id=share_id)
    except NotFound:
        raise
    except ApplicationError as exc:
        return _panel(request, object_key, object_id, error=_error_text(exc))
    try:
        return _panel(request, object_key, object_id)
    except NotFound:
        # The actor saw the record only through the share they just removed.
        return render(
            request,
            PANEL_TEMPLATE,
            {"loaded": True, "gone": True, "object_key": object_key, "object_id": object_id},
        )
