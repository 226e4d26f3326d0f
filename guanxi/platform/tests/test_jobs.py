"""Background jobs in Huey's immediate mode: starting, running, retrying, sweeping, showing."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone

from guanxi.common.errors import ApplicationError, Conflict, NotFound
from guanxi.platform import job_urls, jobs, tasks
from guanxi.platform.models import Job, JobState
from guanxi.platform.tests.factories import UserFactory

# The project mounts job_urls under the "platform" namespace; the view tests mount it the
# same way on its own, so they do not depend on the rest of the URL configuration.
urlpatterns = [path("", include((job_urls.urlpatterns, "platform")))]


@pytest.fixture
def handler_calls():
    """Registers throwaway handlers for the test and forgets them afterwards."""
    calls: list[dict] = []
    kinds: list[str] = []

    def add(kind, func):
        jobs.register(kind)(func)
        kinds.append(kind)
        return func

    yield calls, add
    for kind in kinds:
        jobs.unregister(kind)


@pytest.fixture
def counting(handler_calls):
    calls, add = handler_calls

    def count(job, progress):
        seen = Job.objects.in_workspace(job.workspace).get(pk=job.pk)
        calls.append({"state": seen.state, "params": job.params})
        progress(1, 3, "one")
        row = Job.objects.in_workspace(job.workspace).get(pk=job.pk)
        calls.append(
            {"state": row.state, "done": row.done, "total": row.total, "message": row.message}
        )
        progress(2, 3, "two")
        progress(3, 3, "three")
        return {"url": "/customers/", "count": 3}

    add("test.count", count)
    return calls


def start(actor, workspace, kind="test.count", params=None, key=None):
    return jobs.job_start(
        actor=actor, workspace=workspace, kind=kind, params=params or {}, idempotency_key=key
    )


def test_job_runs_and_records_progress_and_result(
    admin_user, workspace, counting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = start(admin_user, workspace, params={"n": 3})
        assert Job.objects.in_workspace(workspace).get(pk=job.pk).state == JobState.QUEUED
    assert len(callbacks) == 1

    assert counting[0] == {"state": JobState.RUNNING, "params": {"n": 3}}
    # The first progress call is written at once, while the job runs.
    assert counting[1] == {"state": JobState.RUNNING, "done": 1, "total": 3, "message": "one"}
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.owner == admin_user
    assert job.result == {"url": "/customers/", "count": 3}
    assert (job.done, job.total, job.message, job.percent) == (3, 3, "three", 100)
    assert job.attempts == 1
    assert job.started_at and job.heartbeat_at and job.finished_at
    assert job.started_at <= job.finished_at
    assert job.error == ""


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    admin_user, workspace, counting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start(admin_user, workspace)
    # on_commit: the task goes to the queue only once the row is committed.
    assert len(callbacks) == 1
    assert counting == []


def test_same_idempotency_key_returns_the_same_job(
    admin_user,
    workspace,
    other_admin,
    other_workspace,
    counting,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = start(admin_user, workspace, key="import:42")
        second = start(admin_user, workspace, key="import:42")
    assert first.pk == second.pk
    assert len(callbacks) == 1
    assert Job.objects.in_workspace(workspace).count() == 1
    assert len(counting) == 2  # one run (two observations inside it)

    # After it ran, the key still answers with the finished job and enqueues nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        third = start(admin_user, workspace, key="import:42")
    assert third.pk == first.pk and third.state == JobState.SUCCEEDED
    assert callbacks == []

    # Keys are per workspace.
    with django_capture_on_commit_callbacks(execute=True):
        elsewhere = start(other_admin, other_workspace, key="import:42")
    assert elsewhere.pk != first.pk and elsewhere.workspace == other_workspace

    # Long keys stay idempotent.
    long_key = "x" * 500
    with django_capture_on_commit_callbacks(execute=True):
        a = start(admin_user, workspace, key=long_key)
        b = start(admin_user, workspace, key=long_key)
    assert a.pk == b.pk


def test_same_key_for_another_kind_is_a_conflict(admin_user, workspace, handler_calls, counting):
    _calls, add = handler_calls
    add("test.other", lambda job, progress: {})
    start(admin_user, workspace, key="k1")
    with pytest.raises(Conflict):
        start(admin_user, workspace, kind="test.other", key="k1")


def test_unknown_kind_is_an_application_error(admin_user, workspace):
    with pytest.raises(ApplicationError) as exc:
        start(admin_user, workspace, kind="no.such.kind")
    assert exc.value.code == "unknown_job_kind"
    assert not Job.objects.in_workspace(workspace).exists()


def test_failing_handler_is_retried_then_failed_with_a_short_error(
    admin_user, workspace, handler_calls, django_capture_on_commit_callbacks, caplog
):
    calls, add = handler_calls

    def explode(job, progress):
        calls.append(job.attempts)
        progress(1, 10, "working")
        raise ValueError("secret internal detail")

    add("test.explode", explode)
    with (
        caplog.at_level(logging.ERROR, logger="guanxi.platform.jobs"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = start(admin_user, workspace, kind="test.explode")
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.attempts == jobs.RETRIES + 1 == 3
    assert calls == [1, 2, 3]
    assert job.finished_at is not None
    # Users see a short translated sentence; the traceback is in the log only.
    assert "secret internal detail" not in job.error
    assert "Traceback" not in job.error
    assert job.error
    assert any("secret internal detail" in (r.exc_text or "") for r in caplog.records)


def test_application_error_fails_at_once_with_its_message(
    admin_user, workspace, handler_calls, django_capture_on_commit_callbacks
):
    calls, add = handler_calls

    def refuse(job, progress):
        calls.append(job.attempts)
        raise ApplicationError("The file has no header row.")

    add("test.refuse", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        job = start(admin_user, workspace, kind="test.refuse")
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.attempts == 1 and calls == [1]
    assert job.error == "The file has no header row."


def test_a_succeeded_job_is_not_run_again(
    admin_user, workspace, counting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = start(admin_user, workspace)
    assert len(counting) == 2
    assert jobs.run_job(job.pk) == "skipped"
    tasks.run_job(job.pk)  # through the queue as well
    job.refresh_from_db()
    assert len(counting) == 2
    assert job.state == JobState.SUCCEEDED and job.attempts == 1


def test_progress_writes_are_throttled(
    admin_user, workspace, handler_calls, django_capture_on_commit_callbacks
):
    calls, add = handler_calls

    def busy(job, progress):
        with CaptureQueriesContext(connection) as queries:
            for i in range(1, 201):
                progress(i, 1000, f"row {i}")
        calls.append(sum(1 for q in queries.captured_queries if q["sql"].startswith("UPDATE")))
        calls.append(Job.objects.in_workspace(job.workspace).get(pk=job.pk).done)
        return {}

    add("test.busy", busy)
    with django_capture_on_commit_callbacks(execute=True):
        job = start(admin_user, workspace, kind="test.busy")
    writes, done_in_row = calls
    assert 1 <= writes <= 3  # 200 calls in well under a second
    assert done_in_row < 200
    # The end writes the latest values; a finished job's bar is full.
    job.refresh_from_db()
    assert (job.done, job.total, job.message, job.percent) == (200, 1000, "row 200", 100)


def _age(job, minutes, **fields):
    then = timezone.now() - timedelta(minutes=minutes)
    Job.objects.in_workspace(job.workspace).filter(pk=job.pk).update(
        **{"created_at": then, "heartbeat_at": then, **fields}
    )


def test_sweeper_re_enqueues_a_stale_running_job(
    admin_user,
    workspace,
    other_admin,
    other_workspace,
    counting,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        stale = start(admin_user, workspace)
        fresh = start(admin_user, workspace)
        lost = start(other_admin, other_workspace)  # queued, its enqueue lost
    _age(stale, 10, state=JobState.RUNNING, attempts=1, started_at=timezone.now())
    Job.objects.in_workspace(workspace).filter(pk=fresh.pk).update(
        state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    _age(lost, 6, heartbeat_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        requeued = jobs.sweep_stuck_jobs()
    assert sorted(requeued) == sorted([stale.pk, lost.pk])

    stale.refresh_from_db()
    assert stale.state == JobState.SUCCEEDED and stale.attempts == 2
    lost.refresh_from_db()
    assert lost.state == JobState.SUCCEEDED and lost.attempts == 1
    fresh.refresh_from_db()
    assert fresh.state == JobState.RUNNING and fresh.attempts == 1


def test_sweeper_gives_up_after_too_many_attempts(
    admin_user, workspace, counting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = start(admin_user, workspace)
    _age(job, 10, state=JobState.RUNNING, attempts=jobs.MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sweep_stuck_jobs() == []
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error and job.finished_at


def test_sweeper_is_a_periodic_task_every_minute():
    from datetime import datetime

    task = tasks.sweep_stuck_jobs.task_class()
    assert task.validate_datetime(datetime(2025, 1, 1, 3, 17))
    assert task.validate_datetime(datetime(2025, 1, 1, 3, 18))


def test_a_late_finish_does_not_overwrite_a_newer_run(
    admin_user, workspace, handler_calls, django_capture_on_commit_callbacks
):
    """A worker thought dead (the sweeper re-enqueued its job) must not clobber the new run."""
    calls, add = handler_calls

    def slow(job, progress):
        # While this run works, the sweeper hands the job to a second run.
        Job.objects.in_workspace(job.workspace).filter(pk=job.pk).update(
            state=JobState.RUNNING, attempts=job.attempts + 1, result={"by": "second run"}
        )
        calls.append(job.attempts)
        return {"by": "first run"}

    add("test.slow", slow)
    with django_capture_on_commit_callbacks(execute=True):
        job = start(admin_user, workspace, kind="test.slow")
    job.refresh_from_db()
    assert job.result == {"by": "second run"}
    assert job.state == JobState.RUNNING


# --- reading and pages ---------------------------------------------------------------------


def test_job_get_honours_workspace_and_visibility(admin_user, workspace, other_admin, counting):
    job = start(admin_user, workspace)
    assert jobs.job_get(actor=admin_user, workspace=workspace, job_id=job.pk) == job
    with pytest.raises(NotFound):
        jobs.job_get(actor=other_admin, workspace=other_admin.workspace, job_id=job.pk)
    with pytest.raises(NotFound):
        jobs.job_get(actor=other_admin, workspace=workspace, job_id=job.pk)
    rep = UserFactory(workspace=workspace, role_code="sales_rep")  # sees own jobs only
    with pytest.raises(NotFound):
        jobs.job_get(actor=rep, workspace=workspace, job_id=job.pk)
    with pytest.raises(NotFound):
        jobs.job_get(actor=admin_user, workspace=workspace, job_id="not-a-number")
    own = start(rep, workspace)
    assert jobs.job_get(actor=rep, workspace=workspace, job_id=own.pk) == own


@pytest.mark.urls(__name__)
def test_progress_view_polls_while_running_and_stops_when_done(
    client, admin_user, workspace, counting, django_capture_on_commit_callbacks
):
    job = start(admin_user, workspace)
    Job.objects.in_workspace(workspace).filter(pk=job.pk).update(
        state=JobState.RUNNING, done=2, total=8, message="Importing rows"
    )
    client.force_login(admin_user)
    url = f"/jobs/{job.pk}/progress/"
    body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert f'hx-get="{url}"' in body
    assert 'value="25"' in body and "<progress" in body
    assert "Importing rows" in body

    Job.objects.in_workspace(workspace).filter(pk=job.pk).update(
        state=JobState.SUCCEEDED, done=8, result={"url": "/customers/?import=1"}
    )
    response = client.get(url, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert "hx-trigger" not in body
    assert 'value="100"' in body
    assert 'href="/customers/?import=1"' in body

    Job.objects.in_workspace(workspace).filter(pk=job.pk).update(
        state=JobState.FAILED, error="The file has no header row."
    )
    body = client.get(url).content.decode()
    assert "hx-trigger" not in body
    assert "The file has no header row." in body
    assert 'role="alert"' in body


@pytest.mark.urls(__name__)
def test_progress_view_hides_unsafe_result_links(client, admin_user, workspace, counting):
    job = start(admin_user, workspace)
    Job.objects.in_workspace(workspace).filter(pk=job.pk).update(
        state=JobState.SUCCEEDED, result={"url": "javascript:alert(1)"}
    )
    client.force_login(admin_user)
    body = client.get(f"/jobs/{job.pk}/progress/").content.decode()
    assert "javascript:" not in body


@pytest.mark.urls(__name__)
def test_other_workspace_gets_404_from_the_progress_view(
    client, admin_user, workspace, other_admin, counting
):
    job = start(admin_user, workspace)
    client.force_login(other_admin)
    assert client.get(f"/jobs/{job.pk}/progress/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    client.force_login(admin_user)
    assert client.get(f"/jobs/{job.pk}/progress/").status_code == 200
    assert client.get(f"/jobs/{job.pk}/").status_code == 200
    assert client.get("/jobs/999999/progress/").status_code == 404


def test_worker_command_passes_huey_options_through():
    from guanxi.platform.management.commands.worker import Command

    parser = Command().create_parser("guanxi", "worker")
    options = parser.parse_args(["-w", "3", "-k", "thread", "--no-periodic"])
    assert options.workers == 3
    assert options.worker_type == "thread"
    assert options.periodic is False
    assert parser.parse_args([]).periodic is None  # unset: the settings' consumer options rule
