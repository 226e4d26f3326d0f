"""Shared checks and look-ups of the platform's services."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound

from ..models import (
    Role,
    Team,
    User,
)


def _text(value: Any, *, field: str, max_length: int) -> str:
    """Stripped text that fits its column; NUL characters (which PostgreSQL refuses) and
    over-long values are a field error, never a database error."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise ApplicationError(
            _("This text contains characters that are not allowed."),
            fields={field: [_("Characters that are not allowed.")]},
        )
    text = text.strip()
    if len(text) > max_length:
        raise ApplicationError(
            _("At most %(n)s characters.") % {"n": max_length},
            fields={field: [_("At most %(n)s characters.") % {"n": max_length}]},
        )
    return text


def _check_email(email: str, *, field: str) -> None:
    try:
        validate_email((email or "").strip())
    except ValidationError:
        raise ApplicationError(
            _("Enter a valid e-mail address."), fields={field: [_("Enter a valid e-mail address.")]}
        ) from None


def _check_password(password: str, *, email: str = "") -> None:
    try:
        validate_password(password, User(email=email))
    except ValidationError as exc:
        raise ApplicationError(
            _("Choose a stronger password."),
            code="weak_password",
            fields={"password": list(exc.messages)},
        ) from None


def _check_language(code: str | None) -> None:
    from django.conf import settings

    if code and code not in dict(settings.LANGUAGES):
        raise ApplicationError(
            _("Unknown language."), fields={"language": [_("Unknown language.")]}
        )


def _check_time_zone(name: str | None) -> None:
    if not name:
        return
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ApplicationError(
            _("Unknown time zone."), fields={"time_zone": [_("Unknown time zone.")]}
        ) from None


def _team_in(workspace, team_id) -> Team | None:
    if team_id in (None, ""):
        return None
    try:
        return Team.objects.in_workspace(workspace).get(pk=team_id)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(
            _("Choose a team of this workspace."), fields={"team": [_("Unknown team.")]}
        ) from None


def _refresh_paths(team: Team) -> None:
    """Recompute ``path`` for ``team`` and everything below it."""
    team.path = (team.parent.path if team.parent_id else "/") + f"{team.pk}/"
    Team.objects.in_workspace(team.workspace_id).filter(pk=team.pk).update(path=team.path)
    for child in Team.objects.in_workspace(team.workspace_id).filter(parent=team):
        _refresh_paths(child)


def _user_in(workspace, user_id, *, field: str = "user") -> User:
    try:
        return User.objects.filter(workspace=workspace).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(
            _("Choose a user of this workspace."), fields={field: [_("Unknown user.")]}
        ) from None


def _role_in(workspace, role_id) -> Role:
    try:
        return Role.objects.in_workspace(workspace).get(pk=role_id)
    except (Role.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(
            _("Choose a role of this workspace."), fields={"role": [_("Unknown role.")]}
        ) from None


def _ensure_other_admin(workspace, *, excluding_user=None, excluding_role=None) -> None:
    admins = User.objects.filter(workspace=workspace, is_active=True, role__is_admin=True)
    if excluding_user is not None:
        admins = admins.exclude(pk=excluding_user.pk)
    if excluding_role is not None:
        admins = admins.exclude(role=excluding_role)
    if not admins.exists():
        raise Conflict(
            _("The workspace must keep at least one active administrator."), code="last_admin"
        )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _get(model, workspace, pk, *, lock: bool = False):
    """One row of ``model`` in ``workspace``; anything else is "not found", never "forbidden"."""
    qs = model.objects.filter(workspace=workspace)
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
