"""The task form and the quick-add form. They only read input; the task services validate
(past due, end before start, reminder after due, who may be assignee) and the view shows
their errors on the fields."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

from .models import Priority, Recurrence, TaskKind

# "Remind me": minutes before the due time, or a time of one's own.
REMINDER_CHOICES = [
    ("", _("No reminder")),
    ("0", _("At the due time")),
    ("15", _("15 minutes before")),
    ("60", _("1 hour before")),
    ("1440", _("1 day before")),
    ("custom", _("At a time I choose")),
]

# A date input's value is always YYYY-MM-DD: the language's own format (2026/11/30 in
# Chinese) is not a value the browser's date picker accepts, and it would show it empty.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# Service field names → the form fields that show their errors.
ERROR_FIELDS = {
    "due_at": "due_date",
    "ends_at": "ends_at",
    "remind_at": "remind_at",
    "remind_before_minutes": "reminder",
    "assignee": "assignee",
    "account": None,
    "contact": None,
}


class _ServiceErrors:
    def apply_error(self, exc: ApplicationError) -> None:
        placed = False
        for name, messages in exc.fields.items():
            target = ERROR_FIELDS.get(name, name)
            if target in self.fields:
                for message in messages:
                    self.add_error(target, str(message))
                placed = True
        if not placed or not exc.fields:
            self.add_error(None, str(exc.message))


class TaskForm(_ServiceErrors, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"), choices=TaskKind.choices, initial=TaskKind.TODO)
    due_date = forms.DateField(label=_("Due date"), widget=DATE_INPUT)
    due_time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    all_day = forms.BooleanField(label=_("All day"), required=False)
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int, required=False)
    location = forms.CharField(label=_("Location"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reminder = forms.ChoiceField(label=_("Remind me"), choices=REMINDER_CHOICES, required=False)
    remind_at = forms.DateTimeField(
        label=_("Reminder time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    recurrence = forms.ChoiceField(label=_("Repeats"), choices=Recurrence.choices, required=False)
    recurrence_interval = forms.IntegerField(
        label=_("Repeat every (days, weeks, months…)"),
        min_value=1,
        max_value=99,
        initial=1,
        required=False,
    )
    recurrence_until = forms.DateField(label=_("Repeat until"), required=False, widget=DATE_INPUT)
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, assignees=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(u.pk, u.full_name) for u in assignees]
        if len(choices) > 1:
            self.fields["assignee"].choices = choices
        else:
            del self.fields["assignee"]

    def clean(self):
        data = super().clean()
        if data.get("reminder") == "custom" and not data.get("remind_at"):
            self.add_error("remind_at", _("Choose when to be reminded."))
        return data

    def service_values(self) -> dict:
        """The cleaned input as the task services take it."""
        data = self.cleaned_data
        due_date = data["due_date"]
        all_day = bool(data.get("all_day")) or data.get("due_time") is None
        due_at = (
            dt.datetime.combine(due_date, dt.time.min)
            if all_day
            else dt.datetime.combine(due_date, data["due_time"])
        )
        values = {
            "title": data["title"],
            "kind": data["kind"],
            "due_at": due_at,
            "all_day": all_day,
            "ends_at": data.get("ends_at"),
            "priority": data["priority"],
            "location": data.get("location", ""),
            "description": data.get("description", ""),
            "recurrence": data.get("recurrence") or "",
            "recurrence_interval": data.get("recurrence_interval") or 1,
            "recurrence_until": data.get("recurrence_until"),
            "account_id": data.get("account"),
            "contact_id": data.get("contact"),
        }
        if "assignee" in self.fields and data.get("assignee"):
            values["assignee_id"] = data["assignee"]
        reminder = data.get("reminder") or ""
        if reminder == "custom":
            values["remind_at"] = data.get("remind_at")
        elif reminder:
            values["remind_before_minutes"] = int(reminder)
        else:
            values["remind_at"] = None
        return values


class QuickTaskForm(_ServiceErrors, forms.Form):
    """One line: what, when (today by default), and a reminder."""

    title = forms.CharField(label=_("New task"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"), choices=TaskKind.choices, initial=TaskKind.TODO)
    due_date = forms.DateField(label=_("Due date"), widget=DATE_INPUT)
    due_time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    reminder = forms.ChoiceField(
        label=_("Remind me"), choices=REMINDER_CHOICES[:-1], required=False
    )
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def service_values(self) -> dict:
        data = self.cleaned_data
        all_day = data.get("due_time") is None
        values = {
            "title": data["title"],
            "kind": data["kind"],
            "due_at": dt.datetime.combine(data["due_date"], data.get("due_time") or dt.time.min),
            "all_day": all_day,
            "account_id": data.get("account"),
            "contact_id": data.get("contact"),
        }
        if data.get("reminder"):
            values["remind_before_minutes"] = int(data["reminder"])
        return values
