"""The orders part's forms. They only read input; the services validate (negative amounts,
more than is left to invoice or unpaid, a currency without a rate…) and the views show the
services' errors on the fields."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PaymentMethod

# A date input's value is always YYYY-MM-DD (the browser's date picker reads no other).
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LINE_ROWS = 8
LINE_FIELDS = ("product", "description", "quantity", "unit_price", "tax_rate")


class ServiceErrorsMixin:
    def add_service_error(self, message, fields: dict) -> None:
        """Put a service's field messages on the matching fields (``lines.2.quantity`` is
        ``line-2-quantity``), the rest on top of the form."""
        placed = False
        for name, msgs in (fields or {}).items():
            target = name
            if name.startswith("lines."):
                parts = name.split(".")
                target = f"line-{parts[1]}-{parts[2]}" if len(parts) == 3 else None
            if target in self.fields:
                for msg in msgs:
                    self.add_error(target, str(msg))
                placed = True
        if not placed:
            self.add_error(None, str(message))


class OrderForm(ServiceErrorsMixin, forms.Form):
    customer = forms.CharField(
        label=_("Customer code"),
        max_length=64,
        help_text=_("The account's or individual customer's code."),
    )
    order_date = forms.DateField(label=_("Order date"), widget=DATE_INPUT)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    payment_terms_days = forms.IntegerField(
        label=_("Payment due after (days)"),
        required=False,
        min_value=0,
        max_value=3650,
        help_text=_("Empty: from the customer file, else 30."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea({"rows": 2}))
    draft = forms.BooleanField(label=_("Save as a draft"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, LINE_ROWS + 1):
            self.fields[f"line-{i}-product"] = forms.CharField(
                label=_("Product code"), max_length=64, required=False
            )
            self.fields[f"line-{i}-description"] = forms.CharField(
                label=_("Description"), max_length=300, required=False
            )
            self.fields[f"line-{i}-quantity"] = forms.DecimalField(
                label=_("Quantity"), required=False, max_digits=14, decimal_places=3
            )
            self.fields[f"line-{i}-unit_price"] = forms.DecimalField(
                label=_("Unit price"), required=False, max_digits=18, decimal_places=4
            )
            self.fields[f"line-{i}-tax_rate"] = forms.DecimalField(
                label=_("Tax rate (%)"),
                required=False,
                max_digits=7,
                decimal_places=4,
                help_text=_("Empty: the product's rate."),
            )

    def line_rows(self) -> list[list]:
        return [[self[f"line-{i}-{name}"] for name in LINE_FIELDS] for i in range(1, LINE_ROWS + 1)]

    def clean(self):
        data = super().clean()
        lines = []
        for i in range(1, LINE_ROWS + 1):
            values = {name: data.get(f"line-{i}-{name}") for name in LINE_FIELDS}
            if not any(v not in (None, "") for v in values.values()):
                continue
            rate = values["tax_rate"]
            lines.append(
                {
                    "product": (values["product"] or "").strip(),
                    "description": values["description"] or "",
                    "quantity": values["quantity"],
                    "unit_price": values["unit_price"],
                    # Typed as a percentage; the service takes a fraction.
                    "tax_rate": None if rate is None else rate / Decimal(100),
                }
            )
        if not lines:
            self.add_error(None, _("An order needs at least one line."))
        data["lines"] = lines
        return data


class InvoiceForm(ServiceErrorsMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        max_digits=18,
        decimal_places=2,
        help_text=_("Empty: all that is not invoiced yet."),
    )
    issued_on = forms.DateField(label=_("Invoice date"), required=False, widget=DATE_INPUT)
    due_on = forms.DateField(
        label=_("Due"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Empty: after the order's payment terms."),
    )


class PaymentForm(ServiceErrorsMixin, forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=18, decimal_places=2)
    received_on = forms.DateField(label=_("Received"), widget=DATE_INPUT)
    method = forms.ChoiceField(
        label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.BANK_TRANSFER
    )
    reference = forms.CharField(label=_("Reference"), max_length=120, required=False)
