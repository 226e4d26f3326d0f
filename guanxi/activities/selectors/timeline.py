"""Reads of the timeline: one customer's entries, newest first, a keyset page at a time.

Who sees what: everyone with the ``activities.entry`` read right who can see the customer
sees its entries; a private entry only when the actor's visibility over entries covers
its author (their own, their team's, …, all). An account's timeline is the entries whose
``account`` is that account (one index range on ``(workspace, account, occurred_at, id)``);
a contact's goes through ``EntryContact`` (``(workspace, contact, occurred_at, entry)``).
A page costs a fixed number of queries: the entries with their authors, then the contacts
of the page's entries (links, then the visible contacts among them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from guanxi.common.errors import NotFound
from guanxi.common.pagination import decode_cursor, encode_cursor, invalid_cursor
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Account, Contact
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Visibility, Workspace

from ..models import EntryContact, TimelineEntry
from ..objects import ENTRY

PAGE_SIZE = 30
MAX_PAGE_SIZE = 200
# What a timeline row shows: the entry's columns and its author's name (not the author's
# whole row: loading 30 users' every column costs more than the query).
ENTRY_COLUMNS = (
    "workspace_id", "kind", "subtype", "direction", "channel", "occurred_at",
    "duration_seconds", "outcome", "subject", "body", "account_id", "author_id", "is_private",
    "related_object_key", "related_object_id", "data", "author__full_name", "author__email",
)  # fmt: skip


@dataclass(frozen=True)
class TimelineFilters:
    """What the reader narrowed the timeline to. ``since``/``until`` are inclusive days
    (or exact times from the API)."""

    kinds: tuple[str, ...] = ()
    author_id: int | None = None
    contact_id: int | None = None
    since: dt.date | dt.datetime | None = None
    until: dt.date | dt.datetime | None = None

    @property
    def active(self) -> bool:
        return bool(self.kinds or self.author_id or self.contact_id or self.since or self.until)


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None
    limit: int = PAGE_SIZE
    extra: dict = field(default_factory=dict)


def _start(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _end(value: dt.date | dt.datetime) -> tuple[str, dt.datetime]:
    """``until`` as a bound: an exact time is inclusive, a day takes the whole day."""
    if isinstance(value, dt.datetime):
        return "lte", value if timezone.is_aware(value) else timezone.make_aware(value)
    return "lt", _start(value + dt.timedelta(days=1))


def private_filter(actor: User, workspace, *, prefix: str = "", narrow: Q | None = None) -> Q:
    """The entries (``prefix`` = "entry__" from a link) the actor may see as far as privacy
    goes: every non-private one, and private ones whose author the actor's visibility
    over entries covers. ``narrow`` keeps the inner query to the page's customer: SQLite
    runs the EXISTS once per private row the page reads (a primary-key probe); PostgreSQL
    turns it into one hashed subquery over the customer's private entries (a partial index,
    ``entry_ws_account_private``), not over the workspace's."""
    if permissions.visibility_for(actor, ENTRY) == Visibility.ALL:
        return Q()
    private = TimelineEntry.objects.in_workspace(workspace).filter(is_private=True)
    if narrow is not None:
        private = private.filter(narrow)
    allowed = permissions.visible(private, actor=actor, object_key=ENTRY)
    outer = "entry_id" if prefix else "pk"
    return Q(**{f"{prefix}is_private": False}) | Exists(allowed.filter(pk=OuterRef(outer)))


def _filtered(qs: QuerySet, filters: TimelineFilters, *, prefix: str, time_field: str):
    if filters.kinds:
        qs = qs.filter(**{f"{prefix}kind__in": list(filters.kinds)})
    if filters.author_id:
        qs = qs.filter(**{f"{prefix}author_id": filters.author_id})
    if filters.since:
        qs = qs.filter(**{f"{time_field}__gte": _start(filters.since)})
    if filters.until:
        lookup, bound = _end(filters.until)
        qs = qs.filter(**{f"{time_field}__{lookup}": bound})
    return qs


def _keyset(qs: QuerySet, *, time_field: str, id_field: str, cursor: str | None, limit: int):
    """Newest first by (time, id); the cursor is the last row's pair."""
    qs = qs.order_by(f"-{time_field}", f"-{id_field}")
    if cursor:
        value, pk = decode_cursor(cursor)
        if not isinstance(value, dt.datetime) or not isinstance(pk, int) or isinstance(pk, bool):
            raise invalid_cursor()
        if not 0 < pk < 2**63:
            raise invalid_cursor()
        # "time <= v AND (time < v OR id < pk)": the first term is a range the index seeks.
        qs = qs.filter(
            Q(**{f"{time_field}__lte": value})
            & (Q(**{f"{time_field}__lt": value}) | Q(**{f"{id_field}__lt": pk}))
        )
    return list(qs[: limit + 1])


def _limit(limit: int | None) -> int:
    if limit is None:
        return PAGE_SIZE
    from guanxi.common.pagination import clamp_limit

    return clamp_limit(limit, MAX_PAGE_SIZE)


def attach_contacts(entries: list[TimelineEntry], *, workspace, actor: User) -> None:
    """Set ``entry.contact_list`` (the contacts the actor can see, by name) on each entry:
    two queries whatever the page's size."""
    for entry in entries:
        entry.contact_list = []
    if not entries:
        return
    by_id = {e.pk: e for e in entries}
    links = list(
        EntryContact.objects.in_workspace(workspace)
        .filter(entry_id__in=list(by_id))
        .values_list("entry_id", "contact_id")
        .order_by("id")
    )
    if not links:
        return
    visible = {
        c.pk: c
        for c in customer_selectors.contact_list(workspace=workspace, actor=actor)
        .filter(pk__in={cid for _e, cid in links})
        .select_related(None)
        .only("pk", "code", "name", "account_id")
    }
    for entry_id, contact_id in links:
        if contact_id in visible:
            by_id[entry_id].contact_list.append(visible[contact_id])


def account_timeline(
    *,
    workspace: Workspace,
    actor: User,
    account: Account,
    filters: TimelineFilters = TimelineFilters(),
    cursor: str | None = None,
    limit: int | None = None,
) -> TimelinePage:
    """One page of an account's timeline (the account already fetched through the
    customers' selectors, so the actor can see it)."""
    limit = _limit(limit)
    if not permissions.can(actor, ENTRY, Action.READ):
        return TimelinePage([], None, limit)
    qs = (
        TimelineEntry.objects.in_workspace(workspace)
        .filter(account=account)
        .filter(private_filter(actor, workspace, narrow=Q(account=account)))
        .select_related("author")
        .only(*ENTRY_COLUMNS)
    )
    if filters.contact_id:
        qs = qs.filter(
            pk__in=EntryContact.objects.in_workspace(workspace)
            .filter(contact_id=filters.contact_id)
            .values("entry_id")
        )
    qs = _filtered(qs, filters, prefix="", time_field="occurred_at")
    rows = _keyset(qs, time_field="occurred_at", id_field="id", cursor=cursor, limit=limit)
    return _page(rows, limit, workspace=workspace, actor=actor, key=lambda e: (e.occurred_at, e.pk))


def contact_timeline(
    *,
    workspace: Workspace,
    actor: User,
    contact: Contact,
    filters: TimelineFilters = TimelineFilters(),
    cursor: str | None = None,
    limit: int | None = None,
) -> TimelinePage:
    """One page of a contact's timeline, read through its ``EntryContact`` links."""
    limit = _limit(limit)
    if not permissions.can(actor, ENTRY, Action.READ):
        return TimelinePage([], None, limit)
    qs = (
        EntryContact.objects.in_workspace(workspace)
        .filter(contact=contact)
        .filter(
            private_filter(
                actor, workspace, prefix="entry__", narrow=Q(contact_links__contact=contact)
            )
        )
        .select_related("entry", "entry__author")
        .only("occurred_at", "entry_id", *(f"entry__{c}" for c in ENTRY_COLUMNS))
    )
    qs = _filtered(qs, filters, prefix="entry__", time_field="occurred_at")
    links = _keyset(qs, time_field="occurred_at", id_field="entry_id", cursor=cursor, limit=limit)
    rows = [link.entry for link in links]
    return _page(rows, limit, workspace=workspace, actor=actor, key=lambda e: (e.occurred_at, e.pk))


def _page(rows, limit: int, *, workspace, actor, key) -> TimelinePage:
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        value, pk = key(rows[-1])
        next_cursor = encode_cursor(value, pk)
    attach_contacts(rows, workspace=workspace, actor=actor)
    return TimelinePage(rows, next_cursor, limit)


def entry_get(*, workspace: Workspace, actor: User, entry_id) -> TimelineEntry:
    """One entry the actor may read: in the workspace, the read right, privacy, and a
    customer of it the actor can see. ``NotFound`` otherwise."""
    try:
        pk = int(entry_id)
    except (TypeError, ValueError, OverflowError):
        raise NotFound() from None
    if not 1 <= pk < 2**63 or not permissions.can(actor, ENTRY, Action.READ):
        raise NotFound()
    entry = (
        TimelineEntry.objects.in_workspace(workspace)
        .filter(pk=pk)
        .filter(private_filter(actor, workspace, narrow=Q(pk=pk)))
        .select_related("author")
        .first()
    )
    if entry is None:
        raise NotFound()
    attach_contacts([entry], workspace=workspace, actor=actor)
    sees_account = (
        entry.account_id is not None
        and customer_selectors.account_list(workspace=workspace, actor=actor)
        .filter(pk=entry.account_id)
        .exists()
    )
    if not sees_account and not entry.contact_list:
        raise NotFound()
    return entry
