"""The catalogue's forms. They only read and render input; the services validate (codes,
prices, kinds, currencies) and the views put the services' messages on the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CUSTOMER_CLASSES, PriceBookKind, TaxRate

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceErrorsForm(forms.Form):
    # The services' field names that this form shows under another field.
    aliases: dict[str, str] = {}

    def add_service_error(self, exc) -> None:
        """Put a service's field messages on the matching fields, the rest on top."""
        placed = False
        for name, messages in (exc.fields or {}).items():
            target = self.aliases.get(name, name)
            if target in self.fields:
                for message in messages:
                    self.add_error(target, str(message))
                placed = True
        if not placed:
            self.add_error(None, str(exc.message))


class ProductForm(ServiceErrorsForm):
    aliases = {"tax_rate_id": "tax_rate"}

    code = forms.CharField(label=_("Product code"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    name_en = forms.CharField(label=_("English name"), max_length=200, required=False)
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    unit = forms.CharField(
        label=_("Unit"), max_length=20, required=False, help_text=_("台, 套, 件, 年…")
    )
    tax_rate = forms.TypedChoiceField(
        label=_("Tax rate"), required=False, coerce=int, empty_value=None
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea({"rows": 3})
    )
    active = forms.BooleanField(label=_("Active (offered in quotes)"), required=False, initial=True)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        rates = TaxRate.objects.in_workspace(workspace).filter(active=True).order_by("-rate")
        self.fields["tax_rate"].choices = [("", "—")] + [(r.pk, r.name) for r in rates]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["tax_rate_id"] = data.pop("tax_rate")
        return data


class PriceBookForm(ServiceErrorsForm):
    aliases = {"account_id": "account", "contact_id": "account"}

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=PriceBookKind.choices)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    customer_class = forms.ChoiceField(
        label=_("Customer class"),
        choices=[("", "—"), *CUSTOMER_CLASSES],
        required=False,
        help_text=_("Class books only."),
    )
    account = forms.CharField(
        label=_("Customer code"),
        max_length=64,
        required=False,
        help_text=_("Customer books only: the account's or individual customer's code."),
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DATE_INPUT)
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE_INPUT)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea({"rows": 2}))


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Price list (CSV or XLSX)"),
        help_text=_("First row: “product code” (产品编码) and “price” (单价)."),
    )
