"""A user's saved list views."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound

from ..models import (
    SavedView,
    User,
    Workspace,
)
from ._base import (
    _text,
)


def saved_view_save(
    *, actor: User, workspace: Workspace, list_key: str, name: str, params: dict
) -> SavedView:
    name = _text(name, field="name", max_length=80)
    if not name:
        raise ApplicationError(
            _("Enter a name for the view."), fields={"name": [_("This field is required.")]}
        )
    with transaction.atomic():
        view, _created = SavedView.objects.in_workspace(workspace).update_or_create(
            workspace=workspace,
            user=actor,
            list_key=list_key,
            name=name[:80],
            defaults={"params": params},
        )
    return view


def saved_view_delete(*, actor: User, workspace: Workspace, view_id: int) -> None:
    with transaction.atomic():
        deleted, _rows = (
            SavedView.objects.in_workspace(workspace).filter(pk=view_id, user=actor).delete()
        )
        if not deleted:
            raise NotFound()
