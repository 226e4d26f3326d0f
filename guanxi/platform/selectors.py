"""Reads of the platform. Every selector takes the workspace and the actor, applies rights
and record visibility, and returns querysets with their joins done."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from guanxi.common.errors import NotFound
from guanxi.common.pagination import MAX_ID

from . import permissions, registry
from .models import (
    Action,
    ApiToken,
    AuditEntry,
    CustomField,
    Invitation,
    Job,
    RecordShare,
    Role,
    RoleFieldRule,
    SavedView,
    Team,
    User,
    Workspace,
)


def user_list(*, workspace: Workspace, actor: User) -> QuerySet[User]:
    qs = User.objects.filter(workspace=workspace).select_related("team", "role")
    return permissions.visible(qs, actor=actor, object_key="platform.user")


def user_get(*, workspace: Workspace, actor: User, user_id) -> User:
    return _one(user_list(workspace=workspace, actor=actor), user_id)


def team_list(*, workspace: Workspace, actor: User) -> QuerySet[Team]:
    qs = Team.objects.in_workspace(workspace).select_related("parent", "manager")
    return permissions.visible(qs, actor=actor, object_key="platform.team")


def team_get(*, workspace: Workspace, actor: User, team_id) -> Team:
    return _one(team_list(workspace=workspace, actor=actor), team_id)


def team_tree(*, workspace: Workspace, actor: User) -> list[tuple[Team, int]]:
    """Teams in hierarchy order with their depth, for indented lists and pickers."""
    teams = list(team_list(workspace=workspace, actor=actor).order_by("path"))
    by_parent: dict[int | None, list[Team]] = {}
    for team in teams:
        by_parent.setdefault(team.parent_id, []).append(team)
    out: list[tuple[Team, int]] = []

    def walk(parent_id, depth):
        for team in sorted(by_parent.get(parent_id, []), key=lambda t: t.name):
            out.append((team, depth))
            walk(team.pk, depth + 1)

    walk(None, 0)
    return out


def role_list(*, workspace: Workspace, actor: User) -> QuerySet[Role]:
    permissions.require(actor, "platform.user", Action.READ)
    return Role.objects.in_workspace(workspace).order_by("name")


def role_get(*, workspace: Workspace, actor: User, role_id) -> Role:
    return _one(role_list(workspace=workspace, actor=actor), role_id)


def role_field_rules(*, workspace: Workspace, actor: User, role_id) -> dict[str, dict[str, str]]:
    role = role_get(workspace=workspace, actor=actor, role_id=role_id)
    rules: dict[str, dict[str, str]] = {}
    for rule in RoleFieldRule.objects.in_workspace(workspace).filter(role=role):
        rules.setdefault(rule.object_key, {})[rule.field] = rule.access
    return rules


def custom_field_list(
    *, workspace: Workspace, actor: User, object_key: str | None = None, active_only: bool = False
) -> QuerySet[CustomField]:
    qs = CustomField.objects.in_workspace(workspace)
    if object_key:
        qs = qs.filter(object_key=object_key)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("object_key", "position", "id")


def custom_field_get(*, workspace: Workspace, actor: User, field_id) -> CustomField:
    return _one(custom_field_list(workspace=workspace, actor=actor), field_id)


def audit_list(
    *,
    workspace: Workspace,
    actor: User,
    actor_id: int | None = None,
    action: str | None = None,
    object_key: str | None = None,
    object_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    text: str | None = None,
) -> QuerySet[AuditEntry]:
    """The workspace's whole audit log, newest first, for roles with read on it
    (administrators, or for example an auditor's role)."""
    permissions.require(actor, "platform.audit", Action.READ)
    qs = AuditEntry.objects.filter(workspace=workspace).select_related("actor")
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action=action)
    if object_key:
        qs = qs.filter(object_key=object_key)
    if object_id:
        qs = qs.filter(object_id=str(object_id))
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    if text:
        qs = qs.filter(Q(object_repr__icontains=text) | Q(actor_label__icontains=text))
    return qs.order_by("-id")


def record_history(
    *, workspace: Workspace, actor: User, object_key: str, object_id, earlier_ids=()
) -> list[AuditEntry]:
    """One record's history for its detail page: whoever may read the record sees it,
    with the fields hidden from their role left out of every change. ``earlier_ids`` are
    records that became this one (merged into it); their entries are included, each marked
    with ``merged_from`` (the label it had then)."""
    obj = registry.find(object_key)
    if obj is None:
        raise NotFound()
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    record_qs = permissions.visible(
        obj.model.objects.filter(workspace=workspace), actor=actor, object_key=object_key
    )
    if not record_qs.filter(pk=object_id).exists() and not actor.role.is_admin:
        raise NotFound()
    ids = [str(object_id), *(str(i) for i in earlier_ids)]
    entries = list(
        AuditEntry.objects.filter(workspace=workspace, object_key=object_key, object_id__in=ids)
        .select_related("actor")
        .order_by("-id")[:200]
    )
    hidden = permissions.hidden_fields(actor, object_key)
    for entry in entries:
        if entry.object_id != ids[0]:
            entry.merged_from = entry.object_repr
        if hidden:
            entry.changes = {k: v for k, v in entry.changes.items() if k not in hidden}
    return entries


def pending_invitations(*, workspace: Workspace, actor: User) -> QuerySet[Invitation]:
    from django.utils import timezone

    permissions.require_admin(actor)
    return (
        Invitation.objects.in_workspace(workspace)
        .filter(accepted_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("role", "team", "invited_by")
        .order_by("-id")
    )


def job_list(*, workspace: Workspace, actor: User) -> QuerySet[Job]:
    qs = Job.objects.in_workspace(workspace).select_related("owner")
    return permissions.visible(qs, actor=actor, object_key="platform.job").order_by("-id")


def record_shares(
    *, workspace: Workspace, actor: User, object_key: str, object_id
) -> QuerySet[RecordShare]:
    """Who one record is shared with, oldest share first. Only someone who can see the
    record may ask; to anyone else it is not there."""
    obj = registry.find(object_key)
    if obj is None:
        raise NotFound()
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 0 < object_id <= MAX_ID:
        raise NotFound()
    record_qs = permissions.visible(
        obj.model.objects.filter(workspace=workspace), actor=actor, object_key=object_key
    )
    if not record_qs.filter(pk=object_id).exists():
        raise NotFound()
    return (
        RecordShare.objects.in_workspace(workspace)
        .filter(object_key=object_key, object_id=object_id)
        .select_related("user", "team")
        .order_by("pk")
    )


def api_token_list(
    *, workspace: Workspace, actor: User, all_users: bool = False
) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.in_workspace(workspace).select_related("user").order_by("-id")
    if all_users:
        permissions.require_admin(actor)
        return qs
    return qs.filter(user=actor)


def saved_views(*, workspace: Workspace, actor: User, list_key: str) -> QuerySet[SavedView]:
    return (
        SavedView.objects.in_workspace(workspace)
        .filter(user=actor, list_key=list_key)
        .order_by("name")
    )


def global_search(*, workspace: Workspace, actor: User, term: str, limit: int = 8) -> list[dict]:
    """Results of the search box across every registered object that can be searched."""
    term = (term or "").strip()
    if not term:
        return []
    results = []
    for obj in registry.all_objects():
        if obj.search is None or not permissions.can(actor, obj.key, Action.READ):
            continue
        for label, url in obj.search(workspace=workspace, actor=actor, term=term, limit=limit):
            results.append({"object": str(obj.label), "label": label, "url": url})
    return results


def _one(qs: QuerySet, pk):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
