"""``/teams``: teams and departments."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Status

from guanxi.common.api import Id, PageParams, page_of, page_response, responses

from .. import permissions, selectors, services
from ..models import Team, User
from ..schemas import TeamCreateIn, TeamOut, TeamUpdateIn
from .common import _active_custom_keys, _admin_scope, _ref_team, _ref_user, _ws, router


def _team_data(team: Team, *, actor: User, custom_keys: set[str]) -> dict:
    data = {
        "id": team.pk,
        "name": team.name,
        "kind": team.kind,
        "parent": _ref_team(team.parent),
        "manager": _ref_user(team.manager),
        "custom": {k: v for k, v in (team.custom or {}).items() if k in custom_keys},
        "created_at": team.created_at,
        "updated_at": team.updated_at,
    }
    return permissions.redact(actor, "platform.team", data)


def _team_out(request: HttpRequest, team: Team) -> dict:
    keys = _active_custom_keys(request.workspace, "platform.team")
    return _team_data(team, actor=request.user, custom_keys=keys)


@router.get(
    "/teams",
    response=responses(page_of(TeamOut)),
    tags=["Teams"],
    operation_id="teams_list",
    summary="List teams and departments",
    exclude_unset=True,
)
def teams_list(request, page: Query[PageParams]):
    qs = selectors.team_list(**_ws(request))
    keys = _active_custom_keys(request.workspace, "platform.team")
    return page_response(
        qs, page, lambda team: _team_data(team, actor=request.user, custom_keys=keys), key="name"
    )


@router.get(
    "/teams/{team_id}",
    response=responses(TeamOut),
    tags=["Teams"],
    operation_id="teams_get",
    summary="Get a team",
    exclude_unset=True,
)
def teams_get(request, team_id: Id):
    return _team_out(request, selectors.team_get(**_ws(request), team_id=team_id))


@router.post(
    "/teams",
    response=responses(TeamOut, status=201),
    tags=["Teams"],
    operation_id="teams_create",
    summary="Create a team (administrators)",
    exclude_unset=True,
)
def teams_create(request, payload: TeamCreateIn):
    _admin_scope(request)
    team = services.team_create(**_ws(request), **payload.dict())
    return Status(201, _team_out(request, team))


@router.patch(
    "/teams/{team_id}",
    response=responses(TeamOut),
    tags=["Teams"],
    operation_id="teams_update",
    summary="Change a team (administrators)",
    exclude_unset=True,
)
def teams_update(request, team_id: Id, payload: TeamUpdateIn):
    _admin_scope(request)
    team = services.team_update(**_ws(request), team_id=team_id, **payload.changes())
    return _team_out(request, team)


@router.delete(
    "/teams/{team_id}",
    response=responses(None, status=204),
    tags=["Teams"],
    operation_id="teams_delete",
    summary="Delete an empty team (administrators)",
)
def teams_delete(request, team_id: Id):
    _admin_scope(request)
    services.team_delete(**_ws(request), team_id=team_id)
    return Status(204, None)
