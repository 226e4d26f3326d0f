"""The portal's page forms (customers' and the staff's). They only collect input: the
services validate it, and their field errors are put back on these forms by
``add_errors``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError


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


# --- customers -------------------------------------------------------------------------------


class SignInForm(forms.Form):
    destination = forms.CharField(
        label=_("E-mail or mobile number"),
        max_length=254,
        widget=forms.TextInput(
            {"autocomplete": "username", "inputmode": "email", "autocapitalize": "off"}
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput(), max_length=500)


class CodeForm(forms.Form):
    destination = forms.CharField(max_length=254, widget=forms.HiddenInput())
    code = forms.CharField(
        label=_("Sign-in code"),
        max_length=20,
        widget=forms.TextInput(
            {
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput(), max_length=500)


class CaseForm(forms.Form):
    case_type = forms.TypedChoiceField(label=_("What do you need?"), coerce=int)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Describe what happened"),
        max_length=20_000,
        widget=forms.Textarea({"rows": 5}),
    )
    product = forms.TypedChoiceField(
        label=_("Product (if it is about one)"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, case_types=(), products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].choices = [(t.pk, t.name) for t in case_types]
        self.fields["product"].choices = [("", "—")] + [(p.pk, p.name) for p in products]
        if not products:
            del self.fields["product"]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=20_000, widget=forms.Textarea({"rows": 4})
    )


# --- staff -----------------------------------------------------------------------------------


class PortalSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("The portal is open to customers"), required=False)
    welcome = forms.CharField(
        label=_("Welcome text"),
        required=False,
        max_length=5000,
        widget=forms.Textarea({"rows": 4}),
        help_text=_("Shown on the portal's first page, above the search."),
    )
    case_type_ids = forms.TypedMultipleChoiceField(
        label=_("Case types customers may file"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every active case type."),
    )

    def __init__(self, *args, case_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type_ids"].choices = [(t.pk, t.name) for t in case_types]


class PeriodForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput({"type": "date"})
    )
