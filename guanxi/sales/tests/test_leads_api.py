"""The leads API: CRUD, convert (409 the second time), score, activities, assign, status,
web forms; bad input answered with the error shape and nothing written; another
workspace's ids are 404, users without the right 403."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token
from guanxi.sales.models import Lead, LeadForm

pytestmark = pytest.mark.django_db


def api_for(user) -> ApiClient:
    return ApiClient(make_token(user, scopes=["read", "write"]))


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace)


def test_lead_crud_convert_and_score(workspace, rep):
    api = api_for(rep)
    response = api.post(
        "/leads",
        {"name": "周八", "phone": "+86 138 1234 5678", "company": "丁公司", "source": "call"},
    )
    assert response.status_code == 201, response.content
    lead = response.json()
    assert lead["phone"] == "+8613812345678" and lead["owner"]["id"] == rep.pk
    assert lead["first_response_due_at"] and not lead["first_response_overdue"]
    lead_id = lead["id"]

    assert api.get("/leads", status="open").json()["items"][0]["id"] == lead_id
    assert api.get("/leads", q="丁公司").json()["items"][0]["id"] == lead_id
    assert api.get("/leads", q="nobody").json()["items"] == []

    response = api.patch(f"/leads/{lead_id}", {"industry": "制造业", "employees": 80})
    assert response.status_code == 200 and response.json()["employees"] == 80

    response = api.post(f"/leads/{lead_id}/activities", {"kind": "call", "body": "聊过"})
    assert response.status_code == 201
    assert api.get(f"/leads/{lead_id}").json()["first_response_at"]

    score = api.get(f"/leads/{lead_id}/score").json()
    assert score["counts"]["activities"] == 1 and score["predicted_score"] is None
    assert api.post(f"/leads/{lead_id}/score").status_code == 200

    matches = api.get(f"/leads/{lead_id}/matches").json()
    assert matches == {"accounts": [], "contacts": []}
    response = api.post(f"/leads/{lead_id}/convert", {"amount": "5000.00", "deal_name": "首单"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "converted" and body["deal"]["name"] == "首单"
    assert body["account"]["name"] == "丁公司" and body["contact"]["name"] == "周八"
    assert_error(api.post(f"/leads/{lead_id}/convert", {}), 409, "already_converted")
    assert_error(api.patch(f"/leads/{lead_id}", {"name": "x"}), 409)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "", "phone": "13812345678"}, "name"),
        ({"name": "A"}, "phone"),
        ({"name": "A", "email": "nope"}, "email"),
        ({"name": "A", "phone": "555"}, "phone"),
    ],
)
def test_bad_input(workspace, rep, body, field):
    response = api_for(rep).post("/leads", body)
    error = assert_error(response, 400)
    assert field in error["fields"]
    assert not Lead.objects.in_workspace(workspace).exists()


def test_status_assign_and_delete(workspace, rep, admin_user):
    lead_id = api_for(rep).post("/leads", {"name": "A", "email": "a@x.cn"}).json()["id"]
    api = api_for(rep)
    assert_error(api.post(f"/leads/{lead_id}/status", {"status": "unqualified"}), 400)
    body = api.post(f"/leads/{lead_id}/status", {"status": "unqualified", "reason": "无需求"})
    assert body.json()["status"] == "unqualified"
    other = UserFactory(workspace=workspace)
    assert_error(api.post(f"/leads/{lead_id}/assign", {"owner_id": other.pk}), 403)
    boss = api_for(admin_user)
    assert (
        boss.post(f"/leads/{lead_id}/assign", {"owner_id": other.pk}).json()["owner"]["id"]
        == other.pk
    )
    assert_error(api.delete(f"/leads/{lead_id}"), 403)  # reps do not delete leads
    assert_error(api.get(f"/leads/{lead_id}"), 404)  # no longer the rep's
    assert boss.delete(f"/leads/{lead_id}").status_code == 204


def test_other_workspace_and_missing_rights(workspace, rep, other_admin):
    lead_id = api_for(rep).post("/leads", {"name": "A", "email": "a@x.cn"}).json()["id"]
    outsider = api_for(other_admin)
    for call in (
        lambda: outsider.get(f"/leads/{lead_id}"),
        lambda: outsider.patch(f"/leads/{lead_id}", {"name": "x"}),
        lambda: outsider.get(f"/leads/{lead_id}/score"),
        lambda: outsider.post(f"/leads/{lead_id}/convert", {}),
        lambda: outsider.post(f"/leads/{lead_id}/activities", {"kind": "note", "body": "x"}),
        lambda: outsider.delete(f"/leads/{lead_id}"),
    ):
        assert_error(call(), 404)
    assert outsider.get("/leads").json()["items"] == []
    technician = api_for(UserFactory(workspace=workspace, role_code="technician"))
    assert_error(technician.get("/leads"), 403)
    assert_error(technician.post("/leads", {"name": "A", "email": "a@x.cn"}), 403)
    assert_error(technician.get(f"/leads/{lead_id}"), 403)
    # A read-only token may not write.
    reader = ApiClient(make_token(rep, scopes=["read"]))
    assert_error(reader.post("/leads", {"name": "A", "email": "b@x.cn"}), 403)


def test_lead_forms(workspace, admin_user, rep, other_admin):
    api = api_for(admin_user)
    response = api.post("/lead-forms", {"name": "官网", "campaign": "春", "fields": ["company"]})
    assert response.status_code == 201, response.content
    form = response.json()
    assert form["public_url"].endswith(f"/f/{form['public_key']}/")
    assert api.get("/lead-forms").json()["items"][0]["id"] == form["id"]
    assert api.patch(f"/lead-forms/{form['id']}", {"active": False}).json()["active"] is False
    assert_error(api.post("/lead-forms", {"name": "x", "fields": ["salary"]}), 422)
    assert_error(api.post("/lead-forms", {"name": "x", "redirect_url": "javascript:1"}), 400)
    # Reps read forms but may not change them; other workspaces do not see them.
    assert api_for(rep).get(f"/lead-forms/{form['id']}").status_code == 200
    assert_error(api_for(rep).patch(f"/lead-forms/{form['id']}", {"name": "y"}), 403)
    assert_error(api_for(other_admin).get(f"/lead-forms/{form['id']}"), 404)
    assert_error(api_for(other_admin).delete(f"/lead-forms/{form['id']}"), 404)
    assert api.delete(f"/lead-forms/{form['id']}").status_code == 204
    assert not LeadForm.objects.in_workspace(workspace).exists()


def test_configuration_endpoints(workspace, admin_user, rep, other_admin, settings, tmp_path):
    api = api_for(admin_user)
    response = api.post(
        "/lead-scoring-rules",
        {
            "kind": "fit",
            "attribute": "industry",
            "operator": "equals",
            "value": "能源",
            "points": 9,
        },
    )
    assert response.status_code == 201, response.content
    rule_id = response.json()["id"]
    assert api.patch(f"/lead-scoring-rules/{rule_id}", {"points": 12}).json()["points"] == 12
    assert_error(
        api.post(
            "/lead-scoring-rules",
            {
                "kind": "fit",
                "attribute": "employees",
                "operator": "contains",
                "value": "x",
                "points": 1,
            },
        ),
        400,
    )
    assert [r["id"] for r in api.get("/lead-scoring-rules").json()] == [rule_id]

    response = api.post(
        "/lead-assignment-rules",
        {
            "name": "华东",
            "method": "territory",
            "conditions": {"region": ["华东"]},
            "rep_ids": [rep.pk],
        },
    )
    assert response.status_code == 201, response.content
    assignment = response.json()
    assert assignment["conditions"] == {"region": ["华东"]} and assignment["rep_ids"] == [rep.pk]
    assert_error(
        api.post(
            "/lead-assignment-rules", {"name": "x", "method": "load", "rep_ids": [other_admin.pk]}
        ),
        400,
    )
    changed = api.patch(f"/lead-assignment-rules/{assignment['id']}", {"order": 5, "rep_ids": []})
    assert changed.json()["order"] == 5 and changed.json()["rep_ids"] == []

    response = api.put(f"/rep-profiles/{rep.pk}", {"territories": ["华东"], "max_open_leads": 3})
    assert response.status_code == 200 and response.json()["territories"] == ["华东"]
    assert any(p["user"]["id"] == rep.pk for p in api.get("/rep-profiles").json())
    assert_error(api.put(f"/rep-profiles/{other_admin.pk}", {}), 404)

    model = api.get("/lead-model").json()
    assert model["ready"] is False and model["trained_at"] is None
    assert_error(api.post("/lead-model/retrain"), 422, "not_enough_history")

    settings.IMPORT_DIR = tmp_path
    response = api.client.post(
        "/api/v1/lead-imports",
        {"file": SimpleUploadedFile("l.csv", "name,email\n甲,a@x.cn\n".encode()), "campaign": "c"},
        headers=api.headers,
    )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "sales.leads_import"

    # Reps read the configuration but may not change it; other workspaces see none of it.
    reader = api_for(rep)
    assert reader.get("/lead-scoring-rules").status_code == 200
    assert_error(reader.patch(f"/lead-scoring-rules/{rule_id}", {"points": 1}), 403)
    assert_error(reader.post("/lead-model/retrain"), 403)
    assert_error(reader.delete(f"/lead-assignment-rules/{assignment['id']}"), 403)
    outsider = api_for(other_admin)
    assert outsider.get("/lead-scoring-rules").json() == []
    assert outsider.get("/lead-assignment-rules").json() == []
    assert_error(outsider.patch(f"/lead-scoring-rules/{rule_id}", {"points": 1}), 404)
    assert_error(outsider.delete(f"/lead-assignment-rules/{assignment['id']}"), 404)
    assert all(p["user"]["id"] != rep.pk for p in outsider.get("/rep-profiles").json())
    assert api.delete(f"/lead-scoring-rules/{rule_id}").status_code == 204
    assert api.delete(f"/lead-assignment-rules/{assignment['id']}").status_code == 204
