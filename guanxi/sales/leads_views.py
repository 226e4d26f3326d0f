"""The leads part's pages: the list, new lead (by hand or from a call), the lead page
(score and its factors, the first-response timer, activities, status, owner, convert),
the convert form with the duplicate check, import, web forms (admin and the public page),
scoring rules with the predictive model, assignment rules and rep profiles. Views collect
input and render; the services and selectors do the work."""

from __future__ import annotations

from csp.decorators import csp_replace
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.views import actor_scope, error_message, page
from guanxi.platform import permissions
from guanxi.platform.list_views import render_list
from guanxi.platform.models import Action, User

from . import leads_lists
from .leads_forms import (
    AssignmentRuleForm,
    ConvertForm,
    ImportForm,
    LeadEntryForm,
    LogForm,
    RepProfileForm,
    ScoringRuleForm,
    StatusForm,
    WebFormForm,
    add_errors,
)
from .models import LeadStatus
from .objects import CONFIGURATION, LEAD, LEAD_FORM
from .selectors import leads as selectors
from .services import (
    lead_assignment,
    lead_conversion,
    lead_forms,
    lead_import,
    lead_model,
    lead_scoring,
)
from .services import leads as services

STYLES = "css/sales-leads.css"


def _users(workspace):
    return list(User.objects.filter(workspace=workspace, is_active=True).order_by("full_name"))


# --- leads -----------------------------------------------------------------------------------


@page
def lead_list(request):
    return render_list(
        request,
        "sales.leads",
        template="sales/leads/list.html",
        extra={
            "can_create": permissions.can(request.user, LEAD, Action.CREATE),
            "stylesheet": STYLES,
        },
    )


@page
def lead_new(request):
    """New lead by hand; ``?phone=`` (and ``?source=call``) prefill it from a call."""
    permissions.require(request.user, LEAD, Action.CREATE)
    from_call = request.GET.get("source") == "call" or bool(request.GET.get("phone"))
    if request.method == "POST":
        form = LeadEntryForm(request.POST)
        if form.is_valid():
            try:
                lead = services.lead_create(**actor_scope(request), **form.values())
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Lead “%(name)s” added.") % {"name": lead.name})
                return redirect("sales:lead_detail", lead.pk)
    else:
        initial = {"source": "call" if from_call else "manual"}
        if request.GET.get("phone"):
            initial["phone"] = request.GET["phone"][:40]
        form = LeadEntryForm(initial=initial)
    title = gettext("New lead from a call") if from_call else gettext("New lead")
    return render(request, "sales/leads/form.html", {"form": form, "title": title})


def _detail_context(request, lead) -> dict:
    workspace, actor = request.workspace, request.user
    can_update = permissions.can(actor, LEAD, Action.UPDATE)
    model = selectors.active_model(workspace=workspace)
    return {
        "lead": lead,
        "overdue": selectors.is_overdue(lead),
        "timer": leads_lists.timer(lead),
        "explain": lead_scoring.explain(workspace=workspace, lead=lead),
        "factors": lead_model.factors_in_words(lead),
        "model": model,
        "entries": selectors.lead_entries(workspace=workspace, lead=lead),
        "can_update": can_update and lead.status != LeadStatus.CONVERTED,
        "can_assign": services.may_assign_others(actor),
        "users": _users(workspace) if services.may_assign_others(actor) else [],
        "log_form": LogForm(),
        "status_form": StatusForm(initial={"status": lead.status}),
        "stylesheet": STYLES,
    }


@page
def lead_detail(request, pk: int):
    lead = selectors.lead_get(**actor_scope(request), lead_id=pk)
    return render(request, "sales/leads/detail.html", _detail_context(request, lead))


@page
def lead_edit(request, pk: int):
    lead = services.lead_get_for_update(**actor_scope(request), lead_id=pk)
    if request.method == "POST":
        form = LeadEntryForm(request.POST)
        if form.is_valid():
            try:
                services.lead_update(**actor_scope(request), lead_id=lead.pk, **form.values())
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("sales:lead_detail", lead.pk)
    else:
        form = LeadEntryForm(
            initial={name: getattr(lead, name) for name in LeadEntryForm.base_fields}
        )
    return render(
        request,
        "sales/leads/form.html",
        {"form": form, "title": gettext("Change lead"), "lead": lead},
    )


def _back(lead_pk: int):
    return HttpResponseRedirect(reverse("sales:lead_detail", args=[lead_pk]))


@page
@require_POST
def lead_log(request, pk: int):
    form = LogForm(request.POST)
    if form.is_valid():
        try:
            services.lead_log_activity(
                **actor_scope(request),
                lead_id=pk,
                kind=form.cleaned_data["kind"],
                body=form.cleaned_data["body"],
            )
            messages.success(request, gettext("Logged."))
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
    else:
        messages.error(request, gettext("Choose what you did and write what happened."))
    return _back(pk)


@page
@require_POST
def lead_status(request, pk: int):
    form = StatusForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(gettext("Choose a status."))
        services.lead_set_status(
            **actor_scope(request),
            lead_id=pk,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, gettext("Saved."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return _back(pk)


@page
@require_POST
def lead_assign(request, pk: int):
    owner = request.POST.get("owner_id", "")
    try:
        if owner == "auto":
            services.lead_auto_assign(**actor_scope(request), lead_id=pk)
        else:
            services.lead_assign(**actor_scope(request), lead_id=pk, owner_id=owner or None)
        messages.success(request, gettext("Saved."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return _back(pk)


@page
@require_POST
def lead_delete(request, pk: int):
    services.lead_delete(**actor_scope(request), lead_id=pk)
    messages.success(request, gettext("Lead deleted."))
    return redirect("sales:lead_list")


@page
def lead_convert(request, pk: int):
    try:
        check = lead_conversion.conversion_check(**actor_scope(request), lead_id=pk)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return _back(pk)
    lead = check["lead"]
    if request.method == "POST":
        form = ConvertForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                lead = lead_conversion.lead_convert(
                    **actor_scope(request),
                    lead_id=lead.pk,
                    account_id=request.POST.get("account_choice") or None
                    if request.POST.get("account_choice") != "new"
                    else None,
                    contact_id=request.POST.get("contact_choice") or None
                    if request.POST.get("contact_choice") != "new"
                    else None,
                    create_deal=data["create_deal"],
                    deal_name=data["deal_name"],
                    amount=data["amount"],
                    expected_close_date=data["expected_close_date"],
                )
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Lead converted."))
                return _back(lead.pk)
    else:
        form = ConvertForm(initial={"create_deal": True, "deal_name": lead.company or lead.name})
    return render(
        request,
        "sales/leads/convert.html",
        {
            **check,
            "form": form,
            "account_choice": request.POST.get("account_choice", ""),
            "contact_choice": request.POST.get("contact_choice", ""),
            "stylesheet": STYLES,
        },
    )


@page
def lead_import_page(request):
    permissions.require(request.user, LEAD, Action.CREATE)
    job = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = lead_import.lead_import_start(
                    **actor_scope(request),
                    file_name=upload.name,
                    chunks=upload.chunks(),
                    campaign=form.cleaned_data["campaign"],
                )
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
    else:
        form = ImportForm()
    return render(
        request, "sales/leads/import.html", {"form": form, "job": job, "stylesheet": STYLES}
    )


# --- web forms -------------------------------------------------------------------------------


@page
def lead_form_list(request):
    permissions.require(request.user, LEAD_FORM, Action.READ)
    forms = list(selectors.lead_form_list(**actor_scope(request)))
    return render(
        request,
        "sales/leads/webforms.html",
        {
            "forms": forms,
            "can_create": permissions.can(request.user, LEAD_FORM, Action.CREATE),
            "stylesheet": STYLES,
        },
    )


@page
def lead_form_edit(request, pk: int | None = None):
    scope = actor_scope(request)
    webform = selectors.lead_form_get(**scope, form_id=pk) if pk else None
    permissions.require(request.user, LEAD_FORM, Action.UPDATE if webform else Action.CREATE)
    if request.method == "POST" and request.POST.get("op") == "delete" and webform:
        lead_forms.lead_form_delete(**scope, form_id=webform.pk)
        messages.success(request, gettext("Web form deleted."))
        return redirect("sales:lead_form_list")
    if request.method == "POST":
        form = WebFormForm(request.POST)
        if form.is_valid():
            try:
                if webform:
                    webform = lead_forms.lead_form_update(
                        **scope, form_id=webform.pk, **form.cleaned_data
                    )
                else:
                    webform = lead_forms.lead_form_create(**scope, **form.cleaned_data)
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("sales:lead_form_edit", webform.pk)
    elif webform:
        form = WebFormForm(
            initial={
                "name": webform.name,
                "campaign": webform.campaign,
                "fields": webform.fields,
                "thank_you": webform.thank_you,
                "redirect_url": webform.redirect_url,
                "active": webform.active,
            }
        )
    else:
        form = WebFormForm(initial={"active": True, "fields": ["company", "message"]})
    snippet = (
        lead_forms.embed_snippet(webform, base_url=request.build_absolute_uri("/"))
        if webform
        else ""
    )
    return render(
        request,
        "sales/leads/webform_edit.html",
        {"form": form, "webform": webform, "snippet": snippet, "stylesheet": STYLES},
    )


def _public_fields(webform) -> list[dict]:
    labels = {
        "name": gettext("Your name"),
        "phone": gettext("Phone"),
        "email": gettext("E-mail"),
        **{k: str(v) for k, v in lead_forms.OPTIONAL_FIELDS.items()},
    }
    types = {"phone": "tel", "email": "email", "employees": "number"}
    return [
        {"name": n, "label": labels[n], "type": types.get(n, "text")}
        for n in (*lead_forms.ALWAYS, *webform.fields)
    ]


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:45]


@csrf_exempt
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
def public_form(request, public_key: str):
    """The embeddable page (no login, no CSRF cookie: a signed per-render token instead)."""
    webform = selectors.public_form(public_key)
    if webform is None:
        return render(request, "sales/leads/public_missing.html", status=404)
    errors: dict = {}
    values: dict = {}
    if request.method == "POST":
        result = lead_forms.lead_form_submit(
            form=webform, data=request.POST, ip=_client_ip(request)
        )
        if result.accepted:
            if webform.redirect_url and not result.spam:
                return HttpResponseRedirect(webform.redirect_url)
            return render(request, "sales/leads/public_thanks.html", {"webform": webform})
        errors = result.errors
        values = {k: request.POST.get(k, "") for k in (*lead_forms.ALWAYS, *webform.fields)}
    fields = [
        {**f, "value": values.get(f["name"], ""), "errors": errors.get(f["name"], [])}
        for f in _public_fields(webform)
    ]
    response = render(
        request,
        "sales/leads/public_form.html",
        {
            "webform": webform,
            "fields": fields,
            "general_errors": errors.get("__all__", []),
            "token": lead_forms.render_token(webform),
            "honeypot": lead_forms.HONEYPOT,
        },
        status=400 if errors else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


# --- scoring ---------------------------------------------------------------------------------


@page
def lead_scoring_page(request):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    form = ScoringRuleForm()
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "delete":
                lead_scoring.scoring_rule_delete(**scope, rule_id=request.POST.get("rule_id"))
                messages.success(request, gettext("Rule deleted."))
            elif op == "toggle":
                rule = (
                    selectors.scoring_rules(**scope)
                    .filter(pk=request.POST.get("rule_id") or 0)
                    .first()
                )
                if rule is None:
                    raise ApplicationError(gettext("Not found."))
                lead_scoring.scoring_rule_update(**scope, rule_id=rule.pk, active=not rule.active)
                messages.success(request, gettext("Saved."))
            elif op == "retrain":
                model, reason = lead_model.model_retrain(**scope)
                if model is None:
                    messages.error(request, reason)
                else:
                    messages.success(
                        request,
                        gettext("Model trained on %(n)s leads.") % {"n": model.samples},
                    )
            else:
                form = ScoringRuleForm(request.POST)
                if form.is_valid():
                    lead_scoring.scoring_rule_create(**scope, **form.cleaned_data)
                    messages.success(request, gettext("Rule added."))
                    return redirect("sales:lead_scoring")
        except ApplicationError as exc:
            error_message(exc)
            if op in ("delete", "toggle", "retrain"):
                messages.error(request, str(exc.message))
            else:
                add_errors(form, exc)
        if op in ("delete", "toggle", "retrain"):
            return redirect("sales:lead_scoring")
    rules = list(selectors.scoring_rules(**scope))
    return render(
        request,
        "sales/leads/scoring.html",
        {
            "rules": [{"rule": r, "text": lead_scoring.describe(r)} for r in rules],
            "form": form,
            "can_change": can_change,
            "model": selectors.active_model(workspace=request.workspace),
            "readiness": lead_model.readiness(workspace=request.workspace),
            "stylesheet": STYLES,
        },
    )


# --- assignment ------------------------------------------------------------------------------


@page
def lead_assignment_page(request):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    users = _users(request.workspace)
    form = AssignmentRuleForm(users=users)
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "delete":
                lead_assignment.assignment_rule_delete(**scope, rule_id=request.POST.get("rule_id"))
                messages.success(request, gettext("Rule deleted."))
                return redirect("sales:lead_assignment")
            if op == "profile":
                profile = RepProfileForm(request.POST)
                profile.is_valid()
                lead_assignment.rep_profile_save(
                    **scope, user_id=request.POST.get("user_id"), **profile.cleaned_data
                )
                messages.success(request, gettext("Saved."))
                return redirect("sales:lead_assignment")
            form = AssignmentRuleForm(request.POST, users=users)
            if form.is_valid():
                lead_assignment.assignment_rule_create(**scope, **form.values())
                messages.success(request, gettext("Rule added."))
                return redirect("sales:lead_assignment")
        except ApplicationError as exc:
            error_message(exc)
            if op in ("delete", "profile"):
                messages.error(request, str(exc.message))
                return redirect("sales:lead_assignment")
            add_errors(form, exc)
    rules = selectors.assignment_rules(**scope)
    method_labels = dict(lead_assignment.AssignmentMethod.choices)
    return render(
        request,
        "sales/leads/assignment.html",
        {
            "rules": [
                {
                    "rule": r,
                    "method": method_labels.get(r.method, r.method),
                    "conditions": [f"{k}: {', '.join(v)}" for k, v in (r.conditions or {}).items()],
                }
                for r in rules
            ],
            "profiles": selectors.rep_profiles(**scope),
            "form": form,
            "can_change": can_change,
            "now": timezone.now(),
            "stylesheet": STYLES,
        },
    )
