"""Huey tasks of the platform: running background jobs and sweeping stuck ones.

The logic lives in ``jobs``; these wrappers only bind it to the queue. Huey's
``run_huey``/``guanxi worker`` imports every app's ``tasks`` module, so apps register
their job handlers (``jobs.register``) in their own ``tasks.py``.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from . import exports, jobs, mail

# The worker imports every app's ``tasks`` module and nothing else: modules of this app that
# register job handlers are imported here so the worker knows their kinds.
JOB_HANDLER_MODULES = (exports,)


@db_task(retries=jobs.RETRIES, retry_delay=jobs.RETRY_DELAY, context=True)
def run_job(job_id: int, task=None) -> str:
    retries_left = task.retries if task is not None else 0
    if retries_left and task is not None and HUEY.immediate:
        # Immediate mode (tests, debugging) has no scheduler to run a delayed retry.
        task.retry_delay = 0
    return jobs.run_job(job_id, retries_left=retries_left)


@db_periodic_task(crontab(minute="*"))
def sweep_stuck_jobs() -> None:
    jobs.sweep_stuck_jobs()


@db_task(retries=5, retry_delay=60)
def send_email(message: dict) -> None:
    mail.deliver(message)
