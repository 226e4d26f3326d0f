"""Queue and agent services: create/change/delete queues with their members in order, one
default queue, bad input refused with every field named and nothing written; agent profiles,
skills and availability (own and others'); other workspaces' rows are not found and users
without the right are refused."""

from __future__ import annotations

import pytest

from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import AgentProfile, AgentSkill, Queue, QueueMember, SkillKind
from guanxi.service.services import agents, queues

from .assignment_support import *  # noqa: F403
from .assignment_support import fault_type, make_agent, make_category

pytestmark = pytest.mark.django_db


def members(queue) -> list[str]:
    return [
        m.user.full_name
        for m in QueueMember.objects.in_workspace(queue.workspace_id)
        .filter(queue=queue)
        .select_related("user")
        .order_by("position")
    ]


def test_queue_create_update_members_default_and_delete(service_ws, manager):
    a, b, c = (make_agent(service_ws, n) for n in ("A", "B", "C"))
    first = queues.queue_create(
        actor=manager,
        workspace=service_ws,
        name="一线",
        method="round_robin",
        supervisor_id=manager.pk,
        languages="zh, EN",
        is_default=True,
        member_ids=[c.pk, a.pk],
    )
    assert members(first) == ["C", "A"]
    assert first.languages == ["zh", "en"] and first.supervisor == manager and first.is_default
    second = queues.queue_create(
        actor=manager, workspace=service_ws, name="二线", is_default=True, member_ids=[b.pk]
    )
    first.refresh_from_db()
    assert second.is_default and not first.is_default

    Queue.objects.in_workspace(service_ws).filter(pk=first.pk).update(last_assigned=c)
    queues.queue_update(
        actor=manager,
        workspace=service_ws,
        queue_id=first.pk,
        member_ids=[a.pk, b.pk],
        method="skills",
    )
    first.refresh_from_db()
    assert members(first) == ["A", "B"] and first.method == "skills"
    assert first.last_assigned is None  # C left: the round starts again
    assert first.name == "一线"  # untouched
    assert AuditEntry.objects.filter(
        workspace=service_ws, object_id=first.pk, action="update"
    ).exists()

    queues.queue_delete(actor=manager, workspace=service_ws, queue_id=first.pk)
    assert not Queue.objects.in_workspace(service_ws).filter(pk=first.pk).exists()


def test_queue_bad_input_names_every_field_and_writes_nothing(service_ws, manager, other_admin):
    queues.queue_create(actor=manager, workspace=service_ws, name="一线")
    with pytest.raises(ApplicationError) as exc:
        queues.queue_create(
            actor=manager,
            workspace=service_ws,
            name="一线",
            method="lottery",
            languages=["中文"],
            member_ids=[other_admin.pk],
            supervisor_id=other_admin.pk,
        )
    assert set(exc.value.fields) == {"name", "method", "languages", "members", "supervisor"}
    with pytest.raises(ApplicationError) as exc:
        queues.queue_create(actor=manager, workspace=service_ws, name="  ")
    assert "name" in exc.value.fields
    assert Queue.objects.in_workspace(service_ws).count() == 1


def test_queue_rights_and_tenancy(service_ws, manager, nobody, other_admin):
    agent = make_agent(service_ws, "坐席")
    queue = queues.queue_create(actor=manager, workspace=service_ws, name="一线")
    for actor in (nobody, agent):  # agents read the configuration, they do not change it
        with pytest.raises(PermissionDenied):
            queues.queue_create(actor=actor, workspace=service_ws, name="x")
        with pytest.raises(PermissionDenied):
            queues.queue_update(actor=actor, workspace=service_ws, queue_id=queue.pk, name="y")
        with pytest.raises(PermissionDenied):
            queues.queue_delete(actor=actor, workspace=service_ws, queue_id=queue.pk)
    with pytest.raises(NotFound):
        queues.queue_update(
            actor=other_admin, workspace=other_admin.workspace, queue_id=queue.pk, name="z"
        )
    with pytest.raises(NotFound):
        queues.queue_delete(actor=other_admin, workspace=other_admin.workspace, queue_id=queue.pk)
    queue.refresh_from_db()
    assert queue.name == "一线"


def test_agent_profile_save_and_validation(service_ws, manager, other_admin):
    user = UserFactory(workspace=service_ws, role_code="technician", full_name="师傅")
    profile = agents.agent_profile_save(
        actor=manager,
        workspace=service_ws,
        user_id=user.pk,
        languages=["zh", "en"],
        max_open_cases="12",
        phone_extension="8001",
        is_technician=True,
        home_latitude="31.2",
        home_longitude="121.5",
        regions="华东, 上海",
        max_visits_per_day=6,
    )
    assert profile.is_technician and profile.regions == ["华东", "上海"]
    assert float(profile.home_latitude) == 31.2 and profile.max_open_cases == 12
    # Only the fields given change.
    agents.agent_profile_save(
        actor=manager, workspace=service_ws, user_id=user.pk, max_visits_per_day=3
    )
    profile.refresh_from_db()
    assert profile.max_visits_per_day == 3 and profile.phone_extension == "8001"

    other = make_agent(service_ws, "坐席")
    with pytest.raises(ApplicationError) as exc:
        agents.agent_profile_save(
            actor=manager,
            workspace=service_ws,
            user_id=other.pk,
            phone_extension="8001",
            max_open_cases=-1,
            home_latitude="91",
            home_longitude="0",
            languages="??",
        )
    assert set(exc.value.fields) >= {
        "phone_extension",
        "max_open_cases",
        "home_latitude",
        "languages",
    }
    with pytest.raises(NotFound):
        agents.agent_profile_save(actor=manager, workspace=service_ws, user_id=other_admin.pk)
    assert not AgentProfile.objects.in_workspace(other_admin.workspace).exists()


def test_skills_set_change_and_remove(service_ws, manager, other_admin):
    from guanxi.service.services.case_types import service_setup

    user = UserFactory(workspace=service_ws, role_code="service_agent")
    category = make_category(service_ws, "网络")
    skill = agents.agent_skill_set(
        actor=manager, workspace=service_ws, user_id=user.pk, kind="category", object_id=category.pk
    )
    assert skill.level == 3 and user.service_profile  # the profile was made
    again = agents.agent_skill_set(
        actor=manager,
        workspace=service_ws,
        user_id=user.pk,
        kind="category",
        object_id=category.pk,
        level=5,
    )
    assert again.pk == skill.pk and again.level == 5
    agents.agent_skill_set(
        actor=manager,
        workspace=service_ws,
        user_id=user.pk,
        kind=SkillKind.CASE_TYPE,
        object_id=fault_type(service_ws).pk,
        level=1,
    )
    # Another workspace's category, an unknown kind, a level of 6: refused.
    service_setup(other_admin.workspace)
    foreign = make_category(other_admin.workspace, "别家")
    for kind, object_id, level, field in (
        ("category", foreign.pk, 3, "object_id"),
        ("mood", category.pk, 3, "kind"),
        ("category", category.pk, 6, "level"),
        ("product", 10**9, 3, "object_id"),
    ):
        with pytest.raises(ApplicationError) as exc:
            agents.agent_skill_set(
                actor=manager,
                workspace=service_ws,
                user_id=user.pk,
                kind=kind,
                object_id=object_id,
                level=level,
            )
        assert field in exc.value.fields
    assert AgentSkill.objects.in_workspace(service_ws).count() == 2
    with pytest.raises(NotFound):
        agents.agent_skill_delete(
            actor=other_admin, workspace=other_admin.workspace, user_id=user.pk, skill_id=skill.pk
        )
    agents.agent_skill_delete(
        actor=manager, workspace=service_ws, user_id=user.pk, skill_id=skill.pk
    )
    assert AgentSkill.objects.in_workspace(service_ws).count() == 1


def test_availability_own_and_others(service_ws, manager, nobody, other_admin):
    agent = UserFactory(workspace=service_ws, role_code="service_agent")
    tech = UserFactory(workspace=service_ws, role_code="technician")
    profile, handed = agents.agent_set_status(actor=agent, workspace=service_ws, status="busy")
    assert profile.status == "busy" and handed == []  # made on the first toggle
    assert (
        agents.agent_set_status(actor=tech, workspace=service_ws, status="away")[0].status == "away"
    )
    # A supervisor sets anyone's; an agent may not set another's; nobody may not set theirs.
    agents.agent_set_status(actor=manager, workspace=service_ws, user_id=agent.pk, status="offline")
    profile.refresh_from_db()
    assert profile.status == "offline"
    with pytest.raises(PermissionDenied):
        agents.agent_set_status(actor=agent, workspace=service_ws, user_id=tech.pk, status="busy")
    with pytest.raises(PermissionDenied):
        agents.agent_set_status(actor=nobody, workspace=service_ws, status="available")
    with pytest.raises(ApplicationError) as exc:
        agents.agent_set_status(actor=agent, workspace=service_ws, status="asleep")
    assert "status" in exc.value.fields
    with pytest.raises(NotFound):
        agents.agent_set_status(
            actor=other_admin, workspace=other_admin.workspace, user_id=agent.pk, status="busy"
        )
