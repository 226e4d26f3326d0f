"""Automatic distribution of cases: which queue a case joins and which agent of that queue
takes it (automatic call distribution for cases).

The queue: the case's own queue when one is set; else its category's queue (or the parent
category's); else an active queue that lists the case's language; else the default queue.

The agent, among the queue's members who are *available* and below their
``max_open_cases``, by the queue's method:

- round-robin: the next member (in the queue's order) after the one who got the last case;
- skills: the highest sum of the agent's skill levels for the case's category (or its
  parent), product and type; ties go to the fewest open cases. An agent who lists
  languages takes only cases in one of them;
- load: the fewest open cases; ties round-robin;
- manual: nobody (the supervisor assigns from the board).

Nobody available: the case stays in the queue unassigned, visible there, and is handed out
by ``cases_hand_out`` when an agent becomes available.

Every automatic choice locks the queue row (``select_for_update``) for the rest of the
caller's transaction, so two cases routed at once through one queue are chosen one after
the other: round-robin never gives both to the same agent, load sees the first one's case.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform.models import User

from ..models import (
    OPEN_STATUSES,
    AgentProfile,
    AgentSkill,
    AgentStatus,
    Case,
    CaseCategory,
    CaseEvent,
    CaseEventKind,
    DistributionMethod,
    Queue,
    QueueMember,
    SkillKind,
)

# How many waiting cases one hand-out looks at (most urgent first).
HAND_OUT_LIMIT = 200


@dataclass
class Candidate:
    user: User
    profile: AgentProfile
    open_cases: int
    order: int  # the member's place in the queue
    skill: int = 0


def open_case_counts(*, workspace, user_ids) -> dict[int, int]:
    """Open cases per assignee (zero for those without any); one query."""
    user_ids = list(user_ids)
    counts = dict.fromkeys(user_ids, 0)
    if not user_ids:
        return counts
    rows = (
        Case.objects.in_workspace(workspace)
        .filter(assignee_id__in=user_ids, status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    counts.update(dict(rows))
    return counts


def _norm(value) -> str:
    return str(value or "").strip().lower()


def speaks(profile: AgentProfile, language: str) -> bool:
    """An agent who lists no languages takes any; otherwise the case's language must be one
    of theirs (``zh`` matches ``zh-hans``; a case without a language suits everyone)."""
    wanted = _norm(language)
    spoken = {_norm(v) for v in profile.languages or [] if _norm(v)}
    if not wanted or not spoken:
        return True
    base = wanted.split("-")[0]
    return any(s == wanted or s.split("-")[0] == base for s in spoken)


# --- the queue --------------------------------------------------------------------------------


def choose_queue(case: Case) -> Queue | None:
    """The queue for ``case`` (see the module's docstring); None when the workspace has none."""
    workspace_id = case.workspace_id
    if case.queue_id:
        queue = Queue.objects.in_workspace(workspace_id).filter(pk=case.queue_id).first()
        if queue is not None:
            return queue
    if case.category_id:
        category = (
            CaseCategory.objects.in_workspace(workspace_id)
            .select_related("queue", "parent__queue")
            .filter(pk=case.category_id)
            .first()
        )
        for cat in (category, getattr(category, "parent", None)):
            if cat is not None and cat.queue_id and cat.queue.active:
                return cat.queue
    active = Queue.objects.in_workspace(workspace_id).filter(active=True).order_by("id")
    language = _norm(case.language)
    if language:
        base = language.split("-")[0]
        for queue in active:
            listed = {_norm(v) for v in queue.languages or []}
            if language in listed or base in {v.split("-")[0] for v in listed}:
                return queue
    return active.filter(is_default=True).first()


# --- the agent --------------------------------------------------------------------------------


def candidates(queue: Queue) -> list[Candidate]:
    """The queue's members who may take a case now: active users with a profile saying
    available, below their most open cases; in the queue's order. Three queries."""
    workspace_id = queue.workspace_id
    members = list(
        QueueMember.objects.in_workspace(workspace_id)
        .filter(queue=queue, user__is_active=True)
        .select_related("user")
        .order_by("position", "id")
    )
    profiles = {
        p.user_id: p
        for p in AgentProfile.objects.in_workspace(workspace_id).filter(
            user_id__in=[m.user_id for m in members], status=AgentStatus.AVAILABLE
        )
    }
    loads = open_case_counts(workspace=workspace_id, user_ids=list(profiles))
    out = []
    for order, member in enumerate(members):
        profile = profiles.get(member.user_id)
        if profile is None or loads[member.user_id] >= profile.max_open_cases:
            continue
        out.append(Candidate(member.user, profile, loads[member.user_id], order))
    return out


def _after_last(queue: Queue, pool: list[Candidate]) -> Candidate:
    """Round-robin: the first of ``pool`` after the member who got the last case, in the
    queue's order, wrapping around."""
    if queue.last_assigned_id is None:
        return pool[0]
    order = list(
        QueueMember.objects.in_workspace(queue.workspace_id)
        .filter(queue=queue)
        .order_by("position", "id")
        .values_list("user_id", flat=True)
    )
    try:
        last = order.index(queue.last_assigned_id)
    except ValueError:
        return pool[0]
    return min(pool, key=lambda c: (c.order - last - 1) % len(order))


def skill_levels(case: Case, agent_ids: list[int]) -> dict[int, int]:
    """Per agent profile: the summed skill levels that fit the case (its category or the
    category's parent, its product, its type). One query (two with a category)."""
    wanted = Q()
    if case.category_id:
        category_ids = [case.category_id]
        parent = (
            CaseCategory.objects.in_workspace(case.workspace_id)
            .filter(pk=case.category_id)
            .values_list("parent_id", flat=True)
            .first()
        )
        if parent:
            category_ids.append(parent)
        wanted |= Q(kind=SkillKind.CATEGORY, object_id__in=category_ids)
    if case.product_id:
        wanted |= Q(kind=SkillKind.PRODUCT, object_id=case.product_id)
    if case.case_type_id:
        wanted |= Q(kind=SkillKind.CASE_TYPE, object_id=case.case_type_id)
    levels = dict.fromkeys(agent_ids, 0)
    if not agent_ids or not wanted:
        return levels
    for agent_id, level in (
        AgentSkill.objects.in_workspace(case.workspace_id)
        .filter(wanted, agent_id__in=agent_ids)
        .values_list("agent_id", "level")
    ):
        levels[agent_id] += level
    return levels


def pick_agent(queue: Queue, case: Case) -> User | None:
    """Who of ``queue`` takes ``case`` by the queue's method, or None (manual, or nobody
    available). Does not lock or write: ``case_route`` does."""
    if queue.method == DistributionMethod.MANUAL:
        return None
    pool = candidates(queue)
    if not pool:
        return None
    if queue.method == DistributionMethod.ROUND_ROBIN:
        return _after_last(queue, pool).user
    if queue.method == DistributionMethod.SKILLS:
        pool = [c for c in pool if speaks(c.profile, case.language)]
        if not pool:
            return None
        levels = skill_levels(case, [c.profile.pk for c in pool])
        for c in pool:
            c.skill = levels[c.profile.pk]
        return min(pool, key=lambda c: (-c.skill, c.open_cases, c.order)).user
    # Load: the fewest open cases; among those, round-robin.
    fewest = min(c.open_cases for c in pool)
    return _after_last(queue, [c for c in pool if c.open_cases == fewest]).user


def case_route(case, *, actor) -> None:
    """Choose the queue and, by the queue's method, an available agent for ``case``; set
    ``case.queue`` and ``case.assignee`` in memory (the caller saves the case, writes the
    "assigned" event and notifies the assignee). Must run inside the caller's transaction:
    the queue row stays locked until it commits (race-safe round-robin and load)."""
    queue = choose_queue(case)
    if queue is None:
        return
    case.queue = queue
    if queue.method == DistributionMethod.MANUAL:
        return
    with transaction.atomic():
        locked = Queue.objects.in_workspace(case.workspace_id).select_for_update().get(pk=queue.pk)
        agent = pick_agent(locked, case)
        if agent is None:
            return
        Queue.objects.in_workspace(case.workspace_id).filter(pk=locked.pk).update(
            last_assigned=agent
        )
    case.assignee = agent


# --- waiting cases -----------------------------------------------------------------------------


def waiting_cases(*, workspace, queue_ids):
    """Open, unassigned cases waiting in these queues, most urgent and soonest due first."""
    return (
        Case.objects.in_workspace(workspace)
        .filter(queue_id__in=queue_ids, assignee__isnull=True, status__in=OPEN_STATUSES)
        .order_by("priority", F("resolution_due_at").asc(nulls_last=True), "id")
    )


def cases_hand_out(*, workspace, user: User | None = None, limit: int = HAND_OUT_LIMIT) -> list:
    """Give waiting cases to the agents who can take them now, most urgent first, by each
    queue's method. With ``user`` (an agent who just became available), only the queues
    they belong to are looked at. Manual queues are left to their supervisor. Returns the
    cases assigned; each gets its "assigned" event and its assignee a notification."""
    from guanxi.activities.services import notifications

    queues = (
        Queue.objects.in_workspace(workspace)
        .filter(active=True)
        .exclude(method=DistributionMethod.MANUAL)
    )
    if user is not None:
        queues = queues.filter(members__user=user)
    queue_ids = list(queues.values_list("id", flat=True).distinct())
    if not queue_ids:
        return []
    assigned = []
    with transaction.atomic():
        for case in waiting_cases(workspace=workspace, queue_ids=queue_ids)[:limit]:
            queue = Queue.objects.in_workspace(workspace).select_for_update().get(pk=case.queue_id)
            agent = pick_agent(queue, case)
            if agent is None:
                continue
            Queue.objects.in_workspace(workspace).filter(pk=queue.pk).update(last_assigned=agent)
            # Only if still waiting: a supervisor may have assigned it meanwhile.
            changed = (
                Case.objects.in_workspace(workspace)
                .filter(pk=case.pk, assignee__isnull=True)
                .update(
                    assignee=agent,
                    lock_version=F("lock_version") + 1,
                    updated_at=timezone.now(),
                )
            )
            if not changed:
                continue
            case.assignee = agent
            CaseEvent.objects.create(
                workspace_id=case.workspace_id,
                case=case,
                kind=CaseEventKind.ASSIGNED,
                to_value=agent.full_name[:60],
                note=str(_("Handed out when an agent became available"))[:300],
            )
            notifications.notify(
                workspace=case.workspace_id,
                user=agent,
                title=_("Case %(number)s is yours: %(subject)s"),
                params={"number": case.number, "subject": case.subject},
                url=case_url(case),
            )
            assigned.append(case)
    return assigned


def case_url(case) -> str:
    """The case's page, when the cases part's pages are installed."""
    from django.urls import NoReverseMatch, reverse

    for name in ("service:case_detail", "service:case"):
        try:
            return reverse(name, args=[case.pk])
        except NoReverseMatch:
            continue
    return ""
