"""Forms of the deal pages. They read what the user typed; the deal services check it (every
bad field reported at once) and their errors are shown on the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

from .models import LostReason, Pipeline, Stage, StageKind
from .services import deals as services


class DealForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    account = forms.CharField(
        label=_("Account"),
        required=False,
        widget=forms.Select(attrs={"data-picker": "account"}),
    )
    contact = forms.CharField(
        label=_("Contact"),
        required=False,
        widget=forms.Select(attrs={"data-picker": "contact"}),
    )
    pipeline = forms.TypedChoiceField(label=_("Pipeline"), required=False, coerce=int)
    stage = forms.TypedChoiceField(label=_("Stage"), required=False, coerce=int)
    amount = forms.CharField(label=_("Amount"), required=False, max_length=30)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)
    expected_close_date = forms.CharField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int)
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)
    source = forms.CharField(label=_("Source"), required=False, max_length=60)

    def __init__(self, *args, workspace, actor, **kwargs):
        super().__init__(*args, **kwargs)
        pipelines = list(
            Pipeline.objects.in_workspace(workspace).filter(active=True).order_by("order", "id")
        )
        self.fields["pipeline"].choices = [("", _("Default pipeline"))] + [
            (p.pk, p.name) for p in pipelines
        ]
        stages = (
            Stage.objects.in_workspace(workspace)
            .filter(pipeline__active=True, kind=StageKind.OPEN)
            .select_related("pipeline")
            .order_by("pipeline__order", "pipeline_id", "order")
        )
        self.fields["stage"].choices = [("", _("First stage"))] + [
            (s.pk, f"{s.pipeline.name} · {s.name}" if len(pipelines) > 1 else s.name)
            for s in stages
        ]
        owners = services.assignable_users(workspace=workspace, actor=actor)
        if len(owners) > 1:
            self.fields["owner"].choices = [(u.pk, u.full_name or u.email) for u in owners]
            self.fields["owner"].initial = actor.pk
        else:
            del self.fields["owner"]
        # The pickers start with the preset customer (from a 360° page) and fill by search.
        from guanxi.customers import selectors as customer_selectors

        scope = {"workspace": workspace, "actor": actor}
        for name, query in (
            ("account", customer_selectors.account_list),
            ("contact", customer_selectors.contact_list),
        ):
            chosen = self.data.get(name) if self.is_bound else self.initial.get(name)
            options = [("", _("— none —"))]
            if chosen and str(chosen).isdigit():
                row = (
                    query(**scope)
                    .select_related(None)
                    .filter(pk=int(chosen))
                    .only("id", "name")
                    .first()
                )
                if row is not None:
                    options.append((str(row.pk), row.name))
            self.fields[name].widget.choices = options

    def service_values(self) -> dict:
        data = self.cleaned_data
        values = {
            "name": data["name"],
            "account": data.get("account") or None,
            "contact": data.get("contact") or None,
            "pipeline": data.get("pipeline") or None,
            "stage": data.get("stage") or None,
            "amount": data.get("amount") or 0,
            "currency": data.get("currency") or None,
            "expected_close_date": data.get("expected_close_date") or None,
            "next_step": data.get("next_step", ""),
            "source": data.get("source", ""),
        }
        if data.get("owner"):
            values["owner"] = data["owner"]
        return values

    def add_service_error(self, exc: ApplicationError) -> None:
        placed = False
        for field, msgs in exc.fields.items():
            target = field if field in self.fields else None
            for message in msgs:
                self.add_error(target, str(message))
                placed = True
        if not placed:
            self.add_error(None, str(exc.message))


class LoseForm(forms.Form):
    reason = forms.TypedChoiceField(label=_("Why was it lost?"), coerce=int)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [
            (r.pk, r.name)
            for r in LostReason.objects.in_workspace(workspace)
            .filter(active=True)
            .order_by("order")
        ]


class DealEditForm(forms.Form):
    """A deal's fields (the stage is changed by moving it; the owner by reassigning)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200)
    amount = forms.CharField(label=_("Amount"), required=False, max_length=30)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)
    probability = forms.IntegerField(label=_("Probability (%)"), min_value=0, max_value=100)
    forecast_category = forms.ChoiceField(label=_("Forecast category"))
    expected_close_date = forms.CharField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)
    next_step_date = forms.CharField(
        label=_("Next step by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    competitors = forms.TypedMultipleChoiceField(
        label=_("Competitors"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, deal, competitors, **kwargs):
        from .models import ForecastCategory

        initial = {
            "version": deal.version,
            "name": deal.name,
            "amount": deal.amount,
            "currency": deal.currency,
            "probability": deal.probability,
            "forecast_category": deal.forecast_category,
            "expected_close_date": deal.expected_close_date.isoformat()
            if deal.expected_close_date
            else "",
            "next_step": deal.next_step,
            "next_step_date": deal.next_step_date.isoformat() if deal.next_step_date else "",
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["forecast_category"].choices = ForecastCategory.choices
        self.fields["competitors"].choices = [(c.pk, c.name) for c in competitors]
        if deal.status != "open":
            for name in ("amount", "currency", "probability", "forecast_category"):
                del self.fields[name]

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version")
        data.pop("competitors", None)
        return data

    def add_service_error(self, exc: ApplicationError) -> None:
        DealForm.add_service_error(self, exc)
