from django import template

from guanxi.common import formatting

register = template.Library()


@register.filter
def money(value, currency="CNY"):
    """``{{ amount|money:"CNY" }}`` in the reader's language; empty stays empty."""
    if value in (None, ""):
        return ""
    return formatting.format_money(value, currency or "CNY")


@register.filter
def number(value):
    if value in (None, ""):
        return ""
    return formatting.format_number(value)
