"""The cases API: create, get, list (the queue's filters and cursor), change with the lock
version (409 when stale), status flow (409 for a refused move), reply and note, assign,
messages and events, types and categories; bad input answered with the error shape and
nothing written; another workspace's ids are 404, users without the right 403."""

from __future__ import annotations

import pytest

from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token
from guanxi.service.models import Case, CaseMessage

from .cases_support import *  # noqa: F403
from .cases_support import bulk_cases, case_type, make_case

pytestmark = pytest.mark.django_db


def api_for(user) -> ApiClient:
    return ApiClient(make_token(user, scopes=["read", "write"]))


def test_case_lifecycle_over_the_api(agent, account, contact, queue, other_agent):
    api = api_for(agent)
    response = api.post(
        "/service/cases",
        {
            "case_type_id": case_type(agent.workspace, "complaint").pk,
            "subject": "快递把货摔坏了",
            "description": "外箱破损，机器无法开机",
            "priority": 2,
            "account_id": account.pk,
            "contact_id": contact.pk,
        },
    )
    assert response.status_code == 201, response.content
    case = response.json()
    assert case["number"].startswith("CS-") and case["status"] == "new"
    assert case["kind"] == "complaint" and case["channel"] == "api"
    assert case["account"]["id"] == account.pk and case["contact"]["name"] == "王芳"
    case_id, version = case["id"], case["lock_version"]

    assert api.get(f"/service/cases/{case_id}").json()["subject"] == "快递把货摔坏了"
    listed = api.get("/service/cases").json()
    assert [c["id"] for c in listed["items"]] == [case_id] and listed["next_cursor"] is None

    response = api.post(f"/service/cases/{case_id}/reply", {"body": "非常抱歉，马上处理"})
    assert response.status_code == 201 and response.json()["kind"] == "out"
    assert response.json()["author"]["id"] == agent.pk
    response = api.post(f"/service/cases/{case_id}/reply", {"body": "要补发", "internal": True})
    assert response.json()["kind"] == "note"
    body = api.get(f"/service/cases/{case_id}").json()
    assert body["status"] == "open" and body["first_response_at"]

    # A stale version is refused, nothing written.
    assert_error(
        api.patch(f"/service/cases/{case_id}", {"lock_version": version, "priority": 1}),
        409,
        "stale",
    )
    version = body["lock_version"]
    response = api.patch(
        f"/service/cases/{case_id}", {"lock_version": version, "priority": 1, "category_id": None}
    )
    assert response.status_code == 200 and response.json()["priority"] == 1

    response = api.post(
        f"/service/cases/{case_id}/assign",
        {"assignee_id": other_agent.pk, "queue_id": queue.pk},
    )
    assert response.json()["assignee"]["full_name"] == "Agent Zhao"
    assert response.json()["queue"]["id"] == queue.pk

    assert_error(
        api.post(f"/service/cases/{case_id}/status", {"status": "closed"}), 409, "bad_transition"
    )
    error = assert_error(api.post(f"/service/cases/{case_id}/status", {"status": "resolved"}), 400)
    assert "resolution" in error["fields"]
    response = api.post(
        f"/service/cases/{case_id}/status", {"status": "resolved", "resolution": "补发新机"}
    )
    assert response.json()["status"] == "resolved" and response.json()["resolved_at"]

    messages = api.get(f"/service/cases/{case_id}/messages").json()["items"]
    assert [m["kind"] for m in messages] == ["in", "out", "note"]
    events = api.get(f"/service/cases/{case_id}/events", limit=2).json()
    assert [e["kind"] for e in events["items"]] == ["created", "status"]
    more = api.get(f"/service/cases/{case_id}/events", cursor=events["next_cursor"]).json()
    assert {"priority", "assigned"} <= {e["kind"] for e in more["items"]}

    # One customer's cases.
    listed = api.get("/service/cases", account_id=account.pk, status="all").json()
    assert [c["id"] for c in listed["items"]] == [case_id]


def test_list_filters_and_cursor(agent, service_ws, queue):
    bulk_cases(service_ws, 7, assignee=agent, queue=queue)
    bulk_cases(service_ws, 3, start=7, priority=1)
    api = api_for(agent)
    first = api.get("/service/cases", limit=4).json()
    assert [c["priority"] for c in first["items"]] == [1, 1, 1, 3]
    second = api.get("/service/cases", limit=4, cursor=first["next_cursor"]).json()
    third = api.get("/service/cases", limit=4, cursor=second["next_cursor"]).json()
    ids = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert len(ids) == len(set(ids)) == 10 and third["next_cursor"] is None
    assert len(api.get("/service/cases", assignee="me").json()["items"]) == 7
    assert len(api.get("/service/cases", assignee="unassigned").json()["items"]) == 3
    assert len(api.get("/service/cases", queue=str(queue.pk)).json()["items"]) == 7
    assert len(api.get("/service/cases", priority=1).json()["items"]) == 3
    assert api.get("/service/cases", q="CS-2000-000009").json()["items"][0]["subject"] == (
        "批量工单8"
    )
    assert_error(api.get("/service/cases", cursor="garbage"), 400, "invalid_cursor")
    assert_error(api.get("/service/cases", queue="abc"), 400, "invalid_filter")
    assert api.get("/service/cases", priority=7).status_code in (400, 422)


def test_bad_input_writes_nothing(agent, other_admin):
    api = api_for(agent)
    response = api.post("/service/cases", {"case_type_id": case_type(agent.workspace).pk})
    assert response.status_code in (400, 422)
    response = api.post(
        "/service/cases",
        {"case_type_id": case_type(agent.workspace).pk, "subject": "x", "priority": 9},
    )
    assert response.status_code in (400, 422)
    response = api.post(
        "/service/cases",
        {"case_type_id": case_type(agent.workspace).pk, "subject": "x\x00y"},
    )
    assert response.status_code in (400, 422)
    make_case(other_admin)
    foreign = case_type(other_admin.workspace)
    error = assert_error(
        api.post("/service/cases", {"case_type_id": foreign.pk, "subject": "x"}), 400
    )
    assert "case_type" in error["fields"]
    assert not Case.objects.in_workspace(agent.workspace).exists()


def test_types_and_categories(admin_user, agent, queue):
    api = api_for(admin_user)
    kinds = {t["kind"] for t in api.get("/service/case-types").json()}
    assert kinds == {"complaint", "fault", "repair", "request", "inquiry"}
    response = api.post("/service/case-types", {"name": "退货", "kind": "request"})
    assert response.status_code == 201
    type_id = response.json()["id"]
    assert_error(api.post("/service/case-types", {"name": "退货", "kind": "fault"}), 409)
    response = api.patch(f"/service/case-types/{type_id}", {"active": False})
    assert response.json()["active"] is False
    response = api.post("/service/case-categories", {"name": "物流", "queue_id": queue.pk})
    assert response.status_code == 201 and response.json()["queue"]["id"] == queue.pk
    parent = response.json()["id"]
    response = api.post("/service/case-categories", {"name": "破损", "parent_id": parent})
    child = response.json()["id"]
    error = assert_error(
        api.post("/service/case-categories", {"name": "外箱", "parent_id": child}), 400
    )
    assert "parent" in error["fields"]
    names = [c["name"] for c in api.get("/service/case-categories").json()]
    assert names == ["物流", "破损"]
    response = api.patch(f"/service/case-categories/{child}", {"name": "损坏"})
    assert response.json()["name"] == "损坏"
    # Agents read them but do not change them.
    agent_api = api_for(agent)
    assert agent_api.get("/service/case-types").status_code == 200
    assert_error(agent_api.post("/service/case-types", {"name": "x", "kind": "fault"}), 403)
    assert_error(agent_api.patch(f"/service/case-categories/{child}", {"name": "y"}), 403)


def test_other_workspace_is_not_found(agent, other_admin):
    case = make_case(other_admin)
    foreign_type = case_type(other_admin.workspace)
    api = api_for(agent)
    for path in (
        f"/service/cases/{case.pk}",
        f"/service/cases/{case.pk}/messages",
        f"/service/cases/{case.pk}/events",
    ):
        assert_error(api.get(path), 404, "not_found")
    assert_error(api.patch(f"/service/cases/{case.pk}", {"lock_version": 0, "subject": "x"}), 404)
    assert_error(api.post(f"/service/cases/{case.pk}/status", {"status": "open"}), 404)
    assert_error(api.post(f"/service/cases/{case.pk}/reply", {"body": "x"}), 404)
    assert_error(api.post(f"/service/cases/{case.pk}/assign", {}), 404)
    admin_api = api_for(agent)
    assert admin_api.get("/service/cases", q=case.number).json()["items"] == []
    assert foreign_type.pk not in {t["id"] for t in api.get("/service/case-types").json()}
    case.refresh_from_db()
    assert case.status == "new" and case.subject != "x"
    assert not CaseMessage.objects.in_workspace(other_admin.workspace).filter(body="x").exists()


def test_no_right_is_forbidden(nobody, agent, admin_user):
    case = make_case(agent)
    api = api_for(nobody)
    for response in (
        api.get("/service/cases"),
        api.get(f"/service/cases/{case.pk}"),
        api.get(f"/service/cases/{case.pk}/messages"),
        api.get(f"/service/cases/{case.pk}/events"),
        api.post("/service/cases", {"case_type_id": case.case_type_id, "subject": "x"}),
        api.patch(f"/service/cases/{case.pk}", {"lock_version": 0, "subject": "x"}),
        api.post(f"/service/cases/{case.pk}/status", {"status": "open"}),
        api.post(f"/service/cases/{case.pk}/reply", {"body": "x"}),
        api.post(f"/service/cases/{case.pk}/assign", {}),
        api.get("/service/case-types"),
        api.post("/service/case-types", {"name": "x", "kind": "fault"}),
        api.get("/service/case-categories"),
        api.post("/service/case-categories", {"name": "x"}),
    ):
        assert_error(response, 403)
    # A read-only token may read but not write.
    reader = ApiClient(make_token(admin_user, scopes=["read"]))
    assert reader.get(f"/service/cases/{case.pk}").status_code == 200
    assert reader.post(f"/service/cases/{case.pk}/reply", {"body": "x"}).status_code == 403
    case.refresh_from_db()
    assert case.status == "new" and case.subject != "x"
