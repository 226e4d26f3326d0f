"""Finding customers by any part of a name, company, phone, e-mail, pinyin or initials.

A term is folded like the stored search columns (``normalize.fold``: full-width to
half-width, traditional to simplified, lower case) and split into words; every word must
match. How a word is looked for depends on what it is, so that each kind has an index:

- 3+ characters (text, e-mail parts, 4+ phone digits): a substring of ``search_text`` —
  pg_trgm GIN on PostgreSQL, the FTS5 trigram table ``<table>_fts`` on SQLite;
- 1–2 Chinese characters: one of the two-character grams of ``search_grams`` — GIN over
  ``string_to_array(search_grams, ' ')`` on PostgreSQL, the FTS5 unicode61 table
  ``<table>_grams`` on SQLite;
- latin letters: also a prefix of the full pinyin or of the initials (``zhangsan``,
  ``zs`` → 张三), and any word: a prefix of the name (btree indexes of 0001).

``filter_queryset(qs, term)`` narrows any customer queryset (the lists' search box keeps
its own order and pages). ``search_contacts``/``search_accounts`` (the global box) rank:
exact before prefix before substring. A common term (王 is in 7% of names) must not sort
100k rows, so they take at most ``PROBE_LIMIT`` matches of each probe in index order,
then rank that handful in Python.
"""

from __future__ import annotations

import importlib
import re
from contextlib import contextmanager
from types import SimpleNamespace

from django.db import connection, connections, transaction
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.db.models.expressions import RawSQL

from . import normalize, selectors

MIN_LENGTH = 2
MIN_PHONE_DIGITS = 4
PROBE_LIMIT = 200
# SQLite lists show at most this many matches of each probe of a search (a broader term
# is narrowed by typing more); PostgreSQL lists have no such bound.
LIST_MATCH_LIMIT = 2000
_HIGH = "\U0010ffff"
_PHONE = re.compile(r"^\+?[\d\s\-().]+$")
_LATIN = re.compile(r"^[a-z]+$")
_ALL_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")


class _GramsContain(Func):
    """PostgreSQL: ``string_to_array(search_grams, ' ') @> ARRAY[gram]`` (the GIN index
    of migration 0003 is over exactly that expression)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, gram: str):
        super().__init__(F("search_grams"))
        self.gram = gram

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"string_to_array({column}, ' ') @> %s::text[]", (*params, [self.gram])


def _fts_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _vendor(qs: QuerySet) -> str:
    return connections[qs.db].vendor


def _substring_q(qs: QuerySet, word: str) -> Q:
    """``word`` (3+ characters) is a substring of ``search_text``."""
    if _vendor(qs) == "sqlite":
        table = qs.model._meta.db_table
        return Q(
            pk__in=RawSQL(
                f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s", (_fts_quote(word),)
            )
        )
    return Q(search_text__contains=word)


def _gram_q(qs: QuerySet, gram: str) -> Q:
    """``gram`` (two Chinese characters) is one of the grams of ``search_grams``."""
    if _vendor(qs) == "sqlite":
        table = qs.model._meta.db_table
        return Q(
            pk__in=RawSQL(
                f"SELECT rowid FROM {table}_grams WHERE {table}_grams MATCH %s",
                (_fts_quote(gram),),
            )
        )
    return Q(_GramsContain(gram))


def _prefix_q(field: str, value: str) -> Q:
    """A sargable prefix: a range on the btree index, on both databases."""
    return Q(**{f"{field}__gte": value, f"{field}__lt": value + _HIGH})


def _phone_digits(word: str) -> str | None:
    if not _PHONE.match(word):
        return None
    digits = re.sub(r"\D", "", word)
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def _word_q(qs: QuerySet, word: str) -> Q | None:
    """How one folded word is found, or None when it is too short to look for."""
    digits = _phone_digits(word)
    if digits:
        return _substring_q(qs, digits)
    if len(word) < MIN_LENGTH or word.isdigit():
        return None
    if _ALL_CJK.match(word) and len(word) == 2:
        return _gram_q(qs, word) | _prefix_q("name", word)
    q = _prefix_q("name", word)
    if len(word) >= 3:
        q |= _substring_q(qs, word)
    if _LATIN.match(word):
        q |= _prefix_q("name_pinyin", word) | _prefix_q("name_initials", word)
    return q


def words(term: str) -> list[str]:
    """The folded words of ``term``; a phone number written with spaces is one word."""
    folded = normalize.fold(term)
    digits = _phone_digits(folded)
    return [digits] if digits else folded.split()


def filter_queryset(qs: QuerySet, term: str) -> QuerySet:
    """``qs`` narrowed to the customers ``term`` finds (every word must match); ``qs``
    unchanged for an empty term, empty for a term too short to look for."""
    parts = words(term)
    if not parts:
        return qs
    conditions = [q for q in (_word_q(qs, word) for word in parts) if q is not None]
    if not conditions:
        return qs.none()
    if _vendor(qs) == "sqlite":
        # SQLite's planner walks the list's sort index and tests every row against the
        # search (seconds at a million rows); hand it the matching ids instead.
        searchable = [w for w in parts if _word_q(qs, w) is not None]
        return qs.filter(pk__in=_matching_ids(qs, searchable, LIST_MATCH_LIMIT))
    for q in conditions:
        qs = qs.filter(q)
    return qs


# --- ranked search for the global box ------------------------------------------------------


class _FtsProbe:
    """SQLite: a substring or gram probe run against the FTS5 table itself, so a common
    term stops after the first rows instead of listing every match."""

    def __init__(self, table: str, query: str):
        self.table, self.query = table, query


# How many FTS matches a probe reads before it applies the workspace and visibility, in
# rounds (times the number of records wanted): most terms finish in the first; a rep who
# sees few of many matches goes on, and the last round reads every match.
FTS_ROUNDS = (10, 100)


def _fts_probe(narrowed: QuerySet, probe: _FtsProbe, cap: int) -> list[int]:
    sql = f"SELECT rowid FROM {probe.table} WHERE {probe.table} MATCH %s"
    for factor in FTS_ROUNDS:
        limit = factor * cap
        some = RawSQL(f"{sql} LIMIT %s", (probe.query, limit))
        found = list(narrowed.filter(pk__in=some).order_by().values_list("pk", flat=True)[:cap])
        if len(found) >= cap:
            return found
        with connections[narrowed.db].cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql} LIMIT %s)", [probe.query, limit])
            if cursor.fetchone()[0] < limit:
                return found  # that was every match
    everything = RawSQL(sql, (probe.query,))
    return list(narrowed.filter(pk__in=everything).order_by().values_list("pk", flat=True)[:cap])


def _substring_probe(qs: QuerySet, word: str):
    if _vendor(qs) == "sqlite":
        return _FtsProbe(f"{qs.model._meta.db_table}_fts", _fts_quote(word))
    return _substring_q(qs, word)


def _gram_probe(qs: QuerySet, gram: str):
    if _vendor(qs) == "sqlite":
        return _FtsProbe(f"{qs.model._meta.db_table}_grams", _fts_quote(gram))
    return _gram_q(qs, gram)


def _probes(qs: QuerySet, word: str) -> list:
    """The index-served conditions of one word, each probed separately with a limit."""
    digits = _phone_digits(word)
    if digits:
        return [_substring_probe(qs, digits)]
    probes = [_prefix_q("name", word)]
    if word.isascii() and word.capitalize() != word:
        probes.append(_prefix_q("name", word.capitalize()))  # names as written: Courtney
    if _ALL_CJK.match(word) and len(word) == 2:
        probes.append(_gram_probe(qs, word))
        return probes
    if _LATIN.match(word):
        probes += [_prefix_q("name_initials", word), _prefix_q("name_pinyin", word)]
    if len(word) >= 3:
        probes.append(_substring_probe(qs, word))
    return probes


def _rank(record, term: str, digits: str | None) -> int:
    """0 exact, 1 prefix, 2 substring: of the name, its pinyin or initials, the company,
    the e-mail or the phone digits."""
    values = [
        normalize.fold(record.name),
        record.name_pinyin,
        record.name_initials,
        normalize.email(record.email),
    ]
    company = getattr(record, "company", "") or getattr(record, "short_name", "")
    if company:
        values.append(normalize.fold(company))
    if digits:
        phones = [getattr(record, "mobile", ""), record.phone]
        values = [p.lstrip("+") for p in phones if p]
        values += [normalize.phone_national_digits(p) for p in phones if p]
        term = digits
    values = [v for v in values if v]
    if term in values:
        return 0
    if any(v.startswith(term) for v in values):
        return 1
    return 2


def _matching_ids(qs: QuerySet, parts: list[str], cap: int) -> set[int]:
    """Ids of records every word matches: at most ``cap`` per probe of the longest word
    (which drives), the other words narrowing each probe."""
    driver = max(parts, key=len)
    narrowed = qs
    for word in parts:
        if word is not driver:
            q = _word_q(qs, word)
            if q is not None:
                narrowed = narrowed.filter(q)
    ids: set[int] = set()
    for probe in _probes(qs, driver):
        if isinstance(probe, _FtsProbe):
            ids.update(_fts_probe(narrowed, probe, cap))
        else:
            ids.update(narrowed.filter(probe).order_by().values_list("pk", flat=True)[:cap])
    return ids


def _search(qs: QuerySet, term: str, limit: int) -> list:
    parts = [w for w in words(term) if _word_q(qs, w) is not None]
    if not parts or limit < 1:
        return []
    ids = _matching_ids(qs, parts, PROBE_LIMIT)
    if not ids:
        return []
    # Rank on the few columns that decide, then load only the records shown (a common
    # term brings several hundred candidates; whole rows with their joins cost more).
    columns = ["pk", "name", "name_pinyin", "name_initials", "email", "phone"]
    extra = ["mobile", "company"] if hasattr(qs.model, "mobile") else ["short_name"]
    candidates = [
        SimpleNamespace(**row) for row in qs.filter(pk__in=ids).order_by().values(*columns, *extra)
    ]
    full = " ".join(parts)
    digits = _phone_digits(parts[0]) if len(parts) == 1 else None
    candidates.sort(key=lambda r: (_rank(r, full, digits), len(r.name), r.name, r.pk))
    best = [r.pk for r in candidates[:limit]]
    records = qs.in_bulk(best)
    return [records[pk] for pk in best if pk in records]


def search_contacts(*, workspace, actor, term: str, limit: int = 20) -> list:
    """The contacts the actor may see that ``term`` finds, best first."""
    qs = selectors.contact_list(workspace=workspace, actor=actor)
    return _search(qs, term, limit)


def search_accounts(*, workspace, actor, term: str, limit: int = 20) -> list:
    """The accounts the actor may see that ``term`` finds, best first."""
    qs = selectors.account_list(workspace=workspace, actor=actor)
    return _search(qs, term, limit)


# --- keeping the index itself: bulk loads and repair ----------------------------------------

# A load of at least this many rows (unless told otherwise) takes the search index off and
# rebuilds it at the end.
DEFER_ABOVE = 100_000
SEARCH_TABLES = ("customers_contact", "customers_account")
SEARCH_INDEXES = ("customers_contact_search_trgm", "customers_contact_search_grams")
_TRIGGER_SUFFIXES = ("ai", "ad", "au")


def _migration():
    return importlib.import_module("guanxi.customers.migrations.0003_search_indexes")


def _rebuild_sqlite(cursor, table: str) -> None:
    for fts in (f"{table}_fts", f"{table}_grams"):
        cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def ensure_index() -> list[str]:
    """Put back what a process that died inside ``index_deferred`` left off: on SQLite the
    search triggers of migration 0003 (from the migration's own statements) and a rebuild
    of the FTS tables of each table that missed one; on PostgreSQL the two GIN indexes.
    Cheap when all is in place (one catalogue query). Returns the tables repaired."""
    repaired: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {name for (name,) in cursor.fetchall()}
            for table in SEARCH_TABLES:
                wanted = {f"{table}_search_{s}" for s in _TRIGGER_SUFFIXES}
                if wanted <= present:
                    continue
                with transaction.atomic():
                    for sql in _migration()._sqlite_statements(table):
                        if sql.lstrip().startswith("CREATE"):  # IF NOT EXISTS: idempotent
                            cursor.execute(sql)
                    _rebuild_sqlite(cursor, table)
                repaired.append(table)
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [list(SEARCH_INDEXES)]
            )
            present = {name for (name,) in cursor.fetchall()}
            if set(SEARCH_INDEXES) - present:
                for sql in _migration()._postgresql_statements("customers_contact"):
                    cursor.execute(sql)
                repaired.append("customers_contact")
    return repaired


@contextmanager
def index_deferred(rows: int, *, threshold: int | None = None, postgresql: bool = False):
    """For a load of ``rows`` (at least ``threshold``, default ``DEFER_ABOVE``) contacts:
    the contact search index of migration 0003 is taken off for the duration (SQLite: its
    triggers; PostgreSQL, only when ``postgresql``: its two GIN indexes), put back from
    its own definition and rebuilt from all the contacts when the block ends — normally
    or by an error — so nothing written meanwhile, by the load or anyone else, is missed.

    Searches miss the rows written while the block runs (a load in progress): they appear
    when it ends. The seeder uses it; the importer does not (no faster at 1M contacts on
    SQLite, see ``importing.runner``), but could for its bulk runs. A process killed inside leaves the index off; ``ensure_index``
    (at the start of every import run, and hourly) puts it back and rebuilds."""
    threshold = DEFER_ABOVE if threshold is None else threshold
    vendor = connection.vendor
    if rows < threshold or vendor not in ("sqlite", "postgresql"):
        yield
        return
    if vendor == "postgresql" and not postgresql:
        yield
        return
    table = "customers_contact"
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
                "AND name LIKE %s",
                [table, f"{table}_search_%"],
            )
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexname = ANY(%s)",
                [table, list(SEARCH_INDEXES)],
            )
        definitions = cursor.fetchall()
        kind = "TRIGGER" if vendor == "sqlite" else "INDEX"
        for name, _sql in definitions:
            cursor.execute(f"DROP {kind} IF EXISTS {name}")
    try:
        yield
    finally:
        with transaction.atomic(), connection.cursor() as cursor:
            if vendor == "postgresql":
                # Deferred foreign-key checks pending in an outer transaction would refuse
                # CREATE INDEX; check them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for _name, sql in definitions:
                    cursor.execute(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            elif definitions:
                for _name, sql in definitions:
                    # ensure_index may have put them back meanwhile.
                    cursor.execute(
                        re.sub(
                            r"^\s*CREATE TRIGGER (?!IF NOT EXISTS)",
                            "CREATE TRIGGER IF NOT EXISTS ",
                            sql,
                        )
                    )
                _rebuild_sqlite(cursor, table)
