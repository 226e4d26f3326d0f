"""The import pipeline: a forked worker cleans batch N+1 while the parent writes batch N.

These tests force the pipeline on small files (tiny batches, no minimum) and compare it
with the one-process path; they run outside a test transaction, since the connection is
closed before the fork.
"""

import multiprocessing
import os
from pathlib import Path

import pytest

from guanxi.common.errors import ApplicationError
from guanxi.customers import cleaning
from guanxi.customers.importing import runner
from guanxi.customers.models import Contact, DuplicateCandidate, ImportRun
from guanxi.customers.services import imports
from guanxi.customers.tests.test_import import contact_row, report, rows_of, write_csv
from guanxi.platform.tests.factories import UserFactory, WorkspaceFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"),
]


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.IMPORT_DIR = tmp_path / "imports"


@pytest.fixture
def forks(monkeypatch):
    """The pipeline on every file, batches of 3 rows; the worker processes started."""
    monkeypatch.setattr(runner, "BATCH", 3)
    monkeypatch.setattr(runner, "PIPELINE_MIN_ROWS", 0)
    started = []
    original = multiprocessing.context.ForkProcess.start

    def start(self):
        original(self)
        started.append(self.pid)

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", start)
    return started


def reaped(pids):
    """No process left behind, not even a zombie (/proc keeps an entry until waited)."""
    return all(not Path(f"/proc/{pid}").exists() for pid in pids)


def admin():
    return UserFactory(workspace=WorkspaceFactory(), role_code="administrator")


def start(actor, path, **options):
    run = imports.import_upload_path(
        actor=actor, workspace=actor.workspace, object_key="contacts", path=path
    )
    return imports.import_start(
        actor=actor, workspace=actor.workspace, run_id=run.pk, background=False, **options
    )


def fresh(run):
    return ImportRun.objects.across_workspaces().get(pk=run.pk)


def contacts(actor):
    return sorted(
        Contact.objects.across_workspaces()
        .filter(workspace=actor.workspace)
        .values_list("name", "mobile", "email", "birthday", "name_pinyin", "search_text")
    )


def mixed_file(tmp_path):
    dicts = [contact_row(n) for n in range(1, 15)]
    dicts[2]["birthday"] = "2023-02-30"  # a warning: left empty
    dicts[4]["mobile"] = "12"  # a warning
    dicts[6]["name"] = ""  # named from the first and last name... or the e-mail
    dicts[8]["mobile"] = dicts[1]["mobile"]  # repeats row 3 (another batch)
    dicts[11]["name"] = "名" * 201  # an error: the row is not imported
    dicts[12]["email"] = dicts[0]["email"]
    return write_csv(tmp_path / "mixed.csv", rows_of(dicts))


@pytest.mark.parametrize("policy", ["create", "skip", "update"])
def test_the_pipeline_imports_what_one_process_imports(tmp_path, monkeypatch, forks, policy):
    path = mixed_file(tmp_path)
    one, two = admin(), admin()

    monkeypatch.setattr(runner, "PIPELINE_MIN_ROWS", 10**9)
    inline = runner.import_run_execute(run=start(one, path, on_duplicate=policy))
    assert forks == []
    monkeypatch.setattr(runner, "PIPELINE_MIN_ROWS", 0)
    piped = runner.import_run_execute(run=start(two, path, on_duplicate=policy))
    assert len(forks) == 1 and reaped(forks)

    counts = ("rows_done", "created", "updated", "skipped", "failed", "warnings")
    assert [getattr(fresh(piped), c) for c in counts] == [getattr(fresh(inline), c) for c in counts]
    assert fresh(piped).rows_done == 14 and fresh(piped).failed == 1
    assert fresh(piped).warnings >= 2 and fresh(piped).finished_at is not None
    assert report(piped) == report(inline)
    assert contacts(two) == contacts(one) and len(contacts(two)) == fresh(piped).created
    assert all(row[5] for row in contacts(two))  # search keys computed in the worker
    if policy == "create":
        flagged = DuplicateCandidate.objects.across_workspaces()
        assert flagged.filter(workspace=two.workspace).count() == 2
        assert flagged.filter(workspace=one.workspace).count() == 2


def test_a_pipelined_dry_run_writes_nothing(tmp_path, forks):
    actor = admin()
    run = runner.import_run_execute(
        run=start(actor, mixed_file(tmp_path), dry_run=True, on_duplicate="skip")
    )
    assert (run.created, run.skipped, run.failed) == (11, 2, 1)
    assert contacts(actor) == [] and reaped(forks)


def test_resume_after_a_crash_starts_the_worker_at_the_checkpoint(tmp_path, monkeypatch, forks):
    actor = admin()
    dicts = [contact_row(n) for n in range(1, 11)] + [contact_row(11, name="名" * 201)]
    run = start(actor, write_csv(tmp_path / "c.csv", rows_of(dicts)))

    def crash(r):
        if r.rows_done >= 6:
            raise RuntimeError("the writer died")

    monkeypatch.setattr(runner, "after_batch", crash)
    with pytest.raises(RuntimeError, match="the writer died"):
        runner.import_run_execute(run=fresh(run))
    assert (fresh(run).rows_done, fresh(run).created) == (6, 6)
    assert len(contacts(actor)) == 6 and reaped(forks)

    monkeypatch.setattr(runner, "after_batch", None)
    done = runner.import_run_execute(run=fresh(run))
    assert (done.rows_done, done.created, done.failed) == (11, 10, 1)
    assert len({c[1] for c in contacts(actor)}) == 10
    assert [r["row"] for r in report(done)] == ["12"]
    assert len(forks) == 2 and reaped(forks)


def test_a_failure_in_the_worker_fails_the_run_cleanly(tmp_path, monkeypatch, forks):
    actor = admin()
    dicts = [contact_row(n) for n in range(1, 11)]
    run = start(actor, write_csv(tmp_path / "c.csv", rows_of(dicts)))
    clean = cleaning.clean_contact_values

    def broken(raw, **kwargs):
        if raw.get("name") == "张三5":
            raise KeyError("bad luck")
        return clean(raw, **kwargs)

    monkeypatch.setattr(cleaning, "clean_contact_values", broken)
    with pytest.raises(RuntimeError, match="cleaning worker failed: KeyError"):
        runner.import_run_execute(run=fresh(run))
    # The batches before the failing one are written, the rest not; nothing half-written.
    assert fresh(run).rows_done == 3 and len(contacts(actor)) == 3
    assert fresh(run).finished_at is None and reaped(forks)

    monkeypatch.setattr(cleaning, "clean_contact_values", clean)
    done = runner.import_run_execute(run=fresh(run))
    assert (done.rows_done, done.created) == (10, 10) and len(contacts(actor)) == 10


def test_an_application_error_in_the_worker_keeps_its_code(tmp_path, monkeypatch, forks):
    actor = admin()
    run = start(actor, write_csv(tmp_path / "c.csv", rows_of([contact_row(1), contact_row(2)])))

    def refuse(self, batch):
        raise ApplicationError("The file is damaged.", code="invalid_file")

    monkeypatch.setattr(runner.Importer, "_prepare", refuse)
    with pytest.raises(ApplicationError) as caught:
        runner.import_run_execute(run=fresh(run))
    assert caught.value.code == "invalid_file" and str(caught.value) == "The file is damaged."
    assert reaped(forks)


def test_a_worker_that_dies_fails_the_run(tmp_path, monkeypatch, forks):
    actor = admin()
    dicts = [contact_row(n) for n in range(1, 8)]
    run = start(actor, write_csv(tmp_path / "c.csv", rows_of(dicts)))
    prepare = runner.Importer._prepare

    def die(self, batch):
        if batch[0][0] > 2:  # the second batch
            os._exit(3)
        return prepare(self, batch)

    monkeypatch.setattr(runner.Importer, "_prepare", die)
    with pytest.raises(RuntimeError, match="exit code 3"):
        runner.import_run_execute(run=fresh(run))
    # A worker killed outright may take its last batch, still in its queue buffer, along.
    assert fresh(run).rows_done in (0, 3) and reaped(forks)
    assert len(contacts(actor)) == fresh(run).rows_done and fresh(run).finished_at is None


def test_small_files_and_runs_in_a_transaction_stay_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "BATCH", 3)
    actor = admin()
    dicts = [contact_row(n) for n in range(1, 8)]
    run = start(actor, write_csv(tmp_path / "c.csv", rows_of(dicts)))
    importer = runner.Importer(fresh(run))
    importer.run.rows_total = 7
    assert not importer._pipeline_wanted()  # fewer rows than PIPELINE_MIN_ROWS
    monkeypatch.setattr(runner, "PIPELINE_MIN_ROWS", 0)
    assert importer._pipeline_wanted()
    from django.db import transaction

    with transaction.atomic():
        assert not importer._pipeline_wanted()


def test_the_background_job_runs_the_pipeline(tmp_path, forks):
    from guanxi.platform.models import Job, JobState

    actor = admin()
    dicts = [contact_row(n) for n in range(1, 9)]
    run = imports.import_upload_path(
        actor=actor,
        workspace=actor.workspace,
        object_key="contacts",
        path=write_csv(tmp_path / "c.csv", rows_of(dicts)),
    )
    imports.import_start(actor=actor, workspace=actor.workspace, run_id=run.pk)
    run = fresh(run)
    job = Job.objects.in_workspace(actor.workspace).get(pk=run.job_id)
    assert job.state == JobState.SUCCEEDED
    assert (run.rows_done, run.created, job.done) == (8, 8, 8)
    assert len(forks) == 1 and reaped(forks)
