"""Custom field definitions."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict

from .. import audit, custom_fields, permissions, registry
from ..models import (
    CustomField,
    FieldType,
    RoleFieldRule,
    User,
    Workspace,
)
from ._base import (
    _get,
    _text,
)


def _clean_choices(field_type: str, choices: Any) -> list[dict]:
    if field_type not in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        return []
    items = []
    seen = set()
    for choice in choices or []:
        if isinstance(choice, str):
            value, label = choice.strip(), choice.strip()
        else:
            value = str(choice.get("value", "")).strip()
            label = str(choice.get("label") or value).strip()
        if value and value not in seen:
            seen.add(value)
            items.append({"value": value, "label": label})
    if not items:
        raise ApplicationError(
            _("A choice field needs at least one choice."),
            fields={"choices": [_("Add at least one choice.")]},
        )
    return items


def custom_field_create(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    label: str,
    field_type: str,
    key: str = "",
    required: bool = False,
    unique: bool = False,
    default: Any = None,
    help_text: str = "",
    choices: Any = None,
    position: int | None = None,
) -> CustomField:
    """Define a custom field on an object."""
    permissions.require_admin(actor)
    obj = registry.find(object_key)
    if obj is None or not obj.supports_custom_fields:
        raise ApplicationError(
            _("This object has no custom fields."), fields={"object_key": [_("Unknown object.")]}
        )
    label = _text(label, field="label", max_length=120)
    if not label:
        raise ApplicationError(
            _("Enter a label."), fields={"label": [_("This field is required.")]}
        )
    if field_type not in FieldType.values:
        raise ApplicationError(
            _("Choose a field type."), fields={"field_type": [_("Unknown type.")]}
        )
    key = slugify(key or "").replace("-", "_") or _key_from_label(label)
    if key in {f.name for f in obj.model._meta.get_fields()}:
        raise ApplicationError(
            _("This key is used by a built-in field."), fields={"key": [_("Reserved.")]}
        )
    with transaction.atomic():
        if (
            CustomField.objects.in_workspace(workspace)
            .filter(object_key=object_key, key=key)
            .exists()
        ):
            raise Conflict(
                _("A field with this key already exists."), fields={"key": [_("Already taken.")]}
            )
        definition = CustomField(
            workspace=workspace,
            object_key=object_key,
            key=key,
            label=label,
            field_type=field_type,
            required=bool(required),
            unique=bool(unique),
            help_text=_text(help_text, field="help_text", max_length=300),
            choices=_clean_choices(field_type, choices),
        )
        if default not in (None, ""):
            try:
                definition.default = custom_fields.clean_value(
                    definition, default, workspace=workspace
                )
            except ValueError as exc:
                raise ApplicationError(str(exc), fields={"default": [str(exc)]}) from None
        if position is None:
            last = (
                CustomField.objects.in_workspace(workspace)
                .filter(object_key=object_key)
                .order_by("-position")
                .first()
            )
            position = (last.position + 1) if last else 0
        definition.position = max(0, int(position))
        definition.save()
        audit.log_create(actor=actor, instance=definition)
    return definition


def _key_from_label(label: str) -> str:
    from pypinyin import lazy_pinyin

    return (
        slugify("_".join(lazy_pinyin(label))).replace("-", "_")[:50]
        or f"field_{secrets.token_hex(3)}"
    )


def custom_field_update(
    *, actor: User, workspace: Workspace, field_id: int, **changes: Any
) -> CustomField:
    """Change a field's label, help, rules, choices, default, order or activity.

    The key and type stay: values already stored depend on them.
    """
    permissions.require_admin(actor)
    allowed = {
        "label",
        "required",
        "unique",
        "default",
        "help_text",
        "choices",
        "position",
        "is_active",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        definition = _get(CustomField, workspace, field_id, lock=True)
        before = audit.snapshot(definition)
        if "label" in changes:
            label = _text(changes["label"], field="label", max_length=120)
            if not label:
                raise ApplicationError(
                    _("Enter a label."), fields={"label": [_("This field is required.")]}
                )
            definition.label = label
        for flag in ("required", "unique", "is_active"):
            if flag in changes:
                setattr(definition, flag, bool(changes[flag]))
        if "help_text" in changes:
            definition.help_text = _text(changes["help_text"], field="help_text", max_length=300)
        if "choices" in changes:
            definition.choices = _clean_choices(definition.field_type, changes["choices"])
        if "position" in changes:
            definition.position = max(0, int(changes["position"]))
        if "default" in changes:
            try:
                definition.default = custom_fields.clean_value(
                    definition, changes["default"], workspace=workspace
                )
            except ValueError as exc:
                raise ApplicationError(str(exc), fields={"default": [str(exc)]}) from None
        definition.save()
        audit.log_update(actor=actor, instance=definition, before=before)
    return definition


def custom_field_move(*, actor: User, workspace: Workspace, field_id: int, direction: str) -> None:
    """Move a field one place up or down among its object's fields (positions renumbered
    0, 1, 2… so equal or sparse positions move too)."""
    permissions.require_admin(actor)
    if direction not in ("up", "down"):
        raise ApplicationError(_("Choose up or down."))
    with transaction.atomic():
        definition = _get(CustomField, workspace, field_id, lock=True)
        siblings = list(
            CustomField.objects.in_workspace(workspace)
            .filter(object_key=definition.object_key)
            .select_for_update()
            .order_by("position", "id")
        )
        index = [d.pk for d in siblings].index(definition.pk)
        target = index - 1 if direction == "up" else index + 1
        if not 0 <= target < len(siblings):
            return
        siblings[index], siblings[target] = siblings[target], siblings[index]
        for position, sibling in enumerate(siblings):
            if sibling.position != position:
                before = audit.snapshot(sibling)
                sibling.position = position
                sibling.save(update_fields=["position", "updated_at"])
                audit.log_update(actor=actor, instance=sibling, before=before)


def custom_field_delete(*, actor: User, workspace: Workspace, field_id: int) -> None:
    """Delete a definition. Stored values stay in the rows (and in the audit log) but are
    no longer shown; re-creating the key brings them back."""
    permissions.require_admin(actor)
    with transaction.atomic():
        definition = _get(CustomField, workspace, field_id, lock=True)
        audit.log_delete(actor=actor, instance=definition)
        RoleFieldRule.objects.in_workspace(workspace).filter(
            object_key=definition.object_key, field=f"custom.{definition.key}"
        ).delete()
        definition.delete()
