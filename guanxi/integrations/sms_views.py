"""The inbound SMS webhook the provider calls: ``POST /hooks/sms/<public key>/``.

The request is JSON ``{"from", "to", "text", "id", "timestamp"}`` with
``X-Guanxi-Signature: sha256=<hex HMAC-SHA256 of the raw body with the account's secret>``
and ``X-Guanxi-Timestamp`` (Unix seconds). No login and no CSRF token: the signature is the
proof. A request with a bad or missing signature, or a timestamp more than five minutes
away, is refused with 401 before anything is read or stored; a replay of a message id
already stored answers 200 and does nothing again (providers retry until they see a 2xx).
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import signatures, sms
from .models import ProviderAccount, ProviderKind

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def _error(code: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code}, status=status)


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest, public_key: str) -> JsonResponse:
    account = (
        ProviderAccount.objects.across_workspaces()
        .filter(public_key=public_key, kind=ProviderKind.SMS, active=True)
        .first()
    )
    if account is None:
        return _error("unknown_account", 404)
    length = int(request.headers.get("Content-Length") or 0)
    if length > MAX_BODY:
        return _error("too_large", 413)
    body = request.body
    if not signatures.signature_valid(
        account.secret, body, request.headers.get(signatures.SIGNATURE_HEADER)
    ):
        logger.warning("SMS webhook %s: bad or missing signature", account.pk)
        return _error("bad_signature", 401)
    if not signatures.timestamp_fresh(request.headers.get(signatures.TIMESTAMP_HEADER)):
        logger.warning("SMS webhook %s: stale or missing timestamp", account.pk)
        return _error("stale_timestamp", 401)
    try:
        payload = json.loads(body)
    except ValueError:
        return _error("bad_json", 400)
    if not isinstance(payload, dict):
        return _error("bad_json", 400)
    # The body's own timestamp is signed; an old one is a replay of an old request.
    if payload.get("timestamp") not in (None, "") and not signatures.timestamp_fresh(
        payload.get("timestamp")
    ):
        return _error("stale_timestamp", 401)
    sender = payload.get("from")
    text = payload.get("text")
    message_id = payload.get("id")
    if not isinstance(sender, str) or not sender.strip():
        return _error("missing_from", 400)
    if not isinstance(text, str):
        return _error("missing_text", 400)
    if not isinstance(message_id, str | int) or isinstance(message_id, bool) or not str(message_id):
        return _error("missing_id", 400)
    received = sms.sms_receive(
        account=account,
        sender=sender,
        text=text,
        provider_message_id=str(message_id),
        received_at=signatures.parse_timestamp(payload.get("timestamp")),
    )
    return JsonResponse(
        {"status": "stored" if received.created else "duplicate", "id": received.message.pk}
    )
