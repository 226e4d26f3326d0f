"""Forms of the administration pages: roles with their rights matrix and field rules,
custom field definitions, API tokens. They only collect input; services validate it."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import registry
from .forms import ServiceForm
from .models import Action, CustomField, FieldAccess, FieldType, Visibility
from .services import TOKEN_SCOPES

VISIBLE = ""  # no field rule: the field is visible and editable


def _right_name(object_key: str, action: str) -> str:
    return f"right__{object_key}__{action}"


def _visibility_name(object_key: str) -> str:
    return f"visibility__{object_key}"


class RoleForm(ServiceForm):
    """A role's name, description, administrator flag and, per business object, the
    actions it grants and the records it lets its users see."""

    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    is_admin = forms.BooleanField(
        label=_("Administrator"),
        required=False,
        help_text=_("Administrators manage the workspace and may do everything with every record."),
    )

    def __init__(self, *args, rights: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.objects = [obj for obj in registry.all_objects() if obj.grantable]
        rights = rights or {}
        for obj in self.objects:
            grant = rights.get(obj.key) or {}
            granted = set(grant.get("actions") or [])
            for action in Action:
                name = _right_name(obj.key, action.value)
                self.fields[name] = forms.BooleanField(
                    label=action.label,
                    required=False,
                    widget=forms.CheckboxInput(
                        attrs={
                            "aria-label": format_lazy("{}: {}", obj.label_plural, action.label),
                        }
                    ),
                )
                self.initial.setdefault(name, action.value in granted)
            name = _visibility_name(obj.key)
            self.fields[name] = forms.ChoiceField(
                label=_("Visibility"),
                choices=Visibility.choices,
                required=False,
                widget=forms.Select(
                    attrs={
                        "aria-label": format_lazy("{}: {}", obj.label_plural, _("Visibility")),
                    }
                ),
            )
            self.initial.setdefault(name, grant.get("visibility") or Visibility.OWN)

    def visible_fields(self):
        # The matrix is laid out by ``matrix_rows``; the generic field list shows the rest.
        return [
            f for f in super().visible_fields() if f.name in ("name", "description", "is_admin")
        ]

    def matrix_rows(self) -> list[dict]:
        return [
            {
                "object": obj,
                "cells": [self[_right_name(obj.key, a.value)] for a in Action],
                "visibility": self[_visibility_name(obj.key)],
            }
            for obj in self.objects
        ]

    @staticmethod
    def action_labels() -> list:
        return [a.label for a in Action]

    def rights(self) -> dict:
        """The matrix as ``Role.rights``: ``{object_key: {"actions": [...], "visibility": ...}}``."""
        data = self.cleaned_data
        return {
            obj.key: {
                "actions": [a.value for a in Action if data.get(_right_name(obj.key, a.value))],
                "visibility": data.get(_visibility_name(obj.key)) or Visibility.OWN,
            }
            for obj in self.objects
        }


class FieldRulesForm(forms.Form):
    """Per object, one choice per restrictable field (custom fields included): visible,
    hidden or read-only for the role's users."""

    def __init__(
        self, *args, rules: dict[str, dict[str, str]], custom_fields: list[CustomField], **kwargs
    ):
        super().__init__(*args, **kwargs)
        choices = [(VISIBLE, _("Visible")), *FieldAccess.choices]
        by_object: dict[str, list[CustomField]] = {}
        for definition in custom_fields:
            by_object.setdefault(definition.object_key, []).append(definition)
        self.groups: list[dict] = []
        for obj in registry.all_objects():
            entries = [(f.name, f.label) for f in obj.fields if f.restrictable]
            if obj.supports_custom_fields:
                entries += [(f"custom.{d.key}", d.label) for d in by_object.get(obj.key, [])]
            if not entries:
                continue
            names = []
            for field, label in entries:
                name = f"rule__{obj.key}__{field}"
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    choices=choices,
                    required=False,
                    widget=forms.Select(
                        attrs={"aria-label": format_lazy("{}: {}", obj.label, label)}
                    ),
                )
                self.initial[name] = (rules.get(obj.key) or {}).get(field, VISIBLE)
                names.append((name, obj.key, field))
            self.groups.append({"object": obj, "names": names})

    def rows(self) -> list[dict]:
        return [
            {"object": g["object"], "fields": [self[name] for name, _key, _field in g["names"]]}
            for g in self.groups
        ]

    def changed_rules(self) -> list[tuple[str, str, str | None]]:
        """``(object_key, field, access or None)`` for every rule that differs from before."""
        out = []
        for group in self.groups:
            for name, object_key, field in group["names"]:
                value = self.cleaned_data.get(name) or VISIBLE
                if value != self.initial.get(name, VISIBLE):
                    out.append((object_key, field, value or None))
        return out


def parse_choices(text: str) -> list[dict]:
    """One choice per line, as ``value`` or ``value|label``."""
    items = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        value, _sep, label = line.partition("|")
        items.append({"value": value.strip(), "label": label.strip() or value.strip()})
    return items


def format_choices(choices: list[dict]) -> str:
    lines = []
    for choice in choices or []:
        value, label = choice.get("value", ""), choice.get("label") or ""
        lines.append(value if label in ("", value) else f"{value}|{label}")
    return "\n".join(lines)


def format_default(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


class CustomFieldForm(ServiceForm):
    """A custom field definition. The object, key and type are fixed once it exists."""

    object_key = forms.ChoiceField(label=_("Object"))
    label = forms.CharField(label=_("Label"), max_length=120)
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        required=False,
        help_text=_(
            "Letters, digits and underscores, used by imports and the API. Empty: made "
            "from the label. It cannot be changed later."
        ),
    )
    field_type = forms.ChoiceField(
        label=_("Type"), choices=FieldType.choices, help_text=_("The type cannot be changed later.")
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    unique = forms.BooleanField(
        label=_("Unique"), required=False, help_text=_("No two records may hold the same value.")
    )
    default = forms.CharField(
        label=_("Default value"),
        max_length=255,
        required=False,
        help_text=_("Filled in on new records. Yes/no: true or false."),
    )
    help_text = forms.CharField(label=_("Help text"), max_length=300, required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Only for choice and multiple-choice fields: one choice per line, as "
            "“value” or “value|label”."
        ),
    )
    position = forms.IntegerField(
        label=_("Position"),
        required=False,
        min_value=0,
        help_text=_("Fields are shown in ascending order. Empty: after the others."),
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive fields are hidden everywhere; their values are kept."),
    )

    # Django moves declared fields off the class, so ``self.object_key`` stays ServiceForm's
    # empty string: a definition itself has no custom fields or field rules.
    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_key"].choices = [
            (obj.key, obj.label_plural)
            for obj in registry.all_objects()
            if obj.supports_custom_fields
        ]
        if editing:
            for name in ("object_key", "key", "field_type"):
                self.fields[name].disabled = True
                self.fields[name].required = False
            self.fields["key"].help_text = _("The key cannot be changed.")
            self.fields["position"].help_text = _("Fields are shown in ascending order.")
        else:
            del self.fields["is_active"]

    def parsed_choices(self) -> list[dict]:
        return parse_choices(self.cleaned_data.get("choices", ""))


class ApiTokenForm(ServiceForm):
    name = forms.CharField(
        label=_("Name"), max_length=80, help_text=_("What the token is for, e.g. “ERP sync”.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
        help_text=_("read: read records; write: change them; admin: workspace settings."),
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Empty: the token does not expire."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {"read": _("Read"), "write": _("Write"), "admin": _("Administration")}
        scopes = [s for s in TOKEN_SCOPES if s != "admin" or self.actor.role.is_admin]
        self.fields["scopes"].choices = [(s, labels.get(s, s)) for s in scopes]
