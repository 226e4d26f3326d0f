"""The quote pages' forms: they render the inputs and hand the values to the quote
services, which validate them (every bad field at once) and say what is wrong."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.platform.forms import ServiceForm

from .objects import QUOTE

LANGUAGE_CHOICES = (("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English"))


class QuoteHeaderForm(ServiceForm):
    """A new quote's customer and terms, or an existing one's header."""

    object_key = QUOTE
    with_custom_fields = False

    account = forms.ChoiceField(label=_("Customer (account)"), required=False)
    contact = forms.ChoiceField(label=_("Contact"), required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    language = forms.ChoiceField(label=_("Language of the quote"), choices=LANGUAGE_CHOICES)
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    discount_percent = forms.DecimalField(
        label=_("Overall discount (%)"), required=False, max_digits=5, decimal_places=2
    )
    terms = forms.CharField(
        label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(
        label=_("Internal notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, accounts=(), contacts=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "—")] + [(str(a.pk), a.name) for a in accounts]
        self.fields["contact"].choices = [("", "—")] + [(str(c.pk), c.name) for c in contacts]
        if editing:
            del self.fields["account"]

    def values(self) -> dict:
        data = self.cleaned_data
        out = {
            "currency": data.get("currency") or None,
            "language": data.get("language"),
            "valid_until": data.get("valid_until"),
            "discount_percent": data.get("discount_percent") or 0,
            "terms": data.get("terms") or "",
            "notes": data.get("notes") or "",
            "contact_id": data.get("contact") or None,
        }
        if "account" in self.fields:
            out["account_id"] = data.get("account") or None
        return out
