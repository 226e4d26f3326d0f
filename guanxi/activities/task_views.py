"""Task pages: my tasks and the team's (filters, keyset pages, bulk complete), the task
form, quick "done"/cancel/reopen buttons (htmx), quick add, "my day", a customer's open
tasks (a 360° panel), and notifications (the bell, the list, mark read). Views collect
input and render; the task services and selectors do the work."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, page
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import Action, Visibility

from . import localtime
from .models import TaskKind, TaskStatus
from .objects import TASK
from .selectors import tasks as selectors
from .services import notifications
from .services import tasks as services
from .task_forms import REMINDER_CHOICES, QuickTaskForm, TaskForm

PAGE_SIZE = 50
REMINDER_MINUTES = {int(v) for v, _label in REMINDER_CHOICES if v.isdigit()}


def url_or_none(name: str, *args, query: str = "") -> str | None:
    """A page's URL, or None while the part that serves it is not installed."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def checkin_url(task) -> str | None:
    if task.kind != TaskKind.VISIT:
        return None
    return url_or_none("activities:checkin_start", query=f"task={task.pk}")


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def is_manager(user) -> bool:
    return user.role.is_admin or (
        permissions.can(user, TASK, Action.READ)
        and permissions.visibility_for(user, TASK) != Visibility.OWN
    )


# --- lists ------------------------------------------------------------------------------------


def _task_list(request, *, team: bool):
    permissions.require(request.user, TASK, Action.READ)
    if team and not is_manager(request.user):
        raise PermissionDenied(gettext("Only managers see their team's tasks."))
    if request.method == "POST":
        return _bulk(request)
    params = request.GET.copy()
    if not team:
        params["assignee_id"] = str(request.user.pk)
    elif "status" not in params:
        params["status"] = TaskStatus.OPEN
    if not team and "status" not in params:
        params["status"] = TaskStatus.OPEN
    error = None
    qs = selectors.task_list(**actor_scope(request))
    try:
        filters = selectors.parse_filters(params)
        qs = selectors.filter_tasks(qs, filters, actor=request.user)
        page = paginate(qs, key="due_at", cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ApplicationError as exc:
        error = exc
        page = paginate(selectors.task_list(**actor_scope(request)).none(), key="due_at")
    now = timezone.now()
    for task in page.items:
        task.is_overdue = selectors.is_overdue(task, actor=request.user, now=now)
        task.checkin_url = checkin_url(task)
    next_params = request.GET.copy()
    next_params["cursor"] = page.next_cursor or ""
    context = {
        "team": team,
        "tasks": page.items,
        "next_query": next_params.urlencode() if page.next_cursor else None,
        "filters": {k: request.GET.get(k, "") for k in ("status", "kind", "period", "assignee_id")},
        "default_status": "" if "status" in request.GET else TaskStatus.OPEN,
        "statuses": TaskStatus.choices,
        "kinds": TaskKind.choices,
        "periods": list(selectors.PERIODS.items()),
        "assignees": services.assignable_users(**actor_scope(request)) if team else [],
        "error": error,
        "can_update": permissions.can(request.user, TASK, Action.UPDATE),
    }
    if request.htmx and request.htmx.target == "task-rows":
        return render(request, "activities/task_rows.html", context)
    return render(request, "activities/task_list.html", context)


@page
def my_tasks(request):
    return _task_list(request, team=False)


@page
def team_tasks(request):
    return _task_list(request, team=True)


def _bulk(request):
    try:
        count = services.tasks_complete(
            **actor_scope(request), task_ids=request.POST.getlist("ids")
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, gettext("%(n)s tasks done.") % {"n": count})
    return redirect(request.get_full_path())


# --- the form ---------------------------------------------------------------------------------


def _initial_from(task, user) -> dict:
    zone = localtime.user_zone(user)
    local_due = task.due_at.astimezone(zone)
    initial = {
        "title": task.title,
        "kind": task.kind,
        "due_date": local_due.date(),
        "due_time": None if task.all_day else local_due.time().replace(second=0, microsecond=0),
        "all_day": task.all_day,
        "ends_at": task.ends_at.astimezone(zone).replace(tzinfo=None) if task.ends_at else None,
        "priority": task.priority,
        "assignee": task.assignee_id,
        "location": task.location,
        "description": task.description,
        "recurrence": task.recurrence,
        "recurrence_interval": task.recurrence_interval,
        "recurrence_until": task.recurrence_until,
        "account": task.account_id,
        "contact": task.contact_id,
    }
    if task.remind_at:
        minutes = int((task.due_at - task.remind_at).total_seconds() // 60)
        if minutes in REMINDER_MINUTES and task.remind_at <= task.due_at:
            initial["reminder"] = str(minutes)
        else:
            initial["reminder"] = "custom"
            initial["remind_at"] = task.remind_at.astimezone(zone).replace(tzinfo=None)
    return initial


def _customer_of(request, account_id, contact_id):
    """The linked customer's name for the form, if the actor can see it."""
    try:
        if account_id:
            return customer_selectors.account_get(**actor_scope(request), account_id=account_id)
        if contact_id:
            return customer_selectors.contact_get(**actor_scope(request), contact_id=contact_id)
    except NotFound:
        return None
    return None


@page
def task_create(request):
    permissions.require(request.user, TASK, Action.CREATE)
    today = localtime.local_today(request.user)
    initial = {
        "due_date": today,
        "account": request.GET.get("account") or None,
        "contact": request.GET.get("contact") or None,
        "kind": request.GET.get("kind") or TaskKind.TODO,
    }
    form = TaskForm(request.POST or None, initial=initial, assignees=_assignees(request))
    if request.method == "POST" and form.is_valid():
        try:
            task = services.task_create(**actor_scope(request), **form.service_values())
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Task “%(title)s” added.") % {"title": task.title})
            return redirect(_back(request, reverse("activities:task_list")))
    customer = _customer_of(
        request, form["account"].value() or None, form["contact"].value() or None
    )
    return render(
        request,
        "activities/task_form.html",
        {"form": form, "title": gettext("New task"), "customer": customer, "task": None},
    )


@page
def task_edit(request, pk: int):
    task = selectors.task_get(**actor_scope(request), task_id=pk)
    form = TaskForm(
        request.POST or None,
        initial=_initial_from(task, request.user),
        assignees=_assignees(request, current=task.assignee),
    )
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        # Only what changed: an overdue task keeps its due time unless the user moved it.
        changed = set(form.changed_data)
        if not changed & {"due_date", "due_time", "all_day"}:
            values.pop("due_at")
        if not changed & {"reminder", "remind_at"}:
            values.pop("remind_at", None)
            values.pop("remind_before_minutes", None)
        if not changed & {"account", "contact"}:
            values.pop("account_id")
            values.pop("contact_id")
        try:
            services.task_update(**actor_scope(request), task_id=pk, **values)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect(_back(request, reverse("activities:task_list")))
    return render(
        request,
        "activities/task_form.html",
        {
            "form": form,
            "title": gettext("Edit task"),
            "task": task,
            "customer": task.account or task.contact,
            "can_update": permissions.can(request.user, TASK, Action.UPDATE),
            "checkin_url": checkin_url(task),
        },
    )


def _assignees(request, current=None):
    users = services.assignable_users(**actor_scope(request))
    if current is not None and all(u.pk != current.pk for u in users):
        users.append(current)
    return users


ACTIONS = {
    "complete": services.task_complete,
    "cancel": services.task_cancel,
    "reopen": services.task_reopen,
}


@page
@require_POST
def task_action(request, pk: int, action: str):
    """Done, cancel or reopen; htmx swaps the task's row, a plain form returns to the page."""
    run = ACTIONS.get(action)
    if run is None:
        raise NotFound()
    task = None
    try:
        task = run(**actor_scope(request), task_id=pk)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        if not request.htmx:
            messages.error(request, str(exc.message))
        else:
            response = HttpResponse(str(exc.message), status=200)
            response["HX-Reswap"] = "none"
            response["HX-Trigger"] = _toast(str(exc.message), "error")
            return response
    if request.htmx and task is not None:
        task.is_overdue = selectors.is_overdue(task, actor=request.user)
        task.checkin_url = checkin_url(task)
        response = render(
            request,
            "activities/task_row.html",
            {"task": task, "can_update": True, "compact": request.POST.get("compact") == "1"},
        )
        if action == "complete":
            response["HX-Trigger"] = _toast(gettext("Done: %(title)s") % {"title": task.title})
        return response
    return redirect(_back(request, reverse("activities:task_list")))


def _toast(message: str, level: str = "success") -> str:
    import json

    # ASCII: a header with Chinese in it would be MIME-encoded; JSON escapes survive.
    return json.dumps({"toast": {"message": message, "level": level}})


@page
@require_POST
def task_quick_add(request):
    """The one-line form of "my day" and of a customer's panel."""
    form = QuickTaskForm(request.POST)
    task = None
    if form.is_valid():
        try:
            task = services.task_create(**actor_scope(request), **form.service_values())
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.apply_error(exc)
    if task is not None:
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        messages.success(request, gettext("Task “%(title)s” added.") % {"title": task.title})
        return redirect(_back(request, reverse("platform:home")))
    if request.htmx:
        return render(request, "activities/task_quick_add.html", {"form": form}, status=200)
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect(_back(request, reverse("platform:home")))


# --- my day -----------------------------------------------------------------------------------


def my_day_context(request) -> dict | None:
    """The start page's "my day" panel (five queries), for anyone who has tasks."""
    user = request.user
    if not permissions.can(user, TASK, Action.READ):
        return None
    day = selectors.my_day(**actor_scope(request))
    for task in (*day.overdue, *day.today_tasks, *day.tomorrow):
        task.checkin_url = checkin_url(task)
    today = day.today
    return {
        "day": day,
        "quick_form": QuickTaskForm(
            initial={"due_date": today, "kind": TaskKind.TODO}, auto_id="quick_%s"
        ),
        "can_create": permissions.can(user, TASK, Action.CREATE),
        "can_update": permissions.can(user, TASK, Action.UPDATE),
        "route_url": url_or_none("activities:route_day"),
        "tomorrow": today + dt.timedelta(days=1),
    }


@page
def my_day(request):
    """ "My day" on its own page (the same panel as the start page)."""
    context = my_day_context(request)
    if context is None:
        raise PermissionDenied(gettext("Your role does not include tasks."))
    return render(request, "activities/myday.html", {"data": context})


# --- a customer's open tasks (360° panel) -----------------------------------------------------


@page
def customer_tasks_panel(request, kind: str, pk: int):
    permissions.require(request.user, TASK, Action.READ)
    if kind == "accounts":
        record = customer_selectors.account_get(**actor_scope(request), account_id=pk)
        tasks = selectors.customer_open_tasks(**actor_scope(request), account_id=record.pk)
        initial = {"account": record.pk}
    else:
        record = customer_selectors.contact_get(**actor_scope(request), contact_id=pk)
        tasks = selectors.customer_open_tasks(**actor_scope(request), contact_id=record.pk)
        initial = {"contact": record.pk, "account": record.account_id}
    for task in tasks:
        task.checkin_url = checkin_url(task)
    today = localtime.local_today(request.user)
    return render(
        request,
        "activities/task_section.html",
        {
            "tasks": tasks,
            "record": record,
            "kind": kind,
            "quick_form": QuickTaskForm(
                initial={**initial, "due_date": today, "kind": TaskKind.CALL},
                auto_id=f"task_{kind}_{pk}_%s",
            ),
            "can_create": permissions.can(request.user, TASK, Action.CREATE),
            "can_update": permissions.can(request.user, TASK, Action.UPDATE),
            "new_url": reverse("activities:task_create")
            + ("?account=" if kind == "accounts" else "?contact=")
            + str(pk),
        },
    )


# --- notifications ----------------------------------------------------------------------------


@page
def notification_bell(request):
    """The top bar's bell: one query (the unread count, capped)."""
    count = selectors.unread_count(**actor_scope(request))
    return render(request, "activities/task_bell.html", {"count": count})


@page
def notification_list(request):
    qs = selectors.notification_list(**actor_scope(request)).select_related("task")
    page = paginate(qs, key="created_at", descending=True, cursor=request.GET.get("cursor"))
    now = timezone.now()
    for note in page.items:
        task = note.task
        note.overdue = task is not None and selectors.is_overdue(task, actor=request.user, now=now)
    return render(
        request,
        "activities/task_notifications.html",
        {
            "notifications": page.items,
            "next_cursor": page.next_cursor,
            "unread": selectors.unread_count(**actor_scope(request)),
        },
    )


@page
@require_POST
def notification_read(request, pk: int):
    note = notifications.notification_mark_read(**actor_scope(request), notification_id=pk)
    if request.POST.get("go") and note.url.startswith("/"):
        return redirect(note.url)
    if request.htmx:
        response = HttpResponse("")
        response["HX-Trigger"] = "notifications-changed"
        return response
    return redirect(_back(request, reverse("activities:notification_list")))


@page
@require_POST
def notifications_read_all(request):
    count = notifications.notifications_mark_all_read(**actor_scope(request))
    messages.success(request, gettext("%(n)s notifications marked read.") % {"n": count})
    return redirect(_back(request, reverse("activities:notification_list")))
