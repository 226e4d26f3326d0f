"""Reading the call log: one row per call (its *head*, the first event stored for it, which
the later events keep up to date), newest first, narrowed by agent, direction, outcome and
time. An agent sees their own calls; a role whose ``service.call`` visibility is wider (the
service manager's teams, the read-only role's everything) sees more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import CallEvent
from ..objects import CALL

DIRECTIONS = ("in", "out")


@dataclass(frozen=True)
class CallFilters:
    """``start``/``end``: UTC instants on the call's first event (end excluded)."""

    agent_id: int | None = None
    direction: str = ""
    outcome: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def calls_visible(*, workspace: Workspace, actor: User) -> QuerySet[CallEvent]:
    """Every call event the actor may read (heads and the rest)."""
    permissions.require(actor, CALL, Action.READ)
    qs = CallEvent.objects.in_workspace(workspace)
    return permissions.visible(qs, actor=actor, object_key=CALL)


def _heads(qs: QuerySet[CallEvent], workspace) -> QuerySet[CallEvent]:
    earlier = CallEvent.objects.in_workspace(workspace).filter(
        call_id=OuterRef("call_id"), pk__lt=OuterRef("pk")
    )
    return qs.filter(~Exists(earlier))


def call_log(*, workspace: Workspace, actor: User, filters: CallFilters) -> QuerySet[CallEvent]:
    """The calls under ``filters``, one row each, with the agent and customer loaded (order
    them by the page: newest first by id)."""
    qs = calls_visible(workspace=workspace, actor=actor)
    if filters.agent_id:
        qs = qs.filter(agent_id=filters.agent_id)
    if filters.direction in DIRECTIONS:
        qs = qs.filter(direction=filters.direction)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.start is not None:
        qs = qs.filter(created_at__gte=filters.start)
    if filters.end is not None:
        qs = qs.filter(created_at__lt=filters.end)
    return _heads(qs, workspace).select_related("agent", "account", "contact")


def call_get(*, workspace: Workspace, actor: User, call_pk) -> tuple[CallEvent, list[CallEvent]]:
    """One call by its head's id, and its events in order; another workspace's, someone
    else's the actor may not see, or a non-head id is not found."""
    try:
        pk = int(call_pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 1 <= pk <= 2**63 - 1:
        raise NotFound()
    head = (
        _heads(calls_visible(workspace=workspace, actor=actor), workspace)
        .select_related("agent", "account", "contact")
        .filter(pk=pk)
        .first()
    )
    if head is None:
        raise NotFound()
    events = list(
        CallEvent.objects.in_workspace(workspace)
        .filter(call_id=head.call_id)
        .select_related("agent")
        .order_by("id")
    )
    return head, events
