"""Knowledge base search on PostgreSQL: GIN indexes over ``to_tsvector('simple', …)`` of
``search_text`` and ``search_title`` instead of ``string_to_array(…, ' ')``.

The planner costs ``string_to_array`` as nearly free, so for a common word (or under a
``LIMIT``) it scanned the table and split every article's text (0.3 s at 10,000
articles); ``to_tsvector`` is costed as what it is, and the index is used. The 'simple'
configuration keeps each space-separated token as it is (lower case already), the same
tokens SQLite's FTS5 table of migration 0004 holds.

Written out here rather than imported: a migration imports no app code.
"""

from django.db import migrations

TABLE = "service_article"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_search_words")
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_search_title_words")
    for column, name in (("search_text", "search_tsv"), ("search_title", "search_title_tsv")):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TABLE}_{name} ON {TABLE} "
            f"USING gin (to_tsvector('simple'::regconfig, {column}))"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_search_tsv")
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_search_title_tsv")
    for column, name in (("search_text", "search_words"), ("search_title", "search_title_words")):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TABLE}_{name} ON {TABLE} "
            f"USING gin ((string_to_array({column}, ' ')))"
        )


class Migration(migrations.Migration):
    dependencies = [("service", "0008_cases_search_index")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
