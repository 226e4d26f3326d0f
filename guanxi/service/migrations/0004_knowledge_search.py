"""Knowledge base search: the title's own tokens (``search_title``) and the word indexes.

PostgreSQL: GIN indexes over ``string_to_array(search_text, ' ')`` and
``string_to_array(search_title, ' ')``: a token (a jieba word, a Chinese character, a
latin word, a number) is found as a whole element.

SQLite: an FTS5 table with external content (no copy of the text) over both columns, with
the unicode61 tokenizer, which splits at the spaces between the tokens and nowhere else
(the tokens hold only letters and digits); triggers keep it in step on insert, update and
delete.

Written out here rather than imported: a migration imports no app code.
"""

from django.db import migrations, models

TABLE = "service_article"
FTS = "service_article_fts"


def _sqlite_statements() -> list[str]:
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5("
        f"search_title, search_text, content='{TABLE}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')",
        f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
        f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_search_ai AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {FTS}(rowid, search_title, search_text)
                VALUES (new.id, new.search_title, new.search_text);
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_search_ad AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {FTS}({FTS}, rowid, search_title, search_text)
                VALUES ('delete', old.id, old.search_title, old.search_text);
        END""",
        # Only when the derived columns change: a view count or a status costs nothing.
        f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_search_au
            AFTER UPDATE OF search_title, search_text ON {TABLE}
            WHEN old.search_text IS NOT new.search_text
                OR old.search_title IS NOT new.search_title
        BEGIN
            INSERT INTO {FTS}({FTS}, rowid, search_title, search_text)
                VALUES ('delete', old.id, old.search_title, old.search_text);
            INSERT INTO {FTS}(rowid, search_title, search_text)
                VALUES (new.id, new.search_title, new.search_text);
        END""",
    ]


def _postgresql_statements() -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {TABLE}_search_words ON {TABLE} "
        "USING gin ((string_to_array(search_text, ' ')))",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_search_title_words ON {TABLE} "
        "USING gin ((string_to_array(search_title, ' ')))",
    ]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": _postgresql_statements, "sqlite": _sqlite_statements}
    if vendor in statements:
        for sql in statements[vendor]():
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_search_words")
        schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_search_title_words")
    elif vendor == "sqlite":
        for suffix in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_search_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")


class Migration(migrations.Migration):
    dependencies = [("service", "0003_portal_settings")]

    operations = [
        migrations.AddField(
            model_name="article",
            name="search_title",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
