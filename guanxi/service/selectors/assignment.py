"""Reads of queues, agents and dispatches. Every selector applies the actor's rights (the
service's configuration to read queues and agents; dispatches by their visibility:
technicians see their own) and runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import (
    OPEN_STATUSES,
    AgentProfile,
    AgentSkill,
    Case,
    CaseCategory,
    CaseType,
    Dispatch,
    DispatchStatus,
    Queue,
    QueueMember,
    SkillKind,
)
from ..objects import CASE, CONFIGURATION, DISPATCH
from ..services.routing import open_case_counts

BOARD_LIMIT = 50


def _pk(value) -> int:
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        return 0


def queue_list(*, workspace: Workspace, actor: User) -> QuerySet[Queue]:
    """The queues, with their supervisor and members (in order); none without the right."""
    qs = (
        Queue.objects.in_workspace(workspace)
        .select_related("supervisor")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=QueueMember.objects.in_workspace(workspace)
                .select_related("user")
                .order_by("position", "id"),
            )
        )
        .order_by("name", "id")
    )
    if not permissions.can(actor, CONFIGURATION, Action.READ):
        return qs.none()
    return qs


def queue_get(*, workspace: Workspace, actor: User, queue_id) -> Queue:
    pk = _pk(queue_id)
    queue = queue_list(workspace=workspace, actor=actor).filter(pk=pk).first() if pk > 0 else None
    if queue is None:
        raise NotFound()
    return queue


def active_users(workspace: Workspace) -> list[User]:
    return list(User.objects.filter(workspace=workspace, is_active=True).order_by("full_name"))


@dataclass
class SkillRow:
    skill: AgentSkill
    label: str


@dataclass
class AgentRow:
    user: User
    profile: AgentProfile | None
    open_cases: int
    skills: list[SkillRow] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.profile.status if self.profile else "offline"


def skill_labels(workspace, skills) -> dict[tuple[str, int], str]:
    """Names of the records skills point at; one query per kind present."""
    wanted: dict[str, set[int]] = {}
    for skill in skills:
        wanted.setdefault(skill.kind, set()).add(skill.object_id)
    models = {
        SkillKind.CATEGORY: CaseCategory,
        SkillKind.CASE_TYPE: CaseType,
        SkillKind.PRODUCT: apps.get_model("sales", "Product"),
    }
    labels = {}
    for kind, ids in wanted.items():
        model = models.get(kind)
        if model is None:
            continue
        for pk, name in model.objects.filter(workspace=workspace, pk__in=ids).values_list(
            "pk", "name"
        ):
            labels[(kind, pk)] = name
    return labels


def agent_rows(*, workspace: Workspace, actor: User, user_ids=None) -> list[AgentRow]:
    """Every active user (or those of ``user_ids``) with their agent profile, skills and open
    cases; none without the right to read the configuration."""
    if not permissions.can(actor, CONFIGURATION, Action.READ):
        return []
    return _agent_rows(workspace, user_ids)


def _agent_rows(workspace: Workspace, user_ids=None) -> list[AgentRow]:
    users = User.objects.filter(workspace=workspace, is_active=True).order_by("full_name", "id")
    if user_ids is not None:
        users = users.filter(pk__in=list(user_ids))
    users = list(users)
    profiles = {
        p.user_id: p
        for p in AgentProfile.objects.in_workspace(workspace)
        .filter(user_id__in=[u.pk for u in users])
        .prefetch_related(
            Prefetch(
                "skills",
                queryset=AgentSkill.objects.in_workspace(workspace).order_by("kind", "id"),
            )
        )
    }
    skills = [s for p in profiles.values() for s in p.skills.all()]
    labels = skill_labels(workspace, skills)
    loads = open_case_counts(workspace=workspace, user_ids=[u.pk for u in users])
    rows = []
    for user in users:
        profile = profiles.get(user.pk)
        row = AgentRow(user=user, profile=profile, open_cases=loads[user.pk])
        if profile is not None:
            row.skills = [
                SkillRow(s, labels.get((s.kind, s.object_id), f"#{s.object_id}"))
                for s in profile.skills.all()
            ]
        rows.append(row)
    return rows


def agent_profile_of(*, workspace: Workspace, user: User) -> AgentProfile | None:
    return AgentProfile.objects.in_workspace(workspace).filter(user=user).first()


# --- the supervisor's board ---------------------------------------------------------------------


@dataclass
class Board:
    queue: Queue
    waiting: list[Case]
    agents: list[AgentRow]
    more: bool


def board_queues(*, workspace: Workspace, actor: User) -> list[Queue]:
    """The queues whose board the actor may see: all with the configuration right to
    change, else those they supervise."""
    if not permissions.can(actor, CASE, Action.READ):
        return []
    qs = Queue.objects.in_workspace(workspace).filter(active=True).order_by("name", "id")
    if not permissions.can(actor, CONFIGURATION, Action.UPDATE):
        qs = qs.filter(supervisor=actor)
    return list(qs)


def board(*, workspace: Workspace, actor: User, queue: Queue) -> Board:
    """A queue's unassigned open cases (most urgent and soonest due first, at most 50) and
    its members with their availability and open cases. A fixed number of queries."""
    cases = list(
        permissions.visible(Case.objects.in_workspace(workspace), actor=actor, object_key=CASE)
        .filter(queue=queue, assignee__isnull=True, status__in=OPEN_STATUSES)
        .select_related("account", "contact", "category")
        .order_by("priority", F("resolution_due_at").asc(nulls_last=True), "id")[: BOARD_LIMIT + 1]
    )
    member_ids = list(
        QueueMember.objects.in_workspace(workspace)
        .filter(queue=queue)
        .order_by("position", "id")
        .values_list("user_id", flat=True)
    )
    rows = {r.user.pk: r for r in _agent_rows(workspace, member_ids)}
    agents = [rows[uid] for uid in member_ids if uid in rows]
    return Board(
        queue=queue, waiting=cases[:BOARD_LIMIT], agents=agents, more=len(cases) > BOARD_LIMIT
    )


# --- dispatches --------------------------------------------------------------------------------


def dispatches_visible(*, workspace: Workspace, actor: User) -> QuerySet[Dispatch]:
    """The dispatches the actor may read (technicians: their own), and those the actor sent
    (a manager may send a technician from outside their team and must see the visit)."""
    qs = Dispatch.objects.in_workspace(workspace).select_related(
        "case", "case__account", "case__contact", "technician", "task"
    )
    visible = permissions.visible(qs, actor=actor, object_key=DISPATCH)
    if not permissions.can(actor, DISPATCH, Action.READ):
        return visible
    return qs.filter(Q(pk__in=visible.values("pk")) | Q(created_by=actor))


def dispatch_get(*, workspace: Workspace, actor: User, dispatch_id) -> Dispatch:
    pk = _pk(dispatch_id)
    found = dispatches_visible(workspace=workspace, actor=actor).filter(pk=pk).first()
    if pk <= 0 or found is None:
        raise NotFound()
    return found


def case_dispatches(*, workspace: Workspace, actor: User, case: Case) -> list[Dispatch]:
    return list(
        dispatches_visible(workspace=workspace, actor=actor)
        .filter(case=case)
        .order_by("-starts_at", "-id")[:20]
    )


def technician_dispatches(
    *, workspace: Workspace, actor: User, upcoming: bool = True
) -> QuerySet[Dispatch]:
    """The actor's own dispatches: scheduled ones and those not yet over, soonest first; or
    every one of theirs, newest first."""
    qs = dispatches_visible(workspace=workspace, actor=actor).filter(technician=actor)
    if upcoming:
        return qs.filter(
            Q(status=DispatchStatus.SCHEDULED) | Q(ends_at__gte=timezone.now())
        ).order_by("starts_at", "id")
    return qs.order_by("-starts_at", "-id")
