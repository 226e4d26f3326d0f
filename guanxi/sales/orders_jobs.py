"""The orders part's background work: the daily overdue-payment reminders (a Huey periodic
task) and the order import's job handler. Imported by ``orders_ui`` (which the app's
``ready`` imports), so the worker registers them."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import invoices


# Hourly rather than daily: a worker that was down at the daily hour catches up within the
# hour, and the invoice's reminder_task_id keeps it to one task per invoice.
@db_periodic_task(crontab(minute="7"))
def create_overdue_payment_reminders() -> dict:
    return invoices.reminders_run()
