"""Accounts and contacts: create, change, delete; their further addresses, phones and
e-mails, bank accounts, account memberships, tags and interests, and stage moves.

Every service checks the actor's rights before its transaction (so the audit row of a
denial survives), validates its input through ``cleaning`` (the one path forms, the API
and the importer share), and writes its audit row in the same transaction. Records are
fetched through the selectors, so another workspace's record, or one the actor may not
see, is "not found".
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.platform import audit, custom_fields, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from .. import cleaning, events, normalize, search_keys, selectors
from ..models import (
    Account,
    AccountContact,
    AccountTag,
    Address,
    AddressKind,
    BankAccount,
    Contact,
    ContactLevel,
    ContactPoint,
    ContactRole,
    ContactTag,
    LifecycleStage,
    LoyaltyStage,
    PointKind,
    PointLabel,
    StageChange,
    StageKind,
    Tag,
    TagKind,
)
from .codes import ACCOUNT_PREFIX, CONTACT_PREFIX, codes_reserve

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
OBJECT_KEYS = (ACCOUNT, CONTACT)

_UNSET: Any = object()

# The plain fields a service writes: the input fields of the one validation path, less
# the code (which has rules of its own).
ACCOUNT_FIELDS = frozenset(cleaning.fields_for(ACCOUNT)) - {"code"}
CONTACT_FIELDS = frozenset(cleaning.fields_for(CONTACT)) - {"code"}
STAGE_FIELDS = {StageKind.LIFECYCLE: "lifecycle_stage", StageKind.LOYALTY: "loyalty_stage"}
STAGE_CHOICES = {
    StageKind.LIFECYCLE: LifecycleStage,
    StageKind.LOYALTY: LoyaltyStage,
}


@dataclass(frozen=True)
class _Kind:
    """What differs between accounts and contacts for the shared code below."""

    object_key: str
    model: type[models.Model]
    fields: frozenset[str]
    prefix: str
    tag_model: type[models.Model]
    fk: str  # the name of the foreign key on child rows (addresses, points, tags, stages)

    def apply_keys(self, record) -> None:
        if self.model is Account:
            search_keys.apply_account_keys(record)
        else:
            search_keys.apply_contact_keys(record)

    def visible(self, *, workspace, actor):
        if self.model is Account:
            return selectors.account_list(workspace=workspace, actor=actor)
        return selectors.contact_list(workspace=workspace, actor=actor)


_ACCOUNT = _Kind(ACCOUNT, Account, ACCOUNT_FIELDS, ACCOUNT_PREFIX, AccountTag, "account")
_CONTACT = _Kind(CONTACT, Contact, CONTACT_FIELDS, CONTACT_PREFIX, ContactTag, "contact")
_KINDS = {ACCOUNT: _ACCOUNT, CONTACT: _CONTACT}


def _kind(object_key: str) -> _Kind:
    try:
        return _KINDS[object_key]
    except KeyError:
        raise ApplicationError(
            _("Choose accounts or contacts."), fields={"object_key": [_("Not a customer.")]}
        ) from None


# --- validation -------------------------------------------------------------------------------


def _clean(kind: _Kind, raw: dict, *, workspace, partial: bool) -> dict:
    """Clean the plain fields through the shared cleaning module (forms, API and import
    validate alike); every bad field is reported at once."""
    clean = (
        cleaning.clean_account_values if kind.model is Account else cleaning.clean_contact_values
    )
    values, errors = clean(dict(raw), workspace=workspace, partial=partial)
    errors = {k: list(v) for k, v in (errors or {}).items() if v}
    if errors:
        raise ApplicationError(_("Some fields are not valid."), fields=errors)
    allowed = kind.fields | {"code"}
    values = {k: v for k, v in values.items() if k in allowed}
    if partial:
        # Only what the caller sent changes (and what derives from it: a contact's name
        # from first and last name, the street from "address").
        sent = set(raw)
        if "address" in sent:
            sent.add("street")
        if sent & {"first_name", "last_name"}:
            sent.add("name")
        values = {k: v for k, v in values.items() if k in sent}
    return values


def _clean_one(name: str, field, value):  # pragma: no cover
    if value is None:
        value = ""
    if isinstance(field, models.DateField):
        if value in ("", None):
            return None
        if isinstance(value, dt.date):
            return value
        parsed = parse_date(str(value).strip())
        if parsed is None:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
        return parsed
    if isinstance(field, models.DecimalField):
        if value in ("", None):
            return None
        try:
            return decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
    if isinstance(field, models.IntegerField):
        if value in ("", None):
            return None
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(_("Enter a whole number.")) from None
    text = str(value).strip()
    if "\x00" in text:
        raise ValueError(_("Text may not contain NUL characters."))
    if name in ("phone", "mobile"):
        try:
            return normalize.phone(text)
        except normalize.InvalidPhone:
            raise ValueError(_("Enter a valid phone number.")) from None
    if name == "email" and text:
        text = normalize.email(text)
        try:
            validate_email(text)
        except ValidationError:
            raise ValueError(_("Enter a valid e-mail address.")) from None
    if field.choices and text and text not in {str(c[0]) for c in field.choices}:
        raise ValueError(_("“%(value)s” is not one of the choices.") % {"value": text})
    if field.max_length and len(text) > field.max_length:
        raise ValueError(_("At most %(n)s characters.") % {"n": field.max_length})
    return text


def _text(value, *, field: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise ApplicationError(
            _("Text may not contain NUL characters."),
            fields={field: [_("Text may not contain NUL characters.")]},
        )
    if len(text) > max_length:
        message = _("At most %(n)s characters.") % {"n": max_length}
        raise ApplicationError(message, fields={field: [message]})
    if required and not text:
        raise ApplicationError(
            _("This field is required."), fields={field: [_("This field is required.")]}
        )
    return text


def _choice(value, choices, *, field: str, blank: bool = True) -> str:
    value = str(value or "").strip()
    if (blank and value == "") or value in choices.values:
        return value
    message = _("“%(value)s” is not one of the choices.") % {"value": value}
    raise ApplicationError(message, fields={field: [message]})


def _unknown(changes: dict, allowed: set[str] | frozenset[str]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(unknown)},
            fields={name: [_("Unknown field.")] for name in unknown},
        )


def _given(values: dict) -> dict:
    return {k: v for k, v in values.items() if v not in (None, "", [], {}, _UNSET)}


# --- owners, codes and 撞单 ---------------------------------------------------------------------


def may_assign(actor: User, object_key: str) -> bool:
    """Whether the actor may give a customer to someone else (or to the pool): managers
    and administrators, and roles with bulk actions on the object."""
    return actor.is_active and (
        actor.role.is_admin
        or (
            permissions.can(actor, object_key, Action.UPDATE)
            and permissions.can(actor, object_key, Action.BULK)
        )
    )


def _owner_for_create(actor: User, object_key: str, owner_id) -> int | None:
    if owner_id is _UNSET:
        return actor.pk
    owner_id = int(owner_id) if owner_id not in (None, "") else None
    if owner_id != actor.pk and not may_assign(actor, object_key):
        audit.log_permission_denied(actor=actor, object_key=object_key, action="assign")
        raise PermissionDenied(
            _("Your role may not give a new customer to someone else or to the pool."),
            code="assign_denied",
        )
    return owner_id


def _owner(workspace, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = User.objects.filter(workspace=workspace, pk=owner_id, is_active=True).first()
    if owner is None:
        raise ApplicationError(
            _("Choose an active user of this workspace as owner."),
            fields={"owner": [_("Choose an active user of this workspace.")]},
        )
    return owner


def _ensure_capacity(*, workspace, owner: User | None) -> None:
    if owner is None:
        return
    try:
        from .pool import ensure_capacity
    except ImportError:  # pragma: no cover - lands with the pool
        return
    ensure_capacity(workspace=workspace, owner=owner, adding=1)


def _owned_by_other(record, field: str, owner_label: str):
    message = _(
        "This customer already exists and belongs to %(owner)s: %(name)s (%(code)s). "
        "Ask them, or a manager, instead of creating it again."
    ) % {"owner": owner_label, "name": record.name, "code": record.code}
    return Conflict(message, code="owned_by_other", fields={field: [message]})


def _check_contact_clash(workspace, contact: Contact, fields: set[str]) -> None:
    """No 撞单: refuse a contact whose mobile, phone, e-mail or ID number is already a
    customer another rep owns. ``fields`` are the ones being written."""
    phones = {v for v in (contact.mobile, contact.phone) if v and fields & {"mobile", "phone"}}
    checks: list[tuple[str, Q]] = []
    if phones:
        checks.append(("mobile" if contact.mobile in phones else "phone", Q(mobile__in=phones)))
        checks.append(("phone" if contact.phone in phones else "mobile", Q(phone__in=phones)))
    if contact.email and "email" in fields:
        checks.append(("email", Q(email=contact.email)))
    if contact.id_number and "id_number" in fields:
        checks.append(("id_number", Q(id_number=contact.id_number) & ~Q(id_number="")))
    if not checks:
        return
    match = Q()
    for _name, q in checks:
        match |= q
    others = (
        Contact.objects.in_workspace(workspace)
        .filter(match, owner__isnull=False)
        .select_related("owner")
    )
    if contact.owner_id is not None:
        others = others.exclude(owner_id=contact.owner_id)
    if contact.pk:
        others = others.exclude(pk=contact.pk)
    other = others.order_by("id").first()
    if other is None and (phones or contact.email):
        point_q = Q()
        if phones:
            point_q |= Q(kind=PointKind.PHONE, value__in=phones)
        if contact.email and "email" in fields:
            point_q |= Q(kind=PointKind.EMAIL, value=contact.email)
        points = ContactPoint.objects.in_workspace(workspace).filter(
            point_q, contact__isnull=False, contact__owner__isnull=False
        )
        if contact.owner_id is not None:
            points = points.exclude(contact__owner_id=contact.owner_id)
        if contact.pk:
            points = points.exclude(contact_id=contact.pk)
        point = points.select_related("contact__owner").order_by("id").first()
        if point is not None:
            field = "email" if point.kind == PointKind.EMAIL else "mobile"
            raise _owned_by_other(point.contact, field, point.contact.owner.full_name)
    if other is None:
        return
    for name, _q in checks:
        value = {
            "email": contact.email,
            "id_number": contact.id_number,
        }.get(name)
        if name in ("mobile", "phone"):
            if other.mobile in phones or other.phone in phones:
                raise _owned_by_other(other, name, other.owner.full_name)
        elif value and getattr(other, name) == value:
            raise _owned_by_other(other, name, other.owner.full_name)
    raise _owned_by_other(other, "name", other.owner.full_name)


def _check_account_clash(workspace, account: Account, fields: set[str]) -> None:
    """No 撞单: refuse an account whose name (without legal suffixes) or tax number is
    already a customer another rep owns."""
    match = Q()
    if account.name_core and "name" in fields:
        match |= Q(name_core=account.name_core)
    if account.tax_number and "tax_number" in fields:
        match |= Q(tax_number=account.tax_number) & ~Q(tax_number="")
    if not match:
        return
    others = (
        Account.objects.in_workspace(workspace)
        .filter(match, owner__isnull=False)
        .select_related("owner")
    )
    if account.owner_id is not None:
        others = others.exclude(owner_id=account.owner_id)
    if account.pk:
        others = others.exclude(pk=account.pk)
    other = others.order_by("id").first()
    if other is not None:
        field = (
            "name" if account.name_core and other.name_core == account.name_core else "tax_number"
        )
        raise _owned_by_other(other, field, other.owner.full_name)


def customer_clash(*, workspace, actor, object_key: str, values: dict) -> str | None:
    """The 撞单 message a create by ``actor`` with these raw form ``values`` would meet
    (the customer exists and another rep owns it), or ``None``. The form shows it as you
    type, even when the actor may not see that customer: the refusal would name it anyway."""
    kind = _KINDS.get(object_key)
    if kind is None:
        return None
    fields = (
        {"mobile", "phone", "email", "id_number"}
        if kind.model is Contact
        else {
            "name",
            "tax_number",
        }
    )
    raw = {k: v for k, v in values.items() if k in fields and v}
    if not raw:
        return None
    record = kind.model(workspace_id=workspace.pk, owner_id=actor.pk)
    for name, value in raw.items():
        try:
            cleaned = cleaning.clean_value(object_key, name, value)
        except Exception:
            continue
        setattr(record, name, cleaned)
    if kind.model is Account:
        record.name_core = normalize.company_core(record.name or "")
    check = _check_contact_clash if kind.model is Contact else _check_account_clash
    try:
        check(workspace, record, set(raw))
    except Conflict as exc:
        return str(exc.message)
    return None


def _code_free(kind: _Kind, workspace, code: str, *, exclude_pk=None) -> None:
    clash = kind.model.objects.in_workspace(workspace).filter(code=code)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        message = _("Another customer already has the code “%(code)s”.") % {"code": code}
        raise Conflict(message, code="duplicate_code", fields={"code": [message]})


def _save(record) -> None:
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        message = _("Another customer already has the code “%(code)s”.") % {"code": record.code}
        raise Conflict(message, code="duplicate_code", fields={"code": [message]}) from None


# --- records -------------------------------------------------------------------------------------


def _lock(kind: _Kind, *, workspace, actor, record_id):
    """The record, visible to the actor, locked for the rest of the transaction."""
    qs = kind.visible(workspace=workspace, actor=actor).select_for_update(of=("self",))
    try:
        return qs.get(pk=int(record_id))
    except (kind.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _account_in(workspace, actor, account_id, *, field: str) -> Account:
    try:
        return selectors.account_get(workspace=workspace, actor=actor, account_id=int(account_id))
    except (NotFound, ValueError, TypeError):
        raise ApplicationError(
            _("Choose an account you can see."), fields={field: [_("Not found.")]}
        ) from None


def _check_parent(account: Account, parent: Account | None) -> None:
    """Groups and branches form a tree: an account is never its own ancestor."""
    if parent is None:
        return
    seen = {account.pk} if account.pk else set()
    node, depth = parent, 0
    while node is not None and depth < 50:
        if node.pk in seen:
            raise ApplicationError(
                _("An account cannot be a branch of itself or of its own branches."),
                code="parent_cycle",
                fields={"parent": [_("This would make a loop of parent accounts.")]},
            )
        seen.add(node.pk)
        node = (
            Account.objects.in_workspace(account.workspace_id).filter(pk=node.parent_id).first()
            if node.parent_id
            else None
        )
        depth += 1


def _stage_row(kind: _Kind, record, stage_kind: str, from_stage: str, to_stage: str, actor, reason):
    StageChange.objects.create(
        workspace_id=record.workspace_id,
        **{kind.fk: record},
        kind=stage_kind,
        from_stage=from_stage or "",
        to_stage=to_stage or "",
        actor=actor,
        reason=(reason or "")[:200],
    )
    # The move also goes on the customer's timeline (activities), in this transaction.
    events.emit(
        events.CustomerEvent(
            workspace_id=record.workspace_id,
            kind=events.STAGE_CHANGE,
            actor_id=getattr(actor, "pk", None),
            account_id=record.pk if kind.model is Account else None,
            contact_ids=(record.pk,) if kind.model is Contact else (),
            data={
                "stage": stage_kind,
                "from": from_stage or "",
                "to": to_stage or "",
                "reason": (reason or "")[:200],
            },
        )
    )


def _tag_names(names, *, field: str) -> list[str]:
    if names is None:
        return []
    if isinstance(names, str):
        names = [n for n in names.replace("，", ",").split(",")]
    out = []
    for name in names:
        text = _text(name, field=field, max_length=60)
        if text and text not in out:
            out.append(text)
    if len(out) > 100:
        raise ApplicationError(_("At most 100 tags."), fields={field: [_("At most 100 tags.")]})
    return out


def _tags_of(kind: _Kind, record, tag_kind: str) -> list[str]:
    rows = kind.tag_model.objects.in_workspace(record.workspace_id).filter(
        **{kind.fk: record}, tag__kind=tag_kind
    )
    return sorted(rows.values_list("tag__name", flat=True))


def _write_tags(kind: _Kind, record, tag_kind: str, names: list[str]) -> tuple[list, list]:
    """Make the record's tags of ``tag_kind`` exactly ``names`` (created on first use)."""
    workspace_id = record.workspace_id
    before = _tags_of(kind, record, tag_kind)
    tags = {
        t.name: t
        for t in Tag.objects.in_workspace(workspace_id).filter(kind=tag_kind, name__in=names)
    }
    for name in names:
        if name not in tags:
            try:
                with transaction.atomic():
                    tags[name] = Tag.objects.create(
                        workspace_id=workspace_id, kind=tag_kind, name=name
                    )
            except IntegrityError:
                tags[name] = Tag.objects.in_workspace(workspace_id).get(kind=tag_kind, name=name)
    links = kind.tag_model.objects.in_workspace(workspace_id).filter(**{kind.fk: record})
    links.filter(tag__kind=tag_kind).exclude(tag__name__in=names).delete()
    for name in names:
        if name not in before:
            kind.tag_model.objects.create(
                workspace_id=workspace_id, **{kind.fk: record}, tag=tags[name]
            )
    return before, sorted(names)


def _create(kind: _Kind, *, actor, workspace, owner_id, custom, tags, interests, extra, fields):
    permissions.require(actor, kind.object_key, Action.CREATE)
    _unknown(fields, kind.fields | {"code", "address"})
    owner_id = _owner_for_create(actor, kind.object_key, owner_id)
    requested = _given({**fields, **extra, "custom": custom or {}, "tags": tags})
    if owner_id != actor.pk:
        requested["owner"] = owner_id
    if kind.model is Contact and interests:
        requested["interests"] = interests
    permissions.check_changes_writable(actor, kind.object_key, requested)
    values = _clean(kind, fields, workspace=workspace, partial=False)
    code = _text(fields.get("code"), field="code", max_length=64)
    tag_names = _tag_names(tags, field="tags")
    interest_names = _tag_names(interests, field="interests")
    for stage_kind, field in STAGE_FIELDS.items():
        if field in values:
            values[field] = _choice(
                values[field],
                STAGE_CHOICES[stage_kind],
                field=field,
                blank=stage_kind == StageKind.LOYALTY,
            ) or (LifecycleStage.POTENTIAL if stage_kind == StageKind.LIFECYCLE else "")
    if not (values.get("name") or "").strip():
        raise ApplicationError(
            _("Enter the name."), fields={"name": [_("This field is required.")]}
        )
    with transaction.atomic():
        owner = _owner(workspace, owner_id)
        record = kind.model(workspace=workspace, **{k: v for k, v in values.items() if k != "code"})
        record.owner = owner
        record.owned_since = timezone.now() if owner else None
        record.created_by = actor
        primary: Account | None = None
        if kind.model is Account:
            if extra.get("parent_id"):
                record.parent = _account_in(workspace, actor, extra["parent_id"], field="parent")
        elif extra.get("account_id"):
            primary = _account_in(workspace, actor, extra["account_id"], field="account")
            record.account = primary
            record.company = record.company or primary.name
        if kind.model is Account or primary is None:
            _ensure_capacity(workspace=workspace, owner=owner)
        record.custom = custom_fields.validate(
            workspace=workspace, object_key=kind.object_key, values=custom, model=kind.model
        )
        kind.apply_keys(record)
        if kind.model is Account:
            _check_account_clash(workspace, record, set(values))
        else:
            _check_contact_clash(workspace, record, set(values))
        if code:
            _code_free(kind, workspace, code)
        else:
            code = codes_reserve(workspace=workspace, prefix=kind.prefix)[0]
        record.code = code
        _save(record)
        audit.log_create(actor=actor, instance=record)
        _stage_row(kind, record, StageKind.LIFECYCLE, "", record.lifecycle_stage, actor, "")
        if record.loyalty_stage:
            _stage_row(kind, record, StageKind.LOYALTY, "", record.loyalty_stage, actor, "")
        if primary is not None:
            AccountContact.objects.create(
                workspace=workspace,
                account=primary,
                contact=record,
                role=_choice(extra.get("role"), ContactRole, field="role"),
                level=_choice(extra.get("level"), ContactLevel, field="level"),
                is_primary=True,
            )
        changes = {}
        for tag_kind, names in ((TagKind.TAG, tag_names), (TagKind.INTEREST, interest_names)):
            if names:
                _write_tags(kind, record, tag_kind, names)
                changes["tags" if tag_kind == TagKind.TAG else "interests"] = [None, names]
        if changes:
            _log_related(actor, kind, record, changes)
    return record


def _log_related(actor, kind: _Kind, record, changes: dict) -> None:
    """A change of the record's related rows, in the record's own history."""
    audit.log(
        actor=actor,
        workspace=record.workspace_id,
        action=AuditAction.UPDATE,
        object_key=kind.object_key,
        object_id=record.pk,
        object_repr=str(record),
        changes=changes,
    )


def _update(kind: _Kind, *, actor, workspace, record_id, changes: dict):
    permissions.require(actor, kind.object_key, Action.UPDATE)
    relations = {"custom", "tags", "stage_reason"}
    relations |= {"parent_id"} if kind.model is Account else {"account_id", "interests"}
    _unknown(changes, kind.fields | {"code", "address"} | relations)
    reason = changes.pop("stage_reason", "") or ""
    permissions.check_changes_writable(actor, kind.object_key, changes)
    plain = {k: v for k, v in changes.items() if k not in relations}
    values = _clean(kind, plain, workspace=workspace, partial=True) if plain else {}
    if "code" in plain:
        values["code"] = _text(plain["code"], field="code", max_length=64, required=True)
    if "name" in plain and not (values.get("name") or "").strip():
        raise ApplicationError(
            _("Enter the name."), fields={"name": [_("This field is required.")]}
        )
    tag_names = _tag_names(changes["tags"], field="tags") if "tags" in changes else None
    interest_names = (
        _tag_names(changes["interests"], field="interests") if "interests" in changes else None
    )
    with transaction.atomic():
        record = _lock(kind, workspace=workspace, actor=actor, record_id=record_id)
        if kind.model is Contact:  # an erased person stays erased (services/privacy.py)
            from .privacy import refuse_personal_changes

            refuse_personal_changes(record, changes)
        before = audit.snapshot(record)
        stages_before = {f: getattr(record, f) for f in STAGE_FIELDS.values()}
        for stage_kind, field in STAGE_FIELDS.items():
            if field in values:
                values[field] = _choice(
                    values[field],
                    STAGE_CHOICES[stage_kind],
                    field=field,
                    blank=stage_kind == StageKind.LOYALTY,
                )
                if not values[field] and stage_kind == StageKind.LIFECYCLE:
                    values.pop(field)
        for name, value in values.items():
            setattr(record, name, value)
        if "code" in values and values["code"] != before.get("code"):
            _code_free(kind, workspace, values["code"], exclude_pk=record.pk)
        if "parent_id" in changes:
            parent = (
                _account_in(workspace, actor, changes["parent_id"], field="parent")
                if changes["parent_id"]
                else None
            )
            _check_parent(record, parent)
            record.parent = parent
        if "account_id" in changes:
            _set_primary_account(actor, workspace, record, changes["account_id"])
        if "custom" in changes:
            record.custom = custom_fields.validate_changes(
                instance=record, object_key=kind.object_key, values=changes["custom"]
            )
        kind.apply_keys(record)
        if kind.model is Account:
            written = {f for f in values if getattr(record, f) != before.get(f)}
            _check_account_clash(workspace, record, written)
        else:
            written = {f for f in values if getattr(record, f) != before.get(f)}
            _check_contact_clash(workspace, record, written)
        _save(record)
        audit.log_update(actor=actor, instance=record, before=before)
        for stage_kind, field in STAGE_FIELDS.items():
            if getattr(record, field) != stages_before[field]:
                _stage_row(
                    kind,
                    record,
                    stage_kind,
                    stages_before[field],
                    getattr(record, field),
                    actor,
                    reason,
                )
        related = {}
        for tag_kind, names in ((TagKind.TAG, tag_names), (TagKind.INTEREST, interest_names)):
            if names is not None:
                old, new = _write_tags(kind, record, tag_kind, names)
                if old != new:
                    related["tags" if tag_kind == TagKind.TAG else "interests"] = [old, new]
        if related:
            _log_related(actor, kind, record, related)
    return record


def _delete(kind: _Kind, *, actor, workspace, record_id) -> None:
    permissions.require(actor, kind.object_key, Action.DELETE)
    with transaction.atomic():
        record = _lock(kind, workspace=workspace, actor=actor, record_id=record_id)
        audit.log_delete(actor=actor, instance=record)
        record.delete()


def account_create(
    *,
    actor: User,
    workspace: Workspace,
    owner_id: int | None = _UNSET,
    parent_id: int | None = None,
    custom: dict | None = None,
    tags: list[str] | None = None,
    interests: list[str] | None = None,
    **fields: Any,
) -> Account:
    """Create an account. The code is generated when not given; the owner defaults to the
    actor (someone who may assign can name another owner, or none: the pool). Refused with
    ``owned_by_other`` when another rep already owns the company (name or tax number)."""
    return _create(
        _ACCOUNT,
        actor=actor,
        workspace=workspace,
        owner_id=owner_id,
        custom=custom,
        tags=tags,
        interests=interests,
        extra={"parent_id": parent_id},
        fields=fields,
    )


def account_update(
    *, actor: User, workspace: Workspace, account_id: int, **changes: Any
) -> Account:
    """Change an account's fields, parent, custom values, tags or stages (a stage move is
    recorded with ``stage_reason``). The owner changes through the pool's assign/claim."""
    return _update(
        _ACCOUNT, actor=actor, workspace=workspace, record_id=account_id, changes=changes
    )


def account_delete(*, actor: User, workspace: Workspace, account_id: int) -> None:
    """Delete an account; its branches keep existing without a parent, its contacts
    become individual customers. The audit log keeps its last state."""
    _delete(_ACCOUNT, actor=actor, workspace=workspace, record_id=account_id)


def contact_create(
    *,
    actor: User,
    workspace: Workspace,
    owner_id: int | None = _UNSET,
    account_id: int | None = None,
    role: str = "",
    level: str = "",
    custom: dict | None = None,
    tags: list[str] | None = None,
    interests: list[str] | None = None,
    **fields: Any,
) -> Contact:
    """Create a contact; with ``account_id`` it joins that account as its primary one
    (``role``, ``level``), without it is an individual customer. Refused with
    ``owned_by_other`` when another rep owns a customer with the same mobile, phone, e-mail
    or ID number."""
    return _create(
        _CONTACT,
        actor=actor,
        workspace=workspace,
        owner_id=owner_id,
        custom=custom,
        tags=tags,
        interests=interests,
        extra={"account_id": account_id, "role": role, "level": level},
        fields=fields,
    )


def contact_update(
    *, actor: User, workspace: Workspace, contact_id: int, **changes: Any
) -> Contact:
    """Change a contact's fields, primary account, custom values, tags, interests or stages."""
    return _update(
        _CONTACT, actor=actor, workspace=workspace, record_id=contact_id, changes=changes
    )


def contact_delete(*, actor: User, workspace: Workspace, contact_id: int) -> None:
    _delete(_CONTACT, actor=actor, workspace=workspace, record_id=contact_id)


# --- stages ---------------------------------------------------------------------------------------


def stage_change(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    record_id: int,
    kind: str,
    to_stage: str,
    reason: str = "",
):
    """Move a customer's lifecycle or loyalty stage; the move is kept with who and why."""
    record_kind = _kind(object_key)
    permissions.require(actor, object_key, Action.UPDATE)
    if kind not in STAGE_FIELDS:
        raise ApplicationError(
            _("Choose the lifecycle or the loyalty stage."),
            fields={"kind": [_("Choose lifecycle or loyalty.")]},
        )
    field = STAGE_FIELDS[kind]
    permissions.check_writable(actor, object_key, {field})
    to_stage = _choice(
        to_stage, STAGE_CHOICES[kind], field="to_stage", blank=kind == StageKind.LOYALTY
    )
    if kind == StageKind.LIFECYCLE and not to_stage:
        raise ApplicationError(
            _("Choose a stage."), fields={"to_stage": [_("This field is required.")]}
        )
    reason = _text(reason, field="reason", max_length=200)
    with transaction.atomic():
        record = _lock(record_kind, workspace=workspace, actor=actor, record_id=record_id)
        current = getattr(record, field)
        if current == to_stage:
            return record
        before = audit.snapshot(record, [field])
        setattr(record, field, to_stage)
        record.save(update_fields=[field, "updated_at"])
        _stage_row(record_kind, record, kind, current, to_stage, actor, reason)
        entry_changes = audit.diff(before, audit.snapshot(record, [field]))
        if reason:
            entry_changes["reason"] = [None, reason]
        _log_related(actor, record_kind, record, entry_changes)
    return record


# --- tags -------------------------------------------------------------------------------------------


def tags_set(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    record_id: int,
    names: list[str],
    kind: str = TagKind.TAG,
):
    """Make a customer's tags (or interests) exactly ``names``; new names become tags."""
    record_kind = _kind(object_key)
    permissions.require(actor, object_key, Action.UPDATE)
    kind = _choice(kind, TagKind, field="kind", blank=False)
    field = "tags" if kind == TagKind.TAG else "interests"
    permissions.check_writable(actor, object_key, {field})
    names = _tag_names(names, field=field)
    with transaction.atomic():
        record = _lock(record_kind, workspace=workspace, actor=actor, record_id=record_id)
        old, new = _write_tags(record_kind, record, kind, names)
        if old != new:
            _log_related(actor, record_kind, record, {field: [old, new]})
    return record


def tag_add(
    *, actor, workspace, object_key: str, record_id: int, name: str, kind: str = TagKind.TAG
):
    record_kind = _kind(object_key)
    permissions.require(actor, object_key, Action.UPDATE)
    kind = _choice(kind, TagKind, field="kind", blank=False)
    name = _text(name, field="name", max_length=60, required=True)
    with transaction.atomic():
        record = _lock(record_kind, workspace=workspace, actor=actor, record_id=record_id)
        current = _tags_of(record_kind, record, kind)
        if name not in current:
            _write_tags(record_kind, record, kind, [*current, name])
            field = "tags" if kind == TagKind.TAG else "interests"
            _log_related(actor, record_kind, record, {field: [current, sorted([*current, name])]})
    return record


def tag_remove(
    *, actor, workspace, object_key: str, record_id: int, name: str, kind: str = TagKind.TAG
):
    record_kind = _kind(object_key)
    permissions.require(actor, object_key, Action.UPDATE)
    kind = _choice(kind, TagKind, field="kind", blank=False)
    name = _text(name, field="name", max_length=60, required=True)
    with transaction.atomic():
        record = _lock(record_kind, workspace=workspace, actor=actor, record_id=record_id)
        current = _tags_of(record_kind, record, kind)
        if name in current:
            kept = [n for n in current if n != name]
            _write_tags(record_kind, record, kind, kept)
            field = "tags" if kind == TagKind.TAG else "interests"
            _log_related(actor, record_kind, record, {field: [current, kept]})
    return record


# --- account memberships ---------------------------------------------------------------------


def _set_primary_account(actor, workspace, contact: Contact, account_id) -> None:
    """Inside a transaction: make ``account_id`` the contact's primary account (None: an
    individual customer again; the memberships stay)."""
    memberships = AccountContact.objects.in_workspace(workspace).filter(contact=contact)
    if not account_id:
        memberships.filter(is_primary=True).update(is_primary=False)
        contact.account = None
        return
    account = _account_in(workspace, actor, account_id, field="account")
    memberships.exclude(account=account).filter(is_primary=True).update(is_primary=False)
    link = memberships.filter(account=account).first()
    if link is None:
        AccountContact.objects.create(
            workspace=workspace, account=account, contact=contact, is_primary=True
        )
    elif not link.is_primary:
        link.is_primary = True
        link.save(update_fields=["is_primary", "updated_at"])
    contact.account = account
    contact.company = account.name


def membership_set(
    *,
    actor: User,
    workspace: Workspace,
    contact_id: int,
    account_id: int,
    role: str = "",
    level: str = "",
    is_primary: bool = False,
) -> AccountContact:
    """Place a contact at an account with a role and level (added or changed). Making it
    the primary account sets the contact's account and company."""
    permissions.require(actor, CONTACT, Action.UPDATE)
    permissions.check_writable(actor, CONTACT, {"account"})
    role = _choice(role, ContactRole, field="role")
    level = _choice(level, ContactLevel, field="level")
    with transaction.atomic():
        contact = _lock(_CONTACT, workspace=workspace, actor=actor, record_id=contact_id)
        account = _account_in(workspace, actor, account_id, field="account")
        before = audit.snapshot(contact)
        link, created = AccountContact.objects.in_workspace(workspace).get_or_create(
            workspace=workspace, contact=contact, account=account
        )
        old = None if created else _membership_text(link)
        link.role, link.level = role, level
        link.save()
        if is_primary:
            _set_primary_account(actor, workspace, contact, account.pk)
            search_keys.apply_contact_keys(contact)
            contact.save()
            link.refresh_from_db()
            audit.log_update(actor=actor, instance=contact, before=before)
        new = _membership_text(link)
        if old != new:
            _log_related(actor, _CONTACT, contact, {"account_memberships": [old, new]})
    return link


def membership_remove(
    *, actor: User, workspace: Workspace, contact_id: int, account_id: int
) -> None:
    """Take a contact off an account; if it was the primary one, the contact becomes an
    individual customer (the company name stays as written)."""
    permissions.require(actor, CONTACT, Action.UPDATE)
    permissions.check_writable(actor, CONTACT, {"account"})
    with transaction.atomic():
        contact = _lock(_CONTACT, workspace=workspace, actor=actor, record_id=contact_id)
        link = (
            AccountContact.objects.in_workspace(workspace)
            .filter(contact=contact, account_id=account_id)
            .select_related("account")
            .first()
        )
        if link is None:
            raise NotFound()
        old = _membership_text(link)
        if link.is_primary or contact.account_id == link.account_id:
            before = audit.snapshot(contact)
            contact.account = None
            search_keys.apply_contact_keys(contact)
            contact.save()
            audit.log_update(actor=actor, instance=contact, before=before)
        link.delete()
        _log_related(actor, _CONTACT, contact, {"account_memberships": [old, None]})


def _membership_text(link: AccountContact) -> str:
    parts = [str(link.account)]
    if link.role:
        parts.append(str(link.get_role_display()))
    if link.level:
        parts.append(str(link.get_level_display()))
    if link.is_primary:
        parts.append(str(_("primary")))
    return " · ".join(parts)


# --- addresses, phones and e-mails, bank accounts ----------------------------------------------

ADDRESS_FIELDS = {
    "kind": 20,
    "label": 60,
    "recipient": 120,
    "phone": 32,
    "country": 2,
    "province": 60,
    "city": 60,
    "district": 60,
    "street": 255,
    "postal_code": 20,
}


def _parent_for_child(actor, workspace, object_key: str, record_id, field: str):
    record_kind = _kind(object_key)
    permissions.require(actor, object_key, Action.UPDATE)
    permissions.check_writable(actor, object_key, {field})
    return record_kind


def _clean_address(values: dict, *, partial: bool) -> dict:
    _unknown(values, set(ADDRESS_FIELDS) | {"latitude", "longitude"})
    out: dict[str, Any] = {}
    for name, limit in ADDRESS_FIELDS.items():
        if name in values:
            out[name] = _text(values[name], field=name, max_length=limit)
    if "kind" in out or not partial:
        out["kind"] = _choice(out.get("kind"), AddressKind, field="kind", blank=False)
    if "country" in out:
        out["country"] = out["country"].upper()
    if out.get("phone"):
        try:
            out["phone"] = normalize.phone(out["phone"])
        except normalize.InvalidPhone:
            raise ApplicationError(
                _("Enter a valid phone number."),
                fields={"phone": [_("Enter a valid phone number.")]},
            ) from None
    for name, bound in (("latitude", 90), ("longitude", 180)):
        if name in values:
            raw = values[name]
            if raw in (None, ""):
                out[name] = None
                continue
            try:
                number = decimal.Decimal(str(raw)).quantize(decimal.Decimal("0.000001"))
            except (decimal.InvalidOperation, ValueError):
                number = None
            if number is None or not number.is_finite() or abs(number) > bound:
                message = _("Enter a number between -%(n)s and %(n)s.") % {"n": bound}
                raise ApplicationError(message, fields={name: [message]})
            out[name] = number
    return out


def address_add(
    *, actor: User, workspace: Workspace, object_key: str, record_id: int, **values: Any
) -> Address:
    """Add a further typed address (registered, delivery, invoice, …) to a customer."""
    record_kind = _parent_for_child(actor, workspace, object_key, record_id, "street")
    cleaned = _clean_address(values, partial=False)
    with transaction.atomic():
        record = _lock(record_kind, workspace=workspace, actor=actor, record_id=record_id)
        address = Address.objects.create(workspace=workspace, **{record_kind.fk: record}, **cleaned)
        _log_related(actor, record_kind, record, {"addresses": [None, _address_text(address)]})
    return address


def _child(model, workspace, child_id, record_kind: _Kind, actor):
    """A child row (address, point, bank account) whose customer the actor can see, with
    that customer locked."""
    try:
        row = model.objects.in_workspace(workspace).get(pk=int(child_id))
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    parent_id = getattr(row, f"{record_kind.fk}_id")
    if parent_id is None:
        raise NotFound()
    record = _lock(record_kind, workspace=workspace, actor=actor, record_id=parent_id)
    return row, record


def _child_kind(model, workspace, child_id) -> _Kind:
    row = model.objects.in_workspace(workspace).filter(pk=_int_or_none(child_id)).first()
    if row is None:
        raise NotFound()
    return _CONTACT if getattr(row, "contact_id", None) else _ACCOUNT


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def address_update(*, actor: User, workspace: Workspace, address_id: int, **values: Any) -> Address:
    record_kind = _child_kind(Address, workspace, address_id)
    _parent_for_child(actor, workspace, record_kind.object_key, None, "street")
    cleaned = _clean_address(values, partial=True)
    with transaction.atomic():
        address, record = _child(Address, workspace, address_id, record_kind, actor)
        old = _address_text(address)
        for name, value in cleaned.items():
            setattr(address, name, value)
        address.save()
        new = _address_text(address)
        if old != new:
            _log_related(actor, record_kind, record, {"addresses": [old, new]})
    return address


def address_remove(*, actor: User, workspace: Workspace, address_id: int) -> None:
    record_kind = _child_kind(Address, workspace, address_id)
    _parent_for_child(actor, workspace, record_kind.object_key, None, "street")
    with transaction.atomic():
        address, record = _child(Address, workspace, address_id, record_kind, actor)
        old = _address_text(address)
        address.delete()
        _log_related(actor, record_kind, record, {"addresses": [old, None]})


def _address_text(address: Address) -> str:
    return f"{address.get_kind_display()}: {address}".strip()


def _clean_point(kind: str, value, label) -> tuple[str, str, str]:
    kind = _choice(kind, PointKind, field="kind", blank=False)
    label = _choice(label, PointLabel, field="label")
    text = _text(value, field="value", max_length=254, required=True)
    if kind == PointKind.PHONE:
        try:
            text = normalize.phone(text)
        except normalize.InvalidPhone:
            raise ApplicationError(
                _("Enter a valid phone number."),
                fields={"value": [_("Enter a valid phone number.")]},
            ) from None
    else:
        text = normalize.email(text)
        try:
            validate_email(text)
        except ValidationError:
            raise ApplicationError(
                _("Enter a valid e-mail address."),
                fields={"value": [_("Enter a valid e-mail address.")]},
            ) from None
    return kind, text, label


def point_add(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    record_id: int,
    kind: str,
    value: str,
    label: str = "",
) -> ContactPoint:
    """Add a further phone number or e-mail address (normalised: E.164, lower case)."""
    field = "phone" if kind == PointKind.PHONE else "email"
    record_kind = _parent_for_child(actor, workspace, object_key, record_id, field)
    kind, value, label = _clean_point(kind, value, label)
    with transaction.atomic():
        record = _lock(record_kind, workspace=workspace, actor=actor, record_id=record_id)
        exists = ContactPoint.objects.in_workspace(workspace).filter(
            **{record_kind.fk: record}, kind=kind, value=value
        )
        if exists.exists():
            raise Conflict(
                _("This customer already has it."), fields={"value": [_("Already there.")]}
            )
        if record_kind.model is Contact and kind == PointKind.PHONE:
            probe = Contact(
                workspace_id=record.workspace_id, owner_id=record.owner_id, pk=record.pk
            )
            probe.mobile, probe.phone, probe.email, probe.id_number = value, "", "", ""
            _check_contact_clash(workspace, probe, {"mobile"})
        point = ContactPoint.objects.create(
            workspace=workspace, **{record_kind.fk: record}, kind=kind, value=value, label=label
        )
        _log_related(actor, record_kind, record, {"points": [None, _point_text(point)]})
    return point


def point_update(
    *, actor: User, workspace: Workspace, point_id: int, value: str | None = None, label=None
) -> ContactPoint:
    record_kind = _child_kind(ContactPoint, workspace, point_id)
    permissions.require(actor, record_kind.object_key, Action.UPDATE)
    with transaction.atomic():
        point, record = _child(ContactPoint, workspace, point_id, record_kind, actor)
        permissions.check_writable(
            actor, record_kind.object_key, {"phone" if point.kind == "phone" else "email"}
        )
        old = _point_text(point)
        _k, new_value, new_label = _clean_point(
            point.kind,
            point.value if value is None else value,
            point.label if label is None else label,
        )
        point.value, point.label = new_value, new_label
        point.save()
        if _point_text(point) != old:
            _log_related(actor, record_kind, record, {"points": [old, _point_text(point)]})
    return point


def point_remove(*, actor: User, workspace: Workspace, point_id: int) -> None:
    record_kind = _child_kind(ContactPoint, workspace, point_id)
    permissions.require(actor, record_kind.object_key, Action.UPDATE)
    with transaction.atomic():
        point, record = _child(ContactPoint, workspace, point_id, record_kind, actor)
        permissions.check_writable(
            actor, record_kind.object_key, {"phone" if point.kind == "phone" else "email"}
        )
        old = _point_text(point)
        point.delete()
        _log_related(actor, record_kind, record, {"points": [old, None]})


def _point_text(point: ContactPoint) -> str:
    label = f" ({point.get_label_display()})" if point.label else ""
    return f"{point.value}{label}"


def _clean_bank(values: dict, *, partial: bool) -> dict:
    _unknown(values, {"bank_name", "account_name", "account_number", "is_primary"})
    out: dict[str, Any] = {}
    for name, limit, required in (
        ("bank_name", 120, True),
        ("account_name", 200, False),
        ("account_number", 40, True),
    ):
        if name in values or not partial:
            out[name] = _text(values.get(name), field=name, max_length=limit, required=required)
    if "account_number" in out:
        out["account_number"] = out["account_number"].replace(" ", "")
    if "is_primary" in values:
        out["is_primary"] = bool(values["is_primary"])
    return out


def bank_account_add(
    *, actor: User, workspace: Workspace, account_id: int, **values: Any
) -> BankAccount:
    """Add a bank account to an account; a primary one replaces the previous primary."""
    _parent_for_child(actor, workspace, ACCOUNT, account_id, "bank_accounts")
    cleaned = _clean_bank(values, partial=False)
    with transaction.atomic():
        account = _lock(_ACCOUNT, workspace=workspace, actor=actor, record_id=account_id)
        if cleaned.get("is_primary"):
            BankAccount.objects.in_workspace(workspace).filter(account=account).update(
                is_primary=False
            )
        bank = BankAccount.objects.create(workspace=workspace, account=account, **cleaned)
        _log_related(actor, _ACCOUNT, account, {"bank_accounts": [None, _bank_text(bank)]})
    return bank


def bank_account_update(
    *, actor: User, workspace: Workspace, bank_account_id: int, **values: Any
) -> BankAccount:
    _parent_for_child(actor, workspace, ACCOUNT, None, "bank_accounts")
    cleaned = _clean_bank(values, partial=True)
    with transaction.atomic():
        bank, account = _child(BankAccount, workspace, bank_account_id, _ACCOUNT, actor)
        old = _bank_text(bank)
        if cleaned.get("is_primary"):
            BankAccount.objects.in_workspace(workspace).filter(account=account).exclude(
                pk=bank.pk
            ).update(is_primary=False)
        for name, value in cleaned.items():
            setattr(bank, name, value)
        bank.save()
        if _bank_text(bank) != old:
            _log_related(actor, _ACCOUNT, account, {"bank_accounts": [old, _bank_text(bank)]})
    return bank


def bank_account_remove(*, actor: User, workspace: Workspace, bank_account_id: int) -> None:
    _parent_for_child(actor, workspace, ACCOUNT, None, "bank_accounts")
    with transaction.atomic():
        bank, account = _child(BankAccount, workspace, bank_account_id, _ACCOUNT, actor)
        old = _bank_text(bank)
        bank.delete()
        _log_related(actor, _ACCOUNT, account, {"bank_accounts": [old, None]})


def _bank_text(bank: BankAccount) -> str:
    # Only the last four digits go to the audit log.
    tail = bank.account_number[-4:]
    return f"{bank.bank_name} ···{tail}" + (" ★" if bank.is_primary else "")


# --- value classes (written by the analytics' customer-value run) ---------------------------

VALUE_CLASSES = ("A", "B", "C", "")
_VALUE_CLASS_CHUNK = 5000


def set_value_classes(
    *, workspace: Workspace, changes, actor: User | None = None, note: str = ""
) -> dict[str, int]:
    """Set the ABC value class of many customers at once; ``changes`` is an iterable of
    ``(kind, id, value_class)`` with kind ``"account"`` or ``"contact"``, read lazily.

    Ids outside ``workspace`` are left alone. A bulk write by the system, not a user's
    edit: no per-row audit and no ``updated_at`` bump, but one summary audit row
    (customers set to each class). Updates run per chunk and class as one ``UPDATE … WHERE
    id IN (…)``, so a million changes stay in bounded memory. Returns counts per class."""
    models_by_kind = {"account": Account, "contact": Contact}
    counts: dict[str, int] = {}
    pending: dict[tuple[str, str], list[int]] = {}

    def flush(key: tuple[str, str]) -> None:
        ids = pending.pop(key, [])
        if not ids:
            return
        kind, value_class = key
        written = (
            models_by_kind[kind]
            .objects.in_workspace(workspace)
            .filter(pk__in=ids)
            .update(value_class=value_class)
        )
        counts[value_class] = counts.get(value_class, 0) + written

    with transaction.atomic():
        for kind, record_id, value_class in changes:
            if kind not in models_by_kind or value_class not in VALUE_CLASSES:
                raise ApplicationError(
                    _("Unknown value class %(cls)s for %(kind)s %(id)s.")
                    % {"cls": value_class, "kind": kind, "id": record_id},
                    code="invalid_value_class",
                )
            bucket = pending.setdefault((kind, value_class), [])
            bucket.append(int(record_id))
            if len(bucket) >= _VALUE_CLASS_CHUNK:
                flush((kind, value_class))
        for key in list(pending):
            flush(key)
        if counts:
            audit.log(
                actor=actor,
                workspace=workspace,
                action=AuditAction.UPDATE,
                object_key=ACCOUNT,
                object_repr=str(_("Value classes recomputed")),
                # The audit shape is field → [before, after]; "after" sums the run up.
                changes={
                    "value_class": [
                        None,
                        " · ".join(f"{cls or '-'}: {n}" for cls, n in sorted(counts.items()))
                        + (f" ({note})" if note else ""),
                    ]
                },
            )
    return counts
