"""Audit entries can be redacted once (PIPL/GDPR erasure); otherwise still append-only.

Adds ``AuditEntry.redacted_at`` and replaces the trigger of 0002 on PostgreSQL and SQLite:
an UPDATE passes only when it redacts — ``redacted_at`` goes from NULL to a value and no
column other than ``changes`` and ``object_repr`` changes. Anything else still raises
'the audit log is append-only'. Backwards restores the trigger of 0002.
See docs/decisions/0001-audit-redaction-on-erasure.md.
"""

from django.db import migrations, models

TRIGGER = "platform_auditentry_no_update"

# The columns a redaction must leave as they are (SQLite lists them; PostgreSQL compares the
# whole row except the redactable columns, so a column added later is protected too).
KEPT_COLUMNS = (
    "id",
    "workspace_id",
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "object_key",
    "object_id",
    "ip_address",
)

PG_REDACTABLE_FUNCTION = """
CREATE OR REPLACE FUNCTION guanxi_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
       AND (to_jsonb(NEW) - 'changes' - 'object_repr' - 'redacted_at')
           = (to_jsonb(OLD) - 'changes' - 'object_repr' - 'redacted_at') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql
"""

PG_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION guanxi_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql
"""

SQLITE_REDACTABLE_TRIGGER = (
    f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON platform_auditentry "
    "WHEN NOT (OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL AND "
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in KEPT_COLUMNS)
    + ") BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
)

SQLITE_APPEND_ONLY_TRIGGER = (
    f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON platform_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
)


def _install(schema_editor, *, redactable: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # The trigger of 0002 calls this function by name: replacing it is enough.
        schema_editor.execute(PG_REDACTABLE_FUNCTION if redactable else PG_APPEND_ONLY_FUNCTION)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON platform_auditentry")
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON platform_auditentry "
            "FOR EACH ROW EXECUTE FUNCTION guanxi_audit_append_only()"
        )
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        schema_editor.execute(
            SQLITE_REDACTABLE_TRIGGER if redactable else SQLITE_APPEND_ONLY_TRIGGER
        )


def forwards(apps, schema_editor):
    _install(schema_editor, redactable=True)


def backwards(apps, schema_editor):
    _install(schema_editor, redactable=False)


class Migration(migrations.Migration):
    dependencies = [
        ("platform", "0002_custom_gin_indexes_and_append_only_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="redacted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        # After the column exists (forwards); before it is removed (backwards), so the
        # column is never referenced by a trigger when SQLite drops it.
        migrations.RunPython(forwards, backwards),
    ]
