"""The quotes' periodic job: every night after midnight, quotes whose ``valid_until`` has
passed become *expired* (``services.quotes.quotes_expire``). Imported by ``quotes_ui``,
which the sales app loads when it starts (the worker included)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import quotes


@db_periodic_task(crontab(minute="10", hour="0"))
def expire_quotes() -> int:
    return quotes.quotes_expire()
