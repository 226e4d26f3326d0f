"""The surveys and trends endpoints: results list with filters and cursor pages, per-agent
figures, CSV, settings, trends; bad input in the error shape (nothing written); another
workspace's surveys are not there; users without the right get 403."""

from __future__ import annotations

import pytest

from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token
from guanxi.service.models import Survey, SurveySettings
from guanxi.service.services import surveys

from .surveys_support import *  # noqa: F403
from .surveys_support import case_type, resolved_case, survey_token

pytestmark = pytest.mark.django_db


def api_for(user, scopes=("read", "write")) -> ApiClient:
    return ApiClient(make_token(user, scopes=list(scopes)))


def _answered(admin, agent, contact, score, comment=""):
    case = resolved_case(admin, contact, assignee=agent.pk)
    survey = Survey.objects.in_workspace(admin.workspace).get(case=case)
    surveys.survey_answer(token=survey_token(survey), score=score, comment=comment)
    return survey


def test_list_filters_and_pages(admin, agent, other_agent, emailed):
    first = _answered(admin, agent, emailed, 5, "好")
    second = _answered(admin, other_agent, emailed, 1, "差")
    pending = resolved_case(admin, emailed, assignee=agent.pk)
    api = api_for(admin)
    body = api.get("/service/surveys").json()
    assert [s["id"] for s in body["items"]] == [second.pk, first.pk]
    item = body["items"][1]
    assert item["score"] == 5 and item["comment"] == "好" and item["channel"] == "email"
    assert item["agent"] == {"id": agent.pk, "name": agent.full_name}
    assert item["case"]["number"] == first.case.number and item["round"] == 1
    assert item["contact"]["id"] == emailed.pk
    paged = api.get("/service/surveys", limit=1).json()
    assert len(paged["items"]) == 1 and paged["next_cursor"]
    rest = api.get("/service/surveys", limit=1, cursor=paged["next_cursor"]).json()
    assert [s["id"] for s in rest["items"]] == [first.pk]
    assert [s["id"] for s in api.get("/service/surveys", agent_id=agent.pk).json()["items"]] == [
        first.pk
    ]
    assert [s["id"] for s in api.get("/service/surveys", score=1).json()["items"]] == [second.pk]
    waiting = api.get("/service/surveys", state="pending").json()["items"]
    assert [s["case"]["id"] for s in waiting] == [pending.pk]
    assert len(api.get("/service/surveys", state="all").json()["items"]) == 3
    assert [
        s["id"] for s in api.get("/service/surveys", case_id=first.case_id).json()["items"]
    ] == [first.pk]
    fault = case_type(admin.workspace, "fault")
    assert len(api.get("/service/surveys", case_type_id=fault.pk).json()["items"]) == 2
    assert api.get("/service/surveys", start="2000-01-01", end="2000-01-31").json()["items"] == []


def test_agent_figures(admin, agent, other_agent, emailed):
    _answered(admin, agent, emailed, 5)
    _answered(admin, agent, emailed, 2)
    _answered(admin, other_agent, emailed, 4)
    resolved_case(admin, emailed, assignee=other_agent.pk)
    body = api_for(admin).get("/service/surveys/agents").json()
    rows = {row["agent"]["id"]: row for row in body["agents"]}
    assert rows[agent.pk]["sent"] == 2 and rows[agent.pk]["average"] == 3.5
    assert rows[other_agent.pk]["response_rate"] == 50.0
    assert body["total"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert body["total"]["answered"] == 3 and body["total"]["sent"] == 4


def test_agent_sees_own_results_only_and_may_not_export(admin, agent, other_agent, emailed):
    mine = _answered(admin, agent, emailed, 5)
    _answered(admin, other_agent, emailed, 1)
    api = api_for(agent)
    assert [s["id"] for s in api.get("/service/surveys").json()["items"]] == [mine.pk]
    assert [r["agent"]["id"] for r in api.get("/service/surveys/agents").json()["agents"]] == [
        agent.pk
    ]
    assert_error(api.get("/service/surveys/export"), 403)


def test_export_csv(admin, agent, emailed):
    _answered(admin, agent, emailed, 3, "+1 还可以")
    response = api_for(admin).get("/service/surveys/export")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("case_number,") and len(lines) == 2
    assert "'+1 还可以" in lines[1]


def test_settings(admin, agent, service_ws):
    api = api_for(admin)
    assert api.get("/service/surveys/settings").json() == {"enabled": True, "case_type_ids": []}
    complaint = case_type(service_ws, "complaint")
    response = api.put(
        "/service/surveys/settings", {"enabled": False, "case_type_ids": [complaint.pk]}
    )
    assert response.status_code == 200
    assert response.json() == {"enabled": False, "case_type_ids": [complaint.pk]}
    assert_error(
        api.put("/service/surveys/settings", {"enabled": True, "case_type_ids": [99999]}), 400
    )
    assert_error(api.put("/service/surveys/settings", {"enabled": "maybe"}), 422)
    row = SurveySettings.objects.in_workspace(service_ws).get()
    assert (row.enabled, row.case_type_ids) == (False, [complaint.pk])
    agent_api = api_for(agent)
    assert agent_api.get("/service/surveys/settings").status_code == 200
    assert_error(agent_api.put("/service/surveys/settings", {"enabled": True}), 403)
    # A read-only token may not change them either.
    assert_error(
        api_for(admin, scopes=["read"]).put("/service/surveys/settings", {"enabled": True}), 403
    )


def test_trends(admin, emailed):
    resolved_case(admin, emailed, kind="complaint")
    resolved_case(admin, emailed, kind="fault")
    api = api_for(admin)
    body = api.get("/service/trends").json()
    assert body["period"] == "month" and body["kind"] == "complaint" and len(body["periods"]) == 12
    now = body["periods"][-1]
    assert (now["cases"], now["matched"], now["share"], now["resolved"]) == (2, 1, 50.0, 1)
    assert body["revenue"]["upsell_days"] == 90
    weeks = api.get("/service/trends", period="week", periods=4, kind="all").json()
    assert len(weeks["periods"]) == 4 and weeks["periods"][-1]["matched"] == 2
    assert weeks["kind"] == "all"
    for params in ({"period": "decade"}, {"periods": 1}, {"kind": "praise"}, {"category_id": 0}):
        assert_error(api.get("/service/trends", **params), 422)


def test_no_right_is_refused(admin, nobody, emailed):
    resolved_case(admin, emailed)
    api = api_for(nobody)
    for path in (
        "/service/surveys",
        "/service/surveys/agents",
        "/service/surveys/export",
        "/service/surveys/settings",
        "/service/trends",
    ):
        assert_error(api.get(path), 403)
    assert_error(api.put("/service/surveys/settings", {"enabled": False}), 403)


def test_signed_out_is_refused(admin, emailed):
    resolved_case(admin, emailed)
    assert_error(ApiClient().get("/service/surveys"), 401)
    assert_error(ApiClient().get("/service/trends"), 401)


def test_other_workspace_sees_nothing(admin, agent, emailed, other_admin):
    survey = _answered(admin, agent, emailed, 1, "秘密")
    api = api_for(other_admin)
    assert api.get("/service/surveys", state="all").json()["items"] == []
    assert api.get("/service/surveys", case_id=survey.case_id).json()["items"] == []
    assert api.get("/service/surveys/agents").json()["agents"] == []
    assert "秘密" not in api.get("/service/surveys/export").content.decode("utf-8-sig")
    assert all(p["cases"] == 0 for p in api.get("/service/trends").json()["periods"])
    assert api.get("/service/surveys/settings").json() == {"enabled": True, "case_type_ids": []}
