"""The "open complaint" flag on accounts and contacts (kept by the service's cases; marketing
holds off while it is set)."""

from django.db import migrations, models

TABLES = ("customers_account", "customers_contact")


def add_columns(apps, schema_editor):
    false = "false" if schema_editor.connection.vendor == "postgresql" else "0"
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN open_complaint boolean DEFAULT {false} NOT NULL"
        )
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN open_complaint DROP DEFAULT")


def drop_columns(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN open_complaint")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_value_class"),
    ]

    operations = [
        # Added in place, as 0006 does: Django's SQLite schema editor would rebuild the table
        # for a NOT NULL column, which drops the search triggers of 0003.
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
            state_operations=[
                migrations.AddField(
                    model_name="account",
                    name="open_complaint",
                    field=models.BooleanField(default=False, verbose_name="open complaint"),
                ),
                migrations.AddField(
                    model_name="contact",
                    name="open_complaint",
                    field=models.BooleanField(default=False, verbose_name="open complaint"),
                ),
            ],
        ),
    ]
