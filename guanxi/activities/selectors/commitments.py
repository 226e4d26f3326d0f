"""Reads of commitments: the ones an actor may see, and the open ones of one customer
grouped by the person who promised."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from ..models import Commitment, CommitmentStatus
from ..objects import COMMITMENT


def _base(workspace) -> QuerySet[Commitment]:
    return Commitment.objects.in_workspace(workspace).select_related(
        "promised_by", "contact", "account"
    )


def commitment_list(*, workspace: Workspace, actor: User) -> QuerySet[Commitment]:
    """Commitments the actor may read (rights and visibility over who promised), about a
    customer the actor can see."""
    qs = permissions.visible(_base(workspace), actor=actor, object_key=COMMITMENT)
    accounts = customer_selectors.account_list(workspace=workspace, actor=actor)
    contacts = customer_selectors.contact_list(workspace=workspace, actor=actor)
    if permissions.visibility_for(actor, "customers.account") == "all" and permissions.can(
        actor, "customers.account", "read"
    ):
        on_account = Q(account__isnull=False)
    else:
        on_account = Q(account__in=accounts.values("pk"))
    if permissions.visibility_for(actor, "customers.contact") == "all" and permissions.can(
        actor, "customers.contact", "read"
    ):
        on_contact = Q(contact__isnull=False)
    else:
        on_contact = Q(contact__in=contacts.values("pk"))
    return qs.filter(on_account | on_contact)


def commitment_get(*, workspace: Workspace, actor: User, commitment_id) -> Commitment:
    from guanxi.common.errors import NotFound

    try:
        return commitment_list(workspace=workspace, actor=actor).get(pk=int(commitment_id))
    except (Commitment.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound() from None


def commitments_of(
    *, workspace: Workspace, actor: User, account=None, contact=None, status: str | None = None
) -> QuerySet[Commitment]:
    """The commitments made to one customer the actor already sees (its 360° page): no
    customer-visibility subquery, just rights and who promised."""
    qs = permissions.visible(_base(workspace), actor=actor, object_key=COMMITMENT)
    if account is not None:
        qs = qs.filter(account=account)
    if contact is not None:
        qs = qs.filter(contact=contact)
    if status:
        qs = qs.filter(status=status)
    return qs


@dataclass
class PromiserGroup:
    user: User
    items: list[Commitment] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.items if c.is_overdue)


# What the 360° section shows of a promise (whole user and contact rows cost more to load).
SECTION_COLUMNS = (
    "workspace_id", "account_id", "contact_id", "promised_by_id", "text", "due_date", "status",
    "promised_by__full_name", "promised_by__email", "contact__name", "contact__code",
)  # fmt: skip
# A page shows this many open promises; a customer with more has a backlog to clear first.
OPEN_LIMIT = 200


def open_by_promiser(
    *, workspace: Workspace, actor: User, account=None, contact=None
) -> list[PromiserGroup]:
    """The open commitments of one customer, grouped by who promised (groups by name in
    pinyin order),
    each group soonest due first (undated last); ``is_overdue`` set on each. One query."""
    rows = list(
        commitments_of(
            workspace=workspace,
            actor=actor,
            account=account,
            contact=contact,
            status=CommitmentStatus.OPEN,
        )
        .select_related(None)
        .select_related("promised_by", "contact")
        .only(*SECTION_COLUMNS)
        .order_by("due_date", "id")[:OPEN_LIMIT]
    )
    today = timezone.localdate()
    groups: dict[int, PromiserGroup] = {}
    for row in _undated_last(rows):
        row.is_overdue = row.due_date is not None and row.due_date < today
        groups.setdefault(row.promised_by_id, PromiserGroup(row.promised_by)).items.append(row)
    return sorted(groups.values(), key=lambda g: (_sort_name(g.user), g.user.pk))


def _sort_name(user: User) -> str:
    """By pinyin, as people look Chinese names up (王伟 before 张敏)."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(user.full_name or user.email)).lower()


def _undated_last(rows: Iterable[Commitment]) -> list[Commitment]:
    rows = list(rows)
    return [r for r in rows if r.due_date] + [r for r in rows if not r.due_date]
