"""The assignment pages: queues and agents setup, the supervisor's board (assign by picking),
my availability (page, top-bar toggle), the dispatch panel of a case and a technician's
visits. Each keeps a fixed number of queries as the data grows; another workspace's rows
are 404 and users without the right 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import AgentSkill, Case, Dispatch, Queue, SkillKind
from guanxi.service.services import dispatch

from .assignment_support import *  # noqa: F403
from .assignment_support import (
    client_for,
    make_agent,
    make_case,
    make_category,
    make_queue,
    open_cases,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def queries(client, url) -> tuple[int, str]:
    client.get(url)  # warm caches (navigation, content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx), response.content.decode()


# --- queues ------------------------------------------------------------------------------------


def test_queues_list_create_edit_delete(service_ws, manager):
    client = client_for(manager)
    a, b = make_agent(service_ws, "坐席甲"), make_agent(service_ws, "坐席乙")
    make_queue(service_ws, "一线", members=[a])
    small, html = queries(client, "/service/queues/")
    assert "一线" in html and "坐席甲" in html and "Add a queue" in html
    for i in range(6):
        make_queue(service_ws, f"队列{i}", members=[a, b], supervisor=manager)
    large, html = queries(client, "/service/queues/")
    assert large == small and "队列5" in html

    response = client.post(
        "/service/queues/",
        {"name": "", "method": "round_robin", "member_ids": [str(b.pk), str(a.pk)]},
    )
    assert response.status_code == 200 and "Give the queue a name." in response.content.decode()
    response = client.post(
        "/service/queues/",
        {
            "name": "二线",
            "method": "load",
            "member_ids": [str(b.pk), str(a.pk)],
            "languages": "zh, en",
            "is_default": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302
    queue = Queue.objects.in_workspace(service_ws).get(name="二线")
    assert queue.method == "load" and queue.is_default and queue.languages == ["zh", "en"]
    assert [m.user_id for m in queue.members.order_by("position")] == [b.pk, a.pk]

    page = client.get(f"/service/queues/{queue.pk}/").content.decode()
    assert 'value="二线"' in page
    response = client.post(
        f"/service/queues/{queue.pk}/",
        {"name": "二线支持", "method": "manual", "member_ids": [str(a.pk)], "active": "on"},
    )
    assert response.status_code == 302
    queue.refresh_from_db()
    assert queue.name == "二线支持" and queue.method == "manual" and not queue.is_default
    response = client.post(f"/service/queues/{queue.pk}/", {"op": "delete"})
    assert response.status_code == 302
    assert not Queue.objects.in_workspace(service_ws).filter(pk=queue.pk).exists()


def test_queue_pages_rights_and_tenancy(service_ws, manager, nobody, other_admin):
    queue = make_queue(service_ws, "一线")
    agent = make_agent(service_ws, "坐席")
    page = client_for(agent).get("/service/queues/")
    assert page.status_code == 200 and "Add a queue" not in page.content.decode()
    assert client_for(agent).post("/service/queues/", {"name": "x"}).status_code == 403
    assert (
        client_for(agent).post(f"/service/queues/{queue.pk}/", {"op": "delete"}).status_code == 403
    )
    assert client_for(nobody).get("/service/queues/").status_code == 403
    assert client_for(nobody).get(f"/service/queues/{queue.pk}/").status_code == 404
    other = client_for(other_admin)
    assert other.get(f"/service/queues/{queue.pk}/").status_code == 404
    assert other.post(f"/service/queues/{queue.pk}/", {"op": "delete"}).status_code == 404
    assert Queue.objects.in_workspace(service_ws).filter(pk=queue.pk).exists()


# --- agents -------------------------------------------------------------------------------------


def test_agents_list_and_edit(service_ws, manager):
    client = client_for(manager)
    category = make_category(service_ws, "网络故障")
    user = make_agent(service_ws, "坐席甲")
    first = make_agent(service_ws, "坐席零")
    AgentSkill.objects.create(
        workspace=service_ws,
        agent=first.service_profile,
        kind=SkillKind.CATEGORY,
        object_id=category.pk,
        level=2,
    )
    open_cases(user, 2)
    small, html = queries(client, "/service/agents/")
    assert "坐席甲" in html and "Available" in html
    for i in range(5):
        extra = make_agent(service_ws, f"坐席{i}")
        AgentSkill.objects.create(
            workspace=service_ws,
            agent=extra.service_profile,
            kind=SkillKind.CATEGORY,
            object_id=category.pk,
            level=4,
        )
        open_cases(extra, 1)
    large, html = queries(client, "/service/agents/")
    assert large == small and "网络故障 (4)" in html

    url = f"/service/agents/{user.pk}/"
    _queries, html = queries(client, url)
    assert "网络故障" in html  # offered as a skill
    response = client.post(
        url,
        {
            "op": "profile",
            "languages": "zh, en",
            "max_open_cases": "10",
            "phone_extension": "8008",
            "is_technician": "on",
            "home_latitude": "31.2",
            "home_longitude": "121.4",
            "regions": "华东",
            "max_visits_per_day": "4",
        },
    )
    assert response.status_code == 302
    profile = user.service_profile
    profile.refresh_from_db()
    assert profile.is_technician and profile.phone_extension == "8008"
    response = client.post(url, {"op": "profile", "max_open_cases": "-3", "home_latitude": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "from 0 to 10000" in html
    response = client.post(url, {"op": "skill", "skill": f"category:{category.pk}", "level": "5"})
    assert response.status_code == 302
    skill = AgentSkill.objects.in_workspace(service_ws).get(agent=profile)
    assert skill.level == 5
    response = client.post(url, {"op": "status", "status": "away"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.status == "away"
    client.post(url, {"op": "skill_delete", "skill_id": skill.pk})
    assert not AgentSkill.objects.in_workspace(service_ws).filter(pk=skill.pk).exists()


def test_agent_pages_rights_and_tenancy(service_ws, nobody, other_admin):
    user = make_agent(service_ws, "坐席")
    agent = make_agent(service_ws, "另一坐席")
    assert client_for(agent).get(f"/service/agents/{user.pk}/").status_code == 200
    response = client_for(agent).post(
        f"/service/agents/{user.pk}/", {"op": "status", "status": "busy"}
    )
    assert response.status_code == 403
    assert client_for(nobody).get("/service/agents/").status_code == 403
    assert client_for(nobody).get(f"/service/agents/{user.pk}/").status_code == 403
    assert client_for(other_admin).get(f"/service/agents/{user.pk}/").status_code == 404
    response = client_for(other_admin).post(
        f"/service/agents/{user.pk}/", {"op": "status", "status": "busy"}
    )
    assert response.status_code == 404
    user.service_profile.refresh_from_db()
    assert user.service_profile.status == "available"


# --- the supervisor's board ------------------------------------------------------------------------


def test_board_shows_waiting_cases_and_assigns_by_picking(service_ws, manager):
    client = client_for(manager)
    a, b = make_agent(service_ws, "坐席甲"), make_agent(service_ws, "坐席乙")
    open_cases(b, 3)
    queue = make_queue(service_ws, "一线", members=[a, b], method="manual")
    make_queue(service_ws, "二线")
    waiting = make_case(service_ws, subject="等待处理", queue=queue, priority=1)
    make_case(service_ws, subject="已分配", queue=queue, assignee=a)
    url = f"/service/board/?queue={queue.pk}"
    small, html = queries(client, url)
    assert "等待处理" in html and "已分配" not in html and "坐席乙" in html
    assert "3 open" in html
    for i in range(8):
        make_case(service_ws, subject=f"又一个 {i}", queue=queue, account=None)
    large, html = queries(client, url)
    assert large == small and "又一个 7" in html

    response = client.post(
        f"/service/board/{queue.pk}/assign/",
        {"case_id": waiting.pk, "assignee_id": b.pk},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="board"' in html and "等待处理" not in html and "4 open" in html
    waiting.refresh_from_db()
    assert waiting.assignee == b and waiting.queue == queue


def test_board_rights(service_ws, manager, nobody, other_admin):
    supervisor = make_agent(service_ws, "组长")
    plain = make_agent(service_ws, "坐席")
    mine = make_queue(service_ws, "组长的队列", members=[plain], supervisor=supervisor)
    theirs = make_queue(service_ws, "别的队列", members=[plain])
    case = make_case(service_ws, subject="等待", queue=theirs)
    client = client_for(supervisor)
    html = client.get("/service/board/").content.decode()
    assert "组长的队列" in html and "别的队列" not in html
    assert client.get(f"/service/board/?queue={theirs.pk}").status_code == 404
    response = client.post(
        f"/service/board/{theirs.pk}/assign/", {"case_id": case.pk, "assignee_id": plain.pk}
    )
    assert response.status_code == 404
    assert client_for(plain).get("/service/board/").status_code == 403
    assert client_for(nobody).get("/service/board/").status_code == 403
    other = client_for(other_admin)
    assert other.get(f"/service/board/?queue={mine.pk}").status_code in (403, 404)
    response = other.post(
        f"/service/board/{mine.pk}/assign/", {"case_id": case.pk, "assignee_id": plain.pk}
    )
    assert response.status_code in (403, 404)
    case.refresh_from_db()
    assert case.assignee is None


# --- availability -------------------------------------------------------------------------------------


def test_availability_page_widget_and_toggle(service_ws, nobody):
    agent = make_agent(service_ws, "坐席", status="offline")
    queue = make_queue(service_ws, "一线", members=[agent], is_default=True)
    waiting = make_case(service_ws, subject="等人", queue=queue)
    client = client_for(agent)
    home = client.get("/").content.decode()
    assert "/service/availability/widget/" in home
    widget = client.get("/service/availability/widget/").content.decode()
    assert 'value="offline" selected' in widget
    response = client.post("/service/availability/", {"status": "available"}, headers=HTMX)
    assert response.status_code == 200
    assert 'value="available" selected' in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.assignee == agent
    page = client.get("/service/availability/").content.decode()
    assert 'aria-pressed="true"' in page and "Available" in page
    response = client.post("/service/availability/", {"status": "busy"})
    assert response.status_code == 302
    agent.service_profile.refresh_from_db()
    assert agent.service_profile.status == "busy"
    response = client.post("/service/availability/", {"status": "sleeping"}, headers=HTMX)
    assert response.status_code == 400

    other = client_for(nobody)
    assert "/service/availability/widget/" not in other.get("/").content.decode()
    assert other.get("/service/availability/widget/").content == b""
    assert other.get("/service/availability/").status_code == 403
    assert other.post("/service/availability/", {"status": "available"}).status_code == 403
    assert not Case.objects.in_workspace(service_ws).filter(assignee=nobody).exists()


# --- dispatch ----------------------------------------------------------------------------------------------


def _tech(workspace, name):
    return make_agent(
        workspace,
        name,
        role="technician",
        is_technician=True,
        home_latitude="31.2",
        home_longitude="121.5",
    )


def test_dispatch_panel_suggests_and_dispatches(service_ws, customer):
    # Agents dispatch (and see every dispatch); managers see their teams'.
    client = client_for(make_agent(service_ws, "调度员"))
    _tech(service_ws, "师傅甲")
    tech = _tech(service_ws, "师傅乙")
    case = make_case(service_ws, subject="上门修理", contact=customer, account=customer.account)
    url = f"/service/cases/{case.pk}/dispatch/"
    small, html = queries(client, url)
    assert 'id="dispatch-panel"' in html and "师傅甲" in html and "km from home" in html
    for i in range(4):
        _tech(service_ws, f"师傅{i}")
    large, _html = queries(client, url)
    assert large == small

    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = client.post(
        url,
        {"technician_id": tech.pk, "starts_at": f"{day}T10:00", "ends_at": f"{day}T09:00"},
        headers=HTMX,
    )
    assert (
        response.status_code == 200 and "The end is before the start." in response.content.decode()
    )
    response = client.post(
        url,
        {"technician_id": tech.pk, "starts_at": f"{day}T10:00", "ends_at": f"{day}T12:00"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Technician dispatched." in html
    made = Dispatch.objects.in_workspace(service_ws).get(case=case)
    assert made.technician == tech and made.task.kind == "visit"
    assert "师傅乙" in html and "Cancel the visit" in html

    response = client.post(f"/service/dispatches/{made.pk}/cancel/", {"from": "case"}, headers=HTMX)
    assert response.status_code == 200 and 'id="dispatch-panel"' in response.content.decode()
    made.refresh_from_db()
    assert made.status == "cancelled"


def test_dispatch_panel_rights_and_tenancy(service_ws, manager, customer, nobody, other_admin):
    tech = _tech(service_ws, "师傅")
    case = make_case(service_ws, subject="上门", contact=customer)
    url = f"/service/cases/{case.pk}/dispatch/"
    # A sales rep reads cases but may not send technicians: the panel has no form.
    rep = UserFactory(workspace=service_ws, role_code="sales_rep")
    html = client_for(rep).get(url).content.decode()
    assert 'id="dispatch-panel"' in html and "Send a technician" not in html
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    form = {"technician_id": tech.pk, "starts_at": f"{day}T10:00", "ends_at": f"{day}T11:00"}
    assert client_for(rep).post(url, form).status_code == 403
    assert client_for(nobody).get(url).status_code in (403, 404)
    assert client_for(other_admin).get(url).status_code == 404
    assert client_for(other_admin).post(url, form).status_code == 404
    assert not Dispatch.objects.in_workspace(service_ws).exists()


def test_technicians_list_and_complete(service_ws, manager, customer, nobody, other_admin):
    tech = _tech(service_ws, "师傅")
    other_tech = _tech(service_ws, "别的师傅")
    case = make_case(service_ws, subject="上门修理", contact=customer)
    start = timezone.now() + dt.timedelta(days=1)
    mine = dispatch.dispatch_create(
        actor=manager,
        workspace=service_ws,
        case_id=case.pk,
        technician_id=tech.pk,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    client = client_for(tech)
    small, html = queries(client, "/service/dispatches/")
    assert case.number in html and "南京西路" in html
    for i in range(3):
        s = start + dt.timedelta(hours=2 + i)
        dispatch.dispatch_create(
            actor=manager,
            workspace=service_ws,
            case_id=case.pk,
            technician_id=tech.pk,
            starts_at=s,
            ends_at=s + dt.timedelta(hours=1),
        )
    large, _html = queries(client, "/service/dispatches/")
    assert large == small
    assert case.number not in client_for(other_tech).get("/service/dispatches/").content.decode()
    response = client_for(other_tech).post(
        f"/service/dispatches/{mine.pk}/complete/", {"report": "x"}
    )
    assert response.status_code == 404
    assert (
        client_for(other_admin)
        .post(f"/service/dispatches/{mine.pk}/complete/", {"report": "x"})
        .status_code
        == 404
    )
    assert client_for(nobody).get("/service/dispatches/").status_code == 403
    response = client.post(f"/service/dispatches/{mine.pk}/complete/", {"report": "修好了"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == "done" and mine.report == "修好了"
