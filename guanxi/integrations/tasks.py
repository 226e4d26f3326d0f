"""Huey tasks of the integrations app (the worker imports each app's ``tasks`` module)."""

from . import sms_jobs  # noqa: F401
