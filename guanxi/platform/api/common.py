"""What the platform's endpoint modules share: the router they register on, the
``actor``/``workspace`` pair, the administration scope check, and the serializers of users
and references that several resources return."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from guanxi.common.api import require_scope

from .. import custom_fields, permissions
from ..models import Team, User

router = Router()


def _ws(request: HttpRequest) -> dict[str, Any]:
    """The ``actor``/``workspace`` pair every service and selector takes."""
    return {"actor": request.user, "workspace": request.workspace}


def _admin_scope(request: HttpRequest) -> None:
    """Administration needs a token's admin scope. A caller who is not an administrator at
    all hears their role's reason rather than the token's."""
    token = getattr(request, "token", None)
    if token is not None and "admin" not in (token.scopes or []):
        permissions.require_admin(request.user)
        require_scope(request, "admin")


# --- output ---------------------------------------------------------------------------------------


def _ref_user(user: User | None) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _ref_team(team: Team | None) -> dict | None:
    return {"id": team.pk, "name": team.name} if team is not None else None


def _active_custom_keys(workspace, object_key: str) -> set[str]:
    return {d.key for d in custom_fields.definitions(workspace, object_key)}


def _user_data(user: User, *, actor: User, custom_keys: set[str]) -> dict:
    data = {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "team": _ref_team(user.team),
        "role": {"id": user.role.pk, "name": user.role.name, "is_admin": user.role.is_admin},
        "is_active": user.is_active,
        "language": user.language,
        "time_zone": user.time_zone,
        # Values of deleted definitions stay in the row but are no longer shown.
        "custom": {k: v for k, v in (user.custom or {}).items() if k in custom_keys},
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }
    return permissions.redact(actor, "platform.user", data)


def _user_out(request: HttpRequest, user: User) -> dict:
    keys = _active_custom_keys(request.workspace, "platform.user")
    return _user_data(user, actor=request.user, custom_keys=keys)
