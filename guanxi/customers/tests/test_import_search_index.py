"""Imported rows are searchable after a run that succeeds, fails, or is resumed after a
process died with the search index off (``search.ensure_index`` at the start of the run);
``search.index_deferred`` (the seeder's bulk mode) rebuilds on success and on failure."""

import pytest
from django.db import connection

from guanxi.customers import search
from guanxi.customers.importing import runner
from guanxi.customers.tests.test_import import contact_row, rows_of, write_csv
from guanxi.customers.tests.test_import_pipeline import admin, fresh, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _large(monkeypatch, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"
    monkeypatch.setattr(runner, "BATCH", 3)
    monkeypatch.setattr(runner, "PIPELINE_MIN_ROWS", 10**9)


def found(actor, n) -> bool:
    """Contact n found by a substring of its e-mail (the trigram/FTS index)."""
    hits = search.search_contacts(workspace=actor.workspace, actor=actor, term=f"u{n}@example")
    return any(c.email == f"u{n}@example.com" for c in hits)


def triggers():
    if connection.vendor != "sqlite":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        # Only the customers' own: other apps (the service's cases, articles) keep theirs.
        return {n for (n,) in cursor.fetchall() if n.startswith("customers_") and "_search_" in n}


EXPECTED = {f"customers_{t}_search_{s}" for t in ("contact", "account") for s in ("ai", "ad", "au")}


def file_of(tmp_path, count):
    return write_csv(tmp_path / "c.csv", rows_of([contact_row(n) for n in range(1, count + 1)]))


def test_rows_of_a_large_run_are_searchable_when_it_ends(tmp_path):
    actor = admin()
    run = runner.import_run_execute(run=start(actor, file_of(tmp_path, 8)))
    assert run.created == 8
    assert all(found(actor, n) for n in range(1, 9))
    if connection.vendor == "sqlite":
        assert triggers() == EXPECTED


def test_rows_of_a_failed_run_are_searchable(tmp_path, monkeypatch):
    actor = admin()
    run = start(actor, file_of(tmp_path, 10))

    def crash(r):
        if r.rows_done >= 6:
            raise RuntimeError("the writer died")

    monkeypatch.setattr(runner, "after_batch", crash)
    with pytest.raises(RuntimeError):
        runner.import_run_execute(run=fresh(run))
    assert fresh(run).created == 6
    assert all(found(actor, n) for n in range(1, 7))
    if connection.vendor == "sqlite":
        assert triggers() == EXPECTED


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_run_resumed_after_a_kill_with_the_index_off_ends_with_a_complete_index(
    tmp_path, monkeypatch
):
    actor = admin()
    run = start(actor, file_of(tmp_path, 10))

    def killed(r):
        if r.rows_done >= 6:
            raise SystemExit  # stands for the kill: the index is then put back below

    monkeypatch.setattr(runner, "after_batch", killed)
    with pytest.raises(SystemExit):
        runner.import_run_execute(run=fresh(run))
    # What a killed process leaves: the triggers off and the new rows not indexed.
    with connection.cursor() as cursor:
        for name in sorted(EXPECTED):
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        for fts in ("customers_contact_fts", "customers_contact_grams"):
            cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')")
    assert not found(actor, 1)

    monkeypatch.setattr(runner, "after_batch", None)
    done = runner.import_run_execute(run=fresh(run))
    assert done.created == 10
    assert all(found(actor, n) for n in range(1, 11))
    assert triggers() == EXPECTED


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_ensure_index_restores_dropped_triggers_and_rebuilds(tmp_path, monkeypatch):
    actor = admin()
    runner.import_run_execute(run=start(actor, file_of(tmp_path, 4)))
    assert search.ensure_index() == []  # all in place: nothing to do
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER customers_contact_search_ai")
        cursor.execute("DROP TRIGGER customers_account_search_au")
        cursor.execute(
            "INSERT INTO customers_contact_fts(customers_contact_fts) VALUES ('delete-all')"
        )
    assert not found(actor, 2)
    assert sorted(search.ensure_index()) == ["customers_account", "customers_contact"]
    assert triggers() == EXPECTED
    assert all(found(actor, n) for n in range(1, 5))


@pytest.mark.parametrize("fails", [False, True])
def test_index_deferred_rebuilds_on_success_and_on_failure(tmp_path, fails):
    actor = admin()
    try:
        with search.index_deferred(10, threshold=1, postgresql=True):
            if connection.vendor == "sqlite":
                assert not triggers() & {"customers_contact_search_ai"}
            runner.import_run_execute(run=start(actor, file_of(tmp_path, 5)))
            if fails:
                raise RuntimeError("the load failed")
    except RuntimeError:
        assert fails
    assert all(found(actor, n) for n in range(1, 6))
    if connection.vendor == "sqlite":
        assert triggers() == EXPECTED
    assert search.ensure_index() == []
