"""The worker's e-mail tasks: send one message, sweep the ones in flight, fetch the
mailboxes every two minutes. The logic lives in ``services.email_out``/``email_in``."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from .services import email_in, email_out

logger = logging.getLogger(__name__)

SEND_RETRIES = 3
SEND_RETRY_DELAY = 60


@db_task(retries=SEND_RETRIES, retry_delay=SEND_RETRY_DELAY, context=True)
def send_email_message(email_id: int, task=None) -> str:
    """Send one queued message; a second run of the same task finds it claimed or sent
    and does nothing."""
    retries_left = task.retries if task is not None else 0
    if retries_left and task is not None and HUEY.immediate:
        # Immediate mode (tests) has no scheduler for a delayed retry.
        task.retry_delay = 0
    return email_out.deliver(email_id, retries_left=retries_left)


@db_periodic_task(crontab(minute="*"))
def sweep_email_in_flight() -> None:
    email_out.sweep()


@db_task()
def fetch_mailbox(mailbox_id: int) -> dict:
    """Fetch one mailbox; one fetch per mailbox at a time (a second one would only find the
    messages already taken, but it would open a second IMAP session for nothing)."""
    try:
        with HUEY.lock_task(f"guanxi-mailbox-{mailbox_id}"):
            return email_in.mailbox_fetch(mailbox_id=mailbox_id).as_dict()
    except Exception as exc:
        logger.warning("mailbox %s: fetch not run: %s", mailbox_id, exc)
        return {"error": str(exc)}


@db_periodic_task(crontab(minute="*/2"))
def fetch_mailboxes() -> None:
    for mailbox_id in email_in.active_mailbox_ids():
        fetch_mailbox(mailbox_id)
