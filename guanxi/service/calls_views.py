"""The calls part's pages: the call log and one call, the telephony settings (provider,
webhook address and secret, a simulated incoming call), the new-caller form and the chooser
a pop opens, click-to-call, and the screen-pop stream (SSE) with its polling fallback.

Screen pops reach the agent's open pages by server push: ``pop_stream`` is an
EventSource stream that looks for the user's unclaimed pops five times a second and closes
after ``CALL_POP_STREAM_SECONDS`` (25 by default) so no worker is held for long; the
browser reconnects by itself, sending ``Last-Event-ID``. Where EventSource is missing the
page asks ``pop_next`` every 2 seconds (htmx). A page shows a pop it heard of only after
claiming it (``pop_claim``): the first page wins, so a pop shows once (see
``services.telephony``).
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.contrib import messages
from django.db import OperationalError
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.activities import localtime
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.integrations import telephony
from guanxi.platform import mail, permissions
from guanxi.platform.models import Action, User

from .calls_forms import CallFilterForm, NewCallerForm, SimulateForm, TelephonyProviderForm
from .models import AgentProfile
from .objects import CALL, CASE, CONFIGURATION
from .selectors import calls as selectors
from .services import telephony as services

CALL_PAGE = 50
POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 10


def _add_errors(form, exc: ApplicationError) -> None:
    placed = False
    for name, errors in exc.fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, str(error))
            placed = True
    if not placed:
        form.add_error(None, error_message(exc))


# --- the call log ----------------------------------------------------------------------------


def _agents(workspace) -> list[User]:
    return list(
        User.objects.filter(
            workspace_id=workspace.pk,
            pk__in=AgentProfile.objects.in_workspace(workspace).values("user_id"),
        ).order_by("full_name", "id")[:200]
    )


@page
def call_list(request):
    permissions.require(request.user, CALL, Action.READ)
    form = CallFilterForm(request.GET, agents=_agents(request.workspace))
    data = form.cleaned_data if form.is_valid() else {}
    start = end = None
    try:
        if data.get("start"):
            start = localtime.day_bounds(request.user, data["start"])[0]
        if data.get("end"):
            end = localtime.day_bounds(request.user, data["end"])[1]
    except ApplicationError:
        start = end = None
    filters = selectors.CallFilters(
        agent_id=data.get("agent"),
        direction=data.get("direction") or "",
        outcome=(data.get("outcome") or "").strip(),
        start=start,
        end=end,
    )
    qs = selectors.call_log(**actor_scope(request), filters=filters)
    result = paginate(
        qs, key="pk", descending=True, cursor=request.GET.get("cursor"), limit=CALL_PAGE
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "page": result,
        "rows": result.items,
        "query": query.urlencode(),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "service/calls/_rows.html", context)
    return render(request, "service/calls/list.html", context)


@page
def call_detail(request, pk: int):
    head, events = selectors.call_get(**actor_scope(request), call_pk=pk)
    return render(request, "service/calls/detail.html", {"call": head, "events": events})


# --- settings --------------------------------------------------------------------------------


def _settings_context(request, *, provider_form=None, simulate_form=None):
    scope = actor_scope(request)
    account = services.telephony_provider(**scope)
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    if provider_form is None:
        provider_form = TelephonyProviderForm(
            initial={
                "provider": account.provider if account is not None else "console",
                "url": (account.options or {}).get("url", "") if account is not None else "",
            }
        )
    webhook_url = ""
    if account is not None:
        webhook_url = mail.absolute_url(reverse("hooks:telephony_event", args=[account.public_key]))
    return {
        "account": account,
        "can_change": can_change,
        "provider_form": provider_form,
        "simulate_form": simulate_form or SimulateForm(workspace=request.workspace),
        "webhook_url": webhook_url,
        "secret": account.secret if account is not None and can_change else "",
        "console": account is None or account.provider == telephony.ConsoleProvider.name,
    }


@page
def call_settings(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return render(request, "service/calls/settings.html", _settings_context(request))


@page
@require_POST
def provider_save(request):
    form = TelephonyProviderForm(request.POST)
    if form.is_valid():
        try:
            services.telephony_provider_update(**actor_scope(request), **form.cleaned_data)
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, gettext("The telephony provider is saved."))
            return redirect("service:call_settings")
    else:
        permissions.require(request.user, CONFIGURATION, Action.UPDATE)
    context = _settings_context(request, provider_form=form)
    return render(request, "service/calls/settings.html", context, status=400)


@page
@require_POST
def secret_rotate(request):
    try:
        services.telephony_provider_rotate_secret(**actor_scope(request))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, gettext("A new secret is made: give it to the call centre."))
    return redirect("service:call_settings")


@page
@require_POST
def simulate(request):
    form = SimulateForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        try:
            received = services.call_simulate(
                **actor_scope(request),
                caller=form.cleaned_data["caller"],
                agent_id=form.cleaned_data["agent"],
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            if received.popped:
                messages.success(request, gettext("The call rings on the agent's screen."))
            else:
                messages.warning(request, gettext("The call is stored; nothing popped."))
            return redirect("service:call_settings")
    else:
        permissions.require(request.user, CONFIGURATION, Action.UPDATE)
    context = _settings_context(request, simulate_form=form)
    return render(request, "service/calls/settings.html", context, status=400)


# --- what a pop opens ------------------------------------------------------------------------


@page
def new_caller(request):
    """An unknown number rang: the agent may save the caller as a customer (and go on to a
    case for the call), or open a case without a customer. Nothing is made until then."""
    permissions.require(request.user, CALL, Action.READ)
    if request.method == "POST":
        form = NewCallerForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                contact = services.new_caller_create(
                    **actor_scope(request),
                    phone=data["phone"],
                    name=data["name"],
                    company=data["company"],
                    call_id=data["call"],
                )
            except ApplicationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, gettext("%(name)s is saved.") % {"name": contact.name})
                if data["open_case"]:
                    return redirect(f"{reverse('service:case_new')}?contact={contact.pk}")
                return redirect("customers:contact_detail", contact.pk)
        status = 400
    else:
        form = NewCallerForm(
            initial={
                "phone": request.GET.get("phone", "")[:40],
                "call": request.GET.get("call", "")[:100],
            }
        )
        status = 200
    phone = form["phone"].value() or ""
    return render(
        request,
        "service/calls/new_caller.html",
        {
            "form": form,
            "phone": phone,
            "can_case": permissions.can(request.user, CASE, Action.CREATE),
        },
        status=status,
    )


@page
def choose(request):
    """Several customers have the caller's number: the agent picks the one on the line."""
    permissions.require(request.user, CALL, Action.READ)
    call_id = request.GET.get("call", "")[:100]
    head = (
        selectors.calls_visible(**actor_scope(request))
        .filter(call_id=call_id)
        .order_by("id")
        .first()
        if call_id
        else None
    )
    if head is None:
        raise NotFound()
    number = head.caller if head.direction == "in" else head.callee
    matches = services.caller_matches(request.workspace, number)
    return render(
        request,
        "service/calls/choose.html",
        {"call": head, "number": number, "matches": matches},
    )


# --- click-to-call ---------------------------------------------------------------------------


def _json_error(exc: ApplicationError) -> JsonResponse:
    return JsonResponse({"error": exc.as_dict()}, status=exc.status)


@require_POST
def dial(request):
    """Click-to-call: ``phone`` in the POST body (CSRF checked). JSON in, a toast's text
    out."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": {"code": "not_signed_in", "message": ""}}, status=401)
    try:
        row = services.call_dial(**actor_scope(request), phone=request.POST.get("phone", ""))
    except PermissionDenied as exc:
        return JsonResponse(
            {"error": {"code": "permission_denied", "message": str(exc.message)}}, status=403
        )
    except ApplicationError as exc:
        return _json_error(exc)
    return JsonResponse(
        {
            "call_id": row.call_id,
            "message": gettext("Calling %(number)s: your phone rings first.")
            % {"number": row.callee},
        }
    )


# --- screen pops -----------------------------------------------------------------------------


def _pop_title(pop) -> str:
    if pop.contact_id and pop.contact is not None:
        who = pop.contact.name
        if pop.account_id and pop.account is not None:
            who = f"{who} ({pop.account.name})"
    elif pop.account_id and pop.account is not None:
        who = pop.account.name
    else:
        who = pop.caller or gettext("an unknown number")
    return gettext("Incoming call from %(who)s") % {"who": who}


def _pop_html(pop) -> str:
    known = bool(pop.contact_id or pop.account_id)
    return render_to_string(
        "service/calls/_pop.html",
        {"pop": pop, "title": _pop_title(pop), "known": known},
    )


def _pop_data(pop) -> dict:
    return {
        "id": pop.pk,
        "call_id": pop.call_id,
        "url": pop.url,
        "claim_url": reverse("service:call_pop_claim", args=[pop.pk]),
        "caller": pop.caller,
        "title": _pop_title(pop),
        "html": _pop_html(pop),
    }


def _last_event_id(request) -> int:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last") or "0"
    try:
        value = int(raw)
    except ValueError:
        return 0
    return value if 0 <= value <= 2**63 - 1 else 0


def pop_stream(request):
    """The user's screen pops as server-sent events (``event: pop``, ``id`` the pop's id,
    ``data`` JSON with the banner's HTML), for ``CALL_POP_STREAM_SECONDS``."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    if not permissions.can(request.user, CALL, Action.READ):
        return HttpResponse(status=403)
    user, workspace = request.user, request.workspace
    after = _last_event_id(request)
    seconds = float(getattr(settings, "CALL_POP_STREAM_SECONDS", 25))
    language = translation.get_language()

    def events():
        last = after
        deadline = time.monotonic() + seconds
        beat = time.monotonic() + HEARTBEAT_SECONDS
        yield "retry: 500\n: open\n\n"
        # Django closes the database connection when the response is closed
        # (request_finished), as for any other request.
        while time.monotonic() < deadline:
            try:
                pops = services.pops_new(actor=user, workspace=workspace, after_id=last)
            except OperationalError:
                pops = []  # a locked SQLite table: ask again on the next tick
            for pop in pops:
                last = max(last, pop.pk)
                with translation.override(language):
                    data = json.dumps(_pop_data(pop), ensure_ascii=False)
                yield f"id: {pop.pk}\nevent: pop\ndata: {data}\n\n"
            if time.monotonic() >= beat:
                beat = time.monotonic() + HEARTBEAT_SECONDS
                yield ": keep-alive\n\n"
            time.sleep(POLL_SECONDS)

    response = StreamingHttpResponse(events(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@require_POST
def pop_claim(request, pk: int):
    """The page that heard of a pop asks to show it: ``{"claimed": true}`` for the first
    page, 409 ``{"claimed": false}`` for any other (CSRF checked)."""
    if not request.user.is_authenticated:
        return JsonResponse({"claimed": False}, status=401)
    if not permissions.can(request.user, CALL, Action.READ):
        return JsonResponse({"claimed": False}, status=403)
    claimed = services.pop_claim(**actor_scope(request), pop_id=pk)
    return JsonResponse({"claimed": claimed}, status=200 if claimed else 409)


@page
def pop_next(request):
    """The polling fallback (htmx every 2 s): the next pop's banner, or 204 (nothing)."""
    permissions.require(request.user, CALL, Action.READ)
    pops = services.pops_claim_next(**actor_scope(request))
    if not pops:
        return HttpResponse(status=204)
    return HttpResponse("".join(_pop_html(pop) for pop in pops))


@page
def widget(request):
    """The top bar's call widget: the pop stream for users with the call right and an
    agent profile, and the dial URL (click-to-call) for those who may call while the
    workspace has a telephony provider. Empty for anyone else."""
    user = request.user
    stream = permissions.can(user, CALL, Action.READ) and (
        AgentProfile.objects.in_workspace(request.workspace).filter(user=user).exists()
    )
    can_dial = (
        permissions.can(user, CALL, Action.CREATE)
        and telephony.telephony_account(request.workspace) is not None
    )
    if not (stream or can_dial):
        return HttpResponse("")
    return render(
        request,
        "service/calls/_widget.html",
        {"stream": stream, "can_dial": can_dial},
    )
