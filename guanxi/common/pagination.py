"""Keyset (cursor) pagination: no OFFSET, no COUNT, the same cost on page 1 and page 10,000.

Rows are ordered by one sort key and the primary key as tie-breaker, nulls last in both
directions. The cursor is an opaque token holding the last row's sort value and id.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    limit: int


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return {"t": "dt" if isinstance(value, dt.datetime) else "d", "v": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"t": "dec", "v": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        kind, raw = value.get("t"), value.get("v")
        if kind == "dt":
            return dt.datetime.fromisoformat(raw)
        if kind == "d":
            return dt.date.fromisoformat(raw)
        if kind == "dec":
            return decimal.Decimal(raw)
        raise ValueError("unknown cursor value")
    return value


def encode_cursor(value: Any, pk: Any) -> str:
    raw = json.dumps([_encode_value(value), pk], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return _decode_value(value), pk
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc


MAX_ID = 2**63 - 1

# What a cursor value must be for the sort key's field, checked before the database sees it.
_CURSOR_TYPES: tuple[tuple[type, tuple[type, ...]], ...] = (
    (models.DateTimeField, (dt.datetime,)),
    (models.DateField, (dt.date,)),
    (models.BooleanField, (bool,)),
    (models.IntegerField, (int,)),
    (models.DecimalField, (decimal.Decimal, int)),
    (models.CharField, (str,)),
    (models.TextField, (str,)),
)


def invalid_cursor() -> ApplicationError:
    return ApplicationError(_("The page cursor is not valid."), code="invalid_cursor")


def _check_cursor(queryset: QuerySet, key: str, value: Any, pk: Any) -> None:
    """Refuse a forged cursor whose values do not fit the sort key (a string where a date
    goes would otherwise fail inside the query, and abort a PostgreSQL transaction)."""
    if not isinstance(pk, int) or isinstance(pk, bool) or not -MAX_ID <= pk <= MAX_ID:
        raise invalid_cursor()
    if key == "pk" or value is None:
        return
    try:
        field = queryset.query.chain().resolve_ref(key).output_field
    except (FieldError, AttributeError):
        return
    for field_class, types in _CURSOR_TYPES:
        if isinstance(field, field_class):
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                raise invalid_cursor()
            if isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
                raise invalid_cursor()
            return
    if not isinstance(value, str | int | float | decimal.Decimal | dt.date):
        raise invalid_cursor()


def clamp_limit(limit: int | None, max_limit: int = MAX_LIMIT) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > max_limit:
        raise ApplicationError(
            _("The page size must be between 1 and %(max)s.") % {"max": max_limit},
            code="invalid_limit",
            fields={"limit": [_("Must be between 1 and %(max)s.") % {"max": max_limit}]},
        )
    return limit


def _after(key: str, value: Any, pk: Any, descending: bool, nullable: bool) -> Q:
    """Rows after (``value``, ``pk``) in the order (key, pk), both in one direction."""
    beyond = "lt" if descending else "gt"
    later_tie = Q(**{f"pk__{beyond}": pk})
    if value is None:
        # Nulls come last: after a null only later nulls follow.
        return Q(**{f"{key}__isnull": True}) & later_tie
    # "key >= value AND (key > value OR id beyond)": the first term is a range the
    # (workspace, key, id) index seeks to, so a deep page costs what the first one does.
    at_or_beyond = "lte" if descending else "gte"
    after = Q(**{f"{key}__{at_or_beyond}": value}) & (Q(**{f"{key}__{beyond}": value}) | later_tie)
    return after | Q(**{f"{key}__isnull": True}) if nullable else after


def _nullable(queryset: QuerySet, key: str) -> bool:
    """Whether rows may hold NULL under ``key``: annotations and related fields may."""
    try:
        field = queryset.model._meta.get_field(key)
    except FieldDoesNotExist:
        return True
    return field.null or field.is_relation


def paginate(
    queryset: QuerySet,
    *,
    key: str = "pk",
    descending: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
    max_limit: int = MAX_LIMIT,
) -> Page:
    """One page of ``queryset`` ordered by ``key`` (a field or annotation) then by pk.

    ``max_limit`` is for internal batch readers (exports); user input keeps the default.
    """
    limit = clamp_limit(limit, max_limit)
    pk_order = "-pk" if descending else "pk"
    if key == "pk":
        queryset = queryset.order_by(pk_order)
    else:
        # One direction for key and id, and NULLS LAST only where NULLs can be: then an
        # index on (workspace, key, id) serves the order as it is, with no sort step.
        nullable = _nullable(queryset, key)
        column = (
            F(key).desc(nulls_last=nullable or None)
            if descending
            else F(key).asc(nulls_last=nullable or None)
        )
        queryset = queryset.order_by(column, pk_order)
    if cursor:
        value, pk = decode_cursor(cursor)
        _check_cursor(queryset, key, value, pk)
        if key == "pk":
            queryset = queryset.filter(pk__lt=pk) if descending else queryset.filter(pk__gt=pk)
        else:
            queryset = queryset.filter(_after(key, value, pk, descending, nullable))
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(_key_value(last, key), last.pk)
    return Page(items=rows, next_cursor=next_cursor, limit=limit)


def _key_value(row: Any, key: str) -> Any:
    value = row
    for part in key.split("__"):
        value = getattr(value, part, None) if value is not None else None
    if key == "pk":
        return row.pk
    return value
