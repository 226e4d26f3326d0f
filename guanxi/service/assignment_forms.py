"""The assignment part's page forms. They only collect input: the services validate it
(and their field errors are put back on these forms by ``add_errors``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

from .models import AgentStatus, DistributionMethod, SkillKind

# Service names of fields that the forms call differently.
_FIELD_ALIASES = {
    "supervisor": "supervisor_id",
    "members": "member_ids",
    "technician": "technician_id",
}


def add_errors(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's error on the form: on its fields, else above them."""
    placed = False
    for name, messages in exc.fields.items():
        target = name if name in form.fields else _FIELD_ALIASES.get(name)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


def _user_choices(users) -> list[tuple[str, str]]:
    return [(str(u.pk), u.full_name) for u in users]


class QueueForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    method = forms.ChoiceField(label=_("Distribution"), choices=DistributionMethod.choices)
    supervisor_id = forms.ChoiceField(label=_("Supervisor"), choices=(), required=False)
    member_ids = forms.MultipleChoiceField(
        label=_("Members (in round-robin order)"),
        choices=(),
        required=False,
        widget=forms.SelectMultiple({"size": 8}),
    )
    languages = forms.CharField(
        label=_("Languages"),
        max_length=200,
        required=False,
        help_text=_("Cases in these languages prefer this queue, e.g. zh, en."),
    )
    is_default = forms.BooleanField(label=_("Default queue"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = _user_choices(users)
        self.fields["supervisor_id"].choices = [("", "—"), *choices]
        self.fields["member_ids"].choices = choices

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        # Keep the order the members were sent in (the round-robin order).
        order = self.data.getlist("member_ids") if hasattr(self.data, "getlist") else []
        data["member_ids"] = order or data["member_ids"]
        data["supervisor_id"] = data["supervisor_id"] or None
        return data


class AgentProfileForm(forms.Form):
    languages = forms.CharField(
        label=_("Languages"),
        max_length=200,
        required=False,
        help_text=_("Comma-separated codes, e.g. zh, en. Empty: any language."),
    )
    max_open_cases = forms.CharField(
        label=_("Most open cases"), required=False, widget=forms.NumberInput({"min": 0})
    )
    phone_extension = forms.CharField(label=_("Phone extension"), max_length=40, required=False)
    is_technician = forms.BooleanField(label=_("Technician (on-site work)"), required=False)
    home_latitude = forms.CharField(
        label=_("Home latitude"), required=False, widget=forms.TextInput({"inputmode": "decimal"})
    )
    home_longitude = forms.CharField(
        label=_("Home longitude"), required=False, widget=forms.TextInput({"inputmode": "decimal"})
    )
    regions = forms.CharField(label=_("Regions"), max_length=1000, required=False)
    max_visits_per_day = forms.CharField(
        label=_("Most visits a day"), required=False, widget=forms.NumberInput({"min": 0})
    )


class SkillForm(forms.Form):
    skill = forms.ChoiceField(label=_("Skill"), choices=())
    level = forms.ChoiceField(
        label=_("Level"), choices=[(str(n), str(n)) for n in range(1, 6)], initial="3"
    )

    def __init__(self, *args, categories=(), products=(), case_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        groups = []
        for kind, label, rows in (
            (SkillKind.CATEGORY, _("Case category"), categories),
            (SkillKind.PRODUCT, _("Product"), products),
            (SkillKind.CASE_TYPE, _("Case type"), case_types),
        ):
            options = [(f"{kind}:{r.pk}", r.name) for r in rows]
            if options:
                groups.append((label, options))
        self.fields["skill"].choices = groups

    def values(self) -> dict:
        kind, _sep, object_id = self.cleaned_data["skill"].partition(":")
        return {"kind": kind, "object_id": object_id, "level": self.cleaned_data["level"]}


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Availability"), choices=AgentStatus.choices)


class DispatchForm(forms.Form):
    # Offered: the ranked technicians; any id may be sent (the service checks it).
    technician_id = forms.CharField(label=_("Technician"), max_length=20, widget=forms.Select)
    # Local times as typed (the service reads them in the actor's time zone).
    starts_at = forms.CharField(
        label=_("Starts"), max_length=40, widget=forms.DateTimeInput({"type": "datetime-local"})
    )
    ends_at = forms.CharField(
        label=_("Ends"), max_length=40, widget=forms.DateTimeInput({"type": "datetime-local"})
    )
    note = forms.CharField(
        label=_("Note for the technician"), required=False, widget=forms.Textarea({"rows": 2})
    )

    def __init__(self, *args, technicians=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician_id"].widget.choices = _user_choices(technicians)


class ReportForm(forms.Form):
    report = forms.CharField(
        label=_("Work report"), required=False, widget=forms.Textarea({"rows": 3})
    )
