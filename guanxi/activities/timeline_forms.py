"""Forms of the timeline section: the quick log forms (call, meeting, visit, note), the
promise form, and the filter bar. They only read the input; the services validate it and
their errors are put back on the fields here."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.errors import ApplicationError

from .models import CallOutcome, Direction, EntryKind, VisitMeans

QUICK_KINDS = (EntryKind.CALL, EntryKind.MEETING, EntryKind.VISIT, EntryKind.NOTE)
DATETIME_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def now_local_input() -> str:
    """Now, as a datetime-local input wants it."""
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class LogForm(forms.Form):
    """One quick log form; its prefix is the kind (``call-subject``), so the four forms on
    one page keep their own ids."""

    occurred_at = forms.DateTimeField(
        label=_("When"),
        input_formats=DATETIME_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    subtype = forms.ChoiceField(
        label=_("How"), required=False, choices=[("", "—"), *VisitMeans.choices]
    )
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", "—"), *Direction.choices]
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", "—"), *CallOutcome.choices]
    )
    duration_minutes = forms.IntegerField(
        label=_("Minutes"),
        required=False,
        min_value=0,
        max_value=24 * 60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(
        label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    contacts = forms.MultipleChoiceField(label=_("With"), required=False, choices=())
    is_private = forms.BooleanField(label=_("Private"), required=False)
    commitment_text = forms.CharField(
        label=_("We promised…"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. send the quotation")}),
    )
    commitment_due = forms.DateField(
        label=_("by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    # Service field → form field, for errors.
    FIELD_MAP = {
        "duration_seconds": "duration_minutes",
        "contact_ids": "contacts",
        "account_id": "contacts",
        "kind": None,
        "channel": None,
        "related_object_key": None,
        "related_object_id": None,
    }

    def __init__(self, *args, kind: str, contact_choices=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("occurred_at", now_local_input())
        super().__init__(*args, prefix=kind, **kwargs)
        self.kind = kind
        self.fields["contacts"].choices = list(contact_choices)
        if kind == EntryKind.CALL:
            self.fields["direction"].initial = Direction.OUTBOUND
        if kind != EntryKind.VISIT:
            del self.fields["subtype"]
        if kind != EntryKind.CALL:
            del self.fields["direction"]
            del self.fields["outcome"]
        if kind == EntryKind.NOTE:
            del self.fields["duration_minutes"]
        if not contact_choices:
            del self.fields["contacts"]

    def service_values(self) -> dict:
        """The cleaned input as ``entry_log`` keywords (after ``is_valid``)."""
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        values = {
            "kind": self.kind,
            "occurred_at": data.get("occurred_at"),
            "subtype": data.get("subtype", ""),
            "direction": data.get("direction", ""),
            "outcome": data.get("outcome", ""),
            "duration_seconds": minutes * 60 if minutes is not None else None,
            "subject": data.get("subject", ""),
            "body": data.get("body", ""),
            "is_private": data.get("is_private", False),
            "commitment_text": data.get("commitment_text", ""),
            "commitment_due": data.get("commitment_due"),
        }
        return values

    def add_service_errors(self, exc: ApplicationError) -> None:
        add_service_errors(self, exc, self.FIELD_MAP)


class PromiseForm(forms.Form):
    """A commitment made to the customer, from its 360° page."""

    text = forms.CharField(
        label=_("What we promised"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_date = forms.DateField(
        label=pgettext_lazy("promise due", "By"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    contact = forms.TypedChoiceField(
        label=pgettext_lazy("promised to", "To"), required=False, coerce=int, empty_value=None
    )
    promised_by = forms.TypedChoiceField(
        label=_("Promised by"), required=False, coerce=int, empty_value=None
    )

    FIELD_MAP = {"contact_id": "contact", "account_id": "contact", "promised_by_id": "promised_by"}

    def __init__(self, *args, contact_choices=(), promiser_choices=(), **kwargs):
        super().__init__(*args, prefix="promise", **kwargs)
        if contact_choices:
            self.fields["contact"].choices = [("", "—"), *contact_choices]
        else:
            del self.fields["contact"]
        if promiser_choices:
            self.fields["promised_by"].choices = [
                ("", pgettext_lazy("the person choosing", "Me")),
                *promiser_choices,
            ]
        else:
            del self.fields["promised_by"]

    def add_service_errors(self, exc: ApplicationError) -> None:
        add_service_errors(self, exc, self.FIELD_MAP)


def add_service_errors(form: forms.Form, exc: ApplicationError, field_map: dict) -> None:
    """Put a service's field errors on the form's fields (the rest as form errors)."""
    placed = False
    for name, messages in exc.fields.items():
        target = field_map.get(name, name)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


class FilterForm(forms.Form):
    """The filter bar: type, person, contact (an account's page), period."""

    kind = forms.MultipleChoiceField(label=_("Type"), required=False, choices=EntryKind.choices)
    author = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int, empty_value=None)
    contact = forms.TypedChoiceField(
        label=_("Contact"), required=False, coerce=int, empty_value=None
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, author_choices=(), contact_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["author"].choices = [("", _("Everyone")), *author_choices]
        if contact_choices:
            self.fields["contact"].choices = [("", _("All contacts")), *contact_choices]
        else:
            del self.fields["contact"]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period is before its start."))
        return data

    def values(self) -> dict:
        """The valid filters (an invalid one is left out, and shown as an error)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "kinds": tuple(data.get("kind") or ()),
            "author_id": data.get("author"),
            "contact_id": data.get("contact"),
            "since": data.get("since"),
            "until": data.get("until") if "until" not in self.errors else None,
        }
