"""Routing: the queue a case joins (its own, its category's or the parent's, its language's,
the default), each method's choice of agent (round-robin, skills, load, manual) including
unavailable and over-capacity agents and ties, nobody available (the case waits in the
queue), the cases part's ``case_create`` calling it, and the hand-out of waiting cases when
an agent becomes available."""

from __future__ import annotations

import pytest
from django.db import transaction

from guanxi.activities.models import Notification
from guanxi.service.models import AgentStatus, CaseEvent, Queue, SkillKind
from guanxi.service.services import agents, routing
from guanxi.service.services import cases as case_services

from .assignment_support import *  # noqa: F403
from .assignment_support import (
    fault_type,
    make_agent,
    make_case,
    make_category,
    make_queue,
    open_cases,
    skill,
)

pytestmark = pytest.mark.django_db


def route(case):
    with transaction.atomic():
        routing.case_route(case, actor=None)
        case.save()
    return case


# --- the queue -----------------------------------------------------------------------------------


def test_queue_by_case_category_parent_language_then_default(service_ws):
    default = make_queue(service_ws, "默认", is_default=True)
    english = make_queue(service_ws, "English desk", languages=["en"])
    billing = make_queue(service_ws, "账务")
    own = make_queue(service_ws, "VIP")
    parent = make_category(service_ws, "账单", queue=billing)
    child = make_category(service_ws, "发票", parent=parent)
    no_queue = make_category(service_ws, "其他")

    assert routing.choose_queue(make_case(service_ws, queue=own, category=child)) == own
    assert routing.choose_queue(make_case(service_ws, category=parent)) == billing
    assert routing.choose_queue(make_case(service_ws, category=child)) == billing
    assert routing.choose_queue(make_case(service_ws, category=no_queue, language="en")) == english
    assert routing.choose_queue(make_case(service_ws, language="en-GB")) == english
    assert routing.choose_queue(make_case(service_ws, language="zh-hans")) == default
    assert routing.choose_queue(make_case(service_ws)) == default

    # An inactive queue is passed over (the default takes the case).
    Queue.objects.in_workspace(service_ws).filter(pk=billing.pk).update(active=False)
    assert routing.choose_queue(make_case(service_ws, category=child)) == default


def test_no_queue_at_all_leaves_the_case_alone(service_ws):
    case = route(make_case(service_ws))
    assert case.queue_id is None and case.assignee_id is None


def test_another_workspaces_queue_is_never_chosen(service_ws, other_workspace):
    from guanxi.service.services.case_types import service_setup

    service_setup(other_workspace)
    make_queue(other_workspace, "别家默认", is_default=True)
    assert routing.choose_queue(make_case(service_ws)) is None


# --- round-robin ----------------------------------------------------------------------------------


def test_round_robin_takes_turns_in_member_order(service_ws):
    a, b, c = (make_agent(service_ws, n) for n in ("A", "B", "C"))
    queue = make_queue(service_ws, "一线", members=[b, a, c], is_default=True)
    got = [route(make_case(service_ws)).assignee for _ in range(5)]
    assert got == [b, a, c, b, a]
    queue.refresh_from_db()
    assert queue.last_assigned == a


def test_round_robin_skips_unavailable_and_full_agents(service_ws):
    a = make_agent(service_ws, "A")
    busy = make_agent(service_ws, "Busy", status=AgentStatus.BUSY)
    full = make_agent(service_ws, "Full", max_open_cases=2)
    no_profile = make_agent(service_ws, "Gone")
    no_profile.service_profile.delete()
    c = make_agent(service_ws, "C")
    inactive = make_agent(service_ws, "Left")
    inactive.is_active = False
    inactive.save()
    open_cases(full, 2)
    make_queue(
        service_ws, "一线", members=[a, busy, full, no_profile, inactive, c], is_default=True
    )
    got = [route(make_case(service_ws)).assignee for _ in range(3)]
    assert got == [a, c, a]


def test_round_robin_after_a_member_who_left_the_queue_restarts(service_ws):
    a, b = make_agent(service_ws, "A"), make_agent(service_ws, "B")
    outsider = make_agent(service_ws, "X")
    queue = make_queue(service_ws, "一线", members=[a, b], is_default=True, last_assigned=outsider)
    assert route(make_case(service_ws)).assignee == a
    assert queue.pk


# --- skills -----------------------------------------------------------------------------------------


def test_skills_highest_sum_for_category_product_and_type(service_ws):
    from guanxi.sales.models import Product

    product = Product.objects.create(workspace=service_ws, code="P-1", name="激光打印机")
    parent = make_category(service_ws, "打印机")
    category = make_category(service_ws, "卡纸", parent=parent)
    novice, expert, generalist = (make_agent(service_ws, n) for n in ("新手", "专家", "通才"))
    skill(novice, SkillKind.CATEGORY, category.pk, 2)
    skill(expert, SkillKind.CATEGORY, parent.pk, 4)  # the parent counts
    skill(expert, SkillKind.PRODUCT, product.pk, 3)
    skill(generalist, SkillKind.CASE_TYPE, fault_type(service_ws).pk, 5)
    skill(generalist, SkillKind.PRODUCT, product.pk + 1000, 5)  # another product: no
    make_queue(
        service_ws, "技能", members=[novice, expert, generalist], method="skills", is_default=True
    )

    assert route(make_case(service_ws, category=category, product=product)).assignee == expert
    assert route(make_case(service_ws, category=category)).assignee == generalist
    # Scores 4 (expert: parent) vs 5 (generalist: type) vs 2 → the generalist.
    assert route(make_case(service_ws, category=parent)).assignee == generalist


def test_skills_ties_go_to_fewest_open_cases_then_queue_order(service_ws):
    category = make_category(service_ws, "网络")
    a, b, c = (make_agent(service_ws, n) for n in ("A", "B", "C"))
    for user in (a, b, c):
        skill(user, SkillKind.CATEGORY, category.pk, 3)
    open_cases(a, 2)
    open_cases(b, 1)
    open_cases(c, 1)
    make_queue(service_ws, "技能", members=[a, c, b], method="skills", is_default=True)
    assert route(make_case(service_ws, category=category)).assignee == c  # 1 open, first of c/b
    assert route(make_case(service_ws, category=category)).assignee == b  # now c has 2


def test_skills_agents_take_only_their_languages(service_ws):
    category = make_category(service_ws, "账单")
    chinese = make_agent(service_ws, "中文", languages=["zh"])
    english = make_agent(service_ws, "English", languages=["en"])
    anyone = make_agent(service_ws, "Any")
    skill(chinese, SkillKind.CATEGORY, category.pk, 5)
    skill(english, SkillKind.CATEGORY, category.pk, 4)
    make_queue(
        service_ws, "技能", members=[chinese, english, anyone], method="skills", is_default=True
    )
    assert route(make_case(service_ws, category=category, language="en")).assignee == english
    assert route(make_case(service_ws, category=category, language="zh-hans")).assignee == chinese
    assert route(make_case(service_ws, category=category)).assignee == chinese
    # Nobody who lists languages speaks Japanese: the agent who lists none takes it.
    assert route(make_case(service_ws, category=category, language="ja")).assignee == anyone


def test_skills_nobody_speaking_the_language_leaves_it_in_the_queue(service_ws):
    chinese = make_agent(service_ws, "中文", languages=["zh"])
    queue = make_queue(service_ws, "技能", members=[chinese], method="skills", is_default=True)
    case = route(make_case(service_ws, language="fr"))
    assert case.queue == queue and case.assignee is None


# --- load -------------------------------------------------------------------------------------------


def test_load_fewest_open_cases_ties_round_robin(service_ws):
    a, b, c = (make_agent(service_ws, n) for n in ("A", "B", "C"))
    full = make_agent(service_ws, "Full", max_open_cases=1)
    open_cases(full, 1)
    open_cases(a, 3)
    open_cases(b, 1)
    open_cases(c, 1)
    make_queue(service_ws, "负载", members=[a, b, c, full], method="load", is_default=True)
    got = [route(make_case(service_ws)).assignee for _ in range(4)]
    # b and c tie at 1 → b, then c (round-robin among ties); then b/c tie at 2 → b, then c…
    assert got == [b, c, b, c]
    # All at 3 now (a, b, c): round-robin after c → a.
    assert route(make_case(service_ws)).assignee == a


def test_closed_cases_do_not_count_as_load(service_ws):
    a, b = make_agent(service_ws, "A"), make_agent(service_ws, "B")
    for case in open_cases(a, 3):
        case.status = "closed"
        case.save()
    open_cases(b, 1)
    make_queue(service_ws, "负载", members=[a, b], method="load", is_default=True)
    assert route(make_case(service_ws)).assignee == a


# --- manual and nobody --------------------------------------------------------------------------------


def test_manual_queue_only(service_ws):
    a = make_agent(service_ws, "A")
    queue = make_queue(service_ws, "主管分配", members=[a], method="manual", is_default=True)
    case = route(make_case(service_ws))
    assert case.queue == queue and case.assignee is None


def test_nobody_available_the_case_waits_in_the_queue(service_ws):
    away = make_agent(service_ws, "Away", status=AgentStatus.AWAY)
    full = make_agent(service_ws, "Full", max_open_cases=0)
    queue = make_queue(service_ws, "一线", members=[away, full], is_default=True)
    case = route(make_case(service_ws))
    assert case.queue == queue and case.assignee is None
    assert list(routing.waiting_cases(workspace=service_ws, queue_ids=[queue.pk])) == [case]


# --- through the cases part ---------------------------------------------------------------------------


def test_case_create_routes_and_records_the_assignment(service_ws, manager, customer):
    a, b = make_agent(service_ws, "A"), make_agent(service_ws, "B")
    queue = make_queue(service_ws, "一线", members=[a, b], is_default=True)
    made = [
        case_services.case_create(
            actor=manager,
            workspace=service_ws,
            values={"case_type": fault_type(service_ws).pk, "subject": f"故障 {i}"},
            channel="phone",
            contact=customer,
            acknowledge=False,
        )
        for i in range(2)
    ]
    assert [c.assignee for c in made] == [a, b]
    assert all(c.queue == queue for c in made)
    event = CaseEvent.objects.in_workspace(service_ws).filter(case=made[0], kind="assigned").get()
    assert event.to_value == "A"
    assert Notification.objects.in_workspace(service_ws).filter(user=a).exists()


# --- hand-out -----------------------------------------------------------------------------------------------


def test_becoming_available_hands_out_waiting_cases_most_urgent_first(service_ws):
    agent = make_agent(service_ws, "A", status=AgentStatus.OFFLINE, max_open_cases=2)
    queue = make_queue(service_ws, "一线", members=[agent], is_default=True)
    manual = make_queue(service_ws, "手动", members=[agent], method="manual")
    low = route(make_case(service_ws, subject="低", priority=4))
    urgent = route(make_case(service_ws, subject="急", priority=1))
    normal = route(make_case(service_ws, subject="中", priority=3))
    by_hand = make_case(service_ws, subject="手动", queue=manual, priority=1)
    assert {c.queue for c in (low, urgent, normal)} == {queue}

    profile, handed = agents.agent_set_status(
        actor=agent, workspace=service_ws, status=AgentStatus.AVAILABLE
    )
    assert profile.status == "available" and profile.status_changed_at
    assert [c.subject for c in handed] == ["急", "中"]  # up to the most open cases (2)
    for case in (urgent, normal, low, by_hand):
        case.refresh_from_db()
    assert urgent.assignee == agent and normal.assignee == agent
    assert low.assignee is None and by_hand.assignee is None
    assert urgent.lock_version == 1
    event = CaseEvent.objects.in_workspace(service_ws).get(case=urgent, kind="assigned")
    assert event.actor is None and event.to_value == "A"
    assert Notification.objects.in_workspace(service_ws).filter(user=agent).count() == 2

    # Setting available again hands out nothing more (full); busy hands out nothing.
    _profile, handed = agents.agent_set_status(
        actor=agent, workspace=service_ws, status=AgentStatus.AVAILABLE
    )
    assert handed == []


def test_hand_out_shares_among_all_available_members(service_ws):
    a = make_agent(service_ws, "A", status=AgentStatus.OFFLINE)
    b = make_agent(service_ws, "B", status=AgentStatus.OFFLINE)
    make_queue(service_ws, "负载", members=[a, b], method="load", is_default=True)
    waiting = [route(make_case(service_ws, subject=f"等 {i}")) for i in range(4)]
    assert all(c.assignee is None for c in waiting)
    # A is available already (say since a moment ago); B's becoming available hands out
    # the waiting cases by the queue's method among both.
    a.service_profile.status = AgentStatus.AVAILABLE
    a.service_profile.save()
    _profile, handed = agents.agent_set_status(
        actor=b, workspace=service_ws, status=AgentStatus.AVAILABLE
    )
    assert len(handed) == 4
    for case in waiting:
        case.refresh_from_db()
    assert [c.assignee for c in waiting] == [a, b, a, b]
