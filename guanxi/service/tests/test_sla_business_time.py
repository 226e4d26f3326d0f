"""Business time: lunch breaks, weekends, a holiday week, 调休 Saturdays (with their
weekday's, the usual day's or their own hours), a zone without daylight saving and one
with it (Europe/Berlin), hours that cannot be read; property tests that adding and
counting business minutes are inverse; the per-calendar cache rebuilt after a change."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.service.data import cn_holidays
from guanxi.service.models.sla import default_week
from guanxi.service.services import business_time
from guanxi.service.services.business_time import BusinessCalendar, HoursError, NoWorkingTime

from .sla_support import *  # noqa: F403
from .sla_support import SHANGHAI, at

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def china(year_rows=(2025, 2026), **extra) -> BusinessCalendar:
    days = [(d, k, []) for y in year_rows for d, k, _n in cn_holidays.rows_for(y, "zh-hans")]
    days += list(extra.get("days", ()))
    return BusinessCalendar(time_zone="Asia/Shanghai", week=default_week(), days=days)


NINE_TO_FIVE = {str(d): [["09:00", "17:00"]] for d in range(1, 6)}
ALWAYS = {str(d): [["00:00", "24:00"]] for d in range(1, 8)}


def local(instant: dt.datetime, zone=SHANGHAI) -> dt.datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


# --- the cases people ask about ------------------------------------------------------------------


def test_over_lunch():
    cal = china()
    start = at(2026, 3, 2, 11, 30)  # Monday
    due = cal.add(start, 60)
    assert local(due) == dt.datetime(2026, 3, 2, 14, 0)
    assert cal.between(start, due) == 60
    # Counting from inside the lunch break starts at 13:30.
    assert local(cal.add(at(2026, 3, 2, 12, 15), 30)) == dt.datetime(2026, 3, 2, 14, 0)
    assert cal.between(at(2026, 3, 2, 12, 0), at(2026, 3, 2, 13, 30)) == 0


def test_a_count_that_ends_at_a_span_end_stops_there():
    cal = china()
    assert local(cal.add(at(2026, 3, 2, 9), 180)) == dt.datetime(2026, 3, 2, 12, 0)
    assert local(cal.add(at(2026, 3, 2, 9), 450)) == dt.datetime(2026, 3, 2, 18, 0)
    assert local(cal.add(at(2026, 3, 2, 12), 1)) == dt.datetime(2026, 3, 2, 13, 31)
    # Zero minutes is the start itself, even outside working hours.
    assert cal.add(at(2026, 3, 7, 8), 0) == at(2026, 3, 7, 8)


def test_over_a_weekend():
    cal = china()
    friday = at(2026, 3, 6, 17)
    due = cal.add(friday, 120)
    assert local(due) == dt.datetime(2026, 3, 9, 10, 0)  # Monday
    assert cal.between(friday, due) == 120
    # From Saturday morning: Monday 09:30.
    assert local(cal.add(at(2026, 3, 7, 8), 30)) == dt.datetime(2026, 3, 9, 9, 30)
    assert cal.between(at(2026, 3, 7), at(2026, 3, 9)) == 0


def test_a_holiday_week_and_its_tiaoxiu_saturday():
    cal = china()
    # National Day 2026: off 1–7 October; Saturday 10 October is worked.
    eve = at(2026, 9, 30, 17)
    due = cal.add(eve, 120)
    assert local(due) == dt.datetime(2026, 10, 8, 10, 0)
    assert cal.between(eve, due) == 120
    assert [cal.day_minutes(dt.date(2026, 10, d)) for d in range(1, 11)] == [0] * 7 + [450] * 3
    # Friday 9 October 17:00 + 2 h: the 调休 Saturday, with the usual day's hours.
    assert local(cal.add(at(2026, 10, 9, 17), 120)) == dt.datetime(2026, 10, 10, 10, 0)
    # A Saturday that is not a 调休 day is off.
    assert cal.day_minutes(dt.date(2026, 10, 17)) == 0
    # Spring Festival 2026: 15–23 February off; Saturdays 14 and 28 February worked.
    assert local(cal.add(at(2026, 2, 13, 17), 120)) == dt.datetime(2026, 2, 14, 10, 0)
    assert local(cal.add(at(2026, 2, 14, 18), 1)) == dt.datetime(2026, 2, 24, 9, 1)
    # 2025: 元旦 (Wednesday 1 January) off; the 调休 Sunday 26 January worked.
    assert cal.day_minutes(dt.date(2025, 1, 1)) == 0
    assert cal.day_minutes(dt.date(2025, 1, 26)) == 450


def test_tiaoxiu_day_with_its_own_hours_or_its_weekdays_hours():
    saturday = dt.date(2026, 10, 10)
    own = china(days=[(saturday, "workday", [["10:00", "15:00"]])])
    # The later row for the same date wins (the calendar's own edit).
    assert own.spans_on(saturday) == ((600, 900),)
    assert own.day_minutes(saturday) == 300
    # A week that works Saturday mornings: a 调休 Saturday keeps Saturday's hours.
    week = {**default_week(), "6": [["09:00", "12:00"]]}
    cal = BusinessCalendar(time_zone="Asia/Shanghai", week=week, days=[(saturday, "workday", [])])
    assert cal.day_minutes(saturday) == 180
    # A holiday on a working weekday is off, whatever its hours.
    cal = BusinessCalendar(
        time_zone="Asia/Shanghai",
        week=default_week(),
        days=[(dt.date(2026, 3, 2), "holiday", [["09:00", "18:00"]])],
    )
    assert cal.day_minutes(dt.date(2026, 3, 2)) == 0


def test_a_zone_without_daylight_saving():
    cal = BusinessCalendar(time_zone="Asia/Shanghai", week=NINE_TO_FIVE)
    # Shanghai is UTC+8 all year: 09:00 local is 01:00 UTC in January and in July.
    for month, monday in ((1, 5), (7, 6)):
        start = cal.add(dt.datetime(2026, month, monday, 0, 0, tzinfo=UTC), 1)
        assert start == dt.datetime(2026, month, monday, 1, 1, tzinfo=UTC)


def test_europe_berlin_across_daylight_saving():
    cal = BusinessCalendar(time_zone="Europe/Berlin", week=NINE_TO_FIVE)
    # Clocks go forward on Sunday 29 March 2026: Friday 16:00 CET + 2 h is Monday 10:00 CEST.
    friday = dt.datetime(2026, 3, 27, 16, tzinfo=BERLIN)
    due = cal.add(friday, 120)
    assert due.astimezone(BERLIN).replace(tzinfo=None) == dt.datetime(2026, 3, 30, 10, 0)
    assert due == dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert cal.between(friday, due) == 120
    # And back on Sunday 25 October 2026.
    friday = dt.datetime(2026, 10, 23, 16, tzinfo=BERLIN)
    due = cal.add(friday, 120)
    assert due == dt.datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # 10:00 CET
    # Round the clock, the short and the long day have 23 and 25 hours.
    always = BusinessCalendar(time_zone="Europe/Berlin", week=ALWAYS)
    assert always.day_minutes(dt.date(2026, 3, 29)) == 23 * 60
    assert always.day_minutes(dt.date(2026, 10, 25)) == 25 * 60
    assert always.day_minutes(dt.date(2026, 3, 30)) == 24 * 60
    noon = dt.datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    assert always.between(noon, dt.datetime(2026, 3, 29, 12, tzinfo=BERLIN)) == 23 * 60
    assert always.add(noon, 23 * 60) == dt.datetime(2026, 3, 29, 12, tzinfo=BERLIN)


def test_long_targets_jump_whole_days():
    cal = china()
    start = at(2026, 1, 5, 9)
    # A year of business minutes away, and back.
    year = cal.between(start, at(2027, 1, 5, 9))
    assert year > 240 * 450
    assert cal.add(start, year) <= at(2027, 1, 5, 9)
    assert cal.between(start, cal.add(start, year)) == year


def test_no_working_time_at_all_is_refused():
    cal = BusinessCalendar(time_zone="Asia/Shanghai", week={})
    assert not cal.has_working_time()
    with pytest.raises(NoWorkingTime):
        cal.add(at(2026, 1, 1), 1)
    assert cal.between(at(2026, 1, 1), at(2026, 2, 1)) == 0


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        china().add(dt.datetime(2026, 1, 5, 9), 10)


# --- reading hours ------------------------------------------------------------------------------------


def test_hours_text_and_json():
    assert business_time.parse_hours_text("09:00-12:00, 13:30-18:00") == [
        ["09:00", "12:00"],
        ["13:30", "18:00"],
    ]
    assert business_time.parse_hours_text("9:00至12:00，13:30~18:00") == [
        ["09:00", "12:00"],
        ["13:30", "18:00"],
    ]
    assert business_time.parse_hours_text("00:00-24:00") == [["00:00", "24:00"]]
    assert business_time.parse_hours_text("  ") == []
    assert business_time.hours_text([["13:30", "18:00"], ["09:00", "12:00"]]) == (
        "09:00-12:00, 13:30-18:00"
    )
    for bad in ("9-12", "12:00-09:00", "09:00-12:00, 11:00-13:00", "25:00-26:00", "09:60-10:00"):
        with pytest.raises(HoursError):
            business_time.parse_hours_text(bad)
    with pytest.raises(HoursError):
        business_time.check_week({"8": [["09:00", "10:00"]]})
    with pytest.raises(HoursError):
        business_time.check_time_zone("Mars/Olympus")
    assert business_time.check_week({"1": [["09:00", "10:00"]], "2": []}) == {
        "1": [["09:00", "10:00"]]
    }


# --- properties ------------------------------------------------------------------------------------------

CALENDARS = {
    "china": china(),
    "berlin": BusinessCalendar(time_zone="Europe/Berlin", week=NINE_TO_FIVE),
    "always_berlin": BusinessCalendar(time_zone="Europe/Berlin", week=ALWAYS),
    "odd": BusinessCalendar(
        time_zone="America/New_York",
        week={"2": [["07:15", "07:20"], ["22:00", "24:00"]], "6": [["00:00", "00:01"]]},
        days=[(dt.date(2026, 3, 7), "holiday", []), (dt.date(2026, 3, 8), "workday", [])],
    ),
}
instants = st.datetimes(
    min_value=dt.datetime(2024, 12, 1), max_value=dt.datetime(2026, 12, 31), timezones=st.just(UTC)
)
calendars = st.sampled_from(sorted(CALENDARS))
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(name=calendars, start=instants, minutes=st.integers(min_value=0, max_value=30_000))
def test_counting_what_was_added_gives_it_back(name, start, minutes):
    cal = CALENDARS[name]
    end = cal.add(start, minutes)
    assert end >= start
    assert cal.between(start, end) == minutes


@PROPERTY
@given(name=calendars, a=instants, b=instants)
def test_adding_what_was_counted_reaches_no_further(name, a, b):
    cal = CALENDARS[name]
    counted = cal.between(a, b)
    reached = cal.add(a, counted)
    if b <= a:
        assert counted == 0 and reached == a
    else:
        assert reached <= b
        assert cal.between(a, reached) == counted
        # A minute more would go past b (or b is less than a minute after the reached point).
        assert cal.add(a, counted + 1) > b or cal.between(reached, b) == 0


@PROPERTY
@given(
    name=calendars,
    start=instants,
    m1=st.integers(min_value=1, max_value=5_000),
    m2=st.integers(min_value=0, max_value=5_000),
)
def test_adding_in_two_steps_is_adding_once(name, start, m1, m2):
    cal = CALENDARS[name]
    assert cal.add(cal.add(start, m1), m2) == cal.add(start, m1 + m2)
    assert cal.add(start, m1) <= cal.add(start, m1 + m2)


# --- the cache ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_cache_is_built_once_and_rebuilt_after_a_change(sla_ws, sla_admin):
    from guanxi.service.services import sla as services

    calendar = services.default_calendar(sla_ws)
    first = business_time.business_calendar(calendar)
    assert business_time.business_calendar(calendar) is first
    monday = dt.date(2026, 3, 2)
    assert first.day_minutes(monday) == 450
    services.calendar_day_create(
        actor=sla_admin,
        workspace=sla_ws,
        calendar_id=calendar.pk,
        day=monday,
        kind="holiday",
        name="公司年会",
    )
    calendar = services.calendar_get(workspace=sla_ws, calendar_id=calendar.pk)
    rebuilt = business_time.business_calendar(calendar)
    assert rebuilt is not first and rebuilt.day_minutes(monday) == 0
    assert (
        business_time.business_minutes_between(calendar, at(2026, 3, 2, 9), at(2026, 3, 3, 10))
        == 60
    )
    assert business_time.add_business_minutes(calendar, at(2026, 3, 2, 9), 60) == at(2026, 3, 3, 10)
