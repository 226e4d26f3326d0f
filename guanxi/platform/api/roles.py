"""``/roles``: roles, their rights and their field rules."""

from __future__ import annotations

from ninja import Query, Status

from guanxi.common.api import Id, PageParams, page_from_list, page_of, page_response, responses

from .. import selectors, services
from ..schemas import FieldRuleIn, FieldRuleOut, RoleCreateIn, RoleOut, RoleUpdateIn
from .common import _admin_scope, _ws, router


@router.get(
    "/roles",
    response=responses(page_of(RoleOut)),
    tags=["Roles"],
    operation_id="roles_list",
    summary="List roles",
)
def roles_list(request, page: Query[PageParams]):
    return page_response(selectors.role_list(**_ws(request)), page, key="name")


@router.get(
    "/roles/{role_id}",
    response=responses(RoleOut),
    tags=["Roles"],
    operation_id="roles_get",
    summary="Get a role with its rights",
)
def roles_get(request, role_id: Id):
    return selectors.role_get(**_ws(request), role_id=role_id)


@router.post(
    "/roles",
    response=responses(RoleOut, status=201),
    tags=["Roles"],
    operation_id="roles_create",
    summary="Create a role (administrators)",
)
def roles_create(request, payload: RoleCreateIn):
    _admin_scope(request)
    role = services.role_create(**_ws(request), **payload.dict())
    return Status(201, role)


@router.patch(
    "/roles/{role_id}",
    response=responses(RoleOut),
    tags=["Roles"],
    operation_id="roles_update",
    summary="Change a role (administrators)",
)
def roles_update(request, role_id: Id, payload: RoleUpdateIn):
    _admin_scope(request)
    return services.role_update(**_ws(request), role_id=role_id, **payload.changes())


@router.delete(
    "/roles/{role_id}",
    response=responses(None, status=204),
    tags=["Roles"],
    operation_id="roles_delete",
    summary="Delete a role nobody holds (administrators)",
)
def roles_delete(request, role_id: Id):
    _admin_scope(request)
    services.role_delete(**_ws(request), role_id=role_id)
    return Status(204, None)


@router.get(
    "/roles/{role_id}/field-rules",
    response=responses(page_of(FieldRuleOut)),
    tags=["Roles"],
    operation_id="roles_field_rules_list",
    summary="Fields a role may not see or change",
)
def roles_field_rules_list(request, role_id: Id, page: Query[PageParams]):
    rules = selectors.role_field_rules(**_ws(request), role_id=role_id)
    rows = sorted(
        (
            {"object_key": key, "field": field, "access": access}
            for key, fields in rules.items()
            for field, access in fields.items()
        ),
        key=lambda r: (r["object_key"], r["field"]),
    )
    return page_from_list(rows, page, sort_key=lambda r: (r["object_key"], r["field"]))


@router.put(
    "/roles/{role_id}/field-rules",
    response=responses(FieldRuleIn),
    tags=["Roles"],
    operation_id="roles_field_rules_set",
    summary="Hide a field from a role, make it read-only, or lift the rule (administrators)",
)
def roles_field_rules_set(request, role_id: Id, payload: FieldRuleIn):
    _admin_scope(request)
    services.role_set_field_rule(**_ws(request), role_id=role_id, **payload.dict())
    return payload
