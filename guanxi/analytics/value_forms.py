"""Forms of the customer-value page. They collect input only; ``services.value``
validates it and its errors are put back on the fields (``ServiceForm.apply_error``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import AccountType
from guanxi.platform.forms import ServiceForm

from .services.value import MAX_B_YEARS


class ValueRulesForm(ServiceForm):
    a_top_percent = forms.DecimalField(
        label=_("A: the top share of customers by annual sales (%)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    a_account_types = forms.MultipleChoiceField(
        label=_("A: always these customer types"),
        choices=AccountType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    b_growth_percent = forms.DecimalField(
        label=_("B: yearly sales growth of at least (%)"),
        min_value=0,
        max_value=1000,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    b_years = forms.IntegerField(
        label=_("B: growth in each of the last (years)"), min_value=1, max_value=MAX_B_YEARS
    )
    nightly_hour = forms.IntegerField(
        label=_("Recompute every night at (hour, workspace time)"), min_value=0, max_value=23
    )


class RecomputeForm(forms.Form):
    year = forms.IntegerField(
        label=_("Classify by the sales of (year)"),
        required=False,
        min_value=1900,
        max_value=2999,
        help_text=_("Empty: the last full year."),
    )
