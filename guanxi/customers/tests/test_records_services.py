"""The record services: create/update/delete of accounts and contacts, codes, owners,
撞单 refusal, stages, tags, memberships, addresses, points, bank accounts, audit rows."""

import pytest

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.models import (
    AccountContact,
    Address,
    BankAccount,
    Contact,
    ContactPoint,
    StageChange,
    Tag,
)
from guanxi.customers.services import records
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform import services as platform_services
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep", full_name="王小明")


@pytest.fixture
def other_rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep", full_name="李大海")


def ws(user):
    return {"actor": user, "workspace": user.workspace}


def test_contact_create_generates_code_owner_and_audit(rep):
    contact = records.contact_create(
        **ws(rep), name="张三", mobile="138 1234 5678", email="ZS@Example.com", tags=["VIP"]
    )
    assert contact.code.startswith("C") and len(contact.code) == 7
    assert contact.owner == rep and contact.owned_since is not None
    assert contact.mobile == "+8613812345678" and contact.email == "zs@example.com"
    assert contact.name_initials == "zs"
    assert contact.is_individual
    entries = AuditEntry.objects.filter(workspace=rep.workspace, object_id=str(contact.pk))
    assert {e.action for e in entries} == {"create", "update"}  # the record, then its tags
    assert StageChange.objects.filter(workspace=rep.workspace, contact=contact).count() == 1
    assert Tag.objects.filter(workspace=rep.workspace, name="VIP").exists()


def test_duplicate_code_is_a_field_error(rep):
    records.account_create(**ws(rep), name="甲公司", code="K1")
    with pytest.raises(Conflict) as exc:
        records.account_create(**ws(rep), name="乙公司", code="K1")
    assert "code" in exc.value.fields


def test_bad_input_is_reported_per_field_and_writes_nothing(rep):
    with pytest.raises(ApplicationError) as exc:
        records.contact_create(**ws(rep), name="张三", mobile="12", birthday="2024-02-30")
    assert {"mobile", "birthday"} <= set(exc.value.fields)
    assert not Contact.objects.filter(workspace=rep.workspace).exists()
    with pytest.raises(ApplicationError) as exc:
        records.contact_create(**ws(rep), name="")
    assert "name" in exc.value.fields


def test_no_zhuangdan_contact_owned_by_another_rep(rep, other_rep):
    existing = records.contact_create(**ws(other_rep), name="张三", mobile="13812345678")
    with pytest.raises(Conflict) as exc:
        records.contact_create(**ws(rep), name="张三丰", mobile="+86 138-1234-5678")
    assert exc.value.code == "owned_by_other"
    assert other_rep.full_name in str(exc.value.message)
    assert existing.code in str(exc.value.message)
    # the same rep may enter their own again (the duplicate check handles that)
    records.contact_create(**ws(other_rep), name="张三", mobile="13812345678")


def test_no_zhuangdan_by_email_id_number_and_account_name(rep, other_rep):
    records.contact_create(
        **ws(other_rep), name="A", email="a@x.cn", id_number="110101199003070000"
    )
    with pytest.raises(Conflict):
        records.contact_create(**ws(rep), name="B", email="A@X.cn")
    with pytest.raises(Conflict):
        records.contact_create(**ws(rep), name="B", id_number="110101199003070000")
    records.account_create(**ws(other_rep), name="上海华为技术有限公司", tax_number="91310000")
    with pytest.raises(Conflict) as exc:
        records.account_create(**ws(rep), name="上海華為技術股份有限公司")
    assert exc.value.code == "owned_by_other" and "name" in exc.value.fields
    with pytest.raises(Conflict):
        records.account_create(**ws(rep), name="别名", tax_number="91310000")


def test_owner_rules(rep, other_rep, admin_user, workspace):
    with pytest.raises(PermissionDenied):
        records.contact_create(**ws(rep), name="X", owner_id=other_rep.pk)
    given = records.contact_create(**ws(admin_user), name="X", owner_id=other_rep.pk)
    assert given.owner == other_rep
    pooled = records.account_create(**ws(admin_user), name="Pool Co", owner_id=None)
    assert pooled.owner is None and pooled.owned_since is None


def test_update_changes_fields_stage_history_and_audit(rep):
    contact = records.contact_create(**ws(rep), name="张三")
    records.contact_update(
        **ws(rep),
        contact_id=contact.pk,
        title="经理",
        lifecycle_stage="new",
        stage_reason="First order",
        interests=["摄影"],
    )
    contact.refresh_from_db()
    assert contact.title == "经理" and contact.lifecycle_stage == "new"
    move = StageChange.objects.filter(workspace=rep.workspace, contact=contact).order_by("-id")[0]
    assert (move.from_stage, move.to_stage, move.actor, move.reason) == (
        "potential",
        "new",
        rep,
        "First order",
    )
    update = AuditEntry.objects.filter(
        workspace=rep.workspace, object_id=str(contact.pk), action="update"
    )
    assert any("title" in e.changes for e in update)
    with pytest.raises(ApplicationError):
        records.contact_update(**ws(rep), contact_id=contact.pk, lifecycle_stage="nonsense")
    with pytest.raises(ApplicationError):
        records.contact_update(**ws(rep), contact_id=contact.pk, owner_id=1)


def test_stage_change_service(rep):
    account = records.account_create(**ws(rep), name="甲")
    records.stage_change(
        **ws(rep),
        object_key="customers.account",
        record_id=account.pk,
        kind="loyalty",
        to_stage="advocate",
        reason="Referred two customers",
    )
    account.refresh_from_db()
    assert account.loyalty_stage == "advocate"
    with pytest.raises(ApplicationError):
        records.stage_change(
            **ws(rep),
            object_key="customers.account",
            record_id=account.pk,
            kind="loyalty",
            to_stage="bogus",
        )


def test_other_reps_and_other_workspaces_records_are_not_found(rep, other_rep, other_admin):
    mine = records.contact_create(**ws(rep), name="Mine")
    with pytest.raises(NotFound):
        records.contact_update(**ws(other_rep), contact_id=mine.pk, title="x")
    with pytest.raises(NotFound):
        records.contact_update(**ws(other_admin), contact_id=mine.pk, title="x")
    with pytest.raises(NotFound):
        records.tags_set(
            **ws(other_admin), object_key="customers.contact", record_id=mine.pk, names=["a"]
        )


def test_rights_are_checked_and_denials_audited(rep, workspace):
    reader = UserFactory(workspace=workspace, role_code="read_only")
    with pytest.raises(PermissionDenied):
        records.account_create(**ws(reader), name="X")
    mine = records.account_create(**ws(rep), name="Mine")
    with pytest.raises(PermissionDenied):
        records.account_delete(**ws(rep), account_id=mine.pk)  # reps may not delete
    assert AuditEntry.objects.filter(
        workspace=workspace, action="permission_denied", actor=rep
    ).exists()


def test_field_rules_block_read_only_fields(rep, admin_user, workspace):
    platform_services.role_set_field_rule(
        actor=admin_user,
        workspace=workspace,
        role_id=rep.role_id,
        object_key="customers.contact",
        field="industry",
        access="read_only",
    )
    contact = records.contact_create(**ws(rep), name="X")
    with pytest.raises(PermissionDenied):
        records.contact_update(**ws(rep), contact_id=contact.pk, industry="IT")


def test_parent_accounts_without_cycles(rep):
    group = records.account_create(**ws(rep), name="集团")
    branch = records.account_create(**ws(rep), name="分部", parent_id=group.pk)
    assert branch.parent == group
    with pytest.raises(ApplicationError) as exc:
        records.account_update(**ws(rep), account_id=group.pk, parent_id=branch.pk)
    assert exc.value.code == "parent_cycle"
    with pytest.raises(ApplicationError):
        records.account_update(**ws(rep), account_id=group.pk, parent_id=group.pk)


def test_memberships_and_primary_account(rep):
    a = records.account_create(**ws(rep), name="甲公司")
    b = records.account_create(**ws(rep), name="乙公司")
    contact = records.contact_create(**ws(rep), name="张三", account_id=a.pk, role="buyer")
    assert contact.account == a and contact.company == "甲公司"
    records.membership_set(
        **ws(rep),
        contact_id=contact.pk,
        account_id=b.pk,
        role="decision_maker",
        level="executive",
        is_primary=True,
    )
    contact.refresh_from_db()
    assert contact.account == b and contact.company == "乙公司"
    links = AccountContact.objects.filter(workspace=rep.workspace, contact=contact)
    assert {(link.account_id, link.is_primary) for link in links} == {(a.pk, False), (b.pk, True)}
    records.membership_remove(**ws(rep), contact_id=contact.pk, account_id=b.pk)
    contact.refresh_from_db()
    assert contact.account is None


def test_addresses_points_and_bank_accounts(rep):
    account = records.account_create(**ws(rep), name="甲公司")
    address = records.address_add(
        **ws(rep),
        object_key="customers.account",
        record_id=account.pk,
        kind="invoice",
        province="上海",
        city="上海",
        street="世纪大道 1 号",
        latitude="31.2",
    )
    records.address_update(**ws(rep), address_id=address.pk, kind="delivery")
    assert Address.objects.get(workspace=rep.workspace, pk=address.pk).kind == "delivery"
    with pytest.raises(ApplicationError):
        records.address_add(
            **ws(rep), object_key="customers.account", record_id=account.pk, kind="moon"
        )
    with pytest.raises(ApplicationError):
        records.address_add(
            **ws(rep),
            object_key="customers.account",
            record_id=account.pk,
            kind="office",
            latitude="91",
        )
    records.address_remove(**ws(rep), address_id=address.pk)
    point = records.point_add(
        **ws(rep),
        object_key="customers.account",
        record_id=account.pk,
        kind="phone",
        value="021-6123 4567",
        label="work",
    )
    assert point.value == "+862161234567"
    with pytest.raises(ApplicationError):
        records.point_add(
            **ws(rep),
            object_key="customers.account",
            record_id=account.pk,
            kind="email",
            value="nope",
        )
    records.point_remove(**ws(rep), point_id=point.pk)
    assert not ContactPoint.objects.filter(workspace=rep.workspace).exists()
    bank = records.bank_account_add(
        **ws(rep),
        account_id=account.pk,
        bank_name="工商银行",
        account_number="6222 0000 1234",
        is_primary=True,
    )
    assert bank.account_number == "622200001234"
    records.bank_account_update(**ws(rep), bank_account_id=bank.pk, account_name="甲公司")
    records.bank_account_remove(**ws(rep), bank_account_id=bank.pk)
    assert not BankAccount.objects.filter(workspace=rep.workspace).exists()
    history = AuditEntry.objects.filter(workspace=rep.workspace, object_id=str(account.pk))
    assert any("bank_accounts" in e.changes for e in history)
    assert not any("62220000" in str(e.changes) for e in history)


def test_tags_set_add_remove(rep):
    contact = ContactFactory(workspace=rep.workspace, owner=rep)
    key = "customers.contact"
    records.tags_set(**ws(rep), object_key=key, record_id=contact.pk, names=["a", "b"])
    records.tag_add(**ws(rep), object_key=key, record_id=contact.pk, name="c")
    records.tag_remove(**ws(rep), object_key=key, record_id=contact.pk, name="a")
    assert records._tags_of(records._CONTACT, contact, "tag") == ["b", "c"]
    with pytest.raises(ApplicationError):
        records.tags_set(**ws(rep), object_key=key, record_id=contact.pk, names=["x" * 61])


def test_delete_keeps_audit_and_individualises_contacts(workspace, admin_user):
    account = AccountFactory(workspace=workspace, owner=admin_user)
    contact = records.contact_create(**ws(admin_user), name="P", account_id=account.pk)
    records.account_delete(**ws(admin_user), account_id=account.pk)
    contact.refresh_from_db()
    assert contact.account is None
    assert AuditEntry.objects.filter(
        workspace=workspace, action="delete", object_id=str(account.pk)
    ).exists()
    records.contact_delete(**ws(admin_user), contact_id=contact.pk)
    assert not Contact.objects.filter(workspace=workspace).exists()


def test_custom_fields_are_validated(rep, admin_user, workspace):
    platform_services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="customers.contact",
        label="Size",
        key="size",
        field_type="number",
    )
    contact = records.contact_create(**ws(rep), name="X", custom={"size": "12"})
    assert contact.custom == {"size": 12}
    with pytest.raises(ApplicationError) as exc:
        records.contact_update(**ws(rep), contact_id=contact.pk, custom={"size": "many"})
    assert "custom.size" in exc.value.fields


def test_the_pool_cap_holds_on_create(rep, workspace):
    from guanxi.customers.models import Account, PoolSettings

    PoolSettings.objects.create(workspace=workspace, max_per_rep=1)
    records.account_create(**ws(rep), name="一号")
    with pytest.raises(Conflict) as exc:
        records.account_create(**ws(rep), name="二号")
    assert exc.value.code == "pool_cap_reached"
    with pytest.raises(Conflict):
        records.contact_create(**ws(rep), name="个人客户")  # an individual counts
    first = Account.objects.get(workspace=workspace, name="一号")
    records.contact_create(**ws(rep), name="员工", account_id=first.pk)  # at an account: free
    assert Account.objects.filter(workspace=workspace).count() == 1
