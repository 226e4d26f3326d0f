"""Sharing one record with a user or a team."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound

from .. import audit, permissions, registry
from ..models import (
    Action,
    AuditAction,
    RecordShare,
    User,
    Workspace,
)
from ._base import (
    _get,
    _team_in,
    _user_in,
)


def record_share(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    object_id: int,
    user_id: int | None = None,
    team_id: int | None = None,
    can_edit: bool = False,
) -> RecordShare:
    """Share one record with a user or a team. The actor must be able to update it."""
    obj = registry.find(object_key)
    if obj is None or obj.owner_field is None:
        raise ApplicationError(_("This kind of record cannot be shared."))
    permissions.require(actor, object_key, Action.UPDATE)
    if (user_id is None) == (team_id is None):
        raise ApplicationError(_("Share with either a user or a team."))
    with transaction.atomic():
        visible = permissions.visible(
            obj.model.objects.in_workspace(workspace), actor=actor, object_key=object_key
        )
        record = visible.filter(pk=object_id).first()
        if record is None:
            raise NotFound()
        share, _created = RecordShare.objects.in_workspace(workspace).update_or_create(
            workspace=workspace,
            object_key=object_key,
            object_id=record.pk,
            user=_user_in(workspace, user_id) if user_id else None,
            team=_team_in(workspace, team_id) if team_id else None,
            defaults={"can_edit": can_edit, "created_by": actor},
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SHARE,
            object_key=object_key,
            object_id=record.pk,
            object_repr=str(record),
            changes={
                "shared_with": [None, str(share.user or share.team)],
                "can_edit": [None, can_edit],
            },
        )
    return share


def record_unshare(*, actor: User, workspace: Workspace, share_id: int) -> None:
    """Withdraw one share. The actor must be able to update the record and see it."""
    share = _get(RecordShare, workspace, share_id)
    obj = registry.find(share.object_key)
    if obj is None:
        raise NotFound()
    permissions.require(actor, share.object_key, Action.UPDATE)
    with transaction.atomic():
        share = _get(RecordShare, workspace, share_id, lock=True)
        visible = permissions.visible(
            obj.model.objects.filter(workspace=workspace), actor=actor, object_key=obj.key
        )
        record = visible.filter(pk=share.object_id).first()
        if record is None:
            raise NotFound()
        shared_with = str(share.user or share.team)
        share.delete()
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SHARE,
            object_key=obj.key,
            object_id=record.pk,
            object_repr=str(record),
            changes={"shared_with": [shared_with, None]},
        )
