"""The assignment part's pages: queues and agents (setup), the supervisor's board, my
availability (with the top bar's quick toggle), the dispatch panel of a case page, and a
technician's list of their visits. Views collect input and render; the services and
selectors do the work."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.activities import localtime
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.common.views import actor_scope, error_message, page
from guanxi.platform import permissions
from guanxi.platform.models import Action

from .assignment_forms import (
    AgentProfileForm,
    DispatchForm,
    QueueForm,
    ReportForm,
    SkillForm,
    StatusForm,
    add_errors,
)
from .models import AgentStatus, CaseCategory, CaseType, DistributionMethod
from .objects import CONFIGURATION, DISPATCH
from .selectors import assignment as selectors
from .services import agents, dispatch, queues

STYLES = "css/service-assignment.css"


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- queues ------------------------------------------------------------------------------------


@page
def queue_list(request):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    users = selectors.active_users(request.workspace)
    form = QueueForm(users=users, initial={"active": True})
    if request.method == "POST":
        permissions.require(request.user, CONFIGURATION, Action.UPDATE)
        form = QueueForm(request.POST, users=users)
        if form.is_valid():
            try:
                queue = queues.queue_create(**scope, **form.values())
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Queue “%(name)s” added.") % {"name": queue.name})
                return redirect("service:queue_list")
    method_labels = dict(DistributionMethod.choices)
    rows = [
        {"queue": q, "method": method_labels.get(q.method, q.method)}
        for q in selectors.queue_list(**scope)
    ]
    return render(
        request,
        "service/assignment/queues.html",
        {"rows": rows, "form": form, "can_change": can_change, "stylesheet": STYLES},
    )


@page
def queue_edit(request, pk: int):
    scope = actor_scope(request)
    queue = selectors.queue_get(**scope, queue_id=pk)
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    users = selectors.active_users(request.workspace)
    if request.method == "POST":
        permissions.require(request.user, CONFIGURATION, Action.UPDATE)
        if request.POST.get("op") == "delete":
            queues.queue_delete(**scope, queue_id=queue.pk)
            messages.success(request, gettext("Queue deleted."))
            return redirect("service:queue_list")
        form = QueueForm(request.POST, users=users)
        if form.is_valid():
            try:
                queues.queue_update(**scope, queue_id=queue.pk, **form.values())
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("service:queue_edit", queue.pk)
    else:
        members = [str(m.user_id) for m in queue.members.all()]
        form = QueueForm(
            users=users,
            initial={
                "name": queue.name,
                "method": queue.method,
                "supervisor_id": str(queue.supervisor_id or ""),
                "member_ids": members,
                "languages": ", ".join(queue.languages or []),
                "is_default": queue.is_default,
                "active": queue.active,
            },
        )
    return render(
        request,
        "service/assignment/queue_edit.html",
        {"queue": queue, "form": form, "can_change": can_change, "stylesheet": STYLES},
    )


# --- agents ------------------------------------------------------------------------------------


@page
def agent_list(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return render(
        request,
        "service/assignment/agents.html",
        {
            "rows": selectors.agent_rows(**actor_scope(request)),
            "can_change": permissions.can(request.user, CONFIGURATION, Action.UPDATE),
            "stylesheet": STYLES,
        },
    )


def _skill_form(workspace, data=None) -> SkillForm:
    product = apps.get_model("sales", "Product")
    return SkillForm(
        data,
        categories=CaseCategory.objects.in_workspace(workspace)
        .filter(active=True)
        .select_related("parent")
        .order_by("name"),
        products=product.objects.filter(workspace=workspace, active=True).order_by("name")[:500],
        case_types=CaseType.objects.in_workspace(workspace).filter(active=True),
    )


@page
def agent_edit(request, user_id: int):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    rows = selectors.agent_rows(**scope, user_ids=[user_id])
    if not rows:
        raise NotFound()
    row = rows[0]
    can_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    profile = row.profile
    form = AgentProfileForm(
        initial={
            "languages": ", ".join(profile.languages or []) if profile else "",
            "max_open_cases": profile.max_open_cases if profile else 30,
            "phone_extension": profile.phone_extension if profile else "",
            "is_technician": profile.is_technician if profile else False,
            "home_latitude": profile.home_latitude if profile else "",
            "home_longitude": profile.home_longitude if profile else "",
            "regions": ", ".join(profile.regions or []) if profile else "",
            "max_visits_per_day": profile.max_visits_per_day if profile else 5,
        }
    )
    skill_form = _skill_form(request.workspace)
    if request.method == "POST":
        permissions.require(request.user, CONFIGURATION, Action.UPDATE)
        op = request.POST.get("op")
        try:
            if op == "skill_delete":
                agents.agent_skill_delete(
                    **scope, user_id=user_id, skill_id=request.POST.get("skill_id")
                )
                messages.success(request, gettext("Skill removed."))
                return redirect("service:agent_edit", user_id)
            if op == "skill":
                skill_form = _skill_form(request.workspace, request.POST)
                if skill_form.is_valid():
                    agents.agent_skill_set(**scope, user_id=user_id, **skill_form.values())
                    messages.success(request, gettext("Skill saved."))
                    return redirect("service:agent_edit", user_id)
            elif op == "status":
                status = StatusForm(request.POST)
                agents.agent_set_status(
                    **scope,
                    user_id=user_id,
                    status=status.data.get("status", ""),
                )
                messages.success(request, gettext("Saved."))
                return redirect("service:agent_edit", user_id)
            else:
                form = AgentProfileForm(request.POST)
                if form.is_valid():
                    agents.agent_profile_save(**scope, user_id=user_id, **form.cleaned_data)
                    messages.success(request, gettext("Saved."))
                    return redirect("service:agent_edit", user_id)
        except ApplicationError as exc:
            message = error_message(exc)
            if op == "skill":
                add_errors(skill_form, exc)
            elif op in ("skill_delete", "status"):
                messages.error(request, message)
                return redirect("service:agent_edit", user_id)
            else:
                add_errors(form, exc)
    return render(
        request,
        "service/assignment/agent_edit.html",
        {
            "row": row,
            "form": form,
            "skill_form": skill_form,
            "status_form": StatusForm(initial={"status": row.status}),
            "can_change": can_change,
            "stylesheet": STYLES,
        },
    )


# --- the supervisor's board -----------------------------------------------------------------------


def _board_context(request, queue_id) -> dict:
    scope = actor_scope(request)
    queue_rows = selectors.board_queues(**scope)
    if not queue_rows:
        raise PermissionDenied(gettext("You supervise no queue."))
    queue = queue_rows[0]
    if queue_id not in (None, ""):
        queue = next((q for q in queue_rows if str(q.pk) == str(queue_id)), None)
        if queue is None:
            raise NotFound()
    return {
        "queues": queue_rows,
        "board": selectors.board(**scope, queue=queue),
        "stylesheet": STYLES,
    }


@page
def board(request):
    context = _board_context(request, request.GET.get("queue"))
    template = (
        "service/assignment/_board.html" if _is_htmx(request) else "service/assignment/board.html"
    )
    return render(request, template, context)


@page
@require_POST
def board_assign(request, queue_id: int):
    """Give a waiting case to the agent picked on the board (the cases part's override)."""
    from .services import cases as case_services

    context = _board_context(request, queue_id)
    try:
        case_services.case_assign(
            **actor_scope(request),
            case_id=request.POST.get("case_id"),
            assignee_id=request.POST.get("assignee_id") or None,
            queue_id=queue_id,
        )
        messages.success(request, gettext("Assigned."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    if _is_htmx(request):
        context["board"] = selectors.board(**actor_scope(request), queue=context["board"].queue)
        return render(request, "service/assignment/_board.html", context)
    return redirect(f"{reverse('service:board')}?queue={queue_id}")


# --- availability -------------------------------------------------------------------------------


def _availability_context(request) -> dict:
    profile = selectors.agent_profile_of(workspace=request.workspace, user=request.user)
    status = profile.status if profile else AgentStatus.OFFLINE
    return {
        "status": status,
        "status_label": AgentStatus(status).label,
        "choices": AgentStatus.choices,
        "is_agent": profile is not None,
    }


@page
def availability(request):
    """My availability: a page (agents on their phone) and the top bar's toggle."""
    if request.method == "POST":
        form = StatusForm(request.POST)
        try:
            _profile, handed = agents.agent_set_status(
                **actor_scope(request), status=form.data.get("status", "")
            )
        except ApplicationError as exc:
            message = error_message(exc)
            if _is_htmx(request):
                return HttpResponse(message, status=400)
            messages.error(request, message)
        else:
            if not _is_htmx(request):
                if handed:
                    messages.success(
                        request,
                        gettext("Saved. %(n)s waiting cases were handed out.") % {"n": len(handed)},
                    )
                else:
                    messages.success(request, gettext("Saved."))
        if _is_htmx(request):
            return render(
                request,
                "service/assignment/_availability_widget.html",
                _availability_context(request),
            )
        return redirect("service:availability")
    if not agents.may_set_own_status(request.user):
        permissions.require(request.user, "service.case", Action.UPDATE)
    return render(
        request,
        "service/assignment/availability.html",
        {**_availability_context(request), "stylesheet": STYLES},
    )


@page
def availability_widget(request):
    """The top bar's toggle (one query): shown to agents only."""
    if not agents.may_set_own_status(request.user):
        return HttpResponse("")
    return render(
        request, "service/assignment/_availability_widget.html", _availability_context(request)
    )


# --- dispatch -----------------------------------------------------------------------------------


def _day(request) -> dt.date:
    raw = request.GET.get("day") or request.POST.get("day") or ""
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return localtime.local_today(request.user)


def _panel_context(request, case_pk: int, *, form=None, day=None) -> dict:
    from .selectors.cases import case_get

    scope = actor_scope(request)
    case = case_get(**scope, case_id=case_pk)
    can_dispatch = permissions.can(request.user, DISPATCH, Action.CREATE) and case.is_open
    day = day or _day(request)
    suggestions = []
    if can_dispatch:
        suggestions = dispatch.dispatch_suggest(**scope, case_id=case.pk, day=day)
    if form is None and can_dispatch:
        start = dt.datetime.combine(day, dt.time(9, 0))
        form = DispatchForm(
            technicians=[s.technician for s in suggestions],
            initial={
                "technician_id": str(suggestions[0].technician.pk) if suggestions else "",
                "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            },
        )
    return {
        "case": case,
        "day": day,
        "dispatches": selectors.case_dispatches(**scope, case=case),
        "suggestions": suggestions,
        "form": form,
        "can_dispatch": can_dispatch,
        "can_update": permissions.can(request.user, DISPATCH, Action.UPDATE),
        "report_form": ReportForm(),
    }


@page
def case_dispatch(request, pk: int):
    """The dispatch panel of a case page (an htmx partial): the case's visits, the
    technicians ranked for a day with the reasons, and the form to send one."""
    form = None
    if request.method == "POST":
        permissions.require(request.user, DISPATCH, Action.CREATE)
        context = _panel_context(request, pk)
        form = DispatchForm(
            request.POST, technicians=[s.technician for s in context["suggestions"]]
        )
        if form.is_valid():
            try:
                dispatch.dispatch_create(
                    **actor_scope(request),
                    case_id=pk,
                    technician_id=form.cleaned_data["technician_id"],
                    starts_at=form.cleaned_data["starts_at"],
                    ends_at=form.cleaned_data["ends_at"],
                    note=form.cleaned_data["note"],
                )
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Technician dispatched."))
                form = None
    context = _panel_context(request, pk, form=form)
    return render(request, "service/assignment/_dispatch_panel.html", context)


def _after_dispatch_change(request, item):
    if request.POST.get("from") == "case":
        return render(
            request,
            "service/assignment/_dispatch_panel.html",
            _panel_context(request, item.case_id),
        )
    return redirect("service:dispatch_list")


@page
@require_POST
def dispatch_complete(request, pk: int):
    form = ReportForm(request.POST)
    form.is_valid()
    try:
        item = dispatch.dispatch_complete(
            **actor_scope(request), dispatch_id=pk, report=form.cleaned_data.get("report", "")
        )
        messages.success(request, gettext("Visit done."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        item = selectors.dispatch_get(**actor_scope(request), dispatch_id=pk)
    return _after_dispatch_change(request, item)


@page
@require_POST
def dispatch_cancel(request, pk: int):
    try:
        item = dispatch.dispatch_cancel(
            **actor_scope(request), dispatch_id=pk, reason=request.POST.get("reason", "")
        )
        messages.success(request, gettext("Visit cancelled."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        item = selectors.dispatch_get(**actor_scope(request), dispatch_id=pk)
    return _after_dispatch_change(request, item)


@page
def dispatch_list(request):
    """A technician's visits: upcoming (and today's) ones, or all with ``?all=1``."""
    permissions.require(request.user, DISPATCH, Action.READ)
    show_all = request.GET.get("all") == "1"
    items = list(
        selectors.technician_dispatches(**actor_scope(request), upcoming=not show_all)[:200]
    )
    return render(
        request,
        "service/assignment/dispatches.html",
        {
            "items": items,
            "show_all": show_all,
            "report_form": ReportForm(),
            "can_update": permissions.can(request.user, DISPATCH, Action.UPDATE),
            "stylesheet": STYLES,
        },
    )
