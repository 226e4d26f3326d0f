"""Reads of cases: what an actor may see, one case with its joins, its conversation and
history, a customer's cases, and the agent queue (keyset pages, a fixed number of queries).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.pagination import clamp_limit, decode_cursor, encode_cursor, invalid_cursor
from guanxi.customers import normalize
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from ..models import (
    OPEN_STATUSES,
    Case,
    CaseCategory,
    CaseEvent,
    CaseMessage,
    CasePriority,
    CaseStatus,
    MessageKind,
)
from ..objects import CASE


def cases_visible(*, workspace: Workspace, actor: User) -> QuerySet[Case]:
    """The cases of ``workspace`` the actor may read (none without the right)."""
    qs = Case.objects.in_workspace(workspace)
    return permissions.visible(qs, actor=actor, object_key=CASE)


def _pk(value) -> int:
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        return 0


def case_get(*, workspace: Workspace, actor: User, case_id) -> Case:
    """One case the actor may read, with its type, category, customer, product, order,
    queue and assignee joined; ``NotFound`` otherwise (other workspaces' cases too)."""
    pk = _pk(case_id)
    if pk <= 0:
        raise NotFound()
    case = (
        cases_visible(workspace=workspace, actor=actor)
        .select_related(
            "case_type",
            "category",
            "category__parent",
            "account",
            "contact",
            "product",
            "order",
            "queue",
            "assignee",
            "created_by",
            "sla_policy",
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise NotFound()
    return case


def case_messages(*, workspace: Workspace, case: Case, include_notes: bool = True):
    qs = (
        CaseMessage.objects.in_workspace(workspace)
        .filter(case=case)
        .select_related("author", "contact")
        .order_by("id")
    )
    return qs if include_notes else qs.exclude(kind=MessageKind.NOTE)


def case_events(*, workspace: Workspace, case: Case):
    return (
        CaseEvent.objects.in_workspace(workspace)
        .filter(case=case)
        .select_related("actor")
        .order_by("id")
    )


def customer_cases(*, workspace: Workspace, actor: User, account=None, contact=None, limit=20):
    """A customer's cases for their 360° page: open ones first (most urgent first), then
    the latest others; ``limit`` of each."""
    qs = cases_visible(workspace=workspace, actor=actor).select_related("case_type", "assignee")
    if account is not None:
        qs = qs.filter(account=account)
    elif contact is not None:
        qs = qs.filter(contact=contact)
    else:
        return []
    open_rows = list(qs.filter(status__in=OPEN_STATUSES).order_by("priority", "-id")[:limit])
    done = list(qs.exclude(status__in=OPEN_STATUSES).order_by("-id")[:limit])
    return open_rows + done


# --- the agent queue -------------------------------------------------------------------------

QUEUE_PAGE = 50
# "Due soon": the resolution (or an unanswered first response) falls due within this.
DUE_SOON = dt.timedelta(hours=4)
# The open set, written into the query as literals (see ``Case.Meta.indexes``).
_OPEN_SQL = "\"service_case\".\"status\" IN ('new', 'open', 'waiting')"
_NUMBER = re.compile(r"^\s*cs-?\d{4}-?\d{1,6}\s*$", re.IGNORECASE)


@dataclass
class QueueFilters:
    """What the agent asked for. ``status``: "open" (new, open, waiting; the default), one
    status, or "all" (then newest first). ``assignee``: "me", "unassigned", "" (anyone) or a
    user id. ``queue``: a queue id or "none". ``sla``: "overdue" or "due_soon"."""

    status: str = "open"
    assignee: str = ""
    queue: str = ""
    priority: str = ""
    case_type: str = ""
    category: str = ""
    sla: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params) -> QueueFilters:
        def get(name, default=""):
            value = params.get(name, default)
            return str(value if value is not None else default).strip()[:100]

        return cls(
            status=get("status", "open") or "open",
            assignee=get("assignee"),
            queue=get("queue"),
            priority=get("priority"),
            case_type=get("type") or get("case_type"),
            category=get("category"),
            sla=get("sla"),
            q=get("q"),
        )

    def params(self) -> dict[str, str]:
        data = {
            "status": self.status,
            "assignee": self.assignee,
            "queue": self.queue,
            "priority": self.priority,
            "type": self.case_type,
            "category": self.category,
            "sla": self.sla,
            "q": self.q,
        }
        return {k: v for k, v in data.items() if v and not (k == "status" and v == "open")}


@dataclass
class QueuePage:
    items: list[Case]
    next_cursor: str | None
    limit: int
    start: int = 1

    @property
    def last(self) -> int:
        return self.start + len(self.items) - 1


def _bad(field: str, message) -> ApplicationError:
    return ApplicationError(message, code="invalid_filter", fields={field: [message]})


def _id(value: str, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise _bad(field, _("Choose one of the choices."))
    return number


def _filtered(qs: QuerySet, filters: QueueFilters, *, workspace, actor, now) -> QuerySet:
    """Every filter but the status and the order."""
    if filters.assignee == "me":
        qs = qs.filter(assignee=actor)
    elif filters.assignee == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee not in ("", "anyone", "any"):
        qs = qs.filter(assignee_id=_id(filters.assignee, "assignee"))
    if filters.queue == "none":
        qs = qs.filter(queue__isnull=True)
    elif filters.queue:
        qs = qs.filter(queue_id=_id(filters.queue, "queue"))
    if filters.case_type:
        qs = qs.filter(case_type_id=_id(filters.case_type, "type"))
    if filters.category:
        pk = _id(filters.category, "category")
        children = list(
            CaseCategory.objects.in_workspace(workspace)
            .filter(parent_id=pk)
            .values_list("pk", flat=True)
        )
        qs = qs.filter(category_id__in=[pk, *children]) if children else qs.filter(category_id=pk)
    if filters.sla == "overdue":
        qs = qs.filter(
            Q(resolution_due_at__lt=now)
            | Q(first_response_at__isnull=True, response_due_at__lt=now)
        )
    elif filters.sla == "due_soon":
        soon = now + DUE_SOON
        qs = qs.filter(
            Q(resolution_due_at__gte=now, resolution_due_at__lt=soon)
            | Q(first_response_at__isnull=True, response_due_at__gte=now, response_due_at__lt=soon)
        )
    elif filters.sla:
        raise _bad("sla", _("Choose overdue or due soon."))
    if filters.q:
        term = normalize.fold(filters.q)
        if term:
            parts = _search_parts(workspace, term)
            found = _search_ids(workspace, term, parts)
            qs = (
                qs.filter(pk__in=found)
                if found is not None
                else qs.filter(_any_of(workspace, parts))
            )
    return qs


# On PostgreSQL, a search that finds at most this many cases hands the page its ids (read
# them, sort them); beyond it, the matches are common enough that walking the open set in
# the queue's order meets a page of them soon.
SEARCH_SET_LIMIT = 2_000


def _search_ids(workspace: Workspace, term: str, parts: tuple[Q, Q, Q]) -> list[int] | None:
    """PostgreSQL: the ids of the cases ``term`` (folded, 3+ characters; ``parts`` from
    ``_search_parts``) finds, when there are at most ``SEARCH_SET_LIMIT``; None when there
    are more, for a shorter term (no index serves its text test), and on SQLite.

    Without it the queue walks the whole open set in its order and tests each case's text
    with LIKE, reading every row: at a million cases, a customer's name — 500 cases, 41 of
    them open — took 0.4 s (1 s before VACUUM). One read of the search's own indexes,
    capped, then at most this many primary-key lookups, is 20–40 ms. ``UNION ALL`` (a
    duplicate only counts twice against the cap) lets the read stop at the cap. SQLite
    needs none of it: its text part is already a set of ids (FTS5), and the probe would
    only read that set twice for a common word."""
    if len(term) < 3 or connection.vendor != "postgresql":
        return None
    first, *others = (
        Case.objects.in_workspace(workspace).filter(part).order_by().values_list("pk", flat=True)
        for part in parts
    )
    ids = list(first.union(*others, all=True)[: SEARCH_SET_LIMIT + 1])
    if len(ids) > SEARCH_SET_LIMIT:
        return None
    return sorted(set(ids))


def text_q(workspace: Workspace, term: str) -> Q:
    """Cases that ``term`` (folded) finds: a substring of the search text (number, subject,
    the customer's names) or a customer the customers' search finds (pinyin, phone, 1–2
    Chinese characters). The customers' parts are sets of case ids from indexes, and so is
    the text on SQLite (FTS5, 3+ characters), so the queue's scan in its own order tests
    membership; PostgreSQL, and any term under three characters, tests the text per row."""
    return _any_of(workspace, _search_parts(workspace, term))


def _any_of(workspace: Workspace, parts: tuple[Q, Q, Q]) -> Q:
    own = Case.objects.in_workspace(workspace)
    by_account, by_contact, by_text = parts
    return (
        Q(pk__in=own.filter(by_account).values("pk"))
        | Q(pk__in=own.filter(by_contact).values("pk"))
        | by_text
    )


def _search_parts(workspace: Workspace, term: str) -> tuple[Q, Q, Q]:
    """The search's three conditions on a case: its account, its contact (the customers'
    search), its text (FTS5 on SQLite for 3+ characters, pg_trgm or a scan otherwise)."""
    from guanxi.customers import search as customer_search
    from guanxi.customers.models import Account, Contact

    accounts = customer_search.filter_queryset(Account.objects.in_workspace(workspace), term)
    contacts = customer_search.filter_queryset(Contact.objects.in_workspace(workspace), term)
    by_text = Q(search_text__contains=term)
    if connection.vendor == "sqlite" and len(term) >= 3:
        quoted = '"' + term.replace('"', '""') + '"'
        by_text = Q(
            pk__in=RawSQL(
                "SELECT rowid FROM service_case_fts WHERE service_case_fts MATCH %s", (quoted,)
            )
        )
    return (
        Q(account__in=accounts.values("pk")),
        Q(contact__in=contacts.values("pk")),
        by_text,
    )


def _priorities(filters: QueueFilters) -> list[int]:
    if not filters.priority:
        return list(CasePriority.values)
    number = _id(filters.priority, "priority")
    if number not in CasePriority.values:
        raise _bad("priority", _("Choose a priority from 1 (urgent) to 4 (low)."))
    return [number]


def _decode(cursor: str) -> tuple:
    """(priority, due or None, id) for the ordered queue; (None, None, id) newest first."""
    value, pk = decode_cursor(cursor)
    if not isinstance(pk, int) or isinstance(pk, bool) or pk <= 0:
        raise invalid_cursor()
    if value is None:
        return None, None, pk
    if not isinstance(value, list) or len(value) != 2:
        raise invalid_cursor()
    priority, due = value
    if priority not in CasePriority.values or isinstance(priority, bool):
        raise invalid_cursor()
    if due is not None:
        try:
            due = dt.datetime.fromisoformat(due)
        except (TypeError, ValueError):
            raise invalid_cursor() from None
        if due.tzinfo is None:
            raise invalid_cursor()
    return priority, due, pk


def _encode(case: Case, ordered: bool) -> str:
    if not ordered:
        return encode_cursor(None, case.pk)
    due = case.resolution_due_at.isoformat() if case.resolution_due_at else None
    return encode_cursor([case.priority, due], case.pk)


def queue_page(
    *,
    workspace: Workspace,
    actor: User,
    filters: QueueFilters,
    cursor: str | None = None,
    limit: int | None = None,
    start: int = 1,
    now: dt.datetime | None = None,
) -> QueuePage:
    """One page of the agent queue: the cases that match ``filters``, most urgent first —
    by priority, then the resolution due time (cases without one last), then id — read by
    keyset (no OFFSET, no COUNT), with type, category, customer, queue and assignee joined.

    A case number typed in the search finds that case whatever the other filters. On
    PostgreSQL (and for a search) the page is one query — after, on PostgreSQL, one read
    of the search's ids (``_search_ids``); on SQLite each (priority, due set or not) is one
    index range scan, stopping when the page is full: at most eight queries, usually one
    or two.
    """
    limit = clamp_limit(limit)
    now = now or timezone.now()
    base = cases_visible(workspace=workspace, actor=actor).select_related(
        "case_type", "category", "account", "contact", "queue", "assignee"
    )
    if filters.q and _NUMBER.match(filters.q):
        digits = re.sub(r"\D", "", filters.q)
        number = f"CS-{digits[:4]}-{int(digits[4:]):06d}"
        rows = list(base.filter(number=number)[:1])
        return QueuePage(items=rows, next_cursor=None, limit=limit, start=start)
    qs = _filtered(base, filters, workspace=workspace, actor=actor, now=now)
    status = filters.status or "open"
    if status == "all":
        return _newest(qs, cursor=cursor, limit=limit, start=start)
    if status == "open":
        # A constant (no user input): literals let SQLite use the partial indexes.
        qs = qs.extra(where=[_OPEN_SQL])
    elif status in CaseStatus.values:
        qs = qs.filter(status=status)
    else:
        raise _bad("status", _("Choose one of the choices."))

    priorities = _priorities(filters)
    after = _decode(cursor) if cursor else None
    if after is not None and after[0] is None:
        raise invalid_cursor()
    if connection.vendor == "postgresql" or filters.q:
        rows = _one_scan(qs, priorities, after, limit)
    else:
        rows = _segments(qs, priorities, after, limit)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode(rows[-1], ordered=True)
    return QueuePage(items=rows, next_cursor=next_cursor, limit=limit, start=start)


def _one_scan(qs: QuerySet, priorities: list[int], after, limit: int) -> list[Case]:
    """One query in the queue's order (priority, due time with nulls last, id). On
    PostgreSQL an ascending index keeps NULLs last, so the partial indexes give exactly
    this order; on SQLite (NULLs first in an index) it serves the search, whose few
    matches come from the search's own indexes and are sorted."""
    if len(priorities) == 1:
        qs = qs.filter(priority=priorities[0])
    if after is not None:
        priority, due, pk = after
        later = Q(priority__gt=priority)
        if due is None:
            later |= Q(priority=priority, resolution_due_at__isnull=True, pk__gt=pk)
        else:
            later |= Q(priority=priority) & (
                Q(resolution_due_at__gt=due)
                | Q(resolution_due_at__isnull=True)
                | Q(resolution_due_at=due, pk__gt=pk)
            )
        qs = qs.filter(priority__gte=priority).filter(later)
    ordered = qs.order_by("priority", F("resolution_due_at").asc(nulls_last=True), "pk")
    return list(ordered[: limit + 1])


def _segments(qs: QuerySet, priorities: list[int], after, limit: int) -> list[Case]:
    """Up to eight range scans — per priority, the cases with a due time in its order,
    then those without — each stopping when the page is full: SQLite's indexes keep NULLs
    first, so one ``NULLS LAST`` order would sort the whole open set."""
    segments: list[tuple[int, bool]] = [
        (p, has_due) for p in priorities for has_due in (True, False)
    ]
    if after is not None:
        at = (after[0], after[1] is not None)
        if at not in segments:
            raise invalid_cursor()
        segments = segments[segments.index(at) :]
    rows: list[Case] = []
    for position, (priority, has_due) in enumerate(segments):
        want = limit + 1 - len(rows)
        part = qs.filter(priority=priority)
        if has_due:
            part = part.filter(resolution_due_at__isnull=False)
            if after is not None and position == 0:
                due, pk = after[1], after[2]
                part = part.filter(resolution_due_at__gte=due).filter(
                    Q(resolution_due_at__gt=due) | Q(pk__gt=pk)
                )
            part = part.order_by("resolution_due_at", "pk")
        else:
            part = part.filter(resolution_due_at__isnull=True)
            if after is not None and position == 0:
                part = part.filter(pk__gt=after[2])
            part = part.order_by("pk")
        rows.extend(part[:want])
        if len(rows) > limit:
            break
    return rows


def _newest(qs: QuerySet, *, cursor, limit, start) -> QueuePage:
    if cursor:
        priority, _due, pk = _decode(cursor)
        if priority is not None:
            raise invalid_cursor()
        qs = qs.filter(pk__lt=pk)
    rows = list(qs.order_by("-pk")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode(rows[-1], ordered=False)
    return QueuePage(items=rows, next_cursor=next_cursor, limit=limit, start=start)


def sla_state(case: Case, now: dt.datetime) -> str:
    """ "overdue", "due_soon" or "" for a row of the queue (closed cases have none)."""
    if case.status not in OPEN_STATUSES:
        return ""
    dues = [case.resolution_due_at]
    if case.first_response_at is None:
        dues.append(case.response_due_at)
    dues = [d for d in dues if d is not None]
    if not dues:
        return ""
    first = min(dues)
    if first < now:
        return "overdue"
    if first < now + DUE_SOON:
        return "due_soon"
    return ""
