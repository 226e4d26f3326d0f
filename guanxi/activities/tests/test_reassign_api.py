# ruff: noqa: F811  (the shared fixtures are imported by name, and pytest passes them in)
"""The reassignment endpoints: holdings, starting and retrying; another workspace's ids are
404, a user without the right 403, bad input a documented error with nothing started."""

from __future__ import annotations

import pytest

from guanxi.activities.services import reassign
from guanxi.activities.tests.test_reassign_support import (  # noqa: F401
    book_of,
    leaver,
    manager_a,
    manager_b,
    rep_a1,
    rep_a2,
    rep_b,
    run,
    team_a,
    team_b,
)
from guanxi.customers.models import Account, PoolSettings
from guanxi.platform.models import Job, JobState
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

pytestmark = pytest.mark.django_db


def api_for(user, scopes=None) -> ApiClient:
    return ApiClient(make_token(user, scopes=scopes or ["read", "write"]))


def jobs_started(workspace) -> int:
    return Job.objects.in_workspace(workspace).filter(kind=reassign.JOB_KIND).count()


def test_holdings(workspace, manager_a, leaver):
    book_of(workspace, leaver, accounts=2, contacts_each=1, individuals=1)
    response = api_for(manager_a).get(f"/users/{leaver.pk}/holdings")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "user_id": leaver.pk,
        "accounts": 2,
        "contacts": 3,
        "individuals": 1,
        "customers": 3,
        "tasks": 4,
        "visit_tasks": 1,
        "commitments": 2,
        "visit_plans": 0,
    }


def test_start_then_follow_the_job(workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=2)
    api = api_for(admin_user)
    response = api.post(
        "/reassignments", {"from_user_id": leaver.pk, "mode": "one", "to_user_id": rep_a1.pk}
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "activities.reassign" and body["state"] == "queued"
    run(Job.objects.in_workspace(workspace).get(pk=body["id"]))
    status = api.get(f"/jobs/{body['id']}").json()
    assert status["state"] == "succeeded"
    assert status["result"]["receivers"][0]["user_id"] == rep_a1.pk
    assert Account.objects.in_workspace(workspace).filter(owner=rep_a1).count() == 2


def test_team_and_pool_modes(workspace, manager_a, leaver, rep_a1, team_a):
    book_of(workspace, leaver, accounts=2, individuals=0)
    api = api_for(manager_a)
    response = api.post(
        "/reassignments",
        {"from_user_id": leaver.pk, "mode": "team", "team_id": team_a.pk, "include": ["tasks"]},
    )
    assert response.status_code == 202, response.content
    assert (
        run(Job.objects.in_workspace(workspace).get(pk=response.json()["id"])).state
        == JobState.SUCCEEDED
    )
    response = api.post("/reassignments", {"from_user_id": leaver.pk, "mode": "pool"})
    assert response.status_code == 202, response.content
    job = run(Job.objects.in_workspace(workspace).get(pk=response.json()["id"]))
    assert job.state == JobState.SUCCEEDED, job.error
    assert Account.objects.in_workspace(workspace).filter(owner__isnull=True).count() == 2


@pytest.mark.parametrize(
    "body,status,code,field",
    [
        ({"mode": "one"}, 400, "invalid", "to_user_id"),
        ({"mode": "team"}, 400, "invalid", "team_id"),
        ({"mode": "sideways"}, 422, None, "mode"),
        ({"mode": "pool", "include": []}, 422, None, "include"),
        ({"mode": "pool", "include": ["deals"]}, 422, None, None),
        ({"mode": "one", "to_user_id": 0}, 422, None, None),
    ],
)
def test_bad_input_is_a_documented_error_and_starts_nothing(
    workspace, admin_user, leaver, body, status, code, field
):
    book_of(workspace, leaver, accounts=1)
    response = api_for(admin_user).post("/reassignments", {"from_user_id": leaver.pk, **body})
    assert response.status_code == status, response.content
    error = response.json()["error"]
    if code:
        assert error["code"] == code
    if field:
        assert any(field in key for key in error["fields"]), error
    assert jobs_started(workspace) == 0


def test_same_person_and_cap_refused_whole(workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=3, individuals=0)
    api = api_for(admin_user)
    response = api.post(
        "/reassignments", {"from_user_id": leaver.pk, "mode": "one", "to_user_id": leaver.pk}
    )
    assert_error(response, 400)
    PoolSettings.objects.create(workspace=workspace, max_per_rep=2)
    response = api.post(
        "/reassignments", {"from_user_id": leaver.pk, "mode": "one", "to_user_id": rep_a1.pk}
    )
    assert_error(response, 409, "pool_cap_reached")
    assert jobs_started(workspace) == 0
    assert Account.objects.in_workspace(workspace).filter(owner=leaver).count() == 3


def test_a_rep_gets_403(workspace, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    api = api_for(rep_a1)
    assert_error(api.get(f"/users/{leaver.pk}/holdings"), 403)
    response = api.post(
        "/reassignments", {"from_user_id": leaver.pk, "mode": "one", "to_user_id": rep_a1.pk}
    )
    assert_error(response, 403)
    assert jobs_started(workspace) == 0


def test_a_manager_of_another_team_gets_403(workspace, leaver, manager_b, rep_b):
    book_of(workspace, leaver, accounts=1)
    api = api_for(manager_b)
    assert_error(api.get(f"/users/{leaver.pk}/holdings"), 403)
    response = api.post(
        "/reassignments", {"from_user_id": leaver.pk, "mode": "one", "to_user_id": rep_b.pk}
    )
    assert_error(response, 403)


def test_another_workspace_gets_404(workspace, leaver, rep_a1, other_admin):
    book_of(workspace, leaver, accounts=1)
    api = api_for(other_admin)
    assert_error(api.get(f"/users/{leaver.pk}/holdings"), 404)
    response = api.post(
        "/reassignments", {"from_user_id": leaver.pk, "mode": "one", "to_user_id": rep_a1.pk}
    )
    assert_error(response, 404)
    assert jobs_started(workspace) == 0


def test_a_read_only_token_cannot_start(workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    api = api_for(admin_user, scopes=["read"])
    assert api.get(f"/users/{leaver.pk}/holdings").status_code == 200
    response = api.post(
        "/reassignments", {"from_user_id": leaver.pk, "mode": "one", "to_user_id": rep_a1.pk}
    )
    assert_error(response, 403, "insufficient_scope")


def test_retry(workspace, admin_user, leaver, rep_a1, other_admin, monkeypatch):
    book_of(workspace, leaver, accounts=2)

    def die(*args, **kwargs):
        raise RuntimeError("worker died")

    real = reassign._move_batch
    monkeypatch.setattr(reassign, "_move_batch", die)
    api = api_for(admin_user)
    response = api.post(
        "/reassignments", {"from_user_id": leaver.pk, "mode": "one", "to_user_id": rep_a1.pk}
    )
    failed = run(Job.objects.in_workspace(workspace).get(pk=response.json()["id"]))
    assert failed.state == JobState.FAILED
    monkeypatch.setattr(reassign, "_move_batch", real)
    assert_error(api_for(other_admin).post(f"/reassignments/{failed.pk}/retry"), 404)
    response = api.post(f"/reassignments/{failed.pk}/retry")
    assert response.status_code == 202, response.content
    assert (
        run(Job.objects.in_workspace(workspace).get(pk=response.json()["id"])).state
        == JobState.SUCCEEDED
    )
    assert_error(api.post(f"/reassignments/{response.json()['id']}/retry"), 409, "not_failed")
