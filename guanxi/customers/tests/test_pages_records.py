"""The account and contact pages: lists, forms, the 360° pages and their actions; other
workspaces get 404, roles without the right 403; query counts stay fixed."""

import re

import pytest

from guanxi.customers.models import (
    Account,
    AccountContact,
    Address,
    BankAccount,
    Contact,
    ContactPoint,
    Merge,
)
from guanxi.customers.services import records
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform import audit
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def ws(user):
    return {"actor": user, "workspace": user.workspace}


def test_lists_render_and_search(rep_client, rep):
    records.contact_create(**ws(rep), name="张三", mobile="13812345678")
    records.contact_create(**ws(rep), name="李四")
    records.account_create(**ws(rep), name="华为技术有限公司")
    response = rep_client.get("/customers/contacts/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "张三" in body and "李四" in body
    body = rep_client.get("/customers/contacts/?q=zs").content.decode()
    assert "张三" in body and "李四" not in body
    assert "华为" in rep_client.get("/customers/accounts/").content.decode()


def test_list_filters(rep_client, rep, workspace):
    a = records.contact_create(
        **ws(rep), name="甲", city="上海", lifecycle_stage="new", tags=["VIP"]
    )
    records.contact_create(**ws(rep), name="乙", city="北京")
    body = rep_client.get("/customers/contacts/?f_city=上海").content.decode()
    assert ">甲<" in body and ">乙<" not in body
    body = rep_client.get("/customers/contacts/?f_lifecycle_stage=new").content.decode()
    assert ">甲<" in body and ">乙<" not in body
    tag_id = a.taggings.get().tag_id
    body = rep_client.get(f"/customers/contacts/?f_tag={tag_id}").content.decode()
    assert ">甲<" in body and ">乙<" not in body
    body = rep_client.get("/customers/contacts/?f_individual=yes&f_created_from=2000-01-01")
    assert ">乙<" in body.content.decode()
    assert rep_client.get("/customers/contacts/?f_created_from=nonsense").status_code == 200


def test_list_query_count_is_fixed(
    admin_client, admin_user, workspace, django_assert_max_num_queries
):
    def make(n):
        for _i in range(n):
            account = AccountFactory(workspace=workspace, owner=admin_user)
            ContactFactory(workspace=workspace, owner=admin_user, account=account)

    make(3)
    admin_client.get("/customers/contacts/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert (
            admin_client.get("/customers/contacts/?cols=name,company,owner,tags").status_code == 200
        )
    make(40)
    with CaptureQueriesContext(connection) as many:
        assert (
            admin_client.get("/customers/contacts/?cols=name,company,owner,tags").status_code == 200
        )
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as few_accounts:
        admin_client.get("/customers/accounts/?cols=name,parent__name,owner,tags")
    make(10)
    with CaptureQueriesContext(connection) as many_accounts:
        admin_client.get("/customers/accounts/?cols=name,parent__name,owner,tags")
    assert len(many_accounts) == len(few_accounts)


def test_bulk_actions(admin_client, admin_user, workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    c1 = records.contact_create(**ws(admin_user), name="A")
    c2 = records.contact_create(**ws(admin_user), name="B")
    records.tags_set(
        **ws(admin_user), object_key="customers.contact", record_id=c1.pk, names=["hot"]
    )
    tag_id = c1.taggings.get().tag_id
    for action, value in (("add_tag", tag_id), ("set_stage", "retained"), ("assign", rep.pk)):
        response = admin_client.post(
            "/customers/contacts/",
            # the page has one value select per action; only the chosen one is filled
            {"op": "bulk", "action": action, "value": ["", value, ""], "ids": [c1.pk, c2.pk]},
        )
        assert response.status_code == 302, action
    c2.refresh_from_db()
    assert c2.lifecycle_stage == "retained" and c2.owner == rep
    assert c2.taggings.filter(tag_id=tag_id).exists()


def _form_values(record) -> dict:
    """What a browser sends back from an edit form nobody touched."""
    names = ("name", "code", "first_name", "last_name", "country", "lifecycle_stage", "mobile")
    return {n: getattr(record, n) for n in names if getattr(record, n, None)}


def test_create_and_edit_forms(rep_client, rep, workspace):
    page = rep_client.get("/customers/contacts/new/")
    assert page.status_code == 200
    response = rep_client.post(
        "/customers/contacts/new/",
        {"name": "王五", "mobile": "139 0000 1111", "lifecycle_stage": "potential", "tags": "a, b"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    contact = Contact.objects.get(workspace=workspace, name="王五")
    assert contact.mobile == "+8613900001111"
    response = rep_client.post(
        "/customers/contacts/new/", {"name": "X", "mobile": "12", "lifecycle_stage": "potential"}
    )
    assert response.status_code == 200 and "error" in response.content.decode()
    response = rep_client.post(
        f"/customers/contacts/{contact.pk}/edit/",
        {
            **_form_values(contact),
            "mobile": "13900001111",
            "title": "经理",
            "lifecycle_stage": "new",
        },
    )
    assert response.status_code == 302, re.findall(
        r'role="alert">([^<]*)<', response.content.decode()
    )
    contact.refresh_from_db()
    assert contact.title == "经理" and contact.lifecycle_stage == "new"
    response = rep_client.post(
        "/customers/accounts/new/",
        {"name": "甲公司", "account_type": "customer", "lifecycle_stage": "potential"},
    )
    assert response.status_code == 302
    account = Account.objects.get(workspace=workspace, name="甲公司")
    response = rep_client.post(
        "/customers/contacts/new/",
        {"name": "赵六", "account": account.code, "role": "buyer", "lifecycle_stage": "potential"},
    )
    assert response.status_code == 302
    assert AccountContact.objects.filter(
        workspace=workspace, account=account, role="buyer"
    ).exists()


def test_zhuangdan_shows_on_the_form(rep_client, workspace):
    other = UserFactory(workspace=workspace, role_code="sales_rep", full_name="Other Rep")
    records.contact_create(**ws(other), name="张三", mobile="13812345678")
    response = rep_client.post(
        "/customers/contacts/new/",
        {"name": "张三", "mobile": "13812345678", "lifecycle_stage": "potential"},
    )
    assert response.status_code == 200
    assert "Other Rep" in response.content.decode()


def _detail_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_360_pages_render_everything_with_fixed_queries(
    admin_client, admin_user, workspace, django_assert_max_num_queries
):
    account = records.account_create(**ws(admin_user), name="甲集团", tags=["VIP"])
    contact = records.contact_create(
        **ws(admin_user),
        name="张三",
        account_id=account.pk,
        role="decision_maker",
        interests=["golf"],
    )
    admin_client.get(f"/customers/accounts/{account.pk}/")
    account_few = _detail_queries(admin_client, f"/customers/accounts/{account.pk}/")
    contact_few = _detail_queries(admin_client, f"/customers/contacts/{contact.pk}/")
    for i in range(15):
        records.contact_create(**ws(admin_user), name=f"人{i}", account_id=account.pk, role="user")
        records.account_create(**ws(admin_user), name=f"分公司{i}", parent_id=account.pk)
        records.address_add(
            **ws(admin_user),
            object_key="customers.account",
            record_id=account.pk,
            kind="delivery",
            city=f"城{i}",
        )
        records.point_add(
            **ws(admin_user),
            object_key="customers.contact",
            record_id=contact.pk,
            kind="email",
            value=f"p{i}@x.cn",
        )
        records.bank_account_add(
            **ws(admin_user), account_id=account.pk, bank_name="B", account_number=f"{i}1234"
        )
        records.account_update(**ws(admin_user), account_id=account.pk, notes=f"n{i}")
        records.stage_change(
            **ws(admin_user),
            object_key="customers.contact",
            record_id=contact.pk,
            kind="lifecycle",
            to_stage=["new", "satisfied"][i % 2],
        )
    assert _detail_queries(admin_client, f"/customers/accounts/{account.pk}/") == account_few
    with django_assert_max_num_queries(account_few):
        admin_client.get(f"/customers/accounts/{account.pk}/")
    assert _detail_queries(admin_client, f"/customers/contacts/{contact.pk}/") == contact_few
    body = admin_client.get(f"/customers/accounts/{account.pk}/").content.decode()
    for text in ("甲集团", "张三", "分公司3", "VIP", "城3", "Decision maker", "B · 31234"):
        assert text in body, text
    body = admin_client.get(f"/customers/contacts/{contact.pk}/").content.decode()
    for text in ("张三", "甲集团", "golf", "p3@x.cn", "Satisfied"):
        assert text in body, text
    assert account_few < 30 and contact_few < 30


def test_history_includes_merged_records(admin_client, admin_user, workspace):
    survivor = records.contact_create(**ws(admin_user), name="Survivor")
    gone = ContactFactory(workspace=workspace, name="Gone Person")
    audit.log(
        actor=admin_user,
        workspace=workspace,
        action="update",
        object_key="customers.contact",
        object_id=gone.pk,
        object_repr="Gone Person",
        changes={"title": ["a", "merged-title"]},
    )
    Merge.objects.create(
        workspace=workspace,
        object_key="customers.contact",
        survivor_id=survivor.pk,
        merged_id=gone.pk,
        merged_code=gone.code,
    )
    body = admin_client.get(f"/customers/contacts/{survivor.pk}/").content.decode()
    assert "merged-title" in body


def test_360_actions(rep_client, rep, workspace):
    account = records.account_create(**ws(rep), name="甲")
    contact = records.contact_create(**ws(rep), name="乙")
    base = f"/customers/accounts/{account.pk}"
    assert (
        rep_client.post(
            f"{base}/stage/", {"stage_kind": "lifecycle", "to_stage": "new", "reason": "r"}
        ).status_code
        == 302
    )
    assert rep_client.post(f"{base}/tags/", {"names": "x, y"}).status_code == 302
    assert (
        rep_client.post(f"{base}/addresses/", {"kind": "invoice", "city": "上海"}).status_code
        == 302
    )
    assert (
        rep_client.post(f"{base}/points/", {"kind": "phone", "value": "13811112222"}).status_code
        == 302
    )
    assert (
        rep_client.post(
            f"{base}/bank-accounts/", {"bank_name": "B", "account_number": "1234"}
        ).status_code
        == 302
    )
    account.refresh_from_db()
    assert account.lifecycle_stage == "new"
    address = Address.objects.get(workspace=workspace, account=account)
    point = ContactPoint.objects.get(workspace=workspace, account=account)
    bank = BankAccount.objects.get(workspace=workspace, account=account)
    for url in (
        f"/customers/addresses/{address.pk}/remove/",
        f"/customers/points/{point.pk}/remove/",
        f"/customers/bank-accounts/{bank.pk}/remove/",
    ):
        assert rep_client.post(url, {"next": f"{base}/"}).status_code == 302
    assert not Address.objects.filter(workspace=workspace).exists()
    cbase = f"/customers/contacts/{contact.pk}"
    assert (
        rep_client.post(
            f"{cbase}/memberships/",
            {"account_code": account.code, "role": "buyer", "is_primary": "1"},
        ).status_code
        == 302
    )
    contact.refresh_from_db()
    assert contact.account_id == account.pk
    assert rep_client.post(f"{cbase}/memberships/{account.pk}/remove/").status_code == 302
    # a bad value is a message, not a 500
    assert rep_client.post(f"{base}/stage/", {"to_stage": "bogus"}).status_code == 302


PAGES = [
    ("get", "/customers/accounts/{a}/"),
    ("get", "/customers/accounts/{a}/edit/"),
    ("post", "/customers/accounts/{a}/delete/"),
    ("post", "/customers/accounts/{a}/stage/"),
    ("post", "/customers/accounts/{a}/tags/"),
    ("post", "/customers/accounts/{a}/addresses/"),
    ("post", "/customers/accounts/{a}/points/"),
    ("post", "/customers/accounts/{a}/bank-accounts/"),
    ("get", "/customers/contacts/{c}/"),
    ("get", "/customers/contacts/{c}/edit/"),
    ("post", "/customers/contacts/{c}/delete/"),
    ("post", "/customers/contacts/{c}/memberships/"),
    ("post", "/customers/contacts/{c}/memberships/{a}/remove/"),
    ("post", "/customers/addresses/{addr}/remove/"),
    ("post", "/customers/points/{pt}/remove/"),
    ("post", "/customers/bank-accounts/{bank}/remove/"),
]


@pytest.fixture
def foreign(other_admin):
    a = records.account_create(**ws(other_admin), name="Foreign Co")
    c = records.contact_create(**ws(other_admin), name="Foreign P", account_id=a.pk)
    addr = records.address_add(
        **ws(other_admin), object_key="customers.account", record_id=a.pk, kind="office"
    )
    pt = records.point_add(
        **ws(other_admin),
        object_key="customers.account",
        record_id=a.pk,
        kind="email",
        value="f@x.cn",
    )
    bank = records.bank_account_add(
        **ws(other_admin), account_id=a.pk, bank_name="B", account_number="1"
    )
    return {"a": a.pk, "c": c.pk, "addr": addr.pk, "pt": pt.pk, "bank": bank.pk}


@pytest.mark.parametrize("method,url", PAGES)
def test_other_workspace_is_not_found(admin_client, foreign, method, url):
    response = getattr(admin_client, method)(url.format(**foreign))
    assert response.status_code == 404


@pytest.fixture
def own(admin_user):
    a = records.account_create(**ws(admin_user), name="Own Co")
    c = records.contact_create(**ws(admin_user), name="Own P", account_id=a.pk)
    addr = records.address_add(
        **ws(admin_user), object_key="customers.account", record_id=a.pk, kind="office"
    )
    pt = records.point_add(
        **ws(admin_user),
        object_key="customers.account",
        record_id=a.pk,
        kind="email",
        value="o@x.cn",
    )
    bank = records.bank_account_add(
        **ws(admin_user), account_id=a.pk, bank_name="B", account_number="1"
    )
    return {"a": a.pk, "c": c.pk, "addr": addr.pk, "pt": pt.pk, "bank": bank.pk}


@pytest.mark.parametrize("method,url", [p for p in PAGES if p[0] == "post" or "edit" in p[1]])
def test_role_without_the_right_is_refused(client, workspace, own, method, url):
    reader = UserFactory(workspace=workspace, role_code="read_only")
    client.force_login(reader)
    response = getattr(client, method)(url.format(**own))
    assert response.status_code == 403
    assert Account.objects.filter(workspace=workspace, pk=own["a"]).exists()
    assert Address.objects.filter(workspace=workspace, pk=own["addr"]).exists()


def test_rep_cannot_see_another_reps_customer(rep_client, workspace, own):
    assert rep_client.get(f"/customers/accounts/{own['a']}/").status_code == 404
    assert rep_client.get(f"/customers/contacts/{own['c']}/").status_code == 404


def test_no_right_to_read_lists_is_403(client, workspace):
    from guanxi.platform.models import Role

    role = Role.objects.create(workspace=workspace, name="Nobody", code="nobody", rights={})
    user = UserFactory(workspace=workspace, role=role)
    client.force_login(user)
    assert client.get("/customers/accounts/").status_code == 403
    assert client.get("/customers/contacts/new/").status_code == 403
    assert "/customers/accounts/" not in client.get("/").content.decode()


def test_detail_page_is_phone_friendly(admin_client, admin_user):
    contact = records.contact_create(**ws(admin_user), name="张三", mobile="13812345678")
    body = admin_client.get(f"/customers/contacts/{contact.pk}/").content.decode()
    assert 'name="viewport"' in body and 'href="tel:+8613812345678"' in body
    assert re.search(r'class="grid-2 customer-360"', body)
    assert AuditEntry.objects.filter(workspace=admin_user.workspace).exists()


def test_hooks_of_the_other_parts_are_on_the_pages(admin_client, admin_user):
    """Claim/release, the lazy consent and duplicate panels and the as-you-type duplicate
    check appear when their parts are installed (the pages render without them too)."""
    from django.urls import NoReverseMatch, reverse

    contact = records.contact_create(**ws(admin_user), name="张三")
    pooled = records.account_create(**ws(admin_user), name="Pool Co", owner_id=None)
    body = admin_client.get(f"/customers/contacts/{contact.pk}/").content.decode()
    form = admin_client.get("/customers/contacts/new/").content.decode()
    pooled_body = admin_client.get(f"/customers/accounts/{pooled.pk}/").content.decode()
    try:
        release = reverse("customers:release")
        claim = reverse("customers:claim")
    except NoReverseMatch:
        release = claim = None
    if release:
        assert f'action="{release}"' in body and f'action="{claim}"' in pooled_body
    try:
        consent = reverse("customers:contact_consent_panel", args=[contact.pk])
    except NoReverseMatch:
        consent = None
    if consent:
        assert f'hx-get="{consent}"' in body and 'hx-trigger="load"' in body
    try:
        panel = reverse("customers:record_duplicates_panel", args=["contact", contact.pk])
        check = reverse("customers:duplicate_check")
    except NoReverseMatch:
        panel = check = None
    if panel:
        assert f'hx-get="{panel}"' in body
        assert f'hx-get="{check}"' in form and 'hx-target="#duplicate-warning"' in form
        assert 'name="object_key" value="customers.contact"' in form
