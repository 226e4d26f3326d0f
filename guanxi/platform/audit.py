"""Writing the audit log. Services call these inside their own transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.db import models
from django.utils import timezone

from . import registry
from .models import AuditAction, AuditEntry, User, Workspace


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"id": value.pk, "label": str(value)}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


# Never written to the audit log, whatever model they appear on.
SECRET_FIELDS = {"password", "session_salt", "key_hash", "token_hash"}


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The auditable state of a row: concrete fields, foreign keys as ids, custom values
    spread as ``custom.<key>``."""
    data: dict[str, Any] = {}
    for f in instance._meta.concrete_fields:
        if f.name in SECRET_FIELDS or not f.editable or f.name in ("id", "workspace"):
            continue
        if fields is not None and f.name not in fields and f.attname not in fields:
            continue
        if f.name == "custom":
            for key, value in (getattr(instance, "custom", None) or {}).items():
                data[f"custom.{key}"] = _jsonable(value)
            continue
        # Foreign keys as {"id", "label"}, so the history still reads after a rename.
        data[f.name] = _jsonable(getattr(instance, f.name if f.is_relation else f.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def _object_key(instance: models.Model) -> str:
    return registry.key_for_model(type(instance)) or instance._meta.label_lower


def _actor_label(actor: User | None) -> str:
    if actor is None:
        return "system"
    return f"{actor.full_name} <{actor.email}>"


def log(
    *,
    actor: User | None,
    workspace: Workspace | int | None,
    action: str,
    object_key: str = "",
    object_id: Any = "",
    object_repr: str = "",
    changes: dict | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    return AuditEntry.objects.create(
        workspace_id=workspace_id,
        actor=actor,
        actor_label=_actor_label(actor),
        action=action,
        object_key=object_key,
        object_id=str(object_id or ""),
        object_repr=str(object_repr)[:200],
        changes=changes or {},
        ip_address=ip_address,
    )


def log_create(*, actor: User | None, instance: models.Model) -> AuditEntry:
    after = snapshot(instance)
    return log(
        actor=actor,
        workspace=instance.workspace_id,
        action=AuditAction.CREATE,
        object_key=_object_key(instance),
        object_id=instance.pk,
        object_repr=str(instance),
        changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], {})},
    )


def log_update(*, actor: User | None, instance: models.Model, before: dict) -> AuditEntry | None:
    """Log the fields that changed since ``before`` (a ``snapshot``); nothing if none did."""
    changes = diff(before, snapshot(instance))
    if not changes:
        return None
    return log(
        actor=actor,
        workspace=instance.workspace_id,
        action=AuditAction.UPDATE,
        object_key=_object_key(instance),
        object_id=instance.pk,
        object_repr=str(instance),
        changes=changes,
    )


def log_delete(*, actor: User | None, instance: models.Model) -> AuditEntry:
    before = snapshot(instance)
    return log(
        actor=actor,
        workspace=instance.workspace_id,
        action=AuditAction.DELETE,
        object_key=_object_key(instance),
        object_id=instance.pk,
        object_repr=str(instance),
        changes={k: [v, None] for k, v in before.items() if v not in (None, "", [], {})},
    )


def log_permission_denied(*, actor: User, object_key: str, action: str) -> None:
    """Services check rights before they open their transaction, so this row survives the
    denial that follows it."""
    log(
        actor=actor,
        workspace=actor.workspace_id,
        action=AuditAction.PERMISSION_DENIED,
        object_key=object_key,
        changes={"action": [None, action]},
    )


# Entries redacted per UPDATE statement.
REDACT_BATCH = 200
_EMPTY = (None, "", [], {})


def _redacted(value: Any, placeholder: str) -> Any:
    return value if value in _EMPTY else placeholder


def _redact_changes(changes: dict, fields: set[str] | None, placeholder: str) -> dict:
    """``changes`` with the before/after values of ``fields`` (all when None) replaced.
    A custom field is named ``custom.<key>``; ``custom`` names every custom field, whether
    the entry spread them as ``custom.<key>`` or kept them inside one ``custom`` dict."""
    out: dict = {}
    for key, pair in (changes or {}).items():
        whole = (
            fields is None or key in fields or (key.startswith("custom.") and "custom" in fields)
        )
        if whole:
            if isinstance(pair, list):
                out[key] = [_redacted(v, placeholder) for v in pair]
            else:
                out[key] = _redacted(pair, placeholder)
        elif key == "custom" and isinstance(pair, list):
            out[key] = [
                {
                    k: _redacted(v, placeholder) if f"custom.{k}" in fields else v
                    for k, v in side.items()
                }
                if isinstance(side, dict)
                else side
                for side in pair
            ]
        else:
            out[key] = pair
    return out


def redact(
    *,
    workspace: Workspace | int,
    object_key: str,
    object_ids,
    fields: set[str] | None,
    placeholder: str,
) -> int:
    """Replace personal values in the audit entries of some records (erasure).

    The audit log is append-only — the model, its queryset and a database trigger refuse
    updates — with this one exception: PIPL (art. 47) and GDPR (art. 17) give a person the
    right to have their personal data erased, and an audit entry's field-by-field
    before/after values and ``object_repr`` are personal data like the record itself. So
    for the entries of ``object_ids`` this replaces the before/after values of ``fields``
    (every field when None; see ``_redact_changes`` for custom fields) and ``object_repr``
    with ``placeholder`` and stamps ``redacted_at``. Who did what and when stays. The
    trigger lets an entry be redacted once and nothing else be changed; entries already
    redacted are left alone. Call it inside the erasing service's transaction. Returns the
    number of entries redacted.
    """
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    ids = sorted({str(i) for i in object_ids})
    if not ids:
        return 0
    entries = AuditEntry.objects.filter(
        workspace_id=workspace_id, object_key=object_key, redacted_at__isnull=True
    )
    pks = list(entries.filter(object_id__in=ids).order_by("pk").values_list("pk", flat=True))
    at = timezone.now()
    done = 0
    for start in range(0, len(pks), REDACT_BATCH):
        batch = pks[start : start + REDACT_BATCH]
        redactions = {
            pk: (_redact_changes(changes, fields, placeholder), placeholder)
            for pk, changes in entries.filter(pk__in=batch).values_list("pk", "changes")
        }
        done += entries.apply_redactions(redactions, at=at)
    return done
