"""The assignment API: queues (CRUD), agents (profile, skills, availability), one's own
availability, dispatch suggest/create/list/complete/cancel; bad input answered with the
error shape and nothing written; another workspace's ids are 404, users without the right
403, a double booking 409."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.platform.tests.test_api_support import assert_error
from guanxi.service.models import Dispatch, Queue

from .assignment_support import *  # noqa: F403
from .assignment_support import api_for, make_agent, make_case, make_category, make_queue

pytestmark = pytest.mark.django_db


def test_queues_crud(service_ws, manager):
    api = api_for(manager)
    a, b = make_agent(service_ws, "坐席甲"), make_agent(service_ws, "坐席乙")
    response = api.post(
        "/service/queues",
        {"name": "一线", "method": "load", "member_ids": [b.pk, a.pk], "languages": ["zh"]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [m["full_name"] for m in body["members"]] == ["坐席乙", "坐席甲"]
    assert body["method"] == "load" and body["languages"] == ["zh"] and not body["is_default"]
    queue_id = body["id"]
    assert [q["id"] for q in api.get("/service/queues").json()] == [queue_id]
    response = api.patch(f"/service/queues/{queue_id}", {"is_default": True, "member_ids": [a.pk]})
    assert response.status_code == 200
    assert response.json()["is_default"] and len(response.json()["members"]) == 1
    assert api.get(f"/service/queues/{queue_id}").json()["name"] == "一线"
    assert_error(api.post("/service/queues", {"name": "一线"}), 400, "invalid")
    assert_error(
        api.post("/service/queues", {"name": "x", "method": "dice"}), 422, "validation_error"
    )
    assert api.delete(f"/service/queues/{queue_id}").status_code == 204
    assert_error(api.get(f"/service/queues/{queue_id}"), 404, "not_found")


def test_queues_rights_and_tenancy(service_ws, manager, nobody, other_admin):
    queue = make_queue(service_ws, "一线")
    agent = make_agent(service_ws, "坐席")
    assert api_for(agent).get("/service/queues").status_code == 200
    assert_error(api_for(agent).post("/service/queues", {"name": "x"}), 403, "permission_denied")
    assert_error(api_for(agent).delete(f"/service/queues/{queue.pk}"), 403, "permission_denied")
    assert_error(api_for(nobody).get("/service/queues"), 403, "permission_denied")
    other = api_for(other_admin)
    assert other.get("/service/queues").json() == []
    assert_error(other.get(f"/service/queues/{queue.pk}"), 404, "not_found")
    assert_error(other.patch(f"/service/queues/{queue.pk}", {"name": "z"}), 404, "not_found")
    assert_error(other.delete(f"/service/queues/{queue.pk}"), 404, "not_found")
    assert Queue.objects.in_workspace(service_ws).get(pk=queue.pk).name == "一线"


def test_agents_profile_skills_and_availability(service_ws, manager, nobody, other_admin):
    api = api_for(manager)
    agent = make_agent(service_ws, "坐席", status="offline")
    category = make_category(service_ws, "账单")
    response = api.patch(
        f"/service/agents/{agent.pk}",
        {
            "languages": ["zh", "en"],
            "is_technician": True,
            "home_latitude": 31.2,
            "home_longitude": 121.5,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (
        body["is_technician"]
        and body["home_latitude"] == 31.2
        and body["languages"] == ["zh", "en"]
    )
    # A latitude without a longitude is no position.
    assert_error(api.patch(f"/service/agents/{agent.pk}", {"home_latitude": 10}), 400, "invalid")
    response = api.post(
        f"/service/agents/{agent.pk}/skills",
        {"kind": "category", "object_id": category.pk, "level": 4},
    )
    assert response.status_code == 200
    skills = response.json()["skills"]
    assert skills == [
        {
            "id": skills[0]["id"],
            "kind": "category",
            "object_id": category.pk,
            "name": "账单",
            "level": 4,
        }
    ]
    assert_error(
        api.post(f"/service/agents/{agent.pk}/skills", {"kind": "category", "object_id": 10**9}),
        400,
        "invalid",
    )
    assert api.delete(f"/service/agents/{agent.pk}/skills/{skills[0]['id']}").status_code == 204
    names = [row["user"]["full_name"] for row in api.get("/service/agents").json()]
    assert "坐席" in names and manager.full_name in names

    # Availability: one's own, and a supervisor's on others.
    queue = make_queue(service_ws, "一线", members=[agent], is_default=True)
    waiting = make_case(service_ws, subject="等人", queue=queue)
    own = api_for(agent)
    assert own.get("/service/availability").json()["status"] == "offline"
    response = own.post("/service/availability", {"status": "available"})
    assert response.status_code == 200
    assert response.json()["handed_out"] == [
        {"id": waiting.pk, "number": waiting.number, "subject": "等人"}
    ]
    response = api.post(f"/service/agents/{agent.pk}/availability", {"status": "away"})
    assert response.json()["status"] == "away"
    assert_error(
        own.post(f"/service/agents/{manager.pk}/availability", {"status": "away"}),
        403,
        "permission_denied",
    )
    assert_error(own.post("/service/availability", {"status": "nap"}), 422, "validation_error")
    assert_error(
        api_for(nobody).post("/service/availability", {"status": "available"}),
        403,
        "permission_denied",
    )
    assert_error(api_for(nobody).get("/service/agents"), 403, "permission_denied")
    assert_error(
        api_for(agent).patch(f"/service/agents/{agent.pk}", {"max_open_cases": 99}),
        403,
        "permission_denied",
    )
    other = api_for(other_admin)
    assert_error(other.get(f"/service/agents/{agent.pk}"), 404, "not_found")
    assert_error(
        other.patch(f"/service/agents/{agent.pk}", {"max_open_cases": 1}), 404, "not_found"
    )
    assert_error(
        other.post(f"/service/agents/{agent.pk}/availability", {"status": "busy"}), 404, "not_found"
    )
    agent.service_profile.refresh_from_db()
    assert agent.service_profile.status == "away" and agent.service_profile.max_open_cases == 30


def test_dispatch_endpoints(service_ws, customer, nobody, other_admin):
    dispatcher = make_agent(service_ws, "调度员")
    api = api_for(dispatcher)
    tech = make_agent(
        service_ws,
        "师傅",
        role="technician",
        is_technician=True,
        home_latitude="31.2",
        home_longitude="121.5",
    )
    case = make_case(service_ws, subject="上门修理", contact=customer)
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = api.get(f"/service/cases/{case.pk}/dispatch-suggestions", day=day)
    assert response.status_code == 200, response.content
    [suggestion] = response.json()
    assert suggestion["technician"]["id"] == tech.pk and suggestion["distance_from"] == "home"
    assert "km from home" in suggestion["reason"] and not suggestion["fully_booked"]

    start = timezone.now() + dt.timedelta(days=2)
    payload = {
        "case_id": case.pk,
        "technician_id": tech.pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
    }
    response = api.post("/service/dispatches", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "scheduled" and body["task_id"] and "南京西路" in body["location"]
    assert_error(api.post("/service/dispatches", payload), 409, "overlap")
    assert_error(
        api.post("/service/dispatches", {**payload, "starts_at": "2020-01-01T10:00:00+08:00"}),
        400,
        "invalid",
    )
    assert api.get("/service/dispatches", case_id=case.pk).json()["items"][0]["id"] == body["id"]

    # The technician sees and completes their own.
    mine = api_for(tech)
    assert [d["id"] for d in mine.get("/service/dispatches").json()["items"]] == [body["id"]]
    assert_error(
        mine.post(f"/service/dispatches/{body['id']}/complete", {"report": ""}), 400, "invalid"
    )
    response = mine.post(f"/service/dispatches/{body['id']}/complete", {"report": "修好了"})
    assert response.status_code == 200 and response.json()["status"] == "done"
    assert_error(api.post(f"/service/dispatches/{body['id']}/cancel", {}), 409, "dispatch_done")

    later = {
        **payload,
        "starts_at": (start + dt.timedelta(hours=3)).isoformat(),
        "ends_at": (start + dt.timedelta(hours=4)).isoformat(),
    }
    second = api.post("/service/dispatches", later).json()
    response = api.post(f"/service/dispatches/{second['id']}/cancel", {"reason": "改期"})
    assert response.json()["status"] == "cancelled"

    # Rights and tenancy.
    outsider = api_for(nobody)
    assert_error(
        outsider.get(f"/service/cases/{case.pk}/dispatch-suggestions", day=day),
        403,
        "permission_denied",
    )
    assert_error(outsider.post("/service/dispatches", later), 403, "permission_denied")
    assert_error(outsider.get("/service/dispatches"), 403, "permission_denied")
    other = api_for(other_admin)
    assert_error(
        other.get(f"/service/cases/{case.pk}/dispatch-suggestions", day=day), 404, "not_found"
    )
    assert_error(other.get(f"/service/dispatches/{body['id']}"), 404, "not_found")
    assert_error(
        other.post(f"/service/dispatches/{second['id']}/complete", {"report": "x"}),
        404,
        "not_found",
    )
    assert other.get("/service/dispatches").json()["items"] == []
    response = other.post(
        "/service/dispatches",
        {
            **later,
            "starts_at": (start + dt.timedelta(hours=5)).isoformat(),
            "ends_at": (start + dt.timedelta(hours=6)).isoformat(),
        },
    )
    assert_error(response, 404, "not_found")
    assert Dispatch.objects.in_workspace(service_ws).count() == 2
