"""Forms of the visit pages. They collect input only; the services validate it and their
errors are put back on the fields (``ServiceForm.apply_error``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import AccountType
from guanxi.platform.forms import ServiceForm
from guanxi.platform.models import Team, User

from .models import VisitMeans
from .services.checkins import VisitOutcome
from .services.visits import CLASSES, MAX_FAR_METERS, MAX_VISITS_PER_YEAR, MIN_FAR_METERS


def _visits_field(label) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=MAX_VISITS_PER_YEAR,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class VisitSettingsForm(ServiceForm):
    far_checkin_meters = forms.IntegerField(
        label=_("Flag check-ins farther from the customer than (metres)"),
        min_value=MIN_FAR_METERS,
        max_value=MAX_FAR_METERS,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in AccountType.choices:
            self.fields[f"type__{value}"] = _visits_field(
                _("Visits a year: %(type)s") % {"type": label}
            )
        for cls in CLASSES:
            field = _visits_field(_("Visits a year: class %(cls)s") % {"cls": cls})
            field.required = False
            field.help_text = _("Empty: the customer type decides. A class beats the type.")
            self.fields[f"class__{cls}"] = field

    def by_type(self) -> dict:
        return {v: self.cleaned_data[f"type__{v}"] for v in AccountType.values}

    def by_class(self) -> dict:
        return {
            c: self.cleaned_data[f"class__{c}"]
            for c in CLASSES
            if self.cleaned_data.get(f"class__{c}") is not None
        }


class VisitPlanForm(forms.Form):
    visits_per_year = _visits_field(_("Visits a year"))
    means = forms.ChoiceField(label=_("Usual means"), choices=VisitMeans.choices)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)


PERIOD_HELP = _("A year (2026), a quarter (2026-Q4) or a month (2026-11).")


class GenerateForm(ServiceForm):
    period = forms.CharField(label=_("Period"), max_length=7, help_text=PERIOD_HELP)
    team = forms.ChoiceField(label=_("Team (and the teams below)"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.in_workspace(self.workspace).order_by("path")
        users = User.objects.filter(workspace=self.workspace, is_active=True).order_by(
            "full_name", "pk"
        )
        self.fields["team"].choices = [("", _("All"))] + [(t.pk, t.name) for t in teams]
        self.fields["owner"].choices = [("", _("All"))] + [(u.pk, u.full_name) for u in users]


class CheckInForm(forms.Form):
    """Latitude, longitude and accuracy are hidden inputs the page's script fills from
    the browser's geolocation; left empty, the check-in is recorded without a position."""

    task = forms.IntegerField(required=False, widget=forms.HiddenInput)
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    latitude = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    accuracy = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    means = forms.ChoiceField(label=_("Means"), choices=VisitMeans.choices, required=False)
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class CheckOutForm(forms.Form):
    means = forms.ChoiceField(label=_("Means"), choices=VisitMeans.choices)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *VisitOutcome.choices], required=False
    )
    notes = forms.CharField(
        label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
