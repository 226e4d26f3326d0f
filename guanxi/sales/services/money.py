"""Money: the workspace's base currency, exchange rates and rounding. Every amount that is
summed across currencies (forecasts, customer value, receivables) is converted here, at the
rate of the day it happened; a currency with no rate on or before that day is refused."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

from ..models import ExchangeRate

CENT = Decimal("0.01")


def base_currency(workspace) -> str:
    return workspace.default_currency


def round_money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def rate(workspace, currency: str, on: dt.date) -> Decimal:
    """Units of the base currency one unit of ``currency`` was worth on ``on``."""
    currency = (currency or "").upper()
    if not currency or currency == base_currency(workspace):
        return Decimal(1)
    row = (
        ExchangeRate.objects.in_workspace(workspace)
        .filter(currency=currency, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if row is None:
        raise ApplicationError(
            _(
                "There is no exchange rate for %(currency)s on or before %(day)s; an "
                "administrator can add one under Sales settings → Currencies."
            )
            % {"currency": currency, "day": on.isoformat()},
            code="no_exchange_rate",
            fields={"currency": [_("No exchange rate for this currency.")]},
        )
    return row


def to_base(workspace, amount: Decimal, currency: str, on: dt.date) -> Decimal:
    return round_money(Decimal(amount) * rate(workspace, currency, on))


class RateTable:
    """Rates looked up once per (currency, day) — for imports and recomputes that convert
    millions of amounts."""

    def __init__(self, workspace) -> None:
        self.workspace = workspace
        self.base = base_currency(workspace)
        self._history: dict[str, list[tuple[dt.date, Decimal]]] = {}
        for currency, valid_from, value in (
            ExchangeRate.objects.in_workspace(workspace)
            .order_by("currency", "valid_from")
            .values_list("currency", "valid_from", "rate")
        ):
            self._history.setdefault(currency, []).append((valid_from, value))

    def rate(self, currency: str, on: dt.date) -> Decimal | None:
        """The rate, or None when there is none (the caller reports the row)."""
        currency = (currency or "").upper()
        if not currency or currency == self.base:
            return Decimal(1)
        found = None
        for valid_from, value in self._history.get(currency, ()):
            if valid_from > on:
                break
            found = value
        return found
