"""Users of a workspace."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict

from .. import audit, custom_fields, mail, permissions
from ..models import (
    AuditAction,
    User,
    Workspace,
)
from ._base import (
    _check_email,
    _check_language,
    _check_password,
    _check_time_zone,
    _ensure_other_admin,
    _get,
    _role_in,
    _team_in,
    _text,
)


def user_create(
    *,
    actor: User,
    workspace: Workspace,
    email: str,
    full_name: str,
    role_id: int,
    team_id: int | None = None,
    phone: str = "",
    password: str | None = None,
    language: str = "",
    time_zone: str = "",
    custom: dict | None = None,
) -> User:
    """Add a user to the workspace. Without a password they set one through a reset link."""
    permissions.require_admin(actor)
    email = (email or "").strip().lower()
    _check_email(email, field="email")
    full_name = _text(full_name, field="full_name", max_length=150)
    if not full_name:
        raise ApplicationError(
            _("Enter the full name."), fields={"full_name": [_("This field is required.")]}
        )
    if password:
        _check_password(password, email=email)
    _check_language(language)
    _check_time_zone(time_zone)
    with transaction.atomic():
        role = _role_in(workspace, role_id)
        team = _team_in(workspace, team_id)
        values = custom_fields.validate(
            workspace=workspace, object_key="platform.user", values=custom, model=User
        )
        if User.objects.filter(email__iexact=email).exists():
            raise Conflict(
                _("A user with this e-mail already exists."),
                fields={"email": [_("Already taken.")]},
            )
        user = User(
            workspace=workspace,
            email=email,
            full_name=full_name,
            role=role,
            team=team,
            phone=_text(phone, field="phone", max_length=32),
            language=language,
            time_zone=time_zone,
            custom=values,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise Conflict(
                _("A user with this e-mail already exists."),
                fields={"email": [_("Already taken.")]},
            ) from None
        audit.log_create(actor=actor, instance=user)
        if not password:
            _queue_welcome(user, workspace=workspace, inviter=actor)
    return user


def _queue_welcome(user: User, *, workspace: Workspace, inviter: User) -> None:
    """Mail a new user the link where they choose their password."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    mail.queue_template_email(
        to=[user.email],
        subject_template="platform/email/welcome_subject.txt",
        body_template="platform/email/welcome_body.txt",
        context={
            "user": user,
            "workspace": workspace,
            "inviter": inviter,
            "url": mail.absolute_url(path),
        },
        language=user.language or workspace.language,
    )


USER_EDITABLE = {
    "full_name",
    "phone",
    "team_id",
    "role_id",
    "is_active",
    "language",
    "time_zone",
    "custom",
}


def user_update(*, actor: User, workspace: Workspace, user_id: int, **changes: Any) -> User:
    """Change a user. Administrators change anyone; users change their own preferences."""
    own_preferences = {"full_name", "phone", "language", "time_zone"}
    if not (actor.pk == int(user_id) and set(changes) <= own_preferences):
        permissions.require_admin(actor)
    unknown = set(changes) - USER_EDITABLE
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    permissions.check_changes_writable(actor, "platform.user", changes)
    with transaction.atomic():
        user = _get(User, workspace, user_id, lock=True)
        before = audit.snapshot(user)
        if "full_name" in changes:
            name = _text(changes["full_name"], field="full_name", max_length=150)
            if not name:
                raise ApplicationError(
                    _("Enter the full name."), fields={"full_name": [_("This field is required.")]}
                )
            user.full_name = name
        if "phone" in changes:
            user.phone = _text(changes["phone"], field="phone", max_length=32)
        if "language" in changes:
            _check_language(changes["language"])
            user.language = changes["language"] or ""
        if "time_zone" in changes:
            _check_time_zone(changes["time_zone"])
            user.time_zone = changes["time_zone"] or ""
        if "team_id" in changes:
            user.team = _team_in(workspace, changes["team_id"])
        if "role_id" in changes:
            role = _role_in(workspace, changes["role_id"])
            if user.role.is_admin and not role.is_admin:
                _ensure_other_admin(workspace, excluding_user=user)
            user.role = role
        if "is_active" in changes:
            if user.is_active and not changes["is_active"]:
                if user.role.is_admin:
                    _ensure_other_admin(workspace, excluding_user=user)
                user.session_salt = secrets.token_hex(8)  # signs them out everywhere
            user.is_active = bool(changes["is_active"])
        if "custom" in changes:
            user.custom = custom_fields.validate_changes(
                instance=user, object_key="platform.user", values=changes["custom"]
            )
        user.save()
        audit.log_update(actor=actor, instance=user, before=before)
    return user


def user_sign_out_everywhere(*, actor: User, workspace: Workspace, user_id: int) -> User:
    """End every session of a user (their own, or anyone's for an administrator)."""
    if actor.pk != int(user_id):
        permissions.require_admin(actor)
    with transaction.atomic():
        user = _get(User, workspace, user_id, lock=True)
        user.session_salt = secrets.token_hex(8)
        user.save(update_fields=["session_salt", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SECURITY,
            object_key="platform.user",
            object_id=user.pk,
            object_repr=str(user),
            changes={"sessions": ["active", "signed out everywhere"]},
        )
    return user


def user_change_password(
    *, actor: User, workspace: Workspace, old_password: str, new_password: str
) -> User:
    if not actor.check_password(old_password or ""):
        raise ApplicationError(
            _("Your current password is not correct."), fields={"old_password": [_("Not correct.")]}
        )
    _check_password(new_password, email=actor.email)
    with transaction.atomic():
        actor.set_password(new_password)
        actor.save(update_fields=["password", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SECURITY,
            object_key="platform.user",
            object_id=actor.pk,
            object_repr=str(actor),
            changes={"password": ["***", "changed"]},
        )
    return actor
