"""Request and response bodies of the account and contact endpoints.

Lengths follow the columns, so over-long input is a 422 rather than a database error;
everything else (phones, e-mails, dates in many formats, choices by value or label) is
validated by the record services through ``cleaning``, as for forms and imports. Fields a
role may hide are absent from the outputs, not null.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from guanxi.common.api import Id, JsonObject, PatchSchema, text

from .models import (
    AccountType,
    AddressKind,
    Channel,
    ContactLevel,
    ContactRole,
    Education,
    Gender,
    IncomeBand,
    LifecycleStage,
    LoyaltyStage,
    PointKind,
    PointLabel,
    StageKind,
    TagKind,
)

HIDDEN = "Absent when hidden from your role."
Lifecycle = Literal[tuple(LifecycleStage.values)]
Loyalty = Literal[("", *LoyaltyStage.values)]
AccountTypeValue = Literal[tuple(AccountType.values)]
StageKindValue = Literal[tuple(StageKind.values)]
TagKindValue = Literal[tuple(TagKind.values)]
AddressKindValue = Literal[tuple(AddressKind.values)]
PointKindValue = Literal[tuple(PointKind.values)]
PointLabelValue = Literal[("", *PointLabel.values)]
RoleValue = Literal[("", *ContactRole.values)]
LevelValue = Literal[("", *ContactLevel.values)]
Sort = Literal["name", "-name", "code", "-code", "created_at", "-created_at"]
Number = Decimal | float | int | text(30)
TagList = list[text(60)]

# --- references and nested rows ------------------------------------------------------------------


class UserRef(Schema):
    id: int
    full_name: str


class AccountRef(Schema):
    id: int
    code: str
    name: str


class AddressOut(Schema):
    id: int
    kind: str
    label: str
    recipient: str
    phone: str
    country: str
    province: str
    city: str
    district: str
    street: str
    postal_code: str
    latitude: Decimal | None
    longitude: Decimal | None


class AddressIn(Schema):
    kind: AddressKindValue
    label: text(60) = ""
    recipient: text(120) = ""
    phone: text(40) = ""
    country: text(2) = "CN"
    province: text(60) = ""
    city: text(60) = ""
    district: text(60) = ""
    street: text(255) = ""
    postal_code: text(20) = ""
    latitude: Number | None = None
    longitude: Number | None = None


class PointOut(Schema):
    id: int
    kind: str
    label: str
    value: str = Field(..., description="E.164 for phones, lower case for e-mail.")


class PointIn(Schema):
    kind: PointKindValue
    value: text(254, min_length=1)
    label: PointLabelValue = ""


class BankAccountOut(Schema):
    id: int
    bank_name: str
    account_name: str
    account_number: str
    is_primary: bool


class BankAccountIn(Schema):
    bank_name: text(120, min_length=1)
    account_name: text(200) = ""
    account_number: text(40, min_length=1)
    is_primary: bool = False


class MembershipOut(Schema):
    account: AccountRef
    role: str
    level: str
    is_primary: bool


class MembershipIn(Schema):
    account_id: Id
    role: RoleValue = ""
    level: LevelValue = ""
    is_primary: bool = False


class StageChangeIn(Schema):
    kind: StageKindValue = "lifecycle"
    to_stage: text(20)
    reason: text(200) = ""


class StageChangeOut(Schema):
    id: int
    kind: str
    from_stage: str
    to_stage: str
    actor: UserRef | None
    reason: str
    created_at: dt.datetime


class TagsIn(Schema):
    names: TagList = Field(..., max_length=100)
    kind: TagKindValue = "tag"


# --- records -------------------------------------------------------------------------------------


class _RecordOut(Schema):
    id: int
    code: str
    name: str
    owner: UserRef | None = Field(None, description=HIDDEN + " Null: in the pool.")
    owned_since: dt.datetime | None = None
    lifecycle_stage: str | None = Field(None, description=HIDDEN)
    loyalty_stage: str | None = Field(None, description=HIDDEN)
    source: str | None = Field(None, description=HIDDEN)
    region: str | None = Field(None, description=HIDDEN)
    industry: str | None = Field(None, description=HIDDEN)
    commission_code: str | None = Field(None, description=HIDDEN)
    phone: str | None = Field(None, description=HIDDEN)
    email: str | None = Field(None, description=HIDDEN)
    country: str | None = Field(None, description=HIDDEN)
    province: str | None = Field(None, description=HIDDEN)
    city: str | None = Field(None, description=HIDDEN)
    district: str | None = Field(None, description=HIDDEN)
    street: str | None = Field(None, description=HIDDEN)
    postal_code: str | None = Field(None, description=HIDDEN)
    latitude: Decimal | None = Field(None, description=HIDDEN)
    longitude: Decimal | None = Field(None, description=HIDDEN)
    notes: str | None = Field(None, description=HIDDEN)
    tags: list[str] | None = Field(None, description=HIDDEN)
    custom: dict[str, Any] = Field(
        default_factory=dict, description="Custom field values; hidden ones are left out."
    )
    addresses: list[AddressOut] | None = Field(None, description="Further addresses. " + HIDDEN)
    points: list[PointOut] | None = Field(None, description="Further phones and e-mails.")
    last_activity_at: dt.datetime | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class AccountOut(_RecordOut):
    short_name: str | None = Field(None, description=HIDDEN)
    parent: AccountRef | None = Field(None, description=HIDDEN)
    account_type: str | None = Field(None, description=HIDDEN)
    website: str | None = Field(None, description=HIDDEN)
    currency: str | None = Field(None, description=HIDDEN)
    payment_terms: str | None = Field(None, description=HIDDEN)
    tax_number: str | None = Field(None, description=HIDDEN)
    invoice_title: str | None = Field(None, description=HIDDEN)
    credit_limit: Decimal | None = Field(None, description=HIDDEN)
    credit_rating: str | None = Field(None, description=HIDDEN)
    credit_record: str | None = Field(None, description=HIDDEN)
    employees: int | None = Field(None, description=HIDDEN)
    annual_revenue: Decimal | None = Field(None, description=HIDDEN)
    bank_accounts: list[BankAccountOut] | None = Field(None, description=HIDDEN)


class ContactOut(_RecordOut):
    first_name: str | None = Field(None, description=HIDDEN)
    last_name: str | None = Field(None, description=HIDDEN)
    account: AccountRef | None = Field(None, description="The primary account. " + HIDDEN)
    memberships: list[MembershipOut] | None = Field(None, description=HIDDEN)
    company: str | None = Field(None, description=HIDDEN)
    title: str | None = Field(None, description=HIDDEN)
    department: str | None = Field(None, description=HIDDEN)
    mobile: str | None = Field(None, description=HIDDEN)
    gender: str | None = Field(None, description=HIDDEN)
    birthday: dt.date | None = Field(None, description=HIDDEN)
    id_number: str | None = Field(None, description=HIDDEN)
    family: str | None = Field(None, description=HIDDEN)
    income_band: str | None = Field(None, description=HIDDEN)
    education: str | None = Field(None, description=HIDDEN)
    hobbies: str | None = Field(None, description=HIDDEN)
    habits: str | None = Field(None, description=HIDDEN)
    personality: str | None = Field(None, description=HIDDEN)
    preferred_channel: str | None = Field(None, description=HIDDEN)
    preferred_time: str | None = Field(None, description=HIDDEN)
    interests: list[str] | None = Field(None, description=HIDDEN)
    currency: str | None = Field(None, description=HIDDEN)
    payment_terms: str | None = Field(None, description=HIDDEN)
    erased_at: dt.datetime | None = None


class _RecordIn(Schema):
    code: text(64) | None = Field(None, description="Generated when left out.")
    lifecycle_stage: Lifecycle | None = None
    loyalty_stage: Loyalty | None = None
    source: text(60) | None = None
    region: text(60) | None = None
    industry: text(60) | None = None
    commission_code: text(30) | None = None
    phone: text(40) | None = Field(None, description="Any usual format; stored as E.164.")
    email: text(254) | None = None
    notes: text(10_000) | None = None
    country: text(60) | None = None
    province: text(60) | None = None
    city: text(60) | None = None
    district: text(60) | None = None
    street: text(255) | None = None
    postal_code: text(20) | None = None
    latitude: Number | None = None
    longitude: Number | None = None
    custom: JsonObject | None = None
    tags: TagList | None = Field(None, max_length=100)


class _AccountFields(_RecordIn):
    short_name: text(100) | None = None
    parent_id: Id | None = None
    account_type: AccountTypeValue | None = None
    website: text(200) | None = None
    currency: text(3) | None = None
    payment_terms: text(60) | None = None
    tax_number: text(40) | None = None
    invoice_title: text(200) | None = None
    credit_limit: Number | None = None
    credit_rating: text(20) | None = None
    credit_record: text(10_000) | None = None
    employees: int | None = Field(None, ge=0, le=2_147_483_647)
    annual_revenue: Number | None = None


class AccountCreateIn(_AccountFields):
    name: text(200, min_length=1)
    owner_id: Id | None = Field(
        None, description="Left out: you. Null: the pool. Another user: needs the right to assign."
    )


class AccountUpdateIn(_AccountFields, PatchSchema):
    name: text(200, min_length=1) | None = None
    stage_reason: text(200) | None = Field(None, description="Why a stage changes.")


class _ContactFields(_RecordIn):
    first_name: text(100) | None = None
    last_name: text(100) | None = None
    account_id: Id | None = Field(None, description="The primary account; null: individual.")
    company: text(200) | None = None
    title: text(120) | None = None
    department: text(120) | None = None
    mobile: text(40) | None = Field(None, description="Any usual format; stored as E.164.")
    gender: text(20) | None = Field(None, description=f"One of {', '.join(Gender.values)}.")
    birthday: text(30) | None = Field(None, description="A date, e.g. 1990-03-07.")
    id_number: text(40) | None = None
    family: text(10_000) | None = None
    income_band: text(20) | None = Field(
        None, description=f"One of {', '.join(IncomeBand.values)}."
    )
    education: text(20) | None = Field(None, description=f"One of {', '.join(Education.values)}.")
    hobbies: text(10_000) | None = None
    habits: text(10_000) | None = None
    personality: text(10_000) | None = None
    preferred_channel: text(10) | None = Field(
        None, description=f"One of {', '.join(Channel.values)}."
    )
    preferred_time: text(60) | None = None
    currency: text(3) | None = None
    payment_terms: text(60) | None = None
    interests: TagList | None = Field(None, max_length=100)


class ContactCreateIn(_ContactFields):
    name: text(200) | None = Field(None, description="Left out: made of last and first name.")
    owner_id: Id | None = Field(
        None, description="Left out: you. Null: the pool. Another user: needs the right to assign."
    )
    role: RoleValue | None = Field(None, description="Role at the account given as account_id.")
    level: LevelValue | None = None


class ContactUpdateIn(_ContactFields, PatchSchema):
    name: text(200, min_length=1) | None = None
    stage_reason: text(200) | None = Field(None, description="Why a stage changes.")


class RecordFilters(Schema):
    q: text(100) | None = Field(
        None, description="Part of a name, company, phone (4+ digits), e-mail, pinyin or initials."
    )
    owner_id: Id | None = None
    in_pool: bool | None = Field(None, description="true: only customers without an owner.")
    lifecycle_stage: Lifecycle | None = None
    loyalty_stage: Loyalty | None = None
    industry: text(60) | None = None
    region: text(60) | None = None
    source: text(60) | None = None
    province: text(60) | None = None
    city: text(60) | None = None
    tag: text(60) | None = Field(None, description="A tag's name.")
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    sort: Sort = "name"


class AccountFilters(RecordFilters):
    account_type: AccountTypeValue | None = None
    parent_id: Id | None = None


class ContactFilters(RecordFilters):
    account_id: Id | None = None
    individual: bool | None = Field(None, description="true: only contacts without an account.")
    interest: text(60) | None = Field(None, description="An interest's name.")
