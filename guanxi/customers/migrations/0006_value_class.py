"""The ABC value class on accounts and contacts (written by the analytics' customer-value run),
indexed for the lists' class filter."""

from django.conf import settings
from django.db import migrations, models

TABLES = ("customers_account", "customers_contact")


def add_columns(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN value_class varchar(1) DEFAULT '' NOT NULL"
        )
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN value_class DROP DEFAULT")


def drop_columns(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN value_class")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0005_importrun_warnings_strict_policy'),
        ('platform', '0003_audit_redaction'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The column is added in place: Django's SQLite schema editor would rebuild the
        # table for a NOT NULL column, which drops the search triggers of 0003 (and copies
        # every row of a large table).
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
            state_operations=[
                migrations.AddField(
                    model_name='account',
                    name='value_class',
                    field=models.CharField(blank=True, max_length=1, verbose_name='value class'),
                ),
                migrations.AddField(
                    model_name='contact',
                    name='value_class',
                    field=models.CharField(blank=True, max_length=1, verbose_name='value class'),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='account',
            index=models.Index(fields=['workspace', 'value_class', 'name', 'id'], name='account_ws_class'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(fields=['workspace', 'value_class', 'name', 'id'], name='contact_ws_class'),
        ),
    ]
