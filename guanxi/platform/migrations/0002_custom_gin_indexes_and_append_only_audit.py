"""GIN indexes on the custom-field JSON (PostgreSQL) and an append-only audit table.

On PostgreSQL ``custom`` is jsonb and a jsonb_path_ops GIN index serves equality filters
(``custom @> '{"key": value}'``). On both databases a trigger refuses UPDATE of audit rows.
"""

from django.db import migrations

GIN_TABLES = ["platform_user", "platform_team"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in GIN_TABLES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_custom_gin ON {table} "
                "USING gin (custom jsonb_path_ops)"
            )
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION guanxi_audit_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'the audit log is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        schema_editor.execute(
            "CREATE TRIGGER platform_auditentry_no_update BEFORE UPDATE ON platform_auditentry "
            "FOR EACH ROW EXECUTE FUNCTION guanxi_audit_append_only()"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER platform_auditentry_no_update BEFORE UPDATE ON platform_auditentry "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in GIN_TABLES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_custom_gin")
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS platform_auditentry_no_update ON platform_auditentry"
        )
        schema_editor.execute("DROP FUNCTION IF EXISTS guanxi_audit_append_only()")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS platform_auditentry_no_update")


class Migration(migrations.Migration):
    dependencies = [("platform", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
