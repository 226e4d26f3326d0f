"""The pool's pages and the consent and personal-data pages: they work, they refuse other
workspaces (404) and users without the right (403)."""

import json

import pytest
from django.urls import reverse

from guanxi.customers.models import Account, Consent, Contact, PoolSettings
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import UserFactory

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, full_name="Rep One")


@pytest.fixture
def reader(workspace):
    return UserFactory(workspace=workspace, role_code="read_only")


@pytest.fixture
def technician(workspace):
    return UserFactory(workspace=workspace, role_code="technician")


# --- pool ----------------------------------------------------------------------------------------


def test_pool_page_lists_unowned_customers_and_searches(client, workspace, rep):
    AccountFactory(workspace=workspace, name="北京星河科技有限公司")
    AccountFactory(workspace=workspace, name="上海明月贸易有限公司")
    AccountFactory(workspace=workspace, name="北京已有主人公司", owner=rep)
    ContactFactory(workspace=workspace, name="张三")
    PoolSettings.objects.create(workspace=workspace, max_per_rep=10)
    client.force_login(rep)
    response = client.get(reverse("customers:pool"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "北京星河科技" in body and "上海明月贸易" in body
    assert "已有主人" not in body
    assert "1 of 10" in body
    response = client.get(reverse("customers:pool"), {"q": "星河"}, **HX)
    body = response.content.decode()
    assert "北京星河科技" in body and "上海明月贸易" not in body
    response = client.get(reverse("customers:pool"), {"kind": "people"})
    assert "张三" in response.content.decode()


def test_pool_page_runs_a_fixed_number_of_queries(
    client, workspace, rep, django_assert_max_num_queries
):
    AccountFactory.create_batch(30, workspace=workspace)
    client.force_login(rep)
    client.get(reverse("customers:pool"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("customers:pool")).status_code == 200


def test_pool_page_bad_cursor_is_not_a_500(client, workspace, rep):
    client.force_login(rep)
    assert client.get(reverse("customers:pool"), {"cursor": "garbage"}).status_code == 200


def test_pool_page_needs_the_read_right(client, workspace):
    nobody = UserFactory(workspace=workspace, role_code="read_only")
    nobody.role.rights = {}
    nobody.role.save()
    client.force_login(nobody)
    assert client.get(reverse("customers:pool")).status_code == 403


def test_pool_page_shows_no_other_workspace(client, workspace, other_workspace, rep):
    AccountFactory(workspace=other_workspace, name="别家公司")
    client.force_login(rep)
    assert "别家公司" not in client.get(reverse("customers:pool")).content.decode()


def test_claim_and_release_pages(client, workspace, rep):
    account = AccountFactory(workspace=workspace)
    client.force_login(rep)
    data = {"object_key": "customers.account", "record_id": account.pk}
    response = client.post(reverse("customers:claim"), data)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner_id == rep.pk
    response = client.post(reverse("customers:release"), {**data, "back": "pool"})
    assert response.status_code == 302 and response.url == reverse("customers:pool")
    account.refresh_from_db()
    assert account.owner_id is None


def test_claim_htmx_answers_with_a_partial(client, workspace, rep):
    account = AccountFactory(workspace=workspace)
    client.force_login(rep)
    data = {"object_key": "customers.account", "record_id": account.pk}
    response = client.post(reverse("customers:claim"), data, **HX)
    assert response.status_code == 200 and "is now yours" in response.content.decode()


def test_claim_of_an_owned_customer_says_who(client, workspace, rep):
    boss = UserFactory(workspace=workspace, role_code="sales_manager", full_name="Boss Man")
    account = AccountFactory(workspace=workspace, owner=rep)
    client.force_login(UserFactory(workspace=workspace, role_code="administrator"))
    data = {"object_key": "customers.account", "record_id": account.pk}
    response = client.post(reverse("customers:claim"), data, **HX)
    assert "Rep One" in response.content.decode()
    assert boss  # unused


def test_claim_page_refuses_without_right_and_other_workspace(
    client, workspace, other_workspace, reader
):
    account = AccountFactory(workspace=workspace)
    foreign = AccountFactory(workspace=other_workspace)
    client.force_login(reader)
    data = {"object_key": "customers.account", "record_id": account.pk}
    assert client.post(reverse("customers:claim"), data).status_code == 403
    assert client.post(reverse("customers:release"), data).status_code == 403
    client.force_login(UserFactory(workspace=workspace))
    data = {"object_key": "customers.account", "record_id": foreign.pk}
    assert client.post(reverse("customers:claim"), data).status_code == 404
    assert client.post(reverse("customers:release"), data).status_code == 404
    assert Account.objects.across_workspaces().get(pk=foreign.pk).owner_id is None


def test_claim_with_bad_input_is_not_a_500(client, workspace, rep):
    client.force_login(rep)
    response = client.post(reverse("customers:claim"), {"object_key": "x", "record_id": "y"})
    assert response.status_code == 302
    assert client.get(reverse("customers:claim")).status_code == 405


def test_pool_settings_page_for_admins_only(client, workspace, admin_user, rep):
    client.force_login(rep)
    assert client.get(reverse("customers:pool_settings")).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("customers:pool_settings")).status_code == 200
    response = client.post(
        reverse("customers:pool_settings"),
        {
            "max_per_rep": "20",
            "return_after_days": "30",
            "reclaim_after_days": "7",
            "return_on_departure": "on",
        },
    )
    assert response.status_code == 302
    settings = PoolSettings.objects.in_workspace(workspace).get()
    assert (settings.max_per_rep, settings.return_after_days, settings.reclaim_after_days) == (
        20,
        30,
        7,
    )
    response = client.post(reverse("customers:pool_settings"), {"max_per_rep": "-3"})
    assert response.status_code == 200


# --- consent panel -------------------------------------------------------------------------------


def test_consent_panel_shows_and_records(client, workspace, rep):
    person = ContactFactory(workspace=workspace, owner=rep)
    client.force_login(rep)
    url = reverse("customers:contact_consent_panel", args=[person.pk])
    response = client.get(url, **HX)
    assert response.status_code == 200 and "consent-panel" in response.content.decode()
    assert "personal-data" in response.content.decode()
    response = client.post(
        url,
        {
            "channel": "sms",
            "purpose": "marketing",
            "status": "granted",
            "method": "paper",
            "notice_version": "v3",
        },
        **HX,
    )
    assert response.status_code == 200
    assert "v3" in response.content.decode()
    assert Consent.objects.in_workspace(workspace).get(contact=person).status == "granted"
    response = client.post(url, {"channel": "pigeon"}, **HX)
    assert response.status_code == 200
    assert Consent.objects.in_workspace(workspace).count() == 1


def test_consent_panel_refuses(client, workspace, other_workspace, rep, reader):
    person = ContactFactory(workspace=workspace, owner=rep)
    foreign = ContactFactory(workspace=other_workspace)
    url = reverse("customers:contact_consent_panel", args=[person.pk])
    client.force_login(reader)
    assert client.get(url).status_code == 200  # reading is fine
    data = {"channel": "sms", "purpose": "marketing", "status": "granted", "method": "paper"}
    assert client.post(url, data).status_code == 403
    client.force_login(rep)
    foreign_url = reverse("customers:contact_consent_panel", args=[foreign.pk])
    assert client.get(foreign_url).status_code == 404
    assert client.post(foreign_url, data).status_code == 404
    other_rep = UserFactory(workspace=workspace)
    client.force_login(other_rep)
    assert client.get(url).status_code == 404  # not visible to another rep
    assert not Consent.objects.across_workspaces().exists()


# --- personal data and erasure ------------------------------------------------------------------


@pytest.fixture
def manager(workspace):
    return UserFactory(workspace=workspace, role_code="sales_manager")


def test_personal_data_page_and_json(client, workspace, manager):
    person = ContactFactory(
        workspace=workspace, owner=manager, name="李四", mobile="+8613800000001"
    )
    client.force_login(manager)
    url = reverse("customers:contact_personal_data", args=[person.pk])
    response = client.get(url)
    assert response.status_code == 200 and "13800000001" in response.content.decode()
    response = client.get(url, {"format": "json"})
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content)["fields"]["name"] == "李四"


def test_personal_data_page_refuses(client, workspace, other_workspace, manager, technician):
    person = ContactFactory(workspace=workspace, owner=manager)
    foreign = ContactFactory(workspace=other_workspace)
    client.force_login(technician)  # may read, may not export
    assert (
        client.get(reverse("customers:contact_personal_data", args=[person.pk])).status_code == 403
    )
    client.force_login(manager)
    assert (
        client.get(reverse("customers:contact_personal_data", args=[foreign.pk])).status_code == 404
    )


def test_erase_page(client, workspace, manager, rep):
    person = ContactFactory(workspace=workspace, owner=manager, name="王五", email="w5@example.com")
    url = reverse("customers:contact_erase", args=[person.pk])
    client.force_login(rep)
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(manager)
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 200  # form error
    response = client.post(url, {"reason": "request of 2026-11-30"})
    assert response.status_code == 302
    person = Contact.objects.in_workspace(workspace).get(pk=person.pk)
    assert person.erased_at is not None and person.email == ""
    response = client.post(url, {"reason": "again"})
    assert response.status_code == 200 and "already erased" in response.content.decode()


def test_erase_page_other_workspace(client, workspace, other_workspace, manager):
    foreign = ContactFactory(workspace=other_workspace)
    client.force_login(manager)
    url = reverse("customers:contact_erase", args=[foreign.pk])
    assert client.post(url, {"reason": "x"}).status_code == 404
    assert Contact.objects.across_workspaces().get(pk=foreign.pk).erased_at is None


# --- the 360° page's pool panel ------------------------------------------------------------------


def test_pool_panel_shows_the_moves(client, workspace, rep):
    from guanxi.customers.services import pool

    account = AccountFactory(workspace=workspace)
    pool.customer_claim(
        actor=rep, workspace=workspace, object_key="customers.account", record_id=account.pk
    )
    client.force_login(rep)
    response = client.get(
        reverse("customers:record_pool_panel", args=["account", account.pk]), **HX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Claimed" in body and "Rep One" in body
    detail = client.get(reverse("customers:account_detail", args=[account.pk]))
    assert reverse("customers:record_pool_panel", args=["account", account.pk]) in (
        detail.content.decode()
    )


def test_pool_panel_refuses(client, workspace, other_workspace, rep, reader):
    mine = ContactFactory(workspace=workspace, owner=rep)
    pooled = ContactFactory(workspace=workspace)
    foreign = ContactFactory(workspace=other_workspace)
    url = lambda c: reverse("customers:record_pool_panel", args=["contact", c.pk])  # noqa: E731
    client.force_login(UserFactory(workspace=workspace))  # another rep
    assert client.get(url(mine)).status_code == 404
    assert client.get(url(pooled)).status_code == 200
    assert client.get(url(foreign)).status_code == 404
    assert (
        client.get(reverse("customers:record_pool_panel", args=["x", mine.pk])).status_code == 404
    )
    nobody = UserFactory(workspace=workspace, role_code="read_only")
    nobody.role.rights = {}
    nobody.role.save()
    client.force_login(nobody)
    assert client.get(url(pooled)).status_code == 403
