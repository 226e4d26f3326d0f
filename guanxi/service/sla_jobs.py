"""The SLA part's background work: the sweep that warns, breaches and escalates, every
minute (a Huey periodic task; one worker runs periodic tasks). Imported by ``sla_ui``,
which the app's ``ready`` imports, so the worker registers it."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import sla


@db_periodic_task(crontab(minute="*"))
def sla_sweep_every_minute() -> dict:
    return sla.sla_sweep()
