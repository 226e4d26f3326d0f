"""The platform's REST endpoints: the caller, users, teams, roles, field rules, custom fields,
business objects and their JSON Schemas, the audit log, background jobs and API tokens.

Every endpoint calls the same services and selectors as the pages; what happens here is
translation between HTTP and those calls, plus the API's own concerns (token scopes,
pages, hiding the fields a role may not see).
"""

from __future__ import annotations

import hmac
import re
from datetime import timedelta
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from guanxi.common.api import (
    Id,
    PageParams,
    SessionAuth,
    page_from_list,
    page_of,
    page_response,
    require_method_scope,
    require_scope,
    responses,
)
from guanxi.common.errors import NotFound, PermissionDenied

from . import custom_fields, permissions, registry, selectors, services
from .models import (
    ApiToken,
    AuditEntry,
    CustomField,
    FieldType,
    Job,
    Team,
    User,
)
from .schemas import (
    AuditFilters,
    AuditOut,
    CustomFieldCreateIn,
    CustomFieldFilters,
    CustomFieldOut,
    CustomFieldUpdateIn,
    FieldRuleIn,
    FieldRuleOut,
    JobOut,
    MeOut,
    ObjectKey,
    ObjectOut,
    RoleCreateIn,
    RoleOut,
    RoleUpdateIn,
    TeamCreateIn,
    TeamOut,
    TeamUpdateIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenFilters,
    TokenOut,
    UserCreateIn,
    UserFilters,
    UserOut,
    UserUpdateIn,
)

router = Router()

# --- authentication -----------------------------------------------------------------------------

TOKEN_PATTERN = re.compile(r"gx_(?P<prefix>[0-9a-f]{8})_[A-Za-z0-9_-]{16,128}")
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_EVERY = timedelta(minutes=1)


class BearerAuth(HttpBearer):
    """A personal API token: ``Authorization: Bearer gx_<prefix>_<secret>``."""

    openapi_bearerFormat = "gx_<prefix>_<secret>"
    openapi_description = (
        "A personal API token (`guanxi token create`, or POST /api/v1/tokens). "
        "GET needs the read scope, other methods write, administration also admin."
    )

    def authenticate(self, request: HttpRequest, token: str):
        api_token = _token_for(token)
        user = api_token.user
        request.user = user
        request.workspace = user.workspace
        request.token = api_token
        require_method_scope(request)
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_EVERY:
            ApiToken.objects.in_workspace(api_token.workspace_id).filter(pk=api_token.pk).update(
                last_used_at=now
            )
        return user


def _token_for(raw: str) -> ApiToken:
    """The live token whose secret is ``raw``, or 401. The prefix finds the row; the
    secret's hash is compared in constant time."""
    match = TOKEN_PATTERN.fullmatch(raw.strip())
    if match is None:
        raise AuthenticationError(message=_("The API token is not valid."))
    api_token = (
        ApiToken.objects.across_workspaces()
        .select_related("user__role", "user__team", "user__workspace")
        .filter(prefix=match["prefix"])
        .first()
    )
    if api_token is None or not hmac.compare_digest(
        services.hash_secret(raw.strip()), api_token.key_hash
    ):
        raise AuthenticationError(message=_("The API token is not valid."))
    if api_token.revoked_at is not None:
        raise AuthenticationError(message=_("This API token has been revoked."))
    if api_token.expires_at is not None and api_token.expires_at <= timezone.now():
        raise AuthenticationError(message=_("This API token has expired."))
    if not api_token.user.is_active or api_token.user.workspace_id != api_token.workspace_id:
        raise AuthenticationError(message=_("The account of this API token is inactive."))
    return api_token


API_AUTH = [BearerAuth(), SessionAuth()]


def _admin_scope(request: HttpRequest) -> None:
    """Administration needs a token's admin scope. A caller who is not an administrator at
    all hears their role's reason rather than the token's."""
    token = getattr(request, "token", None)
    if token is not None and "admin" not in (token.scopes or []):
        permissions.require_admin(request.user)
        require_scope(request, "admin")


# --- output ---------------------------------------------------------------------------------------


def _ref_user(user: User | None) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _ref_team(team: Team | None) -> dict | None:
    return {"id": team.pk, "name": team.name} if team is not None else None


def _active_custom_keys(workspace, object_key: str) -> set[str]:
    return {d.key for d in custom_fields.definitions(workspace, object_key)}


def _user_data(user: User, *, actor: User, custom_keys: set[str]) -> dict:
    data = {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "team": _ref_team(user.team),
        "role": {"id": user.role.pk, "name": user.role.name, "is_admin": user.role.is_admin},
        "is_active": user.is_active,
        "language": user.language,
        "time_zone": user.time_zone,
        # Values of deleted definitions stay in the row but are no longer shown.
        "custom": {k: v for k, v in (user.custom or {}).items() if k in custom_keys},
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }
    return permissions.redact(actor, "platform.user", data)


def _team_data(team: Team, *, actor: User, custom_keys: set[str]) -> dict:
    data = {
        "id": team.pk,
        "name": team.name,
        "kind": team.kind,
        "parent": _ref_team(team.parent),
        "manager": _ref_user(team.manager),
        "custom": {k: v for k, v in (team.custom or {}).items() if k in custom_keys},
        "created_at": team.created_at,
        "updated_at": team.updated_at,
    }
    return permissions.redact(actor, "platform.team", data)


def _user_out(request: HttpRequest, user: User) -> dict:
    keys = _active_custom_keys(request.workspace, "platform.user")
    return _user_data(user, actor=request.user, custom_keys=keys)


def _team_out(request: HttpRequest, team: Team) -> dict:
    keys = _active_custom_keys(request.workspace, "platform.team")
    return _team_data(team, actor=request.user, custom_keys=keys)


def _audit_data(entry: AuditEntry) -> dict:
    return {
        "id": entry.pk,
        "created_at": entry.created_at,
        "actor": _ref_user(entry.actor),
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_key": entry.object_key,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes or {},
        "ip_address": entry.ip_address,
    }


def _job_data(job: Job) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "result": job.result,
        "error": job.error,
        "owner": _ref_user(job.owner),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _token_data(token: ApiToken) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes or []),
        "user": _ref_user(token.user),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


def _ws(request: HttpRequest) -> dict[str, Any]:
    """The ``actor``/``workspace`` pair every service and selector takes."""
    return {"actor": request.user, "workspace": request.workspace}


# --- me --------------------------------------------------------------------------------------------------


@router.get(
    "/me",
    response=responses(MeOut),
    tags=["Me"],
    operation_id="me_get",
    summary="The caller: user, workspace and credential",
    exclude_unset=True,
)
def me_get(request):
    user, workspace = request.user, request.workspace
    token = request.token
    return {
        "user": _user_out(request, user),
        "workspace": {
            "id": workspace.pk,
            "name": workspace.name,
            "slug": workspace.slug,
            "default_currency": workspace.default_currency,
            "time_zone": workspace.time_zone,
            "language": workspace.language,
        },
        "is_admin": bool(user.is_active and user.role.is_admin),
        "auth": "token" if token is not None else "session",
        "scopes": list(token.scopes) if token is not None else list(services.TOKEN_SCOPES),
    }


# --- users -----------------------------------------------------------------------------------------------


@router.get(
    "/users",
    response=responses(page_of(UserOut)),
    tags=["Users"],
    operation_id="users_list",
    summary="List users",
    exclude_unset=True,
)
def users_list(request, filters: Query[UserFilters], page: Query[PageParams]):
    qs = selectors.user_list(**_ws(request))
    hidden = permissions.hidden_fields(request.user, "platform.user")
    for name, value in (
        ("team", filters.team_id),
        ("role", filters.role_id),
        ("is_active", filters.is_active),
    ):
        if value is not None and name in hidden:
            raise PermissionDenied(
                _("Your role may not filter on %(field)s.") % {"field": name}, code="field_hidden"
            )
    if filters.q:
        match = Q(full_name__icontains=filters.q) | Q(email__icontains=filters.q)
        if "phone" not in hidden:
            match |= Q(phone__icontains=filters.q)
        qs = qs.filter(match)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.role_id is not None:
        qs = qs.filter(role_id=filters.role_id)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    keys = _active_custom_keys(request.workspace, "platform.user")
    return page_response(
        qs,
        page,
        lambda user: _user_data(user, actor=request.user, custom_keys=keys),
        key=filters.sort.lstrip("-"),
        descending=filters.sort.startswith("-"),
    )


@router.get(
    "/users/{user_id}",
    response=responses(UserOut),
    tags=["Users"],
    operation_id="users_get",
    summary="Get a user",
    exclude_unset=True,
)
def users_get(request, user_id: Id):
    return _user_out(request, selectors.user_get(**_ws(request), user_id=user_id))


@router.post(
    "/users",
    response=responses(UserOut, status=201),
    tags=["Users"],
    operation_id="users_create",
    summary="Add a user (administrators)",
    exclude_unset=True,
)
def users_create(request, payload: UserCreateIn):
    _admin_scope(request)
    user = services.user_create(**_ws(request), **payload.dict())
    return Status(201, _user_out(request, user))


@router.patch(
    "/users/{user_id}",
    response=responses(UserOut),
    tags=["Users"],
    operation_id="users_update",
    summary="Change a user (administrators; anyone their own name, phone, language, time zone)",
    exclude_unset=True,
)
def users_update(request, user_id: Id, payload: UserUpdateIn):
    if user_id != request.user.pk:
        _admin_scope(request)
    user = services.user_update(**_ws(request), user_id=user_id, **payload.changes())
    return _user_out(request, user)


@router.post(
    "/users/{user_id}/sign-out-everywhere",
    response=responses(UserOut),
    tags=["Users"],
    operation_id="users_sign_out_everywhere",
    summary="End every session of a user",
    exclude_unset=True,
)
def users_sign_out_everywhere(request, user_id: Id):
    if user_id != request.user.pk:
        _admin_scope(request)
    user = services.user_sign_out_everywhere(**_ws(request), user_id=user_id)
    return _user_out(request, user)


# --- teams ------------------------------------------------------------------------------------------------


@router.get(
    "/teams",
    response=responses(page_of(TeamOut)),
    tags=["Teams"],
    operation_id="teams_list",
    summary="List teams and departments",
    exclude_unset=True,
)
def teams_list(request, page: Query[PageParams]):
    qs = selectors.team_list(**_ws(request))
    keys = _active_custom_keys(request.workspace, "platform.team")
    return page_response(
        qs, page, lambda team: _team_data(team, actor=request.user, custom_keys=keys), key="name"
    )


@router.get(
    "/teams/{team_id}",
    response=responses(TeamOut),
    tags=["Teams"],
    operation_id="teams_get",
    summary="Get a team",
    exclude_unset=True,
)
def teams_get(request, team_id: Id):
    return _team_out(request, selectors.team_get(**_ws(request), team_id=team_id))


@router.post(
    "/teams",
    response=responses(TeamOut, status=201),
    tags=["Teams"],
    operation_id="teams_create",
    summary="Create a team (administrators)",
    exclude_unset=True,
)
def teams_create(request, payload: TeamCreateIn):
    _admin_scope(request)
    team = services.team_create(**_ws(request), **payload.dict())
    return Status(201, _team_out(request, team))


@router.patch(
    "/teams/{team_id}",
    response=responses(TeamOut),
    tags=["Teams"],
    operation_id="teams_update",
    summary="Change a team (administrators)",
    exclude_unset=True,
)
def teams_update(request, team_id: Id, payload: TeamUpdateIn):
    _admin_scope(request)
    changes = payload.changes()
    # team_update does not check field rules itself (user_update does); see the report.
    touched = {k.removesuffix("_id") for k in changes if k != "custom"}
    touched |= {f"custom.{k}" for k in (changes.get("custom") or {})}
    permissions.check_writable(request.user, "platform.team", touched)
    team = services.team_update(**_ws(request), team_id=team_id, **changes)
    return _team_out(request, team)


@router.delete(
    "/teams/{team_id}",
    response=responses(None, status=204),
    tags=["Teams"],
    operation_id="teams_delete",
    summary="Delete an empty team (administrators)",
)
def teams_delete(request, team_id: Id):
    _admin_scope(request)
    services.team_delete(**_ws(request), team_id=team_id)
    return Status(204, None)


# --- roles ------------------------------------------------------------------------------------------------


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


# --- custom fields --------------------------------------------------------------------------------------


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


# --- business objects ------------------------------------------------------------------------------------


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


# --- audit ------------------------------------------------------------------------------------------------


@router.get(
    "/audit",
    response=responses(page_of(AuditOut)),
    tags=["Audit"],
    operation_id="audit_list",
    summary="The workspace's audit log, newest first (administrators)",
)
def audit_list(request, filters: Query[AuditFilters], page: Query[PageParams]):
    _admin_scope(request)
    qs = selectors.audit_list(**_ws(request), **filters.dict())
    return page_response(qs, page, _audit_data, key="pk", descending=True)


@router.get(
    "/audit/{object_key}/{object_id}",
    response=responses(page_of(AuditOut)),
    tags=["Audit"],
    operation_id="audit_record_history",
    summary="One record's history, newest first",
)
def audit_record_history(request, object_key: ObjectKey, object_id: Id, page: Query[PageParams]):
    if registry.find(object_key) is None:
        raise NotFound()
    entries = selectors.record_history(**_ws(request), object_key=object_key, object_id=object_id)
    if not entries:
        # Nothing was ever recorded for this id here: as far as the caller knows it is not there.
        raise NotFound()
    return page_from_list(entries, page, sort_key=lambda e: (-e.pk,), serialize=_audit_data)


# --- jobs ---------------------------------------------------------------------------------------------------


@router.get(
    "/jobs",
    response=responses(page_of(JobOut)),
    tags=["Jobs"],
    operation_id="jobs_list",
    summary="Background jobs you may see, newest first",
)
def jobs_list(request, page: Query[PageParams]):
    qs = selectors.job_list(**_ws(request))
    return page_response(qs, page, _job_data, key="pk", descending=True)


@router.get(
    "/jobs/{job_id}",
    response=responses(JobOut),
    tags=["Jobs"],
    operation_id="jobs_get",
    summary="A job's progress: state, done, total, percent, message, result, error",
)
def jobs_get(request, job_id: Id):
    job = selectors.job_list(**_ws(request)).filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return _job_data(job)


# --- tokens -------------------------------------------------------------------------------------------------


@router.get(
    "/tokens",
    response=responses(page_of(TokenOut)),
    tags=["Tokens"],
    operation_id="tokens_list",
    summary="Your API tokens (administrators: everyone's with all_users)",
)
def tokens_list(request, filters: Query[TokenFilters], page: Query[PageParams]):
    if filters.all_users:
        _admin_scope(request)
    qs = selectors.api_token_list(**_ws(request), all_users=filters.all_users)
    return page_response(qs, page, _token_data, key="pk", descending=True)


@router.post(
    "/tokens",
    response=responses(TokenCreatedOut, status=201),
    tags=["Tokens"],
    operation_id="tokens_create",
    summary="Create an API token; the secret is shown once",
)
def tokens_create(request, payload: TokenCreateIn):
    if payload.user_id is not None and payload.user_id != request.user.pk:
        _admin_scope(request)
    token = getattr(request, "token", None)
    if token is not None:
        beyond = sorted(set(payload.scopes) - set(token.scopes or []))
        if beyond:
            # A token must not mint a stronger one.
            raise PermissionDenied(
                _("A token cannot create a token with scopes it lacks: %(scopes)s.")
                % {"scopes": ", ".join(beyond)},
                code="insufficient_scope",
            )
    created, secret = services.api_token_create(
        **_ws(request),
        name=payload.name,
        scopes=list(payload.scopes),
        expires_in_days=payload.expires_in_days,
        user_id=payload.user_id,
    )
    return Status(201, {**_token_data(created), "secret": secret})


@router.delete(
    "/tokens/{token_id}",
    response=responses(TokenOut),
    tags=["Tokens"],
    operation_id="tokens_revoke",
    summary="Revoke an API token",
)
def tokens_revoke(request, token_id: Id):
    if not selectors.api_token_list(**_ws(request)).filter(pk=token_id).exists():
        _admin_scope(request)
    token = services.api_token_revoke(**_ws(request), token_id=token_id)
    return _token_data(token)
