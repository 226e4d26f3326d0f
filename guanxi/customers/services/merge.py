"""Merging two records of one customer into one.

``contact_merge`` and ``account_merge`` apply the chosen values to the survivor, move
every related row of the merged record to it (memberships, addresses, phones and e-mails,
tags, stage history, consent, pool events, duplicate candidates — and whatever later apps
register with ``register_mover``), write a ``Merge`` row with the merged record's full
snapshot and what moved, audit the delete of the merged record and the update of the
survivor, and delete the merged record — all in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import User, Workspace

from .. import events, search_keys
from ..models import (
    Account,
    AccountContact,
    AccountTag,
    Address,
    CandidateStatus,
    Consent,
    ConsentEvent,
    Contact,
    ContactPoint,
    ContactTag,
    DuplicateCandidate,
    Merge,
    PoolEvent,
    StageChange,
)

CONTACT = "customers.contact"
ACCOUNT = "customers.account"

# Fields a merge may take from the merged record; the rest (code, ids, derived columns,
# timestamps) stay the survivor's.
CONTACT_FIELDS = (
    "name", "first_name", "last_name", "owner", "account", "company", "title", "department",
    "lifecycle_stage", "loyalty_stage", "source", "region", "industry", "commission_code",
    "phone", "mobile", "email", "gender", "birthday", "id_number", "family", "income_band",
    "education", "hobbies", "habits", "personality", "preferred_channel", "preferred_time",
    "currency", "payment_terms", "notes", "country", "province", "city", "district",
    "street", "postal_code", "latitude", "longitude",
)  # fmt: skip
ACCOUNT_FIELDS = (
    "name", "short_name", "owner", "parent", "account_type", "lifecycle_stage",
    "loyalty_stage", "source", "region", "industry", "commission_code", "phone", "email",
    "website", "currency", "payment_terms", "tax_number", "invoice_title", "credit_limit",
    "credit_rating", "credit_record", "employees", "annual_revenue", "notes", "country",
    "province", "city", "district", "street", "postal_code", "latitude", "longitude",
)  # fmt: skip

# A custom field is chosen as ``custom.<key>``.
_CUSTOM_CHOICE = re.compile(r"custom\.[-a-zA-Z0-9_]{1,60}")

Mover = Callable[..., int]
_movers: dict[str, list[tuple[str, Mover]]] = {CONTACT: [], ACCOUNT: []}


def register_mover(object_key: str, fn: Mover, *, name: str | None = None) -> Mover:
    """Register ``fn(*, workspace, survivor, merged) -> int`` (rows moved) to run in every
    merge of ``object_key``; later apps (activities, deals, cases) move their rows so."""
    label = name or f"{fn.__module__}.{fn.__qualname__}"
    movers = _movers.setdefault(object_key, [])
    if all(existing != label for existing, _fn in movers):
        movers.append((label, fn))
    return fn


def merge_fields(object_key: str) -> tuple[str, ...]:
    return CONTACT_FIELDS if object_key == CONTACT else ACCOUNT_FIELDS


def _fk(object_key: str) -> str:
    return "contact" if object_key == CONTACT else "account"


# --- the built-in movers ------------------------------------------------------------------------


def _move_simple(model, fk: str):
    def move(*, workspace, survivor, merged) -> int:
        return model.objects.in_workspace(workspace).filter(**{fk: merged}).update(**{fk: survivor})

    return move


def _move_unique(model, fk: str, other: str):
    """Rows unique on (fk, other): move those the survivor lacks, drop the rest."""

    def move(*, workspace, survivor, merged) -> int:
        qs = model.objects.in_workspace(workspace)
        have = set(qs.filter(**{fk: survivor}).values_list(f"{other}_id", flat=True))
        qs.filter(**{fk: merged, f"{other}_id__in": have}).delete()
        return qs.filter(**{fk: merged}).update(**{fk: survivor})

    return move


def _move_points(*, workspace, survivor, merged) -> int:
    fk = "contact" if isinstance(survivor, Contact) else "account"
    qs = ContactPoint.objects.in_workspace(workspace)
    have = {(p.kind, p.value) for p in qs.filter(**{fk: survivor})}
    have |= {("phone", v) for v in (survivor.phone, getattr(survivor, "mobile", "")) if v}
    if survivor.email:
        have.add(("email", survivor.email.lower()))
    moved = 0
    for point in qs.filter(**{fk: merged}):
        if (point.kind, point.value) in have:
            point.delete()
            continue
        have.add((point.kind, point.value))
        setattr(point, fk, survivor)
        point.save(update_fields=[fk, "updated_at"])
        moved += 1
    return moved


def _address_key(a) -> tuple:
    return tuple((getattr(a, f) or "").strip().lower() for f in ("province", "city", "street"))


def _move_addresses(*, workspace, survivor, merged) -> int:
    fk = "contact" if isinstance(survivor, Contact) else "account"
    qs = Address.objects.in_workspace(workspace)
    have = {_address_key(a) for a in qs.filter(**{fk: survivor})} | {_address_key(survivor)}
    moved = 0
    for address in qs.filter(**{fk: merged}):
        if _address_key(address) in have:
            address.delete()
            continue
        have.add(_address_key(address))
        setattr(address, fk, survivor)
        address.save(update_fields=[fk, "updated_at"])
        moved += 1
    return moved


def _move_consent(*, workspace, survivor, merged) -> int:
    """The newest current answer per channel and purpose wins; all events move."""
    qs = Consent.objects.in_workspace(workspace)
    mine = {(c.channel, c.purpose): c for c in qs.filter(contact=survivor)}
    moved = 0
    for consent in qs.filter(contact=merged):
        current = mine.get((consent.channel, consent.purpose))
        if current is not None and current.effective_at >= consent.effective_at:
            consent.delete()
            continue
        if current is not None:
            current.delete()
        consent.contact = survivor
        consent.save(update_fields=["contact", "updated_at"])
        moved += 1
    return moved


def _move_memberships(*, workspace, survivor, merged) -> int:
    fk, other = ("contact", "account") if isinstance(survivor, Contact) else ("account", "contact")
    return _move_unique(AccountContact, fk, other)(
        workspace=workspace, survivor=survivor, merged=merged
    )


def _move_candidates(*, workspace, survivor, merged) -> int:
    """Pairs with the merged record: the pair itself is merged, the others are dropped
    (the next scan finds them again against the survivor)."""
    key = CONTACT if isinstance(survivor, Contact) else ACCOUNT
    lo, hi = sorted((survivor.pk, merged.pk))
    qs = DuplicateCandidate.objects.in_workspace(workspace).filter(object_key=key)
    qs.filter(left_id=lo, right_id=hi).update(status=CandidateStatus.MERGED)
    return (
        qs.filter(Q(left_id=merged.pk) | Q(right_id=merged.pk))
        .exclude(left_id=lo, right_id=hi)
        .delete()[0]
    )


def _move_primary_contacts(*, workspace, survivor, merged) -> int:
    return (
        Contact.objects.in_workspace(workspace)
        .filter(account=merged)
        .update(account=survivor, updated_at=timezone.now())
    )


def _move_branches(*, workspace, survivor, merged) -> int:
    return (
        Account.objects.in_workspace(workspace)
        .filter(parent=merged)
        .exclude(pk=survivor.pk)
        .update(parent=survivor, updated_at=timezone.now())
    )


for _key, _fk_name, _tag in ((CONTACT, "contact", ContactTag), (ACCOUNT, "account", AccountTag)):
    register_mover(_key, _move_memberships, name="memberships")
    register_mover(_key, _move_addresses, name="addresses")
    register_mover(_key, _move_points, name="points")
    register_mover(_key, _move_unique(_tag, _fk_name, "tag"), name="tags")
    register_mover(_key, _move_simple(StageChange, _fk_name), name="stage_changes")
    register_mover(_key, _move_simple(PoolEvent, _fk_name), name="pool_events")
    register_mover(_key, _move_candidates, name="duplicate_candidates")
register_mover(CONTACT, _move_consent, name="consents")
register_mover(CONTACT, _move_simple(ConsentEvent, "contact"), name="consent_events")
register_mover(ACCOUNT, _move_primary_contacts, name="primary_contacts")
register_mover(ACCOUNT, _move_branches, name="branches")


# --- the service --------------------------------------------------------------------------------


def _merge(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    model,
    survivor_id,
    merged_id,
    choices: dict,
):
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    try:
        survivor_id, merged_id = int(survivor_id), int(merged_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if survivor_id == merged_id:
        raise ApplicationError(_("A record cannot be merged into itself."), code="merge_self")
    allowed = set(merge_fields(object_key))
    choices = dict(choices or {})
    bad = {
        f: [_("Choose “survivor” or “merged”.")]
        for f, v in choices.items()
        if not (f in allowed or _CUSTOM_CHOICE.fullmatch(str(f))) or v not in ("survivor", "merged")
    }
    if bad:
        raise ApplicationError(_("Some choices are not valid."), code="invalid", fields=bad)
    permissions.require(actor, object_key, "update")
    permissions.require(actor, object_key, "delete")
    # Both must be records the actor can see; another workspace's is simply not found.
    visible = permissions.visible(
        model.objects.in_workspace(workspace), actor=actor, object_key=object_key
    )
    if visible.filter(pk__in=[survivor_id, merged_id]).count() != 2:
        raise NotFound()
    taken = {f for f, v in choices.items() if v == "merged"}
    permissions.check_writable(actor, object_key, taken)
    with transaction.atomic():
        rows = {
            r.pk: r
            for r in model.objects.in_workspace(workspace)
            .select_for_update()
            .filter(pk__in=[survivor_id, merged_id])
        }
        if len(rows) != 2:
            raise NotFound()
        survivor, merged = rows[survivor_id], rows[merged_id]
        before = audit.snapshot(survivor)
        merged_snapshot = audit.snapshot(merged)
        for name in sorted(taken):
            if name.startswith("custom."):  # a custom field: the merged record's value or none
                key = name.removeprefix("custom.")
                custom = dict(survivor.custom or {})
                if (merged.custom or {}).get(key) not in (None, ""):
                    custom[key] = merged.custom[key]
                else:
                    custom.pop(key, None)
                survivor.custom = custom
                continue
            field = model._meta.get_field(name)
            value = getattr(merged, field.attname)
            if name in ("account", "parent") and value == survivor.pk:
                continue
            setattr(survivor, field.attname, value)
        moved: dict[str, int] = {}
        for label, mover in _movers.get(object_key, []):
            count = mover(workspace=workspace, survivor=survivor, merged=merged)
            if count:
                moved[label] = count
        if isinstance(survivor, Contact):
            search_keys.apply_contact_keys(survivor)
        else:
            search_keys.apply_account_keys(survivor)
        survivor.save()
        Merge.objects.create(
            workspace=workspace,
            object_key=object_key,
            survivor_id=survivor.pk,
            merged_id=merged.pk,
            merged_code=merged.code,
            snapshot={"id": merged.pk, **merged_snapshot},
            moved=moved,
            actor=actor,
        )
        audit.log_delete(actor=actor, instance=merged)
        entry = audit.log_update(actor=actor, instance=survivor, before=before)
        if entry is None:  # nothing of its own changed: the merge is still on its history
            audit.log(
                actor=actor,
                workspace=workspace,
                action="update",
                object_key=object_key,
                object_id=survivor.pk,
                object_repr=str(survivor),
                changes={"merged": [None, merged.code]},
            )
        # One event on the survivor's timeline (activities) says what was merged into it.
        events.emit(
            events.CustomerEvent(
                workspace_id=workspace.pk,
                kind=events.MERGE,
                actor_id=actor.pk,
                account_id=survivor.pk if model is Account else None,
                contact_ids=(survivor.pk,) if model is Contact else (),
                data={
                    "merged_id": merged.pk,
                    "merged_code": merged.code,
                    "merged_name": merged.name,
                },
            )
        )
        merged.delete()
    return survivor


def contact_merge(
    *, actor: User, workspace: Workspace, survivor_id, merged_id, choices: dict | None = None
) -> Contact:
    return _merge(
        actor=actor,
        workspace=workspace,
        object_key=CONTACT,
        model=Contact,
        survivor_id=survivor_id,
        merged_id=merged_id,
        choices=choices or {},
    )


def account_merge(
    *, actor: User, workspace: Workspace, survivor_id, merged_id, choices: dict | None = None
) -> Account:
    return _merge(
        actor=actor,
        workspace=workspace,
        object_key=ACCOUNT,
        model=Account,
        survivor_id=survivor_id,
        merged_id=merged_id,
        choices=choices or {},
    )


def candidate_dismiss(*, actor: User, workspace: Workspace, candidate_id) -> DuplicateCandidate:
    """Mark a pair "not a duplicate"; later scans keep it so."""
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    try:
        candidate = DuplicateCandidate.objects.in_workspace(workspace).get(pk=int(candidate_id))
    except (DuplicateCandidate.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    permissions.require(actor, candidate.object_key, "update")
    model = Contact if candidate.object_key == CONTACT else Account
    visible = permissions.visible(
        model.objects.in_workspace(workspace), actor=actor, object_key=candidate.object_key
    )
    if visible.filter(pk__in=[candidate.left_id, candidate.right_id]).count() != 2:
        raise NotFound()
    with transaction.atomic():
        candidate.status = CandidateStatus.DISMISSED
        candidate.reviewed_by = actor
        candidate.reviewed_at = timezone.now()
        candidate.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action="update",
            object_key=candidate.object_key,
            object_id=candidate.left_id,
            changes={"not_duplicate_of": [None, candidate.right_id]},
        )
    return candidate
