"""The call-event webhook the telephony provider calls: ``POST /hooks/telephony/<key>/``.

The request is JSON ``{"event_id", "call_id", "kind", "direction", "caller", "callee",
"agent", "timestamp", "duration", "outcome", "recording_url"}`` (``kind`` one of ringing,
answered, ended, dialing; ``direction`` in or out) signed as every webhook here is:
``X-Guanxi-Signature: sha256=<hex HMAC-SHA256 of the raw body with the account's secret>``
and ``X-Guanxi-Timestamp`` (Unix seconds). No login and no CSRF token: the signature is the
proof. A bad or missing signature, or a timestamp more than five minutes away, is refused
with 401 before anything is read or stored; a body that is no JSON object or lacks a field
is 400 with a code saying which; a replayed ``event_id`` answers 200 and does nothing again.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError

from . import signatures, telephony
from .models import ProviderAccount, ProviderKind

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_DURATION = 24 * 3600


def _error(code: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code}, status=status)


def _text(payload: dict, name: str, limit: int) -> str | None:
    """The field as text (numbers allowed: some switches send ids as numbers), None when it
    is something else."""
    value = payload.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).replace("\x00", "").strip()
    return text[:limit]


def parse_event(payload: dict) -> telephony.CallEventData | str:
    """The event in ``payload``, or the error code of what is wrong with it."""
    event_id = _text(payload, "event_id", telephony.ID_MAX)
    if not event_id:
        return "missing_event_id"
    call_id = _text(payload, "call_id", telephony.ID_MAX)
    if not call_id:
        return "missing_call_id"
    kind = payload.get("kind")
    if kind not in telephony.KINDS:
        return "bad_kind"
    direction = payload.get("direction")
    if direction in (None, ""):
        direction = "out" if kind == "dialing" else "in"
    if direction not in telephony.DIRECTIONS:
        return "bad_direction"
    caller = _text(payload, "caller", 64)
    callee = _text(payload, "callee", 64)
    agent = _text(payload, "agent", telephony.ID_MAX)
    if caller is None:
        return "bad_caller"
    if callee is None:
        return "bad_callee"
    if agent is None:
        return "bad_agent"
    if kind == "ringing" and direction == "in" and not caller:
        return "missing_caller"
    duration = payload.get("duration")
    if duration in (None, ""):
        duration = None
    else:
        if isinstance(duration, bool):
            return "bad_duration"
        try:
            duration = int(float(duration))
        except (TypeError, ValueError, OverflowError):
            return "bad_duration"
        if not 0 <= duration <= MAX_DURATION:
            return "bad_duration"
    outcome = _text(payload, "outcome", telephony.OUTCOME_MAX)
    if outcome is None:
        return "bad_outcome"
    recording = payload.get("recording_url") or ""
    if not isinstance(recording, str) or len(recording) > telephony.URL_MAX:
        return "bad_recording_url"
    recording = recording.strip()
    if recording and not recording.lower().startswith(("http://", "https://")):
        return "bad_recording_url"
    return telephony.CallEventData(
        event_id=event_id,
        call_id=call_id,
        kind=kind,
        direction=direction,
        caller=telephony.clean_number(caller),
        callee=telephony.clean_number(callee),
        agent=agent,
        occurred_at=signatures.parse_timestamp(payload.get("timestamp")),
        duration_seconds=duration,
        outcome=outcome,
        recording_url=recording,
        payload={k: v for k, v in payload.items() if isinstance(k, str)},
    )


@csrf_exempt
@require_POST
def telephony_event(request: HttpRequest, public_key: str) -> JsonResponse:
    account = (
        ProviderAccount.objects.across_workspaces()
        .filter(public_key=public_key, kind=ProviderKind.TELEPHONY, active=True)
        .first()
    )
    if account is None:
        return _error("unknown_account", 404)
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return _error("too_large", 413)
    body = request.body
    if not signatures.signature_valid(
        account.secret, body, request.headers.get(signatures.SIGNATURE_HEADER)
    ):
        logger.warning("Telephony webhook %s: bad or missing signature", account.pk)
        return _error("bad_signature", 401)
    if not signatures.timestamp_fresh(request.headers.get(signatures.TIMESTAMP_HEADER)):
        logger.warning("Telephony webhook %s: stale or missing timestamp", account.pk)
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
    event = parse_event(payload)
    if isinstance(event, str):
        return _error(event, 400)
    try:
        received = telephony.receive_event(account=account, event=event)
    except ApplicationError as exc:
        return JsonResponse({"error": exc.code}, status=exc.status)
    return JsonResponse(
        {
            "status": "stored" if received.created else "duplicate",
            "id": received.event_pk,
            "pops": received.popped,
        }
    )
