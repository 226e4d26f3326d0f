"""Huey tasks of the analysis app (the worker imports every app's ``tasks`` module): the
job handlers of ``jobs.py`` and the hourly check that starts each workspace's nightly
customer-value recompute at its hour."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import jobs  # noqa: F401  (analytics.value_recompute)
from .services import value


@db_periodic_task(crontab(minute="3"))
def value_nightly() -> list[int]:
    """Hourly: start the recompute of the workspaces whose nightly hour it is now."""
    return value.value_nightly_start_due()
