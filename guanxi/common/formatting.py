"""Numbers, money and dates as the reader's language writes them (Babel's CLDR data):
1,234.5 / ¥1,234.50 / 2026年11月23日 under 简体中文, US$1,234.50 under English."""

from __future__ import annotations

import datetime as dt
import decimal

from babel import numbers
from django.utils import formats, timezone, translation

_LOCALES = {"zh-hans": "zh_Hans_CN", "zh-hant": "zh_Hant_TW", "en": "en_US"}


def babel_locale(language: str | None = None) -> str:
    return _LOCALES.get((language or translation.get_language() or "en").lower(), "en_US")


def format_number(value) -> str:
    return numbers.format_decimal(decimal.Decimal(str(value)), locale=babel_locale())


def format_money(value, currency: str = "CNY") -> str:
    return numbers.format_currency(decimal.Decimal(str(value)), currency, locale=babel_locale())


def format_date(value: dt.date | str) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return formats.date_format(value, "DATE_FORMAT")


def format_datetime(value: dt.datetime | str) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")
