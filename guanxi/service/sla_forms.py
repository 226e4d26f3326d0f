"""The SLA part's page forms. They only collect input: the services validate it (and their
field errors are put back on these forms by ``add_errors``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.errors import ApplicationError

from .data import cn_holidays
from .models import (
    CalendarDayKind,
    CasePriority,
    EscalationAction,
    EscalationTarget,
    EscalationWhen,
)
from .services import business_time

WEEKDAYS = (
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
)
HOURS_HELP = _("For example 09:00-12:00, 13:30-18:00; empty for a day off.")


def add_errors(form: forms.Form, exc: ApplicationError, aliases: dict | None = None) -> None:
    """Show a service's error on the form: on its fields, else above them."""
    aliases = aliases or {}
    placed = False
    for name, messages in exc.fields.items():
        name = aliases.get(name, name)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=60,
        required=False,
        initial="Asia/Shanghai",
        help_text=_("An IANA name such as Asia/Shanghai or Europe/Berlin."),
    )
    is_default = forms.BooleanField(label=_("Default calendar"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number, label in WEEKDAYS:
            self.fields[f"hours_{number}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                help_text=HOURS_HELP if number == 1 else "",
            )

    @classmethod
    def initial_for(cls, calendar) -> dict:
        data = {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "is_default": calendar.is_default,
        }
        for number, _label in WEEKDAYS:
            data[f"hours_{number}"] = business_time.hours_text(
                (calendar.week or {}).get(str(number), [])
            )
        return data

    def values(self) -> dict:
        """The service's input; unreadable hours are reported on their weekday's field."""
        data = self.cleaned_data
        week = {}
        for number, _label in WEEKDAYS:
            try:
                week[str(number)] = business_time.parse_hours_text(data[f"hours_{number}"])
            except business_time.HoursError as exc:
                self.add_error(f"hours_{number}", str(exc.message))
        return {
            "name": data["name"],
            "time_zone": data["time_zone"],
            "is_default": data["is_default"],
            "week": week,
        }


class DayForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=CalendarDayKind.choices)
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    hours = forms.CharField(
        label=_("Working hours"),
        max_length=200,
        required=False,
        help_text=_(
            "Only for a working day; empty: its weekday's hours, or the usual working day's."
        ),
    )


class LoadYearForm(forms.Form):
    year = forms.TypedChoiceField(
        label=_("Year"),
        coerce=int,
        choices=[(y, str(y)) for y in cn_holidays.available_years()],
    )


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    customer_class = forms.ChoiceField(
        label=_("Customer class"),
        required=False,
        choices=[("", _("Any class")), ("A", "A"), ("B", "B"), ("C", "C")],
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Any priority")), *CasePriority.choices],
    )
    calendar_id = forms.ChoiceField(label=_("Working calendar"), choices=())
    first_response_minutes = forms.IntegerField(
        label=_("First response within (business minutes)"),
        min_value=1,
        help_text=_("60 = one working hour; 450 = one working day of 7.5 hours."),
    )
    resolution_minutes = forms.IntegerField(
        label=_("Resolution within (business minutes)"), min_value=1
    )
    warn_at_percent = forms.IntegerField(
        label=_("Warn at this share of the target (%)"), min_value=1, max_value=100, initial=80
    )
    active = forms.BooleanField(label=pgettext_lazy("policy", "Active"), required=False)

    def __init__(self, *args, calendars=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["calendar_id"].choices = [(c.pk, c.name) for c in calendars]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["priority"] = int(data["priority"]) if data.get("priority") else None
        return data


class RuleForm(forms.Form):
    when = forms.ChoiceField(label=_("When"), choices=EscalationWhen.choices)
    target = forms.ChoiceField(
        label=_("Target"), choices=EscalationTarget.choices, initial=EscalationTarget.ANY
    )
    action = forms.ChoiceField(label=_("Action"), choices=EscalationAction.choices)
    notify_assignee = forms.BooleanField(label=_("Notify the assignee"), required=False)
    notify_supervisor = forms.BooleanField(label=_("Notify the queue's supervisor"), required=False)
    user_id = forms.ChoiceField(
        label=_("User"),
        required=False,
        help_text=_("Notify this user too, or reassign to them."),
    )
    queue_id = forms.ChoiceField(
        label=_("Queue"), required=False, help_text=_("Reassign to this queue.")
    )
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=1000, initial=0)

    def __init__(self, *args, users=(), queues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = [("", "—"), *((u.pk, u.full_name) for u in users)]
        self.fields["queue_id"].choices = [("", "—"), *((q.pk, q.name) for q in queues)]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["user_id"] = data.get("user_id") or None
        data["queue_id"] = data.get("queue_id") or None
        return data
