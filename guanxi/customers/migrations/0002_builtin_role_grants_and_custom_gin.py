"""Built-in roles of existing workspaces get their rights on accounts and contacts (as new
workspaces do), and on PostgreSQL the custom-field JSON gets a jsonb_path_ops GIN index.

The grants are written out here rather than imported: a data migration imports no app code.
"""

from django.db import migrations

ALL = ["bulk", "create", "delete", "export", "read", "update"]
WORK = ["create", "export", "read", "update"]
GRANTS = {
    "sales_manager": (ALL, "team_below"),
    "sales_rep": (WORK, "own"),
    "marketing": (sorted([*WORK, "bulk"]), "all"),
    "service_agent": (["create", "read", "update"], "all"),
    "technician": (["read"], "all"),
    "read_only": (["read"], "all"),
}
OBJECTS = ("customers.account", "customers.contact")
GIN_TABLES = ("customers_account", "customers_contact")


def grant(apps, schema_editor):
    Role = apps.get_model("platform", "Role")
    for role in Role.objects.filter(is_system=True, code__in=GRANTS):
        actions, visibility = GRANTS[role.code]
        rights = dict(role.rights or {})
        for key in OBJECTS:
            rights.setdefault(key, {"actions": actions, "visibility": visibility})
        role.rights = rights
        role.save(update_fields=["rights"])


def revoke(apps, schema_editor):
    Role = apps.get_model("platform", "Role")
    for role in Role.objects.filter(is_system=True, code__in=GRANTS):
        role.rights = {k: v for k, v in (role.rights or {}).items() if k not in OBJECTS}
        role.save(update_fields=["rights"])


def gin_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in GIN_TABLES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_custom_gin ON {table} "
                "USING gin (custom jsonb_path_ops)"
            )


def drop_gin_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in GIN_TABLES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_custom_gin")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial"), ("platform", "0002_custom_gin_indexes_and_append_only_audit")]

    operations = [
        migrations.RunPython(grant, revoke),
        migrations.RunPython(gin_indexes, drop_gin_indexes),
    ]
