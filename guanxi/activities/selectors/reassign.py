"""Reads for reassigning a departing rep's work: what a person holds, whose work an actor may
reassign (and to whom), and the reassignment jobs.

Who may reassign: an administrator, or a manager (``customers.services.pool.is_manager``)
whose customer visibility covers the person — their own team, or their team and the teams
below it. The same scope bounds whom a manager can hand the work to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db.models import Count, Q, QuerySet

from guanxi.customers.models import Account, Contact
from guanxi.platform import jobs, permissions
from guanxi.platform.models import Job, Team, User, Visibility

from ..models import Commitment, CommitmentStatus, Task, TaskKind, TaskStatus, VisitPlan

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
JOB_KIND = "activities.reassign"


@dataclass(frozen=True)
class Holdings:
    """What one person holds: customers they own and their open work."""

    accounts: int = 0
    contacts: int = 0
    # Contacts without an account: customers of their own (they count against the pool cap).
    individuals: int = 0
    tasks: int = 0
    visit_tasks: int = 0
    commitments: int = 0
    # The visit plans of the accounts they own: plans follow their account.
    visit_plans: int = 0

    @property
    def customers(self) -> int:
        return self.accounts + self.individuals

    @property
    def is_empty(self) -> bool:
        return not (self.accounts or self.contacts or self.tasks or self.commitments)

    def as_dict(self) -> dict:
        return {**asdict(self), "customers": self.customers}


def holdings_of(*, workspace, user_id: int) -> Holdings:
    """Counts of what ``user_id`` holds, in five queries whatever the numbers."""
    accounts = Account.objects.in_workspace(workspace).filter(owner_id=user_id).count()
    contacts = (
        Contact.objects.in_workspace(workspace)
        .filter(owner_id=user_id)
        .aggregate(all=Count("pk"), individuals=Count("pk", filter=Q(account__isnull=True)))
    )
    tasks = (
        Task.objects.in_workspace(workspace)
        .filter(assignee_id=user_id, status=TaskStatus.OPEN)
        .aggregate(all=Count("pk"), visits=Count("pk", filter=Q(kind=TaskKind.VISIT)))
    )
    commitments = (
        Commitment.objects.in_workspace(workspace)
        .filter(promised_by_id=user_id, status=CommitmentStatus.OPEN)
        .count()
    )
    plans = VisitPlan.objects.in_workspace(workspace).filter(account__owner_id=user_id).count()
    return Holdings(
        accounts=accounts,
        contacts=contacts["all"],
        individuals=contacts["individuals"],
        tasks=tasks["all"],
        visit_tasks=tasks["visits"],
        commitments=commitments,
        visit_plans=plans,
    )


def holdings_by_user(*, workspace, user_ids: list[int]) -> dict[int, Holdings]:
    """``holdings_of`` for a page of users at once: four grouped queries."""
    if not user_ids:
        return {}
    counts: dict[int, dict] = {pk: {} for pk in user_ids}
    for row in (
        Account.objects.in_workspace(workspace)
        .filter(owner_id__in=user_ids)
        .values("owner_id")
        .annotate(n=Count("pk"))
    ):
        counts[row["owner_id"]]["accounts"] = row["n"]
    for row in (
        Contact.objects.in_workspace(workspace)
        .filter(owner_id__in=user_ids)
        .values("owner_id")
        .annotate(n=Count("pk"), individuals=Count("pk", filter=Q(account__isnull=True)))
    ):
        counts[row["owner_id"]].update(contacts=row["n"], individuals=row["individuals"])
    for row in (
        Task.objects.in_workspace(workspace)
        .filter(assignee_id__in=user_ids, status=TaskStatus.OPEN)
        .values("assignee_id")
        .annotate(n=Count("pk"), visits=Count("pk", filter=Q(kind=TaskKind.VISIT)))
    ):
        counts[row["assignee_id"]].update(tasks=row["n"], visit_tasks=row["visits"])
    for row in (
        Commitment.objects.in_workspace(workspace)
        .filter(promised_by_id__in=user_ids, status=CommitmentStatus.OPEN)
        .values("promised_by_id")
        .annotate(n=Count("pk"))
    ):
        counts[row["promised_by_id"]]["commitments"] = row["n"]
    return {pk: Holdings(**values) for pk, values in counts.items()}


# --- scope -------------------------------------------------------------------------------------


def is_reassigner(actor: User) -> bool:
    """Administrators, and managers of customers (update and bulk beyond their own)."""
    from guanxi.customers.services.pool import is_manager

    if not actor.is_active:
        return False
    return actor.role.is_admin or (is_manager(actor, ACCOUNT) and is_manager(actor, CONTACT))


def covers(actor: User, user: User) -> bool:
    """Whether ``user`` is inside the actor's customer visibility (their team, or their team
    and the teams below, or everyone)."""
    if actor.role.is_admin:
        return True
    visibility = permissions.visibility_for(actor, ACCOUNT)
    if visibility == Visibility.ALL:
        return True
    if user.pk == actor.pk:
        return True
    team = actor.team
    if team is None or user.team_id is None:
        return False
    if visibility == Visibility.TEAM:
        return user.team_id == team.pk
    if visibility == Visibility.TEAM_AND_BELOW:
        return user.team.path.startswith(team.path)
    return False


def _scope_q(actor: User) -> Q:
    """The users an actor may reassign from and to, as a filter on ``User``."""
    if actor.role.is_admin:
        return Q()
    visibility = permissions.visibility_for(actor, ACCOUNT)
    if visibility == Visibility.ALL:
        return Q()
    own = Q(pk=actor.pk)
    team = actor.team
    if team is None:
        return own
    if visibility == Visibility.TEAM:
        return own | Q(team_id=team.pk)
    if visibility == Visibility.TEAM_AND_BELOW:
        return own | Q(team__path__startswith=team.path)
    return own


def reassignable_users(*, workspace, actor: User) -> QuerySet[User]:
    """The people whose work the actor may reassign (none for a rep)."""
    qs = User.objects.filter(workspace=workspace).select_related("team", "role")
    if actor.workspace_id != getattr(workspace, "pk", workspace) or not is_reassigner(actor):
        return qs.none()
    return qs.filter(_scope_q(actor))


def target_users(*, workspace, actor: User, exclude_id: int | None = None) -> QuerySet[User]:
    """Active people the actor may hand work to."""
    qs = reassignable_users(workspace=workspace, actor=actor).filter(is_active=True)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.order_by("full_name", "pk")


def target_teams(*, workspace, actor: User) -> QuerySet[Team]:
    """Teams the actor may spread work across: all for administrators, a manager's own team
    and (with "team and below") the teams under it."""
    qs = Team.objects.in_workspace(workspace).order_by("path")
    if actor.role.is_admin:
        return qs
    if not is_reassigner(actor) or actor.team is None:
        return qs.none()
    visibility = permissions.visibility_for(actor, ACCOUNT)
    if visibility == Visibility.ALL:
        return qs
    if visibility == Visibility.TEAM_AND_BELOW:
        return qs.filter(path__startswith=actor.team.path)
    return qs.filter(pk=actor.team_id)


def reassign_jobs(*, workspace, actor: User) -> QuerySet[Job]:
    """Reassignment jobs the actor may see, newest first."""
    from guanxi.platform.selectors import job_list

    return job_list(workspace=workspace, actor=actor).filter(kind=JOB_KIND)


def reassign_job_get(*, workspace, actor: User, job_id) -> Job:
    """One reassignment job the actor may see (``NotFound`` otherwise)."""
    from guanxi.common.errors import NotFound

    job = jobs.job_get(actor=actor, workspace=workspace, job_id=job_id)
    if job.kind != JOB_KIND:
        raise NotFound()
    return job
