"""Chinese public holidays and the adjusted working days (调休), as the State Council
publishes them each November for the next year (国务院办公厅关于…年部分节假日安排的通知).

This is data, not logic: ``calendar_load_holidays`` copies a year into a working calendar's
days, where the administrator may change or delete any of them (a company that does not
work the 调休 Saturdays deletes those rows). A year missing here is simply not offered; add
the next year's notice below when it is published.

Sources:
- 2025: 国办发明电〔2024〕12号, published 12 November 2024.
- 2026: 国务院办公厅关于2026年部分节假日安排的通知, published 4 November 2025 (新华社).

Each holiday is a (first day, last day) range of days off, inclusive, with its name in
Simplified and Traditional Chinese and English; each working day is one weekend day worked
in exchange, named after the holiday it pays for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

D = dt.date


@dataclass(frozen=True)
class Name:
    zh_hans: str
    zh_hant: str
    en: str

    def in_language(self, language: str) -> str:
        language = (language or "").lower()
        if language in ("zh-hant", "zh-tw", "zh-hk", "zh-mo"):
            return self.zh_hant
        if language.startswith("zh"):
            return self.zh_hans
        return self.en


NEW_YEAR = Name("元旦", "元旦", "New Year's Day")
SPRING_FESTIVAL = Name("春节", "春節", "Spring Festival")
QINGMING = Name("清明节", "清明節", "Qingming Festival")
LABOUR_DAY = Name("劳动节", "勞動節", "Labour Day")
DRAGON_BOAT = Name("端午节", "端午節", "Dragon Boat Festival")
MID_AUTUMN = Name("中秋节", "中秋節", "Mid-Autumn Festival")
NATIONAL_DAY = Name("国庆节", "國慶節", "National Day")
NATIONAL_DAY_MID_AUTUMN = Name(
    "国庆节、中秋节", "國慶節、中秋節", "National Day and Mid-Autumn Festival"
)

# A weekend day worked in exchange for a holiday's bridge days.
WORKDAY_SUFFIX = Name("调休上班", "調休上班", "(adjusted working day)")


@dataclass(frozen=True)
class Holiday:
    name: Name
    first: dt.date
    last: dt.date

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Workday:
    name: Name  # the holiday it pays for
    day: dt.date

    def label(self, language: str) -> str:
        joiner = " " if not (language or "").lower().startswith("zh") else ""
        return f"{self.name.in_language(language)}{joiner}{WORKDAY_SUFFIX.in_language(language)}"


@dataclass(frozen=True)
class Year:
    holidays: tuple[Holiday, ...]
    workdays: tuple[Workday, ...]


YEARS: dict[int, Year] = {
    2025: Year(
        holidays=(
            Holiday(NEW_YEAR, D(2025, 1, 1), D(2025, 1, 1)),
            Holiday(SPRING_FESTIVAL, D(2025, 1, 28), D(2025, 2, 4)),
            Holiday(QINGMING, D(2025, 4, 4), D(2025, 4, 6)),
            Holiday(LABOUR_DAY, D(2025, 5, 1), D(2025, 5, 5)),
            Holiday(DRAGON_BOAT, D(2025, 5, 31), D(2025, 6, 2)),
            Holiday(NATIONAL_DAY_MID_AUTUMN, D(2025, 10, 1), D(2025, 10, 8)),
        ),
        workdays=(
            Workday(SPRING_FESTIVAL, D(2025, 1, 26)),  # Sunday
            Workday(SPRING_FESTIVAL, D(2025, 2, 8)),  # Saturday
            Workday(LABOUR_DAY, D(2025, 4, 27)),  # Sunday
            Workday(NATIONAL_DAY_MID_AUTUMN, D(2025, 9, 28)),  # Sunday
            Workday(NATIONAL_DAY_MID_AUTUMN, D(2025, 10, 11)),  # Saturday
        ),
    ),
    2026: Year(
        holidays=(
            Holiday(NEW_YEAR, D(2026, 1, 1), D(2026, 1, 3)),
            Holiday(SPRING_FESTIVAL, D(2026, 2, 15), D(2026, 2, 23)),
            Holiday(QINGMING, D(2026, 4, 4), D(2026, 4, 6)),
            Holiday(LABOUR_DAY, D(2026, 5, 1), D(2026, 5, 5)),
            Holiday(DRAGON_BOAT, D(2026, 6, 19), D(2026, 6, 21)),
            Holiday(MID_AUTUMN, D(2026, 9, 25), D(2026, 9, 27)),
            Holiday(NATIONAL_DAY, D(2026, 10, 1), D(2026, 10, 7)),
        ),
        workdays=(
            Workday(NEW_YEAR, D(2026, 1, 4)),  # Sunday
            Workday(SPRING_FESTIVAL, D(2026, 2, 14)),  # Saturday
            Workday(SPRING_FESTIVAL, D(2026, 2, 28)),  # Saturday
            Workday(LABOUR_DAY, D(2026, 5, 9)),  # Saturday
            Workday(NATIONAL_DAY, D(2026, 9, 20)),  # Sunday
            Workday(NATIONAL_DAY, D(2026, 10, 10)),  # Saturday
        ),
    ),
}


def available_years() -> list[int]:
    return sorted(YEARS)


def rows_for(year: int, language: str) -> list[tuple[dt.date, str, str]]:
    """``(day, kind, name)`` for every day of ``year``'s schedule, in date order; kind is
    ``"holiday"`` or ``"workday"`` (the CalendarDay kinds). Empty for an unknown year."""
    data = YEARS.get(year)
    if data is None:
        return []
    rows = [
        (day, "holiday", holiday.name.in_language(language))
        for holiday in data.holidays
        for day in holiday.days()
    ]
    rows += [(w.day, "workday", w.label(language)) for w in data.workdays]
    return sorted(rows)
