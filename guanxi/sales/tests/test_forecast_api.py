"""The forecast endpoints: they work, refuse another workspace's ids (404) and users without
the right (403), and answer bad input with the documented error shape, writing nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token
from guanxi.sales.models import DealStatus, Quota

from .forecast_support import SHANGHAI, make_deal, no_rights_user, org_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def api_for(user) -> ApiClient:
    scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


def at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12), tzinfo=SHANGHAI)


def test_quotas_crud(workspace, org):
    api = api_for(org["manager"])
    response = api.post(
        "/quotas", {"period": "2026-Q4", "user_id": org["li"].pk, "amount": "500000"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == "2026-Q4" and body["user"]["full_name"] == "李娜"
    assert body["team"] is None and body["amount"] == "500000.00"
    team = api.post("/quotas", {"period": "2026-Q4", "team_id": org["east"].pk, "amount": 9e5})
    assert team.status_code == 200 and team.json()["team"]["name"] == "华东"
    listed = api.get("/quotas", period="2026-Q4").json()
    assert {q["amount"] for q in listed} == {"500000.00", "900000.00"}
    changed = api.put(f"/quotas/{body['id']}", {"amount": "550000"})
    assert changed.status_code == 200 and changed.json()["amount"] == "550000.00"
    assert api.request("DELETE", f"/quotas/{body['id']}").status_code == 204
    assert Quota.objects.in_workspace(workspace).count() == 1


def test_quotas_bad_input_writes_nothing(workspace, org):
    api = api_for(org["manager"])
    error = assert_error(
        api.post("/quotas", {"period": "2026-Q9", "user_id": org["li"].pk, "amount": "-3"}), 400
    )
    assert set(error["fields"]) == {"period", "amount"}
    assert_error(api.post("/quotas", {"period": "2026", "amount": "1"}), 400)
    assert_error(
        api.post("/quotas", {"period": "2026", "user_id": org["li"].pk, "amount": "abc"}), 422
    )
    assert_error(api.get("/quotas", period="soon"), 400)
    assert not Quota.objects.in_workspace(workspace).exists()


def test_quotas_other_workspace_and_rights(workspace, org, other_admin):
    quota = api_for(org["director"]).post(
        "/quotas", {"period": "2026", "user_id": org["sun"].pk, "amount": "1"}
    )
    quota_id = quota.json()["id"]
    foreign = api_for(other_admin)
    assert foreign.get("/quotas", period="2026").json() == []
    assert_error(foreign.put(f"/quotas/{quota_id}", {"amount": "2"}), 404)
    assert_error(foreign.request("DELETE", f"/quotas/{quota_id}"), 404)
    assert_error(
        foreign.post("/quotas", {"period": "2026", "user_id": org["sun"].pk, "amount": "2"}), 400
    )
    rep = api_for(org["li"])
    assert_error(
        rep.post("/quotas", {"period": "2026", "user_id": org["li"].pk, "amount": "2"}), 403
    )
    assert_error(rep.put(f"/quotas/{quota_id}", {"amount": "2"}), 403)
    assert_error(api_for(no_rights_user(workspace)).get("/quotas", period="2026"), 403)
    # The East manager does not see the North rep's quota.
    assert_error(api_for(org["manager"]).put(f"/quotas/{quota_id}", {"amount": "2"}), 404)
    assert Quota.objects.in_workspace(workspace).get().amount == 1


@pytest.fixture
def deals(workspace, org):
    make_deal(
        workspace, org["li"], amount="300000", status=DealStatus.WON, closed_at=at("2026-11-02")
    )
    make_deal(
        workspace,
        org["li"],
        amount="100000",
        category="commit",
        probability=70,
        close=dt.date(2026, 12, 1),
    )
    make_deal(
        workspace,
        org["sun"],
        amount="50000",
        category="pipeline",
        probability=10,
        close=dt.date(2026, 10, 9),
    )
    api_for(org["director"]).post(
        "/quotas", {"period": "2026-Q4", "user_id": org["li"].pk, "amount": "600000"}
    )


def test_forecast_endpoint(workspace, org, deals):
    body = api_for(org["director"]).get("/forecast", period="2026-Q4").json()
    assert body["period"] == "2026-Q4" and body["currency"] == "CNY"
    li = next(r for r in body["items"] if r["user"] and r["user"]["full_name"] == "李娜")
    assert li["closed_won"] == "300000.00" and li["commit"] == "100000.00"
    assert li["weighted"] == "70000.00" and li["attainment"] == "50.0"
    assert body["total"]["pipeline"] == "50000.00"
    teams = (
        api_for(org["director"])
        .get("/forecast", period="2026-Q4", kind="team", team=org["east"].pk)
        .json()
    )
    assert [r["team"]["name"] for r in teams["items"]] == ["华东"]
    drill = (
        api_for(org["director"])
        .get("/forecast/deals", period="2026-Q4", column="open", team=org["sales"].pk)
        .json()
    )
    assert len(drill["items"]) == 2 and drill["next_cursor"] is None


def test_forecast_other_workspace_and_rights(workspace, org, deals, other_admin):
    foreign = api_for(other_admin)
    body = foreign.get("/forecast", period="2026-Q4").json()
    assert body["total"]["closed_won"] == "0.00" and all(
        r["user"]["full_name"] not in ("李娜", "孙伟") for r in body["items"]
    )
    assert_error(foreign.get("/forecast", period="2026-Q4", team=org["east"].pk), 404)
    assert_error(
        foreign.get("/forecast/deals", period="2026-Q4", column="open", owner=org["li"].pk), 404
    )
    rep = api_for(org["li"])
    assert [
        r["user"]["full_name"] for r in rep.get("/forecast", period="2026-Q4").json()["items"]
    ] == ["李娜"]
    assert_error(
        rep.get("/forecast/deals", period="2026-Q4", column="open", owner=org["sun"].pk), 404
    )
    assert_error(api_for(no_rights_user(workspace)).get("/forecast", period="2026-Q4"), 403)
    assert_error(api_for(org["li"]).get("/forecast", period="2026-13"), 400)
    assert_error(api_for(org["li"]).get("/forecast", period="2026", kind="region"), 422)


def test_performance_and_leaderboard(workspace, org, deals, other_admin):
    body = api_for(org["director"]).get("/performance", period="2026-Q4").json()
    li = next(r for r in body["items"] if r["user"]["full_name"] == "李娜")
    assert li["won"] == 1 and li["win_rate"] == "100.0" and li["open_count"] == 1
    assert li["activities"] == {"call": 0, "visit": 0, "meeting": 0, "email": 0, "total": 0}
    board = api_for(org["director"]).get("/leaderboard", period="2026-Q4").json()
    assert [r["user"]["full_name"] for r in board["won_amount"]] == ["李娜"]
    assert_error(
        api_for(org["manager"]).get("/performance", period="2026", user_id=org["sun"].pk), 404
    )
    foreign = api_for(other_admin).get("/leaderboard", period="2026-Q4").json()
    assert foreign["won_amount"] == [] and foreign["win_rate"] == []
    assert_error(api_for(no_rights_user(workspace)).get("/leaderboard", period="2026"), 403)
    assert_error(api_for(no_rights_user(workspace)).get("/performance", period="2026"), 403)


def test_suggested_owners(workspace, org, other_admin):
    account = AccountFactory(workspace=workspace, industry="制造业")
    for _ in range(3):
        make_deal(
            workspace,
            org["zhao"],
            amount="400000",
            status=DealStatus.WON,
            closed_at=at("2026-06-01"),
            account=account,
        )
    deal = make_deal(
        workspace,
        org["li"],
        amount="420000",
        close=dt.date(2026, 12, 1),
        account=AccountFactory(workspace=workspace, industry="制造业"),
    )
    response = api_for(org["manager"]).get(f"/deals/{deal.pk}/suggested-owners")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body[0]["user"]["full_name"] == "赵强"
    assert body[0]["reasons"][0].startswith("won 3 of 3 deals in 制造业")
    assert len(body) <= 3
    assert_error(api_for(other_admin).get(f"/deals/{deal.pk}/suggested-owners"), 404)
    assert_error(api_for(org["li"]).get(f"/deals/{deal.pk}/suggested-owners"), 403)
    assert_error(api_for(org["manager"]).get("/deals/99999999/suggested-owners"), 404)
