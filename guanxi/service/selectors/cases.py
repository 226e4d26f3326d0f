"""Reads of cases: what an actor may see, one case with its joins, its conversation and
history, a customer's cases, and the agent queue (keyset pages, a fixed number of queries).
"""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from ..models import Case, CaseEvent, CaseMessage, MessageKind
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
