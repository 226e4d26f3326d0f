"""The cases part's pages: the agent queue, the case page (conversation, status, assignment,
history), a new case (an agent on the phone), the change form, case types and categories,
and the customers' "Cases" section. Views collect input and render; the services and
selectors do the work."""

from __future__ import annotations

import functools
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers import search as customer_search
from guanxi.platform import permissions
from guanxi.platform.models import Action
from guanxi.sales.models import Order, Product

from .cases_forms import (
    AssignForm,
    CaseForm,
    CaseTypeForm,
    CategoryForm,
    ReplyForm,
    StatusForm,
    add_errors,
    category_choices,
    type_choices,
)
from .models import CaseEventKind, CasePriority, CaseStatus, CaseType, Queue
from .objects import ARTICLE, CASE, CONFIGURATION, DISPATCH, SURVEY
from .selectors import cases as selectors
from .services import case_types
from .services import cases as services

STYLES = "css/service-cases.css"
PICKER_LIMIT = 20
SECTION_LIMIT = 10


def _status_buttons(case) -> list[dict]:
    """The moves the case may make now, as buttons (resolving asks for the resolution)."""
    labels = {
        CaseStatus.OPEN: gettext("Reopen")
        if case.status == CaseStatus.RESOLVED
        else (
            gettext("Customer answered")
            if case.status == CaseStatus.WAITING
            else gettext("Start work")
        ),
        CaseStatus.WAITING: gettext("Wait on the customer"),
        CaseStatus.RESOLVED: gettext("Resolve"),
        CaseStatus.CLOSED: gettext("Close"),
        CaseStatus.CANCELLED: gettext("Cancel the case"),
    }
    order = [
        CaseStatus.OPEN,
        CaseStatus.WAITING,
        CaseStatus.RESOLVED,
        CaseStatus.CLOSED,
        CaseStatus.CANCELLED,
    ]
    allowed = services.NEXT_STATUS[case.status]
    return [
        {"status": s, "label": labels[s], "resolution": s == CaseStatus.RESOLVED}
        for s in order
        if s in allowed
    ]


# --- the agent queue -------------------------------------------------------------------------


def _queue_choices(request) -> dict:
    workspace = request.workspace
    return {
        "status_choices": [
            ("open", gettext("Open (new, open, waiting)")),
            *CaseStatus.choices,
            ("all", gettext("All (newest first)")),
        ],
        "assignee_choices": [
            ("", gettext("Anyone")),
            ("me", gettext("Me")),
            ("unassigned", gettext("Unassigned")),
        ],
        "priority_choices": CasePriority.choices,
        "queue_choices": [
            (str(q.pk), q.name)
            for q in Queue.objects.in_workspace(workspace).filter(active=True).order_by("name")
        ],
        "type_choices": [(str(pk), name) for pk, name in type_choices(workspace, request.user)],
        "category_choices": [
            (str(pk), name) for pk, name in category_choices(workspace, request.user)
        ],
        "sla_choices": [("overdue", gettext("Overdue")), ("due_soon", gettext("Due soon"))],
    }


_STATUS_CLASS = {"waiting": "warn", "resolved": "ok", "closed": "ok"}


def _queue_row(case, now) -> dict:
    """One row of the queue, its texts worked out here: the page shows 50 rows, and each
    lookup and tag inside a template loop costs more than the same work in Python."""
    if case.contact_id:
        customer = case.contact.name + (f" · {case.account.name}" if case.account_id else "")
    elif case.account_id:
        customer = case.account.name
    else:
        customer = ""
    due = case.resolution_due_at
    return {
        "url": f"{_case_url_prefix()}{case.pk}/",
        "number": case.number,
        "subject": case.subject,
        "what": case.case_type.name + (f" · {case.category.name}" if case.category_id else ""),
        "customer": customer,
        "reply_to": case.reply_email or case.reply_phone,
        "priority": case.priority,
        "priority_label": case.get_priority_display(),
        "status_label": case.get_status_display(),
        "status_class": _STATUS_CLASS.get(case.status, ""),
        "complaint": case.kind == "complaint",
        "due_iso": due.isoformat() if due else "",
        "due_text": formats.date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT")
        if due
        else "",
        "sla": selectors.sla_state(case, now),
        "assignee": case.assignee.full_name if case.assignee_id else "",
        "queue": case.queue.name if case.queue_id else "",
    }


@functools.cache
def _case_url_prefix() -> str:
    return reverse("service:case_list")


@page
def case_list(request):
    """The agent queue: the cases to work on, most urgent first, with filters; "1–50 of
    many" (no count), keyset pages."""
    permissions.require(request.user, CASE, Action.READ)
    filters = selectors.QueueFilters.from_params(request.GET)
    cursor = request.GET.get("cursor") or None
    try:
        start = max(1, int(request.GET.get("start", "1")))
    except ValueError:
        start = 1
    now = timezone.now()
    error = None
    try:
        result = selectors.queue_page(
            **actor_scope(request), filters=filters, cursor=cursor, start=start, now=now
        )
    except ApplicationError as exc:
        error = error_message(exc)
        filters = selectors.QueueFilters()
        result = selectors.queue_page(**actor_scope(request), filters=filters, now=now)
    rows = [_queue_row(c, now) for c in result.items]
    params = filters.params()
    next_query = None
    if result.next_cursor:
        next_query = urlencode(
            {**params, "cursor": result.next_cursor, "start": str(result.last + 1)}
        )
    context = {
        "filters": filters,
        "rows": rows,
        "page": result,
        "first": result.start,
        "last": result.last,
        "next_query": next_query,
        "first_query": urlencode(params),
        "error": error,
        "can_create": permissions.can(request.user, CASE, Action.CREATE),
        "stylesheet": STYLES,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "service/cases/_queue_rows.html", context)
    return render(request, "service/cases/list.html", {**context, **_queue_choices(request)})


# --- a new case ------------------------------------------------------------------------------


@page
def case_new(request):
    """A new case: an agent on the phone finds the caller (or takes a reply number), picks
    the type, category and priority, and writes what the customer said. ``?account=``,
    ``?contact=`` or ``?phone=`` preset it (the 360° page, a screen pop)."""
    permissions.require(request.user, CASE, Action.CREATE)
    scope = actor_scope(request)
    if request.method == "POST":
        form = CaseForm(request.POST, **scope)
        if form.is_valid():
            values = form.values(request.user)
            try:
                case = services.case_create(
                    **scope,
                    values={k: v for k, v in values.items() if k in services.CREATE_VALUES},
                    channel=request.POST.get("channel") or "phone",
                    account=values.get("account"),
                    contact=values.get("contact"),
                    reply_email=values.get("reply_email") or "",
                    reply_phone=values.get("reply_phone") or "",
                )
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(
                    request, gettext("Case %(number)s opened.") % {"number": case.number}
                )
                return redirect("service:case_detail", case.pk)
    else:
        initial = {"priority": CasePriority.NORMAL, "assignee": "me"}
        for name in ("account", "contact"):
            value = request.GET.get(name, "")
            if value.isdigit():
                initial[name] = value
        if request.GET.get("phone"):
            initial["reply_phone"] = request.GET["phone"][:40]
        if request.GET.get("type", "").isdigit():
            initial["case_type"] = request.GET["type"]
        form = CaseForm(initial=initial, **scope)
    return render(
        request,
        "service/cases/form.html",
        {
            "form": form,
            "title": gettext("New case"),
            "channel": request.POST.get("channel") or request.GET.get("channel") or "phone",
            "can_articles": permissions.can(request.user, ARTICLE, Action.READ),
            "stylesheet": STYLES,
        },
    )


@page
def case_customer_search(request):
    """``<option>``s for the new-case pickers: accounts or contacts by name, phone, pinyin
    or code (the customers' search); products by name or code; orders by number."""
    if not (
        permissions.can(request.user, CASE, Action.CREATE)
        or permissions.can(request.user, CASE, Action.UPDATE)
    ):
        permissions.require(request.user, CASE, Action.CREATE)
    scope = actor_scope(request)
    term = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "contact")
    rows: list[tuple] = []
    if term:
        if kind == "account":
            rows = [
                (r.pk, f"{r.name} ({r.code})")
                for r in customer_search.search_accounts(**scope, term=term, limit=PICKER_LIMIT)
            ]
        elif kind == "product":
            rows = [
                (p.pk, f"{p.name} ({p.code})")
                for p in Product.objects.in_workspace(request.workspace)
                .filter(Q(name__icontains=term) | Q(code__istartswith=term))
                .order_by("name", "id")
                .only("id", "name", "code")[:PICKER_LIMIT]
            ]
        elif kind == "order":
            rows = [
                (o.pk, o.number)
                for o in Order.objects.in_workspace(request.workspace)
                .filter(number__icontains=term)
                .order_by("-id")
                .only("id", "number")[:PICKER_LIMIT]
            ]
        else:
            rows = []
            for r in customer_search.search_contacts(**scope, term=term, limit=PICKER_LIMIT):
                extra = r.mobile or r.phone or r.company or r.code
                rows.append((r.pk, f"{r.name} ({extra})" if extra else r.name))
    return render(request, "service/cases/picker_options.html", {"rows": rows, "term": term})


# --- the case page ---------------------------------------------------------------------------


def _value_label(kind: str, value: str) -> str:
    """A status or priority in words (history rows keep the raw values)."""
    if kind == CaseEventKind.STATUS and value in CaseStatus.values:
        return str(CaseStatus(value).label)
    if kind == CaseEventKind.PRIORITY and value.isdigit() and int(value) in CasePriority.values:
        return str(CasePriority(int(value)).label)
    return value


def _events(rows) -> list:
    events = list(rows)
    for event in events:
        event.from_label = _value_label(event.kind, event.from_value)
        event.to_label = _value_label(event.kind, event.to_value)
    return events


def _detail_context(request, case) -> dict:
    workspace, actor = request.workspace, request.user
    can_update = permissions.can(actor, CASE, Action.UPDATE)
    now = timezone.now()
    final = case.status in services.FINAL_STATUSES
    return {
        "case": case,
        "sla": selectors.sla_state(case, now),
        "now": now,
        "response_overdue": case.first_response_at is None
        and case.response_due_at is not None
        and case.response_due_at < now
        and case.is_open,
        "resolution_overdue": case.resolution_due_at is not None
        and case.resolution_due_at < now
        and case.is_open,
        "conversation": list(selectors.case_messages(workspace=workspace, case=case)),
        "events": _events(selectors.case_events(workspace=workspace, case=case)),
        "can_update": can_update,
        # The other parts' panels load themselves after the page (htmx), when allowed.
        "can_articles": permissions.can(actor, ARTICLE, Action.READ),
        "can_dispatch": permissions.can(actor, DISPATCH, Action.READ),
        "can_surveys": permissions.can(actor, SURVEY, Action.READ),
        "can_edit": can_update and not final,
        "can_reply": can_update,
        "status_buttons": _status_buttons(case) if can_update else [],
        "reply_form": ReplyForm(initial={"lock_version": case.lock_version}),
        "assign_form": AssignForm(
            initial={
                "assignee": case.assignee_id or "",
                "queue": case.queue_id or "",
                "lock_version": case.lock_version,
            },
            workspace=workspace,
        )
        if can_update and not final
        else None,
        "stylesheet": STYLES,
    }


def _render_case(request, case_id):
    case = selectors.case_get(**actor_scope(request), case_id=case_id)
    template = "service/cases/_case.html" if request.htmx else "service/cases/detail.html"
    return render(request, template, _detail_context(request, case))


@page
def case_detail(request, pk: int):
    return _render_case(request, pk)


def _after_action(request, pk: int, exc: ApplicationError | None, done: str):
    """htmx: the case's body again, with a toast (the error or ``done``); else a message
    and back to the page."""
    text = error_message(exc) if exc is not None else done
    level = "error" if exc is not None else "success"
    if request.htmx:
        response = _render_case(request, pk)
        response["HX-Trigger"] = json.dumps({"toast": {"message": text, "level": level}})
        return response
    (messages.error if exc is not None else messages.success)(request, text)
    return HttpResponseRedirect(reverse("service:case_detail", args=[pk]))


@page
@require_POST
def case_reply(request, pk: int):
    form = ReplyForm(request.POST)
    exc = None
    internal = False
    try:
        if not form.is_valid():
            raise ApplicationError(gettext("Write the message."))
        internal = form.cleaned_data["internal"]
        services.case_reply(
            **actor_scope(request),
            case_id=pk,
            body=form.cleaned_data["body"],
            internal=internal,
            lock_version=form.cleaned_data["lock_version"],
        )
    except ApplicationError as error:
        exc = error
    return _after_action(
        request, pk, exc, gettext("Note saved.") if internal else gettext("Answer sent.")
    )


@page
@require_POST
def case_status(request, pk: int):
    form = StatusForm(request.POST)
    exc = None
    try:
        if not form.is_valid():
            raise ApplicationError(gettext("Choose a status."))
        services.case_change_status(
            **actor_scope(request),
            case_id=pk,
            status=form.cleaned_data["status"],
            resolution=form.cleaned_data["resolution"],
            lock_version=form.cleaned_data["lock_version"],
        )
    except ApplicationError as error:
        exc = error
    return _after_action(request, pk, exc, gettext("Saved."))


@page
@require_POST
def case_assign(request, pk: int):
    form = AssignForm(request.POST, workspace=request.workspace)
    exc = None
    try:
        take = request.POST.get("take") == "1"
        if take:
            # "Take it": the agent, keeping the case's queue.
            assignee = request.user.pk
            queue = request.POST.get("queue") or None
            version = request.POST.get("lock_version") or None
        else:
            if not form.is_valid():
                raise ApplicationError(gettext("Choose an assignee or a queue."))
            data = form.cleaned_data
            assignee = data["assignee"] or None
            queue = data["queue"] or None
            version = data["lock_version"]
        services.case_assign(
            **actor_scope(request),
            case_id=pk,
            assignee_id=assignee,
            queue_id=queue,
            lock_version=version,
        )
    except ApplicationError as error:
        exc = error
    return _after_action(request, pk, exc, gettext("Saved."))


@page
def case_edit(request, pk: int):
    scope = actor_scope(request)
    case = services.case_get_for_update(**scope, case_id=pk)
    if request.method == "POST":
        form = CaseForm(request.POST, case=case, **scope)
        if form.is_valid():
            try:
                services.case_update(
                    **scope,
                    case_id=case.pk,
                    changes=form.values(request.user),
                    lock_version=form.cleaned_data.get("lock_version"),
                )
            except ApplicationError as exc:
                error_message(exc)
                add_errors(form, exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("service:case_detail", case.pk)
    else:
        form = CaseForm(
            initial={
                "account": case.account_id or "",
                "contact": case.contact_id or "",
                "case_type": case.case_type_id,
                "category": case.category_id or "",
                "priority": case.priority,
                "subject": case.subject,
                "description": case.description,
                "product": case.product_id or "",
                "order": case.order_id or "",
                "reply_phone": case.reply_phone,
                "reply_email": case.reply_email,
                "lock_version": case.lock_version,
            },
            case=case,
            **scope,
        )
    return render(
        request,
        "service/cases/form.html",
        {
            "form": form,
            "case": case,
            "title": gettext("Change case %(number)s") % {"number": case.number},
            "stylesheet": STYLES,
        },
    )


# --- types and categories --------------------------------------------------------------------


@page
def case_types_page(request):
    """Case types and categories: the list, and forms to add one of each (holders of the
    service configuration right)."""
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    can_change = permissions.can(request.user, CONFIGURATION, Action.CREATE)
    type_form = CaseTypeForm(prefix="type")
    category_form = CategoryForm(prefix="cat", **scope)
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "type":
                type_form = CaseTypeForm(request.POST, prefix="type")
                if type_form.is_valid():
                    case_types.case_type_create(**scope, **type_form.cleaned_data)
                    messages.success(request, gettext("Case type added."))
                    return redirect("service:case_types")
            elif op == "category":
                category_form = CategoryForm(request.POST, prefix="cat", **scope)
                if category_form.is_valid():
                    case_types.case_category_create(**scope, **category_form.values())
                    messages.success(request, gettext("Category added."))
                    return redirect("service:case_types")
            else:
                permissions.require(request.user, CONFIGURATION, Action.CREATE)
        except ApplicationError as exc:
            error_message(exc)
            add_errors(type_form if op == "type" else category_form, exc)
    types = list(case_types.case_type_list(**scope))
    categories = case_types.categories_as_tree(case_types.case_category_list(**scope))
    return render(
        request,
        "service/cases/types.html",
        {
            "types": types,
            "categories": categories,
            "type_form": type_form,
            "category_form": category_form,
            "can_change": can_change,
            "stylesheet": STYLES,
        },
    )


@page
def case_type_edit(request, pk: int):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.UPDATE)
    row = CaseType.objects.in_workspace(request.workspace).filter(pk=pk).first()
    if row is None:
        raise NotFound()
    form = CaseTypeForm.for_row(row, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            case_types.case_type_update(**scope, type_id=row.pk, **form.cleaned_data)
        except ApplicationError as exc:
            error_message(exc)
            add_errors(form, exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("service:case_types")
    return render(
        request,
        "service/cases/type_form.html",
        {"form": form, "title": row.name, "stylesheet": STYLES},
    )


@page
def case_category_edit(request, pk: int):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.UPDATE)
    rows = {r.pk: r for r in case_types.case_category_list(**scope).filter(pk=pk)}
    row = rows.get(pk)
    if row is None:
        raise NotFound()
    initial = {
        "name": row.name,
        "parent": row.parent_id or "",
        "queue": row.queue_id or "",
        "active": row.active,
    }
    data = request.POST if request.method == "POST" else None
    form = CategoryForm(data, initial=initial, exclude=row.pk, **scope)
    if data is not None and form.is_valid():
        try:
            case_types.case_category_update(**scope, category_id=row.pk, **form.values())
        except ApplicationError as exc:
            error_message(exc)
            add_errors(form, exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("service:case_types")
    return render(
        request,
        "service/cases/type_form.html",
        {"form": form, "title": row.name, "stylesheet": STYLES},
    )


# --- the 360° section ------------------------------------------------------------------------


def customer_section(request, object_key: str, record) -> dict | None:
    """The customer's cases: open ones first (most urgent first), then the latest others."""
    if not permissions.can(request.user, CASE, Action.READ):
        return None
    field = "account" if object_key == "customers.account" else "contact"
    rows = selectors.customer_cases(**actor_scope(request), **{field: record}, limit=SECTION_LIMIT)
    now = timezone.now()
    return {
        "rows": [{"case": c, "sla": selectors.sla_state(c, now)} for c in rows],
        "open_count": sum(1 for c in rows if c.is_open),
        "new_url": reverse("service:case_new") + f"?{field}={record.pk}"
        if permissions.can(request.user, CASE, Action.CREATE)
        else "",
    }
