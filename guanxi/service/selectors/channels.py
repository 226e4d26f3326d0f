"""Reading the SMS outbox and inbox (for holders of the service configuration right)."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.common.errors import NotFound
from guanxi.integrations.models import SmsDirection, SmsMessage, SmsState
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..objects import CONFIGURATION


def sms_messages(
    *,
    actor: User,
    workspace: Workspace,
    direction: str = SmsDirection.OUTBOUND,
    state: str = "",
    phone: str = "",
) -> QuerySet[SmsMessage]:
    """One direction's texts (the outbox or the inbox), optionally of one state or one
    number; order and page them newest first (``paginate(key="pk", descending=True)``)."""
    permissions.require(actor, CONFIGURATION, Action.READ)
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    if direction not in SmsDirection.values:
        direction = SmsDirection.OUTBOUND
    qs = SmsMessage.objects.in_workspace(workspace).filter(direction=direction)
    if state in SmsState.values:
        qs = qs.filter(state=state)
    if phone:
        qs = qs.filter(phone=phone)
    return qs


def sms_get(*, actor: User, workspace: Workspace, sms_id) -> SmsMessage:
    permissions.require(actor, CONFIGURATION, Action.READ)
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    try:
        sms_id = int(sms_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    row = SmsMessage.objects.in_workspace(workspace).filter(pk=sms_id).first()
    if row is None:
        raise NotFound()
    return row
