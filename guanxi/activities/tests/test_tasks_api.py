"""The task, my-day, notification and calendar endpoints: they work, answer bad input with
the error shape (nothing written), refuse another workspace's ids (404) and users without
the right (403)."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from guanxi.activities.models import Notification, Task, TimelineEntry
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


@pytest.fixture
def manager(workspace, team):
    return UserFactory(workspace=workspace, team=team, role_code="sales_manager")


def api_for(user) -> ApiClient:
    return ApiClient(make_token(user, scopes=["read", "write"]))


def later(hours=3) -> str:
    return (timezone.now() + dt.timedelta(hours=hours)).isoformat()


def test_task_crud_and_actions(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep)
    api = api_for(rep)
    response = api.post(
        "/tasks",
        {
            "title": "打电话",
            "kind": "call",
            "due_at": later(),
            "account_id": account.pk,
            "remind_before_minutes": 30,
            "recurrence": "weekly",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    task_id = body["id"]
    assert body["account"]["id"] == account.pk and body["reminder_state"] == "pending"
    assert body["assignee"]["id"] == rep.pk and body["overdue"] is False
    assert api.get(f"/tasks/{task_id}").json()["title"] == "打电话"
    response = api.patch(f"/tasks/{task_id}", {"title": "改了"})
    assert response.status_code == 200 and response.json()["title"] == "改了"
    response = api.post(f"/tasks/{task_id}/complete", {"note": "谈好了"})
    assert response.status_code == 200 and response.json()["status"] == "done"
    assert TimelineEntry.objects.in_workspace(workspace).get().body == "谈好了"
    assert Task.objects.in_workspace(workspace).filter(previous_id=task_id).count() == 1
    assert api.post(f"/tasks/{task_id}/reopen").json()["status"] == "open"
    assert api.post(f"/tasks/{task_id}/cancel").json()["status"] == "cancelled"
    listed = api.get("/tasks", status="open").json()["items"]
    assert [t["previous_id"] for t in listed] == [task_id]
    assert_error(api.delete(f"/tasks/{task_id}"), 403)  # reps cancel, managers delete


def test_list_filters_and_cursor(workspace, rep):
    api = api_for(rep)
    for i in range(5):
        api.post("/tasks", {"title": f"t{i}", "due_at": later(i + 1)})
    page = api.get("/tasks", limit=2).json()
    assert [t["title"] for t in page["items"]] == ["t0", "t1"]
    page = api.get("/tasks", limit=2, cursor=page["next_cursor"]).json()
    assert [t["title"] for t in page["items"]] == ["t2", "t3"]
    today = timezone.now().date()
    far = today + dt.timedelta(days=30)
    assert api.get("/tasks", due_from=far.isoformat()).json()["items"] == []
    assert_error(api.get("/tasks", status="later"), 422)
    assert_error(api.get("/tasks", cursor="garbage"), 400, "invalid_cursor")


def test_bad_input_is_the_error_shape_and_writes_nothing(workspace, rep, manager):
    api = api_for(rep)
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    error = assert_error(api.post("/tasks", {"title": "x", "due_at": past}), 400)
    assert "due_at" in error["fields"] and "past" in error["message"]
    error = assert_error(
        api.post("/tasks", {"title": "x", "due_at": later(), "remind_at": later(5)}), 400
    )
    assert "remind_at" in error["fields"]
    error = assert_error(
        api.post("/tasks", {"title": "x", "due_at": later(), "ends_at": later(1)}), 400
    )
    assert "ends_at" in error["fields"]
    error = assert_error(
        api.post("/tasks", {"title": "x", "due_at": later(), "assignee_id": 99999999}), 400
    )
    assert "assignee" in error["fields"]
    assert_error(
        api.post("/tasks", {"title": "x", "due_at": later(), "assignee_id": manager.pk}),
        403,
        "assign_denied",
    )
    assert_error(api.post("/tasks", {"title": "", "due_at": later()}), 422)
    assert_error(api.post("/tasks", {"title": "x", "due_at": "tomorrow"}), 422)
    assert not Task.objects.in_workspace(workspace).exists()


def test_other_workspaces_and_missing_rights(workspace, rep, manager, other_admin):
    task = Task.objects.create(
        workspace=workspace,
        title="mine",
        assignee=rep,
        due_at=timezone.now() + dt.timedelta(hours=1),
    )
    foreign = api_for(other_admin)
    for method, path in (
        ("GET", f"/tasks/{task.pk}"),
        ("PATCH", f"/tasks/{task.pk}"),
        ("DELETE", f"/tasks/{task.pk}"),
        ("POST", f"/tasks/{task.pk}/complete"),
        ("POST", f"/tasks/{task.pk}/cancel"),
        ("POST", f"/tasks/{task.pk}/reopen"),
    ):
        response = foreign.request(method, path, {"title": "x"} if method == "PATCH" else {})
        assert_error(response, 404)
    assert foreign.get("/tasks").json()["items"] == []
    # A colleague without visibility of it: not found either.
    colleague = UserFactory(workspace=workspace)
    assert_error(api_for(colleague).get(f"/tasks/{task.pk}"), 404)
    # A read-only user sees it but may not change it.
    reader = api_for(UserFactory(workspace=workspace, role_code="read_only"))
    assert reader.get(f"/tasks/{task.pk}").status_code == 200
    assert_error(reader.post(f"/tasks/{task.pk}/complete"), 403)
    assert_error(reader.post("/tasks", {"title": "x", "due_at": later()}), 403)
    # The manager of the rep's team may delete it.
    assert api_for(manager).delete(f"/tasks/{task.pk}").status_code == 204
    assert not Task.objects.in_workspace(workspace).exists()
    # No token: 401.
    assert_error(ApiClient().get("/tasks"), 401)


def test_my_day(workspace, rep):
    Task.objects.create(
        workspace=workspace,
        title="逾期",
        assignee=rep,
        due_at=timezone.now() - dt.timedelta(days=2),
    )
    Notification.objects.create(workspace=workspace, user=rep, title="提醒")
    body = api_for(rep).get("/my-day").json()
    assert [t["title"] for t in body["overdue"]] == ["逾期"]
    assert body["overdue"][0]["overdue"] is True
    assert body["unread_notifications"] == 1 and body["notifications"][0]["title"] == "提醒"


def test_notifications(workspace, rep, manager, other_admin):
    note = Notification.objects.create(workspace=workspace, user=rep, title="一")
    Notification.objects.create(workspace=workspace, user=rep, title="二")
    api = api_for(rep)
    assert len(api.get("/notifications").json()["items"]) == 2
    response = api.post(f"/notifications/{note.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert len(api.get("/notifications", unread="true").json()["items"]) == 1
    assert_error(api_for(manager).post(f"/notifications/{note.pk}/read"), 404)
    assert_error(api_for(other_admin).post(f"/notifications/{note.pk}/read"), 404)
    assert api_for(manager).get("/notifications").json()["items"] == []
    assert api.post("/notifications/read-all").json() == {"marked_read": 1}


def test_calendar_events(workspace, rep, manager, other_admin):
    Task.objects.create(
        workspace=workspace,
        title="会议",
        kind="meeting",
        assignee=rep,
        due_at=timezone.now() + dt.timedelta(days=1),
    )
    start = timezone.now().isoformat()
    end = (timezone.now() + dt.timedelta(days=7)).isoformat()
    events = api_for(rep).get("/calendar/events", start=start, end=end).json()
    assert [e["title"] for e in events] == ["会议"]
    assert events[0]["end"] > events[0]["start"]
    events = api_for(manager).get("/calendar/events", start=start, end=end, user_id=rep.pk).json()
    assert [e["title"] for e in events] == ["会议"]
    assert_error(
        api_for(rep).get("/calendar/events", start=start, end=end, user_id=manager.pk), 403
    )
    assert_error(
        api_for(other_admin).get("/calendar/events", start=start, end=end, user_id=rep.pk), 404
    )
    assert_error(api_for(rep).get("/calendar/events", start=end, end=start), 400)


def test_calendar_feed_is_shown_once_and_revocable(workspace, rep):
    Task.objects.create(
        workspace=workspace,
        title="拜访",
        kind="visit",
        assignee=rep,
        due_at=timezone.now() + dt.timedelta(days=1),
    )
    api = api_for(rep)
    response = api.post("/calendar/feed")
    assert response.status_code == 201
    url = response.json()["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    anonymous = Client()
    feed = anonymous.get(f"/{path}")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(feed.content)
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")] == ["拜访"]
    assert api.delete("/calendar/feed").status_code == 204
    assert anonymous.get(f"/{path}").status_code == 404
