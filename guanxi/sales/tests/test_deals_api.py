"""The deals' API: pipelines, deals (create, list with filters and cursor, get, patch,
move, win, lose, reopen, reassign), lost reasons and competitors — with the error shapes,
other workspaces (404) and users without the right (403)."""

from __future__ import annotations

import pytest

from guanxi.platform.tests.test_api_support import assert_error
from guanxi.sales.models import Deal

from .deals_support import *  # noqa: F403
from .deals_support import api_for

pytestmark = pytest.mark.django_db


def test_pipelines_and_lists(workspace, rep, manager, sales):
    api = api_for(rep)
    pipelines = api.get("/pipelines").json()
    assert pipelines[0]["is_default"] and [s["kind"] for s in pipelines[0]["stages"]][-2:] == [
        "won",
        "lost",
    ]
    assert api.get("/lost-reasons").json()[0]["name"] == sales["reason"].name
    assert_error(api.post("/pipelines", {"name": "项目"}), 403)
    assert_error(api.post("/competitors", {"name": "对手"}), 403)
    boss = api_for(manager)
    created = boss.post("/pipelines", {"name": "项目"})
    assert created.status_code == 201, created.content
    pipeline = created.json()
    response = boss.post(f"/pipelines/{pipeline['id']}/stages", {"name": "方案", "probability": 40})
    assert response.status_code == 201 and response.json()["stages"][1]["name"] == "方案"
    ids = [s["id"] for s in response.json()["stages"]]
    reordered = boss.put(
        f"/pipelines/{pipeline['id']}/stages/order", {"stage_ids": [ids[1], ids[0], *ids[2:]]}
    )
    assert [s["id"] for s in reordered.json()["stages"]][:2] == [ids[1], ids[0]]
    assert_error(boss.put(f"/pipelines/{pipeline['id']}/stages/order", {"stage_ids": ids[:2]}), 400)
    assert boss.post("/competitors", {"name": "对手"}).status_code == 201
    assert_error(boss.post("/competitors", {"name": "对手"}), 409)
    assert api.get("/competitors").json()[0]["name"] == "对手"
    assert boss.post("/lost-reasons", {"name": "不需要了"}).status_code == 201


def test_deal_lifecycle(workspace, rep, account, sales):
    api = api_for(rep)
    response = api.post(
        "/deals", {"name": "API 单", "account_id": account.pk, "amount": "1000", "currency": "USD"}
    )
    assert response.status_code == 201, response.content
    deal = response.json()
    assert deal["amount_base"] == "7100.00" and deal["stage"]["id"] == sales["stages"]["open1"].pk
    deal_id = deal["id"]
    patched = api.patch(f"/deals/{deal_id}", {"version": 1, "name": "改名", "probability": 35})
    assert patched.status_code == 200 and patched.json()["probability"] == 35
    assert_error(api.patch(f"/deals/{deal_id}", {"version": 1, "name": "再改"}), 409)
    moved = api.post(
        f"/deals/{deal_id}/move", {"stage_id": sales["stages"]["open2"].pk, "version": 2}
    )
    assert moved.status_code == 200 and moved.json()["stage"]["id"] == sales["stages"]["open2"].pk
    lost = api.post(f"/deals/{deal_id}/lose", {"version": 3})
    assert_error(lost, 422, "reason_required")
    lost = api.post(f"/deals/{deal_id}/lose", {"version": 3, "reason_id": sales["reason"].pk})
    assert lost.json()["status"] == "lost" and lost.json()["lost_reason"]["id"] == (
        sales["reason"].pk
    )
    assert api.post(f"/deals/{deal_id}/reopen", {}).json()["status"] == "open"
    won = api.post(f"/deals/{deal_id}/win", {})
    assert won.json()["status"] == "won" and won.json()["probability"] == 100
    assert_error(api.post(f"/deals/{deal_id}/win", {}), 409)


def test_list_filters_and_cursor(workspace, rep, rep2, manager, sales):
    for i in range(3):
        api_for(rep).post("/deals", {"name": f"r{i}"})
    api_for(rep2).post("/deals", {"name": "other", "expected_close_date": "2030-01-15"})
    boss = api_for(manager)
    page = boss.get("/deals", limit=2).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = boss.get("/deals", limit=2, cursor=page["next_cursor"]).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert [d["name"] for d in boss.get("/deals", owner=str(rep2.pk)).json()["items"]] == ["other"]
    assert len(boss.get("/deals", close_from="2030-01-01").json()["items"]) == 1
    assert len(api_for(rep).get("/deals", owner="mine").json()["items"]) == 3
    assert api_for(rep).get("/deals", stale="true").json()["items"] == []
    assert_error(boss.get("/deals", status="maybe"), 422)
    assert_error(boss.get("/deals", cursor="garbage"), 400, "invalid_cursor")


def test_reassign(workspace, rep, rep2, manager, sales):
    deal = api_for(rep).post("/deals", {"name": "交接"}).json()
    assert_error(api_for(rep).post(f"/deals/{deal['id']}/reassign", {"owner_id": rep2.pk}), 403)
    moved = api_for(manager).post(f"/deals/{deal['id']}/reassign", {"owner_id": rep2.pk})
    assert moved.status_code == 200 and moved.json()["owner"]["id"] == rep2.pk


def test_other_workspace_and_rights(workspace, rep, outsider, reader, other_admin, sales):
    deal_id = api_for(rep).post("/deals", {"name": "秘密"}).json()["id"]
    stage = sales["stages"]["open2"].pk
    for user, read, write in ((other_admin, 404, 404), (outsider, 404, 404), (reader, 200, 403)):
        api = api_for(user)
        assert api.get(f"/deals/{deal_id}").status_code == read
        assert_error(api.post(f"/deals/{deal_id}/move", {"stage_id": stage, "version": 1}), write)
        assert_error(api.post(f"/deals/{deal_id}/win", {}), write)
        assert_error(api.patch(f"/deals/{deal_id}", {"version": 1, "name": "x"}), write)
    assert_error(api_for(reader).post("/deals", {"name": "x"}), 403)
    assert api_for(other_admin).get("/deals").json()["items"] == []
    assert_error(
        api_for(other_admin).post(
            f"/pipelines/{sales['pipeline'].pk}/stages", {"name": "x", "probability": 1}
        ),
        404,
    )
    assert Deal.objects.in_workspace(workspace).get(pk=deal_id).name == "秘密"


def test_bad_input_is_the_error_shape(workspace, rep, sales):
    api = api_for(rep)
    response = api.post("/deals", {"name": "x", "currency": "EUR", "amount": "5"})
    assert "currency" in assert_error(response, 400)["fields"]
    assert_error(api.post("/deals", {"name": "", "amount": "-1"}), 422)
    assert not Deal.objects.in_workspace(workspace).exists()
