"""The duplicates API and the as-you-type check: workspaces and rights."""

import pytest

from guanxi.customers.dedupe.check import likely_matches
from guanxi.customers.models import CandidateStatus, Contact, DuplicateCandidate
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

from .factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(workspace):
    a = ContactFactory(workspace=workspace, name="张三", mobile="+8613812345678", code="DUP-C1")
    b = ContactFactory(workspace=workspace, name="張三", mobile="+8613812345678", code="C2")
    cand = DuplicateCandidate.objects.create(
        workspace=workspace, object_key="customers.contact", left_id=a.pk, right_id=b.pk, score=0.9
    )
    return a, b, cand


def test_likely_matches_finds_by_phone_and_pinyin(workspace, admin_user, pair):
    a, _b, _c = pair
    found = likely_matches(
        workspace=workspace,
        actor=admin_user,
        object_key="customers.contact",
        values={"name": "Zhang San", "mobile": "138-1234-5678"},
    )
    assert found and found[0][0].pk in {a.pk, _b.pk} and "same_mobile" in found[0][2]


def test_list_check_dismiss_merge(workspace, admin_user, pair):
    a, b, cand = pair
    api = ApiClient(make_token(admin_user))
    body = api.get("/duplicates", object="contacts").json()
    assert [i["id"] for i in body["items"]] == [cand.pk]
    check = api.get("/duplicates/check", name="張三", mobile="13812345678")
    assert check.status_code == 200 and {m["code"] for m in check.json()} == {"DUP-C1", "C2"}
    assert api.post("/duplicates/scan", {"objects": ["contacts"]}).status_code == 202
    r = api.post(f"/duplicates/{cand.pk}/dismiss")
    assert r.status_code == 200 and r.json()["status"] == CandidateStatus.DISMISSED
    r = api.post("/contacts/merge", {"survivor_id": a.pk, "merged_id": b.pk, "choices": {}})
    assert r.status_code == 200, r.content
    assert not Contact.objects.in_workspace(workspace).filter(pk=b.pk).exists()
    assert_error(api.post("/contacts/merge", {"survivor_id": a.pk, "merged_id": a.pk}), 400)


def test_other_workspace_gets_404(workspace, other_admin, pair):
    a, b, cand = pair
    api = ApiClient(make_token(other_admin))
    assert api.get("/duplicates").json()["items"] == []
    assert_error(api.post(f"/duplicates/{cand.pk}/dismiss"), 404)
    assert_error(api.post("/contacts/merge", {"survivor_id": a.pk, "merged_id": b.pk}), 404)
    assert api.get("/duplicates/check", mobile="13812345678").json() == []


def test_user_without_right_gets_403(workspace, pair):
    a, b, _cand = pair
    viewer = UserFactory(workspace=workspace, role_code="sales_rep")
    a.owner = b.owner = viewer
    a.save()
    b.save()
    api = ApiClient(make_token(viewer, ["read", "write"]))
    assert_error(api.post("/contacts/merge", {"survivor_id": a.pk, "merged_id": b.pk}), 403)
    assert Contact.objects.in_workspace(workspace).count() == 2


def test_pages(workspace, admin_user, other_admin, pair, client):
    _a, _b, cand = pair
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    r = client.get("/customers/duplicates/")
    assert r.status_code == 200 and "DUP-C1" in r.content.decode()
    r = client.get("/customers/duplicates/check/", {"name": "張三", "mobile": "13812345678"})
    assert r.status_code == 200 and "DUP-C1" in r.content.decode()
    client.force_login(other_admin, backend="django.contrib.auth.backends.ModelBackend")
    assert "DUP-C1" not in client.get("/customers/duplicates/").content.decode()
    r = client.post(f"/customers/duplicates/{cand.pk}/resolve/", {"action": "merge"})
    assert r.status_code == 404
    assert Contact.objects.in_workspace(workspace).count() == 2
