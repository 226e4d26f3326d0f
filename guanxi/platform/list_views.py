"""Rendering a registered list: the page, its htmx partial, bulk actions, saved views, export."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from guanxi.common.errors import ApplicationError

from . import jobs, permissions, selectors, services
from .lists import BoundList, cell_html, get_spec
from .models import Action


def render_list(request, list_key: str, *, template: str = "components/list_page.html", extra=None):
    spec = get_spec(list_key)
    actor, workspace = request.user, request.workspace
    permissions.require(actor, spec.object_key, Action.READ)
    bound = BoundList(spec, workspace=workspace, actor=actor)

    if request.method == "POST":
        return _post(request, bound)

    params = request.GET
    views = list(selectors.saved_views(workspace=workspace, actor=actor, list_key=list_key))
    view_id = params.get("view")
    if view_id and not any(k in params for k in ("sort", "q", "cols")):
        chosen = next((v for v in views if str(v.pk) == view_id), None)
        if chosen is not None:
            params = QueryDict(mutable=True)
            params.update(chosen.params)
            params["view"] = view_id
    state = bound.state_from(params)
    error = None
    if request.GET.get("count") == "1":
        # Counting is on request only: a COUNT over a big table is the slow part of a list.
        try:
            total = bound.filtered(state).count()
        except ApplicationError as exc:
            return HttpResponse(str(exc.message))
        return HttpResponse(gettext("%(n)s in all") % {"n": f"{total:,}"})
    try:
        page = bound.page(state)
    except ApplicationError as exc:
        error = exc
        state.filters = {}
        page = bound.page(state)
    columns = bound.visible_columns(state)
    context = {
        "spec": spec,
        "searchable": spec.search is not None,
        "bound": bound,
        "state": state,
        "page": page,
        "columns": columns,
        "headers": [
            {
                "column": c,
                "active": c.key == state.sort,
                "query": state.query(
                    sort=c.key,
                    dir="desc" if c.key == state.sort and not state.descending else "asc",
                )
                if c.sort
                else None,
            }
            for c in columns
        ],
        "rows": [
            {**row, "cells": [{**c, "value": cell_html(c["value"])} for c in row["cells"]]}
            for row in bound.rows(page.items, columns)
        ],
        "first": state.start,
        "last": state.start + len(page.items) - 1,
        "next_query": state.query(cursor=page.next_cursor, start=str(state.start + len(page.items)))
        if page.next_cursor
        else None,
        "first_query": state.query(),
        "filter_widgets": bound.filter_widgets(state),
        "saved_views": views,
        "current_view": params.get("view", ""),
        "can_export": permissions.can(actor, spec.object_key, Action.EXPORT),
        "can_bulk": bool(spec.bulk_actions)
        and permissions.can(actor, spec.object_key, Action.BULK),
        # One value select per action that takes one, named after its action.
        "bulk_selects": [
            {"action": a, "choices": bound.choices(a.value_choices)}
            for a in spec.bulk_actions
            if a.value_choices
        ],
        "filter_error": error,
        **(extra or {}),
    }
    if request.htmx and request.htmx.target == "list-body":
        return render(request, "components/list_table.html", context)
    return render(request, template, context)


def _post(request, bound: BoundList):
    spec, actor, workspace = bound.spec, request.user, request.workspace
    op = request.POST.get("op")
    back = request.POST.get("back") or request.path
    if not back.startswith("/"):
        back = request.path
    try:
        if op == "save_view":
            params = QueryDict(request.POST.get("params", ""))
            state = bound.state_from(params)
            services.saved_view_save(
                actor=actor,
                workspace=workspace,
                list_key=spec.key,
                name=request.POST.get("name", ""),
                params=state.saved_params(),
            )
            messages.success(request, gettext("View saved."))
        elif op == "delete_view":
            services.saved_view_delete(
                actor=actor, workspace=workspace, view_id=request.POST.get("view_id")
            )
            messages.success(request, gettext("View deleted."))
            back = request.path
        elif op == "export":
            permissions.require(actor, spec.object_key, Action.EXPORT)
            fmt = request.POST.get("format", "csv")
            if fmt not in ("csv", "xlsx"):
                raise ApplicationError(gettext("Choose CSV or XLSX."))
            params = QueryDict(request.POST.get("params", ""))
            job = jobs.job_start(
                actor=actor,
                workspace=workspace,
                kind="platform.list_export",
                params={"list_key": spec.key, "params": params.dict(), "format": fmt},
            )
            return render(request, "components/export_started.html", {"job": job})
        elif op == "bulk":
            count = run_bulk_action(
                bound,
                action_key=request.POST.get("action", ""),
                ids=request.POST.getlist("ids"),
                # One select per action that takes a value: the one the user filled in.
                value=next((v for v in request.POST.getlist("value") if v), ""),
            )
            messages.success(request, gettext("Done for %(n)s records.") % {"n": count})
        else:
            raise ApplicationError(gettext("Unknown operation."))
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
    return redirect(back)


def _error_text(exc: ApplicationError) -> str:
    details = "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.fields.items())
    return f"{exc.message} {details}".strip()


def run_bulk_action(bound: BoundList, *, action_key: str, ids: list[str], value: str) -> int:
    """Run a bulk action on the chosen rows, all or nothing. Row errors are reported
    together and nothing is changed when any row fails."""
    spec, actor, workspace = bound.spec, bound.actor, bound.workspace
    permissions.require(actor, spec.object_key, Action.BULK)
    action = next((a for a in spec.bulk_actions if a.key == action_key), None)
    if action is None:
        raise ApplicationError(gettext("Choose an action."))
    try:
        pks = sorted({int(i) for i in ids})
    except ValueError:
        raise ApplicationError(gettext("The selection is not valid.")) from None
    if not pks:
        raise ApplicationError(gettext("Select at least one record."))
    if len(pks) > 1000:
        raise ApplicationError(gettext("Select at most 1,000 records at a time."))
    rows = list(spec.queryset(workspace, actor).filter(pk__in=pks))
    if len(rows) != len(pks):
        raise ApplicationError(gettext("Some selected records are not available to you."))
    errors: dict[str, list] = {}
    with transaction.atomic():
        for row in rows:
            try:
                with transaction.atomic():
                    action.run(actor=actor, workspace=workspace, row=row, value=value)
            except ApplicationError as exc:
                errors[str(row)] = [_error_text(exc)]
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ApplicationError(
            gettext("Nothing was changed: %(n)s records could not be updated.")
            % {"n": len(errors)},
            code="bulk_failed",
            fields=errors,
        )
    return len(rows)
