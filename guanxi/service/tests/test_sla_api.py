"""The /sla API: policies and rules (CRUD, 409 for a second active policy of one class and
priority), calendars and days (CRUD, 409 for a date twice, a year of holidays loaded
twice), the month preview, the dashboard, the sweep trigger (administrators with the admin
scope only); bad input answered with the documented error shape and nothing written;
another workspace's ids 404, users without the right 403."""

from __future__ import annotations

import pytest

from guanxi.platform.tests.test_api_support import assert_error
from guanxi.service.models import CalendarDay, EscalationRule, SlaPolicy, WorkCalendar

from .sla_support import *  # noqa: F403
from .sla_support import api_for, at, make_case

pytestmark = pytest.mark.django_db


def test_policies_and_rules(sla_ws, sla_manager, sla_agent2, sla_queue):
    api = api_for(sla_manager)
    listed = api.get("/sla/policies").json()
    assert len(listed) == 16 and {p["customer_class"] for p in listed} == {"", "A", "B", "C"}
    a_urgent = next(p for p in listed if p["customer_class"] == "A" and p["priority"] == 1)
    assert a_urgent["first_response_minutes"] == 30 and len(a_urgent["rules"]) == 3
    assert_error(
        api.post(
            "/sla/policies",
            {"name": "重复", "customer_class": "A", "priority": 1,
             "first_response_minutes": 10, "resolution_minutes": 60},
        ),
        409,
        "policy_exists",
    )  # fmt: skip
    response = api.post(
        "/sla/policies",
        {"name": "兜底", "first_response_minutes": 600, "resolution_minutes": 6000},
    )
    assert response.status_code == 201, response.content
    policy = response.json()
    assert policy["customer_class"] == "" and policy["priority"] is None
    assert policy["calendar"]["name"] and policy["warn_at_percent"] == 80
    response = api.patch(f"/sla/policies/{policy['id']}", {"warn_at_percent": 50, "name": "兜"})
    assert response.status_code == 200 and response.json()["warn_at_percent"] == 50
    assert response.json()["name"] == "兜" and response.json()["priority"] is None
    # Class "any" and priority low exists already (the defaults): 409.
    assert_error(api.patch(f"/sla/policies/{policy['id']}", {"priority": 4}), 409)
    error = assert_error(api.patch(f"/sla/policies/{policy['id']}", {"resolution_minutes": 5}), 400)
    assert "resolution_minutes" in error["fields"]
    response = api.post(
        f"/sla/policies/{policy['id']}/rules",
        {"when": "breach", "action": "reassign", "queue_id": sla_queue.pk},
    )
    assert response.status_code == 201, response.content
    rule = response.json()
    assert rule["queue"]["name"] == "一线支持" and rule["target"] == "any"
    response = api.patch(
        f"/sla/policies/{policy['id']}/rules/{rule['id']}",
        {"queue_id": None, "user_id": sla_agent2.pk},
    )
    assert response.status_code == 200 and response.json()["user"]["full_name"] == "Agent Zhao"
    assert_error(
        api.post(f"/sla/policies/{policy['id']}/rules", {"when": "breach", "action": "notify"}),
        400,
    )
    assert api.get(f"/sla/policies/{policy['id']}").json()["rules"][0]["id"] == rule["id"]
    assert api.delete(f"/sla/policies/{policy['id']}/rules/{rule['id']}").status_code == 204
    assert api.delete(f"/sla/policies/{policy['id']}").status_code == 204
    assert_error(api.get(f"/sla/policies/{policy['id']}"), 404)


def test_calendars_days_holidays_and_month(sla_ws, sla_admin):
    api = api_for(sla_admin)
    response = api.post(
        "/sla/calendars",
        {"name": "柏林", "time_zone": "Europe/Berlin", "week": {"1": [["09:00", "17:00"]]}},
    )
    assert response.status_code == 201, response.content
    calendar = response.json()
    assert calendar["week"] == {"1": [["09:00", "17:00"]]} and not calendar["is_default"]
    cid = calendar["id"]
    error = assert_error(
        api.post("/sla/calendars", {"name": "坏", "week": {"1": [["17:00", "09:00"]]}}), 422
    )
    assert any(name.startswith("week") for name in error["fields"])
    assert_error(api.post("/sla/calendars", {"name": "坏", "time_zone": "Mars/Base"}), 400)
    assert_error(api.post("/sla/calendars", {"name": "柏林"}), 409)
    response = api.patch(f"/sla/calendars/{cid}", {"week": {"2": [["08:00", "16:00"]]}})
    assert response.json()["week"] == {"2": [["08:00", "16:00"]]}
    assert api.post(f"/sla/calendars/{cid}/holidays", {"year": 2026}).json() == {
        "added": 39,
        "kept": 0,
    }
    assert api.post(f"/sla/calendars/{cid}/holidays", {"year": 2026}).json() == {
        "added": 0,
        "kept": 39,
    }
    assert_error(api.post(f"/sla/calendars/{cid}/holidays", {"year": 2030}), 400)
    response = api.post(
        f"/sla/calendars/{cid}/days",
        {"day": "2026-03-07", "kind": "workday", "name": "盘点", "hours": [["10:00", "12:00"]]},
    )
    assert response.status_code == 201, response.content
    day = response.json()
    assert_error(
        api.post(f"/sla/calendars/{cid}/days", {"day": "2026-03-07", "kind": "holiday"}), 409
    )
    response = api.patch(f"/sla/calendars/{cid}/days/{day['id']}", {"name": "年中盘点"})
    assert response.json()["name"] == "年中盘点"
    days = api.get(f"/sla/calendars/{cid}/days", year=2026).json()
    assert len(days) == 40 and days[0]["day"] == "2026-01-01"
    month = api.get(f"/sla/calendars/{cid}/month", month="2026-03").json()
    assert month["month"] == "2026-03" and len(month["days"]) == 31
    saturday = next(d for d in month["days"] if d["day"] == "2026-03-07")
    assert saturday == {
        "day": "2026-03-07",
        "kind": "workday",
        "name": "年中盘点",
        "hours": [["10:00", "12:00"]],
        "minutes": 120,
    }
    # March 2026 in Berlin, Tuesdays 08:00–16:00: five Tuesdays and the Saturday.
    assert month["working_days"] == 6 and month["minutes"] == 5 * 480 + 120
    assert api.delete(f"/sla/calendars/{cid}/days/{day['id']}").status_code == 204
    assert_error(api.delete(f"/sla/calendars/{cid}/days/{day['id']}"), 404)
    assert api.delete(f"/sla/calendars/{cid}").status_code == 204
    default = WorkCalendar.objects.in_workspace(sla_ws).get()
    assert_error(api.delete(f"/sla/calendars/{default.pk}"), 409, "in_use")


def test_dashboard_and_sweep(sla_ws, sla_admin, sla_agent, class_a):
    make_case(sla_ws, now=at(2026, 11, 30, 9), priority=1, account=class_a, assignee=sla_agent)
    api = api_for(sla_admin)
    body = api.get("/sla/dashboard").json()
    assert body["states"] == {"on_track": 1, "warned": 0, "breached": 0, "paused": 0}
    assert len(body["breaches_per_day"]) == 30
    counts = api.post("/sla/sweep").json()
    assert counts["response_breaches"] == 1 and counts["resolution_breaches"] == 1
    body = api.get("/sla/dashboard", days=7).json()
    assert body["states"]["breached"] == 1 and len(body["breaches_per_day"]) == 7
    assert body["breaches_per_day"][-1]["breaches"] + body["breaches_per_day"][-2]["breaches"] == 2
    assert body["at_risk"][0]["breached"] and body["at_risk"][0]["assignee"]["id"] == sla_agent.pk
    assert_error(api.get("/sla/dashboard", days=0), 422)
    # The trigger needs an administrator with the admin scope.
    assert_error(api_for(sla_admin, scopes=["read", "write"]).post("/sla/sweep"), 403)
    assert_error(api_for(sla_agent).post("/sla/sweep"), 403)


def test_no_right_is_403_and_nothing_is_written(sla_ws, sla_agent, nobody):
    policy = SlaPolicy.objects.in_workspace(sla_ws).first()
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get()
    day = CalendarDay.objects.in_workspace(sla_ws).first()
    rule = EscalationRule.objects.in_workspace(sla_ws).filter(policy=policy).first()
    agent = api_for(sla_agent)  # reads the configuration, changes nothing
    assert agent.get("/sla/policies").status_code == 200
    assert agent.get("/sla/dashboard").status_code == 200
    for response in (
        agent.post(
            "/sla/policies", {"name": "x", "first_response_minutes": 1, "resolution_minutes": 1}
        ),
        agent.patch(f"/sla/policies/{policy.pk}", {"name": "x"}),
        agent.delete(f"/sla/policies/{policy.pk}"),
        agent.post(f"/sla/calendars/{calendar.pk}/holidays", {"year": 2025}),
        agent.delete(f"/sla/calendars/{calendar.pk}/days/{day.pk}"),
        agent.post(
            f"/sla/policies/{policy.pk}/rules", {"when": "breach", "action": "raise_priority"}
        ),
    ):
        assert_error(response, 403)
    denied = api_for(nobody)
    for response in (
        denied.post("/sla/calendars", {"name": "x"}),
        denied.patch(f"/sla/calendars/{calendar.pk}", {"name": "x"}),
        denied.delete(f"/sla/calendars/{calendar.pk}"),
        denied.post(f"/sla/calendars/{calendar.pk}/days", {"day": "2026-03-02", "kind": "holiday"}),
        denied.patch(f"/sla/calendars/{calendar.pk}/days/{day.pk}", {"name": "x"}),
        denied.patch(f"/sla/policies/{policy.pk}/rules/{rule.pk}", {"position": 9}),
        denied.delete(f"/sla/policies/{policy.pk}/rules/{rule.pk}"),
        denied.post("/sla/sweep"),
    ):
        assert_error(response, 403)
    for path in (
        "/sla/policies",
        f"/sla/policies/{policy.pk}",
        "/sla/calendars",
        f"/sla/calendars/{calendar.pk}",
        f"/sla/calendars/{calendar.pk}/days",
        f"/sla/calendars/{calendar.pk}/month",
        "/sla/dashboard",
    ):
        assert_error(denied.get(path), 403)
    policy.refresh_from_db()
    assert (
        policy.name != "x" and CalendarDay.objects.in_workspace(sla_ws).filter(pk=day.pk).exists()
    )
    assert EscalationRule.objects.in_workspace(sla_ws).filter(action="raise_priority").count() == 7


def test_other_workspaces_ids_are_404(sla_ws, other_workspace, other_admin):
    policy = SlaPolicy.objects.in_workspace(sla_ws).first()
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get()
    day = CalendarDay.objects.in_workspace(sla_ws).first()
    rule = EscalationRule.objects.in_workspace(sla_ws).filter(policy=policy).first()
    api = api_for(other_admin)
    for response in (
        api.get(f"/sla/policies/{policy.pk}"),
        api.patch(f"/sla/policies/{policy.pk}", {"name": "x"}),
        api.delete(f"/sla/policies/{policy.pk}"),
        api.delete(f"/sla/policies/{policy.pk}/rules/{rule.pk}"),
        api.get(f"/sla/calendars/{calendar.pk}"),
        api.patch(f"/sla/calendars/{calendar.pk}", {"name": "x"}),
        api.get(f"/sla/calendars/{calendar.pk}/days"),
        api.get(f"/sla/calendars/{calendar.pk}/month"),
        api.patch(f"/sla/calendars/{calendar.pk}/days/{day.pk}", {"name": "x"}),
        api.delete(f"/sla/calendars/{calendar.pk}/days/{day.pk}"),
        api.post(f"/sla/calendars/{calendar.pk}/days", {"day": "2026-03-02", "kind": "holiday"}),
        api.post(f"/sla/calendars/{calendar.pk}/holidays", {"year": 2026}),
        api.delete(f"/sla/calendars/{calendar.pk}"),
        api.post(
            f"/sla/policies/{policy.pk}/rules", {"when": "breach", "action": "raise_priority"}
        ),
        api.patch(f"/sla/policies/{policy.pk}/rules/{rule.pk}", {"position": 9}),
    ):
        assert_error(response, 404)
    # Their sweep runs over their own workspace only.
    make_case(sla_ws, now=at(2025, 3, 3, 9), priority=1)
    assert api.post("/sla/sweep").json()["response_breaches"] == 0
    assert api.get("/sla/policies").json() == []
    assert SlaPolicy.objects.in_workspace(sla_ws).filter(pk=policy.pk).exists()
