"""The leads part's page forms. They only collect input: the services validate it (and
their field errors are put back on these forms by ``add_errors``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

from .models import AssignmentMethod, LeadSource, ScoreKind
from .services import lead_assignment, lead_forms, lead_scoring


def add_errors(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's error on the form: on its fields, else above them."""
    placed = False
    for name, messages in exc.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


class LeadEntryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput({"type": "tel"})
    )
    email = forms.CharField(
        label=_("E-mail"), max_length=254, required=False, widget=forms.EmailInput()
    )
    industry = forms.CharField(label=_("Industry"), max_length=60, required=False)
    employees = forms.CharField(
        label=_("Employees"), required=False, widget=forms.NumberInput({"min": 0})
    )
    region = forms.CharField(label=_("Region"), max_length=60, required=False)
    province = forms.CharField(label=_("Province"), max_length=60, required=False)
    city = forms.CharField(label=_("City"), max_length=60, required=False)
    interest = forms.CharField(label=_("Interested in"), max_length=200, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=LeadSource.choices, required=False)
    campaign = forms.CharField(label=_("Campaign"), max_length=120, required=False)
    message = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea({"rows": 3})
    )

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("source"):
            data.pop("source", None)
        return data


class LogForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"),
        choices=[
            ("call", _("Call")),
            ("note", _("Note")),
            ("email", _("E-mail")),
            ("meeting", _("Meeting")),
            ("visit", _("Visit")),
        ],
    )
    body = forms.CharField(
        label=_("What happened"), required=False, widget=forms.Textarea({"rows": 3})
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("working", _("Working")),
            ("qualified", _("Qualified")),
            ("unqualified", _("Not a buyer")),
        ],
    )
    reason = forms.CharField(label=_("Why not a buyer"), max_length=200, required=False)


class ConvertForm(forms.Form):
    account_id = forms.CharField(required=False, widget=forms.HiddenInput)
    contact_id = forms.CharField(required=False, widget=forms.HiddenInput)
    create_deal = forms.BooleanField(label=_("Create a deal"), required=False, initial=True)
    deal_name = forms.CharField(label=_("Deal name"), max_length=200, required=False)
    amount = forms.CharField(
        label=_("Amount"), required=False, widget=forms.NumberInput({"min": 0, "step": "0.01"})
    )
    expected_close_date = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput({"type": "date"})
    )


class WebFormForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    campaign = forms.CharField(label=_("Campaign"), max_length=120, required=False)
    fields = forms.MultipleChoiceField(
        label=_("Fields shown besides name, phone and e-mail"),
        choices=list(lead_forms.OPTIONAL_FIELDS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    thank_you = forms.CharField(
        label=_("Thank-you message"), required=False, widget=forms.Textarea({"rows": 2})
    )
    redirect_url = forms.CharField(
        label=_("Redirect after sending"), max_length=200, required=False
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ScoringRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ScoreKind.choices)
    attribute = forms.ChoiceField(
        label=_("Attribute"),
        choices=[
            *lead_scoring.FIT_ATTRIBUTES.items(),
            *lead_scoring.ENGAGEMENT_ATTRIBUTES.items(),
        ],
    )
    operator = forms.ChoiceField(
        label=_("Comparison"), choices=list(lead_scoring.OPERATORS.items())
    )
    value = forms.CharField(label=_("Value"), max_length=200, required=False)
    points = forms.CharField(label=_("Points"), required=False, widget=forms.NumberInput())


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    method = forms.ChoiceField(label=_("Method"), choices=AssignmentMethod.choices)
    order = forms.IntegerField(label=_("Order"), initial=100, min_value=0, required=False)
    reps = forms.MultipleChoiceField(label=_("Reps"), choices=(), required=False)
    source = forms.CharField(label=_("Only sources (comma-separated)"), required=False)
    campaign = forms.CharField(label=_("Only campaigns"), required=False)
    region = forms.CharField(label=_("Only regions"), required=False)
    province = forms.CharField(label=_("Only provinces"), required=False)
    industry = forms.CharField(label=_("Only industries"), required=False)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reps"].choices = [(str(u.pk), u.full_name) for u in users]

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "method": data["method"],
            "order": data["order"] if data["order"] is not None else 100,
            "rep_ids": data["reps"],
            "conditions": {k: data[k] for k in lead_assignment.CONDITION_KEYS if data.get(k)},
        }


class RepProfileForm(forms.Form):
    territories = forms.CharField(label=_("Territories"), required=False)
    skills = forms.CharField(label=_("Skills"), required=False)
    max_open_leads = forms.CharField(
        label=_("Most open leads"), required=False, widget=forms.NumberInput({"min": 0})
    )
    available = forms.BooleanField(label=_("Taking new leads"), required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel file"))
    campaign = forms.CharField(label=_("Campaign"), max_length=120, required=False)
