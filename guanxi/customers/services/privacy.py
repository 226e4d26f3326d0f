"""Per-person export and erasure (PIPL/GDPR).

``contact_personal_data`` gathers everything held about one person; ``contact_erase``
anonymises the personal fields, deletes further addresses, phones, e-mails and interests,
withdraws every consent and stamps ``erased_at`` — the code, account memberships, stages
and business facts stay, so reports and history still add up.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict
from guanxi.platform import audit, custom_fields, permissions
from guanxi.platform.models import Action, AuditAction, AuditEntry, User, Workspace

from .. import search_keys, selectors
from ..models import (
    AccountContact,
    Address,
    ConsentEvent,
    Contact,
    ContactPoint,
    ContactTag,
    Merge,
    PoolEvent,
    StageChange,
    TagKind,
)
from . import consent as consent_service

CONTACT = "customers.contact"
# Emptied by erasure: what identifies or describes the person. The code, company, job
# title, department, city/province/country, stages, owner and account links stay.
ERASED_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "mobile",
    "email",
    "gender",
    "id_number",
    "family",
    "income_band",
    "education",
    "hobbies",
    "habits",
    "personality",
    "preferred_channel",
    "preferred_time",
    "street",
    "postal_code",
    "notes",
)
ERASED_NULL_FIELDS = ("birthday", "latitude", "longitude")
# Replaced in the audit entries of an erased person (and of the records merged into it):
# the erased fields, the name, every custom field, and the logged further addresses,
# phones, e-mails and interests.
AUDIT_REDACTED_FIELDS = frozenset(
    {
        *ERASED_TEXT_FIELDS,
        *ERASED_NULL_FIELDS,
        "name",
        "custom",
        "address",
        "addresses",
        "points",
        "interests",
    }
)
# Audit entries listed in an export: the newest first, capped so one export stays small.
MAX_AUDIT_ENTRIES = 1000


# Later apps add what they hold about a person: ``provider(workspace_id, contact) -> dict`` of
# extra export sections, and ``eraser(workspace_id, contact) -> dict`` of counts, run inside
# the erasure's transaction (the activities app redacts e-mails and notes about the person).
PersonalDataProvider = Callable[[int, Contact], dict]
PersonalDataEraser = Callable[[int, Contact], dict]
_providers: dict[str, PersonalDataProvider] = {}
_erasers: dict[str, PersonalDataEraser] = {}


def register_personal_data(
    key: str, *, provider: PersonalDataProvider, eraser: PersonalDataEraser
) -> None:
    """Register what another app exports and erases for a person, under ``key``."""
    _providers[key] = provider
    _erasers[key] = eraser


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _row(instance: models.Model, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in ("workspace", *exclude):
            continue
        data[field.attname if field.is_relation else field.name] = _jsonable(
            getattr(instance, field.attname)
        )
    return data


def _user_label(user: User | None) -> str | None:
    return (user.full_name or user.email) if user is not None else None


def contact_personal_data(*, actor: User, workspace: Workspace, contact_id) -> dict:
    """Everything held about one person, as JSON-ready data: the record's fields and custom
    fields, further addresses, phones and e-mails, account memberships, tags and interests,
    stage history, consent and its history, pool moves, merges into this record and the
    audit log about it. Needs the export right; fields hidden from the actor's role are left
    out. The export itself is audited."""
    permissions.require(actor, CONTACT, Action.EXPORT)
    contact = selectors.contact_get(workspace=workspace, actor=actor, contact_id=contact_id)
    hidden = permissions.hidden_fields(actor, CONTACT)
    fields = _row(contact, exclude=("custom",))
    fields = {k: v for k, v in fields.items() if k.removesuffix("_id") not in hidden}
    custom = {
        d.key: {"label": d.label, "value": _jsonable((contact.custom or {}).get(d.key))}
        for d in custom_fields.definitions(workspace, CONTACT)
        if d.key in (contact.custom or {}) and f"custom.{d.key}" not in hidden
    }
    ws = contact.workspace_id
    memberships = [
        {
            "account_id": m.account_id,
            "account_code": m.account.code,
            "account_name": m.account.name,
            "role": m.role,
            "level": m.level,
            "is_primary": m.is_primary,
        }
        for m in AccountContact.objects.in_workspace(ws)
        .filter(contact=contact)
        .select_related("account")
        .order_by("id")
    ]
    taggings = (
        ContactTag.objects.in_workspace(ws)
        .filter(contact=contact)
        .select_related("tag")
        .order_by("tag__kind", "tag__name")
    )
    state = consent_service.consent_state(contact)
    data = {
        "format": "guanxi.personal-data/1",
        "exported_at": timezone.now().isoformat(),
        "object": CONTACT,
        "id": contact.pk,
        "code": contact.code,
        "fields": fields,
        "custom_fields": custom,
        "addresses": [
            _row(a, exclude=("contact", "account"))
            for a in Address.objects.in_workspace(ws).filter(contact=contact).order_by("id")
        ],
        "phones_and_emails": [
            _row(p, exclude=("contact", "account"))
            for p in ContactPoint.objects.in_workspace(ws).filter(contact=contact).order_by("id")
        ],
        "memberships": memberships,
        "tags": [t.tag.name for t in taggings if t.tag.kind == TagKind.TAG],
        "interests": [t.tag.name for t in taggings if t.tag.kind == TagKind.INTEREST],
        "stage_history": [
            {
                "kind": s.kind,
                "from": s.from_stage,
                "to": s.to_stage,
                "by": _user_label(s.actor),
                "reason": s.reason,
                "at": _jsonable(s.created_at),
            }
            for s in StageChange.objects.in_workspace(ws)
            .filter(contact=contact)
            .select_related("actor")
            .order_by("id")
        ],
        "consent": [
            {
                "channel": c.channel,
                "purpose": c.purpose,
                "status": c.status,
                "method": c.method,
                "notice_version": c.notice_version,
                "recorded_by": _user_label(c.recorded_by),
                "effective_at": _jsonable(c.effective_at),
            }
            for c in sorted(state.values(), key=lambda c: (c.channel, c.purpose))
        ],
        "consent_history": [
            {
                "channel": e.channel,
                "purpose": e.purpose,
                "status": e.status,
                "method": e.method,
                "notice_version": e.notice_version,
                "note": e.note,
                "recorded_by": _user_label(e.recorded_by),
                "effective_at": _jsonable(e.effective_at),
                "recorded_at": _jsonable(e.created_at),
            }
            for e in ConsentEvent.objects.in_workspace(ws)
            .filter(contact=contact)
            .select_related("recorded_by")
            .order_by("id")
        ],
        "pool_events": [
            {
                "kind": e.kind,
                "from_owner": _user_label(e.from_owner),
                "to_owner": _user_label(e.to_owner),
                "by": _user_label(e.actor),
                "reason": e.reason,
                "at": _jsonable(e.created_at),
            }
            for e in PoolEvent.objects.in_workspace(ws)
            .filter(contact=contact)
            .select_related("from_owner", "to_owner", "actor")
            .order_by("id")
        ],
        "merges": [
            {
                "merged_id": m.merged_id,
                "merged_code": m.merged_code,
                "snapshot": _jsonable(m.snapshot),
                "by": _user_label(m.actor),
                "at": _jsonable(m.created_at),
            }
            for m in Merge.objects.in_workspace(ws)
            .filter(object_key=CONTACT, survivor_id=contact.pk)
            .select_related("actor")
            .order_by("id")
        ],
        "audit_log": [
            {
                "at": _jsonable(e.created_at),
                "by": e.actor_label,
                "action": e.action,
                "changes": e.changes,
            }
            for e in AuditEntry.objects.filter(
                workspace_id=ws, object_key=CONTACT, object_id=str(contact.pk)
            ).order_by("-id")[:MAX_AUDIT_ENTRIES]
        ],
    }
    for provider in _providers.values():
        data.update(_jsonable(provider(ws, contact)))
    with transaction.atomic():
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.EXPORT,
            object_key=CONTACT,
            object_id=contact.pk,
            object_repr=str(contact),
            changes={"personal_data": [None, "export"]},
        )
    return data


def ensure_not_erased(contact: Contact) -> None:
    """Refuse to edit an erased person's record back into a person. The contact's update
    service calls this before writing."""
    if contact.erased_at is not None:
        raise Conflict(
            _("This person's personal data was erased; the record cannot be edited."),
            code="contact_erased",
        )


# What an erased record may no longer be given: the fields erasure emptied, its name, and
# further addresses, phones, e-mails, interests and custom values.
PERSONAL_CHANGES = frozenset(
    {*ERASED_TEXT_FIELDS, *ERASED_NULL_FIELDS, "name", "custom", "interests", "address"}
)


def refuse_personal_changes(contact: Contact, changes) -> None:
    """Refuse changes that would make an erased record a person again; business facts
    (stages, tags, account, company, job title) may still change."""
    if contact.erased_at is None:
        return
    touched = sorted(set(changes) & PERSONAL_CHANGES)
    if touched:
        raise Conflict(
            _(
                "This person's personal data was erased; these fields cannot be filled again: "
                "%(fields)s."
            )
            % {"fields": ", ".join(touched)},
            code="contact_erased",
        )


def _reason(reason) -> str:
    text = "" if reason is None else str(reason)
    if "\x00" in text:
        raise ApplicationError(
            _("This text contains characters that are not allowed."),
            fields={"reason": [_("Characters that are not allowed.")]},
        )
    text = text.strip()
    if not text:
        raise ApplicationError(
            _("Say why the data is erased (for example, the person's request)."),
            fields={"reason": [_("This field is required.")]},
        )
    if len(text) > 200:
        message = _("At most %(n)s characters.") % {"n": 200}
        raise ApplicationError(message, fields={"reason": [message]})
    return text


def _scrub_snapshot(snapshot: dict) -> dict:
    """A merged-away record's snapshot keeps its code and business facts, not the person."""
    personal = {*ERASED_TEXT_FIELDS, *ERASED_NULL_FIELDS, "name", "custom"}
    personal |= {"name_pinyin", "name_initials", "search_text", "search_grams"}
    return {
        k: v
        for k, v in (snapshot or {}).items()
        if k not in personal and not k.startswith("custom.")
    }


def _merged_into(workspace_id: int, contact_id: int) -> list[int]:
    """The ids of the records merged into this contact, and of those merged into them."""
    found: list[int] = []
    survivors = [contact_id]
    while survivors:
        ids = [
            i
            for i in Merge.objects.in_workspace(workspace_id)
            .filter(object_key=CONTACT, survivor_id__in=survivors)
            .values_list("merged_id", flat=True)
            if i not in found and i != contact_id
        ]
        found += ids
        survivors = ids
    return found


def contact_erase(*, actor: User, workspace: Workspace, contact_id, reason: str) -> Contact:
    """Anonymise one person (needs the delete right): names become "Erased <code>", the
    personal fields and custom fields are emptied, further addresses, phones, e-mails and
    interests deleted, every consent withdrawn, snapshots of records merged into this one
    scrubbed, the personal values in the older audit entries of the contact and of the
    records merged into it replaced (``audit.redact``), ``erased_at`` stamped and the search
    keys recomputed. The audit row says that it was erased and why — not what was erased."""
    permissions.require(actor, CONTACT, Action.DELETE)
    reason = _reason(reason)
    with transaction.atomic():
        contact = selectors.contact_get(workspace=workspace, actor=actor, contact_id=contact_id)
        contact = Contact.objects.in_workspace(workspace).select_for_update().get(pk=contact.pk)
        if contact.erased_at is not None:
            raise Conflict(_("This person's data was already erased."), code="contact_erased")
        ws = contact.workspace_id
        merged_ids = _merged_into(ws, contact.pk)
        # The history keeps who did what and when, not the person's values. Before this
        # service writes its own entries, so only the older ones are redacted.
        audit.redact(
            workspace=ws,
            object_key=CONTACT,
            object_ids=[contact.pk, *merged_ids],
            fields=set(AUDIT_REDACTED_FIELDS),
            placeholder=str(_("[erased]")),
        )
        for name in ERASED_TEXT_FIELDS:
            setattr(contact, name, "")
        for name in ERASED_NULL_FIELDS:
            setattr(contact, name, None)
        contact.name = str(_("Erased %(code)s") % {"code": contact.code})[:200]
        contact.custom = {}
        contact.erased_at = timezone.now()
        search_keys.apply_contact_keys(contact)
        contact.save()
        removed = {
            "addresses": Address.objects.in_workspace(ws).filter(contact=contact).delete()[0],
            "phones_and_emails": ContactPoint.objects.in_workspace(ws)
            .filter(contact=contact)
            .delete()[0],
            "interests": ContactTag.objects.in_workspace(ws)
            .filter(contact=contact, tag__kind=TagKind.INTEREST)
            .delete()[0],
        }
        consent_service.consent_withdraw_all(
            actor=actor, workspace=workspace, contact=contact, note="erasure"
        )
        for key, eraser in _erasers.items():
            removed[key] = eraser(ws, contact)
        for merge in Merge.objects.in_workspace(ws).filter(
            object_key=CONTACT, survivor_id__in=[contact.pk, *merged_ids]
        ):
            merge.snapshot = _scrub_snapshot(merge.snapshot)
            merge.save(update_fields=["snapshot", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key=CONTACT,
            object_id=contact.pk,
            object_repr=contact.code,
            changes={
                "personal_data": [None, "erased"],
                "reason": [None, reason],
                "removed": [None, removed],
            },
        )
    return contact
