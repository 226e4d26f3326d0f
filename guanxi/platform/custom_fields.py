"""Custom field values: one code path that validates them, whatever the way in (form, API,
import). Values live in the row's ``custom`` JSON column, keyed by the field's ``key``;
PostgreSQL indexes that column with GIN (jsonb_path_ops) so equality filters use it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import connection
from django.db.models import DecimalField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.common import formatting
from guanxi.common.errors import ApplicationError

from . import permissions
from .models import CustomField, FieldType, User

NUMERIC_TYPES = {FieldType.NUMBER, FieldType.MONEY}
MAX_TEXT = 255
MAX_LONG_TEXT = 10_000


def definitions(workspace, object_key: str) -> list[CustomField]:
    return list(
        CustomField.objects.in_workspace(workspace).filter(object_key=object_key, is_active=True)
    )


def _choice_values(definition: CustomField) -> list[str]:
    return [str(c["value"]) for c in definition.choices]


def _is_empty(raw: Any) -> bool:
    return raw is None or raw == "" or raw == [] or (isinstance(raw, str) and not raw.strip())


def clean_value(definition: CustomField, raw: Any, *, workspace=None) -> Any:
    """Turn ``raw`` (from a form, JSON or a file cell) into the stored JSON value.

    Raises ``ValueError`` with a translated message when it is not acceptable.
    """
    if _is_empty(raw):
        return None
    kind = definition.field_type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        text = str(raw).strip()
        limit = MAX_TEXT if kind == FieldType.TEXT else MAX_LONG_TEXT
        if len(text) > limit:
            raise ValueError(gettext("At most %(n)s characters.") % {"n": limit})
        return text
    if kind in NUMERIC_TYPES:
        if isinstance(raw, bool):
            raise ValueError(gettext("Enter a number."))
        try:
            number = decimal.Decimal(str(raw).strip().replace(",", ""))
        except decimal.InvalidOperation:
            raise ValueError(gettext("Enter a number.")) from None
        if not number.is_finite() or abs(number) >= decimal.Decimal("1e15"):
            raise ValueError(gettext("Enter a number."))
        if kind == FieldType.MONEY:
            return str(number.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == FieldType.DATE:
        value = raw if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime) else None
        if value is None:
            try:
                value = parse_date(str(raw).strip())
            except ValueError:
                value = None
        if value is None:
            raise ValueError(gettext("Enter a date as YYYY-MM-DD."))
        return value.isoformat()
    if kind == FieldType.DATETIME:
        value = raw if isinstance(raw, dt.datetime) else None
        if value is None:
            try:
                value = parse_datetime(str(raw).strip())
            except ValueError:
                value = None
        if value is None:
            raise ValueError(gettext("Enter a date and time as YYYY-MM-DD HH:MM."))
        if value.tzinfo is None:
            from django.utils import timezone

            value = timezone.make_aware(value)
        return value.isoformat()
    if kind == FieldType.CHOICE:
        value = str(raw).strip()
        if value not in _choice_values(definition):
            raise ValueError(gettext("“%(value)s” is not one of the choices.") % {"value": value})
        return value
    if kind == FieldType.MULTI_CHOICE:
        items = (
            raw if isinstance(raw, list | tuple) else [p for p in re.split(r"[,;，；|]", str(raw))]
        )
        values = [str(v).strip() for v in items if str(v).strip()]
        allowed = _choice_values(definition)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValueError(gettext("“%(value)s” is not one of the choices.") % {"value": bad[0]})
        return sorted(set(values), key=allowed.index) or None
    if kind == FieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "y", "on", "是", "對", "对"):
            return True
        if text in ("0", "false", "no", "n", "off", "否"):
            return False
        raise ValueError(gettext("Enter yes or no."))
    if kind == FieldType.PHONE:
        try:
            number = phonenumbers.parse(str(raw).strip(), "CN")
        except phonenumbers.NumberParseException:
            raise ValueError(gettext("Enter a valid phone number.")) from None
        if not phonenumbers.is_valid_number(number):
            raise ValueError(gettext("Enter a valid phone number."))
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == FieldType.EMAIL:
        text = str(raw).strip()
        try:
            EmailValidator()(text)
        except ValidationError:
            raise ValueError(gettext("Enter a valid e-mail address.")) from None
        return text.lower()
    if kind == FieldType.URL:
        text = str(raw).strip()
        try:
            URLValidator(schemes=["http", "https"])(text)
        except ValidationError:
            raise ValueError(
                gettext("Enter a valid URL starting with http:// or https://.")
            ) from None
        return text
    if kind == FieldType.USER:
        try:
            user_id = int(raw.pk if isinstance(raw, User) else raw)
        except (TypeError, ValueError):
            raise ValueError(gettext("Choose a user of this workspace.")) from None
        if not User.objects.filter(pk=user_id, workspace=workspace).exists():
            raise ValueError(gettext("Choose a user of this workspace."))
        return user_id
    raise ValueError(gettext("Unknown field type."))


def validate(
    *,
    workspace,
    object_key: str,
    values: dict[str, Any] | None,
    current: dict[str, Any] | None = None,
    instance_pk: Any = None,
    model=None,
    partial: bool = False,
) -> dict[str, Any]:
    """Validate ``values`` against the object's custom fields and return the new ``custom``.

    ``current`` is the row's stored values (for updates); with ``partial`` only the keys
    given change. Defaults fill in on create. Raises one ``ApplicationError`` listing every
    bad field as ``custom.<key>``.
    """
    values = dict(values or {})
    defs = {d.key: d for d in definitions(workspace, object_key)}
    errors: dict[str, list] = {}
    for key in values:
        if key not in defs:
            errors[f"custom.{key}"] = [_("There is no custom field “%(key)s”.") % {"key": key}]
    result = dict(current or {})
    creating = current is None
    for key, definition in defs.items():
        if key in values:
            raw = values[key]
        elif partial and not creating:
            continue
        elif creating and definition.default is not None:
            raw = definition.default
        else:
            raw = None if not partial else result.get(key)
        try:
            value = clean_value(definition, raw, workspace=workspace)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
            continue
        if value is None and definition.required:
            errors[f"custom.{key}"] = [_("This field is required.")]
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
        if value is not None and definition.unique and model is not None:
            clash = model.objects.filter(workspace=workspace).filter(custom_value_q(key, value))
            if instance_pk is not None:
                clash = clash.exclude(pk=instance_pk)
            if clash.exists():
                errors[f"custom.{key}"] = [
                    _("Another record already has this %(label)s.") % {"label": definition.label}
                ]
    if errors:
        raise ApplicationError(
            _("Some custom fields are not valid."), code="invalid_custom_fields", fields=errors
        )
    return result


def validate_changes(*, instance, object_key: str, values: dict[str, Any] | None) -> dict[str, Any]:
    """The row's new ``custom`` after a partial update of some of its custom values."""
    return validate(
        workspace=instance.workspace_id,
        object_key=object_key,
        values=values,
        current=instance.custom,
        instance_pk=instance.pk,
        model=type(instance),
        partial=True,
    )


def custom_value_q(key: str, value: Any) -> Q:
    """Equality on one custom value, through the GIN index on PostgreSQL."""
    if connection.vendor == "postgresql":
        return Q(custom__contains={key: value})
    return Q(**{f"custom__{key}": value})


def filter_queryset(queryset: QuerySet, definition: CustomField, op: str, value: Any) -> QuerySet:
    """Apply a list filter on a custom field. ``op`` is eq, contains, gte, lte or empty."""
    key = definition.key
    if op == "empty":
        return queryset.filter(Q(**{f"custom__{key}__isnull": True}))
    if op == "contains":
        if definition.field_type == FieldType.MULTI_CHOICE:
            if connection.vendor == "postgresql":
                return queryset.filter(custom__contains={key: [value]})
            return queryset.filter(**{f"custom__{key}__icontains": f'"{value}"'})
        return queryset.filter(**{f"custom__{key}__icontains": value})
    cleaned = (
        clean_value(definition, value, workspace=None)
        if definition.field_type != FieldType.USER
        else int(value)
    )
    if op == "eq":
        return queryset.filter(custom_value_q(key, cleaned))
    if op in ("gte", "lte"):
        if definition.field_type in NUMERIC_TYPES:
            return queryset.annotate(
                **{
                    f"_cf_{key}": Cast(
                        KeyTextTransform(key, "custom"),
                        DecimalField(max_digits=20, decimal_places=4),
                    )
                }
            ).filter(**{f"_cf_{key}__{op}": decimal.Decimal(str(cleaned))})
        return queryset.filter(**{f"custom__{key}__{op}": cleaned})
    raise ValueError(op)


def sort_expression(definition: CustomField):
    """An expression to order by a custom field (numbers numerically)."""
    text = KeyTextTransform(definition.key, "custom")
    if definition.field_type in NUMERIC_TYPES:
        return Cast(text, DecimalField(max_digits=20, decimal_places=4))
    return text


def display(
    definition: CustomField,
    value: Any,
    *,
    users: dict[int, str] | None = None,
    currency: str = "CNY",
) -> str:
    """A value as shown in a list or detail page, in the reader's language."""
    if value is None or value == "":
        return ""
    kind = definition.field_type
    if kind in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        labels = {str(c["value"]): c.get("label") or c["value"] for c in definition.choices}
        items = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(str(v), v)) for v in items)
    if kind == FieldType.BOOLEAN:
        return str(_("Yes") if value else _("No"))
    if kind == FieldType.USER:
        return (users or {}).get(int(value), str(value))
    try:
        if kind == FieldType.MONEY:
            return formatting.format_money(value, currency)
        if kind == FieldType.NUMBER:
            return formatting.format_number(value)
        if kind == FieldType.DATE:
            return formatting.format_date(value)
        if kind == FieldType.DATETIME:
            return formatting.format_datetime(value)
    except (ValueError, decimal.InvalidOperation):
        pass  # a value stored before its field changed type shows as it is
    return str(value)


def display_rows(*, workspace, actor, object_key: str, values: dict | None) -> list[tuple]:
    """``(label, shown value)`` of a record's custom fields for a detail page, without the
    fields hidden from the actor's role; user names are read once, only when needed."""
    hidden = permissions.hidden_fields(actor, object_key)
    defs = [d for d in definitions(workspace, object_key) if f"custom.{d.key}" not in hidden]
    users = {}
    if any(d.field_type == FieldType.USER for d in defs):
        users = dict(User.objects.filter(workspace=workspace).values_list("id", "full_name"))
    currency = workspace.default_currency
    return [
        (d.label, display(d, (values or {}).get(d.key), users=users, currency=currency))
        for d in defs
    ]
