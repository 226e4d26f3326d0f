"""The visit pages: visit settings, an account's visit plan (its 360° panel), generating
visit tasks, plan versus done, the day's route, and check-in / check-out on a phone.
The services and selectors do the work; these views translate between HTTP and them."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import User

from . import localtime
from .objects import TASK, VISIT_PLAN
from .selectors import visits as selectors
from .services import checkins, routes, visits
from .visit_forms import (
    CheckInForm,
    CheckOutForm,
    GenerateForm,
    VisitPlanForm,
    VisitSettingsForm,
)

# --- settings -----------------------------------------------------------------------------------


@page
def visit_settings(request):
    """Administrators: default visits a year by customer type (and class, for later), and
    the distance beyond which a check-in is flagged."""
    permissions.require_admin(request.user)
    current = visits.visit_settings_get(workspace=request.workspace)
    initial = {"far_checkin_meters": current.far_checkin_meters}
    for key, value in (current.visits_per_year_by_type or {}).items():
        initial[f"type__{key}"] = value
    for key, value in (current.visits_per_year_by_class or {}).items():
        initial[f"class__{key}"] = value
    form = VisitSettingsForm(
        request.POST or None, workspace=request.workspace, actor=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            visits.visit_settings_update(
                **actor_scope(request),
                visits_per_year_by_type=form.by_type(),
                visits_per_year_by_class=form.by_class(),
                far_checkin_meters=form.cleaned_data["far_checkin_meters"],
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("activities:visit_settings")
    return render(request, "activities/visit_settings.html", {"form": form})


# --- an account's plan (the 360° panel) ---------------------------------------------------------


def _panel_context(request, account_id, form=None, error: str = "") -> dict:
    plan = visits.visit_plan_get(**actor_scope(request), account_id=account_id)
    year_start = dt.datetime.combine(
        timezone.localdate().replace(month=1, day=1),
        dt.time.min,
        tzinfo=timezone.get_current_timezone(),
    )
    can_update = permissions.can(request.user, VISIT_PLAN, "update")
    if form is None and can_update:
        form = VisitPlanForm(
            initial={
                "visits_per_year": plan.visits_per_year,
                "means": plan.means,
                "notes": plan.notes,
            },
            auto_id="visit-plan-%s",
        )
    return {
        "plan": plan,
        "account": plan.account,
        "next_visits": selectors.account_next_visits(
            workspace=request.workspace, actor=request.user, account=plan.account
        ),
        "done_this_year": selectors.account_done_since(
            workspace=request.workspace, actor=request.user, account=plan.account, since=year_start
        ),
        "can_update": can_update,
        "form": form,
        "error": error,
    }


@page
def visit_plan_panel(request, pk: int):
    """The "Visit plan" section of an account's 360° page (loaded with htmx)."""
    return render(request, "activities/visit_plan_panel.html", _panel_context(request, pk))


def _panel_or_back(request, pk: int, *, form=None, error: str = "", ok: str = ""):
    if request.htmx:
        context = _panel_context(request, pk, form=form, error=error)
        context["ok"] = ok
        return render(request, "activities/visit_plan_panel.html", context)
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    return redirect(
        reverse("customers:account_detail", args=[pk]) + "#section-activities-visit_plan"
    )


@page
@require_POST
def visit_plan_edit(request, pk: int):
    form = VisitPlanForm(request.POST, auto_id="visit-plan-%s")
    if not form.is_valid():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _panel_or_back(request, pk, form=form, error=error)
    try:
        visits.visit_plan_set(**actor_scope(request), account_id=pk, **form.cleaned_data)
    except ApplicationError as exc:
        return _panel_or_back(request, pk, form=form, error=error_message(exc))
    return _panel_or_back(request, pk, ok=gettext("The visit plan was saved."))


@page
@require_POST
def visit_plan_reset(request, pk: int):
    try:
        visits.visit_plan_reset(**actor_scope(request), account_id=pk)
    except ApplicationError as exc:
        return _panel_or_back(request, pk, error=error_message(exc))
    return _panel_or_back(request, pk, ok=gettext("The visit plan follows the default again."))


# --- generating ---------------------------------------------------------------------------------


@page
def visit_generate(request):
    """Start the job that makes the visit tasks of a period; show its progress."""
    permissions.require(request.user, VISIT_PLAN, "update")
    permissions.require(request.user, TASK, "create")
    initial = {"period": visits.current_period("quarter").label}
    form = GenerateForm(
        request.POST or None, workspace=request.workspace, actor=request.user, initial=initial
    )
    job = None
    if request.method == "POST" and form.is_valid():
        try:
            job = visits.visit_plans_generate_start(
                **actor_scope(request),
                period=form.cleaned_data["period"],
                team_id=form.cleaned_data["team"] or None,
                owner_id=form.cleaned_data["owner"] or None,
            )
        except ApplicationError as exc:
            form.apply_error(exc)
    return render(request, "activities/visit_generate.html", {"form": form, "job": job})


# --- plan versus done ---------------------------------------------------------------------------


def _period(request):
    raw = request.GET.get("period") or ""
    if not raw:
        return visits.current_period("quarter"), ""
    try:
        return visits.parse_period(raw), ""
    except ApplicationError as exc:
        return visits.current_period("quarter"), str(exc.message)


def _period_choices(current) -> list[str]:
    year = current.year
    return [
        str(year),
        *[f"{year}-Q{q}" for q in range(1, 5)],
        *[f"{year}-{m:02d}" for m in range(1, 13)],
    ]


@page
def visit_progress(request):
    """Plan versus done per rep for a year, quarter or month (managers see their team and
    the teams below; a rep sees themselves)."""
    permissions.require(request.user, TASK, "read")
    period, error = _period(request)
    if error:
        messages.error(request, error)
    rows = selectors.plan_progress(workspace=request.workspace, actor=request.user, period=period)
    context = {
        "period": period,
        "periods": _period_choices(period),
        "rows": rows,
        "totals": {
            "planned": sum(r.planned for r in rows),
            "done": sum(r.done for r in rows),
            "overdue": sum(r.overdue for r in rows),
        },
        "can_generate": permissions.can(request.user, VISIT_PLAN, "update")
        and permissions.can(request.user, TASK, "create"),
    }
    template = (
        "activities/visit_progress_rows.html" if request.htmx else "activities/visit_progress.html"
    )
    return render(request, template, context)


@page
def visit_progress_rep(request, user_id: int):
    """One rep's visit tasks of the period: planned, done, open or overdue."""
    permissions.require(request.user, TASK, "read")
    period, _error = _period(request)
    state = (
        request.GET.get("state")
        if request.GET.get("state") in selectors.DRILL_STATES
        else "planned"
    )
    rep = routes.route_user(workspace=request.workspace, actor=request.user, user_id=user_id)
    qs = selectors.progress_tasks(
        workspace=request.workspace, actor=request.user, period=period, user_id=rep.pk, state=state
    )
    try:
        rows = paginate(qs, key="due_at", cursor=request.GET.get("cursor") or None, limit=50)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        rows = paginate(qs, key="due_at", limit=50)
    return render(
        request,
        "activities/visit_progress_rep.html",
        {
            "rep": rep,
            "period": period,
            "state": state,
            "states": selectors.DRILL_STATES,
            "page": rows,
            "now": timezone.now(),
        },
    )


# --- the day's route ----------------------------------------------------------------------------


def _route_users(actor: User) -> list[User]:
    """The reps whose route the actor may open (none beyond themselves for a rep)."""
    visibility = permissions.visibility_for(actor, TASK)
    users = User.objects.filter(workspace=actor.workspace_id, is_active=True)
    if visibility == "all":
        pass
    elif visibility == "team_below" and actor.team is not None:
        users = users.filter(team__path__startswith=actor.team.path)
    elif visibility == "team" and actor.team_id is not None:
        users = users.filter(team_id=actor.team_id)
    else:
        return []
    return list(users.order_by("full_name", "pk")[:500])


@page
def route_day(request):
    """A rep's visits of a day in the shortest order, with distances, ETAs and a
    ``geo:`` link per stop; "use my position" sets the start from the browser."""
    tz = localtime.user_zone(request.user)
    raw_day = request.GET.get("date") or ""
    try:
        day = dt.date.fromisoformat(raw_day) if raw_day else timezone.now().astimezone(tz).date()
    except ValueError:
        messages.error(request, gettext("Enter the date as YYYY-MM-DD."))
        day = timezone.now().astimezone(tz).date()
    route = error = None
    try:
        route = routes.day_route(
            **actor_scope(request),
            day=day,
            user_id=request.GET.get("user") or None,
            start_latitude=request.GET.get("start_lat") or None,
            start_longitude=request.GET.get("start_lon") or None,
        )
    except ApplicationError as exc:
        error = error_message(exc)
    return render(
        request,
        "activities/route_day.html",
        {
            "day": day,
            "route": route,
            "error": error,
            "users": _route_users(request.user),
            "selected_user": request.GET.get("user") or "",
            "start_lat": request.GET.get("start_lat", "")[:40],
            "start_lon": request.GET.get("start_lon", "")[:40],
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
    )


# --- check-in and check-out ---------------------------------------------------------------------


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        raise Http404() from None


def _checkin_target(request, source) -> dict:
    """The visit task or customer the check-in page is about, as the actor may see it."""
    task_id, account_id, contact_id = (_int(source.get(k)) for k in ("task", "account", "contact"))
    target = {"task": None, "account": None, "contact": None}
    if task_id is not None:
        task = (
            selectors.visit_tasks(workspace=request.workspace, actor=request.user)
            .select_related("account", "contact")
            .filter(pk=task_id)
            .first()
        )
        if task is None:
            raise Http404()
        target.update(task=task, account=task.account, contact=task.contact)
    else:
        if account_id is not None:
            target["account"] = customer_selectors.account_get(
                **actor_scope(request), account_id=account_id
            )
        if contact_id is not None:
            target["contact"] = customer_selectors.contact_get(
                **actor_scope(request), contact_id=contact_id
            )
    return target


@page
def checkin_start(request):
    """The phone page: check in at a visit (``?task=``) or a customer (``?account=`` /
    ``?contact=``). The script fills the hidden position inputs from the browser."""
    source = request.POST if request.method == "POST" else request.GET
    target = _checkin_target(request, source)
    current = selectors.open_checkin(workspace=request.workspace, user=request.user)
    form = CheckInForm(
        request.POST or None,
        request.FILES or None,
        initial={
            "task": getattr(target["task"], "pk", None),
            "account": getattr(target["account"], "pk", None),
            "contact": getattr(target["contact"], "pk", None),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            checkin = checkins.checkin_create(
                **actor_scope(request),
                task_id=data["task"],
                account_id=None if data["task"] else data["account"],
                contact_id=None if data["task"] else data["contact"],
                latitude=data["latitude"] or None,
                longitude=data["longitude"] or None,
                accuracy_m=data["accuracy"] or None,
                means=data["means"] or None,
                photo=data["photo"],
            )
        except ApplicationError as exc:
            message = error_message(exc)
            form.add_error(None, message)
            for field, msgs in exc.fields.items():
                if field == "photo":
                    form.add_error("photo", [str(m) for m in msgs])
        else:
            messages.success(request, gettext("Checked in."))
            return redirect("activities:checkin_detail", pk=checkin.pk)
    customer = target["contact"] or target["account"]
    return render(
        request,
        "activities/checkin_start.html",
        {
            "form": form,
            "target": target,
            "customer": customer,
            "has_coordinates": customer is not None
            and (
                (target["contact"] is not None and target["contact"].latitude is not None)
                or (target["account"] is not None and target["account"].latitude is not None)
            ),
            "current": current,
        },
        status=400 if request.method == "POST" else 200,
    )


@page
def checkin_detail(request, pk: int):
    """A check-in: where and when, the distance to the customer, the photo; the offer to
    give a customer without coordinates this position; the check-out form while open."""
    checkin = selectors.checkin_get(workspace=request.workspace, actor=request.user, checkin_id=pk)
    form = None
    if checkin.checked_out_at is None and checkin.user_id == request.user.pk:
        form = CheckOutForm(initial={"means": checkin.means}, auto_id="checkout-%s")
    return render(
        request, "activities/checkin_detail.html", _detail_context(request, checkin, form)
    )


def _detail_context(request, checkin, form, error: str = "") -> dict:
    customer = checkin.account or checkin.contact
    return {
        "error": error,
        "checkin": checkin,
        "customer": customer,
        "form": form,
        "is_mine": checkin.user_id == request.user.pk,
        "offer_location": checkin.user_id == request.user.pk
        and checkin.latitude is not None
        and customer is not None
        and customer.latitude is None,
        "far_limit": visits.visit_settings_get(workspace=request.workspace).far_checkin_meters,
    }


@page
@require_POST
def checkin_checkout(request, pk: int):
    form = CheckOutForm(request.POST, auto_id="checkout-%s")
    error = ""
    if form.is_valid():
        try:
            checkins.checkin_checkout(**actor_scope(request), checkin_id=pk, **form.cleaned_data)
        except ApplicationError as exc:
            error = error_message(exc)
        else:
            messages.success(
                request, gettext("Checked out. The visit is on the customer's timeline.")
            )
            return redirect("activities:checkin_detail", pk=pk)
    checkin = selectors.checkin_get(workspace=request.workspace, actor=request.user, checkin_id=pk)
    return render(
        request,
        "activities/checkin_detail.html",
        _detail_context(
            request, checkin, form if checkin.checked_out_at is None else None, error=error
        ),
        status=400,
    )


@page
@require_POST
def checkin_set_location(request, pk: int):
    try:
        checkins.checkin_set_customer_location(**actor_scope(request), checkin_id=pk)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(
            request, gettext("The customer's coordinates are now this check-in's position.")
        )
    return redirect("activities:checkin_detail", pk=pk)


@page
def checkin_photo(request, pk: int):
    """The check-in's photo, to those who may see the check-in (media is not public)."""
    checkin = selectors.checkin_get(workspace=request.workspace, actor=request.user, checkin_id=pk)
    if not checkin.photo:
        raise Http404()
    try:
        handle = checkin.photo.open("rb")
    except FileNotFoundError:
        raise Http404() from None
    content_type = "image/png" if checkin.photo.name.endswith(".png") else "image/jpeg"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
