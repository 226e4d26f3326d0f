"""Commitments ("what we promised"): who promised what to which customer, by when, and
whether it was kept.

Making a commitment and every change of its status put a ``commitment`` entry on the
customer's timeline (through ``record_entry``) and an audit row, in one transaction. The
person who promised is the actor unless a manager records a promise for someone else.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound, PermissionDenied
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Commitment, CommitmentStatus, EntryKind, TimelineEntry
from ..objects import COMMITMENT
from ..selectors.commitments import commitment_list
from .timeline import _text, customers_for, record_entry

MAX_TEXT = 2000
CLOSING = (CommitmentStatus.KEPT, CommitmentStatus.BROKEN, CommitmentStatus.CANCELLED)


def may_promise_for_others(actor: User) -> bool:
    """Managers (the update and bulk rights on commitments) and administrators may record
    a promise someone else made."""
    return actor.is_active and (
        actor.role.is_admin
        or (
            permissions.can(actor, COMMITMENT, Action.UPDATE)
            and permissions.can(actor, COMMITMENT, Action.BULK)
        )
    )


def _due(errors: FieldErrors, value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        try:
            value = parse_date(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, dt.date):
        errors.add("due_date", _("Enter the date as YYYY-MM-DD."))
        return None
    if value < timezone.localdate():
        errors.add("due_date", _("A promise cannot be due in the past."))
        return None
    return value


def clean_promise(errors: FieldErrors, *, text, due_date) -> dict:
    """What was promised and by when (not in the past)."""
    text = _text(errors, text, field="commitment_text", max_length=MAX_TEXT)
    if not text:
        errors.add("commitment_text", _("Say what was promised."))
    return {"text": text, "due_date": _due(errors, due_date)}


def _promiser(actor: User, workspace, promised_by_id) -> User:
    if promised_by_id in (None, "") or str(promised_by_id) == str(actor.pk):
        return actor
    if not may_promise_for_others(actor):
        audit.log_permission_denied(actor=actor, object_key=COMMITMENT, action="assign")
        raise PermissionDenied(
            _("Only a manager can record a promise someone else made."),
            code="assign_denied",
        )
    try:
        user = User.objects.filter(workspace=workspace).get(pk=int(promised_by_id))
    except (User.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ApplicationError(
            _("Choose a user of this workspace."),
            fields={"promised_by_id": [_("Unknown user.")]},
        ) from None
    if not user.is_active:
        raise ApplicationError(
            _("Choose an active user: this one has left."),
            fields={"promised_by_id": [_("Deactivated user.")]},
        )
    return user


def _entry(actor, commitment: Commitment, subtype: str) -> TimelineEntry:
    """The commitment's event on the customer's timeline."""
    promiser = commitment.promised_by
    return record_entry(
        workspace=commitment.workspace_id,
        author=actor,
        kind=EntryKind.COMMITMENT,
        subtype=subtype,
        account=commitment.account_id,
        contacts=[commitment.contact_id] if commitment.contact_id else (),
        subject=commitment.text[:200],
        body=commitment.resolution if subtype != "made" else "",
        data={
            "commitment_id": commitment.pk,
            "due_date": commitment.due_date.isoformat() if commitment.due_date else None,
            "promised_by": {"id": promiser.pk, "name": promiser.full_name or promiser.email},
        },
    )


def insert_commitment(
    *,
    actor: User,
    workspace,
    promised_by: User,
    text: str,
    due_date: dt.date | None,
    account=None,
    contact=None,
    source_entry: TimelineEntry | None = None,
    related_object_key: str = "",
    related_object_id: int | None = None,
) -> Commitment:
    """Write a validated commitment, its timeline entry and its audit row (inside the
    caller's transaction)."""
    if account is None and contact is not None:
        account_id = contact.account_id
    else:
        account_id = account.pk if account is not None else None
    commitment = Commitment.objects.create(
        workspace_id=getattr(workspace, "pk", workspace),
        account_id=account_id,
        contact=contact,
        promised_by=promised_by,
        text=text,
        due_date=due_date,
        source_entry=source_entry,
        created_by=actor,
        related_object_key=related_object_key,
        related_object_id=related_object_id,
    )
    audit.log_create(actor=actor, instance=commitment)
    _entry(actor, commitment, "made")
    return commitment


def commitment_create(
    *,
    actor: User,
    workspace: Workspace,
    text: str,
    due_date: dt.date | str | None = None,
    account_id: int | None = None,
    contact_id: int | None = None,
    promised_by_id: int | None = None,
    source_entry_id: int | None = None,
    related_object_key: str = "",
    related_object_id: int | None = None,
) -> Commitment:
    """Record a promise made to a contact and/or an account: what, by when (not in the
    past), by whom (the actor; a manager may name another user). ``source_entry_id`` links
    the activity in which it was made. Puts a ``commitment`` entry on the timeline."""
    permissions.require(actor, COMMITMENT, Action.CREATE)
    errors = FieldErrors()
    promise = clean_promise(errors, text=text, due_date=due_date)
    if "commitment_text" in errors.fields:
        errors.fields["text"] = errors.fields.pop("commitment_text")
    if account_id in (None, "") and contact_id in (None, ""):
        errors.add("contact_id", _("Choose the contact or the account the promise was made to."))
    related_object_key = _text(
        errors, related_object_key, field="related_object_key", max_length=60
    )
    errors.raise_if_any()
    promiser = _promiser(actor, workspace, promised_by_id)
    account, contacts = customers_for(
        actor=actor,
        workspace=workspace,
        account_id=account_id,
        contact_ids=[contact_id] if contact_id not in (None, "") else [],
    )
    source = None
    if source_entry_id not in (None, ""):
        from ..selectors.timeline import entry_get

        try:
            source = entry_get(workspace=workspace, actor=actor, entry_id=source_entry_id)
        except NotFound:
            raise ApplicationError(
                _("Choose an activity you can see."),
                fields={"source_entry_id": [_("Not found.")]},
            ) from None
    with transaction.atomic():
        return insert_commitment(
            actor=actor,
            workspace=workspace,
            promised_by=promiser,
            text=promise["text"],
            due_date=promise["due_date"],
            account=account,
            contact=contacts[0] if contacts else None,
            source_entry=source,
            related_object_key=related_object_key,
            related_object_id=related_object_id,
        )


def _locked(actor: User, workspace, commitment_id) -> Commitment:
    try:
        pk = int(commitment_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    qs = commitment_list(workspace=workspace, actor=actor).select_for_update(of=("self",))
    commitment = qs.filter(pk=pk).first() if 1 <= pk <= 2**63 - 1 else None
    if commitment is None:
        raise NotFound()
    return commitment


def _must_be_open(commitment: Commitment) -> None:
    if commitment.status != CommitmentStatus.OPEN:
        raise Conflict(
            _("This promise is already closed (%(status)s).")
            % {"status": commitment.get_status_display()},
            code="commitment_closed",
        )


def commitment_update(
    *, actor: User, workspace: Workspace, commitment_id: int, **changes
) -> Commitment:
    """Change an open commitment's text, due date (not into the past), who promised it (a
    manager) or the contact/account it was made to. Audited; the timeline is not touched
    (only making and closing are events)."""
    permissions.require(actor, COMMITMENT, Action.UPDATE)
    allowed = {"text", "due_date", "promised_by_id", "contact_id", "account_id"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)},
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    errors = FieldErrors()
    values: dict = {}
    if "text" in changes:
        values["text"] = _text(errors, changes["text"], field="text", max_length=MAX_TEXT)
        if not values["text"] and "text" not in errors.fields:
            errors.add("text", _("Say what was promised."))
    if "due_date" in changes:
        values["due_date"] = _due(errors, changes["due_date"])
    errors.raise_if_any()
    if "promised_by_id" in changes:
        values["promised_by"] = _promiser(actor, workspace, changes["promised_by_id"])
    if "contact_id" in changes or "account_id" in changes:
        account, contacts = customers_for(
            actor=actor,
            workspace=workspace,
            account_id=changes.get("account_id"),
            contact_ids=[changes["contact_id"]] if changes.get("contact_id") else [],
        )
    with transaction.atomic():
        commitment = _locked(actor, workspace, commitment_id)
        _must_be_open(commitment)
        before = audit.snapshot(commitment)
        if "contact_id" in changes:
            commitment.contact = contacts[0] if contacts else None
            if commitment.contact is not None and "account_id" not in changes:
                commitment.account_id = commitment.contact.account_id or commitment.account_id
        if "account_id" in changes:
            commitment.account = account
        if commitment.account_id is None and commitment.contact_id is None:
            raise ApplicationError(
                _("Choose the contact or the account the promise was made to."),
                fields={"contact_id": [_("This field is required.")]},
            )
        for name, value in values.items():
            setattr(commitment, name, value)
        commitment.save()
        audit.log_update(actor=actor, instance=commitment, before=before)
    return commitment


def commitment_close(
    *,
    actor: User,
    workspace: Workspace,
    commitment_id: int,
    status: str,
    resolution: str = "",
) -> Commitment:
    """Mark an open commitment kept, broken or cancelled, with an optional note. Puts a
    ``commitment`` entry on the timeline; audited. Closing a closed one is a conflict."""
    permissions.require(actor, COMMITMENT, Action.UPDATE)
    errors = FieldErrors()
    if status not in CLOSING:
        errors.add("status", _("Choose kept, broken or cancelled."))
    resolution = _text(errors, resolution, field="resolution", max_length=500)
    errors.raise_if_any()
    with transaction.atomic():
        commitment = _locked(actor, workspace, commitment_id)
        _must_be_open(commitment)
        before = audit.snapshot(commitment)
        commitment.status = status
        commitment.resolution = resolution
        commitment.closed_at = timezone.now()
        commitment.save(update_fields=["status", "resolution", "closed_at", "updated_at"])
        audit.log_update(actor=actor, instance=commitment, before=before)
        _entry(actor, commitment, status)
    return commitment
