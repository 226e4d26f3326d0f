"""What the account and contact endpoints share: querysets with their nested rows fetched
in a fixed number of queries, filters, serializers with field-rule redaction, and the
check that a nested row belongs to the record in the URL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import NotFound, PermissionDenied
from guanxi.platform import custom_fields, permissions
from guanxi.platform.models import User

from .. import search, selectors
from ..models import (
    AccountContact,
    AccountTag,
    Address,
    BankAccount,
    ContactPoint,
    ContactTag,
    StageChange,
    TagKind,
)

ACCOUNT = "customers.account"
CONTACT = "customers.contact"


def ws(request) -> dict[str, Any]:
    return {"actor": request.user, "workspace": request.workspace}


def with_nested(qs: QuerySet, object_key: str, workspace) -> QuerySet:
    """Addresses, phones/e-mails, tags (and bank accounts or memberships): one query each
    per page, whatever the number of rows."""
    tag_model = AccountTag if object_key == ACCOUNT else ContactTag
    # Owners by prefetch, not a join (an owner filter would make SQLite sort every match).
    qs = qs.select_related(None).select_related("parent" if object_key == ACCOUNT else "account")
    qs = qs.prefetch_related(
        Prefetch("owner", queryset=User.objects.filter(workspace=workspace)),
        Prefetch("addresses", queryset=Address.objects.in_workspace(workspace).order_by("id")),
        Prefetch("points", queryset=ContactPoint.objects.in_workspace(workspace).order_by("id")),
        Prefetch(
            "taggings",
            queryset=tag_model.objects.in_workspace(workspace)
            .select_related("tag")
            .order_by("tag__name"),
        ),
    )
    if object_key == ACCOUNT:
        return qs.prefetch_related(
            Prefetch(
                "bank_accounts",
                queryset=BankAccount.objects.in_workspace(workspace).order_by("-is_primary", "id"),
            )
        )
    return qs.prefetch_related(
        Prefetch(
            "memberships",
            queryset=AccountContact.objects.in_workspace(workspace)
            .select_related("account")
            .order_by("-is_primary", "id"),
        )
    )


def get_one(request, object_key: str, record_id: int):
    if object_key == ACCOUNT:
        qs = selectors.account_list(**ws(request))
    else:
        qs = selectors.contact_list(**ws(request))
    record = with_nested(qs, object_key, request.workspace).filter(pk=record_id).first()
    if record is None:
        raise NotFound()
    return record


def _refuse_hidden(request, object_key: str, used: dict[str, Any]) -> None:
    hidden = permissions.hidden_fields(request.user, object_key)
    for name, value in used.items():
        if value is not None and name in hidden:
            raise PermissionDenied(
                _("Your role may not filter on %(field)s.") % {"field": name}, code="field_hidden"
            )


def _day_start(day: dt.date, *, after: bool = False) -> dt.datetime:
    if after:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filtered(request, object_key: str, filters) -> QuerySet:
    if object_key == ACCOUNT:
        qs = selectors.account_list(**ws(request))
    else:
        qs = selectors.contact_list(**ws(request))
    _refuse_hidden(
        request,
        object_key,
        {
            "owner": filters.owner_id if filters.in_pool is None else filters.in_pool,
            "lifecycle_stage": filters.lifecycle_stage,
            "loyalty_stage": filters.loyalty_stage,
            "industry": filters.industry,
            "region": filters.region,
            "source": filters.source,
            "province": filters.province,
            "city": filters.city,
            "tags": filters.tag,
            "interests": getattr(filters, "interest", None),
            "account_type": getattr(filters, "account_type", None),
            "parent": getattr(filters, "parent_id", None),
            "account": getattr(filters, "account_id", None) or getattr(filters, "individual", None),
        },
    )
    if filters.q:
        qs = search.filter_queryset(qs, filters.q)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.in_pool is not None:
        qs = qs.filter(owner__isnull=filters.in_pool)
    for name in ("lifecycle_stage", "loyalty_stage"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    for name in ("industry", "region", "source", "province", "city"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value.strip()})  # equality: indexes serve it
    if filters.tag:
        qs = qs.filter(taggings__tag__kind=TagKind.TAG, taggings__tag__name=filters.tag)
    if filters.created_from:
        qs = qs.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to:
        qs = qs.filter(created_at__lt=_day_start(filters.created_to, after=True))
    if object_key == ACCOUNT:
        if filters.account_type:
            qs = qs.filter(account_type=filters.account_type)
        if filters.parent_id is not None:
            qs = qs.filter(parent_id=filters.parent_id)
    else:
        if filters.account_id is not None:
            qs = qs.filter(account_id=filters.account_id)
        if filters.individual is not None:
            qs = qs.filter(account__isnull=filters.individual)
        if filters.interest:
            qs = qs.filter(
                taggings__tag__kind=TagKind.INTEREST, taggings__tag__name=filters.interest
            )
    return with_nested(qs, object_key, request.workspace)


# --- output ------------------------------------------------------------------------------------


def _user(user) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _account_ref(account) -> dict | None:
    if account is None:
        return None
    return {"id": account.pk, "code": account.code, "name": account.name}


_SHARED = (
    "code",
    "name",
    "owned_since",
    "lifecycle_stage",
    "loyalty_stage",
    "source",
    "region",
    "industry",
    "commission_code",
    "phone",
    "email",
    "country",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
    "latitude",
    "longitude",
    "notes",
    "last_activity_at",
    "created_at",
    "updated_at",
)
_ACCOUNT_ONLY = (
    "short_name",
    "account_type",
    "website",
    "currency",
    "payment_terms",
    "tax_number",
    "invoice_title",
    "credit_limit",
    "credit_rating",
    "credit_record",
    "employees",
    "annual_revenue",
)
_CONTACT_ONLY = (
    "first_name",
    "last_name",
    "company",
    "title",
    "department",
    "mobile",
    "gender",
    "birthday",
    "id_number",
    "family",
    "income_band",
    "education",
    "hobbies",
    "habits",
    "personality",
    "preferred_channel",
    "preferred_time",
    "currency",
    "payment_terms",
    "erased_at",
)
_ADDRESS = (
    "id",
    "kind",
    "label",
    "recipient",
    "phone",
    "country",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
    "latitude",
    "longitude",
)


def active_custom_keys(workspace, object_key: str) -> set[str]:
    return {d.key for d in custom_fields.definitions(workspace, object_key)}


def record_data(record, *, object_key: str, actor, custom_keys: set[str]) -> dict:
    names = _SHARED + (_ACCOUNT_ONLY if object_key == ACCOUNT else _CONTACT_ONLY)
    data: dict[str, Any] = {"id": record.pk}
    data.update({name: getattr(record, name) for name in names})
    data["owner"] = _user(record.owner) if record.owner_id else None
    data["custom"] = {k: v for k, v in (record.custom or {}).items() if k in custom_keys}
    taggings = list(record.taggings.all())
    data["tags"] = [t.tag.name for t in taggings if t.tag.kind == TagKind.TAG]
    hidden = permissions.hidden_fields(actor, object_key)
    data["addresses"] = [
        {name: getattr(a, name) for name in _ADDRESS} for a in record.addresses.all()
    ]
    if "street" in hidden:
        data.pop("addresses")
    data["points"] = [
        {"id": p.id, "kind": p.kind, "label": p.label, "value": p.value}
        for p in record.points.all()
        if p.kind not in hidden  # the kinds are "phone" and "email", as the fields
    ]
    if object_key == ACCOUNT:
        data["parent"] = _account_ref(record.parent) if record.parent_id else None
        data["bank_accounts"] = [
            {
                "id": b.id,
                "bank_name": b.bank_name,
                "account_name": b.account_name,
                "account_number": b.account_number,
                "is_primary": b.is_primary,
            }
            for b in record.bank_accounts.all()
        ]
    else:
        data["interests"] = [t.tag.name for t in taggings if t.tag.kind == TagKind.INTEREST]
        data["account"] = _account_ref(record.account) if record.account_id else None
        data["memberships"] = [
            {
                "account": _account_ref(m.account),
                "role": m.role,
                "level": m.level,
                "is_primary": m.is_primary,
            }
            for m in record.memberships.all()
        ]
        if "account" in hidden:
            data.pop("memberships")
    return permissions.redact(actor, object_key, data)


def record_out(request, object_key: str, record_id: int) -> dict:
    record = get_one(request, object_key, record_id)
    keys = active_custom_keys(request.workspace, object_key)
    return record_data(record, object_key=object_key, actor=request.user, custom_keys=keys)


def stage_history(request, object_key: str, record_id: int) -> list[dict]:
    record = get_one(request, object_key, record_id)
    fk = "account" if object_key == ACCOUNT else "contact"
    hidden = permissions.hidden_fields(request.user, object_key)
    rows = (
        StageChange.objects.in_workspace(request.workspace)
        .filter(**{fk: record})
        .select_related("actor")
        .order_by("-id")[:200]
    )
    return [
        {
            "id": r.pk,
            "kind": r.kind,
            "from_stage": r.from_stage,
            "to_stage": r.to_stage,
            "actor": _user(r.actor),
            "reason": r.reason,
            "created_at": r.created_at,
        }
        for r in rows
        if f"{r.kind}_stage" not in hidden
    ]


def child_of(request, model, child_id: int, *, object_key: str, record_id: int) -> None:
    """A nested row addressed under a record must belong to that record (else 404)."""
    fk = "account_id" if object_key == ACCOUNT else "contact_id"
    get_one(request, object_key, record_id)
    if (
        not model.objects.in_workspace(request.workspace)
        .filter(pk=child_id, **{fk: record_id})
        .exists()
    ):
        raise NotFound()
