"""Signed requests between us and a provider (SMS, telephony), both ways.

A request carries ``X-Guanxi-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` made
with the provider account's secret, and ``X-Guanxi-Timestamp`` (Unix seconds). We refuse
a request whose signature does not match or whose timestamp is more than
``MAX_AGE`` away from now; replays inside that window are caught by the provider's message
id, which each webhook stores once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.utils import timezone
from django.utils.dateparse import parse_datetime

SIGNATURE_HEADER = "X-Guanxi-Signature"
TIMESTAMP_HEADER = "X-Guanxi-Timestamp"
MAX_AGE = dt.timedelta(minutes=5)
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value for ``body``: ``sha256=<hex>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` with ``secret`` (constant time)."""
    if not secret or not header:
        return False
    header = header.strip()
    if not header.lower().startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).lower(), header.lower())


def parse_timestamp(value) -> dt.datetime | None:
    """Unix seconds (int, float or their text) or ISO 8601 with a zone, as aware UTC; None
    when it is neither."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                parsed = parse_datetime(text)
            except ValueError:
                return None
            if parsed is None or timezone.is_naive(parsed):
                return None
            return parsed.astimezone(dt.UTC)
    if seconds != seconds or abs(seconds) > 1e11:  # NaN, or far outside any real clock
        return None
    # Milliseconds, as some providers send them.
    if abs(seconds) > 1e10:
        seconds /= 1000
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def timestamp_fresh(value, *, now: dt.datetime | None = None) -> bool:
    """Whether ``value`` is a timestamp within ``MAX_AGE`` of now (either side, for clocks
    that disagree a little)."""
    moment = parse_timestamp(value)
    if moment is None:
        return False
    now = now or timezone.now()
    return abs(now - moment) <= MAX_AGE


def signed_headers(secret: str, body: bytes, *, now: dt.datetime | None = None) -> dict:
    """The headers for a request we send: signature and timestamp."""
    now = now or timezone.now()
    return {
        SIGNATURE_HEADER: sign(secret, body),
        TIMESTAMP_HEADER: str(int(now.timestamp())),
    }
