"""Queues: who takes which cases and how they are shared among them (the service's
configuration right). A queue has its members in order, a distribution method, a
supervisor, the languages it prefers, and one queue of the workspace is the default."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import DistributionMethod, Queue, QueueMember
from ..objects import CONFIGURATION

LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
MAX_LANGUAGES = 20
MAX_MEMBERS = 500


def clean_languages(errors: FieldErrors, value, *, field: str = "languages") -> list[str]:
    """Language codes ("zh", "zh-hans", "en"), lower-case, each once; a comma-separated
    string is split."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").replace(" ", ",").split(",")
    if not isinstance(value, list | tuple):
        errors.add(field, _("Give a list of language codes."))
        return []
    codes = [str(v).strip().lower().replace("_", "-") for v in value if str(v).strip()]
    if len(codes) > MAX_LANGUAGES or any(len(c) > 10 or not LANGUAGE_RE.match(c) for c in codes):
        errors.add(field, _("Give language codes such as zh, zh-hans or en."))
        return []
    return list(dict.fromkeys(codes))


def _user_ids(errors: FieldErrors, workspace, value, *, field: str) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    try:
        ids = list(dict.fromkeys(int(v) for v in value))
    except (TypeError, ValueError):
        errors.add(field, _("Choose users of this workspace."))
        return []
    if len(ids) > MAX_MEMBERS:
        errors.add(field, _("At most %(n)s members.") % {"n": MAX_MEMBERS})
        return []
    found = set(
        User.objects.filter(workspace_id=workspace.pk, pk__in=ids, is_active=True).values_list(
            "id", flat=True
        )
    )
    if set(ids) - found:
        errors.add(field, _("One of them is not an active user of this workspace."))
    return ids


def _clean(workspace, values: dict, current: Queue | None) -> tuple[dict, list[int] | None]:
    errors = FieldErrors()
    out: dict = {}
    if "name" in values or current is None:
        name = str(values.get("name") or "").strip()
        if not name:
            errors.add("name", _("Give the queue a name."))
        elif len(name) > 80:
            errors.add("name", _("At most %(n)s characters.") % {"n": 80})
        else:
            taken = Queue.objects.in_workspace(workspace).filter(name=name)
            if current is not None:
                taken = taken.exclude(pk=current.pk)
            if taken.exists():
                errors.add("name", _("Another queue has this name."))
        out["name"] = name
    if "method" in values or current is None:
        method = values.get("method") or DistributionMethod.ROUND_ROBIN
        if method not in DistributionMethod.values:
            errors.add("method", _("Choose round-robin, skills, load or manual."))
        out["method"] = method
    if "supervisor_id" in values:
        supervisor = values.get("supervisor_id")
        if supervisor in (None, ""):
            out["supervisor_id"] = None
        else:
            ids = _user_ids(errors, workspace, [supervisor], field="supervisor")
            out["supervisor_id"] = ids[0] if ids else None
    if "languages" in values:
        out["languages"] = clean_languages(errors, values.get("languages"))
    for flag in ("is_default", "active"):
        if flag in values:
            value = values.get(flag)
            out[flag] = bool(value) and value not in ("false", "0", "off")
    member_ids = None
    if "member_ids" in values:
        member_ids = _user_ids(errors, workspace, values.get("member_ids"), field="members")
    errors.raise_if_any()
    return out, member_ids


def _set_members(workspace, queue: Queue, member_ids: list[int]) -> None:
    """The members in the given order (their position is the round-robin order)."""
    QueueMember.objects.in_workspace(workspace).filter(queue=queue).exclude(
        user_id__in=member_ids
    ).delete()
    have = {m.user_id: m for m in QueueMember.objects.in_workspace(workspace).filter(queue=queue)}
    for position, user_id in enumerate(member_ids):
        member = have.get(user_id)
        if member is None:
            QueueMember.objects.create(
                workspace=workspace, queue=queue, user_id=user_id, position=position
            )
        elif member.position != position:
            QueueMember.objects.in_workspace(workspace).filter(pk=member.pk).update(
                position=position
            )
    if queue.last_assigned_id is not None and queue.last_assigned_id not in member_ids:
        # The pointer of a member who left would restart the round at the first member.
        Queue.objects.in_workspace(workspace).filter(pk=queue.pk).update(last_assigned=None)
        queue.last_assigned = None


def _only_default(workspace, queue: Queue) -> None:
    if queue.is_default:
        Queue.objects.in_workspace(workspace).filter(is_default=True).exclude(pk=queue.pk).update(
            is_default=False
        )


def queue_create(*, actor: User, workspace: Workspace, **values) -> Queue:
    """Add a queue: ``name``, ``method``, ``supervisor_id``, ``languages``, ``is_default``,
    ``active`` and ``member_ids`` (in round-robin order). Making it the default unmarks the
    previous default."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    clean, member_ids = _clean(workspace, values, None)
    with transaction.atomic():
        queue = Queue.objects.create(workspace=workspace, **clean)
        _only_default(workspace, queue)
        _set_members(workspace, queue, member_ids or [])
        audit.log_create(actor=actor, instance=queue)
    return queue


def queue_update(*, actor: User, workspace: Workspace, queue_id, **changes) -> Queue:
    """Change a queue (only the fields given; ``member_ids`` replaces the members)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    with transaction.atomic():
        queue = _lock(workspace, queue_id)
        clean, member_ids = _clean(workspace, changes, queue)
        before = audit.snapshot(queue)
        for name, value in clean.items():
            setattr(queue, name, value)
        queue.save()
        _only_default(workspace, queue)
        if member_ids is not None:
            _set_members(workspace, queue, member_ids)
        audit.log_update(actor=actor, instance=queue, before=before)
    return queue


def queue_delete(*, actor: User, workspace: Workspace, queue_id) -> None:
    """Delete a queue: its cases and categories keep no queue (cases keep their agent)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    with transaction.atomic():
        queue = _lock(workspace, queue_id)
        audit.log_delete(actor=actor, instance=queue)
        queue.delete()


def _lock(workspace, queue_id) -> Queue:
    try:
        queue_id = int(queue_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    queue = Queue.objects.in_workspace(workspace).select_for_update().filter(pk=queue_id).first()
    if queue is None:
        raise NotFound()
    return queue
