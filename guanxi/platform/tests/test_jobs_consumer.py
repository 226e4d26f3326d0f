"""A job through the real thing: committed row, Redis queue, Huey consumer threads.

The rest of the suite runs Huey in immediate mode; this test proves the queued path works:
``job_start`` enqueues on commit, a consumer worker thread picks the task up from Redis,
and the row ends succeeded — and a failing job is retried by Huey itself.
"""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from django.db import connections
from huey import RedisHuey
from huey.consumer import Consumer

from guanxi.platform import jobs, tasks
from guanxi.platform.models import Job, JobState

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _redis_reachable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return (
            f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__}); start redis-server"
        )
    return None


_unreachable = _redis_reachable()
pytestmark = [
    pytest.mark.skipif(_unreachable is not None, reason=_unreachable or ""),
    pytest.mark.django_db(transaction=True),
]


class ThreadedConsumer(Consumer):
    """Huey's consumer, started from a test: worker and scheduler threads, no signal
    handlers (those belong to the main program, not to pytest)."""

    def _set_signal_handlers(self):
        pass


@pytest.fixture
def redis_huey(monkeypatch):
    huey = RedisHuey(f"guanxi-test-{uuid.uuid4().hex}", url=REDIS_URL, immediate=False)
    finished = threading.Event()
    runs: list[str] = []

    # The same task body as production, bound to this queue.
    run_job = huey.task(retries=jobs.RETRIES, retry_delay=0, context=True, name="run_job")(
        tasks.run_job.func
    )
    monkeypatch.setattr(tasks, "run_job", run_job)

    @huey.post_execute()
    def after(task, value, exc):
        runs.append(value if exc is None else repr(exc))
        # Worker threads open their own database connections; close them before the
        # test database is flushed.
        connections.close_all()
        if value in ("succeeded", "failed", "skipped"):
            finished.set()

    consumer = ThreadedConsumer(
        huey,
        workers=2,
        worker_type="thread",
        periodic=False,
        initial_delay=0.05,
        max_delay=0.2,
        check_worker_health=False,
    )
    consumer.start()
    try:
        yield huey, finished, runs
    finally:
        consumer.stop(graceful=True)
        huey.storage.flush_all()


@pytest.fixture
def kinds():
    registered: list[str] = []

    def add(kind, func):
        jobs.register(kind)(func)
        registered.append(kind)

    yield add
    for kind in registered:
        jobs.unregister(kind)


def test_a_real_consumer_runs_the_job_from_redis(redis_huey, kinds, admin_user, workspace):
    huey, finished, runs = redis_huey

    def count(job, progress):
        for i in range(1, 4):
            progress(i, 3, f"step {i}")
        return {"thread": threading.current_thread().name, "n": job.params["n"]}

    kinds("test.consumer.count", count)
    job = jobs.job_start(
        actor=admin_user, workspace=workspace, kind="test.consumer.count", params={"n": 7}
    )
    # Autocommit: the on_commit hook has already pushed the task to Redis.
    assert finished.wait(30), f"the consumer did not finish the job (runs: {runs})"

    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["n"] == 7
    assert job.result["thread"] != threading.current_thread().name  # ran in a worker
    assert (job.done, job.total, job.message) == (3, 3, "step 3")
    assert job.attempts == 1
    assert runs == ["succeeded"]
    assert huey.pending_count() == 0


def test_a_real_consumer_retries_then_fails(redis_huey, kinds, admin_user, workspace):
    huey, finished, runs = redis_huey

    def explode(job, progress):
        raise RuntimeError("boom")

    kinds("test.consumer.explode", explode)
    job = jobs.job_start(
        actor=admin_user, workspace=workspace, kind="test.consumer.explode", params={}
    )
    assert finished.wait(30), f"the consumer did not finish the job (runs: {runs})"

    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.attempts == jobs.RETRIES + 1
    assert "boom" not in job.error
    assert len(runs) == jobs.RETRIES + 1 and runs[-1] == "failed"
    assert Job.objects.in_workspace(workspace).count() == 1
    assert huey.pending_count() == 0
