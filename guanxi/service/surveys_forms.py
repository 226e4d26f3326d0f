"""The surveys part's forms: the results filters, the trends filters and the settings."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.activities import localtime

from .models import CaseType, CaseTypeKind, Queue
from .selectors import surveys as selectors
from .services import trends

DEFAULT_DAYS = 90


class ResultsFilterForm(forms.Form):
    """The survey results' filters (GET). Dates are the user's days; empty ``from``: the
    last ``DEFAULT_DAYS`` days."""

    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)
    agent = forms.TypedChoiceField(label=_("Agent"), required=False, coerce=int, empty_value=None)
    queue = forms.TypedChoiceField(label=_("Queue"), required=False, coerce=int, empty_value=None)
    case_type = forms.TypedChoiceField(
        label=_("Case type"), required=False, coerce=int, empty_value=None
    )
    state = forms.ChoiceField(
        label=_("Answers"),
        required=False,
        choices=[
            (selectors.ANSWERED, pgettext_lazy("surveys", "Answered")),
            (selectors.PENDING, _("Not answered yet")),
            (selectors.ALL, pgettext_lazy("surveys", "All")),
        ],
    )
    score = forms.TypedChoiceField(
        label=pgettext_lazy("survey score", "Score"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", pgettext_lazy("surveys", "All"))] + [(n, str(n)) for n in range(1, 6)],
    )

    def __init__(self, *args, workspace, agents, **kwargs):
        super().__init__(*args, **kwargs)
        everyone = [("", pgettext_lazy("surveys", "All"))]
        self.fields["agent"].choices = everyone + [(u.pk, u.full_name) for u in agents]
        self.fields["queue"].choices = everyone + [
            (q.pk, q.name) for q in Queue.objects.in_workspace(workspace).order_by("name", "id")
        ]
        self.fields["case_type"].choices = everyone + [
            (t.pk, t.name) for t in CaseType.objects.in_workspace(workspace).order_by("position")
        ]

    def filters(self, user) -> selectors.SurveyFilters:
        """The selectors' filters from the cleaned form (call after ``is_valid``)."""
        data = getattr(self, "cleaned_data", {}) or {}
        first, last = self.days(user)
        start = localtime.day_bounds(user, localtime.check_day(first))[0]
        end = localtime.day_bounds(user, localtime.check_day(last))[1]
        return selectors.SurveyFilters(
            start=start,
            end=end,
            agent_id=data.get("agent"),
            queue_id=data.get("queue"),
            case_type_id=data.get("case_type"),
            state=data.get("state") or selectors.ANSWERED,
            score=data.get("score"),
        )

    def days(self, user) -> tuple[dt.date, dt.date]:
        data = getattr(self, "cleaned_data", {}) or {}
        today = localtime.local_today(user)
        first = data.get("start") or today - dt.timedelta(days=DEFAULT_DAYS - 1)
        last = data.get("end") or today
        return (first, last) if first <= last else (last, first)


class TrendsFilterForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            (trends.WEEK, _("Weeks")),
            (trends.MONTH, _("Months")),
            (trends.QUARTER, _("Quarters")),
        ],
    )
    kind = forms.ChoiceField(label=_("Cases"), required=False)
    category = forms.TypedChoiceField(
        label=_("Category"), required=False, coerce=int, empty_value=None
    )
    product = forms.TypedChoiceField(
        label=_("Product"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, categories, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (CaseTypeKind.COMPLAINT, _("Complaints")),
            *[(k.value, k.label) for k in CaseTypeKind if k != CaseTypeKind.COMPLAINT],
            ("all", _("Every case")),
        ]
        everyone = [("", pgettext_lazy("surveys", "All"))]
        self.fields["category"].choices = everyone + [(c.pk, str(c)) for c in categories]
        self.fields["product"].choices = everyone + [(p.pk, p.name) for p in products]

    def filters(self) -> trends.TrendFilters:
        data = getattr(self, "cleaned_data", {}) or {}
        kind = data.get("kind") or CaseTypeKind.COMPLAINT
        return trends.clean_filters(
            period=data.get("period") or trends.MONTH,
            kind="" if kind == "all" else kind,
            category_id=data.get("category"),
            product_id=data.get("product"),
        )


class SettingsForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Send a satisfaction survey when a case is resolved"), required=False
    )
    case_types = forms.TypedMultipleChoiceField(
        label=_("Case types surveyed"),
        help_text=_("None ticked: every type."),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_types"].choices = [
            (t.pk, t.name) for t in CaseType.objects.in_workspace(workspace).order_by("position")
        ]
