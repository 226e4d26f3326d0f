"""Huey tasks of the customers module.

The worker imports every app's ``tasks`` module and nothing else: modules of this app that
register job handlers (imports, duplicate scans) are listed here so the worker knows them.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .dedupe import jobs as dedupe_jobs  # noqa: F401  (customers.dedupe_scan)
from .importing import jobs as import_jobs  # noqa: F401  (customers.import)
from .services import pool

# Modules of this app that register job handlers (``jobs.register``); one import line each.
JOB_HANDLER_MODULES: tuple = ()


@db_periodic_task(crontab(minute="7"))
def pool_return_sweep() -> None:
    """Hourly: customers neglected past the pool rules, and departed reps' customers, go
    back to the pool in every workspace. Also puts back a search index that a killed bulk
    import left off (``search.ensure_index``)."""
    from . import search

    search.ensure_index()
    pool.pool_return_sweep_all()
