"""Helpers for tests that play the SMS provider calling our webhook."""

from __future__ import annotations

import itertools
import json
import time

from django.urls import reverse

from guanxi.integrations import signatures

_ids = itertools.count(1)


def post_inbound(
    client,
    account,
    *,
    sender: str,
    text: str,
    message_id: str | None = None,
    secret: str | None = None,
    timestamp: float | None = None,
    signature: str | None = None,
    body: bytes | None = None,
    public_key: str | None = None,
):
    """POST one inbound text to ``/hooks/sms/<key>/`` as the provider would, signed with the
    account's secret (or ``secret``; ``signature=""`` sends none)."""
    now = time.time() if timestamp is None else timestamp
    if body is None:
        payload = {
            "from": sender,
            "to": "+8610690000",
            "text": text,
            "id": message_id or f"prov-{next(_ids)}",
            "timestamp": int(now),
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {signatures.TIMESTAMP_HEADER: str(int(now))}
    if signature is None:
        signature = signatures.sign(secret if secret is not None else account.secret, body)
    if signature:
        headers[signatures.SIGNATURE_HEADER] = signature
    url = reverse("hooks:sms_inbound", args=[public_key or account.public_key])
    return client.post(
        url,
        data=body,
        content_type="application/json",
        headers=headers,
    )
