"""Writing the timeline.

``record_entry`` is the one function that inserts a ``TimelineEntry`` (with its contact
links); every part of the app that puts something on a customer's timeline (a logged call, a
sent e-mail, a check-out, a done task, a system event) goes through it, inside its own
transaction. It validates nothing the caller has not already checked; the user-facing
service for logging an activity (``entry_log``) validates first and then calls it.

An entry that is not a system event counts as touching the customer: ``record_entry`` moves
the account's and the contacts' ``last_activity_at`` forward, which is what the pool's
"no activity for N days" rule reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import FieldErrors, NotFound
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Account, Contact
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import (
    CallOutcome,
    Channel,
    Direction,
    EntryContact,
    EntryKind,
    TimelineEntry,
    VisitMeans,
)
from ..objects import ENTRY

# What a user may log by hand; commitments, tasks and system events are written by their
# own services.
LOGGABLE_KINDS = (
    EntryKind.CALL,
    EntryKind.EMAIL,
    EntryKind.SMS,
    EntryKind.MEETING,
    EntryKind.VISIT,
    EntryKind.NOTE,
)
# The channel an entry gets when the form leaves it out.
DEFAULT_CHANNEL = {
    EntryKind.CALL: Channel.PHONE,
    EntryKind.EMAIL: Channel.EMAIL,
    EntryKind.SMS: Channel.SMS,
    EntryKind.MEETING: Channel.IN_PERSON,
    EntryKind.VISIT: Channel.IN_PERSON,
}
MAX_DURATION_SECONDS = 24 * 3600
# Clocks of phones and servers differ a little; "now" on a phone may be a minute ahead.
FUTURE_SLACK = dt.timedelta(minutes=5)
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_CONTACTS = 50
MAX_BODY = 20000


def record_entry(
    *,
    workspace,
    author,
    kind: str,
    occurred_at: dt.datetime | None = None,
    account: Account | int | None = None,
    contacts: Iterable[Contact | int] = (),
    subtype: str = "",
    direction: str = "",
    channel: str = "",
    subject: str = "",
    body: str = "",
    duration_seconds: int | None = None,
    outcome: str = "",
    data: dict | None = None,
    is_private: bool = False,
    related_object_key: str = "",
    related_object_id: int | None = None,
) -> TimelineEntry:
    """Insert one entry about ``account`` and/or ``contacts``. With contacts but no account,
    the entry also goes on the first contact's primary account, so an account's timeline
    holds what was done with its people. Anything but a system event moves the customers'
    ``last_activity_at`` forward (the pool's neglect rule counts from it)."""
    contact_ids = list(dict.fromkeys(c if isinstance(c, int) else c.pk for c in contacts))
    account_id = account if isinstance(account, int) or account is None else account.pk
    if account_id is None and contact_ids:
        account_id = (
            Contact.objects.in_workspace(workspace)
            .filter(pk=contact_ids[0])
            .values_list("account_id", flat=True)
            .first()
        )
    entry = TimelineEntry.objects.create(
        workspace_id=getattr(workspace, "pk", workspace),
        kind=kind,
        subtype=subtype,
        direction=direction,
        channel=channel,
        occurred_at=occurred_at or timezone.now(),
        duration_seconds=duration_seconds,
        outcome=outcome,
        subject=subject[:200],
        body=body,
        account_id=account_id,
        author_id=author if isinstance(author, int) else getattr(author, "pk", None),
        is_private=is_private,
        related_object_key=related_object_key,
        related_object_id=related_object_id,
        data=data or {},
    )
    if contact_ids:
        EntryContact.objects.bulk_create(
            EntryContact(
                workspace_id=entry.workspace_id,
                entry=entry,
                contact_id=contact_id,
                occurred_at=entry.occurred_at,
            )
            for contact_id in contact_ids
        )
    if kind != EntryKind.SYSTEM:
        _touch(entry.workspace_id, account_id, contact_ids, entry.occurred_at)
    return entry


def _touch(workspace_id: int, account_id, contact_ids: list[int], at: dt.datetime) -> None:
    """Move ``last_activity_at`` forward (never back: an activity logged late for last
    week does not make a customer look neglected)."""
    older = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at)
    if account_id is not None:
        Account.objects.in_workspace(workspace_id).filter(older, pk=account_id).update(
            last_activity_at=at
        )
    if contact_ids:
        Contact.objects.in_workspace(workspace_id).filter(older, pk__in=contact_ids).update(
            last_activity_at=at
        )


# --- logging an activity -----------------------------------------------------------------------


def _text(errors: FieldErrors, value, *, field: str, max_length: int) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        errors.add(field, _("Text may not contain NUL characters."))
        return ""
    text = text.strip()
    if len(text) > max_length:
        errors.add(field, _("At most %(n)s characters.") % {"n": max_length})
    return text


def clean_time(errors: FieldErrors, value, *, field: str = "occurred_at") -> dt.datetime | None:
    """A time something happened: given, readable, after 1970 and not in the future."""
    if value in (None, ""):
        errors.add(field, _("Enter when it happened."))
        return None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        value = parsed
    if not isinstance(value, dt.datetime):
        errors.add(field, _("Enter a date and time, e.g. 2026-05-01 14:30."))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value < EARLIEST:
        errors.add(field, _("Enter a time after 1970."))
        return None
    if value > timezone.now() + FUTURE_SLACK:
        errors.add(field, _("An activity cannot be logged in the future; use a task to plan one."))
        return None
    return value


def _choice(errors: FieldErrors, value, choices, *, field: str, message) -> str:
    value = str(value or "").strip()
    if value and value not in choices.values:
        errors.add(field, message)
        return ""
    return value


def _duration(errors: FieldErrors, value) -> int | None:
    if value in (None, ""):
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        errors.add("duration_seconds", _("Enter the duration as a whole number of seconds."))
        return None
    if not 0 <= seconds <= MAX_DURATION_SECONDS:
        errors.add("duration_seconds", _("The duration must be between 0 and 24 hours."))
        return None
    return seconds


def _ids(values) -> list[int]:
    out = []
    for value in values or ():
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise NotFound() from None
        if number < 1 or number > 2**63 - 1:
            raise NotFound()
        out.append(number)
    return list(dict.fromkeys(out))


def customers_for(*, actor: User, workspace: Workspace, account_id, contact_ids) -> tuple:
    """The account and contacts an entry is about, each existing in the workspace and
    visible to the actor; ``NotFound`` otherwise (another workspace's id included)."""
    account = None
    if account_id not in (None, ""):
        (account_pk,) = _ids([account_id])
        account = customer_selectors.account_get(
            workspace=workspace, actor=actor, account_id=account_pk
        )
    ids = _ids(contact_ids)
    contacts = []
    if ids:
        found = {
            c.pk: c
            for c in customer_selectors.contact_list(workspace=workspace, actor=actor).filter(
                pk__in=ids
            )
        }
        if len(found) != len(ids):
            raise NotFound()
        contacts = [found[i] for i in ids]
    return account, contacts


def entry_log(
    *,
    actor: User,
    workspace: Workspace,
    kind: str,
    occurred_at: dt.datetime | str | None,
    account_id: int | None = None,
    contact_ids: Iterable[int] = (),
    subtype: str = "",
    direction: str = "",
    channel: str = "",
    subject: str = "",
    body: str = "",
    duration_seconds: int | None = None,
    outcome: str = "",
    is_private: bool = False,
    related_object_key: str = "",
    related_object_id: int | None = None,
    commitment_text: str = "",
    commitment_due: dt.date | str | None = None,
) -> TimelineEntry:
    """Log a call, e-mail, SMS, meeting, visit or note with a customer.

    Visits say how they were made (one of the five ``VisitMeans``); calls say their
    direction and may give an outcome and a duration (0–24 h). The time must lie between
    1970 and five minutes from now. The entry is about an account and/or contacts, each
    visible to the actor (404 otherwise); contacts need not belong to the account. Needs
    the ``activities.entry`` create right; audited. With ``commitment_text`` the actor's
    promise made in this activity ("we promised…") is recorded with it, in the same
    transaction, linked to the entry.
    """
    permissions.require(actor, ENTRY, Action.CREATE)
    errors = FieldErrors()
    kind = str(kind or "").strip()
    if kind not in LOGGABLE_KINDS:
        errors.add("kind", _("Choose a call, e-mail, SMS, meeting, visit or note."))
    when = clean_time(errors, occurred_at)
    subtype = _text(errors, subtype, field="subtype", max_length=40)
    if kind == EntryKind.VISIT and subtype not in VisitMeans.values:
        errors.add(
            "subtype",
            _("Choose how the visit was made: %(means)s.")
            % {"means": ", ".join(str(label) for label in VisitMeans.labels)},
        )
    direction = _choice(
        errors,
        direction,
        Direction,
        field="direction",
        message=_("Choose inbound or outbound."),
    )
    if kind == EntryKind.CALL and not direction and "direction" not in errors.fields:
        errors.add("direction", _("Say whether the call was inbound or outbound."))
    if kind == EntryKind.CALL:
        outcome = _choice(
            errors,
            outcome,
            CallOutcome,
            field="outcome",
            message=_("Choose one of the call outcomes."),
        )
    else:
        outcome = _text(errors, outcome, field="outcome", max_length=40)
    duration = _duration(errors, duration_seconds)
    channel = str(channel or "").strip()
    if channel and (channel not in Channel.values or channel == Channel.SYSTEM):
        errors.add("channel", _("Choose one of the channels."))
    channel = channel or DEFAULT_CHANNEL.get(kind, "")
    subject = _text(errors, subject, field="subject", max_length=200)
    body = _text(errors, body, field="body", max_length=MAX_BODY)
    if kind == EntryKind.NOTE and not (subject or body):
        errors.add("body", _("Write the note."))
    related_object_key = _text(
        errors, related_object_key, field="related_object_key", max_length=60
    )
    if related_object_id not in (None, ""):
        try:
            related_object_id = int(related_object_id)
        except (TypeError, ValueError):
            related_object_id = 0
        if not 1 <= related_object_id <= 2**63 - 1:
            errors.add("related_object_id", _("Enter the id of the related record."))
    else:
        related_object_id = None
    if related_object_id and not related_object_key:
        errors.add("related_object_key", _("Say what kind of record the id is."))
    contact_ids = list(contact_ids or ())
    if len(contact_ids) > MAX_CONTACTS:
        errors.add("contact_ids", _("At most %(n)s contacts.") % {"n": MAX_CONTACTS})
    if account_id in (None, "") and not contact_ids:
        errors.add("account_id", _("Choose the account or at least one contact."))
    promise = None
    if commitment_text or commitment_due:
        from .commitments import clean_promise

        promise = clean_promise(errors, text=commitment_text, due_date=commitment_due)
    errors.raise_if_any()
    account, contacts = customers_for(
        actor=actor, workspace=workspace, account_id=account_id, contact_ids=contact_ids
    )
    with transaction.atomic():
        entry = record_entry(
            workspace=workspace,
            author=actor,
            kind=kind,
            occurred_at=when,
            account=account,
            contacts=contacts,
            subtype=subtype,
            direction=direction,
            channel=channel,
            subject=subject,
            body=body,
            duration_seconds=duration,
            outcome=outcome,
            is_private=bool(is_private),
            related_object_key=related_object_key,
            related_object_id=related_object_id,
        )
        audit.log_create(actor=actor, instance=entry)
        if promise is not None:
            from .commitments import insert_commitment

            insert_commitment(
                actor=actor,
                workspace=workspace,
                promised_by=actor,
                text=promise["text"],
                due_date=promise["due_date"],
                account=account if account is not None else None,
                contact=contacts[0] if contacts else None,
                source_entry=entry,
            )
    return entry
