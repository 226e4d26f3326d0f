"""The SLA sweep: a case is warned once and breached once per target (a second sweep finds
nothing), a breach found before its warning is not warned afterwards, paused and answered
cases are left alone, a reopened case is swept again with the time it had left (a breach
before its resolution is not marked twice), each escalation action (notify the assignee, the supervisor, a named
user; reassign to a user or to a queue; raise the priority one step, not past urgent), the
escalation level and events, batches, a crash between marking and escalating (the batch
rolls back and the re-run does it once), and the periodic task."""

from __future__ import annotations

import pytest
from django.db import transaction

from guanxi.activities.models import Notification
from guanxi.service.models import (
    AgentProfile,
    AgentStatus,
    Case,
    CaseEvent,
    EscalationRule,
    QueueMember,
    SlaPolicy,
)
from guanxi.service.services import sla as services
from guanxi.service.services import sla_clock

from .sla_support import *  # noqa: F403
from .sla_support import at, make_case

pytestmark = pytest.mark.django_db

MONDAY = at(2026, 3, 2, 9)


def events(case, kind=None):
    qs = CaseEvent.objects.in_workspace(case.workspace_id).filter(case=case)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("id").values_list("kind", "to_value"))


def notes_for(user):
    return list(
        Notification.objects.in_workspace(user.workspace_id)
        .filter(user=user)
        .order_by("id")
        .values_list("title", flat=True)
    )


def sweep(now, **kwargs):
    return services.sla_sweep(now=now, **kwargs)


def test_warned_once_then_breached_once(sla_ws, class_c, sla_agent, sla_queue, supervisor):
    # Class C, urgent: first response within 2 h (warned at 96 min), resolved within a day.
    case = make_case(
        sla_ws, now=MONDAY, priority=1, account=class_c, assignee=sla_agent, queue=sla_queue
    )
    assert sweep(at(2026, 3, 2, 10, 30))["response_warnings"] == 0
    counts = sweep(at(2026, 3, 2, 10, 40))
    assert counts["response_warnings"] == 1 and counts["escalations"] == 0
    case.refresh_from_db()
    assert case.response_warned_at == at(2026, 3, 2, 10, 40) and case.escalation_level == 0
    assert events(case) == [("sla_warning", "response")]
    assert notes_for(sla_agent) == [f"SLA warning: {case.number} 打印机不出纸"]
    assert notes_for(supervisor) == []  # the default warning rule tells the assignee only
    again = sweep(at(2026, 3, 2, 10, 50))
    assert again["response_warnings"] == 0 and again["response_breaches"] == 0

    counts = sweep(at(2026, 3, 2, 11, 1))
    assert counts["response_breaches"] == 1 and counts["escalations"] == 1
    case.refresh_from_db()
    assert case.response_breached_at == at(2026, 3, 2, 11, 1)
    assert case.response_warned_at == at(2026, 3, 2, 10, 40)  # kept
    assert case.escalation_level == 1
    assert [k for k, _v in events(case)] == ["sla_warning", "sla_breach", "escalated"]
    assert notes_for(supervisor) == [f"SLA breached: {case.number} 打印机不出纸"]
    assert len(notes_for(sla_agent)) == 2
    assert sweep(at(2026, 3, 2, 11, 30)) == {
        "response_warnings": 0,
        "resolution_warnings": 0,
        "response_breaches": 0,
        "resolution_breaches": 0,
        "escalations": 0,
    }
    assert len(events(case)) == 3


def test_a_breach_found_before_its_warning_is_not_warned_after(sla_ws, class_c, sla_agent):
    case = make_case(sla_ws, now=MONDAY, priority=1, account=class_c, assignee=sla_agent)
    counts = sweep(at(2026, 3, 2, 15))  # the sweep was down all morning
    assert counts["response_breaches"] == 1 and counts["response_warnings"] == 0
    case.refresh_from_db()
    assert case.response_warned_at == case.response_breached_at == at(2026, 3, 2, 15)
    assert sweep(at(2026, 3, 2, 15, 1))["response_warnings"] == 0
    assert events(case, "sla_warning") == []


def test_paused_answered_and_closed_cases_are_left_alone(sla_ws, class_c, sla_agent):
    waiting = make_case(sla_ws, now=MONDAY, priority=1, account=class_c, status="waiting")
    sla_clock.sla_pause(waiting, now=MONDAY)
    waiting.save()
    answered = make_case(sla_ws, now=MONDAY, priority=1, account=class_c)
    answered.first_response_at = at(2026, 3, 2, 9, 30)
    sla_clock.sla_first_response(answered, now=answered.first_response_at)
    answered.save()
    resolved = make_case(sla_ws, now=MONDAY, priority=1, account=class_c, status="resolved")
    counts = sweep(at(2026, 3, 2, 13, 40))  # past the response due, before the resolution warning
    assert counts["response_breaches"] == 0 and counts["response_warnings"] == 0
    for case in (waiting, answered, resolved):
        case.refresh_from_db()
        assert case.response_breached_at is None and case.response_warned_at is None
    # The answered case's resolution clock still runs: warned at 80 % of a day.
    counts = sweep(at(2026, 3, 2, 17, 30))
    assert counts["resolution_warnings"] == 1
    answered.refresh_from_db()
    assert answered.resolution_warned_at is not None
    waiting.refresh_from_db()
    assert waiting.resolution_warned_at is None


def _answered(case, instant):
    case.first_response_at = instant
    sla_clock.sla_first_response(case, now=instant)


def test_a_reopened_case_is_swept_again_with_the_time_it_had_left(sla_ws, class_c, sla_agent):
    # Class C, urgent: resolved within a day (450 minutes), warned at 360.
    case = make_case(sla_ws, now=MONDAY, priority=1, account=class_c, assignee=sla_agent)
    _answered(case, at(2026, 3, 2, 9, 30))
    case.status = "resolved"
    sla_clock.sla_stop(case, now=at(2026, 3, 2, 10))  # 60 minutes used
    case.save()
    assert sweep(at(2026, 3, 3, 17))["resolution_breaches"] == 0  # resolved: left alone
    case.status = "open"
    sla_clock.sla_reopen(case, now=at(2026, 3, 4, 9))
    case.save()
    # 300 more minutes to the warning (15:30 on Wednesday), 390 to the breach (17:00).
    assert sweep(at(2026, 3, 4, 15, 29))["resolution_warnings"] == 0
    assert sweep(at(2026, 3, 4, 15, 31))["resolution_warnings"] == 1
    assert sweep(at(2026, 3, 4, 16, 59))["resolution_breaches"] == 0
    assert sweep(at(2026, 3, 4, 17, 1))["resolution_breaches"] == 1
    assert [k for k, _v in events(case)] == ["sla_warning", "sla_breach", "escalated"]
    case.refresh_from_db()
    assert case.resolution_warned_at == at(2026, 3, 4, 15, 31)
    assert case.resolution_breached_at == at(2026, 3, 4, 17, 1)


def test_a_case_breached_before_its_resolution_is_not_breached_again_when_reopened(
    sla_ws, class_c, sla_agent
):
    case = make_case(sla_ws, now=MONDAY, priority=1, account=class_c, assignee=sla_agent)
    _answered(case, at(2026, 3, 2, 9, 30))
    case.save()
    assert sweep(at(2026, 3, 3, 9, 30))["resolution_breaches"] == 1
    case.refresh_from_db()
    case.status = "resolved"
    sla_clock.sla_stop(case, now=at(2026, 3, 3, 10))
    case.save()
    case.status = "open"
    sla_clock.sla_reopen(case, now=at(2026, 3, 4, 9))
    case.save()
    assert case.resolution_due_at == at(2026, 3, 4, 9)  # used up: due at once
    assert not any(sweep(at(2026, 3, 4, 9, 1)).values())
    assert [k for k, _v in events(case)] == ["sla_breach", "escalated"]


def _policy(ws, klass="C", priority=1) -> SlaPolicy:
    return SlaPolicy.objects.in_workspace(ws).get(customer_class=klass, priority=priority)


def test_notify_a_named_user(sla_ws, class_c, sla_manager, sla_agent):
    policy = _policy(sla_ws, "C", 3)
    EscalationRule.objects.in_workspace(sla_ws).filter(policy=policy).delete()
    services.escalation_rule_create(
        actor=sla_manager,
        workspace=sla_ws,
        policy_id=policy.pk,
        when="warning",
        target="resolution",
        action="notify",
        user_id=sla_manager.pk,
    )
    case = make_case(sla_ws, now=MONDAY, priority=3, account=class_c, assignee=sla_agent)
    sweep(at(2026, 3, 5, 17))  # past the response breach and the resolution warning
    case.refresh_from_db()
    assert case.resolution_warned_at and case.response_breached_at
    assert notes_for(sla_manager) == [f"SLA warning: {case.number} 打印机不出纸"]
    assert notes_for(sla_agent) == []  # no rule for it any more
    assert case.escalation_level == 0  # a warning that only notifies is not an escalation


def test_reassign_to_a_user(sla_ws, class_c, sla_manager, sla_agent, sla_agent2):
    policy = _policy(sla_ws)
    services.escalation_rule_create(
        actor=sla_manager,
        workspace=sla_ws,
        policy_id=policy.pk,
        when="breach",
        target="response",
        action="reassign",
        user_id=sla_agent2.pk,
    )
    case = make_case(sla_ws, now=MONDAY, priority=1, account=class_c, assignee=sla_agent)
    lock = case.lock_version
    sweep(at(2026, 3, 2, 11, 30))
    case.refresh_from_db()
    assert case.assignee == sla_agent2 and case.escalation_level == 1
    assert case.lock_version == lock + 1
    assigned = events(case, "assigned")
    assert assigned == [("assigned", "Agent Zhao")]
    assert f"Case escalated to you: {case.number} 打印机不出纸" in notes_for(sla_agent2)
    escalated = CaseEvent.objects.in_workspace(sla_ws).get(case=case, kind="escalated")
    assert "Reassign" in escalated.note and (escalated.from_value, escalated.to_value) == ("0", "1")


def test_reassign_to_a_queue_routes_to_its_agent(
    sla_ws, class_c, sla_manager, sla_agent, sla_agent2, sla_queue
):
    QueueMember.objects.create(workspace=sla_ws, queue=sla_queue, user=sla_agent2)
    AgentProfile.objects.create(workspace=sla_ws, user=sla_agent2, status=AgentStatus.AVAILABLE)
    policy = _policy(sla_ws)
    services.escalation_rule_create(
        actor=sla_manager,
        workspace=sla_ws,
        policy_id=policy.pk,
        when="warning",
        target="response",
        action="reassign",
        queue_id=sla_queue.pk,
    )
    case = make_case(sla_ws, now=MONDAY, priority=1, account=class_c, assignee=sla_agent)
    counts = sweep(at(2026, 3, 2, 10, 40))
    assert counts["response_warnings"] == 1 and counts["escalations"] == 1
    case.refresh_from_db()
    assert case.queue == sla_queue and case.assignee == sla_agent2
    assert case.escalation_level == 1  # a reassignment is an escalation, even at a warning


def test_raise_priority_one_step_and_due_times_follow(sla_ws, class_a, sla_agent):
    # Class A, normal (2 h / 2 d): the response breach raises the priority to high (1 h / 1 d).
    policy = _policy(sla_ws, "A", 3)
    assert (
        EscalationRule.objects.in_workspace(sla_ws)
        .filter(policy=policy, action="raise_priority")
        .exists()
    )
    case = make_case(sla_ws, now=MONDAY, priority=3, account=class_a, assignee=sla_agent)
    sweep(at(2026, 3, 2, 11, 5))
    case.refresh_from_db()
    assert case.priority == 2 and case.sla_policy == _policy(sla_ws, "A", 2)
    assert events(case, "priority") == [("priority", "2")]
    # 125 business minutes used of the new day: resolution due 325 minutes on.
    assert case.resolution_used_minutes == 125
    assert case.resolution_due_at == at(2026, 3, 2, 18, 0)
    # Urgent cases stay urgent.
    urgent = make_case(sla_ws, now=MONDAY, priority=1, account=class_a, assignee=sla_agent)
    sweep(at(2026, 3, 2, 9, 45))
    urgent.refresh_from_db()
    assert urgent.priority == 1 and urgent.response_breached_at is not None
    assert events(urgent, "priority") == []


def test_batches_and_every_workspace(sla_ws, class_c, other_workspace):
    from guanxi.service.services.case_types import service_setup

    cases = [make_case(sla_ws, now=MONDAY, priority=1, account=class_c) for _ in range(5)]
    service_setup(other_workspace)
    services.sla_setup(other_workspace)
    theirs = make_case(other_workspace, now=MONDAY, priority=1)
    counts = sweep(at(2026, 3, 2, 11, 30), batch=2)
    assert counts["response_breaches"] == 6
    assert Case.objects.in_workspace(sla_ws).filter(response_breached_at__isnull=False).count() == 5
    assert CaseEvent.objects.in_workspace(sla_ws).filter(kind="sla_breach").count() == 5
    theirs.refresh_from_db()
    assert theirs.response_breached_at is not None
    assert len(cases) == 5


def test_the_admins_trigger_sweeps_their_own_workspace(sla_ws, sla_admin, class_c, other_workspace):
    from guanxi.common.errors import PermissionDenied
    from guanxi.platform.tests.factories import UserFactory
    from guanxi.service.services.case_types import service_setup

    service_setup(other_workspace)
    # Opened in March 2025: long due by the real clock the trigger uses.
    theirs = make_case(other_workspace, now=at(2025, 3, 3, 9), priority=1)
    ours = make_case(sla_ws, now=at(2025, 3, 3, 9), priority=1, account=class_c)
    counts = services.sla_sweep_now(actor=sla_admin, workspace=sla_ws)
    assert counts["response_breaches"] == 1 and counts["resolution_breaches"] == 1
    ours.refresh_from_db()
    assert ours.response_breached_at is not None
    theirs.refresh_from_db()
    assert theirs.response_breached_at is None and theirs.response_warned_at is None
    agent = UserFactory(workspace=sla_ws, role_code="service_agent")
    with pytest.raises(PermissionDenied):
        services.sla_sweep_now(actor=agent, workspace=sla_ws)


def test_a_crash_between_marking_and_escalating_is_redone_once(sla_ws, class_c, sla_agent):
    case = make_case(sla_ws, now=MONDAY, priority=1, account=class_c, assignee=sla_agent)
    now = at(2026, 3, 2, 11, 30)
    with pytest.raises(RuntimeError), transaction.atomic():
        ids = services._mark(sla_ws.pk, "response", "breach", now, 100)
        assert ids == [case.pk]
        raise RuntimeError("the worker died")
    case.refresh_from_db()
    assert case.response_breached_at is None  # the mark went with the batch
    assert sweep(now)["response_breaches"] == 1
    assert sweep(now)["response_breaches"] == 0
    assert len(events(case, "sla_breach")) == 1 and len(notes_for(sla_agent)) == 1


def test_the_periodic_task_runs_the_sweep(sla_ws, class_c):
    from guanxi.service import sla_jobs

    make_case(sla_ws, now=at(2025, 3, 3, 9), priority=1, account=class_c)
    result = sla_jobs.sla_sweep_every_minute.call_local()
    assert result["response_breaches"] == 1 and result["resolution_breaches"] == 1
