"""The agent queue's text search over cases, per database (as customers' 0003 does).

PostgreSQL: a pg_trgm GIN index on ``service_case.search_text`` (substrings of 3+
characters: the number, the subject, the customer's names).

SQLite: an FTS5 table with external content (no copy of the text), ``service_case_fts``
(trigram tokenizer over ``search_text``), kept in step by triggers on insert, update and
delete.

Written out here rather than imported: a migration imports no app code.
"""

from django.db import migrations

TABLE = "service_case"


def _sqlite_statements() -> list[str]:
    fts = f"{TABLE}_fts"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
        f"search_text, content='{TABLE}', content_rowid='id', tokenize='trigram')",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_search_ai AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_search_ad AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        END""",
        # Only when the search text changes: the many saves that leave it alone cost nothing.
        f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_search_au AFTER UPDATE OF search_text ON {TABLE}
            WHEN old.search_text IS NOT new.search_text
        BEGIN
            INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
            INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    ]


def _postgresql_statements() -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {TABLE}_search_trgm ON {TABLE} "
        "USING gin (search_text gin_trgm_ops)",
    ]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for sql in _postgresql_statements():
            schema_editor.execute(sql)
    elif vendor == "sqlite":
        for sql in _sqlite_statements():
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_search_trgm")
    elif vendor == "sqlite":
        for suffix in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_search_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}_fts")


class Migration(migrations.Migration):
    dependencies = [("service", "0007_surveys_customer_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
