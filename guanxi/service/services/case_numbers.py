"""Case numbers: ``CS-<year>-<seq>`` (``CS-2026-000123``), one sequence per workspace and
year.

The sequence is the customers' code counter (one row per workspace and key, bumped with an
``UPDATE … SET next_value = next_value + n``), the same one sales' order numbers use: the
UPDATE takes the row's lock, so two cases opened at the same moment never get the same
number, and a number once handed out is not handed out again.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone

from guanxi.customers.services.codes import codes_reserve

PREFIX = "CS"
SEQUENCE_WIDTH = 6


def _sequence_key(year: int) -> str:
    # The counter table's keys are at most 8 characters: "c" + the year.
    return f"c{year:04d}"


def case_numbers_reserve(*, workspace, count: int = 1, year: int | None = None) -> list[str]:
    """``count`` fresh case numbers of ``year`` (this year in the workspace's time zone by
    default)."""
    if year is None:
        year = _this_year(workspace)
    key = _sequence_key(year)
    codes = codes_reserve(workspace=workspace, prefix=key, count=count)
    return [f"{PREFIX}-{year:04d}-{int(code[len(key) :]):0{SEQUENCE_WIDTH}d}" for code in codes]


def case_number_next(*, workspace, year: int | None = None) -> str:
    return case_numbers_reserve(workspace=workspace, count=1, year=year)[0]


def _this_year(workspace) -> int:
    try:
        zone = zoneinfo.ZoneInfo(getattr(workspace, "time_zone", "") or "Asia/Shanghai")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return timezone.now().astimezone(zone).year
