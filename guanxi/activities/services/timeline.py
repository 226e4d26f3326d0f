"""Writing the timeline.

``record_entry`` is the one function that inserts a ``TimelineEntry`` (with its contact
links); every part of the app that puts something on a customer's timeline (a logged call, a
sent e-mail, a check-out, a done task, a system event) goes through it, inside its own
transaction. It validates nothing the caller has not already checked; the user-facing
service for logging an activity validates first and then calls it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from guanxi.customers.models import Account, Contact

from ..models import EntryContact, TimelineEntry


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
    holds what was done with its people."""
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
    return entry
