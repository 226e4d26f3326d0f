"""The audit log stays append-only, except that an entry may be redacted once (erasure)."""

import pytest
from django.db import DatabaseError, connection, transaction

from guanxi.common.models import UnscopedQueryError
from guanxi.platform import audit
from guanxi.platform.models import AuditEntry

KEY = "customers.contact"


def _entry(workspace, admin_user, object_id=7, **changes) -> AuditEntry:
    return audit.log(
        actor=admin_user,
        workspace=workspace,
        action="update",
        object_key=KEY,
        object_id=object_id,
        object_repr="王小明",
        changes=changes
        or {
            "name": ["王小明", "王晓明"],
            "mobile": [None, "+8613800138000"],
            "lifecycle_stage": ["new", "retained"],
            "custom.wechat": [None, "wxm"],
            "custom": [{"wechat": "old_id", "size": "L"}, {"wechat": "new_id", "size": "XL"}],
        },
    )


def _raw(sql: str, params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


REDACT_SQL = (
    "UPDATE platform_auditentry SET redacted_at = CURRENT_TIMESTAMP, changes = '{}', "
    "object_repr = 'x' WHERE id = %s"
)


def test_plain_update_still_fails_in_the_database(workspace, admin_user):
    entry = _entry(workspace, admin_user)
    for sql in (
        "UPDATE platform_auditentry SET action = 'delete' WHERE id = %s",
        "UPDATE platform_auditentry SET changes = '{}' WHERE id = %s",
        "UPDATE platform_auditentry SET object_repr = 'x' WHERE id = %s",
        # A redaction that also changes another column is refused as a whole.
        "UPDATE platform_auditentry SET redacted_at = CURRENT_TIMESTAMP, action = 'delete' "
        "WHERE id = %s",
        "UPDATE platform_auditentry SET redacted_at = CURRENT_TIMESTAMP, actor_label = 'x' "
        "WHERE id = %s",
        "UPDATE platform_auditentry SET redacted_at = CURRENT_TIMESTAMP, object_id = '8' "
        "WHERE id = %s",
        "UPDATE platform_auditentry SET redacted_at = CURRENT_TIMESTAMP, actor_id = NULL "
        "WHERE id = %s",
        "UPDATE platform_auditentry SET redacted_at = CURRENT_TIMESTAMP, "
        "created_at = CURRENT_TIMESTAMP WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            _raw(sql, [entry.pk])
    fresh = AuditEntry.objects.in_workspace(workspace).get(pk=entry.pk)
    assert fresh.redacted_at is None and fresh.action == "update"
    assert fresh.changes == entry.changes and fresh.object_repr == "王小明"


def test_a_redaction_succeeds_once(workspace, admin_user):
    entry = _entry(workspace, admin_user)
    _raw(REDACT_SQL, [entry.pk])
    fresh = AuditEntry.objects.in_workspace(workspace).get(pk=entry.pk)
    assert fresh.redacted_at is not None and fresh.changes == {} and fresh.object_repr == "x"
    for sql in (
        REDACT_SQL,  # a second redaction
        "UPDATE platform_auditentry SET changes = '{\"a\": 1}' WHERE id = %s",
        "UPDATE platform_auditentry SET redacted_at = NULL WHERE id = %s",
        "UPDATE platform_auditentry SET action = 'delete' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            _raw(sql, [entry.pk])


def test_the_orm_still_refuses_updates(workspace, admin_user):
    entry = _entry(workspace, admin_user)
    with pytest.raises(RuntimeError):
        AuditEntry.objects.in_workspace(workspace).update(redacted_at=entry.created_at)
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(UnscopedQueryError):
        AuditEntry.objects.all().apply_redactions({entry.pk: ({}, "x")}, at=entry.created_at)


def test_redact_replaces_the_named_fields_and_the_repr(workspace, admin_user):
    entry = _entry(workspace, admin_user)
    other_record = _entry(workspace, admin_user, object_id=8)
    done = audit.redact(
        workspace=workspace,
        object_key=KEY,
        object_ids=[7],
        fields={"name", "mobile", "custom.wechat"},
        placeholder="[erased]",
    )
    assert done == 1
    entry = AuditEntry.objects.in_workspace(workspace).get(pk=entry.pk)
    assert entry.redacted_at is not None
    assert entry.object_repr == "[erased]"
    assert entry.changes == {
        "name": ["[erased]", "[erased]"],
        "mobile": [None, "[erased]"],
        "lifecycle_stage": ["new", "retained"],
        "custom.wechat": [None, "[erased]"],
        "custom": [
            {"wechat": "[erased]", "size": "L"},
            {"wechat": "[erased]", "size": "XL"},
        ],
    }
    # Who did what and when stays.
    assert entry.action == "update" and entry.actor_id == admin_user.pk
    untouched = AuditEntry.objects.in_workspace(workspace).get(pk=other_record.pk)
    assert untouched.redacted_at is None and untouched.object_repr == "王小明"


def test_redact_custom_and_all_fields(workspace, admin_user):
    entry = _entry(workspace, admin_user)
    audit.redact(
        workspace=workspace, object_key=KEY, object_ids=["7"], fields={"custom"}, placeholder="-"
    )
    entry = AuditEntry.objects.in_workspace(workspace).get(pk=entry.pk)
    assert entry.changes["custom.wechat"] == [None, "-"]
    assert entry.changes["custom"] == ["-", "-"]
    assert entry.changes["name"] == ["王小明", "王晓明"]

    every = _entry(workspace, admin_user, object_id=9)
    audit.redact(workspace=workspace, object_key=KEY, object_ids=[9], fields=None, placeholder="-")
    every = AuditEntry.objects.in_workspace(workspace).get(pk=every.pk)
    assert every.changes["lifecycle_stage"] == ["-", "-"]
    assert every.changes["mobile"] == [None, "-"]


def test_redacted_entries_are_left_alone(workspace, admin_user):
    entry = _entry(workspace, admin_user)
    audit.redact(
        workspace=workspace, object_key=KEY, object_ids=[7], fields={"name"}, placeholder="A"
    )
    later = _entry(workspace, admin_user)
    assert (
        audit.redact(
            workspace=workspace, object_key=KEY, object_ids=[7], fields=None, placeholder="B"
        )
        == 1
    )
    entry = AuditEntry.objects.in_workspace(workspace).get(pk=entry.pk)
    assert entry.object_repr == "A" and entry.changes["lifecycle_stage"] == ["new", "retained"]
    later = AuditEntry.objects.in_workspace(workspace).get(pk=later.pk)
    assert later.object_repr == "B"


def test_redact_stays_in_its_workspace(workspace, admin_user, other_workspace, other_admin):
    mine = _entry(workspace, admin_user)
    theirs = _entry(other_workspace, other_admin)
    assert mine.object_id == theirs.object_id
    audit.redact(
        workspace=other_workspace, object_key=KEY, object_ids=[7], fields=None, placeholder="-"
    )
    mine = AuditEntry.objects.in_workspace(workspace).get(pk=mine.pk)
    assert mine.redacted_at is None and mine.object_repr == "王小明"
    theirs = AuditEntry.objects.in_workspace(other_workspace).get(pk=theirs.pk)
    assert theirs.redacted_at is not None


def test_redact_in_batches(workspace, admin_user, monkeypatch):
    monkeypatch.setattr(audit, "REDACT_BATCH", 3)
    entries = [_entry(workspace, admin_user, object_id=i % 2 + 1) for i in range(8)]
    assert (
        audit.redact(
            workspace=workspace, object_key=KEY, object_ids=[1, 2], fields=None, placeholder="-"
        )
        == 8
    )
    assert not (
        AuditEntry.objects.in_workspace(workspace)
        .filter(pk__in=[e.pk for e in entries], redacted_at__isnull=True)
        .exists()
    )
