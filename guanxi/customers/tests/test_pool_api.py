"""The pool, consent and personal-data endpoints: they work, refuse another workspace's
ids (404) and users without the right (403), and answer bad input with the error shape."""

from __future__ import annotations

import pytest

from guanxi.customers.models import Account, Consent, Contact, PoolSettings
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, full_name="Rep One", team=team)


@pytest.fixture
def manager(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_manager", team=team)


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


# --- pool ----------------------------------------------------------------------------------------


def test_pool_list_claim_release(workspace, rep):
    account = AccountFactory(workspace=workspace, name="北京星河科技有限公司")
    AccountFactory(workspace=workspace, owner=rep, name="已有主人")
    api = api_for(rep)
    response = api.get("/pool")
    assert response.status_code == 200, response.content
    assert [i["id"] for i in response.json()["items"]] == [account.pk]
    assert api.get("/pool", q="星河").json()["items"][0]["code"] == account.code
    response = api.post("/pool/claim", {"object_key": "customers.account", "record_id": account.pk})
    assert response.status_code == 200, response.content
    assert response.json()["owner"]["id"] == rep.pk
    response = api.post(
        "/pool/release",
        {"object_key": "customers.account", "record_id": account.pk, "reason": "busy"},
    )
    assert response.status_code == 200 and response.json()["owner"] is None


def test_pool_claim_conflicts_are_documented_errors(workspace, rep, manager):
    PoolSettings.objects.create(workspace=workspace, max_per_rep=1)
    mine = AccountFactory(workspace=workspace, owner=rep)
    free = AccountFactory(workspace=workspace)
    api = api_for(rep)
    body = {"object_key": "customers.account", "record_id": free.pk}
    error = assert_error(api.post("/pool/claim", body), 409, "pool_cap_reached")
    assert "1" in error["message"]
    body = {"object_key": "customers.account", "record_id": mine.pk}
    error = assert_error(api_for(manager).post("/pool/claim", body), 409)
    assert error["code"] == "owned_by_other" and "Rep One" in error["message"]


def test_pool_assign(workspace, rep, manager):
    a, b = AccountFactory.create_batch(2, workspace=workspace)
    body = {"object_key": "customers.account", "record_ids": [a.pk, b.pk], "owner_id": rep.pk}
    assert_error(api_for(rep).post("/pool/assign", body), 403)
    response = api_for(manager).post("/pool/assign", body)
    assert response.status_code == 200, response.content
    assert {i["owner"]["id"] for i in response.json()["items"]} == {rep.pk}
    assert_error(api_for(manager).post("/pool/assign", {**body, "record_ids": []}), 422)


def test_pool_settings(workspace, admin_user, rep):
    response = api_for(rep).get("/pool/settings")
    assert response.status_code == 200 and response.json()["max_per_rep"] == 0
    body = {
        "max_per_rep": 5,
        "return_after_days": 30,
        "return_on_departure": True,
        "reclaim_after_days": 3,
    }
    assert_error(api_for(rep).request("PUT", "/pool/settings", body), 403)
    response = api_for(admin_user).request("PUT", "/pool/settings", body)
    assert response.status_code == 200 and response.json()["max_per_rep"] == 5
    assert_error(
        api_for(admin_user).request("PUT", "/pool/settings", {**body, "max_per_rep": -1}),
        422,
    )
    # A token without the admin scope may not change the rules.
    token_api = api_for(admin_user, scopes=["read", "write"])
    assert_error(token_api.request("PUT", "/pool/settings", body), 403)


@pytest.mark.parametrize("path", ["/pool/claim", "/pool/release"])
def test_pool_moves_refuse_other_workspace_and_no_right(path, workspace, other_workspace, rep):
    foreign = AccountFactory(workspace=other_workspace)
    body = {"object_key": "customers.account", "record_id": foreign.pk}
    assert_error(api_for(rep).post(path, body), 404, "not_found")
    reader = UserFactory(workspace=workspace, role_code="read_only")
    mine = AccountFactory(workspace=workspace)
    body = {"object_key": "customers.account", "record_id": mine.pk}
    assert_error(api_for(reader).post(path, body), 403)
    assert_error(api_for(rep, scopes=["read"]).post(path, body), 403, "insufficient_scope")
    assert Account.objects.across_workspaces().get(pk=foreign.pk).owner_id is None


def test_pool_assign_refuses_other_workspace(workspace, other_workspace, rep, manager):
    foreign = AccountFactory(workspace=other_workspace)
    body = {"object_key": "customers.account", "record_ids": [foreign.pk], "owner_id": rep.pk}
    assert_error(api_for(manager).post("/pool/assign", body), 404)


def test_pool_list_refuses_without_right_and_hides_other_workspace(workspace, other_workspace, rep):
    AccountFactory(workspace=other_workspace)
    assert api_for(rep).get("/pool").json()["items"] == []
    nobody = UserFactory(workspace=workspace, role_code="read_only")
    nobody.role.rights = {}
    nobody.role.save()
    assert_error(api_for(nobody).get("/pool"), 403)
    assert_error(api_for(rep).get("/pool", object_key="platform.user"), 422)


# --- consent -------------------------------------------------------------------------------------


def test_consent_endpoints(workspace, rep):
    person = ContactFactory(workspace=workspace, owner=rep)
    api = api_for(rep)
    path = f"/contacts/{person.pk}/consent"
    body = {
        "channel": "email",
        "purpose": "marketing",
        "status": "granted",
        "method": "web_form",
        "notice_version": "v2",
    }
    response = api.post(path, body)
    assert response.status_code == 200, response.content
    api.post(path, {**body, "status": "withdrawn", "method": "sms"})
    state = api.get(path).json()
    assert state["items"][0]["status"] == "withdrawn"
    history = api.get(f"{path}/history").json()["items"]
    assert [h["status"] for h in history] == ["withdrawn", "granted"]
    assert_error(api.post(path, {**body, "channel": "pigeon"}), 422)
    assert_error(api.post(path, {**body, "effective_at": "2999-01-01T00:00:00Z"}), 400)


def test_consent_endpoints_refuse(workspace, other_workspace, rep):
    person = ContactFactory(workspace=workspace, owner=rep)
    foreign = ContactFactory(workspace=other_workspace)
    body = {"channel": "email", "purpose": "marketing", "status": "granted", "method": "api"}
    for contact in (foreign,):
        path = f"/contacts/{contact.pk}/consent"
        assert_error(api_for(rep).get(path), 404)
        assert_error(api_for(rep).get(f"{path}/history"), 404)
        assert_error(api_for(rep).post(path, body), 404)
    reader = UserFactory(workspace=workspace, role_code="read_only")
    path = f"/contacts/{person.pk}/consent"
    assert api_for(reader).get(path).status_code == 200
    assert_error(api_for(reader).post(path, body), 403)
    assert not Consent.objects.across_workspaces().exists()


# --- personal data and erasure -------------------------------------------------------------------


def test_personal_data_and_erase(workspace, manager, rep):
    person = ContactFactory(
        workspace=workspace, owner=manager, name="赵六", mobile="+8613700000000"
    )
    path = f"/contacts/{person.pk}"
    response = api_for(manager).get(f"{path}/personal-data")
    assert response.status_code == 200 and response.json()["fields"]["name"] == "赵六"
    assert_error(api_for(rep).post(f"{path}/erase", {"reason": "x"}), 403)  # no delete right
    assert_error(api_for(manager).post(f"{path}/erase", {"reason": ""}), 422)
    response = api_for(manager).post(f"{path}/erase", {"reason": "request"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == f"Erased {person.code}"
    assert_error(api_for(manager).post(f"{path}/erase", {"reason": "again"}), 409)
    assert Contact.objects.in_workspace(workspace).get(pk=person.pk).mobile == ""


def test_personal_data_and_erase_refuse(workspace, other_workspace, manager):
    foreign = ContactFactory(workspace=other_workspace)
    path = f"/contacts/{foreign.pk}"
    assert_error(api_for(manager).get(f"{path}/personal-data"), 404)
    assert_error(api_for(manager).post(f"{path}/erase", {"reason": "x"}), 404)
    technician = UserFactory(workspace=workspace, role_code="technician")
    mine = ContactFactory(workspace=workspace)
    path = f"/contacts/{mine.pk}"
    assert_error(api_for(technician).get(f"{path}/personal-data"), 403)
    assert_error(api_for(technician).post(f"{path}/erase", {"reason": "x"}), 403)
    assert Contact.objects.across_workspaces().filter(erased_at__isnull=False).count() == 0


def test_consent_hidden_from_the_role_is_refused(workspace, rep, client):
    from django.urls import reverse

    from guanxi.platform.models import RoleFieldRule

    person = ContactFactory(workspace=workspace, owner=rep)
    RoleFieldRule.objects.create(
        workspace=workspace,
        role=rep.role,
        object_key="customers.contact",
        field="consent",
        access="hidden",
    )
    path = f"/contacts/{person.pk}/consent"
    assert_error(api_for(rep).get(path), 403, "field_hidden")
    assert_error(api_for(rep).get(f"{path}/history"), 403, "field_hidden")
    body = {"channel": "email", "purpose": "marketing", "status": "granted", "method": "api"}
    assert_error(api_for(rep).post(path, body), 403)
    client.force_login(rep)
    url = reverse("customers:contact_consent_panel", args=[person.pk])
    assert client.get(url).status_code == 403
