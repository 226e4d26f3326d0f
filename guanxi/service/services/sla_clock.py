"""The SLA clock of a case (owned by the SLA part). The case services call these; each sets
fields on the given case in memory and the caller saves it in its transaction
(``SLA_FIELDS`` are the columns they may change).

- ``sla_start(case, *, now)``: pick the policy (the customer's class × the priority, the
  most specific active one), set ``sla_policy`` and the response/resolution due and
  warning times from its business calendar.
- ``sla_pause(case, *, now)``: the case waits on the customer: the business minutes used
  so far are kept (``*_used_minutes``) and ``sla_paused_at`` is set; the sweep leaves a
  paused case alone.
- ``sla_resume(case, *, now)``: the clock restarts: due and warning times are worked out
  again from ``now`` with the minutes that were left.
- ``sla_first_response(case, *, now)``: the first answer went out (the caller set
  ``first_response_at``): the business minutes it took are kept in
  ``response_used_minutes``, and a late answer the sweep had not yet seen is recorded as
  a breach (without escalation: it is answered).
- ``sla_reapply(case, *, now)``: priority or customer changed: pick the policy again,
  keeping the business time already used.
- ``sla_stop(case, *, now)``: the case is resolved: the business minutes used are kept
  (a pause still open is closed first, so the time spent waiting does not count) and a
  late resolution the sweep had not yet seen is recorded as a breach.
- ``sla_reopen(case, *, now)``: a resolved case is reopened: the clocks run again from
  ``now`` with the minutes that were left at its resolution (the time it spent resolved
  does not count), as after a pause.

The customer's class is the case's account's ``value_class``, else its contact's. A target
already used up gets a due time of ``now`` (the sweep marks it on its next run unless it
was marked before). Warnings and breaches, once marked, stay marked.
"""

from __future__ import annotations

import logging

from django.db.models import Q

from . import business_time

logger = logging.getLogger(__name__)

SLA_FIELDS = (
    "sla_policy",
    "response_due_at",
    "resolution_due_at",
    "response_warn_at",
    "resolution_warn_at",
    "sla_paused_at",
    "response_used_minutes",
    "resolution_used_minutes",
    "response_breached_at",
    "resolution_breached_at",
)

TARGETS = ("response", "resolution")
CLASSES = ("A", "B", "C")
# A case in one of these has its clocks stopped (``sla_stop``): its used minutes are kept.
STOPPED_STATUSES = ("resolved", "closed", "cancelled")


def customer_class(case) -> str:
    """The case's customer class: its account's value class, else its contact's ("" when
    neither is known or classified)."""
    if case.account_id:
        return (case.account.value_class or "").upper()
    if case.contact_id:
        return (case.contact.value_class or "").upper()
    return ""


def policy_for(*, workspace_id: int, customer_class: str, priority: int | None, policies=None):
    """The most specific active policy: class and priority, else class, else priority,
    else one for any case; None when none applies. One query (with the calendar), or none
    when ``policies`` (the workspace's active ones, loaded by the caller) are given."""
    from ..models import SlaPolicy

    klass = (customer_class or "").upper()
    classes = [klass, ""] if klass in CLASSES else [""]
    if policies is None:
        candidates = (
            SlaPolicy.objects.in_workspace(workspace_id)
            .filter(active=True, customer_class__in=classes)
            .filter(Q(priority=priority) | Q(priority__isnull=True))
            .select_related("calendar")
        )
    else:
        candidates = [
            p
            for p in policies
            if p.active
            and p.customer_class in classes
            and (p.priority is None or p.priority == priority)
        ]
    best, best_rank = None, -1
    for policy in candidates:
        rank = (2 if policy.customer_class else 0) + (1 if policy.priority is not None else 0)
        if rank > best_rank or (rank == best_rank and policy.pk < best.pk):
            best, best_rank = policy, rank
    return best


def _choose(case, policies=None):
    policy = policy_for(
        workspace_id=case.workspace_id,
        customer_class=customer_class(case),
        priority=case.priority,
        policies=policies,
    )
    if policy is None and policies is None:
        from ..models import WorkCalendar

        if not WorkCalendar.objects.in_workspace(case.workspace_id).exists():
            # A workspace's first case: it gets the default calendar and policies.
            from guanxi.platform.models import Workspace

            from .sla import sla_setup

            sla_setup(Workspace.objects.get(pk=case.workspace_id))
            policy = policy_for(
                workspace_id=case.workspace_id,
                customer_class=customer_class(case),
                priority=case.priority,
            )
    return policy


def _target(policy, target: str) -> int:
    return policy.first_response_minutes if target == "response" else policy.resolution_minutes


def _response_running(case) -> bool:
    return case.first_response_at is None


def _stopped(case) -> bool:
    """The clocks do not run: the case waits on the customer or is resolved (or over)."""
    return case.sla_paused_at is not None or case.status in STOPPED_STATUSES


def _used(calendar, case, policy, target: str, now) -> int:
    """Business minutes of ``target`` used by ``now``: the stored count while the clock is
    stopped, else the target less what is left until the due time (plus the overrun)."""
    if _stopped(case):
        return getattr(case, f"{target}_used_minutes")
    return _used_running(calendar, case, policy, target, now)


def _used_running(calendar, case, policy, target: str, now) -> int:
    due = getattr(case, f"{target}_due_at")
    if due is None:
        return getattr(case, f"{target}_used_minutes")
    full = _target(policy, target)
    if now <= due:
        return max(0, full - calendar.between(now, due))
    return full + calendar.between(due, now)


def _set_times(case, policy, calendar, now, used: dict[str, int]) -> None:
    """Due and warning times from ``now`` with ``used`` minutes of each target gone."""
    for target in TARGETS:
        if target == "response" and not _response_running(case):
            continue
        full = _target(policy, target)
        spent = used.get(target, 0)
        warn_at = max(1, full * policy.warn_at_percent // 100)
        due = calendar.add(now, full - spent) if spent < full else now
        warn = calendar.add(now, warn_at - spent) if spent < warn_at else now
        setattr(case, f"{target}_due_at", due)
        setattr(case, f"{target}_warn_at", warn)
        setattr(case, f"{target}_used_minutes", spent)


def _clear(case) -> None:
    case.sla_policy = None
    for target in TARGETS:
        if target == "response" and not _response_running(case):
            continue
        setattr(case, f"{target}_due_at", None)
        setattr(case, f"{target}_warn_at", None)


def _calendar(policy):
    return business_time.business_calendar(policy.calendar)


def sla_start(case, *, now) -> None:
    """Start the clocks of a new case."""
    policy = _choose(case)
    if policy is None:
        _clear(case)
        return
    case.sla_policy = policy
    case.sla_paused_at = None
    try:
        _set_times(case, policy, _calendar(policy), now, {"response": 0, "resolution": 0})
    except business_time.NoWorkingTime:
        logger.warning(
            "calendar %s has no working time; case %s not timed", policy.calendar_id, case.pk
        )
        _clear(case)


def sla_pause(case, *, now) -> None:
    """Stop the clocks (waiting on the customer), keeping the business minutes used."""
    if case.sla_policy_id is None or case.sla_paused_at is not None:
        return
    policy = case.sla_policy
    calendar = _calendar(policy)
    for target in TARGETS:
        if target == "response" and not _response_running(case):
            continue
        setattr(case, f"{target}_used_minutes", _used(calendar, case, policy, target, now))
    case.sla_paused_at = now


def sla_resume(case, *, now) -> None:
    """Restart the clocks after a pause, with the minutes that were left."""
    if case.sla_paused_at is None:
        return
    policy = case.sla_policy if case.sla_policy_id else None
    used = {t: getattr(case, f"{t}_used_minutes") for t in TARGETS}
    case.sla_paused_at = None
    if policy is None:
        return
    try:
        _set_times(case, policy, _calendar(policy), now, used)
    except business_time.NoWorkingTime:
        _clear(case)


def sla_first_response(case, *, now) -> None:
    """The first answer went out: keep the business minutes it took; a late one the sweep
    had not marked yet is recorded as a breach (nothing escalates: it is answered)."""
    if case.sla_policy_id is None:
        return
    policy = case.sla_policy
    if _stopped(case):
        used = case.response_used_minutes
    elif case.response_due_at is None:
        return
    else:
        due = case.response_due_at
        calendar = _calendar(policy)
        full = policy.first_response_minutes
        used = (
            max(0, full - calendar.between(now, due))
            if now <= due
            else full + calendar.between(due, now)
        )
    case.response_used_minutes = used
    if used > policy.first_response_minutes and case.response_breached_at is None:
        case.response_breached_at = now


def sla_reapply(case, *, now, policies=None) -> None:
    """Priority or customer changed: choose the policy again and work the due times out
    again, keeping the business minutes already used (from the case's opening when it had
    no policy before). ``policies``: the workspace's active policies when the caller (the
    sweep) has them loaded already."""
    old = case.sla_policy if case.sla_policy_id else None
    new = _choose(case, policies)
    used: dict[str, int] = {}
    if old is not None:
        calendar = _calendar(old)
        for target in TARGETS:
            used[target] = _used(calendar, case, old, target, now)
    elif new is not None and case.created_at is not None:
        stop = case.sla_paused_at or (case.resolved_at if _stopped(case) else None) or now
        spent = business_time.business_minutes_between(new.calendar, case.created_at, stop)
        used = {"response": spent, "resolution": spent}
    if new is None:
        _clear(case)
        return
    case.sla_policy = new
    if _stopped(case):
        for target in TARGETS:
            if target == "response" and not _response_running(case):
                continue
            setattr(case, f"{target}_used_minutes", used.get(target, 0))
        return
    try:
        _set_times(case, new, _calendar(new), now, used)
    except business_time.NoWorkingTime:
        _clear(case)


def sla_stop(case, *, now) -> None:
    """The case is resolved (the caller set its status): the clocks stop. The business
    minutes each running target used are kept; a pause still open is closed first (its due
    times worked out again from ``now``, so the time spent waiting does not count and a
    resolution within the minutes left is on time); a late resolution the sweep had not
    marked yet is recorded as a breach (nothing escalates: it is resolved)."""
    if case.sla_paused_at is not None:
        # The minutes used are those kept at the pause.
        sla_resume(case, now=now)
    elif case.sla_policy_id is not None:
        policy = case.sla_policy
        calendar = _calendar(policy)
        for target in TARGETS:
            if target == "response" and not _response_running(case):
                continue
            used = _used_running(calendar, case, policy, target, now)
            setattr(case, f"{target}_used_minutes", used)
    if case.sla_policy_id is None:
        return
    policy = case.sla_policy
    if case.resolution_used_minutes > policy.resolution_minutes and (
        case.resolution_breached_at is None
    ):
        case.resolution_breached_at = now


def sla_reopen(case, *, now) -> None:
    """A resolved case is reopened (the caller set its status back to open): the clocks run
    again from ``now`` with the minutes that were left when it was resolved, under the
    same policy. Warnings and breaches already marked stay marked: a target used up gets a
    due time of ``now``, and the sweep warns and breaches what is still to come."""
    case.sla_paused_at = None
    if case.sla_policy_id is None:
        return
    policy = case.sla_policy
    used = {t: getattr(case, f"{t}_used_minutes") for t in TARGETS}
    try:
        _set_times(case, policy, _calendar(policy), now, used)
    except business_time.NoWorkingTime:
        _clear(case)
