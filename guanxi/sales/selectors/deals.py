"""Reading deals: the lists (with filters), one deal, and the stale rule. Every read applies
record visibility; the kanban's reads are in ``deals_board``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from ..models import Deal, DealStatus, Pipeline, Stage, StageKind
from ..objects import DEAL


def deal_list(*, workspace: Workspace, actor: User) -> QuerySet[Deal]:
    """The deals the actor may read (owners, stages, customers joined)."""
    qs = Deal.objects.in_workspace(workspace).select_related(
        "owner", "stage", "pipeline", "account", "contact"
    )
    return permissions.visible(qs, actor=actor, object_key=DEAL)


def deal_get(*, workspace: Workspace, actor: User, deal_id) -> Deal:
    try:
        return deal_list(workspace=workspace, actor=actor).get(pk=int(deal_id))
    except (Deal.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def stale_cutoff(workspace: Workspace, now: dt.datetime | None = None) -> dt.datetime:
    from ..services.setup import sales_settings

    days = sales_settings(workspace).stale_deal_days
    return (now or timezone.now()) - dt.timedelta(days=days)


def stale_q(cutoff: dt.datetime) -> Q:
    """An open deal is stale when nothing moved since ``cutoff``: its stage, its own
    ``last_activity_at`` (moved by ``deal_touch``), and its customer's last activity (the
    timeline moves the account's and contact's ``last_activity_at`` on every activity; the
    activities app has no hook telling the deal, so the customer's activity counts)."""
    quiet_deal = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=cutoff)
    quiet_account = (
        Q(account__isnull=True)
        | Q(account__last_activity_at__isnull=True)
        | Q(account__last_activity_at__lt=cutoff)
    )
    quiet_contact = (
        Q(contact__isnull=True)
        | Q(contact__last_activity_at__isnull=True)
        | Q(contact__last_activity_at__lt=cutoff)
    )
    return (
        Q(status=DealStatus.OPEN, stage_changed_at__lt=cutoff)
        & quiet_deal
        & quiet_account
        & quiet_contact
    )


def is_stale(deal: Deal, cutoff: dt.datetime) -> bool:
    """The same rule for one loaded deal (its account and contact joined)."""
    if deal.status != DealStatus.OPEN or deal.stage_changed_at >= cutoff:
        return False
    times = [deal.last_activity_at]
    if deal.account_id:
        times.append(deal.account.last_activity_at)
    if deal.contact_id:
        times.append(deal.contact.last_activity_at)
    return all(t is None or t < cutoff for t in times)


# --- filters shared by the board, the list and the API -------------------------------------


def filtered(
    qs: QuerySet[Deal],
    *,
    actor: User,
    owner: str = "",
    close_month: str = "",
    stale_only: bool = False,
    cutoff: dt.datetime | None = None,
) -> QuerySet[Deal]:
    """``owner``: "mine", "team" (the actor's team), or a user id; ``close_month``:
    "YYYY-MM" (expected close date in that month); ``stale_only``: open deals quiet since
    ``cutoff``. Unreadable values are ignored (a filter never errors)."""
    if owner == "mine":
        qs = qs.filter(owner=actor)
    elif owner == "team":
        qs = qs.filter(owner__team_id=actor.team_id) if actor.team_id else qs.filter(owner=actor)
    elif owner and owner.isdigit():
        qs = qs.filter(owner_id=int(owner))
    month = month_range(close_month)
    if month is not None:
        qs = qs.filter(expected_close_date__gte=month[0], expected_close_date__lt=month[1])
    if stale_only and cutoff is not None:
        qs = qs.filter(stale_q(cutoff))
    return qs


def month_range(value: str) -> tuple[dt.date, dt.date] | None:
    try:
        year, month = (int(part) for part in str(value or "").split("-"))
        start = dt.date(year, month, 1)
    except (TypeError, ValueError):
        return None
    end = dt.date(year + (month == 12), month % 12 + 1, 1) if year < 9999 or month < 12 else None
    if end is None:
        return None
    return start, end


# --- the kanban ----------------------------------------------------------------------------

CARDS_PER_COLUMN = 30


@dataclass
class Column:
    stage: Stage
    count: int = 0
    total: Decimal = field(default_factory=lambda: Decimal(0))
    cards: list[Deal] = field(default_factory=list)
    more: bool = False

    @property
    def cursor(self) -> str:
        if not self.cards:
            return ""
        last = self.cards[-1]
        return f"{last.position!r}:{last.pk}"


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    closing: list[Stage]
    cutoff: dt.datetime

    @property
    def count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def total(self) -> Decimal:
        return sum((c.total for c in self.columns), Decimal(0))


def board_cards(qs: QuerySet[Deal]) -> QuerySet[Deal]:
    """What a card shows, and nothing more: owner and customer names, the stale inputs."""
    return (
        qs.select_related(None)
        .select_related("owner", "account", "contact")
        .only(
            "id",
            "name",
            "stage_id",
            "pipeline_id",
            "status",
            "amount",
            "currency",
            "amount_base",
            "expected_close_date",
            "position",
            "version",
            "stage_changed_at",
            "last_activity_at",
            "next_step",
            "owner__id",
            "owner__full_name",
            "owner__email",
            "account__id",
            "account__name",
            "account__last_activity_at",
            "contact__id",
            "contact__name",
            "contact__last_activity_at",
        )
    )


def board(
    *,
    workspace: Workspace,
    actor: User,
    pipeline: Pipeline,
    owner: str = "",
    close_month: str = "",
    stale_only: bool = False,
    limit: int = CARDS_PER_COLUMN,
    now: dt.datetime | None = None,
) -> Board:
    """The kanban of one pipeline: per open stage the count and base-currency sum (one
    grouped query over the ``deal_ws_board`` index) and the first ``limit`` cards in
    ``position`` order (one query per column); won and lost stages are drop targets only.
    A fixed number of queries: 1 (stages) + 1 (sums) + one per open stage."""
    cutoff = stale_cutoff(workspace, now)
    stages = list(
        Stage.objects.in_workspace(workspace).filter(pipeline=pipeline).order_by("order", "id")
    )
    columns = [Column(stage=s) for s in stages if s.kind == StageKind.OPEN]
    closing = [s for s in stages if s.kind != StageKind.OPEN]
    base = filtered(
        deal_list(workspace=workspace, actor=actor).filter(
            pipeline=pipeline, status=DealStatus.OPEN
        ),
        actor=actor,
        owner=owner,
        close_month=close_month,
        stale_only=stale_only,
        cutoff=cutoff,
    )
    by_stage = {c.stage.pk: c for c in columns}
    for row in (
        base.order_by()
        .values("stage_id")
        .annotate(n=Count("id"), total=Sum("amount_base"))
        .values_list("stage_id", "n", "total")
    ):
        column = by_stage.get(row[0])
        if column is not None:
            column.count, column.total = row[1], row[2] or Decimal(0)
    for column in columns:
        if not column.count:
            continue
        cards = list(
            board_cards(base.filter(stage_id=column.stage.pk)).order_by("position", "id")[
                : limit + 1
            ]
        )
        column.more = len(cards) > limit
        column.cards = cards[:limit]
        for card in column.cards:
            card.stale = is_stale(card, cutoff)
    return Board(pipeline=pipeline, columns=columns, closing=closing, cutoff=cutoff)


def column_page(
    *,
    workspace: Workspace,
    actor: User,
    stage: Stage,
    after: str,
    owner: str = "",
    close_month: str = "",
    stale_only: bool = False,
    limit: int = CARDS_PER_COLUMN,
    now: dt.datetime | None = None,
) -> Column:
    """The next cards of one column after the cursor ``"<position>:<id>"`` (keyset)."""
    cutoff = stale_cutoff(workspace, now)
    qs = filtered(
        deal_list(workspace=workspace, actor=actor).filter(stage=stage, status=DealStatus.OPEN),
        actor=actor,
        owner=owner,
        close_month=close_month,
        stale_only=stale_only,
        cutoff=cutoff,
    )
    try:
        position_text, id_text = str(after).rsplit(":", 1)
        position, last_id = float(position_text), int(id_text)
    except (TypeError, ValueError):
        position, last_id = None, None
    if position is not None:
        qs = qs.filter(Q(position__gt=position) | Q(position=position, id__gt=last_id))
    cards = list(board_cards(qs).order_by("position", "id")[: limit + 1])
    column = Column(stage=stage, cards=cards[:limit], more=len(cards) > limit)
    for card in column.cards:
        card.stale = is_stale(card, cutoff)
    return column
