"""The worker's SMS tasks: send one text, sweep the ones in flight every minute. The
logic lives in ``sms``."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from . import sms

SEND_RETRIES = 3
SEND_RETRY_DELAY = 30


@db_task(retries=SEND_RETRIES, retry_delay=SEND_RETRY_DELAY, context=True)
def send_sms_message(sms_id: int, task=None) -> str:
    """Send one queued text; a second run of the same task finds it claimed or sent and
    does nothing."""
    retries_left = task.retries if task is not None else 0
    if retries_left and task is not None and HUEY.immediate:
        # Immediate mode (tests) has no scheduler for a delayed retry.
        task.retry_delay = 0
    return sms.deliver(sms_id, retries_left=retries_left)


@db_periodic_task(crontab(minute="*"))
def sweep_sms_in_flight() -> None:
    sms.sweep()
