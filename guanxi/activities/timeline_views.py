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
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.views import error_message, page
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import Action, User

from . import timeline_display
from .models import CommitmentStatus
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


def _ws(request) -> dict:
    return {"actor": request.user, "workspace": request.workspace}


def customer(request, kind_path: str, pk: int):
    """The account or contact of a URL, visible to the actor (404 otherwise)."""
    object_key = KINDS.get(kind_path)
    if object_key is None:
        raise Http404()
    if object_key == ACCOUNT:
        return object_key, customer_selectors.account_get(**_ws(request), account_id=pk)
    return object_key, customer_selectors.contact_get(**_ws(request), contact_id=pk)


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
        (u.pk, (u.full_name or u.email) + ("" if u.is_active else _t(" (left)"))) for u in users
    ]


def contact_choices(request, object_key: str, record) -> list[tuple[int, str]]:
    """An account's people the actor can see (for "with whom" and the contact filter)."""
    if object_key != ACCOUNT:
        return []
    contacts = (
        customer_selectors.contact_list(**_ws(request))
        .filter(memberships__account=record)
        .select_related(None)
        .only("pk", "name")
        .order_by("name", "id")[:MAX_CONTACT_CHOICES]
    )
    return [(c.pk, c.name) for c in contacts]


def _filters(form: FilterForm) -> timeline_selectors.TimelineFilters:
    return timeline_selectors.TimelineFilters(**form.values())


def _timeline_page(request, object_key, record, filters, cursor=None):
    kwargs = {**_ws(request), "filters": filters, "cursor": cursor}
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


def section_context(
    request, object_key: str, record, *, log_forms=None, open_form: str = "", query=None
) -> dict:
    """Everything the timeline section shows: quick log forms, filter bar, first page."""
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
    if can_log:
        for kind in QUICK_KINDS:
            forms.setdefault(kind, LogForm(kind=kind, contact_choices=contacts))
    rows_url = _rows_url(object_key, record)
    return {
        "object_key": object_key,
        "record": record,
        "kind_path": PATHS[object_key],
        "page": page_,
        "filter_form": filter_form,
        "rows_url": rows_url,
        "next_url": (
            f"{rows_url}?{_querystring(filter_form, page_.next_cursor)}"
            if page_.next_cursor
            else None
        ),
        "section_url": f"{rows_url}?part=section",
        "log_url": reverse("activities:timeline_log", args=[PATHS[object_key], record.pk]),
        "log_forms": [
            (kind, QUICK_LABELS[kind], forms[kind]) for kind in QUICK_KINDS if kind in forms
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
    form = FilterForm(
        request.GET, author_choices=author_choices(request.workspace), contact_choices=contacts
    )
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


@page
@require_POST
def timeline_log(request, kind: str, pk: int):
    """A quick log form's POST: the entry (and its promise) through ``entry_log``."""
    object_key, record = customer(request, kind, pk)
    form_kind = request.POST.get("form", "")
    if form_kind not in QUICK_KINDS:
        raise Http404()
    contacts = contact_choices(request, object_key, record)
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
            saved = timeline_services.entry_log(**_ws(request), **values)
        except ApplicationError as exc:
            error_message(exc)  # denials and unknown records keep their 403/404 pages
            form.add_service_errors(exc)
    if not request.htmx:
        if saved is not None:
            messages.success(request, _t("Saved on the timeline."))
        else:
            errors = "; ".join(" ".join(map(str, errs)) for errs in form.errors.values())
            messages.error(request, errors or _t("Some fields are not valid."))
        return redirect(_detail_url(object_key, record))
    if saved is not None:
        context = section_context(request, object_key, record)
        events = {"toast": {"message": _t("Saved on the timeline."), "level": "success"}}
        if form.cleaned_data.get("commitment_text"):
            events["commitments-changed"] = True
        response = render(request, "activities/timeline_section.html", {"data": context})
        return _trigger(response, events)
    context = section_context(
        request, object_key, record, log_forms={form_kind: form}, open_form=form_kind
    )
    return render(request, "activities/timeline_section.html", {"data": context})


# --- commitments ---------------------------------------------------------------------------------


def commitments_context(request, object_key: str, record, *, form=None) -> dict:
    actor = request.user
    groups = commitment_selectors.open_by_promiser(
        **_ws(request),
        account=record if object_key == ACCOUNT else None,
        contact=record if object_key == CONTACT else None,
    )
    can_create = permissions.can(actor, COMMITMENT, Action.CREATE)
    if form is None and can_create:
        promisers = []
        if commitment_services.may_promise_for_others(actor):
            promisers = [(pk, label) for pk, label in author_choices(request.workspace)]
        form = PromiseForm(
            contact_choices=contact_choices(request, object_key, record),
            promiser_choices=promisers,
        )
    return {
        "object_key": object_key,
        "record": record,
        "kind_path": PATHS[object_key],
        "groups": groups,
        "form": form if can_create else None,
        "can_close": permissions.can(actor, COMMITMENT, Action.UPDATE),
        "panel_url": reverse("activities:commitment_panel", args=[PATHS[object_key], record.pk]),
        "create_url": reverse("activities:commitment_create", args=[PATHS[object_key], record.pk]),
        "statuses": [
            (CommitmentStatus.KEPT, _t("Kept")),
            (CommitmentStatus.BROKEN, _t("Broken")),
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
@require_POST
def commitment_create(request, kind: str, pk: int):
    object_key, record = customer(request, kind, pk)
    actor = request.user
    promisers = (
        author_choices(request.workspace)
        if commitment_services.may_promise_for_others(actor)
        else []
    )
    form = PromiseForm(
        request.POST,
        contact_choices=contact_choices(request, object_key, record),
        promiser_choices=promisers,
    )
    saved = None
    if form.is_valid():
        data = form.cleaned_data
        target = {"account_id": record.pk} if object_key == ACCOUNT else {"contact_id": record.pk}
        if object_key == ACCOUNT and data.get("contact"):
            target["contact_id"] = data["contact"]
        try:
            saved = commitment_services.commitment_create(
                **_ws(request),
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
            messages.success(request, _t("Promise recorded."))
        return redirect(_detail_url(object_key, record))
    if saved is None:
        return _commitments_response(request, object_key, record, form=form)
    return _commitments_response(
        request,
        object_key,
        record,
        events={
            "toast": {"message": _t("Promise recorded."), "level": "success"},
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
            **_ws(request),
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
        events["toast"] = {"message": _t("Promise closed."), "level": "success"}
        events["timeline-changed"] = True
        if not request.htmx:
            messages.success(request, _t("Promise closed."))
    if not request.htmx:
        return redirect(_detail_url(object_key, record))
    return _commitments_response(request, object_key, record, events=events)
