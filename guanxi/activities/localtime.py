"""Local time: each user's time zone, their "today" and day bounds, the days one may ask
for, and the recurrence arithmetic.

A task's due time is stored in UTC; what a user types and sees is in their own time zone
(``User.time_zone``, else ``settings.TIME_ZONE``). Recurrence steps in that local time, so
a weekly 09:00 meeting stays at 09:00 across a daylight-saving change.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

# The days anyone plans or looks at; beyond them day arithmetic overflows Python's dates.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def zone_named(*names: str) -> zoneinfo.ZoneInfo:
    """The first valid zone among ``names``, else the site's, else UTC."""
    for name in (*names, settings.TIME_ZONE):
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def user_zone(user) -> zoneinfo.ZoneInfo:
    """The user's own zone, else their workspace's."""
    workspace = getattr(user, "workspace", None)
    return zone_named(getattr(user, "time_zone", ""), getattr(workspace, "time_zone", ""))


def local_today(user, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(user_zone(user)).date()


def check_day(day: dt.date, *, field: str = "date") -> dt.date:
    """Refuse a day outside ``FIRST_DAY``..``LAST_DAY`` with a message on ``field``."""
    if FIRST_DAY <= day <= LAST_DAY:
        return day
    message = _("Pick a date between %(first)s and %(last)s.") % {
        "first": FIRST_DAY.isoformat(),
        "last": LAST_DAY.isoformat(),
    }
    raise ApplicationError(message, code="date_out_of_range", fields={field: [message]})


def day_bounds(user, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where ``day`` begins and the next day begins for ``user``."""
    check_day(day)
    zone = user_zone(user)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def as_aware(value: dt.datetime, user) -> dt.datetime:
    """A naive datetime is the user's local time; an aware one keeps its offset."""
    if timezone.is_naive(value):
        return value.replace(tzinfo=user_zone(user))
    return value


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months; the 31st becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


# (unit, amount per step): days or months.
STEPS = {
    "daily": ("days", 1),
    "weekly": ("days", 7),
    "monthly": ("months", 1),
    "quarterly": ("months", 3),
    "yearly": ("months", 12),
}


def next_occurrence(
    local_due: dt.datetime, recurrence: str, interval: int, occurrence: int = 1
) -> dt.datetime:
    """The ``occurrence``-th repetition after ``local_due`` (a local, aware datetime).
    Monthly steps keep the day of the month where the month has it; a task due on the
    last day of a month stays on the last day (31 Jan, 28 Feb, 31 Mar)."""
    unit, amount = STEPS[recurrence]
    steps = amount * max(1, interval) * occurrence
    if unit == "days":
        day = local_due.date() + dt.timedelta(days=steps)
    else:
        day = add_months(local_due.date(), steps)
        if local_due.day == calendar.monthrange(local_due.year, local_due.month)[1]:
            day = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return dt.datetime.combine(
        day, local_due.timetz().replace(tzinfo=None), tzinfo=local_due.tzinfo
    )
