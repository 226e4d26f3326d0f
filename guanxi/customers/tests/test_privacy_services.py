"""Per-person export and erasure."""

import datetime as dt
import json

import pytest

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.models import (
    AccountContact,
    Address,
    Consent,
    ContactPoint,
    ContactTag,
    Merge,
    PoolEvent,
    StageChange,
    Tag,
)
from guanxi.customers.services import consent, pool, privacy
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform import audit
from guanxi.platform.models import AuditEntry, CustomField
from guanxi.platform.tests.factories import UserFactory

PERSONAL = {
    "name": "王小明",
    "first_name": "小明",
    "last_name": "王",
    "phone": "+861065550000",
    "mobile": "+8613800138000",
    "email": "xiaoming.wang@example.cn",
    "id_number": "110101199003078515",
    "family": "married, two daughters",
    "hobbies": "golf hobby",
    "habits": "early riser habit",
    "personality": "patient personality",
    "street": "朝阳路88号",
    "postal_code": "100020",
    "notes": "secret note text",
}


@pytest.fixture
def manager(workspace):
    return UserFactory(workspace=workspace, role_code="sales_manager")


@pytest.fixture
def person(workspace, manager):
    account = AccountFactory(workspace=workspace, name="星河贸易有限公司")
    contact = ContactFactory(
        workspace=workspace,
        owner=manager,
        account=account,
        company="星河贸易",
        title="采购经理",
        gender="male",
        birthday=dt.date(1990, 3, 7),
        income_band="high",
        education="master",
        latitude="39.900000",
        longitude="116.400000",
        lifecycle_stage="retained",
        custom={"wechat": "wxm_wechat_id"},
        **PERSONAL,
    )
    CustomField.objects.create(
        workspace=workspace,
        object_key="customers.contact",
        key="wechat",
        label="WeChat",
        field_type="text",
    )
    AccountContact.objects.create(
        workspace=workspace, account=account, contact=contact, role="buyer", is_primary=True
    )
    Address.objects.create(
        workspace=workspace, contact=contact, kind="home", street="海淀区中关村1号", city="北京"
    )
    ContactPoint.objects.create(
        workspace=workspace, contact=contact, kind="email", value="xm.private@example.org"
    )
    ContactPoint.objects.create(
        workspace=workspace, contact=contact, kind="phone", value="+8613911112222"
    )
    interest = Tag.objects.create(workspace=workspace, name="高尔夫", kind="interest")
    vip = Tag.objects.create(workspace=workspace, name="VIP", kind="tag")
    ContactTag.objects.create(workspace=workspace, contact=contact, tag=interest)
    ContactTag.objects.create(workspace=workspace, contact=contact, tag=vip)
    StageChange.objects.create(
        workspace=workspace,
        contact=contact,
        kind="lifecycle",
        from_stage="new",
        to_stage="retained",
        actor=manager,
    )
    Merge.objects.create(
        workspace=workspace,
        object_key="customers.contact",
        survivor_id=contact.pk,
        merged_id=contact.pk + 1000,
        merged_code="C999999",
        snapshot={"name": "王小明", "mobile": "+8613800138000", "lifecycle_stage": "new"},
        actor=manager,
    )
    consent.consent_record(
        actor=manager,
        workspace=workspace,
        contact_id=contact.pk,
        channel="email",
        purpose="marketing",
        status="granted",
        method="web_form",
        notice_version="2026-01",
    )
    pool.customer_release(
        actor=manager, workspace=workspace, object_key="customers.contact", record_id=contact.pk
    )
    pool.customer_claim(
        actor=manager, workspace=workspace, object_key="customers.contact", record_id=contact.pk
    )
    contact.refresh_from_db()
    return contact


def test_export_holds_everything(workspace, manager, person):
    data = privacy.contact_personal_data(actor=manager, workspace=workspace, contact_id=person.pk)
    json.dumps(data)  # serialisable as it is
    assert data["code"] == person.code
    assert data["fields"]["mobile"] == "+8613800138000"
    assert data["fields"]["birthday"] == "1990-03-07"
    assert data["custom_fields"]["wechat"]["value"] == "wxm_wechat_id"
    assert data["addresses"][0]["street"] == "海淀区中关村1号"
    assert {p["value"] for p in data["phones_and_emails"]} == {
        "xm.private@example.org",
        "+8613911112222",
    }
    assert data["memberships"][0]["role"] == "buyer"
    assert data["tags"] == ["VIP"] and data["interests"] == ["高尔夫"]
    assert data["stage_history"][0]["to"] == "retained"
    assert data["consent"][0]["notice_version"] == "2026-01"
    assert data["consent_history"][0]["status"] == "granted"
    assert [e["kind"] for e in data["pool_events"]] == ["released", "claimed"]
    assert data["merges"][0]["merged_code"] == "C999999"
    assert any("consent.email.marketing" in e["changes"] for e in data["audit_log"])
    assert AuditEntry.objects.in_workspace(workspace).filter(action="export").exists()


def test_export_leaves_out_hidden_fields(workspace, manager, person):
    from guanxi.platform.models import RoleFieldRule

    RoleFieldRule.objects.create(
        workspace=workspace,
        role=manager.role,
        object_key="customers.contact",
        field="id_number",
        access="hidden",
    )
    manager = type(manager).objects.get(pk=manager.pk)  # field rules are cached per object
    data = privacy.contact_personal_data(actor=manager, workspace=workspace, contact_id=person.pk)
    assert "id_number" not in data["fields"]


def test_export_rights_and_workspaces(workspace, other_admin, person):
    service_agent = UserFactory(workspace=workspace, role_code="service_agent")
    with pytest.raises(PermissionDenied):
        privacy.contact_personal_data(
            actor=service_agent, workspace=workspace, contact_id=person.pk
        )
    with pytest.raises(NotFound):
        privacy.contact_personal_data(
            actor=other_admin, workspace=other_admin.workspace, contact_id=person.pk
        )


def _all_text(workspace, person) -> str:
    """The contact's row and every related row of the customers app, as text."""
    from django.core import serializers

    rows = [person]
    for model in (Address, ContactPoint, ContactTag, AccountContact, StageChange):
        rows += list(model.objects.in_workspace(workspace).filter(contact=person))
    rows += list(Consent.objects.in_workspace(workspace).filter(contact=person))
    rows += list(PoolEvent.objects.in_workspace(workspace).filter(contact=person))
    rows += list(Merge.objects.in_workspace(workspace).filter(survivor_id=person.pk))
    return serializers.serialize("json", rows)


def test_erase_leaves_no_personal_value(workspace, manager, person):
    before = _all_text(workspace, person)
    assert "13800138000" in before and "海淀区中关村1号" in before
    privacy.contact_erase(
        actor=manager, workspace=workspace, contact_id=person.pk, reason="request #12"
    )
    person.refresh_from_db()
    text = _all_text(workspace, person)
    for value in [
        *PERSONAL.values(),
        "13800138000",
        "1990-03-07",
        "xm.private@example.org",
        "13911112222",
        "海淀区中关村1号",
        "wxm_wechat_id",
        "wangxiaoming",
        "xiaoming",
        "39.9",
        "116.4",
    ]:
        assert value not in text, value
    assert person.name == f"Erased {person.code}"
    assert person.erased_at is not None
    # Business facts stay.
    assert person.company == "星河贸易" and person.title == "采购经理"
    assert person.lifecycle_stage == "retained"
    assert AccountContact.objects.in_workspace(workspace).filter(contact=person).exists()
    assert StageChange.objects.in_workspace(workspace).filter(contact=person).exists()
    assert [
        t.tag.name for t in ContactTag.objects.in_workspace(workspace).filter(contact=person)
    ] == ["VIP"]
    assert set(
        Consent.objects.in_workspace(workspace)
        .filter(contact=person)
        .values_list("status", flat=True)
    ) == {"withdrawn"}
    assert not consent.may_contact(
        workspace=workspace, contact_id=person.pk, channel="email", purpose="service"
    )
    entry = AuditEntry.objects.in_workspace(workspace).order_by("-id").first()
    assert entry.changes["personal_data"] == [None, "erased"]
    assert "13800138000" not in json.dumps(entry.changes, ensure_ascii=False)
    assert "王小明" not in entry.object_repr


def test_erased_person_stays_erased(workspace, manager, person):
    privacy.contact_erase(actor=manager, workspace=workspace, contact_id=person.pk, reason="asked")
    person.refresh_from_db()
    with pytest.raises(Conflict):
        privacy.contact_erase(
            actor=manager, workspace=workspace, contact_id=person.pk, reason="again"
        )
    with pytest.raises(Conflict):
        privacy.ensure_not_erased(person)
    with pytest.raises(Conflict):
        consent.consent_record(
            actor=manager,
            workspace=workspace,
            contact_id=person.pk,
            channel="email",
            purpose="marketing",
            status="granted",
            method="web_form",
        )


def test_erase_needs_a_reason_and_the_delete_right(workspace, manager, person):
    with pytest.raises(ApplicationError) as exc:
        privacy.contact_erase(actor=manager, workspace=workspace, contact_id=person.pk, reason=" ")
    assert "reason" in exc.value.fields
    rep = UserFactory(workspace=workspace)  # sales_rep: no delete right
    with pytest.raises(PermissionDenied):
        privacy.contact_erase(actor=rep, workspace=workspace, contact_id=person.pk, reason="x")
    person.refresh_from_db()
    assert person.erased_at is None


def test_erase_across_workspaces_is_not_found(workspace, other_admin, person):
    with pytest.raises(NotFound):
        privacy.contact_erase(
            actor=other_admin, workspace=other_admin.workspace, contact_id=person.pk, reason="x"
        )


def test_erased_person_cannot_be_edited_back(workspace, manager, person):
    from guanxi.customers.services import records

    privacy.contact_erase(actor=manager, workspace=workspace, contact_id=person.pk, reason="asked")
    for changes in ({"name": "王小明"}, {"mobile": "13800138000"}, {"first_name": "小明"}):
        with pytest.raises(Conflict) as exc:
            records.contact_update(
                actor=manager, workspace=workspace, contact_id=person.pk, **changes
            )
        assert exc.value.code == "contact_erased"
    records.contact_update(
        actor=manager, workspace=workspace, contact_id=person.pk, lifecycle_stage="lost"
    )
    person.refresh_from_db()
    assert person.lifecycle_stage == "lost" and person.mobile == ""


def test_erase_redacts_the_audit_log(workspace, manager, person):
    from guanxi.customers.services import records

    # History with personal values: an update of the contact, and a record merged into it
    # whose own entries (create, delete) hold its values.
    records.contact_update(
        actor=manager,
        workspace=workspace,
        contact_id=person.pk,
        mobile="13700001111",
        custom={"wechat": "wxm_new_id"},
    )
    twin = ContactFactory(
        workspace=workspace, owner=manager, name="王小明", mobile="+8613800138000"
    )
    audit.log_create(actor=manager, instance=twin)
    audit.log_delete(actor=manager, instance=twin)
    Merge.objects.create(
        workspace=workspace,
        object_key="customers.contact",
        survivor_id=person.pk,
        merged_id=twin.pk,
        merged_code=twin.code,
        snapshot={"name": "王小明"},
    )
    ids = [str(person.pk), str(twin.pk)]

    def history_text() -> str:
        rows = AuditEntry.objects.in_workspace(workspace).filter(
            object_key="customers.contact", object_id__in=ids
        )
        return json.dumps(
            [[e.object_repr, e.changes] for e in rows], ensure_ascii=False, default=str
        )

    before = history_text()
    assert "王小明" in before and "13700001111" in before and "wxm_new_id" in before
    older = AuditEntry.objects.in_workspace(workspace).filter(object_id__in=ids).count()

    privacy.contact_erase(actor=manager, workspace=workspace, contact_id=person.pk, reason="asked")

    text = history_text()
    for value in [
        *PERSONAL.values(),
        "13800138000",
        "13700001111",
        "wxm_wechat_id",
        "wxm_new_id",
        "1990-03-07",
    ]:
        assert value not in text, value
    # Still there, with the placeholder; who did what stays; the erasure's own rows are new.
    entries = AuditEntry.objects.in_workspace(workspace).filter(object_id__in=ids)
    redacted = entries.filter(redacted_at__isnull=False)
    assert redacted.count() == older
    assert {e.object_repr for e in redacted} == {"[erased]"}
    assert "[erased]" in text and twin.code in text
    erasure = entries.order_by("-id").first()
    assert erasure.redacted_at is None and erasure.changes["personal_data"] == [None, "erased"]
    # The personal-data export no longer lists the values.
    data = privacy.contact_personal_data(actor=manager, workspace=workspace, contact_id=person.pk)
    exported = json.dumps(data["audit_log"], ensure_ascii=False)
    assert "13700001111" not in exported and "王小明" not in exported
