"""Request and response bodies of the platform's REST endpoints.

Lengths follow the columns, so over-long input is a 422 rather than a database error.
Fields a role may hide (``permissions.redact``) are optional in the outputs: they are
absent, not null, when hidden.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Schema

from guanxi.common.api import DateTime, Id, JsonObject, JsonValue, PatchSchema, text

from .models import Action, AuditAction, FieldAccess, FieldType, JobState, TeamKind, Visibility
from .services import TOKEN_SCOPES

LanguageCode = Literal[("", *[code for code, _name in settings.LANGUAGES])]
TeamKindValue = Literal[tuple(TeamKind.values)]
FieldTypeValue = Literal[tuple(FieldType.values)]
ActionValue = Literal[tuple(Action.values)]
VisibilityValue = Literal[tuple(Visibility.values)]
FieldAccessValue = Literal[tuple(FieldAccess.values)]
ScopeValue = Literal[TOKEN_SCOPES]
AuditActionValue = Literal[tuple(AuditAction.values)]
JobStateValue = Literal[tuple(JobState.values)]
UserSort = Literal["full_name", "-full_name", "created_at", "-created_at"]

ObjectKey = text(60)
Email = text(254, min_length=3)


# --- references ---------------------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    full_name: str


class TeamRef(Schema):
    id: int
    name: str


class RoleRef(Schema):
    id: int
    name: str
    is_admin: bool


# --- me ---------------------------------------------------------------------------------------------------


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    default_currency: str
    time_zone: str
    language: str


# --- users -----------------------------------------------------------------------------------------------


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    phone: str | None = Field(None, description="Absent when hidden from your role.")
    team: TeamRef | None = Field(None, description="Absent when hidden from your role.")
    role: RoleRef | None = Field(None, description="Absent when hidden from your role.")
    is_active: bool | None = Field(None, description="Absent when hidden from your role.")
    language: str | None = Field(None, description="Absent when hidden from your role.")
    time_zone: str | None = Field(None, description="Absent when hidden from your role.")
    custom: dict[str, Any] = Field(
        default_factory=dict, description="Custom field values by key (hidden ones left out)."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class MeOut(Schema):
    user: UserOut
    workspace: WorkspaceOut
    is_admin: bool
    auth: Literal["token", "session"]
    scopes: list[ScopeValue] = Field(..., description="What this credential may do.")


class UserFilters(Schema):
    q: text(100) | None = Field(None, description="Part of the name, e-mail or phone.")
    team_id: Id | None = None
    role_id: Id | None = None
    is_active: bool | None = None
    sort: UserSort = "full_name"


class UserCreateIn(Schema):
    email: Email
    full_name: text(150, min_length=1)
    role_id: Id
    team_id: Id | None = None
    phone: text(32) = ""
    password: text(128) | None = Field(
        None, description="Without one the user sets a password through a reset link."
    )
    language: LanguageCode = ""
    time_zone: text(64) = ""
    custom: JsonObject | None = None


class UserUpdateIn(PatchSchema):
    full_name: text(150, min_length=1) = None
    phone: text(32) = None
    team_id: Id | None = None
    role_id: Id = None
    is_active: bool = None
    language: LanguageCode = None
    time_zone: text(64) = None
    custom: JsonObject = None


# --- teams ------------------------------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    name: str
    kind: str | None = Field(None, description="Absent when hidden from your role.")
    parent: TeamRef | None = Field(None, description="Absent when hidden from your role.")
    manager: UserRef | None = Field(None, description="Absent when hidden from your role.")
    custom: dict[str, Any] = Field(default_factory=dict)
    created_at: dt.datetime
    updated_at: dt.datetime


class TeamCreateIn(Schema):
    name: text(120, min_length=1)
    kind: TeamKindValue = TeamKind.TEAM.value
    parent_id: Id | None = None
    manager_id: Id | None = None
    custom: JsonObject | None = None


class TeamUpdateIn(PatchSchema):
    name: text(120, min_length=1) = None
    kind: TeamKindValue = None
    parent_id: Id | None = None
    manager_id: Id | None = None
    custom: JsonObject = None


# --- roles ------------------------------------------------------------------------------------------------


class RightGrant(Schema):
    actions: list[ActionValue] = Field(default_factory=list, max_length=len(Action.values))
    visibility: VisibilityValue = Visibility.OWN.value


class RoleOut(Schema):
    id: int
    name: str
    code: str
    description: str
    is_admin: bool
    is_system: bool
    rights: dict[str, RightGrant] = Field(
        ..., description="Per object key: actions and visibility."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class RoleCreateIn(Schema):
    name: text(80, min_length=1)
    description: text(300) = ""
    is_admin: bool = False
    rights: dict[ObjectKey, RightGrant] = Field(default_factory=dict)


class RoleUpdateIn(PatchSchema):
    name: text(80, min_length=1) = None
    description: text(300) = None
    is_admin: bool = None
    rights: dict[ObjectKey, RightGrant] = None


class FieldRuleOut(Schema):
    object_key: str
    field: str
    access: FieldAccessValue


class FieldRuleIn(Schema):
    object_key: ObjectKey
    field: text(80)
    access: FieldAccessValue | None = Field(..., description="`null` lifts the rule.")


# --- custom fields --------------------------------------------------------------------------------------


class ChoiceIn(Schema):
    value: text(100, min_length=1)
    label: text(120) = ""


class ChoiceOut(Schema):
    value: str
    label: str


class CustomFieldOut(Schema):
    id: int
    object_key: str
    key: str
    label: str
    field_type: FieldTypeValue
    required: bool
    unique: bool
    default: Any = None
    help_text: str
    choices: list[ChoiceOut]
    position: int
    is_active: bool


class CustomFieldCreateIn(Schema):
    object_key: ObjectKey
    label: text(120, min_length=1)
    field_type: FieldTypeValue
    key: text(60) = Field("", description="Derived from the label when empty.")
    required: bool = False
    unique: bool = False
    default: JsonValue = None
    help_text: text(300) = ""
    choices: list[ChoiceIn | text(100)] | None = Field(None, max_length=500)
    position: int | None = Field(None, ge=0, le=2**31 - 1)


class CustomFieldUpdateIn(PatchSchema):
    label: text(120, min_length=1) = None
    required: bool = None
    unique: bool = None
    default: JsonValue = None
    help_text: text(300) = None
    choices: list[ChoiceIn | text(100)] = Field(None, max_length=500)
    position: int = Field(None, ge=0, le=2**31 - 1)
    is_active: bool = None


class CustomFieldFilters(Schema):
    object_key: ObjectKey | None = None


# --- objects ---------------------------------------------------------------------------------------------


class ObjectFieldOut(Schema):
    name: str = Field(
        ..., description="`custom.<key>` for custom fields, as field rules name them."
    )
    label: str
    restrictable: bool
    custom: bool
    field_type: str | None = None


class ObjectOut(Schema):
    key: str
    label: str
    label_plural: str
    supports_custom_fields: bool
    has_owner: bool
    fields: list[ObjectFieldOut]


# --- audit --------------------------------------------------------------------------------------------


class AuditOut(Schema):
    id: int
    created_at: dt.datetime
    actor: UserRef | None
    actor_label: str
    action: str
    object_key: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    ip_address: str | None


class AuditFilters(Schema):
    actor_id: Id | None = None
    action: AuditActionValue | None = None
    object_key: ObjectKey | None = None
    object_id: text(64) | None = None
    since: DateTime | None = None
    until: DateTime | None = None


# --- jobs ------------------------------------------------------------------------------------------------


class JobOut(Schema):
    id: int
    kind: str
    state: JobStateValue
    done: int
    total: int | None
    percent: int
    message: str
    result: dict[str, Any] | list[Any] | None
    error: str
    owner: UserRef | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


# --- tokens -----------------------------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    user: UserRef
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    secret: str = Field(..., description="Shown once; only its hash is kept.")


class TokenCreateIn(Schema):
    name: text(80, min_length=1)
    scopes: list[ScopeValue] = Field(default_factory=lambda: ["read"], max_length=3)
    expires_in_days: int | None = Field(None, ge=1, le=3650)
    user_id: Id | None = Field(None, description="Another user's id (administrators only).")


class TokenFilters(Schema):
    all_users: bool = Field(False, description="Every user's tokens (administrators only).")


# --- sharing ------------------------------------------------------------------------------------


class ShareOut(Schema):
    id: int
    object_key: str
    object_id: int
    user: UserRef | None = Field(..., description="Set when shared with one user.")
    team: TeamRef | None = Field(..., description="Set when shared with a team.")
    can_edit: bool
    created_at: dt.datetime


class ShareCreateIn(Schema):
    object_key: ObjectKey = Field(..., description="A business object that has owners.")
    object_id: Id
    user_id: Id | None = Field(None, description="Share with this user (or give team_id).")
    team_id: Id | None = Field(None, description="Share with this team (or give user_id).")
    can_edit: bool = False


class ShareFilters(Schema):
    object_key: ObjectKey
    object_id: Id
