"""The surveys part's pages: the results (per agent, the distribution, the answers, CSV), the
settings, a case's survey panel, the customers' "Satisfaction" section on the 360° page,
the complaint trends with the service revenue panel, and the public answer page
``/s/<token>/``. Views collect input and render; the services and selectors do the work."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_http_methods

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User

from . import surveys_charts as charts
from .models import CaseCategory
from .objects import CASE, CONFIGURATION, SURVEY
from .selectors import surveys as selectors
from .services import surveys as services
from .services import trends as trend_services
from .surveys_forms import ResultsFilterForm, SettingsForm, TrendsFilterForm

STYLES = "css/service-surveys.css"
PAGE_SIZE = 50


def _agents(workspace) -> list[User]:
    return list(User.objects.in_workspace(workspace).filter(is_active=True).order_by("full_name"))


# --- results ---------------------------------------------------------------------------------


def _results_form(request) -> ResultsFilterForm:
    form = ResultsFilterForm(
        request.GET or None, workspace=request.workspace, agents=_agents(request.workspace)
    )
    if request.GET:
        form.is_valid()
    return form


@page
def survey_results(request):
    """Results: per agent (sent, answered, response rate, average, distribution), the
    score distribution and the answers themselves, newest first, a page at a time."""
    permissions.require(request.user, SURVEY, Action.READ)
    form = _results_form(request)
    filters = form.filters(request.user)
    scope = actor_scope(request)
    try:
        rows = paginate(
            selectors.survey_results(**scope, filters=filters),
            descending=True,
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect("service:survey_results")
    stats = selectors.agent_stats(**scope, filters=filters)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "days": form.days(request.user),
        "stats": stats,
        "rows": rows,
        "query": query.urlencode(),
        "chart": charts.distribution_option(stats.total.distribution),
        "can_export": permissions.can(request.user, SURVEY, Action.EXPORT),
        "can_configure": permissions.can(request.user, CONFIGURATION, Action.READ),
        "stylesheet": STYLES,
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "service/surveys/_result_rows.html", context)
    return render(request, "service/surveys/results.html", context)


def _csv_text(value) -> str:
    text = "" if value is None else str(value)
    # A cell that starts like a formula is not run by a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class _Echo:
    def write(self, value):
        return value


@page
def survey_export(request):
    """The answers under the page's filters as CSV (UTF-8 with BOM, for Excel)."""
    permissions.require(request.user, SURVEY, Action.EXPORT)
    form = _results_form(request)
    filters = form.filters(request.user)
    qs = selectors.survey_results(**actor_scope(request), filters=filters).order_by("-id")
    audit.log(
        actor=request.user,
        workspace=request.workspace,
        action=AuditAction.EXPORT,
        object_key=SURVEY,
        object_repr=gettext("Satisfaction surveys"),
        changes={"filters": [None, request.GET.urlencode()[:500]]},
    )
    zone = timezone.get_current_timezone()
    header = [
        gettext("Case"),
        gettext("Subject"),
        gettext("Case type"),
        gettext("Queue"),
        gettext("Agent"),
        gettext("Customer"),
        gettext("Channel"),
        pgettext("surveys", "Sent"),
        pgettext("surveys", "Answered"),
        pgettext("survey score", "Score"),
        gettext("Comment"),
    ]

    def when(value):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    def lines():
        writer = csv.writer(_Echo())
        yield "\ufeff" + writer.writerow(header)
        for s in qs.iterator(chunk_size=1000):
            case = s.case
            customer = s.contact.name if s.contact_id else (s.account.name if s.account_id else "")
            yield writer.writerow(
                [
                    _csv_text(v)
                    for v in (
                        case.number,
                        case.subject,
                        case.case_type.name,
                        case.queue.name if case.queue_id else "",
                        s.agent.full_name if s.agent_id else "",
                        customer,
                        s.get_channel_display(),
                        when(s.sent_at),
                        when(s.answered_at),
                        s.score if s.score is not None else "",
                        s.comment,
                    )
                ]
            )

    first, last = form.days(request.user)
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="surveys-{first.isoformat()}-{last.isoformat()}.csv"'
    )
    return response


# --- settings ----------------------------------------------------------------------------------


@page
def survey_settings_page(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    current = services.survey_settings(request.workspace)
    if request.method == "POST":
        form = SettingsForm(request.POST, workspace=request.workspace)
        if form.is_valid():
            try:
                services.survey_settings_update(
                    **actor_scope(request),
                    enabled=form.cleaned_data["enabled"],
                    case_type_ids=form.cleaned_data["case_types"],
                )
            except ApplicationError as exc:
                form.add_error(None, error_message(exc))
            else:
                messages.success(request, gettext("Saved."))
                return redirect("service:survey_settings")
    else:
        form = SettingsForm(
            workspace=request.workspace,
            initial={"enabled": current.enabled, "case_types": current.case_type_ids},
        )
    return render(
        request,
        "service/surveys/settings.html",
        {"form": form, "can_change": can_change, "stylesheet": STYLES},
    )


# --- a case's surveys (the case page loads this panel) -----------------------------------------


@page
def case_survey_panel(request, case_id: int):
    """The satisfaction of one case: each resolution round's survey and its answer."""
    from .selectors.cases import cases_visible

    permissions.require(request.user, SURVEY, Action.READ)
    scope = actor_scope(request)
    if not cases_visible(**scope).filter(pk=case_id).exists():
        raise Http404()
    surveys = selectors.case_surveys(**scope, case_id=case_id)
    return render(
        request,
        "service/surveys/_case_survey_panel.html",
        {"surveys": surveys, "now": timezone.now()},
    )


# --- the 360° page's section ----------------------------------------------------------------------


def customer_section(request, object_key: str, record) -> dict | None:
    """A customer's last scores (one query); hidden without the right to read surveys."""
    if not permissions.can(request.user, SURVEY, Action.READ):
        return None
    is_account = object_key == "customers.account"
    surveys = selectors.customer_surveys(
        **actor_scope(request),
        account_id=record.pk if is_account else None,
        contact_id=None if is_account else record.pk,
    )
    if not surveys:
        return None
    answered = [s.score for s in surveys]
    return {
        "surveys": surveys,
        "average": round(sum(answered) / len(answered), 1),
        "low_score": services.LOW_SCORE,
    }


# --- trends ------------------------------------------------------------------------------------


@page
def trends_page(request):
    """Complaint trends by period, category and product, with charts; the service revenue
    panel for those who may read orders."""
    permissions.require(request.user, CASE, Action.READ)
    from guanxi.sales.models import Product

    workspace = request.workspace
    categories = list(
        CaseCategory.objects.in_workspace(workspace)
        .filter(active=True)
        .select_related("parent")
        .order_by("parent__name", "name", "id")
    )
    products = list(
        Product.objects.in_workspace(workspace).filter(active=True).order_by("name", "id")[:500]
    )
    form = TrendsFilterForm(request.GET or None, categories=categories, products=products)
    try:
        if request.GET and not form.is_valid():
            raise ApplicationError(gettext("Some filters are not valid."))
        filters = form.filters()
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        filters = trend_services.clean_filters()
    data = trend_services.complaint_trends(**actor_scope(request), filters=filters)
    revenue = trend_services.service_revenue(**actor_scope(request), start=data.start, end=data.end)
    return render(
        request,
        "service/surveys/trends.html",
        {
            "form": form,
            "trends": data,
            "revenue": revenue,
            "charts": {
                "volume": charts.volume_option(data),
                "resolution": charts.resolution_option(data),
                "categories": charts.categories_option(data),
                "category_movers": charts.movers_option(data.categories),
                "product_movers": charts.movers_option(data.products),
            },
            "stylesheet": STYLES,
        },
    )


# --- the public page ---------------------------------------------------------------------------


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:45]


def _language(request, survey) -> str:
    chosen = request.GET.get("lang", "")
    if chosen in services.SURVEY_LANGUAGES:
        return chosen
    if survey is not None:
        return services.survey_language(survey.case, survey.workspace)
    return translation.get_language() or "zh-hans"


def _public(request, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    response = render(request, f"service/surveys/{template}", context, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def survey_answer_page(request, token: str):
    """``/s/<token>/``: the customer's score (1–5) and comment, once, without a login."""
    answering = request.method == "POST"
    if services.survey_rate_limited(ip=_client_ip(request), answering=answering):
        return _public(request, "public_message.html", {"state": "limited"}, status=429)
    found = services.survey_lookup(token)
    survey = found.survey
    with services.in_language(_language(request, survey)):
        base = {
            "survey": survey,
            "workspace_name": survey.workspace.name if survey is not None else "",
            "path": request.path,
            "languages": services.SURVEY_LANGUAGES,
            "language": translation.get_language(),
        }
        if found.state == services.SurveyState.UNKNOWN:
            return _public(request, "public_message.html", {**base, "state": "unknown"}, status=404)
        if found.state == services.SurveyState.EXPIRED:
            return _public(request, "public_message.html", {**base, "state": "expired"}, status=410)
        if found.state == services.SurveyState.ANSWERED:
            return _public(request, "public_message.html", {**base, "state": "answered"})
        errors: dict = {}
        if answering:
            try:
                services.survey_answer(
                    token=token,
                    score=request.POST.get("score"),
                    comment=request.POST.get("comment", ""),
                )
            except services.SurveyClosed as exc:
                status = {"answered": 200, "expired": 410}.get(exc.state, 404)
                return _public(
                    request, "public_message.html", {**base, "state": exc.state}, status=status
                )
            except ApplicationError as exc:
                errors = {k: [str(m) for m in v] for k, v in exc.fields.items()} or {
                    "__all__": [str(exc.message)]
                }
            else:
                return _public(request, "public_message.html", {**base, "state": "thanks"})
        return _public(
            request,
            "public_answer.html",
            {
                **base,
                "scores": [
                    (5, pgettext("survey score", "Very satisfied")),
                    (4, pgettext("survey score", "Satisfied")),
                    (3, pgettext("survey score", "Neutral")),
                    (2, pgettext("survey score", "Dissatisfied")),
                    (1, pgettext("survey score", "Very dissatisfied")),
                ],
                "chosen": request.POST.get("score", "")
                if answering
                else request.GET.get("score", ""),
                "comment": request.POST.get("comment", "") if answering else "",
                "errors": errors,
                "general_errors": errors.get("__all__", []),
                "comment_max": services.COMMENT_MAX,
            },
            status=400 if errors else 200,
        )
