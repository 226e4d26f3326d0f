"""``/me``: the caller, their workspace and credential."""

from __future__ import annotations

from guanxi.common.api import responses

from .. import services
from ..schemas import MeOut
from .common import _user_out, router


@router.get(
    "/me",
    response=responses(MeOut),
    tags=["Me"],
    operation_id="me_get",
    summary="The caller: user, workspace and credential",
    exclude_unset=True,
)
def me_get(request):
    user, workspace = request.user, request.workspace
    token = request.token
    return {
        "user": _user_out(request, user),
        "workspace": {
            "id": workspace.pk,
            "name": workspace.name,
            "slug": workspace.slug,
            "default_currency": workspace.default_currency,
            "time_zone": workspace.time_zone,
            "language": workspace.language,
        },
        "is_admin": bool(user.is_active and user.role.is_admin),
        "auth": "token" if token is not None else "session",
        "scopes": list(token.scopes) if token is not None else list(services.TOKEN_SCOPES),
    }
