"""Roles: per-object rights, visibility and field rules."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict

from .. import audit, custom_fields, permissions, registry
from ..models import (
    Action,
    AuditAction,
    FieldAccess,
    Role,
    RoleFieldRule,
    User,
    Visibility,
    Workspace,
)
from ._base import (
    _ensure_other_admin,
    _get,
    _text,
)


def _clean_rights(rights: dict | None) -> dict:
    cleaned: dict[str, dict] = {}
    errors: dict[str, list] = {}
    if not isinstance(rights, dict | None):
        raise ApplicationError(
            _("Some rights are not valid."), fields={"rights": [_("Not valid.")]}
        )
    for key, grant in (rights or {}).items():
        if not isinstance(grant, dict) or not isinstance(grant.get("actions", []), list):
            errors[f"rights.{key}"] = [_("Not valid.")]
            continue
        obj = registry.find(key)
        if obj is None or not obj.grantable:
            errors[f"rights.{key}"] = [_("Unknown object.")]
            continue
        actions = list(grant.get("actions", []))
        bad = [a for a in actions if not isinstance(a, str) or a not in Action.values]
        visibility = grant.get("visibility", Visibility.OWN)
        if bad:
            errors[f"rights.{key}"] = [_("Unknown action.")]
            continue
        if visibility not in Visibility.values:
            errors[f"rights.{key}"] = [_("Unknown visibility.")]
            continue
        if actions and Action.READ not in actions:
            actions.append(Action.READ)  # every other right implies reading
        cleaned[key] = {"actions": sorted(set(actions)), "visibility": visibility}
    if errors:
        raise ApplicationError(_("Some rights are not valid."), fields=errors)
    return cleaned


def role_create(
    *,
    actor: User,
    workspace: Workspace,
    name: str,
    description: str = "",
    is_admin: bool = False,
    rights: dict | None = None,
) -> Role:
    """Create a role with per-object rights and visibility."""
    permissions.require_admin(actor)
    name = _text(name, field="name", max_length=80)
    if not name:
        raise ApplicationError(_("Enter a name."), fields={"name": [_("This field is required.")]})
    with transaction.atomic():
        if Role.objects.in_workspace(workspace).filter(name__iexact=name).exists():
            raise Conflict(
                _("A role with this name already exists."), fields={"name": [_("Already taken.")]}
            )
        code = slugify(name)[:30] or "role"
        while Role.objects.in_workspace(workspace).filter(code=code).exists():
            code = f"{slugify(name)[:24] or 'role'}-{secrets.token_hex(2)}"
        role = Role.objects.create(
            workspace=workspace,
            name=name,
            code=code,
            description=_text(description, field="description", max_length=300),
            is_admin=bool(is_admin),
            rights=_clean_rights(rights),
        )
        audit.log_create(actor=actor, instance=role)
    return role


def role_update(*, actor: User, workspace: Workspace, role_id: int, **changes: Any) -> Role:
    permissions.require_admin(actor)
    with transaction.atomic():
        role = _get(Role, workspace, role_id, lock=True)
        before = audit.snapshot(role)
        if "name" in changes:
            name = _text(changes["name"], field="name", max_length=80)
            if not name:
                raise ApplicationError(
                    _("Enter a name."), fields={"name": [_("This field is required.")]}
                )
            if (
                Role.objects.in_workspace(workspace)
                .filter(name__iexact=name)
                .exclude(pk=role.pk)
                .exists()
            ):
                raise Conflict(
                    _("A role with this name already exists."),
                    fields={"name": [_("Already taken.")]},
                )
            role.name = name
        if "description" in changes:
            role.description = _text(changes["description"], field="description", max_length=300)
        if "is_admin" in changes:
            if role.is_admin and not changes["is_admin"]:
                _ensure_other_admin(workspace, excluding_role=role)
            role.is_admin = bool(changes["is_admin"])
        if "rights" in changes:
            role.rights = _clean_rights(changes["rights"])
        role.save()
        audit.log_update(actor=actor, instance=role, before=before)
    return role


def role_delete(*, actor: User, workspace: Workspace, role_id: int) -> None:
    permissions.require_admin(actor)
    with transaction.atomic():
        role = _get(Role, workspace, role_id, lock=True)
        if User.objects.filter(workspace=workspace, role=role).exists():
            raise Conflict(_("Give this role's users another role first."), code="role_in_use")
        audit.log_delete(actor=actor, instance=role)
        role.delete()


def role_set_field_rule(
    *,
    actor: User,
    workspace: Workspace,
    role_id: int,
    object_key: str,
    field: str,
    access: str | None,
) -> None:
    """Hide a field from a role, make it read-only, or (``access=None``) lift the rule."""
    permissions.require_admin(actor)
    obj = registry.find(object_key)
    if obj is None:
        raise ApplicationError(_("Unknown object."), fields={"object_key": [_("Unknown object.")]})
    restrictable = {f.name for f in obj.fields if f.restrictable}
    if obj.supports_custom_fields:
        restrictable |= {
            f"custom.{d.key}" for d in custom_fields.definitions(workspace, object_key)
        }
    if field not in restrictable:
        raise ApplicationError(
            _("This field cannot be restricted."), fields={"field": [_("Unknown field.")]}
        )
    if access is not None and access not in FieldAccess.values:
        raise ApplicationError(
            _("Choose hidden or read-only."), fields={"access": [_("Unknown access.")]}
        )
    with transaction.atomic():
        role = _get(Role, workspace, role_id, lock=True)
        existing = (
            RoleFieldRule.objects.in_workspace(workspace)
            .filter(role=role, object_key=object_key, field=field)
            .first()
        )
        before = existing.access if existing else None
        if access is None:
            if existing:
                existing.delete()
        elif existing:
            existing.access = access
            existing.save(update_fields=["access", "updated_at"])
        else:
            RoleFieldRule.objects.create(
                workspace=workspace, role=role, object_key=object_key, field=field, access=access
            )
        if before != access:
            audit.log(
                actor=actor,
                workspace=workspace,
                action=AuditAction.UPDATE,
                object_key="platform.role",
                object_id=role.pk,
                object_repr=role.name,
                changes={f"field_rule.{object_key}.{field}": [before, access]},
            )
