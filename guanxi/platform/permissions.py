"""Rights and record visibility.

A role grants, per business object, a set of actions and a visibility. ``require`` raises
``PermissionDenied`` (and logs the denial); ``visible`` narrows a queryset to the records an
actor may see: their own, their team's, their team's and those below, or all — plus the
records shared with them or their team.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import PermissionDenied

from . import registry
from .models import Action, FieldAccess, RecordShare, RoleFieldRule, User, Visibility


def rights_for(user: User, object_key: str) -> dict:
    if user.role.is_admin:
        return {"actions": [a.value for a in Action], "visibility": Visibility.ALL}
    return user.role.rights.get(object_key) or {"actions": [], "visibility": Visibility.OWN}


def can(user: User, object_key: str, action: str) -> bool:
    return user.is_active and action in rights_for(user, object_key)["actions"]


def require(user: User, object_key: str, action: str) -> None:
    """Raise ``PermissionDenied`` with the reason unless ``user`` may ``action`` the object."""
    if can(user, object_key, action):
        return
    from .audit import log_permission_denied

    obj = registry.find(object_key)
    label = obj.label_plural if obj else object_key
    log_permission_denied(actor=user, object_key=object_key, action=action)
    raise PermissionDenied(
        _("Your role (%(role)s) does not allow you to %(action)s %(object)s.")
        % {"role": user.role.name, "action": Action(action).label.lower(), "object": label}
    )


def require_admin(user: User) -> None:
    if user.is_active and user.role.is_admin:
        return
    from .audit import log_permission_denied

    log_permission_denied(actor=user, object_key="platform.workspace", action="admin")
    raise PermissionDenied(_("Only administrators can manage the workspace settings."))


def visibility_for(user: User, object_key: str) -> str:
    return rights_for(user, object_key)["visibility"]


def visible(queryset: QuerySet, *, actor: User, object_key: str) -> QuerySet:
    """Narrow ``queryset`` (already in the actor's workspace) to what the actor may read."""
    obj = registry.get(object_key)
    if not can(actor, object_key, Action.READ):
        return queryset.none()
    visibility = visibility_for(actor, object_key)
    if visibility == Visibility.ALL or obj.owner_field is None:
        return queryset
    owner = obj.owner_field
    allowed = Q(**{owner: actor})
    team = actor.team
    if team is not None and visibility == Visibility.TEAM:
        allowed |= Q(**{f"{owner}__team": team})
    elif team is not None and visibility == Visibility.TEAM_AND_BELOW:
        allowed |= Q(**{f"{owner}__team__path__startswith": team.path})
    shares = RecordShare.objects.in_workspace(actor.workspace_id).filter(object_key=object_key)
    share_q = Q(user=actor)
    if team is not None:
        share_q |= Q(team=team)
    allowed |= Q(pk__in=shares.filter(share_q).values("object_id"))
    return queryset.filter(allowed)


def field_rules(user: User, object_key: str) -> dict[str, str]:
    """``{field: "hidden" | "read_only"}`` for the user's role on one object."""
    cache = getattr(user, "_field_rules_cache", None)
    if cache is None:
        cache = {}
        for rule in RoleFieldRule.objects.in_workspace(user.workspace_id).filter(role=user.role_id):
            cache.setdefault(rule.object_key, {})[rule.field] = rule.access
        user._field_rules_cache = cache
    return cache.get(object_key, {})


def hidden_fields(user: User, object_key: str) -> set[str]:
    return {f for f, a in field_rules(user, object_key).items() if a == FieldAccess.HIDDEN}


def read_only_fields(user: User, object_key: str) -> set[str]:
    """Hidden fields are read-only too: what you cannot see you cannot change."""
    return set(field_rules(user, object_key))


def check_writable(user: User, object_key: str, changed: set[str]) -> None:
    """Refuse a write that touches a field the actor's role may not change."""
    blocked = sorted(changed & read_only_fields(user, object_key))
    if blocked:
        from .audit import log_permission_denied

        log_permission_denied(actor=user, object_key=object_key, action="update_field")
        raise PermissionDenied(
            _("Your role may not change these fields: %(fields)s.")
            % {"fields": ", ".join(blocked)},
            code="field_read_only",
        )


def check_changes_writable(user: User, object_key: str, changes: dict) -> None:
    """``check_writable`` for a service's keyword changes (``team_id`` names the field
    ``team``; ``custom`` holds ``custom.<key>`` fields)."""
    fields = {name.removesuffix("_id") for name in changes if name != "custom"}
    fields |= {f"custom.{key}" for key in (changes.get("custom") or {})}
    check_writable(user, object_key, fields)


def redact(user: User, object_key: str, data: dict) -> dict:
    """Drop the fields hidden from the actor's role (custom fields are ``custom.<key>``)."""
    hidden = hidden_fields(user, object_key)
    if not hidden:
        return data
    out = {k: v for k, v in data.items() if k not in hidden}
    if isinstance(out.get("custom"), dict):
        out["custom"] = {k: v for k, v in out["custom"].items() if f"custom.{k}" not in hidden}
    return out
