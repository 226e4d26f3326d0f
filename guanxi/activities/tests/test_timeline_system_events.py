"""The customer file's events put one system entry each on the customer's timeline, in the
service's transaction, rendered in the reader's language."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from guanxi.activities.models import TimelineEntry
from guanxi.activities.timeline_display import headline
from guanxi.common.errors import ApplicationError
from guanxi.customers.models import Account, Contact, PoolSettings
from guanxi.customers.services import consent, merge, pool, records
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep", full_name="王伟")


def ws(user):
    return {"actor": user, "workspace": user.workspace}


def system_entries(workspace, **filters):
    return list(
        TimelineEntry.objects.in_workspace(workspace)
        .filter(kind="system", **filters)
        .order_by("id")
    )


def test_stage_changes_through_create_update_and_stage_change(rep, workspace):
    account = records.account_create(**ws(rep), name="上海电气")
    (created,) = system_entries(workspace, account=account)
    assert created.subtype == "stage_change" and created.author == rep
    assert headline(created) == "Lifecycle stage: — → Potential"
    records.account_update(**ws(rep), account_id=account.pk, lifecycle_stage="new")
    records.stage_change(
        **ws(rep),
        object_key="customers.account",
        record_id=account.pk,
        kind="loyalty",
        to_stage="first_purchase",
        reason="首单",
    )
    records.stage_change(  # no move, no entry
        **ws(rep),
        object_key="customers.account",
        record_id=account.pk,
        kind="lifecycle",
        to_stage="new",
    )
    entries = system_entries(workspace, account=account)
    assert [headline(e) for e in entries[1:]] == [
        "Lifecycle stage: Potential → New",
        "Loyalty stage: — → First purchase",
    ]
    assert entries[2].data["reason"] == "首单"
    with translation.override("zh-hans"):
        # The facts come out in the reader's language (the catalogs are filled at release).
        assert "生命周期阶段" in headline(entries[1])
        assert "潜在客户 → 新客户" in headline(entries[1])


def test_a_contact_stage_change_is_on_the_contact_and_its_account(rep, workspace):
    account = records.account_create(**ws(rep), name="北京汽车")
    person = records.contact_create(**ws(rep), name="赵六", account_id=account.pk)
    records.contact_update(**ws(rep), contact_id=person.pk, lifecycle_stage="satisfied")
    entry = system_entries(workspace, contact_links__contact=person)[-1]
    assert entry.account_id == account.pk
    assert headline(entry) == "Lifecycle stage: Potential → Satisfied"


def test_owner_changes_claim_release_assign_and_sweep(rep, workspace, admin_user):
    account = records.account_create(**ws(admin_user), name="广州港", owner_id=None)
    pool.customer_claim(**ws(rep), object_key="customers.account", record_id=account.pk)
    pool.customer_release(
        **ws(rep), object_key="customers.account", record_id=account.pk, reason="不合适"
    )
    pool.customer_assign(
        **ws(admin_user), object_key="customers.account", record_ids=[account.pk], owner_id=rep.pk
    )
    owners = system_entries(workspace, account=account, subtype="owner_change")
    assert [headline(e) for e in owners] == [
        "Owner: pool → 王伟 (Claimed)",
        "Owner: 王伟 → pool (Released)",
        "Owner: pool → 王伟 (Assigned)",
    ]
    assert owners[1].data["reason"] == "不合适" and owners[2].author == admin_user
    with translation.override("zh-hans"):
        assert "王伟 → " in headline(owners[1]) and "(退回公海)" in headline(owners[1])
    PoolSettings.objects.create(workspace=workspace, return_after_days=30)
    Account.objects.in_workspace(workspace).filter(pk=account.pk).update(
        owned_since=timezone.now() - dt.timedelta(days=40)
    )
    assert pool.pool_return_sweep(workspace=workspace).returned_inactive == 1
    swept = system_entries(workspace, account=account, subtype="owner_change")[-1]
    assert swept.author is None and headline(swept) == "Owner: 王伟 → pool (Returned by rule)"


def test_an_individual_customer_owner_change_is_on_its_timeline(rep, workspace):
    person = records.contact_create(**ws(rep), name="个人客户")
    pool.customer_release(**ws(rep), object_key="customers.contact", record_id=person.pk)
    (entry,) = system_entries(workspace, contact_links__contact=person, subtype="owner_change")
    assert entry.account_id is None


def test_a_merge_is_one_entry_on_the_survivor(rep, workspace, admin_user):
    survivor = records.account_create(**ws(admin_user), name="华为技术")
    merged = records.account_create(**ws(admin_user), name="华为技术有限公司", tax_number="")
    records.account_update(**ws(admin_user), account_id=merged.pk, lifecycle_stage="new")
    merge.account_merge(**ws(admin_user), survivor_id=survivor.pk, merged_id=merged.pk)
    merges = system_entries(workspace, subtype="merge")
    assert len(merges) == 1 and merges[0].account_id == survivor.pk
    assert headline(merges[0]) == f"Merged in: 华为技术有限公司 ({merged.code})"
    # The merged record's own history moved along with it.
    assert len(system_entries(workspace, account=survivor, subtype="stage_change")) == 3


def test_a_contact_merge(rep, workspace, admin_user):
    a = records.contact_create(**ws(admin_user), name="李雷", mobile="13800138000")
    b = records.contact_create(**ws(admin_user), name="李雷 ", email="li@example.com")
    merge.contact_merge(**ws(admin_user), survivor_id=a.pk, merged_id=b.pk)
    (entry,) = system_entries(workspace, subtype="merge")
    assert list(entry.contacts.all()) == [a]
    assert Contact.objects.in_workspace(workspace).filter(pk=b.pk).count() == 0


def test_consent_changes(rep, workspace, admin_user):
    person = records.contact_create(**ws(admin_user), name="韩梅梅")
    consent.consent_record(
        **ws(admin_user),
        contact_id=person.pk,
        channel="email",
        purpose="marketing",
        status="granted",
        method="web_form",
    )
    consent.consent_record(
        **ws(admin_user),
        contact_id=person.pk,
        channel="sms",
        purpose="surveys",
        status="granted",
        method="paper",
    )
    consent.consent_withdraw_all(actor=admin_user, workspace=workspace, contact=person)
    consent.consent_withdraw_all(actor=admin_user, workspace=workspace, contact=person)  # no-op
    entries = system_entries(workspace, contact_links__contact=person, subtype="consent_change")
    assert [headline(e) for e in entries] == [
        "Consent: E-mail · Marketing: Granted",
        "Consent: SMS · Surveys: Granted",
        "Consent: E-mail · Marketing: Withdrawn; SMS · Surveys: Withdrawn",
    ]


def test_a_failed_change_leaves_no_entry(rep, workspace):
    account = records.account_create(**ws(rep), name="深圳地铁")
    before = len(system_entries(workspace))
    with pytest.raises(ApplicationError):
        records.stage_change(
            **ws(rep),
            object_key="customers.account",
            record_id=account.pk,
            kind="lifecycle",
            to_stage="bogus",
        )
    with pytest.raises(ApplicationError):
        consent.consent_record(
            **ws(rep),
            contact_id=records.contact_create(**ws(rep), name="x").pk,
            channel="email",
            purpose="marketing",
            status="granted",
            method="web_form",
            effective_at=timezone.now() + dt.timedelta(days=1),
        )
    assert len(system_entries(workspace)) == before + 1  # the contact's creation only


def test_unknown_system_data_falls_back_to_the_event_name(workspace):
    from guanxi.activities.services.timeline import record_entry

    entry = record_entry(
        workspace=workspace, author=None, kind="system", subtype="owner_change", data={"to": 5}
    )
    assert headline(entry) == "Owner changed"
    other = record_entry(workspace=workspace, author=None, kind="system", subtype="reassigned")
    assert headline(other) == "Reassigned"
