"""The reusable list: sort, filters (custom fields included), keyset pages, saved views,
a column chooser, bulk actions and CSV/XLSX export — for any registered object.

An app describes a list with a ``ListSpec`` and renders it with ``render_list``; the same
spec drives the export job, so a file holds exactly what the list shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import paginate

from . import custom_fields, permissions
from .models import CustomField, FieldType, User


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    value: Callable[[Any], Any] | None = None  # row -> display value; default: attribute path
    sort: str | None = None  # field path to order by; None = not sortable
    link: bool = False  # render as a link to the row's detail page
    default: bool = True  # shown when the user has not chosen columns
    field: str | None = None  # the object's field this shows, for field-level restrictions
    numeric: bool = False

    def display(self, row) -> Any:
        if self.value is not None:
            return self.value(row)
        value = row
        for part in self.key.split("__"):
            value = getattr(value, part, None) if value is not None else None
        return value


@dataclass(frozen=True)
class Filter:
    key: str
    label: str | Promise
    kind: str = "choice"  # choice | text | bool | date_from | date_to
    apply: Callable[[QuerySet, str], QuerySet] | None = None
    choices: Callable[[Any, Any], list[tuple[str, str]]] | None = None  # (workspace, actor)
    field: str | None = None


@dataclass(frozen=True)
class BulkAction:
    key: str
    label: str | Promise
    # (actor, workspace, rows, value) -> None; runs inside one transaction: all or nothing.
    run: Callable[..., None]
    value_choices: Callable[[Any, Any], list[tuple[str, str]]] | None = None
    confirm: str | Promise | None = None


@dataclass
class ListSpec:
    key: str
    object_key: str
    title: str | Promise
    queryset: Callable[[Any, Any], QuerySet]  # (workspace, actor) -> visible rows
    columns: list[Column]
    filters: list[Filter] = field(default_factory=list)
    search: Callable[[QuerySet, str], QuerySet] | None = None
    default_sort: str = "pk"
    default_descending: bool = False
    bulk_actions: list[BulkAction] = field(default_factory=list)
    detail_url: Callable[[Any], str] | None = None


_specs: dict[str, ListSpec] = {}


def register(spec: ListSpec) -> ListSpec:
    _specs[spec.key] = spec
    return spec


def get_spec(key: str) -> ListSpec:
    return _specs[key]


@dataclass
class ListState:
    """A list as the user asked for it, from the query string or a saved view."""

    sort: str
    descending: bool
    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    cursor: str | None = None
    start: int = 1
    limit: int = 50

    def params(self, **overrides) -> dict[str, str]:
        data = {"sort": self.sort, "dir": "desc" if self.descending else "asc"}
        if self.q:
            data["q"] = self.q
        data.update({f"f_{k}": v for k, v in self.filters.items() if v != ""})
        if self.columns:
            data["cols"] = ",".join(self.columns)
        if self.limit != 50:
            data["limit"] = str(self.limit)
        data.update({k: v for k, v in overrides.items() if v is not None})
        return data

    def query(self, **overrides) -> str:
        return urlencode(self.params(**overrides))

    def saved_params(self) -> dict:
        return {k: v for k, v in self.params().items() if k not in ("cursor", "start")}


class BoundList:
    """A spec bound to one actor: the columns and filters they may use, custom fields added."""

    def __init__(self, spec: ListSpec, *, workspace, actor: User):
        self.spec = spec
        self.workspace = workspace
        self.actor = actor
        hidden = permissions.hidden_fields(actor, spec.object_key)
        self.definitions: dict[str, CustomField] = {
            d.key: d
            for d in custom_fields.definitions(workspace, spec.object_key)
            if f"custom.{d.key}" not in hidden
        }
        self._user_names: dict[int, str] | None = None
        self.columns: list[Column] = [c for c in spec.columns if (c.field or c.key) not in hidden]
        for d in self.definitions.values():
            self.columns.append(
                Column(
                    key=f"custom.{d.key}",
                    label=d.label,
                    sort=f"custom.{d.key}",
                    default=False,
                    value=self._custom_display(d),
                    numeric=d.field_type in custom_fields.NUMERIC_TYPES,
                )
            )
        self.filters: list[Filter] = [f for f in spec.filters if (f.field or f.key) not in hidden]
        self.columns_by_key = {c.key: c for c in self.columns}

    def _custom_display(self, definition: CustomField):
        currency = self.workspace.default_currency

        def show(row):
            value = (row.custom or {}).get(definition.key)
            if definition.field_type == FieldType.USER and value is not None:
                return custom_fields.display(definition, value, users=self.user_names())
            return custom_fields.display(definition, value, currency=currency)

        return show

    def choices(self, source) -> list[tuple[str, str]]:
        """The options of a filter or bulk action; a source used twice is read once."""
        cache = self.__dict__.setdefault("_choices", {})
        if source not in cache:
            cache[source] = source(self.workspace, self.actor)
        return cache[source]

    def user_names(self) -> dict[int, str]:
        if self._user_names is None:
            self._user_names = dict(
                User.objects.filter(workspace=self.workspace).values_list("id", "full_name")
            )
        return self._user_names

    def state_from(self, params) -> ListState:
        sort = params.get("sort") or self.spec.default_sort
        sortable = {c.key for c in self.columns if c.sort} | {"pk", self.spec.default_sort}
        if sort not in sortable:
            sort = self.spec.default_sort
        direction = params.get("dir")
        descending = self.spec.default_descending if direction is None else direction == "desc"
        filters = {}
        for key, value in params.items():
            if key.startswith("f_") and value not in ("", None):
                filters[key[2:]] = str(value)[:200]
        chosen = params.getlist("col") if hasattr(params, "getlist") else []
        chosen = chosen or (params.get("cols") or "").split(",")
        cols = [c for c in chosen if c in self.columns_by_key]
        try:
            start = max(1, int(params.get("start") or 1))
        except ValueError:
            start = 1
        try:
            limit = int(params.get("limit") or 50)
        except ValueError:
            limit = 50
        return ListState(
            sort=sort,
            descending=descending,
            q=(params.get("q") or "").strip()[:200],
            filters=filters,
            columns=cols,
            cursor=params.get("cursor") or None,
            start=start,
            limit=min(max(limit, 1), 200),
        )

    def visible_columns(self, state: ListState) -> list[Column]:
        if state.columns:
            return [self.columns_by_key[k] for k in state.columns]
        return [c for c in self.columns if c.default]

    def filtered(self, state: ListState) -> QuerySet:
        qs = self.spec.queryset(self.workspace, self.actor)
        if state.q and self.spec.search is not None:
            qs = self.spec.search(qs, state.q)
        by_key = {f.key: f for f in self.filters}
        errors: dict[str, list] = {}
        for key, value in state.filters.items():
            if key in by_key and by_key[key].apply is not None:
                qs = by_key[key].apply(qs, value)
                continue
            name, _sep, op = key.partition("__")
            if name.startswith("custom.") and name[7:] in self.definitions:
                definition = self.definitions[name[7:]]
                try:
                    qs = custom_fields.filter_queryset(qs, definition, op or "eq", value)
                except (ValueError, TypeError) as exc:
                    errors[f"f_{key}"] = [str(exc) or _("Not a valid value.")]
        if errors:
            raise ApplicationError(_("A filter value is not valid."), fields=errors)
        return qs

    def sort_key(self, qs: QuerySet, state: ListState) -> tuple[QuerySet, str]:
        column = self.columns_by_key.get(state.sort)
        sort = column.sort if column and column.sort else state.sort
        if sort.startswith("custom."):
            definition = self.definitions[sort[7:]]
            return qs.annotate(_list_sort=custom_fields.sort_expression(definition)), "_list_sort"
        return qs, sort

    def page(self, state: ListState):
        qs, key = self.sort_key(self.filtered(state), state)
        return paginate(
            qs, key=key, descending=state.descending, cursor=state.cursor, limit=state.limit
        )

    def rows(self, items, columns: list[Column]) -> list[dict]:
        out = []
        for item in items:
            cells = [{"column": c, "value": c.display(item)} for c in columns]
            url = self.spec.detail_url(item) if self.spec.detail_url else None
            out.append({"pk": item.pk, "cells": cells, "url": url, "object": item})
        return out

    def filter_widgets(self, state: ListState) -> list[dict]:
        widgets = []
        for f in self.filters:
            widgets.append(
                {
                    "name": f"f_{f.key}",
                    "label": f.label,
                    "kind": f.kind,
                    "value": state.filters.get(f.key, ""),
                    "choices": self.choices(f.choices) if f.choices else [],
                }
            )
        for d in self.definitions.values():
            name = f"f_custom.{d.key}"
            if d.field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
                op = "" if d.field_type == FieldType.CHOICE else "__contains"
                widgets.append(
                    {
                        "name": name + op,
                        "label": d.label,
                        "kind": "choice",
                        "value": state.filters.get(f"custom.{d.key}{op}", ""),
                        "choices": [(c["value"], c.get("label") or c["value"]) for c in d.choices],
                    }
                )
            elif d.field_type == FieldType.BOOLEAN:
                widgets.append(
                    {
                        "name": name,
                        "label": d.label,
                        "kind": "choice",
                        "value": state.filters.get(f"custom.{d.key}", ""),
                        "choices": [("true", _("Yes")), ("false", _("No"))],
                    }
                )
            elif d.field_type in (*custom_fields.NUMERIC_TYPES, FieldType.DATE, FieldType.DATETIME):
                for op, label in (("gte", "≥"), ("lte", "≤")):
                    widgets.append(
                        {
                            "name": f"{name}__{op}",
                            "label": f"{d.label} {label}",
                            "kind": "date" if d.field_type == FieldType.DATE else "text",
                            "value": state.filters.get(f"custom.{d.key}__{op}", ""),
                        }
                    )
            else:
                widgets.append(
                    {
                        "name": f"{name}__contains",
                        "label": d.label,
                        "kind": "text",
                        "value": state.filters.get(f"custom.{d.key}__contains", ""),
                    }
                )
        return widgets


def cell_text(value: Any) -> str:
    """A cell as plain text for files: dates in ISO form, booleans as yes/no."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    return str(value)


def cell_html(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "" if value is None else value


def search_q(fields: list[str], term: str) -> Q:
    q = Q()
    for name in fields:
        q |= Q(**{f"{name}__icontains": term})
    return q
