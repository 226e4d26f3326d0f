"""``/accounts`` and ``/contacts``: CRUD with custom fields and nested rows, search and
filters, stages, tags; every endpoint refuses another workspace (404) and a role without
the right (403); 撞单 is a documented 409; the page size does not change the query count."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.api import accounts as accounts_api
from guanxi.customers.api import contacts as contacts_api
from guanxi.customers.models import Account, Address, BankAccount, Contact, ContactPoint
from guanxi.customers.services import records
from guanxi.platform import services as platform_services
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import (  # noqa: F401  (fixtures)
    ApiClient,
    api_fixture,
    assert_error,
    make_token,
    rep_api_fixture,
    sales_rep_fixture,
)

pytestmark = pytest.mark.django_db


def ws(user):
    return {"actor": user, "workspace": user.workspace}


def _records_of(user):
    a = records.account_create(**ws(user), name="甲科技有限公司")
    c = records.contact_create(**ws(user), name="张三", account_id=a.pk)
    addr = records.address_add(
        **ws(user), object_key="customers.account", record_id=a.pk, kind="office"
    )
    caddr = records.address_add(
        **ws(user), object_key="customers.contact", record_id=c.pk, kind="home"
    )
    pt = records.point_add(
        **ws(user), object_key="customers.account", record_id=a.pk, kind="email", value="a@x.cn"
    )
    cpt = records.point_add(
        **ws(user), object_key="customers.contact", record_id=c.pk, kind="email", value="c@x.cn"
    )
    bank = records.bank_account_add(**ws(user), account_id=a.pk, bank_name="B", account_number="1")
    return {
        "a": a.pk,
        "c": c.pk,
        "addr": addr.pk,
        "caddr": caddr.pk,
        "pt": pt.pk,
        "cpt": cpt.pk,
        "bank": bank.pk,
    }


ENDPOINTS = [
    ("GET", "/accounts/{a}", None),
    ("PATCH", "/accounts/{a}", {"notes": "x"}),
    ("DELETE", "/accounts/{a}", None),
    ("POST", "/accounts/{a}/stage", {"kind": "lifecycle", "to_stage": "new"}),
    ("GET", "/accounts/{a}/stages", None),
    ("PUT", "/accounts/{a}/tags", {"names": ["x"]}),
    ("POST", "/accounts/{a}/addresses", {"kind": "invoice"}),
    ("DELETE", "/accounts/{a}/addresses/{addr}", None),
    ("POST", "/accounts/{a}/points", {"kind": "phone", "value": "13800001111"}),
    ("DELETE", "/accounts/{a}/points/{pt}", None),
    ("POST", "/accounts/{a}/bank-accounts", {"bank_name": "B", "account_number": "2"}),
    ("DELETE", "/accounts/{a}/bank-accounts/{bank}", None),
    ("GET", "/contacts/{c}", None),
    ("PATCH", "/contacts/{c}", {"title": "x"}),
    ("DELETE", "/contacts/{c}", None),
    ("POST", "/contacts/{c}/stage", {"kind": "loyalty", "to_stage": "advocate"}),
    ("GET", "/contacts/{c}/stages", None),
    ("PUT", "/contacts/{c}/tags", {"names": ["x"], "kind": "interest"}),
    ("POST", "/contacts/{c}/addresses", {"kind": "home"}),
    ("DELETE", "/contacts/{c}/addresses/{caddr}", None),
    ("POST", "/contacts/{c}/points", {"kind": "email", "value": "n@x.cn"}),
    ("DELETE", "/contacts/{c}/points/{cpt}", None),
    ("PUT", "/contacts/{c}/memberships", {"account_id": "{a}", "role": "buyer"}),
    ("DELETE", "/contacts/{c}/memberships/{a}", None),
]
COLLECTIONS = [
    ("GET", "/accounts", None),
    ("POST", "/accounts", {"name": "新公司"}),
    ("GET", "/contacts", None),
    ("POST", "/contacts", {"name": "新人"}),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: (int(_fill(v, ids)) if v == "{a}" else _fill(v, ids)) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def test_every_operation_is_listed():
    listed = {(m, re.sub(r"\{\w+\}", "{}", p)) for m, p, _b in ENDPOINTS + COLLECTIONS}
    declared = set()
    for router in (accounts_api.router, contacts_api.router):
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    declared.add((method, re.sub(r"\{\w+\}", "{}", path)))
    assert not declared - listed, sorted(declared - listed)


@pytest.mark.parametrize("method,path,body", ENDPOINTS, ids=lambda v: str(v))
def test_another_workspaces_ids_are_not_found(method, path, body, api, other_admin):
    ids = _records_of(other_admin)
    response = api.request(method, _fill(path, ids), _fill(body, ids))
    assert_error(response, 404, "not_found")
    assert Account.objects.filter(workspace=other_admin.workspace, pk=ids["a"]).exists()
    assert Address.objects.filter(workspace=other_admin.workspace, pk=ids["addr"]).exists()


@pytest.mark.parametrize(
    "method,path,body", [e for e in ENDPOINTS + COLLECTIONS if e[0] != "GET"], ids=lambda v: str(v)
)
def test_a_role_without_the_right_is_refused(method, path, body, admin_user, workspace):
    ids = _records_of(admin_user)
    reader = UserFactory(workspace=workspace, role_code="read_only")
    client = ApiClient(make_token(reader, ["read", "write"]))
    response = client.request(method, _fill(path, ids), _fill(body, ids))
    assert_error(response, 403)
    assert Account.objects.filter(workspace=workspace).count() == 1
    assert BankAccount.objects.filter(workspace=workspace).count() == 1


def test_a_rep_does_not_see_another_reps_customers(rep_api, admin_user):
    ids = _records_of(admin_user)
    assert_error(rep_api.get(f"/accounts/{ids['a']}"), 404)
    assert rep_api.get("/contacts").json()["items"] == []


def test_crud_with_custom_fields_and_nested_rows(api, admin_user, workspace):
    platform_services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="customers.contact",
        label="Size",
        key="size",
        field_type="number",
    )
    response = api.post(
        "/contacts",
        {
            "name": "张三",
            "mobile": "138 1234 5678",
            "birthday": "1990/3/7",
            "tags": ["VIP"],
            "interests": ["golf"],
            "custom": {"size": "3"},
            "gender": "男",
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["mobile"] == "+8613812345678" and data["birthday"] == "1990-03-07"
    assert (
        data["tags"] == ["VIP"] and data["interests"] == ["golf"] and data["custom"] == {"size": 3}
    )
    assert data["owner"]["id"] == admin_user.pk and data["code"].startswith("C")
    cid = data["id"]
    assert (
        api.post(f"/contacts/{cid}/addresses", {"kind": "home", "city": "上海"}).status_code == 201
    )
    assert (
        api.post(f"/contacts/{cid}/points", {"kind": "phone", "value": "021 6123 4567"}).status_code
        == 201
    )
    got = api.get(f"/contacts/{cid}").json()
    assert got["addresses"][0]["city"] == "上海" and got["points"][0]["value"] == "+862161234567"
    patched = api.patch(
        f"/contacts/{cid}", {"title": "经理", "lifecycle_stage": "new", "stage_reason": "r"}
    )
    assert patched.status_code == 200 and patched.json()["title"] == "经理"
    stages = api.get(f"/contacts/{cid}/stages").json()
    assert stages[0]["to_stage"] == "new" and stages[0]["reason"] == "r"
    account = api.post(
        "/accounts", {"name": "甲公司", "credit_limit": "1000.50", "account_type": "agent"}
    )
    assert account.status_code == 201, account.content
    aid = account.json()["id"]
    put = api.put(
        f"/contacts/{cid}/memberships", {"account_id": aid, "role": "buyer", "is_primary": True}
    )
    assert put.status_code == 200 and put.json()["account"]["id"] == aid
    assert put.json()["memberships"][0]["role"] == "buyer"
    bank = api.post(
        f"/accounts/{aid}/bank-accounts", {"bank_name": "工行", "account_number": "6222 1"}
    )
    assert bank.status_code == 201
    assert api.get(f"/accounts/{aid}").json()["bank_accounts"][0]["account_number"] == "62221"
    assert api.delete(f"/contacts/{cid}").status_code == 204
    assert not Contact.objects.filter(workspace=workspace, pk=cid).exists()


def test_bad_input_is_a_documented_error(api, workspace):
    assert_error(api.post("/contacts", {"name": "X", "mobile": "12"}), 400)
    assert_error(api.post("/contacts", {"name": "X", "birthday": "2024-02-30"}), 400)
    assert_error(api.post("/accounts", {"name": "x" * 201}), 422)
    assert_error(api.post("/accounts", {"name": "X", "custom": {"nope": 1}}), 400)
    records_before = Contact.objects.filter(workspace=workspace).count()
    assert records_before == 0
    api.post("/accounts", {"name": "A", "code": "K1"})
    error = assert_error(api.post("/accounts", {"name": "B", "code": "K1"}), 409, "duplicate_code")
    assert "code" in error["fields"]
    a = Account.objects.get(workspace=workspace, code="K1")
    assert_error(api.patch(f"/accounts/{a.pk}", {"parent_id": a.pk}), 400, "parent_cycle")
    assert_error(api.post(f"/accounts/{a.pk}/stage", {"to_stage": "bogus"}), 400)
    assert_error(api.get("/contacts", cursor="garbage"), 400)


def test_zhuangdan_is_409_with_who_owns_it(rep_api, sales_rep, workspace):
    other = UserFactory(workspace=workspace, role_code="sales_rep", full_name="别的销售")
    records.contact_create(**ws(other), name="张三", mobile="13812345678")
    error = assert_error(rep_api.post("/contacts", {"name": "张三", "mobile": "13812345678"}), 409)
    assert error["code"] == "owned_by_other" and "别的销售" in error["message"]
    records.account_create(**ws(other), name="上海某某有限公司")
    error = assert_error(rep_api.post("/accounts", {"name": "上海某某股份有限公司"}), 409)
    assert error["code"] == "owned_by_other"


def test_list_search_filters_sort_and_pages(api, admin_user, workspace):
    for name, city in (("张三", "上海"), ("李四", "北京"), ("王五", "上海")):
        records.contact_create(
            **ws(admin_user), name=name, city=city, tags=["t"] if city == "上海" else []
        )
    names = lambda r: [i["name"] for i in r.json()["items"]]  # noqa: E731
    assert names(api.get("/contacts", q="zs")) == ["张三"]
    assert sorted(names(api.get("/contacts", city="上海"))) == ["张三", "王五"]
    assert sorted(names(api.get("/contacts", tag="t"))) == ["张三", "王五"]
    assert names(api.get("/contacts", individual="true", sort="-name", lifecycle_stage="potential"))
    first = api.get("/contacts", limit=2)
    assert len(first.json()["items"]) == 2 and first.json()["next_cursor"]
    second = api.get("/contacts", limit=2, cursor=first.json()["next_cursor"])
    assert len(second.json()["items"]) == 1
    assert api.get("/contacts", in_pool="true").json()["items"] == []


def test_list_query_count_does_not_grow(api, admin_user, workspace):
    def make(n):
        for i in range(n):
            c = records.contact_create(**ws(admin_user), name=f"人{i}{n}", tags=["a"])
            records.address_add(
                **ws(admin_user), object_key="customers.contact", record_id=c.pk, kind="home"
            )

    make(2)
    api.get("/contacts")
    with CaptureQueriesContext(connection) as few:
        assert api.get("/contacts").status_code == 200
    make(20)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/contacts").json()["items"]) == 22
    assert len(many) == len(few)


def test_hidden_fields_are_left_out_and_not_filterable(admin_user, workspace, sales_rep, rep_api):
    platform_services.role_set_field_rule(
        actor=admin_user,
        workspace=workspace,
        role_id=sales_rep.role_id,
        object_key="customers.contact",
        field="mobile",
        access="hidden",
    )
    c = records.contact_create(
        **ws(admin_user), name="X", mobile="13812345678", owner_id=sales_rep.pk
    )
    data = rep_api.get(f"/contacts/{c.pk}").json()
    assert "mobile" not in data
    assert_error(
        rep_api.patch(f"/contacts/{c.pk}", {"mobile": "13900000000"}), 403, "field_read_only"
    )
    assert ContactPoint.objects.filter(workspace=workspace).count() == 0


def test_huge_numbers_are_a_field_error(api, workspace):
    error = assert_error(api.post("/accounts", {"name": "X", "credit_limit": "1e400"}), 400)
    assert "credit_limit" in error["fields"]
    assert not Account.objects.filter(workspace=workspace).exists()
