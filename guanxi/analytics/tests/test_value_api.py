# ruff: noqa: F811  (the shared fixtures are imported by name, and pytest passes them in)
"""The customer-value endpoints: Pareto figures, classes and rules, recompute, one
customer's value; another workspace's records are 404, a user without the right 403,
bad input a documented error with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.analytics.models import ValueRun, ValueSettings
from guanxi.analytics.services import value
from guanxi.analytics.tests.value_support import D, add_order, nobody  # noqa: F401
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform import jobs
from guanxi.platform.models import Job
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

pytestmark = pytest.mark.django_db
YEAR = 2025


def api_for(user, scopes=None) -> ApiClient:
    return ApiClient(make_token(user, scopes=scopes or ["read", "write"]))


@pytest.fixture
def book(workspace):
    accounts = [AccountFactory(workspace=workspace) for _ in range(5)]
    for account, amount in zip(accounts, ["500", "200", "100", "100", "100"], strict=True):
        add_order(workspace, account=account, day=dt.date(YEAR, 4, 1), amounts=[amount])
    person = ContactFactory(workspace=workspace)
    add_order(workspace, contact=person, day=dt.date(YEAR - 1, 4, 1), amounts=["10.05"])
    add_order(workspace, contact=person, day=dt.date(YEAR, 4, 1), amounts=["0.10", "0.20"])
    value.value_recompute(workspace=workspace, year=YEAR)
    return accounts, person


def test_pareto_figures(workspace, admin_user, book):
    body = api_for(admin_user).get("/analytics/pareto").json()
    assert (body["year"], body["customers"], body["revenue"]) == (YEAR, 6, "1000.30")
    assert len(body["points"]) == 201 and body["run_id"] and body["run_seconds"] is not None
    top = {p["percent"]: p for p in body["top"]}
    assert set(top) == {"1.0", "5.0", "10.0", "20.0", "50.0"}
    assert (top["20.0"]["customers"], top["20.0"]["revenue"], top["20.0"]["share"]) == (
        2,
        "700.00",
        "69.9790",
    )
    assert top["50.0"]["revenue"] == "800.00"  # 3 of 6: 500 + 200 + 100
    # Another year is computed from the stored revenue: 2024 had the person only.
    other = api_for(admin_user).get("/analytics/pareto", year=YEAR - 1).json()
    assert (other["customers"], other["revenue"], other["run_id"]) == (1, "10.05", None)


def test_classes_and_rules(workspace, admin_user, book):
    api = api_for(admin_user)
    body = api.get("/analytics/classes").json()
    assert body["counts"] == {"A": 2, "B": 0, "C": 4} and body["year"] == YEAR
    assert body["rules"]["a_account_types"] == ["agent"]
    response = api.patch("/analytics/classes/rules", {"a_top_percent": "50", "b_years": 1})
    assert response.status_code == 200, response.content
    assert response.json()["rules"]["a_top_percent"] == "50.00"
    assert ValueSettings.objects.in_workspace(workspace).get().b_years == 1
    assert_error(api.patch("/analytics/classes/rules", {"a_top_percent": "101"}), 422)
    assert_error(api.patch("/analytics/classes/rules", {"a_account_types": ["alien"]}), 422)
    assert_error(api.patch("/analytics/classes/rules", {"b_years": 0}), 422)
    assert ValueSettings.objects.in_workspace(workspace).get().a_top_percent == D(50)


def test_recompute_starts_a_job(workspace, admin_user, book, django_capture_on_commit_callbacks):
    api = api_for(admin_user)
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/analytics/recompute", {"year": YEAR})
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "analytics.value_recompute"
    assert_error(api.post("/analytics/recompute", {}), 409, "value_recompute_running")
    jobs.run_job(response.json()["id"])
    status = api.get(f"/jobs/{response.json()['id']}").json()
    assert status["state"] == "succeeded" and status["result"]["year"] == YEAR
    assert_error(api.post("/analytics/recompute", {"year": 12}), 422)


def test_customer_value(workspace, admin_user, book):
    accounts, person = book
    body = api_for(admin_user).get(f"/analytics/customers/account/{accounts[0].pk}/value").json()
    assert body["value_class"] == "A"
    assert body["years"] == [{"year": YEAR, "revenue": "500.00", "lines": 1}]
    assert [(h["from_class"], h["to_class"], h["reason"]) for h in body["history"]] == [
        ("", "A", "top_share")
    ]
    body = api_for(admin_user).get(f"/analytics/customers/contact/{person.pk}/value").json()
    assert [y["revenue"] for y in body["years"]] == ["10.05", "0.30"]
    assert_error(api_for(admin_user).get(f"/analytics/customers/lead/{person.pk}/value"), 422)


def test_another_workspace_sees_and_changes_nothing(
    workspace, admin_user, other_admin, book, django_capture_on_commit_callbacks
):
    accounts, person = book
    theirs = api_for(other_admin)
    assert_error(theirs.get(f"/analytics/customers/account/{accounts[0].pk}/value"), 404)
    assert_error(theirs.get(f"/analytics/customers/contact/{person.pk}/value"), 404)
    assert theirs.get("/analytics/pareto").json()["customers"] == 0
    assert theirs.get("/analytics/classes").json()["counts"] is None
    with django_capture_on_commit_callbacks(execute=False):
        assert theirs.post("/analytics/recompute", {}).status_code == 202
    assert not Job.objects.in_workspace(workspace).exists()
    theirs.patch("/analytics/classes/rules", {"a_top_percent": "1"})
    assert ValueSettings.objects.in_workspace(workspace).get().a_top_percent == D(20)


def test_users_without_the_right(workspace, admin_user, nobody, book):
    accounts, _person = book
    api = api_for(nobody)
    assert_error(api.get("/analytics/pareto"), 403)
    assert_error(api.get("/analytics/classes"), 403)
    assert_error(api.get(f"/analytics/customers/account/{accounts[0].pk}/value"), 403)
    assert_error(api.post("/analytics/recompute", {}), 403)
    rep = api_for(UserFactory(workspace=workspace))  # reads, may not recompute or change rules
    assert rep.get("/analytics/pareto").status_code == 200
    assert_error(rep.post("/analytics/recompute", {}), 403)
    assert_error(rep.patch("/analytics/classes/rules", {"b_years": 3}), 403)
    # a rep sees only their own customers: someone else's account is not found
    assert_error(rep.get(f"/analytics/customers/account/{accounts[0].pk}/value"), 404)
    assert ValueRun.objects.in_workspace(workspace).count() == 1
