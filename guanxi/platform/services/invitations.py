"""Invitations by e-mail (hosted sign-up and self-hosted alike)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict

from .. import audit, mail, permissions
from ..models import (
    AuditAction,
    Invitation,
    User,
    Workspace,
)
from ._base import (
    _check_email,
    _check_password,
    _get,
    _role_in,
    _team_in,
    _text,
    hash_secret,
)


def invitation_create(
    *,
    actor: User,
    workspace: Workspace,
    email: str,
    role_id: int,
    team_id: int | None = None,
    full_name: str = "",
) -> tuple[Invitation, str]:
    """Invite someone by e-mail; returns the invitation and the one-time token for the link."""
    permissions.require_admin(actor)
    email = (email or "").strip().lower()
    _check_email(email, field="email")
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            _("A user with this e-mail already exists."), fields={"email": [_("Already taken.")]}
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=email,
            full_name=_text(full_name, field="full_name", max_length=150),
            role=_role_in(workspace, role_id),
            team=_team_in(workspace, team_id),
            token_hash=hash_secret(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=7),
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key="platform.invitation",
            object_id=invitation.pk,
            object_repr=email,
            changes={"email": [None, email], "role": [None, invitation.role.name]},
        )
        mail.queue_template_email(
            to=[email],
            subject_template="platform/email/invitation_subject.txt",
            body_template="platform/email/invitation_body.txt",
            context={
                "workspace": workspace,
                "inviter": actor,
                "invitation": invitation,
                "url": mail.absolute_url(reverse("invitation_accept", args=[token])),
            },
            language=workspace.language,
        )
    return invitation, token


def invitation_revoke(*, actor: User, workspace: Workspace, invitation_id: int) -> None:
    """Withdraw an invitation that was not accepted yet; its link stops working."""
    permissions.require_admin(actor)
    with transaction.atomic():
        invitation = _get(Invitation, workspace, invitation_id, lock=True)
        if invitation.accepted_at is not None:
            raise Conflict(_("This invitation was already accepted."), code="invitation_accepted")
        invitation.expires_at = timezone.now()
        invitation.save(update_fields=["expires_at", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.DELETE,
            object_key="platform.invitation",
            object_id=invitation.pk,
            object_repr=invitation.email,
            changes={"email": [invitation.email, None]},
        )


def invitation_accept(*, token: str, full_name: str, password: str) -> User:
    with transaction.atomic():
        invitation = (
            Invitation.objects.across_workspaces()
            .select_for_update()
            .filter(
                token_hash=hash_secret(token or ""),
                accepted_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if invitation is None:
            raise ApplicationError(
                _("This invitation is not valid any more."), code="invitation_invalid"
            )
        _check_password(password, email=invitation.email)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise Conflict(_("A user with this e-mail already exists."))
        user = User(
            workspace_id=invitation.workspace_id,
            email=invitation.email,
            full_name=(full_name or invitation.full_name or invitation.email).strip(),
            role=invitation.role,
            team=invitation.team,
        )
        user.set_password(password)
        user.save()
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
        audit.log_create(actor=user, instance=user)
    return user
