"""Pages of the timeline and commitments: the 360° sections' htmx panels (rows for a filter
or the next page, the quick log forms, open commitments) and a plain timeline page for
browsers without JavaScript. Views collect input and render; services and selectors do
the work."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import Action, User

from . import timeline_display
from .models import CommitmentStatus, EntryKind
from .objects import COMMITMENT, ENTRY
from .selectors import commitments as commitment_selectors
from .selectors import timeline as timeline_selectors
from .services import commitments as commitment_services
from .services import timeline as timeline_services
from .timeline_forms import QUICK_KINDS, FilterForm, LogForm, PromiseForm

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
KINDS = {"accounts": ACCOUNT, "contacts": CONTACT}
PATHS = {ACCOUNT: "accounts", CONTACT: "contacts"}
DETAIL_URLS = {ACCOUNT: "customers:account_detail", CONTACT: "customers:contact_detail"}
# The person filter lists this many users (by name); a bigger workspace filters by id.
MAX_AUTHOR_CHOICES = 500
MAX_CONTACT_CHOICES = 100
QUICK_LABELS = {
    "call": _("Log a call"),
    "meeting": _("Log a meeting"),
    "visit": _("Log a visit"),
    "note": _("Add a note"),
}


def customer(request, kind_path: str, pk: int):
    """The account or contact of a URL, visible to the actor (404 otherwise)."""
    object_key = KINDS.get(kind_path)
    if object_key is None:
        raise Http404()
    if object_key == ACCOUNT:
        return object_key, customer_selectors.account_get(**actor_scope(request), account_id=pk)
    return object_key, customer_selectors.contact_get(**actor_scope(request), contact_id=pk)


def _detail_url(object_key: str, record) -> str:
    return reverse(DETAIL_URLS[object_key], args=[record.pk])


def author_choices(workspace) -> list[tuple[int, str]]:
    """Everyone who may have written on a timeline, those who left included (their history
    is what a successor reads). One query."""
    users = (
        User.objects.filter(workspace=workspace)
        .order_by("full_name", "id")
        .only("pk", "full_name", "email", "is_active")[:MAX_AUTHOR_CHOICES]
    )
    return [
        (u.pk, (u.full_name or u.email) + ("" if u.is_active else gettext(" (left)")))
        for u in users
    ]


def contact_choices(request, object_key: str, record) -> list[tuple[int, str]]:
    """An account's people the actor can see (for "with whom" and the contact filter)."""
    if object_key != ACCOUNT:
        return []
    contacts = (
        customer_selectors.contact_list(**actor_scope(request))
        .filter(memberships__account=record)
        .select_related(None)
        .only("pk", "name")
        .order_by("name", "id")[:MAX_CONTACT_CHOICES]
    )
    return [(c.pk, c.name) for c in contacts]


def _filters(form: FilterForm) -> timeline_selectors.TimelineFilters:
    return timeline_selectors.TimelineFilters(**form.values())


def _timeline_page(request, object_key, record, filters, cursor=None):
    kwargs = {**actor_scope(request), "filters": filters, "cursor": cursor}
    if object_key == ACCOUNT:
        result = timeline_selectors.account_timeline(account=record, **kwargs)
    else:
        result = timeline_selectors.contact_timeline(contact=record, **kwargs)
    timeline_display.decorate(result.entries)
    return result


def _rows_url(object_key: str, record) -> str:
    return reverse("activities:timeline_rows", args=[PATHS[object_key], record.pk])


def _querystring(form: FilterForm, cursor: str | None = None) -> str:
    from urllib.parse import urlencode

    params = [
        (name, value)
        for name in ("kind", "author", "contact", "since", "until")
        for value in (form.data.getlist(name) if hasattr(form.data, "getlist") else [])
        if value
    ]
    if cursor:
        params.append(("cursor", cursor))
    return urlencode(params)


def filter_bar(form: FilterForm, authors, contacts) -> dict:
    """The filter bar's choices with what is selected, as plain tuples: the section renders
    them in one loop each (form widgets render every option through a template, which on a
    page that shows on every customer costs more than the timeline's queries)."""
    data = form.data
    get = (
        data.getlist if hasattr(data, "getlist") else (lambda k: [data.get(k)] if k in data else [])
    )
    kinds = set(get("kind"))
    author = (get("author") or [""])[0] or ""
    contact = (get("contact") or [""])[0] or ""
    return {
        "kinds": [(v, label, v in kinds) for v, label in EntryKind.choices],
        "authors": [(pk, label, str(pk) == author) for pk, label in authors],
        "contacts": [(pk, label, str(pk) == contact) for pk, label in contacts],
        "since": (get("since") or [""])[0] or "",
        "until": (get("until") or [""])[0] or "",
    }


def _log_form_url(object_key: str, record, kind: str) -> str:
    url = reverse("activities:timeline_log", args=[PATHS[object_key], record.pk])
    return f"{url}?form={kind}"


def section_context(
    request, object_key: str, record, *, log_forms=None, open_form: str = "", query=None
) -> dict:
    """Everything the timeline section shows: the quick log buttons (their forms load when
    opened), the filter bar and the first page."""
    contacts = contact_choices(request, object_key, record)
    authors = author_choices(request.workspace)
    filter_form = FilterForm(
        query if query is not None else {}, author_choices=authors, contact_choices=contacts
    )
    try:
        page_ = _timeline_page(request, object_key, record, _filters(filter_form))
    except ApplicationError as exc:  # an unreadable filter value: show the error, no rows
        filter_form.add_error(None, error_message(exc))
        page_ = timeline_selectors.TimelinePage([], None)
    can_log = permissions.can(request.user, ENTRY, Action.CREATE)
    forms = log_forms or {}
    rows_url = _rows_url(object_key, record)
    return {
        "object_key": object_key,
        "record": record,
        "kind_path": PATHS[object_key],
        "page": page_,
        "filter_form": filter_form,
        "filters": filter_bar(filter_form, authors, contacts),
        "rows_url": rows_url,
        "next_url": (
            f"{rows_url}?{_querystring(filter_form, page_.next_cursor)}"
            if page_.next_cursor
            else None
        ),
        "section_url": f"{rows_url}?part=section",
        "log_url": reverse("activities:timeline_log", args=[PATHS[object_key], record.pk]),
        "log_forms": [
            (kind, QUICK_LABELS[kind], forms.get(kind), _log_form_url(object_key, record, kind))
            for kind in QUICK_KINDS
        ],
        "open_form": open_form,
        "can_log": can_log,
    }


# --- the timeline --------------------------------------------------------------------------------


@page
@require_GET
def timeline_rows(request, kind: str, pk: int):
    """The timeline's rows for a filter or the next page (htmx), the whole section
    (``part=section``, after a change elsewhere on the page), or a plain page without
    JavaScript."""
    object_key, record = customer(request, kind, pk)
    permissions.require(request.user, ENTRY, Action.READ)
    if request.GET.get("part") == "section":
        context = section_context(request, object_key, record)
        return render(request, "activities/timeline_section.html", {"data": context})
    contacts = contact_choices(request, object_key, record)
    authors = author_choices(request.workspace)
    form = FilterForm(request.GET, author_choices=authors, contact_choices=contacts)
    cursor = request.GET.get("cursor") or None
    try:
        result = _timeline_page(request, object_key, record, _filters(form), cursor)
    except ApplicationError as exc:
        if request.htmx:
            return HttpResponse(status=400, content=error_message(exc))
        messages.error(request, error_message(exc))
        result = _timeline_page(request, object_key, record, _filters(form))
    rows_url = _rows_url(object_key, record)
    context = {
        "object_key": object_key,
        "record": record,
        "page": result,
        "filter_form": form,
        "filters": filter_bar(form, authors, contacts),
        "rows_url": rows_url,
        "next_url": f"{rows_url}?{_querystring(form, result.next_cursor)}"
        if result.next_cursor
        else None,
        "detail_url": _detail_url(object_key, record),
    }
    template = "activities/timeline_rows.html" if request.htmx else "activities/timeline_page.html"
    return render(request, template, context)


def _trigger(response: HttpResponse, events: dict) -> HttpResponse:
    response["HX-Trigger"] = json.dumps(events, ensure_ascii=False)
    return response


def _log_form_context(request, object_key, record, form) -> dict:
    return {
        "form": form,
        "kind": form.kind,
        "label": QUICK_LABELS[form.kind],
        "record": record,
        "log_url": reverse("activities:timeline_log", args=[PATHS[object_key], record.pk]),
        "detail_url": _detail_url(object_key, record),
    }


@page
@require_http_methods(["GET", "POST"])
def timeline_log(request, kind: str, pk: int):
    """A quick log form: GET shows it (loaded into the section when opened, or as a page
    without JavaScript); POST writes the entry (and its promise) through ``entry_log``."""
    object_key, record = customer(request, kind, pk)
    form_kind = (
        request.POST.get("form", "") if request.method == "POST" else request.GET.get("form", "")
    )
    if form_kind not in QUICK_KINDS:
        raise Http404()
    contacts = contact_choices(request, object_key, record)
    if request.method == "GET":
        permissions.require(request.user, ENTRY, Action.CREATE)
        context = _log_form_context(
            request, object_key, record, LogForm(kind=form_kind, contact_choices=contacts)
        )
        template = (
            "activities/timeline_log_form.html"
            if request.htmx
            else "activities/timeline_log_page.html"
        )
        return render(request, template, context)
    form = LogForm(request.POST, kind=form_kind, contact_choices=contacts)
    saved = None
    if form.is_valid():
        values = form.service_values()
        if object_key == ACCOUNT:
            values["account_id"] = record.pk
            values["contact_ids"] = [int(c) for c in form.cleaned_data.get("contacts") or []]
        else:
            values["contact_ids"] = [record.pk]
        try:
            saved = timeline_services.entry_log(**actor_scope(request), **values)
        except ApplicationError as exc:
            error_message(exc)  # denials and unknown records keep their 403/404 pages
            form.add_service_errors(exc)
    if not request.htmx:
        if saved is not None:
            messages.success(request, gettext("Saved on the timeline."))
        else:
            errors = "; ".join(" ".join(map(str, errs)) for errs in form.errors.values())
            messages.error(request, errors or gettext("Some fields are not valid."))
        return redirect(_detail_url(object_key, record))
    if saved is not None:
        context = section_context(request, object_key, record)
        events = {"toast": {"message": gettext("Saved on the timeline."), "level": "success"}}
        if form.cleaned_data.get("commitment_text"):
            events["commitments-changed"] = True
        response = render(request, "activities/timeline_section.html", {"data": context})
        return _trigger(response, events)
    context = section_context(
        request, object_key, record, log_forms={form_kind: form}, open_form=form_kind
    )
    return render(request, "activities/timeline_section.html", {"data": context})


# --- commitments ---------------------------------------------------------------------------------


def _promise_form(request, object_key, record, data=None) -> PromiseForm:
    promisers = []
    if commitment_services.may_promise_for_others(request.user):
        promisers = author_choices(request.workspace)
    return PromiseForm(
        data,
        contact_choices=contact_choices(request, object_key, record),
        promiser_choices=promisers,
    )


def commitments_context(request, object_key: str, record, *, form=None) -> dict:
    """The open promises of a customer by who made them; the form to record one loads when
    opened (``form`` is given back with its errors)."""
    actor = request.user
    groups = commitment_selectors.open_by_promiser(
        **actor_scope(request),
        account=record if object_key == ACCOUNT else None,
        contact=record if object_key == CONTACT else None,
    )
    create_url = reverse("activities:commitment_create", args=[PATHS[object_key], record.pk])
    # The row's URLs and due date made here once (tags in a 200-row loop cost more).
    close_any = reverse("activities:commitment_close", args=[0])
    contact_any = reverse("customers:contact_detail", args=[0])
    for group in groups:
        for item in group.items:
            item.close_url = close_any.replace("/0/close/", f"/{item.pk}/close/")
            item.due_text = (
                formats.date_format(item.due_date, "SHORT_DATE_FORMAT") if item.due_date else ""
            )
            item.contact_url = (
                contact_any.replace("/0/", f"/{item.contact_id}/") if item.contact_id else ""
            )
    return {
        "object_key": object_key,
        "record": record,
        "kind_path": PATHS[object_key],
        "groups": groups,
        "can_create": permissions.can(actor, COMMITMENT, Action.CREATE),
        "form": form,
        "can_close": permissions.can(actor, COMMITMENT, Action.UPDATE),
        "panel_url": reverse("activities:commitment_panel", args=[PATHS[object_key], record.pk]),
        "create_url": create_url,
        "statuses": [
            (CommitmentStatus.KEPT, gettext("Kept")),
            (CommitmentStatus.BROKEN, gettext("Broken")),
        ],
    }


def _commitments_response(request, object_key, record, *, form=None, events=None):
    context = commitments_context(request, object_key, record, form=form)
    response = render(request, "activities/commitment_section.html", {"data": context})
    return _trigger(response, events) if events else response


@page
@require_GET
def commitment_panel(request, kind: str, pk: int):
    object_key, record = customer(request, kind, pk)
    permissions.require(request.user, COMMITMENT, Action.READ)
    return _commitments_response(request, object_key, record)


@page
@require_http_methods(["GET", "POST"])
def commitment_create(request, kind: str, pk: int):
    """Record a promise: GET shows the form (loaded when opened, or a page without
    JavaScript); POST makes it through ``commitment_create``."""
    object_key, record = customer(request, kind, pk)
    if request.method == "GET":
        permissions.require(request.user, COMMITMENT, Action.CREATE)
        context = {
            "form": _promise_form(request, object_key, record),
            "create_url": request.path,
            "record": record,
            "detail_url": _detail_url(object_key, record),
        }
        template = (
            "activities/commitment_form.html"
            if request.htmx
            else "activities/commitment_form_page.html"
        )
        return render(request, template, context)
    form = _promise_form(request, object_key, record, request.POST)
    saved = None
    if form.is_valid():
        data = form.cleaned_data
        target = {"account_id": record.pk} if object_key == ACCOUNT else {"contact_id": record.pk}
        if object_key == ACCOUNT and data.get("contact"):
            target["contact_id"] = data["contact"]
        try:
            saved = commitment_services.commitment_create(
                **actor_scope(request),
                text=data["text"],
                due_date=data.get("due_date"),
                promised_by_id=data.get("promised_by"),
                **target,
            )
        except ApplicationError as exc:
            error_message(exc)
            form.add_service_errors(exc)
    if not request.htmx:
        if saved is None:
            errors = "; ".join(" ".join(map(str, errs)) for errs in form.errors.values())
            messages.error(request, errors)
        else:
            messages.success(request, gettext("Promise recorded."))
        return redirect(_detail_url(object_key, record))
    if saved is None:
        return _commitments_response(request, object_key, record, form=form)
    return _commitments_response(
        request,
        object_key,
        record,
        events={
            "toast": {"message": gettext("Promise recorded."), "level": "success"},
            "timeline-changed": True,
        },
    )


@page
@require_POST
def commitment_close(request, pk: int):
    """Kept / broken / cancelled, from the open commitments of a customer's page
    (``on`` = "accounts:12" says which page to answer with)."""
    kind_path, _sep, record_pk = (request.POST.get("on") or "").partition(":")
    if kind_path not in KINDS or not record_pk.isdigit():
        raise Http404()
    object_key, record = customer(request, kind_path, int(record_pk))
    events: dict = {}
    try:
        commitment_services.commitment_close(
            **actor_scope(request),
            commitment_id=pk,
            status=request.POST.get("status", ""),
            resolution=request.POST.get("resolution", ""),
        )
    except ApplicationError as exc:
        message = error_message(exc)
        events["toast"] = {"message": message, "level": "error"}
        if not request.htmx:
            messages.error(request, message)
    else:
        events["toast"] = {"message": gettext("Promise closed."), "level": "success"}
        events["timeline-changed"] = True
        if not request.htmx:
            messages.success(request, gettext("Promise closed."))
    if not request.htmx:
        return redirect(_detail_url(object_key, record))
    return _commitments_response(request, object_key, record, events=events)
