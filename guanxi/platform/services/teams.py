"""Departments and teams."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict

from .. import audit, custom_fields, permissions
from ..models import (
    Team,
    TeamKind,
    User,
    Workspace,
)
from ._base import (
    _get,
    _refresh_paths,
    _team_in,
    _text,
    _user_in,
)


def team_create(
    *,
    actor: User,
    workspace: Workspace,
    name: str,
    kind: str = TeamKind.TEAM,
    parent_id: int | None = None,
    manager_id: int | None = None,
    custom: dict | None = None,
) -> Team:
    """Create a department or team, optionally below another."""
    permissions.require_admin(actor)
    name = _text(name, field="name", max_length=120)
    if not name:
        raise ApplicationError(_("Enter a name."), fields={"name": [_("This field is required.")]})
    if kind not in TeamKind.values:
        raise ApplicationError(_("Choose a kind."), fields={"kind": [_("Unknown kind.")]})
    with transaction.atomic():
        parent = _team_in(workspace, parent_id)
        manager = _user_in(workspace, manager_id, field="manager") if manager_id else None
        values = custom_fields.validate(
            workspace=workspace, object_key="platform.team", values=custom, model=Team
        )
        if Team.objects.in_workspace(workspace).filter(name__iexact=name).exists():
            raise Conflict(
                _("A team with this name already exists."), fields={"name": [_("Already taken.")]}
            )
        team = Team.objects.create(
            workspace=workspace, name=name, kind=kind, parent=parent, manager=manager, custom=values
        )
        _refresh_paths(team)
        audit.log_create(actor=actor, instance=team)
    return team


def team_update(*, actor: User, workspace: Workspace, team_id: int, **changes: Any) -> Team:
    """Change a team's name, kind, parent, manager or custom fields."""
    permissions.require_admin(actor)
    permissions.check_changes_writable(actor, "platform.team", changes)
    with transaction.atomic():
        team = _get(Team, workspace, team_id, lock=True)
        before = audit.snapshot(team)
        if "name" in changes:
            name = _text(changes["name"], field="name", max_length=120)
            if not name:
                raise ApplicationError(
                    _("Enter a name."), fields={"name": [_("This field is required.")]}
                )
            if (
                Team.objects.in_workspace(workspace)
                .filter(name__iexact=name)
                .exclude(pk=team.pk)
                .exists()
            ):
                raise Conflict(
                    _("A team with this name already exists."),
                    fields={"name": [_("Already taken.")]},
                )
            team.name = name
        if "kind" in changes:
            if changes["kind"] not in TeamKind.values:
                raise ApplicationError(_("Choose a kind."), fields={"kind": [_("Unknown kind.")]})
            team.kind = changes["kind"]
        if "manager_id" in changes:
            team.manager = (
                _user_in(workspace, changes["manager_id"], field="manager")
                if changes["manager_id"]
                else None
            )
        moved = False
        if "parent_id" in changes:
            parent = _team_in(workspace, changes["parent_id"])
            if parent is not None and (parent.pk == team.pk or parent.path.startswith(team.path)):
                raise ApplicationError(
                    _("A team cannot be placed below itself."),
                    fields={"parent": [_("Not allowed.")]},
                )
            moved = (parent.pk if parent else None) != team.parent_id
            team.parent = parent
        if "custom" in changes:
            team.custom = custom_fields.validate_changes(
                instance=team, object_key="platform.team", values=changes["custom"]
            )
        team.save()
        if moved:
            _refresh_paths(team)
        audit.log_update(actor=actor, instance=team, before=before)
    return team


def team_delete(*, actor: User, workspace: Workspace, team_id: int) -> None:
    permissions.require_admin(actor)
    with transaction.atomic():
        team = _get(Team, workspace, team_id, lock=True)
        if Team.objects.in_workspace(workspace).filter(parent=team).exists():
            raise Conflict(
                _("Move or delete the teams below this one first."), code="team_has_children"
            )
        if User.objects.filter(workspace=workspace, team=team).exists():
            raise Conflict(
                _("Move this team's members to another team first."), code="team_has_members"
            )
        audit.log_delete(actor=actor, instance=team)
        team.delete()
