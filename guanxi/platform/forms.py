"""Page forms. They only collect input: services validate it (custom fields included) and
their ``ApplicationError`` is mapped back onto the form's fields."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError
from guanxi.common.views import error_message

from . import custom_fields, permissions
from .models import CustomField, FieldType, TeamKind, User


def _custom_form_field(definition: CustomField, users) -> forms.Field:
    common = {"label": definition.label, "required": False, "help_text": definition.help_text}
    kind = definition.field_type
    if kind == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.DATETIME:
        return forms.CharField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common
        )
    if kind == FieldType.CHOICE:
        choices = [("", "—")] + [
            (c["value"], c.get("label") or c["value"]) for c in definition.choices
        ]
        return forms.ChoiceField(choices=choices, **common)
    if kind == FieldType.MULTI_CHOICE:
        choices = [(c["value"], c.get("label") or c["value"]) for c in definition.choices]
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == FieldType.BOOLEAN:
        return forms.ChoiceField(
            choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))], **common
        )
    if kind == FieldType.USER:
        return forms.ChoiceField(
            choices=[("", "—")] + [(str(u.pk), u.full_name) for u in users], **common
        )
    if kind == FieldType.EMAIL:
        return forms.CharField(widget=forms.EmailInput, **common)
    if kind == FieldType.PHONE:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}), **common)
    if kind == FieldType.URL:
        return forms.CharField(widget=forms.URLInput, **common)
    return forms.CharField(max_length=custom_fields.MAX_TEXT, **common)


class ServiceForm(forms.Form):
    """A form whose values go to a service; custom fields and field rules are added by
    ``setup`` for the object named by ``object_key``."""

    object_key: str = ""
    with_custom_fields: bool = True

    def __init__(self, *args, workspace, actor: User, custom: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace, self.actor = workspace, actor
        self.custom_keys: list[str] = []
        if self.object_key:
            if self.with_custom_fields:
                self._add_custom_fields(custom or {})
            self._apply_field_rules()

    def _add_custom_fields(self, current: dict) -> None:
        defs = custom_fields.definitions(self.workspace, self.object_key)
        users = (
            list(
                User.objects.filter(workspace=self.workspace, is_active=True).order_by("full_name")
            )
            if any(d.field_type == FieldType.USER for d in defs)
            else []
        )
        for d in defs:
            name = f"custom__{d.key}"
            self.fields[name] = _custom_form_field(d, users)
            value = current.get(d.key, None if current else d.default)
            if value is not None:
                if d.field_type == FieldType.BOOLEAN:
                    value = "true" if value else "false"
                elif d.field_type == FieldType.DATETIME and isinstance(value, str):
                    value = value[:16]
                self.initial.setdefault(name, value)
            if d.required:
                self.fields[name].widget.attrs["required"] = True
                self.fields[name].label_suffix = " *"
            self.custom_keys.append(d.key)

    def _apply_field_rules(self) -> None:
        rules = permissions.field_rules(self.actor, self.object_key)
        for field, access in rules.items():
            name = field.replace("custom.", "custom__") if field.startswith("custom.") else field
            if name not in self.fields:
                continue
            if access == "hidden":
                del self.fields[name]
            else:
                self.fields[name].disabled = True

    def custom_values(self) -> dict:
        values = {}
        for key in self.custom_keys:
            name = f"custom__{key}"
            if name in self.fields and not self.fields[name].disabled:
                values[key] = self.cleaned_data.get(name)
        return values

    def changed_values(self, names: list[str]) -> dict:
        """The plain fields that are editable for this actor."""
        return {
            n: self.cleaned_data.get(n)
            for n in names
            if n in self.fields and not self.fields[n].disabled
        }

    def apply_error(self, exc: ApplicationError) -> None:
        """Show a service's error on the form. Denials and unknown records are not form
        errors: they keep their own pages (403 with the reason, 404)."""
        error_message(exc)  # denials and unknown records keep their own pages
        placed = False
        for field, msgs in exc.fields.items():
            name = field.replace("custom.", "custom__") if field.startswith("custom.") else field
            if name.endswith("_id"):
                name = name[:-3]
            if name in self.fields:
                for msg in msgs:
                    self.add_error(name, str(msg))
                placed = True
        if not placed or not exc.fields:
            self.add_error(None, str(exc.message))


def _team_choices(workspace):
    from .models import Team

    return [("", "—")] + [
        (str(t.pk), t.name) for t in Team.objects.in_workspace(workspace).order_by("path")
    ]


def _role_choices(workspace):
    from .models import Role

    return [(str(r.pk), r.name) for r in Role.objects.in_workspace(workspace).order_by("name")]


class UserForm(ServiceForm):
    object_key = "platform.user"

    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    role = forms.ChoiceField(label=_("Role"))
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        help_text=_("For example Asia/Shanghai. Empty: the workspace's."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if "team" in self.fields:
            self.fields["team"].choices = _team_choices(self.workspace)
        if "role" in self.fields:
            self.fields["role"].choices = _role_choices(self.workspace)
        if "language" in self.fields:
            self.fields["language"].choices = [
                ("", _("Workspace default")),
                *list(settings.LANGUAGES),
            ]
        if editing:
            self.fields["email"].disabled = True
        else:
            del self.fields["is_active"]


class TeamForm(ServiceForm):
    object_key = "platform.team"

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=TeamKind.choices)
    parent = forms.ChoiceField(label=_("Parent team"), required=False)
    manager = forms.ChoiceField(label=_("Manager"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = _team_choices(self.workspace)
        self.fields["manager"].choices = [("", "—")] + [
            (str(u.pk), u.full_name)
            for u in User.objects.filter(workspace=self.workspace, is_active=True).order_by(
                "full_name"
            )
        ]


class ProfileForm(ServiceForm):
    """A user's own details and preferences; the role's field rules apply here too."""

    object_key = "platform.user"
    with_custom_fields = False

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        help_text=_("For example Asia/Shanghai. Empty: the workspace's."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Workspace default")), *list(settings.LANGUAGES)]


class InviteForm(ServiceForm):
    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"))
    team = forms.ChoiceField(label=_("Team"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(self.workspace)
        self.fields["team"].choices = _team_choices(self.workspace)
