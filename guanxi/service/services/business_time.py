"""Business-time arithmetic over a working calendar, in the calendar's own time zone.

A working calendar (``WorkCalendar``) has the hours of each ISO weekday as spans of
wall-clock time ("09:00"–"12:00", "13:30"–"18:00"; "24:00" ends a day) and days that
differ from the week (``CalendarDay``): a holiday is off whatever its weekday; an adjusted
working day (调休) is worked with its own hours when it gives some, else with its
weekday's hours, else — a Saturday or Sunday, which the week leaves empty — with the hours
of the calendar's usual working day (the first of Monday…Friday that has hours).

A business minute is a real minute inside those spans: span edges are local wall-clock
times turned into instants, so a span across a daylight-saving change counts the minutes
that really pass (a 00:00–24:00 day in Berlin has 1,380 minutes in March). All instants
in and out are aware; they are returned in UTC.

``business_calendar(calendar)`` builds (once per calendar version) a small object with the
week and every special day of the calendar loaded; ``add_business_minutes`` and
``business_minutes_between`` then run on it without touching the database. Whole days are
skipped using each day's total (memoised per day), so adding five working days or counting
a year's business minutes visits each calendar day at most once and never loops minute by
minute. The cache key holds the calendar row's ``updated_at``, which every change of its
week or days moves (``calendar_touch``), so a changed calendar is rebuilt on next use in
every process.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import zoneinfo
from collections import OrderedDict

from django.utils.translation import gettext_lazy as _

UTC = dt.UTC
MINUTES_PER_DAY = 24 * 60
# A calendar with no working time in this many days is refused rather than searched on.
HORIZON_DAYS = 366 * 10
CACHE_SIZE = 256

Span = tuple[int, int]  # minutes after local midnight: [start, end)

_HHMM = re.compile(r"^\s*([01]?\d|2[0-4]):([0-5]\d)\s*$")
_SPAN_TEXT = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–~至到]\s*(\d{1,2}:\d{2})\s*$")


class HoursError(ValueError):
    """Working hours that cannot be read; the message is translatable and user-facing."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class NoWorkingTime(ValueError):
    """The calendar has no working time within ``HORIZON_DAYS``."""


# --- hours: reading and writing ------------------------------------------------------------------


def _minute(text: str) -> int:
    match = _HHMM.match(str(text))
    if not match:
        raise HoursError(_("Write times as HH:MM, e.g. 09:00."))
    hours, minutes = int(match.group(1)), int(match.group(2))
    value = hours * 60 + minutes
    if value > MINUTES_PER_DAY:
        raise HoursError(_("A time of day is at most 24:00."))
    return value


def spans_of(hours) -> tuple[Span, ...]:
    """The spans of a JSON hours value (``[["09:00", "12:00"], …]``), checked: each starts
    before it ends, within one day, sorted and not overlapping. Raises ``HoursError``."""
    if hours in (None, ""):
        return ()
    if not isinstance(hours, list | tuple):
        raise HoursError(_("Working hours are a list of from–to times."))
    spans: list[Span] = []
    for pair in hours:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise HoursError(_("Each span of working hours has a start and an end."))
        start, end = _minute(pair[0]), _minute(pair[1])
        if start >= end:
            raise HoursError(_("A span of working hours must end after it starts."))
        spans.append((start, end))
    spans.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
        if s2 < e1:
            raise HoursError(_("Spans of working hours may not overlap."))
    if len(spans) > 12:
        raise HoursError(_("At most 12 spans of working hours a day."))
    return tuple(spans)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def hours_json(spans: tuple[Span, ...]) -> list[list[str]]:
    return [[_hhmm(s), _hhmm(e)] for s, e in spans]


def parse_hours_text(text: str) -> list[list[str]]:
    """``"09:00-12:00, 13:30-18:00"`` (also with "–", "~", "至", and "，" or ";" between
    spans) as the JSON hours value; empty text is no hours. Raises ``HoursError``."""
    text = str(text or "").strip()
    if not text:
        return []
    pairs = []
    for part in re.split(r"[,，;；、\s]+(?=\d)", text):
        part = part.strip(" ,，;；")
        if not part:
            continue
        match = _SPAN_TEXT.match(part)
        if not match:
            raise HoursError(_("Write working hours as 09:00-12:00, 13:30-18:00."))
        pairs.append([match.group(1), match.group(2)])
    return hours_json(spans_of(pairs))


def hours_text(hours) -> str:
    """The JSON hours value as text for a form (``"09:00-12:00, 13:30-18:00"``)."""
    try:
        return ", ".join(f"{a}-{b}" for a, b in hours_json(spans_of(hours)))
    except HoursError:
        return ""


def check_week(week) -> dict[str, list[list[str]]]:
    """A week value (ISO weekday "1"…"7" → hours) checked and normalised."""
    if not isinstance(week, dict):
        raise HoursError(_("The week is a set of weekdays and their hours."))
    out = {}
    for key, hours in week.items():
        if str(key) not in {str(d) for d in range(1, 8)}:
            raise HoursError(_("Weekdays are numbered 1 (Monday) to 7 (Sunday)."))
        spans = spans_of(hours)
        if spans:
            out[str(key)] = hours_json(spans)
    return out


def check_time_zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(str(name or ""))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise HoursError(_("Choose a time zone such as Asia/Shanghai.")) from None


# --- the calendar object -------------------------------------------------------------------------


class BusinessCalendar:
    """A working calendar in memory: the week, the special days, and per-day totals."""

    __slots__ = ("_lock", "_totals", "special", "usual", "week", "zone")

    def __init__(
        self,
        *,
        time_zone: str,
        week: dict,
        days: list[tuple[dt.date, str, list]] | tuple = (),
    ):
        self.zone = check_time_zone(time_zone)
        parsed = {int(k): spans_of(v) for k, v in (week or {}).items() if str(k).isdigit()}
        # Index 0 = Monday … 6 = Sunday.
        self.week: tuple[tuple[Span, ...], ...] = tuple(parsed.get(d, ()) for d in range(1, 8))
        self.usual: tuple[Span, ...] = next((s for s in (*self.week[:5], *self.week[5:]) if s), ())
        self.special: dict[dt.date, tuple[Span, ...]] = {}
        for day, kind, hours in days:
            if kind == "holiday":
                self.special[day] = ()
            else:
                try:
                    own = spans_of(hours)
                except HoursError:
                    own = ()
                self.special[day] = own or self.week[day.weekday()] or self.usual
        self._totals: dict[dt.date, int] = {}
        self._lock = threading.Lock()

    # -- one day --

    def spans_on(self, day: dt.date) -> tuple[Span, ...]:
        """The working spans of a local day (minutes after local midnight)."""
        special = self.special.get(day)
        if special is not None:
            return special
        return self.week[day.weekday()]

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self.spans_on(day))

    def instants_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's spans as UTC instants (real time, across a daylight-saving change)."""
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=self.zone)
        out = []
        for start, end in self.spans_on(day):
            a = (midnight + dt.timedelta(minutes=start)).astimezone(UTC)
            b = (midnight + dt.timedelta(minutes=end)).astimezone(UTC)
            if end == MINUTES_PER_DAY:  # the next local midnight, whatever the offsets
                nxt = day + dt.timedelta(days=1)
                b = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.zone).astimezone(UTC)
            out.append((a, max(a, b)))
        return out

    def day_minutes(self, day: dt.date) -> int:
        """Business minutes of a whole local day (memoised)."""
        total = self._totals.get(day)
        if total is None:
            total = sum(int((b - a).total_seconds()) // 60 for a, b in self.instants_on(day))
            with self._lock:
                self._totals[day] = total
        return total

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()

    # -- arithmetic --

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The instant ``minutes`` business minutes after ``start`` (the earliest one: the
        end of a span, not the start of the next, when the count runs out at a span's end)."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        start = _aware(start).astimezone(UTC)
        if minutes == 0:
            return start
        remaining = dt.timedelta(minutes=minutes)
        day = self.local_date(start)
        found, remaining = _consume(self.instants_on(day), start, remaining)
        if found is not None:
            return found
        for _i in range(HORIZON_DAYS):
            day += dt.timedelta(days=1)
            whole = dt.timedelta(minutes=self.day_minutes(day))
            if whole < remaining:
                remaining -= whole
                continue
            found, remaining = _consume(self.instants_on(day), start, remaining)
            if found is not None:
                return found
        raise NoWorkingTime("the calendar has no working time within the horizon")

    def between(self, a: dt.datetime, b: dt.datetime) -> int:
        """Whole business minutes from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
        a = _aware(a).astimezone(UTC)
        b = _aware(b).astimezone(UTC)
        if b <= a:
            return 0
        first, last = self.local_date(a), self.local_date(b)
        total = _overlap(self.instants_on(first), a, b)
        if last != first:
            day = first + dt.timedelta(days=1)
            whole = 0
            while day < last:
                whole += self.day_minutes(day)
                day += dt.timedelta(days=1)
            total += dt.timedelta(minutes=whole) + _overlap(self.instants_on(last), a, b)
        return int(total.total_seconds() // 60)

    def has_working_time(self) -> bool:
        return any(self.week) or any(self.special.values())


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    return value


def _consume(spans, start: dt.datetime, remaining: dt.timedelta):
    for a, b in spans:
        if b <= start:
            continue
        a = max(a, start)
        available = b - a
        if remaining <= available:
            return a + remaining, dt.timedelta(0)
        remaining -= available
    return None, remaining


def _overlap(spans, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    total = dt.timedelta(0)
    for s, e in spans:
        lo, hi = max(s, a), min(e, b)
        if hi > lo:
            total += hi - lo
    return total


# --- the per-calendar cache -----------------------------------------------------------------------

_cache: OrderedDict[tuple, BusinessCalendar] = OrderedDict()
_cache_lock = threading.Lock()


def _key(calendar) -> tuple:
    return (
        calendar.pk,
        calendar.updated_at,
        calendar.time_zone,
        json.dumps(calendar.week, sort_keys=True),
    )


def business_calendar(calendar) -> BusinessCalendar:
    """The in-memory calendar of a ``WorkCalendar`` row, built once per version of it (its
    days are read with one query) and shared by every caller in the process."""
    if calendar.pk is None:
        return BusinessCalendar(time_zone=calendar.time_zone, week=calendar.week)
    key = _key(calendar)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    from ..models import CalendarDay

    days = list(
        CalendarDay.objects.in_workspace(calendar.workspace_id)
        .filter(calendar_id=calendar.pk)
        .values_list("day", "kind", "hours")
    )
    built = BusinessCalendar(time_zone=calendar.time_zone, week=calendar.week, days=days)
    with _cache_lock:
        _cache[key] = built
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# --- the two operations ---------------------------------------------------------------------------


def add_business_minutes(calendar, start_utc: dt.datetime, minutes: int) -> dt.datetime:
    """``start_utc`` plus ``minutes`` business minutes of ``calendar`` (a ``WorkCalendar``
    or a ``BusinessCalendar``), as a UTC instant."""
    return _resolve(calendar).add(start_utc, int(minutes))


def business_minutes_between(calendar, a: dt.datetime, b: dt.datetime) -> int:
    """Whole business minutes of ``calendar`` from ``a`` to ``b`` (0 if ``b`` ≤ ``a``)."""
    return _resolve(calendar).between(a, b)


def _resolve(calendar) -> BusinessCalendar:
    return calendar if isinstance(calendar, BusinessCalendar) else business_calendar(calendar)
