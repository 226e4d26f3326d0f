"""The reminder worker: every minute, per workspace, sweep reminders a dead worker left in
"sending" and send the due ones (in the app and by e-mail). The logic, and why a reminder
is never e-mailed twice, is in ``services.notifications``."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import notifications


@db_periodic_task(crontab(minute="*"))
def send_due_reminders() -> dict:
    return notifications.reminders_run()
