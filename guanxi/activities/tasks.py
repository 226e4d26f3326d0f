"""Huey tasks and job handlers of the activities app. The worker imports each app's
``tasks`` module only, so the part modules that hold periodic tasks and job handlers are
imported here."""

from . import email_jobs, reassign_jobs, reminder_jobs, visit_jobs  # noqa: F401
