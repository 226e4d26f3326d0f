"""Indexes for customer search, per database.

PostgreSQL: a pg_trgm GIN index on ``search_text`` (substrings of 3+ characters) and a GIN
index over the words of ``search_grams`` (``string_to_array``) for 1–2 character Chinese
terms, which trigrams cannot serve. Prefixes of names, pinyin and initials use the btree
indexes of 0001.

SQLite: two FTS5 tables per customer table with external content (no copy of the text):
``<table>_fts`` (trigram tokenizer over ``search_text``) and ``<table>_grams`` (unicode61
over ``search_grams``), kept in step by triggers on insert, update and delete.

Written out here rather than imported: a migration imports no app code.
"""

from django.db import migrations

TABLES = ("customers_contact", "customers_account")


def _sqlite_statements(table: str) -> list[str]:
    fts, grams = f"{table}_fts", f"{table}_grams"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
        f"search_text, content='{table}', content_rowid='id', tokenize='trigram')",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {grams} USING fts5("
        f"search_grams, content='{table}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        f"INSERT INTO {grams}({grams}) VALUES ('rebuild')",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_search_ai AFTER INSERT ON {table} BEGIN
            INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);
            INSERT INTO {grams}(rowid, search_grams) VALUES (new.id, new.search_grams);
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_search_ad AFTER DELETE ON {table} BEGIN
            INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
            INSERT INTO {grams}({grams}, rowid, search_grams)
                VALUES ('delete', old.id, old.search_grams);
        END""",
        # Only when the derived columns change: a save that leaves them alone costs nothing.
        f"""CREATE TRIGGER IF NOT EXISTS {table}_search_au AFTER UPDATE OF search_text, search_grams
            ON {table}
            WHEN old.search_text IS NOT new.search_text OR old.search_grams IS NOT new.search_grams
        BEGIN
            INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
            INSERT INTO {grams}({grams}, rowid, search_grams)
                VALUES ('delete', old.id, old.search_grams);
            INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);
            INSERT INTO {grams}(rowid, search_grams) VALUES (new.id, new.search_grams);
        END""",
    ]


def _postgresql_statements(table: str) -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} "
        "USING gin (search_text gin_trgm_ops)",
        f"CREATE INDEX IF NOT EXISTS {table}_search_grams ON {table} "
        "USING gin ((string_to_array(search_grams, ' ')))",
    ]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table in TABLES:
            for sql in _postgresql_statements(table):
                schema_editor.execute(sql)
    elif vendor == "sqlite":
        for table in TABLES:
            for sql in _sqlite_statements(table):
                schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_trgm")
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_grams")
        elif vendor == "sqlite":
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_search_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {table}_fts")
            schema_editor.execute(f"DROP TABLE IF EXISTS {table}_grams")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_builtin_role_grants_and_custom_gin")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
