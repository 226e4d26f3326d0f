"""The portal's pages: the customers' portal under /portal/<workspace slug>/ (search and read
public articles, sign in with a one-time code, file and follow their own cases), and the
staff's pages under /service/portal/ (deflection figures, portal settings).

Customers have no staff login: ``portal_page`` finds the workspace by its slug, the
visitor's cookie id and their portal session (the cookie holds a token, scoped to the
workspace's portal path), and hands them to the view as ``request.portal``. Views collect
input and render; the services and selectors do the work.
"""

from __future__ import annotations

import functools
import secrets
import zoneinfo
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.views import actor_scope, error_message, page
from guanxi.platform import permissions
from guanxi.platform.models import Action, Workspace

from .models import Article, CaseStatus, PortalSession, PortalSettings
from .objects import CONFIGURATION
from .portal_forms import (
    CaseForm,
    CodeForm,
    PeriodForm,
    PortalSettingsForm,
    ReplyForm,
    SignInForm,
    add_errors,
)
from .selectors import portal as selectors
from .services import portal as services

SESSION_COOKIE = "guanxi_portal"
VISITOR_COOKIE = "guanxi_portal_visitor"
VISITOR_MAX_AGE = 365 * 24 * 60 * 60
STYLES = "css/service-portal.css"
FINAL = (CaseStatus.CLOSED, CaseStatus.CANCELLED)


@dataclass
class Portal:
    workspace: Workspace
    settings: PortalSettings
    session: PortalSession | None
    visitor_key: str
    new_visitor: bool
    refreshed: bool
    # The session's token, when the cookie must be set again (sign-in, sliding expiry).
    token: str = ""

    @property
    def contact(self):
        return self.session.contact if self.session is not None else None

    @property
    def path(self) -> str:
        return reverse("portal:home", args=[self.workspace.slug])


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:45]


def _visitor_key(request) -> tuple[str, bool]:
    raw = request.COOKIES.get(VISITOR_COOKIE, "")
    if 16 <= len(raw) <= 64 and raw.replace("-", "").replace("_", "").isalnum():
        return raw, False
    return secrets.token_urlsafe(18), True


def _set_cookies(response, portal: Portal) -> None:
    common = {
        "path": portal.path,
        "httponly": True,
        "samesite": "Lax",
        "secure": settings.SESSION_COOKIE_SECURE,
    }
    if portal.new_visitor:
        response.set_cookie(VISITOR_COOKIE, portal.visitor_key, max_age=VISITOR_MAX_AGE, **common)
    if portal.token and portal.session is not None:
        max_age = int(services.SESSION_TTL.total_seconds())
        response.set_cookie(SESSION_COOKIE, portal.token, max_age=max_age, **common)


def _not_found(request, portal: Portal):
    return render(
        request,
        "service/portal/not_found.html",
        {"portal": portal, "stylesheet": STYLES},
        status=404,
    )


def _activate_zone(workspace) -> None:
    """Times on the portal's pages are the company's (its customers are mostly nearby)."""
    try:
        timezone.activate(zoneinfo.ZoneInfo(workspace.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


def portal_page(*, signed_in: str = ""):
    """A portal page. ``signed_in="redirect"``: visitors who are not signed in go to the
    sign-in page (and come back after); ``signed_in="404"``: they get "not found" (a case's
    page, so a stranger learns nothing about which cases exist)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            workspace = selectors.portal_workspace(slug)
            if workspace is None:
                raise Http404()
            _activate_zone(workspace)
            row = services.portal_settings(workspace)
            visitor_key, new_visitor = _visitor_key(request)
            token = request.COOKIES.get(SESSION_COOKIE, "")
            session, refreshed = services.portal_session_resolve(workspace=workspace, token=token)
            portal = Portal(
                workspace=workspace,
                settings=row,
                session=session,
                visitor_key=visitor_key,
                new_visitor=new_visitor,
                refreshed=refreshed,
                token=token if refreshed else "",
            )
            request.portal = portal
            if not row.enabled:
                response = render(
                    request,
                    "service/portal/closed.html",
                    {"portal": portal, "stylesheet": STYLES},
                    status=404,
                )
            elif signed_in and session is None:
                if signed_in == "404":
                    response = _not_found(request, portal)
                else:
                    target = reverse("portal:sign_in", args=[slug])
                    response = redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
            else:
                try:
                    response = view(request, *args, **kwargs)
                except (NotFound, Http404):
                    response = _not_found(request, portal)
            _set_cookies(response, portal)
            # Pages for one visitor: never kept by a shared cache.
            response["Cache-Control"] = "private, no-store"
            return response

        return wrapper

    return decorate


def _render(request, template: str, context: dict, status: int = 200):
    return render(
        request,
        template,
        {"portal": request.portal, "stylesheet": STYLES, **context},
        status=status,
    )


def _safe_next(request, value: str) -> str:
    """Only a path inside this workspace's portal (no other site, no other workspace)."""
    value = str(value or "")
    prefix = request.portal.path
    if value.startswith(prefix) and "//" not in value and "\\" not in value:
        return value
    return reverse("portal:cases", args=[request.portal.workspace.slug])


# --- knowledge base --------------------------------------------------------------------------


@portal_page()
def home(request):
    workspace = request.portal.workspace
    return _render(
        request,
        "service/portal/home.html",
        {
            "categories": selectors.public_categories(workspace=workspace),
            "popular": list(
                services.public_articles(workspace)
                .only("id", "title")
                .order_by("-views", "-id")[:5]
            ),
        },
    )


@portal_page()
def search(request):
    portal = request.portal
    query = request.GET.get("q", "")
    row, hits = services.portal_search(
        workspace=portal.workspace,
        visitor_key=portal.visitor_key,
        query=query,
        contact=portal.contact,
    )
    return _render(
        request,
        "service/portal/search.html",
        {"query": services.clean_query(query), "search": row, "hits": hits},
    )


@portal_page()
def category(request, category_id: int):
    workspace = request.portal.workspace
    categories = selectors.public_categories(workspace=workspace)
    current = next((c for c, _n in categories if c.pk == category_id), None)
    if current is None:
        raise NotFound()
    articles = list(
        services.public_articles(workspace)
        .filter(category_id=category_id)
        .only("id", "title", "updated_at")
        .order_by("title", "id")[:200]
    )
    return _render(
        request,
        "service/portal/category.html",
        {"category": current, "articles": articles, "categories": categories},
    )


def _public_article(workspace, article_id: int) -> Article:
    article = (
        services.public_articles(workspace).select_related("category").filter(pk=article_id).first()
    )
    if article is None:
        raise NotFound()
    return article


@portal_page()
def article(request, article_id: int):
    portal = request.portal
    row = _public_article(portal.workspace, article_id)
    search_id = request.GET.get("s", "")
    services.portal_article_opened(
        workspace=portal.workspace,
        article=row,
        visitor_key=portal.visitor_key,
        search_id=search_id,
    )
    return _render(
        request,
        "service/portal/article.html",
        {"article": row, "search_id": search_id if search_id.isdigit() else ""},
    )


@require_POST
@portal_page()
def article_helpful(request, article_id: int):
    portal = request.portal
    row = _public_article(portal.workspace, article_id)
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no"):
        raise NotFound()
    search_id = request.POST.get("s", "")
    services.portal_article_feedback(
        workspace=portal.workspace,
        article=row,
        helpful=answer == "yes",
        visitor_key=portal.visitor_key,
        search_id=search_id,
    )
    if request.htmx:
        return _render(
            request,
            "service/portal/_helpful_thanks.html",
            {"article": row, "helpful": answer == "yes"},
        )
    messages.success(request, gettext("Thank you for telling us."))
    target = reverse("portal:article", args=[portal.workspace.slug, row.pk])
    return redirect(f"{target}?s={search_id}" if search_id.isdigit() else target)


# --- sign-in ---------------------------------------------------------------------------------


@portal_page()
def sign_in(request):
    portal = request.portal
    if request.method == "POST":
        form = SignInForm(request.POST)
        if form.is_valid():
            try:
                services.portal_code_request(
                    workspace=portal.workspace,
                    destination=form.cleaned_data["destination"],
                    ip=_client_ip(request),
                    language=translation.get_language() or "",
                )
            except ApplicationError as exc:
                add_errors(form, exc)
                return _render(
                    request,
                    "service/portal/sign_in.html",
                    {"form": form},
                    status=exc.status if exc.status == 429 else 400,
                )
            code_form = CodeForm(
                initial={
                    "destination": form.cleaned_data["destination"].strip(),
                    "next": form.cleaned_data["next"],
                }
            )
            return _render(
                request,
                "service/portal/sign_in_code.html",
                {"form": code_form, "destination": form.cleaned_data["destination"].strip()},
            )
        return _render(request, "service/portal/sign_in.html", {"form": form}, status=400)
    if portal.session is not None:
        return redirect(_safe_next(request, request.GET.get("next", "")))
    form = SignInForm(initial={"next": request.GET.get("next", "")})
    return _render(request, "service/portal/sign_in.html", {"form": form})


@require_POST
@portal_page()
def sign_in_code(request):
    portal = request.portal
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            session, token = services.portal_code_verify(
                workspace=portal.workspace,
                destination=form.cleaned_data["destination"],
                code=form.cleaned_data["code"],
                ip=_client_ip(request),
            )
        except ApplicationError as exc:
            add_errors(form, exc)
        else:
            portal.session, portal.token = session, token
            return redirect(_safe_next(request, form.cleaned_data["next"]))
    return _render(
        request,
        "service/portal/sign_in_code.html",
        {"form": form, "destination": request.POST.get("destination", "")[:254]},
        status=400,
    )


@require_POST
@portal_page()
def sign_out(request):
    portal = request.portal
    services.portal_session_end(
        workspace=portal.workspace, token=request.COOKIES.get(SESSION_COOKIE, "")
    )
    portal.session, portal.token = None, ""
    response = redirect(portal.path)
    response.delete_cookie(SESSION_COOKIE, path=portal.path, samesite="Lax")
    return response


# --- cases -----------------------------------------------------------------------------------


@portal_page(signed_in="redirect")
def cases(request):
    portal = request.portal
    try:
        result = selectors.portal_cases(
            workspace=portal.workspace,
            contact=portal.contact,
            cursor=request.GET.get("cursor") or None,
        )
    except ApplicationError:
        raise NotFound() from None
    return _render(request, "service/portal/cases.html", {"page": result})


def _products(workspace):
    from guanxi.sales.models import Product

    return list(
        Product.objects.in_workspace(workspace)
        .filter(active=True)
        .only("id", "name")
        .order_by("name", "id")[:500]
    )


@portal_page(signed_in="redirect")
def case_new(request):
    portal = request.portal
    workspace = portal.workspace
    case_types = services.portal_case_types(workspace, portal.settings)
    products = _products(workspace)
    choices = {"case_types": case_types, "products": products}
    suggestions = None
    suggest_search = None
    if request.method == "POST":
        form = CaseForm(request.POST, **choices)
        op = request.POST.get("op", "suggest")
        if op == "file" and form.is_valid():
            try:
                case = services.portal_case_file(
                    workspace=workspace,
                    contact=portal.contact,
                    visitor_key=portal.visitor_key,
                    values=form.cleaned_data,
                    language=translation.get_language() or "",
                )
            except ApplicationError as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Case %(number)s is filed. We will answer you soon.")
                    % {"number": case.number},
                )
                return redirect("portal:case", workspace.slug, case.number)
        else:
            text = "\n".join(
                filter(None, (request.POST.get("subject", ""), request.POST.get("description")))
            )
            suggest_search, suggestions = services.portal_suggest(
                workspace=workspace,
                visitor_key=portal.visitor_key,
                text=text,
                contact=portal.contact,
            )
            if request.htmx:
                return _render(
                    request,
                    "service/portal/_suggestions.html",
                    {"suggestions": suggestions, "search": suggest_search, "asked": bool(text)},
                )
    else:
        form = CaseForm(**choices)
    return _render(
        request,
        "service/portal/case_new.html",
        {
            "form": form,
            "suggestions": suggestions,
            "search": suggest_search,
            "asked": suggestions is not None,
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@portal_page(signed_in="404")
def case_detail(request, number: str):
    portal = request.portal
    case = services.portal_case_get(
        workspace=portal.workspace, contact=portal.contact, number=number
    )
    return _render(
        request,
        "service/portal/case.html",
        {
            "case": case,
            "conversation": selectors.portal_case_messages(workspace=portal.workspace, case=case),
            "reply_form": ReplyForm(),
            "final": case.status in FINAL,
        },
    )


@require_POST
@portal_page(signed_in="404")
def case_reply(request, number: str):
    portal = request.portal
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            case = services.portal_case_reply(
                workspace=portal.workspace,
                contact=portal.contact,
                number=number,
                body=form.cleaned_data["body"],
            )
        except ApplicationError as exc:
            if exc.status == 404:
                raise
            add_errors(form, exc)
        else:
            messages.success(request, gettext("Your message was sent."))
            return redirect("portal:case", portal.workspace.slug, case.number)
    case = services.portal_case_get(
        workspace=portal.workspace, contact=portal.contact, number=number
    )
    return _render(
        request,
        "service/portal/case.html",
        {
            "case": case,
            "conversation": selectors.portal_case_messages(workspace=portal.workspace, case=case),
            "reply_form": form,
            "final": case.status in FINAL,
        },
        status=400,
    )


@require_POST
@portal_page(signed_in="404")
def case_solved(request, number: str):
    portal = request.portal
    try:
        case = services.portal_case_close(
            workspace=portal.workspace, contact=portal.contact, number=number
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        messages.error(request, str(exc.message))
        return redirect("portal:case", portal.workspace.slug, number)
    messages.success(
        request, gettext("Thank you. Case %(number)s is closed.") % {"number": case.number}
    )
    return redirect("portal:case", portal.workspace.slug, case.number)


# --- staff: deflection and settings ----------------------------------------------------------


def _chart(report) -> dict:
    """The ECharts option of the deflection page: searches and deflected ones per day."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [gettext("Searches"), gettext("Deflected")]},
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": [d.day.isoformat() for d in report.days]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": gettext("Searches"), "type": "bar", "data": [d.searches for d in report.days]},
            {
                "name": gettext("Deflected"),
                "type": "bar",
                "data": [d.deflected for d in report.days],
            },
        ],
    }


@page
def deflection_page(request):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    form = PeriodForm(request.GET or None)
    date_from = date_to = None
    if form.is_bound and form.is_valid():
        date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    try:
        report = selectors.deflection_report(**scope, date_from=date_from, date_to=date_to)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        report = selectors.deflection_report(**scope)
    return render(
        request,
        "service/portal/deflection.html",
        {
            "form": form,
            "report": report,
            "chart": _chart(report),
            "portal_url": reverse("portal:home", args=[request.workspace.slug]),
        },
    )


@page
def settings_page(request):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    workspace = request.workspace
    row = services.portal_settings(workspace)
    from .services.case_types import service_setup

    service_setup(workspace)
    from .models import CaseType

    case_types = list(
        CaseType.objects.in_workspace(workspace).filter(active=True).order_by("position", "id")
    )
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    if request.method == "POST":
        form = PortalSettingsForm(request.POST, case_types=case_types)
        if form.is_valid():
            try:
                services.portal_settings_update(**scope, **form.cleaned_data)
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("service:portal_settings")
    else:
        form = PortalSettingsForm(
            initial={
                "enabled": row.enabled,
                "welcome": row.welcome,
                "case_type_ids": row.case_type_ids,
            },
            case_types=case_types,
        )
    return render(
        request,
        "service/portal/settings.html",
        {
            "form": form,
            "can_change": can_change,
            "portal_url": reverse("portal:home", args=[workspace.slug]),
        },
        status=400 if request.method == "POST" else 200,
    )
