"""The customer-value pages: the Pareto curve with the top-x figures, the class counts,
the rules, the recompute with its progress and the last runs; and the "Customer value"
section of an account's or a contact's 360° page. The services and selectors do the
work; these views translate between HTTP and them."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers.models import AccountType
from guanxi.platform import permissions
from guanxi.platform.models import Job

from . import charts
from .objects import CUSTOMER_VALUE
from .selectors import value as selectors
from .services import value as services
from .value_forms import RecomputeForm, ValueRulesForm


def _rules_form(request, data=None) -> ValueRulesForm:
    rules = selectors.value_settings_read(workspace=request.workspace)
    initial = {
        "a_top_percent": rules.a_top_percent,
        "a_account_types": rules.a_account_types,
        "b_growth_percent": rules.b_growth_percent,
        "b_years": rules.b_years,
        "nightly_hour": rules.nightly_hour,
    }
    return ValueRulesForm(data, workspace=request.workspace, actor=request.user, initial=initial)


def _page(request, *, rules_form=None, recompute_form=None, status: int = 200):
    scope = actor_scope(request)
    year = request.GET.get("year") or None
    try:
        pareto = selectors.pareto_get(**scope, year=year)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        pareto = selectors.pareto_get(**scope)
    runs = selectors.runs_list(**scope)
    can_update = permissions.can(request.user, CUSTOMER_VALUE, "update")
    running = (
        Job.objects.in_workspace(request.workspace)
        .filter(kind=services.JOB_KIND, state__in=["queued", "running"])
        .select_related("owner")
        .order_by("-id")
        .first()
    )
    last = next((r for r in runs if r.state == "done"), None)
    rules = selectors.value_settings_read(workspace=request.workspace)
    return render(
        request,
        "analytics/value_page.html",
        {
            "pareto": pareto,
            "chart": charts.pareto_option(pareto),
            "last": last,
            "runs": runs,
            "job": running,
            "can_update": can_update,
            "rules": rules,
            "a_type_labels": [
                AccountType(t).label for t in rules.a_account_types or [] if t in AccountType.values
            ],
            "rules_form": rules_form or (_rules_form(request) if can_update else None),
            "recompute_form": recompute_form or RecomputeForm(),
        },
        status=status,
    )


@page
def value_page(request):
    """Customer value: the Pareto curve of a year, top-x figures, class counts and rules."""
    selectors.require_read(request.user, request.workspace)
    return _page(request)


@page
@require_POST
def value_rules(request):
    permissions.require(request.user, CUSTOMER_VALUE, "update")
    form = _rules_form(request, request.POST)
    if form.is_valid():
        try:
            services.value_settings_update(**actor_scope(request), **form.cleaned_data)
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(
                request, gettext("The rules were saved; they apply from the next recompute.")
            )
            return redirect("analytics:value")
    return _page(request, rules_form=form, status=400)


@page
@require_POST
def value_recompute(request):
    permissions.require(request.user, CUSTOMER_VALUE, "update")
    form = RecomputeForm(request.POST)
    if form.is_valid():
        try:
            services.value_recompute_start(**actor_scope(request), year=form.cleaned_data["year"])
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, gettext("The recompute has started."))
        return redirect("analytics:value")
    return _page(request, recompute_form=form, status=400)


@page
def value_panel(request, kind: str, pk: int):
    """The "Customer value" section of a 360° page (loaded with htmx): the class, revenue
    by year and the class history."""
    value = selectors.customer_value_get(**actor_scope(request), kind=kind, record_id=pk)
    return render(request, "analytics/value_panel.html", {"value": value})
