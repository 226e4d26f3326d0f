"""The visit endpoints: they work, refuse another workspace's ids (404) and users without
the right (403), and answer bad input with the documented error shape, writing nothing."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from guanxi.activities import visit_jobs  # noqa: F401  (registers the job handler)
from guanxi.activities.models import (
    CheckIn,
    Task,
    TaskKind,
    TaskStatus,
    TimelineEntry,
    VisitPlan,
    VisitSettings,
)
from guanxi.activities.tests.factories import TaskFactory
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import Job
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

pytestmark = pytest.mark.django_db
ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


@pytest.fixture
def manager(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_manager", team=team)


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(
        workspace=workspace, owner=rep, latitude=Decimal("31.2304"), longitude=Decimal("121.4737")
    )


@pytest.fixture
def foreign_account(other_workspace):
    return AccountFactory(workspace=other_workspace)


# --- settings -----------------------------------------------------------------------------------


def test_settings_get_and_put(workspace, admin_user, rep):
    assert api_for(rep).get("/visit-settings").json()["visits_per_year_by_type"]["customer"] == 4
    response = api_for(admin_user).put(
        "/visit-settings", {"visits_per_year_by_type": {"customer": 8}, "far_checkin_meters": 250}
    )
    assert response.status_code == 200, response.content
    assert response.json()["visits_per_year_by_type"]["customer"] == 8
    assert_error(api_for(rep).put("/visit-settings", {"far_checkin_meters": 250}), 403)
    assert_error(
        api_for(admin_user).put("/visit-settings", {"visits_per_year_by_type": {"x": 1}}), 400
    )
    assert_error(api_for(admin_user).put("/visit-settings", {"far_checkin_meters": 1}), 422)
    assert VisitSettings.objects.in_workspace(workspace).get().far_checkin_meters == 250


def test_settings_are_per_workspace(workspace, admin_user, other_admin):
    api_for(admin_user).put("/visit-settings", {"far_checkin_meters": 250})
    assert api_for(other_admin).get("/visit-settings").json()["far_checkin_meters"] == 500


# --- an account's plan --------------------------------------------------------------------------


def test_visit_plan_get_put_delete(workspace, rep, account):
    api = api_for(rep)
    url = f"/accounts/{account.pk}/visit-plan"
    assert api.get(url).json() == {
        "account": {"id": account.pk, "name": account.name},
        "visits_per_year": 4,
        "source": "default",
        "means": "company_visit",
        "notes": "",
    }
    response = api.put(url, {"visits_per_year": 12, "means": "onsite_meeting", "notes": "月访"})
    assert response.status_code == 200 and response.json()["source"] == "custom"
    assert api.get(url).json()["visits_per_year"] == 12
    assert api.delete(url).json()["source"] == "default"
    assert_error(api.put(url, {"visits_per_year": 366}), 422)
    assert_error(api.put(url, {"visits_per_year": 3, "means": "dinner"}), 422)
    assert not VisitPlan.objects.in_workspace(workspace).get().is_custom


def test_visit_plan_other_workspace_and_rights(workspace, rep, account, foreign_account):
    api = api_for(rep)
    url = f"/accounts/{foreign_account.pk}/visit-plan"
    assert_error(api.get(url), 404)
    assert_error(api.put(url, {"visits_per_year": 3}), 404)
    assert_error(api.delete(url), 404)
    technician = UserFactory(workspace=workspace, role_code="technician")
    mine = AccountFactory(workspace=workspace, owner=technician)
    assert_error(
        api_for(technician).put(f"/accounts/{mine.pk}/visit-plan", {"visits_per_year": 3}), 403
    )
    assert_error(
        api_for(rep, scopes=["read"]).put(
            f"/accounts/{account.pk}/visit-plan", {"visits_per_year": 3}
        ),
        403,
    )
    assert not VisitPlan.objects.in_workspace(workspace).exists()


# --- generation and progress --------------------------------------------------------------------


def test_generate_and_progress(
    workspace, manager, rep, account, django_capture_on_commit_callbacks
):
    api = api_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/visit-plans/generate", {"period": "2026-Q4"})
    assert response.status_code == 202, response.content
    job = Job.objects.in_workspace(workspace).get(pk=response.json()["id"])
    assert job.state == "succeeded" and job.result["tasks_created"] == 1
    task = Task.objects.in_workspace(workspace).get()
    Task.objects.in_workspace(workspace).filter(pk=task.pk).update(status=TaskStatus.DONE)
    body = api.get("/visit-plans/progress", period="2026-Q4").json()
    assert (
        body["period"] == "2026-Q4"
        and body["start"] == "2026-10-01"
        and body["end"] == "2027-01-01"
    )
    assert body["items"] == [
        {
            "user": {"id": rep.pk, "full_name": rep.full_name},
            "planned": 1,
            "done": 1,
            "done_tasks": 1,
            "extra_checkouts": 0,
            "overdue": 0,
            "percent": 100,
        }
    ]
    assert (
        api.get("/visit-plans/progress", period="2026-Q4", user_id=rep.pk).json()["items"][0][
            "planned"
        ]
        == 1
    )
    assert_error(api.get("/visit-plans/progress", period="2026-13"), 400, "invalid_period")
    assert_error(api.post("/visit-plans/generate", {"period": "soon"}), 400, "invalid_period")
    assert_error(api.post("/visit-plans/generate", {"period": "2026", "team_id": 999999}), 404)


def test_generate_and_progress_isolation(workspace, rep, other_workspace, other_admin):
    technician = UserFactory(workspace=workspace, role_code="technician")
    assert_error(api_for(technician).post("/visit-plans/generate", {"period": "2026"}), 403)
    assert_error(
        api_for(rep, scopes=["read"]).post("/visit-plans/generate", {"period": "2026"}), 403
    )
    # Another workspace's user or team is "not found".
    other_team = TeamFactory(workspace=other_workspace)
    admin = UserFactory(workspace=workspace, role_code="administrator")
    assert_error(
        api_for(admin).post(
            "/visit-plans/generate", {"period": "2026", "owner_id": other_admin.pk}
        ),
        404,
    )
    assert_error(
        api_for(admin).post("/visit-plans/generate", {"period": "2026", "team_id": other_team.pk}),
        404,
    )
    assert_error(
        api_for(admin).get("/visit-plans/progress", period="2026", user_id=other_admin.pk), 404
    )
    # A rep cannot look at a colleague's figures.
    colleague = UserFactory(workspace=workspace, team=rep.team)
    assert_error(
        api_for(rep).get("/visit-plans/progress", period="2026", user_id=colleague.pk), 404
    )
    assert not Job.objects.in_workspace(workspace).exists()


# --- routes -------------------------------------------------------------------------------------


def test_route(workspace, rep, manager, account, other_admin):
    day = dt.date(2026, 11, 10)
    bare = AccountFactory(workspace=workspace, owner=rep)
    located = TaskFactory(
        workspace=workspace,
        assignee=rep,
        kind=TaskKind.VISIT,
        account=account,
        due_at=dt.datetime.combine(day, dt.time(10), tzinfo=ZONE),
        window_start=dt.time(9),
        window_end=dt.time(12),
    )
    unlocated = TaskFactory(
        workspace=workspace,
        assignee=rep,
        kind=TaskKind.VISIT,
        account=bare,
        due_at=dt.datetime.combine(day, dt.time(11), tzinfo=ZONE),
    )
    body = api_for(rep).get("/routes", date="2026-11-10", start_lat=31.2, start_lon=121.4).json()
    assert [s["task_id"] for s in body["stops"]] == [located.pk]
    assert body["stops"][0]["geo_uri"].startswith("geo:31.230400,121.473700")
    assert body["stops"][0]["window_start"] == "09:00:00" and not body["windows_relaxed"]
    assert [u["task_id"] for u in body["no_location"]] == [unlocated.pk]
    assert body["total_m"] == body["stops"][0]["cumulative_m"] > 0
    assert (
        len(api_for(manager).get("/routes", date="2026-11-10", user_id=rep.pk).json()["stops"]) == 1
    )
    assert_error(
        api_for(rep).get("/routes", date="2026-11-10", start_lat=91, start_lon=1),
        400,
        "invalid_position",
    )
    assert_error(api_for(rep).get("/routes", date="2026-13-10"), 422)
    assert_error(api_for(rep).get("/routes", date="2026-11-10", user_id=other_admin.pk), 404)
    colleague = UserFactory(workspace=workspace, team=rep.team)
    assert_error(api_for(colleague).get("/routes", date="2026-11-10", user_id=rep.pk), 404)
    reader = UserFactory(workspace=workspace)
    reader.role.rights = {}
    reader.role.save()
    assert_error(api_for(reader).get("/routes", date="2026-11-10"), 403)


# --- check-ins ----------------------------------------------------------------------------------


def test_check_in_check_out_and_list(workspace, rep, account):
    visit = TaskFactory(workspace=workspace, assignee=rep, kind=TaskKind.VISIT, account=account)
    api = api_for(rep)
    response = api.post(
        "/check-ins",
        {"task_id": visit.pk, "latitude": 31.231, "longitude": 121.474, "accuracy_m": 9},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["distance_m"] > 0
        and not body["is_far"]
        and body["accuracy_m"] == 9
        and not body["no_position"]
    )
    assert_error(api.post("/check-ins", {"task_id": visit.pk}), 409, "already_checked_in")
    response = api.post(
        f"/check-ins/{body['id']}/check-out", {"notes": "好", "outcome": "positive"}
    )
    assert response.status_code == 200 and response.json()["entry_id"]
    assert TimelineEntry.objects.in_workspace(workspace).get().kind == "visit"
    assert_error(api.post(f"/check-ins/{body['id']}/check-out", {}), 409, "checked_out")
    listed = api.get("/check-ins", account_id=account.pk).json()
    assert [c["id"] for c in listed["items"]] == [body["id"]] and listed["next_cursor"] is None


def test_check_in_bad_input(workspace, rep, account):
    api = api_for(rep)
    error = assert_error(
        api.post("/check-ins", {"account_id": account.pk, "latitude": 95, "longitude": 1}),
        400,
        "invalid_position",
    )
    assert "latitude" in error["fields"]
    assert_error(
        api.post("/check-ins", {"account_id": account.pk, "latitude": 31, "longitude": -200}), 400
    )
    assert_error(api.post("/check-ins", {"account_id": account.pk, "means": "lunch"}), 422)
    assert_error(api.post("/check-ins", {}), 400, "no_customer")
    assert not CheckIn.objects.in_workspace(workspace).exists()
    # No position: allowed and marked.
    body = api.post("/check-ins", {"account_id": account.pk}).json()
    assert body["no_position"] and body["distance_m"] is None
    assert_error(api.post(f"/check-ins/{body['id']}/check-out", {"outcome": "great"}), 422)
    assert_error(api.post(f"/check-ins/{body['id']}/set-customer-location"), 400, "no_position")


def test_set_customer_location(workspace, rep):
    bare = AccountFactory(workspace=workspace, owner=rep)
    api = api_for(rep)
    body = api.post(
        "/check-ins", {"account_id": bare.pk, "latitude": 30.25, "longitude": 120.16}
    ).json()
    response = api.post(f"/check-ins/{body['id']}/set-customer-location")
    assert response.status_code == 200 and response.json()["distance_m"] == 0
    bare.refresh_from_db()
    assert bare.latitude == Decimal("30.250000")
    assert_error(api.post(f"/check-ins/{body['id']}/set-customer-location"), 409, "has_coordinates")


def test_check_ins_isolation_and_rights(
    workspace, rep, manager, account, other_workspace, other_admin, foreign_account
):
    theirs = CheckIn.objects.create(
        workspace=other_workspace,
        user=other_admin,
        account=foreign_account,
        checked_in_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    api = api_for(rep)
    assert_error(api.post("/check-ins", {"account_id": foreign_account.pk}), 404)
    assert_error(api.post(f"/check-ins/{theirs.pk}/check-out", {}), 404)
    assert_error(api.post(f"/check-ins/{theirs.pk}/set-customer-location"), 404)
    assert api.get("/check-ins").json()["items"] == []
    reader = UserFactory(workspace=workspace, role_code="read_only")
    assert_error(api_for(reader).post("/check-ins", {"account_id": account.pk}), 403)
    assert_error(api_for(rep, scopes=["read"]).post("/check-ins", {"account_id": account.pk}), 403)
    mine = api.post("/check-ins", {"account_id": account.pk}).json()
    # The manager sees the rep's check-in but cannot check out for them.
    assert [
        c["id"] for c in api_for(manager).get("/check-ins", user_id=rep.pk).json()["items"]
    ] == [mine["id"]]
    assert_error(api_for(manager).post(f"/check-ins/{mine['id']}/check-out", {}), 403)
    # A colleague (own visibility) does not see it at all.
    colleague = UserFactory(workspace=workspace, team=rep.team)
    assert api_for(colleague).get("/check-ins").json()["items"] == []
    assert_error(api_for(colleague).post(f"/check-ins/{mine['id']}/check-out", {}), 404)


def test_check_ins_pages_by_cursor(workspace, rep, account):
    for day in range(1, 6):
        CheckIn.objects.create(
            workspace=workspace,
            user=rep,
            account=account,
            checked_in_at=dt.datetime(2026, 10, day, tzinfo=dt.UTC),
            checked_out_at=dt.datetime(2026, 10, day, 1, tzinfo=dt.UTC),
        )
    api = api_for(rep)
    first = api.get("/check-ins", limit=2).json()
    second = api.get("/check-ins", limit=2, cursor=first["next_cursor"]).json()
    days = [c["checked_in_at"][:10] for c in first["items"] + second["items"]]
    assert days == ["2026-10-05", "2026-10-04", "2026-10-03", "2026-10-02"]
    assert_error(api.get("/check-ins", cursor="garbage"), 400, "invalid_cursor")
