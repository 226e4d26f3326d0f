"""The SLA part's pages: the SLA dashboard, the policies with their escalation rules, and the
working calendars (week hours, holidays and adjusted working days, loading a year of
Chinese public holidays, a month preview). Views collect input and render; the services
and selectors do the work."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from guanxi.common.errors import ApplicationError
from guanxi.common.views import actor_scope, error_message, page
from guanxi.platform import permissions
from guanxi.platform.models import Action, User

from .models import EscalationAction, Queue
from .objects import CONFIGURATION
from .selectors import sla as selectors
from .services import business_time
from .services import sla as services
from .sla_forms import CalendarForm, DayForm, LoadYearForm, PolicyForm, RuleForm, add_errors

STYLES = "css/service-sla.css"


def duration(minutes: int | None) -> str:
    """Business minutes in words: "30 min", "4 h", "2 d 1 h" (a day of 7.5 hours)."""
    if not minutes:
        return "—"
    days, rest = divmod(int(minutes), services.DAY)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(gettext("%(n)s d") % {"n": days})
    if hours:
        parts.append(gettext("%(n)s h") % {"n": hours})
    if mins:
        parts.append(gettext("%(n)s min") % {"n": mins})
    return " ".join(parts)


# --- charts (ECharts options as plain JSON; static/js/charts.js draws them) -----------------------

GRID = {"left": 48, "right": 16, "top": 32, "bottom": 40, "containLabel": True}


def _states_chart(board) -> dict:
    labels = {
        "on_track": gettext("On track"),
        "warned": gettext("Warned"),
        "breached": gettext("Breached"),
        "paused": gettext("Paused (waiting on the customer)"),
    }
    colours = {
        "on_track": "#1b7f3b",
        "warned": "#b54708",
        "breached": "#b42318",
        "paused": "#667085",
    }
    return {
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "series": [
            {
                "name": gettext("Open cases"),
                "type": "pie",
                "radius": ["40%", "70%"],
                "label": {"show": False},
                "data": [
                    {"name": labels[k], "value": v, "itemStyle": {"color": colours[k]}}
                    for k, v in board.states.items()
                    if v
                ],
            }
        ],
    }


def _breaches_chart(board) -> dict:
    return {
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "xAxis": {
            "type": "category",
            "data": [d.strftime("%m-%d") for d, _n in board.breaches_per_day],
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": gettext("Breaches"),
                "type": "bar",
                "itemStyle": {"color": "#b42318"},
                "data": [n for _d, n in board.breaches_per_day],
            }
        ],
    }


def _attainment_chart(board) -> dict:
    labels = [r.customer_class or gettext("No class") for r in board.by_class]
    return {
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "min": 0, "max": 100},
        "series": [
            {
                "name": gettext("First response met (%)"),
                "type": "bar",
                "data": [r.response_percent for r in board.by_class],
            },
            {
                "name": gettext("Resolution met (%)"),
                "type": "bar",
                "data": [r.resolution_percent for r in board.by_class],
            },
        ],
    }


# --- the dashboard ---------------------------------------------------------------------------


def _risk_rows(board) -> list[dict]:
    rows = []
    for case in board.at_risk:
        breached = bool(
            (case.response_breached_at and case.first_response_at is None)
            or case.resolution_breached_at
        )
        rows.append(
            {
                "case": case,
                "due": case.next_due,
                "breached": breached,
                "customer": case.account or case.contact,
            }
        )
    return rows


@page
def sla_dashboard(request):
    """Open cases by SLA state, breaches per day, attainment by class and priority, the
    median first response, and the cases at risk."""
    board = selectors.sla_dashboard(**actor_scope(request))
    return render(
        request,
        "service/sla/dashboard.html",
        {
            "board": board,
            "charts": {
                "states": _states_chart(board),
                "breaches": _breaches_chart(board),
                "attainment": _attainment_chart(board),
            },
            "median": duration(board.median_first_response),
            "risk_rows": _risk_rows(board),
            "can_configure": permissions.can(request.user, CONFIGURATION, Action.READ),
            "stylesheet": STYLES,
        },
    )


# --- policies --------------------------------------------------------------------------------


def _can_change(request) -> bool:
    return permissions.can(request.user, CONFIGURATION, Action.UPDATE)


@page
def sla_policies(request):
    """The policies (most specific first applies) and a form to add one. A workspace's
    first visit makes the defaults (as its first case would)."""
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    services.sla_setup(request.workspace)
    policies = list(selectors.policy_list(**scope))
    calendars = list(selectors.calendar_list(**scope))
    form = PolicyForm(calendars=calendars, initial={"active": True, "warn_at_percent": 80})
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "delete":
                services.sla_policy_delete(**scope, policy_id=request.POST.get("policy_id"))
                messages.success(request, gettext("Policy deleted."))
                return redirect("service:sla_policies")
            form = PolicyForm(request.POST, calendars=calendars)
            if form.is_valid():
                policy = services.sla_policy_create(**scope, **form.values())
                messages.success(request, gettext("Policy added."))
                return redirect("service:sla_policy", policy.pk)
        except ApplicationError as exc:
            text = error_message(exc)
            if op == "delete":
                messages.error(request, text)
                return redirect("service:sla_policies")
            add_errors(form, exc)
    return render(
        request,
        "service/sla/policies.html",
        {
            "rows": [
                {
                    "policy": p,
                    "response": duration(p.first_response_minutes),
                    "resolution": duration(p.resolution_minutes),
                }
                for p in policies
            ],
            "form": form,
            "can_change": _can_change(request),
            "stylesheet": STYLES,
        },
    )


def _rule_text(rule) -> str:
    if rule.action == EscalationAction.NOTIFY:
        whom = []
        if rule.notify_assignee:
            whom.append(gettext("the assignee"))
        if rule.notify_supervisor:
            whom.append(gettext("the queue's supervisor"))
        if rule.user_id:
            whom.append(rule.user.full_name)
        return gettext("Notify %(whom)s") % {"whom": ", ".join(whom)}
    if rule.action == EscalationAction.REASSIGN:
        to = rule.queue.name if rule.queue_id else (rule.user.full_name if rule.user_id else "—")
        return gettext("Reassign to %(to)s") % {"to": to}
    return gettext("Raise the priority one step")


@page
def sla_policy(request, pk: int):
    """One policy: change it, and its escalation rules (add, delete)."""
    scope = actor_scope(request)
    policy = selectors.policy_detail(**scope, policy_id=pk)
    calendars = list(selectors.calendar_list(**scope))
    users = list(
        User.objects.filter(workspace=request.workspace, is_active=True).order_by("full_name")
    )
    queues = list(Queue.objects.in_workspace(request.workspace).order_by("name"))
    form = PolicyForm(
        calendars=calendars,
        initial={
            "name": policy.name,
            "customer_class": policy.customer_class,
            "priority": policy.priority or "",
            "calendar_id": policy.calendar_id,
            "first_response_minutes": policy.first_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "warn_at_percent": policy.warn_at_percent,
            "active": policy.active,
        },
    )
    rule_form = RuleForm(users=users, queues=queues, initial={"notify_assignee": True})
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "delete_rule":
                services.escalation_rule_delete(
                    **scope, policy_id=policy.pk, rule_id=request.POST.get("rule_id")
                )
                messages.success(request, gettext("Rule deleted."))
                return redirect("service:sla_policy", policy.pk)
            if op == "add_rule":
                rule_form = RuleForm(request.POST, users=users, queues=queues)
                if rule_form.is_valid():
                    services.escalation_rule_create(
                        **scope, policy_id=policy.pk, **rule_form.values()
                    )
                    messages.success(request, gettext("Rule added."))
                    return redirect("service:sla_policy", policy.pk)
            else:
                form = PolicyForm(request.POST, calendars=calendars)
                if form.is_valid():
                    services.sla_policy_update(**scope, policy_id=policy.pk, **form.values())
                    messages.success(request, gettext("Saved."))
                    return redirect("service:sla_policy", policy.pk)
        except ApplicationError as exc:
            text = error_message(exc)
            if op == "delete_rule":
                messages.error(request, text)
                return redirect("service:sla_policy", policy.pk)
            add_errors(rule_form if op == "add_rule" else form, exc)
    rules = list(selectors.policy_rules(**scope, policy=policy))
    return render(
        request,
        "service/sla/policy.html",
        {
            "policy": policy,
            "form": form,
            "rule_form": rule_form,
            "rules": [{"rule": r, "text": _rule_text(r)} for r in rules],
            "can_change": _can_change(request),
            "stylesheet": STYLES,
        },
    )


# --- calendars -------------------------------------------------------------------------------


@page
def sla_calendars(request):
    """The working calendars and a form to add one (the defaults made on a first visit)."""
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    services.sla_setup(request.workspace)
    if request.method == "POST":
        form = CalendarForm(request.POST)
        if form.is_valid():
            values = form.values()
            if form.is_valid():
                try:
                    calendar = services.calendar_create(**scope, **values)
                except ApplicationError as exc:
                    error_message(exc)
                    add_errors(form, exc)
                else:
                    messages.success(request, gettext("Calendar added."))
                    return redirect("service:sla_calendar", calendar.pk)
    else:
        form = CalendarForm(
            initial={
                "time_zone": request.workspace.time_zone or "Asia/Shanghai",
                **{f"hours_{d}": "09:00-12:00, 13:30-18:00" for d in range(1, 6)},
            }
        )
    calendars = list(selectors.calendar_list(**scope))
    return render(
        request,
        "service/sla/calendars.html",
        {
            "calendars": calendars,
            "form": form,
            "can_change": _can_change(request),
            "stylesheet": STYLES,
        },
    )


def _month_context(request, calendar) -> dict:
    today = timezone.now().date()
    month = selectors.parse_month(request.GET.get("month"), today=today)
    preview = selectors.calendar_month(**actor_scope(request), calendar=calendar, month=month)
    hours = round(preview.minutes / 60, 1)
    return {
        "calendar": calendar,
        "preview": preview,
        "month_hours": gettext("%(n)s h") % {"n": f"{hours:g}"},
    }


@page
def sla_calendar(request, pk: int):
    """One calendar: its week hours, its special days (add, change, delete), loading a year
    of Chinese public holidays, and the month preview."""
    scope = actor_scope(request)
    calendar = selectors.calendar_detail(**scope, calendar_id=pk)
    form = CalendarForm(initial=CalendarForm.initial_for(calendar))
    day_form = DayForm(initial={"kind": "holiday"}, prefix="day")
    year_form = LoadYearForm(initial={"year": timezone.now().year})
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "delete":
                services.calendar_delete(**scope, calendar_id=calendar.pk)
                messages.success(request, gettext("Calendar deleted."))
                return redirect("service:sla_calendars")
            if op == "delete_day":
                services.calendar_day_delete(
                    **scope, calendar_id=calendar.pk, day_id=request.POST.get("day_id")
                )
                messages.success(request, gettext("Day deleted."))
                return redirect("service:sla_calendar", calendar.pk)
            if op == "add_day":
                day_form = DayForm(request.POST, prefix="day")
                if day_form.is_valid():
                    services.calendar_day_create(
                        **scope, calendar_id=calendar.pk, **day_form.cleaned_data
                    )
                    messages.success(request, gettext("Day added."))
                    return redirect("service:sla_calendar", calendar.pk)
            elif op == "load_year":
                year_form = LoadYearForm(request.POST)
                if year_form.is_valid():
                    result = services.calendar_load_holidays(
                        **scope, calendar_id=calendar.pk, year=year_form.cleaned_data["year"]
                    )
                    messages.success(
                        request,
                        ngettext(
                            "%(added)s day added (%(kept)s already there).",
                            "%(added)s days added (%(kept)s already there).",
                            result["added"],
                        )
                        % result,
                    )
                    return redirect("service:sla_calendar", calendar.pk)
            else:
                form = CalendarForm(request.POST)
                if form.is_valid():
                    values = form.values()
                    if form.is_valid():
                        services.calendar_update(**scope, calendar_id=calendar.pk, **values)
                        messages.success(request, gettext("Saved."))
                        return redirect("service:sla_calendar", calendar.pk)
        except ApplicationError as exc:
            text = error_message(exc)
            if op in ("delete", "delete_day"):
                messages.error(request, text)
                return redirect("service:sla_calendar", calendar.pk)
            target = {"add_day": day_form, "load_year": year_form}.get(op, form)
            add_errors(target, exc, aliases={"week": "hours_1"})
    month = _month_context(request, calendar)
    year = month["preview"].first.year
    days = list(selectors.calendar_days(**scope, calendar=calendar, year=year))
    return render(
        request,
        "service/sla/calendar.html",
        {
            **month,
            "year": year,
            "years": selectors.calendar_years(workspace=request.workspace, calendar=calendar),
            "form": form,
            "day_form": day_form,
            "year_form": year_form,
            "days": [{"day": d, "hours": business_time.hours_text(d.hours)} for d in days],
            "can_change": _can_change(request),
            "stylesheet": STYLES,
        },
    )


@page
def sla_calendar_month(request, pk: int):
    """The month preview alone (htmx swaps it in when the user moves between months)."""
    calendar = selectors.calendar_detail(**actor_scope(request), calendar_id=pk)
    context = {**_month_context(request, calendar), "stylesheet": STYLES}
    if request.htmx:
        return render(request, "service/sla/_month.html", context)
    return render(request, "service/sla/month.html", context)


@page
def sla_calendar_day(request, pk: int, day_pk: int):
    """Change one special day (its date, kind, name or hours)."""
    scope = actor_scope(request)
    row = services.calendar_day_get(workspace=request.workspace, calendar_id=pk, day_id=day_pk)
    permissions.require(request.user, CONFIGURATION, Action.UPDATE)
    if request.method == "POST":
        form = DayForm(request.POST)
        if form.is_valid():
            try:
                services.calendar_day_update(
                    **scope, calendar_id=pk, day_id=row.pk, **form.cleaned_data
                )
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("service:sla_calendar", pk)
    else:
        form = DayForm(
            initial={
                "day": row.day,
                "kind": row.kind,
                "name": row.name,
                "hours": business_time.hours_text(row.hours),
            }
        )
    return render(
        request,
        "service/sla/day.html",
        {"form": form, "row": row, "calendar": row.calendar, "stylesheet": STYLES},
    )
