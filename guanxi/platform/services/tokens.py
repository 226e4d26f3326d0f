"""Personal API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

from .. import audit, permissions
from ..models import (
    ApiToken,
    AuditAction,
    User,
    Workspace,
)
from ._base import (
    _get,
    _text,
    _user_in,
    hash_secret,
)

TOKEN_SCOPES = ("read", "write", "admin")


def api_token_create(
    *,
    actor: User,
    workspace: Workspace,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    user_id: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a personal token; the secret is returned once and only its hash is kept."""
    owner = actor
    if user_id is not None and int(user_id) != actor.pk:
        permissions.require_admin(actor)
        owner = _user_in(workspace, user_id)
    name = _text(name, field="name", max_length=80)
    if not name:
        raise ApplicationError(
            _("Enter a name for the token."), fields={"name": [_("This field is required.")]}
        )
    scopes = sorted(set(scopes or ["read"]))
    bad = [s for s in scopes if s not in TOKEN_SCOPES]
    if bad:
        raise ApplicationError(
            _("Unknown scope: %(s)s.") % {"s": ", ".join(bad)},
            fields={"scopes": [_("Unknown scope.")]},
        )
    if "admin" in scopes and not owner.role.is_admin:
        raise ApplicationError(
            _("Only administrators can hold the admin scope."),
            fields={"scopes": [_("Not allowed.")]},
        )
    if expires_in_days is not None and not (1 <= int(expires_in_days) <= 3650):
        raise ApplicationError(
            _("Expiry must be between 1 and 3650 days."),
            fields={"expires_in_days": [_("Out of range.")]},
        )
    prefix = secrets.token_hex(4)
    secret = f"gx_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            workspace=workspace,
            user=owner,
            name=name[:80],
            prefix=prefix,
            key_hash=hash_secret(secret),
            scopes=scopes,
            expires_at=timezone.now() + timedelta(days=int(expires_in_days))
            if expires_in_days
            else None,
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SECURITY,
            object_key="platform.apitoken",
            object_id=token.pk,
            object_repr=token.name,
            changes={"token": [None, f"created for {owner.email}"], "scopes": [None, scopes]},
        )
    return token, secret


def api_token_revoke(*, actor: User, workspace: Workspace, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = _get(ApiToken, workspace, token_id, lock=True)
        if token.user_id != actor.pk:
            permissions.require_admin(actor)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at", "updated_at"])
            audit.log(
                actor=actor,
                workspace=workspace,
                action=AuditAction.SECURITY,
                object_key="platform.apitoken",
                object_id=token.pk,
                object_repr=token.name,
                changes={"token": ["active", "revoked"]},
            )
    return token
