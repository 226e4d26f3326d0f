"""Reassigning a departing rep's work: their customers, open tasks (visit tasks included) and
open commitments go to one person, are spread across a team, or the customers go back to
the pool — as one bulk action run as a background job.

``reassign_start`` checks everything up front (rights, the people, the team, the pool's
per-rep cap) and refuses a plan that cannot be carried out whole before anything moves. The
job (``reassign_run``) then moves the work in batches of customers, each batch one
transaction; it only ever moves what the departing person still holds, so a job that died
half-way is resumed by ``reassign_retry`` without moving anything twice.

What moves, and how:
- Customers go through the pool's ``customer_assign``, which writes the pool events, the
  audit rows and (once wired) the owner-change events; this module adds nothing to those.
- A customer's things stay together: an account with its contacts and its open tasks and
  commitments go to one person (the "unit" below).
- Tasks change ``assignee``. Commitments change ``promised_by`` — the model has no separate
  "who keeps it" field, so the new person becomes the promiser; the original promiser stays
  in each commitment's audit diff and in the customer's ``reassigned`` timeline entry.
- In pool mode the customers lose their owner; their open tasks and commitments go to the
  acting manager, or to the person chosen as ``tasks_to_user_id``.
- Visit plans belong to their account and move with it; check-ins and the timeline are
  history and stay with their authors.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.models import Account, Contact
from guanxi.customers.services import pool
from guanxi.platform import audit, jobs, permissions
from guanxi.platform.models import Action, AuditAction, AuditEntry, Job, JobState, User, Workspace

from ..models import (
    Commitment,
    CommitmentStatus,
    EntryKind,
    Notification,
    SystemEvent,
    Task,
    TaskKind,
    TaskStatus,
)
from ..objects import COMMITMENT, TASK
from ..selectors import reassign as selectors
from ..selectors.reassign import Holdings
from .timeline import record_entry

JOB_KIND = selectors.JOB_KIND
# The audit rows of a reassignment's batches: object id = the first job's id.
AUDIT_KEY = "activities.reassignment"
USER_KEY = "platform.user"
MODE_ONE, MODE_TEAM, MODE_POOL = "one", "team", "pool"
MODES = (MODE_ONE, MODE_TEAM, MODE_POOL)
CUSTOMERS, TASKS, COMMITMENTS = "customers", "tasks", "commitments"
INCLUDE_ALL = (CUSTOMERS, TASKS, COMMITMENTS)
# Customers (with their contacts, tasks and commitments) per batch and transaction.
BATCH_UNITS = 250
POOL_TARGET = "pool"


# --- preview -----------------------------------------------------------------------------------


def reassign_preview(*, actor: User, workspace: Workspace, from_user_id) -> Holdings:
    """What ``from_user_id`` holds (customers, contacts, open tasks and visit tasks, open
    commitments, the visit plans of their accounts), for someone who may reassign it."""
    from_user = _from_user(workspace, actor, from_user_id)
    _require_reassign(actor, from_user)
    return selectors.holdings_of(workspace=workspace, user_id=from_user.pk)


# --- rights and people -----------------------------------------------------------------------


def _deny(actor: User, message) -> None:
    audit.log_permission_denied(actor=actor, object_key=AUDIT_KEY, action="reassign")
    raise PermissionDenied(message)


def _from_user(workspace, actor: User, user_id) -> User:
    if actor.workspace_id != getattr(workspace, "pk", workspace):
        raise NotFound()
    try:
        return User.objects.select_related("team", "role").get(workspace=workspace, pk=int(user_id))
    except (User.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound() from None


def _require_reassign(actor: User, from_user: User, include=INCLUDE_ALL) -> None:
    """An administrator, or a manager whose visibility covers ``from_user`` and who may
    update the tasks and commitments being moved. Checked before any transaction, so the
    audit row of a denial stays."""
    if not selectors.is_reassigner(actor):
        _deny(actor, _("Only administrators and managers can reassign someone's work."))
    if not selectors.covers(actor, from_user):
        _deny(
            actor,
            _("%(name)s is not in your team; ask an administrator to reassign their work.")
            % {"name": from_user.full_name},
        )
    if TASKS in include:
        permissions.require(actor, TASK, Action.UPDATE)
    if COMMITMENTS in include:
        permissions.require(actor, COMMITMENT, Action.UPDATE)


def _field_error(field_name: str, message, *, code: str = "invalid"):
    return ApplicationError(message, code=code, fields={field_name: [message]})


def _target(workspace, actor: User, from_user: User, user_id, *, field_name: str) -> User:
    """An active user of the workspace, inside the actor's scope, other than ``from_user``."""
    if user_id in (None, ""):
        raise _field_error(field_name, _("Choose who receives the work."))
    try:
        user = User.objects.select_related("team").get(workspace=workspace, pk=int(user_id))
    except (User.DoesNotExist, TypeError, ValueError, OverflowError):
        raise _field_error(field_name, _("Choose a user of this workspace.")) from None
    if user.pk == from_user.pk:
        raise _field_error(
            field_name, _("Choose someone else: the work cannot go back to the person who leaves.")
        )
    if not user.is_active:
        raise _field_error(
            field_name,
            _("%(name)s is deactivated and cannot receive work.") % {"name": user.full_name},
        )
    if not selectors.covers(actor, user):
        raise _field_error(
            field_name,
            _("%(name)s is not in your team; you can hand work only to people you manage.")
            % {"name": user.full_name},
        )
    return user


def _team_members(workspace, actor: User, from_user: User, team_id) -> tuple[object, list[User]]:
    if team_id in (None, ""):
        raise _field_error("team_id", _("Choose the team that takes the work over."))
    teams = selectors.target_teams(workspace=workspace, actor=actor)
    try:
        team = teams.get(pk=int(team_id))
    except (teams.model.DoesNotExist, TypeError, ValueError, OverflowError):
        raise _field_error("team_id", _("Choose one of your teams.")) from None
    members = list(
        User.objects.filter(workspace=workspace, team=team, is_active=True)
        .exclude(pk=from_user.pk)
        .order_by("pk")
    )
    if not members:
        raise _field_error(
            "team_id",
            _("%(team)s has no active members besides %(name)s.")
            % {"team": team.name, "name": from_user.full_name},
        )
    return team, members


def _include(values) -> tuple[str, ...]:
    chosen = list(dict.fromkeys(str(v) for v in (INCLUDE_ALL if values is None else values)))
    unknown = [v for v in chosen if v not in INCLUDE_ALL]
    if unknown or not chosen:
        raise _field_error(
            "include", _("Choose what to reassign: customers, open tasks, open commitments.")
        )
    return tuple(v for v in INCLUDE_ALL if v in chosen)


# --- the plan ----------------------------------------------------------------------------------


@dataclass
class Unit:
    """A customer's things, which go to one person: an account (or a contact) with its
    contacts, open tasks and open commitments. Tasks and commitments linked to no customer
    are units of their own."""

    key: tuple[str, int]
    account_id: int | None = None  # the account, when it moves too
    contact_ids: list[int] = field(default_factory=list)
    task_ids: list[int] = field(default_factory=list)
    commitment_ids: list[int] = field(default_factory=list)
    # Counts against the pool's per-rep cap: an account, or an individual customer.
    customers: int = 0

    @property
    def work(self) -> int:
        return len(self.task_ids) + len(self.commitment_ids)


def _units(workspace, from_id: int, include: tuple[str, ...]) -> list[Unit]:
    """What ``from_id`` holds now, grouped into units (four queries)."""
    units: dict[tuple[str, int], Unit] = {}

    def unit(key) -> Unit:
        if key not in units:
            units[key] = Unit(key=key)
        return units[key]

    account_ids: set[int] = set()
    contact_unit: dict[int, tuple[str, int]] = {}
    if CUSTOMERS in include:
        for pk in (
            Account.objects.in_workspace(workspace)
            .filter(owner_id=from_id)
            .values_list("pk", flat=True)
        ):
            account_ids.add(pk)
            u = unit(("a", pk))
            u.account_id, u.customers = pk, 1
        for pk, account_id in (
            Contact.objects.in_workspace(workspace)
            .filter(owner_id=from_id)
            .values_list("pk", "account_id")
        ):
            # A contact goes with its account when that account moves too; otherwise it is
            # a unit of its own (an individual customer counts against the cap).
            key = ("a", account_id) if account_id in account_ids else ("c", pk)
            contact_unit[pk] = key
            u = unit(key)
            u.contact_ids.append(pk)
            if account_id is None:
                u.customers = 1

    def item_key(kind: str, pk: int, account_id, contact_id) -> tuple[str, int]:
        if account_id is not None:
            return ("a", account_id)
        if contact_id is not None:
            return contact_unit.get(contact_id, ("c", contact_id))
        return (kind, pk)

    if TASKS in include:
        for pk, account_id, contact_id in (
            Task.objects.in_workspace(workspace)
            .filter(assignee_id=from_id, status=TaskStatus.OPEN)
            .values_list("pk", "account_id", "contact_id")
        ):
            unit(item_key("t", pk, account_id, contact_id)).task_ids.append(pk)
    if COMMITMENTS in include:
        for pk, account_id, contact_id in (
            Commitment.objects.in_workspace(workspace)
            .filter(promised_by_id=from_id, status=CommitmentStatus.OPEN)
            .values_list("pk", "account_id", "contact_id")
        ):
            unit(item_key("m", pk, account_id, contact_id)).commitment_ids.append(pk)
    return [units[k] for k in sorted(units)]


def _held(workspace, user_ids: list[int]) -> dict[int, int]:
    """Customers (accounts and individual contacts) each user holds: two grouped queries."""
    counts = {pk: 0 for pk in user_ids}
    holdings = selectors.holdings_by_user(workspace=workspace, user_ids=user_ids)
    for pk, h in holdings.items():
        counts[pk] = h.customers
    return counts


def _cap_error(name: str, held: int, adding: int, cap: int) -> Conflict:
    return Conflict(
        _(
            "%(name)s holds %(held)s customers and would receive %(adding)s more: over the "
            "cap of %(cap)s per rep. Spread the customers across a team, choose someone else, "
            "or raise the cap in the pool rules."
        )
        % {"name": name, "held": held, "adding": adding, "cap": cap},
        code="pool_cap_reached",
    )


@dataclass
class Plan:
    """Who gets each unit: ``(unit, customer owner id or None for the pool, work owner id)``."""

    assignments: list[tuple[Unit, int | None, int]]
    receivers: dict[int, User]


def _plan(
    workspace, *, mode: str, units: list[Unit], receiver: User | None, members: list[User]
) -> Plan:
    """Assign units to people, refusing (``Conflict``) a plan that breaks the per-rep cap."""
    cap = pool.pool_settings_get(workspace=workspace).max_per_rep
    needed = sum(u.customers for u in units)
    if mode in (MODE_ONE, MODE_POOL):
        if mode == MODE_ONE and cap and needed:
            held = _held(workspace, [receiver.pk])[receiver.pk]
            if held + needed > cap:
                raise _cap_error(receiver.full_name, held, needed, cap)
        owner_id = None if mode == MODE_POOL else receiver.pk
        return Plan([(u, owner_id, receiver.pk) for u in units], {receiver.pk: receiver})
    ids = [m.pk for m in members]
    held = _held(workspace, ids)
    if cap and needed:
        free = sum(max(0, cap - held[pk]) for pk in ids)
        if free < needed:
            raise Conflict(
                _(
                    "The team can take %(free)s more customers under the cap of %(cap)s per "
                    "rep, not %(needed)s. Choose a larger team, or raise the cap in the pool "
                    "rules."
                )
                % {"free": free, "cap": cap, "needed": needed},
                code="pool_cap_reached",
            )
    work = Counter({pk: 0 for pk in ids})
    for h_pk, h in selectors.holdings_by_user(workspace=workspace, user_ids=ids).items():
        work[h_pk] = h.tasks + h.commitments
    assignments = []
    for u in units:
        if u.customers:
            # The least-loaded member under the cap gets the next customer (ties: lowest id).
            open_ids = [pk for pk in ids if not cap or held[pk] < cap]
            pk = min(open_ids, key=lambda m: (held[m], work[m], m))
            held[pk] += u.customers
        else:
            pk = min(ids, key=lambda m: (work[m], held[m], m))
        work[pk] += u.work
        assignments.append((u, pk, pk))
    return Plan(assignments, {m.pk: m for m in members})


# --- starting ----------------------------------------------------------------------------------


@dataclass
class Context:
    """A validated reassignment: who leaves, what moves, and to whom."""

    actor: User
    workspace: Workspace
    from_user: User
    mode: str
    include: tuple[str, ...]
    deactivate: bool
    receiver: User | None = None
    team: object | None = None
    members: list[User] = field(default_factory=list)

    def params(self) -> dict:
        return {
            "from_user_id": self.from_user.pk,
            "mode": self.mode,
            "to_user_id": self.receiver.pk if self.receiver and self.mode == MODE_ONE else None,
            "tasks_to_user_id": (
                self.receiver.pk if self.receiver and self.mode == MODE_POOL else None
            ),
            "team_id": getattr(self.team, "pk", None),
            "include": list(self.include),
            "deactivate": self.deactivate,
        }


def _context(
    *,
    actor: User,
    workspace: Workspace,
    from_user_id,
    mode: str,
    to_user_id=None,
    team_id=None,
    tasks_to_user_id=None,
    include=None,
    deactivate: bool = False,
) -> Context:
    from_user = _from_user(workspace, actor, from_user_id)
    include = _include(include)
    _require_reassign(actor, from_user, include)
    if mode not in MODES:
        raise _field_error("mode", _("Choose one person, a team, or the customer pool."))
    ctx = Context(actor, workspace, from_user, mode, include, bool(deactivate))
    if mode == MODE_ONE:
        ctx.receiver = _target(workspace, actor, from_user, to_user_id, field_name="to_user_id")
    elif mode == MODE_TEAM:
        ctx.team, ctx.members = _team_members(workspace, actor, from_user, team_id)
    else:
        # Customers go to the pool; someone must still keep their open promises and tasks:
        # the acting manager unless they name another person.
        ctx.receiver = _target(
            workspace,
            actor,
            from_user,
            actor.pk if tasks_to_user_id in (None, "") else tasks_to_user_id,
            field_name="tasks_to_user_id",
        )
    if ctx.deactivate:
        _check_deactivation(actor, from_user)
    return ctx


def _check_deactivation(actor: User, from_user: User) -> None:
    if not actor.role.is_admin:
        _deny(actor, _("Only administrators can deactivate users."))
    if from_user.pk == actor.pk:
        raise _field_error("deactivate", _("You cannot deactivate yourself."))
    if from_user.role.is_admin and not (
        User.objects.filter(
            workspace_id=from_user.workspace_id, is_active=True, role__is_admin=True
        )
        .exclude(pk=from_user.pk)
        .exists()
    ):
        raise _field_error(
            "deactivate", _("%(name)s is the last administrator.") % {"name": from_user.full_name}
        )


def _make_plan(ctx: Context) -> Plan:
    units = _units(ctx.workspace, ctx.from_user.pk, ctx.include)
    return _plan(
        ctx.workspace, mode=ctx.mode, units=units, receiver=ctx.receiver, members=ctx.members
    )


def reassign_start(
    *,
    actor: User,
    workspace: Workspace,
    from_user_id,
    mode: str,
    to_user_id=None,
    team_id=None,
    tasks_to_user_id=None,
    include=None,
    deactivate: bool = False,
) -> Job:
    """Start moving ``from_user_id``'s work, and return the background job.

    ``mode``: ``one`` (everything to ``to_user_id``), ``team`` (spread across the active
    members of ``team_id``, the least loaded first, each customer's things to one person) or
    ``pool`` (customers back to the pool; open tasks and commitments to ``tasks_to_user_id``,
    by default the actor). ``include`` chooses among customers, tasks and commitments (all
    by default); ``deactivate`` deactivates the person once everything moved
    (administrators only). Refused whole, before anything moves, when a person is inactive
    or outside the actor's team, the team is empty, there is nothing to move, a
    reassignment of the same person is running, or the pool's per-rep cap would break.
    """
    ctx = _context(
        actor=actor,
        workspace=workspace,
        from_user_id=from_user_id,
        mode=mode,
        to_user_id=to_user_id,
        team_id=team_id,
        tasks_to_user_id=tasks_to_user_id,
        include=include,
        deactivate=deactivate,
    )
    plan = _make_plan(ctx)
    if not plan.assignments and not ctx.deactivate:
        raise ApplicationError(
            _("%(name)s holds nothing to reassign.") % {"name": ctx.from_user.full_name},
            code="nothing_to_reassign",
        )
    with transaction.atomic():
        # Serialise starts for one person: lock their row, then look for a running job.
        list(User.objects.select_for_update().filter(pk=ctx.from_user.pk).values_list("pk"))
        _refuse_running(workspace, ctx.from_user)
        job = jobs.job_start(actor=actor, workspace=workspace, kind=JOB_KIND, params=ctx.params())
        _log_start(ctx, job, plan)
    return job


def _refuse_running(workspace, from_user: User) -> None:
    running = (
        Job.objects.in_workspace(workspace)
        .filter(kind=JOB_KIND, state__in=[JobState.QUEUED, JobState.RUNNING])
        .filter(params__from_user_id=from_user.pk)
        .exists()
    )
    if running:
        raise Conflict(
            _("The work of %(name)s is already being reassigned; wait for that job to finish.")
            % {"name": from_user.full_name},
            code="reassignment_running",
        )


def _log_start(ctx: Context, job: Job, plan: Plan) -> None:
    """An audit row on the departing user: their history says who moved their work, how."""
    audit.log(
        actor=ctx.actor,
        workspace=ctx.workspace,
        action=AuditAction.UPDATE,
        object_key=USER_KEY,
        object_id=ctx.from_user.pk,
        object_repr=str(ctx.from_user),
        changes={
            "reassignment": [
                None,
                {
                    "job": job.params.get("root") or job.pk,
                    **job.params,
                    "receivers": sorted(plan.receivers),
                    "customers": sum(u.customers for u, *_ in plan.assignments),
                    "tasks": sum(len(u.task_ids) for u, *_ in plan.assignments),
                    "commitments": sum(len(u.commitment_ids) for u, *_ in plan.assignments),
                },
            ]
        },
    )


def reassign_retry(*, actor: User, workspace: Workspace, job_id) -> Job:
    """Run a failed reassignment again: a new job with the same choices, which moves only
    what the departing person still holds. Retrying the same failed job twice returns the
    same new job."""
    failed = selectors.reassign_job_get(workspace=workspace, actor=actor, job_id=job_id)
    if failed.state != JobState.FAILED:
        raise Conflict(_("Only a failed reassignment can be run again."), code="not_failed")
    params = dict(failed.params)
    ctx = _context(
        actor=actor,
        workspace=workspace,
        from_user_id=params.get("from_user_id"),
        mode=params.get("mode"),
        to_user_id=params.get("to_user_id"),
        team_id=params.get("team_id"),
        tasks_to_user_id=params.get("tasks_to_user_id"),
        include=params.get("include"),
        deactivate=params.get("deactivate", False),
    )
    plan = _make_plan(ctx)
    root = params.get("root") or failed.pk
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=ctx.from_user.pk).values_list("pk"))
        _refuse_running(workspace, ctx.from_user)
        job = jobs.job_start(
            actor=actor,
            workspace=workspace,
            kind=JOB_KIND,
            params={**ctx.params(), "root": root},
            idempotency_key=f"reassign-retry:{failed.pk}",
        )
        if job.state == JobState.QUEUED and not job.started_at:
            _log_start(ctx, job, plan)
    return job


# --- the job -----------------------------------------------------------------------------------


def reassign_run(*, job: Job, progress) -> dict:
    """The job's work: re-validate with the job owner's current rights, plan what the
    departing person still holds, move it batch by batch, then (optionally) deactivate them
    and notify each receiver. Returns the job result (counts per receiver)."""
    params = job.params
    actor = job.owner
    if actor is None:
        raise ApplicationError(_("The person who started this reassignment no longer exists."))
    ctx = _context(
        actor=actor,
        workspace=job.workspace,
        from_user_id=params.get("from_user_id"),
        mode=params.get("mode"),
        to_user_id=params.get("to_user_id"),
        team_id=params.get("team_id"),
        tasks_to_user_id=params.get("tasks_to_user_id"),
        include=params.get("include"),
        deactivate=params.get("deactivate", False),
    )
    root = params.get("root") or job.pk
    plan = _make_plan(ctx)
    total = len(plan.assignments)
    progress(0, total, _("Moving the work of %(name)s") % {"name": ctx.from_user.full_name})
    for start in range(0, total, BATCH_UNITS):
        batch = plan.assignments[start : start + BATCH_UNITS]
        with transaction.atomic():
            _move_batch(ctx, root, batch, plan.receivers)
        done = min(start + BATCH_UNITS, total)
        progress(
            done,
            total,
            _("Moved %(done)s of %(total)s customers and their work")
            % {"done": done, "total": total},
        )
    with transaction.atomic():
        totals = _totals(ctx.workspace, root)
        deactivated = False
        if ctx.deactivate and ctx.from_user.is_active:
            from guanxi.platform.services import user_update

            user_update(
                actor=actor, workspace=ctx.workspace, user_id=ctx.from_user.pk, is_active=False
            )
            deactivated = True
        _notify(ctx, totals, job_url=reverse("activities:reassign_job", args=[job.pk]))
    return _result(ctx, job, totals, deactivated=deactivated or not ctx.from_user.is_active)


def _user_ref(user: User | None) -> dict | None:
    return {"id": user.pk, "label": user.full_name} if user else None


def _move_batch(ctx: Context, root: int, batch, receivers: dict[int, User]) -> None:
    """Move one batch in the caller's transaction: customers through the pool's
    ``customer_assign``, then tasks and commitments, then one ``reassigned`` timeline entry
    per customer and one audit row for the batch's counts. Only rows the departing person
    still holds are moved (locked first), so a resumed job moves nothing twice."""
    ws, from_id = ctx.workspace, ctx.from_user.pk
    want = defaultdict(lambda: defaultdict(list))  # kind -> owner -> ids
    for u, owner_id, work_id in batch:
        if u.account_id:
            want["accounts"][owner_id].append(u.account_id)
        want["contacts"][owner_id].extend(u.contact_ids)
        want["tasks"][work_id].extend(u.task_ids)
        want["commitments"][work_id].extend(u.commitment_ids)
    accounts, _unused = _move_customers(ctx, pool.ACCOUNT, want["accounts"])
    contacts_moved, individuals = _move_customers(ctx, pool.CONTACT, want["contacts"])
    tasks_moved, visit_tasks = _move_tasks(ctx, root, want["tasks"], receivers)
    commitments_moved = _move_commitments(ctx, root, want["commitments"], receivers)
    tally: dict[str, Counter] = defaultdict(Counter)
    for u, owner_id, work_id in batch:
        owner_key = POOL_TARGET if owner_id is None else str(owner_id)
        account_moved = u.account_id in accounts
        contacts = [c for c in u.contact_ids if c in contacts_moved]
        tasks = [t for t in u.task_ids if t in tasks_moved]
        commitments = [m for m in u.commitment_ids if m in commitments_moved]
        visits = sum(1 for t in tasks if t in visit_tasks)
        people = sum(1 for c in contacts if c in individuals)
        tally[owner_key].update(
            accounts=int(account_moved),
            contacts=len(contacts),
            customers=int(account_moved) + people,
        )
        tally[str(work_id)].update(
            tasks=len(tasks), visit_tasks=visits, commitments=len(commitments)
        )
        if not (account_moved or contacts or tasks or commitments) or u.key[0] not in "ac":
            continue
        owner = receivers.get(owner_id) if owner_id else None
        worker = receivers.get(work_id)
        if account_moved or contacts:
            to_name = owner.full_name if owner else str(_("Customer pool"))
        else:
            to_name = worker.full_name
        record_entry(
            workspace=ws,
            author=ctx.actor,
            kind=EntryKind.SYSTEM,
            subtype=SystemEvent.REASSIGNED,
            channel="system",
            account=u.key[1] if u.key[0] == "a" else None,
            contacts=contacts if u.key[0] == "a" else [u.key[1]],
            subject=f"{ctx.from_user.full_name} → {to_name}",
            data={
                "from": {"id": from_id, "name": ctx.from_user.full_name},
                "to": {"id": owner.pk, "name": owner.full_name} if owner else None,
                "work_to": {"id": worker.pk, "name": worker.full_name},
                "mode": ctx.mode,
                "job": root,
                "counts": {
                    "account": int(account_moved),
                    "contacts": len(contacts),
                    "tasks": len(tasks),
                    "visit_tasks": visits,
                    "commitments": len(commitments),
                },
                # Commitments keep their history: who promised them in the first place.
                "commitments_promised_by": {"id": from_id, "name": ctx.from_user.full_name}
                if commitments
                else None,
            },
        )
    tally = {k: {n: v for n, v in c.items() if v} for k, c in tally.items()}
    tally = {k: v for k, v in tally.items() if v}
    if tally:
        audit.log(
            actor=ctx.actor,
            workspace=ws,
            action=AuditAction.UPDATE,
            object_key=AUDIT_KEY,
            object_id=root,
            object_repr=str(ctx.from_user),
            changes={"moved": [None, tally]},
        )


def _move_customers(ctx: Context, object_key: str, by_owner: dict) -> tuple[set, set]:
    """Customers still owned by the departing person, moved through ``customer_assign``.
    Returns the ids moved, and (for contacts) those of them without an account."""
    model = pool.MODELS[object_key]
    all_ids = [pk for ids in by_owner.values() for pk in ids]
    still = (
        dict(
            model.objects.in_workspace(ctx.workspace)
            .select_for_update()
            .filter(pk__in=all_ids, owner_id=ctx.from_user.pk)
            .values_list("pk", "account_id" if object_key == pool.CONTACT else "pk")
        )
        if all_ids
        else {}
    )
    reason = str(_("Reassigned from %(name)s") % {"name": ctx.from_user.full_name})
    for owner_id, ids in by_owner.items():
        ids = [pk for pk in ids if pk in still]
        for start in range(0, len(ids), pool.MAX_ASSIGN):
            pool.customer_assign(
                actor=ctx.actor,
                workspace=ctx.workspace,
                object_key=object_key,
                record_ids=ids[start : start + pool.MAX_ASSIGN],
                owner_id=owner_id,
                reason=reason,
            )
    individuals = (
        {pk for pk, account_id in still.items() if account_id is None}
        if object_key == pool.CONTACT
        else set()
    )
    return set(still), individuals


def _bulk_audit(ctx: Context, object_key: str, field_name: str, rows, receivers, root) -> None:
    """One INSERT of per-row audit entries for a batch of tasks or commitments (the diff
    of the person field, old promiser included)."""
    from_ref = _user_ref(ctx.from_user)
    label = f"{ctx.actor.full_name} <{ctx.actor.email}>"
    AuditEntry.objects.bulk_create(
        AuditEntry(
            workspace_id=ctx.workspace.pk,
            actor=ctx.actor,
            actor_label=label,
            action=AuditAction.UPDATE,
            object_key=object_key,
            object_id=str(pk),
            object_repr=str(text)[:200],
            changes={
                field_name: [from_ref, _user_ref(receivers[to_id])],
                "reassignment": [None, root],
            },
        )
        for pk, text, to_id in rows
    )


def _move_tasks(ctx: Context, root: int, by_user: dict, receivers) -> tuple[set, set]:
    """Open tasks still assigned to the departing person; returns them and the visits."""
    all_ids = [pk for ids in by_user.values() for pk in ids]
    if not all_ids:
        return set(), set()
    qs = Task.objects.in_workspace(ctx.workspace)
    still = {
        pk: (title, kind)
        for pk, title, kind in qs.select_for_update()
        .filter(pk__in=all_ids, assignee_id=ctx.from_user.pk, status=TaskStatus.OPEN)
        .values_list("pk", "title", "kind")
    }
    rows = []
    now = timezone.now()
    for to_id, ids in by_user.items():
        ids = [pk for pk in ids if pk in still]
        if ids:
            qs.filter(pk__in=ids).update(assignee_id=to_id, updated_at=now)
            rows.extend((pk, still[pk][0], to_id) for pk in ids)
    _bulk_audit(ctx, TASK, "assignee", rows, receivers, root)
    return set(still), {pk for pk, (_t, kind) in still.items() if kind == TaskKind.VISIT}


def _move_commitments(ctx: Context, root: int, by_user: dict, receivers) -> set[int]:
    """Open commitments the departing person still carries; returns their ids."""
    all_ids = [pk for ids in by_user.values() for pk in ids]
    if not all_ids:
        return set()
    qs = Commitment.objects.in_workspace(ctx.workspace)
    still = dict(
        qs.select_for_update()
        .filter(pk__in=all_ids, promised_by_id=ctx.from_user.pk, status=CommitmentStatus.OPEN)
        .values_list("pk", "text")
    )
    rows = []
    now = timezone.now()
    for to_id, ids in by_user.items():
        ids = [pk for pk in ids if pk in still]
        if ids:
            qs.filter(pk__in=ids).update(promised_by_id=to_id, updated_at=now)
            rows.extend((pk, still[pk], to_id) for pk in ids)
    _bulk_audit(ctx, COMMITMENT, "promised_by", rows, receivers, root)
    return set(still)


# --- the end: totals, notifications, result -------------------------------------------------------


COUNT_NAMES = ("customers", "accounts", "contacts", "tasks", "visit_tasks", "commitments")


def _totals(workspace, root: int) -> dict[str, Counter]:
    """Counts per receiver (user id as text, or ``"pool"``) over every run of the
    reassignment, from its batches' audit rows."""
    totals: dict[str, Counter] = defaultdict(Counter)
    for changes in AuditEntry.objects.filter(
        workspace_id=getattr(workspace, "pk", workspace), object_key=AUDIT_KEY, object_id=str(root)
    ).values_list("changes", flat=True):
        for receiver, counts in (changes.get("moved") or [None, {}])[1].items():
            totals[receiver].update(counts)
    return totals


def _notify(ctx: Context, totals: dict[str, Counter], *, job_url: str) -> None:
    """An in-app notification to each person who received something, in their language."""
    ids = [int(k) for k in totals if k != POOL_TARGET]
    users = {u.pk: u for u in User.objects.filter(workspace=ctx.workspace, pk__in=ids)}
    name = ctx.from_user.full_name
    notes = []
    for pk, user in users.items():
        counts = totals[str(pk)]
        with translation.override(user.language or ctx.workspace.language):
            notes.append(
                Notification(
                    workspace_id=ctx.workspace.pk,
                    user=user,
                    title=_headline(counts, name)[:200],
                    body=_details(counts)[:500],
                    url=_landing_url(counts, pk, job_url),
                )
            )
    Notification.objects.bulk_create(notes)


def _landing_url(counts: Counter, user_id: int, job_url: str) -> str:
    """Where a receiver looks at what they got: their accounts, their contacts, or their
    tasks (the job page is for those who started it; a rep may not see it)."""
    if counts["accounts"]:
        return reverse("customers:account_list") + f"?f_owner={user_id}"
    if counts["contacts"]:
        return reverse("customers:contact_list") + f"?f_owner={user_id}"
    try:
        return reverse("activities:task_list")
    except NoReverseMatch:
        return job_url


def _headline(counts: Counter, name: str) -> str:
    if counts["customers"]:
        n = counts["customers"]
        return ngettext(
            "You received %(n)s customer from %(name)s",
            "You received %(n)s customers from %(name)s",
            n,
        ) % {"n": n, "name": name}
    if counts["tasks"]:
        n = counts["tasks"]
        return ngettext(
            "You received %(n)s open task from %(name)s",
            "You received %(n)s open tasks from %(name)s",
            n,
        ) % {"n": n, "name": name}
    n = counts["commitments"] + counts["contacts"]
    return ngettext(
        "You received %(n)s item from %(name)s", "You received %(n)s items from %(name)s", n
    ) % {"n": n, "name": name}


def _details(counts: Counter) -> str:
    parts = []
    if counts["contacts"]:
        parts.append(ngettext("%(n)s contact", "%(n)s contacts", counts["contacts"]))
    if counts["tasks"]:
        parts.append(ngettext("%(n)s open task", "%(n)s open tasks", counts["tasks"]))
    if counts["visit_tasks"]:
        parts.append(
            ngettext("%(n)s of them a visit", "%(n)s of them visits", counts["visit_tasks"])
        )
    if counts["commitments"]:
        parts.append(
            ngettext("%(n)s open commitment", "%(n)s open commitments", counts["commitments"])
        )
    values = [counts["contacts"], counts["tasks"], counts["visit_tasks"], counts["commitments"]]
    values = [v for v in values if v]
    return ", ".join(p % {"n": v} for p, v in zip(parts, values, strict=True))


def _result(ctx: Context, job: Job, totals: dict[str, Counter], *, deactivated: bool) -> dict:
    users = {
        u.pk: u
        for u in User.objects.filter(
            workspace=ctx.workspace, pk__in=[int(k) for k in totals if k != POOL_TARGET]
        )
    }
    receivers = []
    for key, counts in totals.items():
        user = users.get(int(key)) if key != POOL_TARGET else None
        receivers.append(
            {
                "user_id": user.pk if user else None,
                "name": user.full_name if user else "",
                **{n: counts.get(n, 0) for n in COUNT_NAMES},
            }
        )
    # People by name, the pool last.
    receivers.sort(key=lambda r: (r["user_id"] is None, r["name"]))
    grand = Counter()
    for counts in totals.values():
        grand.update(counts)
    return {
        "url": reverse("activities:reassign_job", args=[job.pk]),
        "label": str(_("See who received what")),
        "from": {"id": ctx.from_user.pk, "name": ctx.from_user.full_name},
        "mode": ctx.mode,
        "receivers": receivers,
        "totals": {n: grand.get(n, 0) for n in COUNT_NAMES},
        "deactivated": deactivated,
    }
