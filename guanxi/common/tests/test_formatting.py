"""Numbers, money and dates follow the reader's language."""

import pytest
from django.utils import translation

from guanxi.common import formatting


@pytest.mark.parametrize(
    ("language", "money", "date"),
    [
        ("zh-hans", "¥1,234.50", "2026年11月23日"),
        ("zh-hant", "CN¥1,234.50", "2026年11月23日"),
        ("en", "CN¥1,234.50", "Nov. 23, 2026"),
    ],
)
def test_formats_follow_the_language(language, money, date):
    with translation.override(language):
        assert formatting.format_money("1234.5", "CNY") == money
        assert formatting.format_number(1234567.5) == "1,234,567.5"
        assert formatting.format_date("2026-11-23") == date


def test_other_currencies():
    with translation.override("en"):
        assert formatting.format_money("99", "USD") == "$99.00"
    with translation.override("zh-hans"):
        assert formatting.format_money("99", "USD") == "US$99.00"
