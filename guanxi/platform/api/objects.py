"""``/objects``: the registered business objects and the JSON Schema of each, as the caller
sees it (hidden fields left out, read-only ones marked)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _
from ninja import Query

from guanxi.common.api import PageParams, page_from_list, page_of, responses
from guanxi.common.errors import NotFound

from .. import custom_fields, permissions, registry, selectors
from ..models import CustomField, FieldType, User
from ..schemas import ObjectKey, ObjectOut
from .common import _ws, router


def _object_fields(obj: registry.BusinessObject, definitions: list[CustomField]) -> list[dict]:
    fields = [
        {
            "name": f.name,
            "label": str(f.label),
            "restrictable": f.restrictable,
            "custom": False,
            "field_type": None,
        }
        for f in obj.fields
    ]
    fields += [
        {
            "name": f"custom.{d.key}",
            "label": d.label,
            "restrictable": True,
            "custom": True,
            "field_type": d.field_type,
        }
        for d in definitions
    ]
    return fields


@router.get(
    "/objects",
    response=responses(page_of(ObjectOut)),
    tags=["Objects"],
    operation_id="objects_list",
    summary="Business objects: what rights, field rules and custom fields refer to",
)
def objects_list(request, page: Query[PageParams]):
    definitions: dict[str, list[CustomField]] = {}
    for d in selectors.custom_field_list(**_ws(request), active_only=True):
        definitions.setdefault(d.object_key, []).append(d)
    objects = sorted(registry.all_objects(), key=lambda o: o.key)

    def serialize(obj: registry.BusinessObject) -> dict:
        return {
            "key": obj.key,
            "label": str(obj.label),
            "label_plural": str(obj.label_plural),
            "supports_custom_fields": obj.supports_custom_fields,
            "has_owner": obj.owner_field is not None,
            "fields": _object_fields(obj, definitions.get(obj.key, [])),
        }

    return page_from_list(objects, page, sort_key=lambda o: (o.key,), serialize=serialize)


@router.get(
    "/objects/{object_key}/schema",
    response=responses(dict[str, Any]),
    tags=["Objects"],
    operation_id="objects_schema",
    summary="JSON Schema of an object's fields, the workspace's custom fields included",
)
def objects_schema(request, object_key: ObjectKey):
    obj = registry.find(object_key)
    if obj is None:
        raise NotFound()
    return object_json_schema(obj, actor=request.user, workspace=request.workspace)


def _model_field_schema(field: models.Field) -> dict[str, Any]:
    if isinstance(field, models.ForeignKey):
        return {"type": "integer", "description": str(_("Id of the related record."))}
    if isinstance(field, models.BooleanField):
        schema: dict[str, Any] = {"type": "boolean"}
    elif isinstance(field, models.IntegerField):  # auto fields too
        schema = {"type": "integer"}
    elif isinstance(field, models.FloatField):
        schema = {"type": "number"}
    elif isinstance(field, models.DecimalField):
        schema = {"type": "string", "format": "decimal"}
    elif isinstance(field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, models.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, models.JSONField):
        schema = {}
    elif isinstance(field, models.CharField | models.TextField):
        schema = {"type": "string"}
        if isinstance(field, models.EmailField):
            schema["format"] = "email"
        elif isinstance(field, models.URLField):
            schema["format"] = "uri"
        if field.max_length:
            schema["maxLength"] = field.max_length
    else:
        schema = {}
    if field.choices:
        schema["enum"] = [value for value, _label in field.flatchoices]
    return schema


_CUSTOM_TYPE_SCHEMAS: dict[str, dict[str, Any]] = {
    FieldType.TEXT: {"type": "string", "maxLength": custom_fields.MAX_TEXT},
    FieldType.LONG_TEXT: {"type": "string", "maxLength": custom_fields.MAX_LONG_TEXT},
    FieldType.NUMBER: {"type": "number"},
    FieldType.MONEY: {"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$"},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.DATETIME: {"type": "string", "format": "date-time"},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.PHONE: {"type": "string", "pattern": r"^\+[1-9]\d{1,14}$"},
    FieldType.EMAIL: {"type": "string", "format": "email"},
    FieldType.URL: {"type": "string", "format": "uri"},
    FieldType.USER: {"type": "integer", "description": "Id of a user of this workspace."},
}


def _custom_field_schema(definition: CustomField) -> dict[str, Any]:
    choices = [str(c["value"]) for c in definition.choices or []]
    if definition.field_type == FieldType.CHOICE:
        schema: dict[str, Any] = {"type": "string", "enum": choices}
    elif definition.field_type == FieldType.MULTI_CHOICE:
        schema = {
            "type": "array",
            "items": {"type": "string", "enum": choices},
            "uniqueItems": True,
        }
    else:
        schema = dict(_CUSTOM_TYPE_SCHEMAS.get(definition.field_type, {}))
    schema["title"] = definition.label
    if definition.help_text:
        schema["description"] = definition.help_text
    if definition.default is not None:
        schema["default"] = definition.default
    schema["x-field-type"] = definition.field_type
    return schema


def object_json_schema(obj: registry.BusinessObject, *, actor: User, workspace) -> dict[str, Any]:
    """A JSON Schema (2020-12) of one business object as this actor sees it: built-in fields
    (foreign keys as ``<name>_id``), then ``custom`` with the workspace's active custom fields.
    Fields hidden from the actor's role are left out; read-only ones say so."""
    rules = permissions.field_rules(actor, obj.key)
    hidden = permissions.hidden_fields(actor, obj.key)
    properties: dict[str, Any] = {"id": {"type": "integer", "readOnly": True}}
    required = ["id"]
    for spec in obj.fields:
        if spec.name in hidden:
            continue
        try:
            field = obj.model._meta.get_field(spec.name)
        except FieldDoesNotExist:  # a registered name that is not a model field
            field = None
        schema = _model_field_schema(field) if field is not None else {}
        schema["title"] = str(spec.label)
        if spec.name in rules:
            schema["readOnly"] = True
        name = f"{spec.name}_id" if isinstance(field, models.ForeignKey) else spec.name
        if field is not None and getattr(field, "null", False) and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        properties[name] = schema
        if (
            field is not None
            and not field.null
            and not field.blank
            and not field.has_default()
            and not getattr(field, "auto_now", False)
            and not getattr(field, "auto_now_add", False)
        ):
            required.append(name)
    if obj.supports_custom_fields:
        custom_props: dict[str, Any] = {}
        custom_required: list[str] = []
        for definition in custom_fields.definitions(workspace, obj.key):
            if f"custom.{definition.key}" in hidden:
                continue
            schema = _custom_field_schema(definition)
            if f"custom.{definition.key}" in rules:
                schema["readOnly"] = True
            custom_props[definition.key] = schema
            if definition.required:
                custom_required.append(definition.key)
        properties["custom"] = {
            "type": "object",
            "title": str(_("custom fields")),
            "properties": custom_props,
            "required": custom_required,
            "additionalProperties": False,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"/api/v1/objects/{obj.key}/schema",
        "title": str(obj.label),
        "type": "object",
        "properties": properties,
        "required": required,
    }
