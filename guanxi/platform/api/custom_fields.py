"""``/custom-fields``: the workspace's custom field definitions."""

from __future__ import annotations

from ninja import Query, Status

from guanxi.common.api import Id, PageParams, page_of, page_response, responses

from .. import selectors, services
from ..schemas import CustomFieldCreateIn, CustomFieldFilters, CustomFieldOut, CustomFieldUpdateIn
from .common import _admin_scope, _ws, router


@router.get(
    "/custom-fields",
    response=responses(page_of(CustomFieldOut)),
    tags=["Custom fields"],
    operation_id="custom_fields_list",
    summary="List custom field definitions",
)
def custom_fields_list(request, filters: Query[CustomFieldFilters], page: Query[PageParams]):
    qs = selectors.custom_field_list(**_ws(request), object_key=filters.object_key)
    return page_response(qs, page, key="position")


@router.get(
    "/custom-fields/{field_id}",
    response=responses(CustomFieldOut),
    tags=["Custom fields"],
    operation_id="custom_fields_get",
    summary="Get a custom field definition",
)
def custom_fields_get(request, field_id: Id):
    return selectors.custom_field_get(**_ws(request), field_id=field_id)


@router.post(
    "/custom-fields",
    response=responses(CustomFieldOut, status=201),
    tags=["Custom fields"],
    operation_id="custom_fields_create",
    summary="Define a custom field (administrators)",
)
def custom_fields_create(request, payload: CustomFieldCreateIn):
    _admin_scope(request)
    definition = services.custom_field_create(**_ws(request), **payload.dict())
    return Status(201, definition)


@router.patch(
    "/custom-fields/{field_id}",
    response=responses(CustomFieldOut),
    tags=["Custom fields"],
    operation_id="custom_fields_update",
    summary="Change a custom field's label, rules, choices or order (administrators)",
)
def custom_fields_update(request, field_id: Id, payload: CustomFieldUpdateIn):
    _admin_scope(request)
    return services.custom_field_update(**_ws(request), field_id=field_id, **payload.changes())


@router.delete(
    "/custom-fields/{field_id}",
    response=responses(None, status=204),
    tags=["Custom fields"],
    operation_id="custom_fields_delete",
    summary="Delete a custom field (administrators)",
)
def custom_fields_delete(request, field_id: Id):
    _admin_scope(request)
    services.custom_field_delete(**_ws(request), field_id=field_id)
    return Status(204, None)
