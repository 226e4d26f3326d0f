"""Telephony in the integrations layer: the webhook refuses what is not signed, stale or
malformed before anything is handed on, and hands valid events to the registered handler;
the generic webhook provider places a call by a signed POST to a real HTTP server on
loopback playing the call centre; the console provider places calls and simulates
incoming ones through the same handler."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from guanxi.integrations import signatures, telephony
from guanxi.integrations.models import ProviderAccount, ProviderKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def handled():
    """The events the webhook hands on, caught instead of the service's handler."""
    seen: list = []
    previous = telephony._handler.get("handler")

    def handler(account, event):
        ids = [e.event_id for _a, e in seen]
        created = event.event_id not in ids
        if created:
            seen.append((account, event))
        return telephony.Received(created=created, event_pk=len(seen))

    telephony.register_event_handler(handler)
    yield seen
    if previous is not None:
        telephony.register_event_handler(previous)


@pytest.fixture
def account(workspace):
    return ProviderAccount.objects.create(
        workspace=workspace, kind=ProviderKind.TELEPHONY, provider="webhook"
    )


def body_of(**fields) -> bytes:
    payload = {
        "event_id": "ev-1",
        "call_id": "call-1",
        "kind": "ringing",
        "direction": "in",
        "caller": "13800138000",
        "callee": "+862100000000",
        "agent": "8001",
        "timestamp": int(time.time()),
    }
    payload.update(fields)
    return json.dumps({k: v for k, v in payload.items() if v is not None}).encode()


def post(client, account, body: bytes, *, secret=None, timestamp=None, signature=None, key=None):
    headers = {signatures.TIMESTAMP_HEADER: str(int(timestamp or time.time()))}
    if signature is None:
        signature = signatures.sign(secret if secret is not None else account.secret, body)
    if signature:
        headers[signatures.SIGNATURE_HEADER] = signature
    url = reverse("hooks:telephony_event", args=[key or account.public_key])
    return client.post(url, data=body, content_type="application/json", headers=headers)


def test_a_signed_event_is_handed_on_with_its_fields(client, account, handled):
    body = body_of(
        kind="ended", duration=61, outcome="completed", recording_url="https://r.example.com/1.mp3"
    )
    response = post(client, account, body)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "stored"
    ((got_account, event),) = handled
    assert got_account.pk == account.pk
    assert event.caller == "+8613800138000" and event.agent == "8001"
    assert event.kind == "ended" and event.duration_seconds == 61
    assert event.recording_url.endswith("1.mp3") and event.outcome == "completed"
    # The same event again: 200, nothing new.
    again = post(client, account, body)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert len(handled) == 1


@pytest.mark.parametrize(
    "how",
    ["missing", "wrong_secret", "tampered", "stale_header", "stale_body", "unprefixed"],
)
def test_a_bad_signature_or_stale_request_is_refused_before_anything(client, account, handled, how):
    body = body_of()
    if how == "missing":
        response = post(client, account, body, signature="")
    elif how == "wrong_secret":
        response = post(client, account, body, secret="not-the-secret")
    elif how == "tampered":
        signature = signatures.sign(account.secret, body)
        response = post(client, account, body.replace(b"8001", b"8002"), signature=signature)
    elif how == "stale_header":
        response = post(client, account, body, timestamp=time.time() - 3600)
    elif how == "stale_body":
        response = post(client, account, body_of(timestamp=int(time.time()) - 3600))
    else:
        digest = signatures.sign(account.secret, body).removeprefix("sha256=")
        response = post(client, account, body, signature=digest)
    assert response.status_code == 401
    assert response.json()["error"] in ("bad_signature", "stale_timestamp")
    assert handled == []


@pytest.mark.parametrize(
    "body, code",
    [
        (b"not json", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (body_of(event_id=None), "missing_event_id"),
        (body_of(call_id=""), "missing_call_id"),
        (body_of(kind="exploded"), "bad_kind"),
        (body_of(direction="sideways"), "bad_direction"),
        (body_of(caller=None), "missing_caller"),
        (body_of(caller={"x": 1}), "bad_caller"),
        (body_of(duration=-5), "bad_duration"),
        (body_of(duration="long"), "bad_duration"),
        (body_of(recording_url="javascript:alert(1)"), "bad_recording_url"),
    ],
)
def test_malformed_events_are_400_with_a_code(client, account, handled, body, code):
    response = post(client, account, body)
    assert response.status_code == 400
    assert response.json() == {"error": code}
    assert handled == []


def test_unknown_or_inactive_accounts_and_get_requests(client, account, handled):
    assert post(client, account, body_of(), key="no-such-key").status_code == 404
    url = reverse("hooks:telephony_event", args=[account.public_key])
    assert client.get(url).status_code == 405
    account.active = False
    account.save()
    assert post(client, account, body_of()).status_code == 404
    sms = ProviderAccount.objects.create(
        workspace=account.workspace, kind=ProviderKind.SMS, provider="webhook"
    )
    assert post(client, sms, body_of()).status_code == 404
    assert handled == []


def test_the_webhook_provider_places_a_call_by_a_signed_post(account, provider_server):
    account.options = {"url": provider_server.url}
    account.save()
    provider_server.secret = account.secret
    provider_server.answer = {"call_id": "cc-42"}
    provider = telephony.provider_for(account)
    assert isinstance(provider, telephony.WebhookProvider)
    assert provider.dial(agent="8001", number="+8613800138000") == "cc-42"
    ((_headers, payload, ok),) = provider_server.requests
    assert ok and payload["agent"] == "8001" and payload["number"] == "+8613800138000"
    # No id in the answer: the call is known by the id we sent.
    provider_server.answer = {}
    call_id = provider.dial(agent="8001", number="+8613800138000")
    assert call_id == provider_server.requests[-1][1]["id"]
    # Refused (a wrong secret is 401 there), or nobody listening: not placed.
    provider_server.secret = "another"
    with pytest.raises(telephony.CallNotPlaced):
        provider.dial(agent="8001", number="+8613800138000")
    account.options = {"url": "http://127.0.0.1:9/nothing"}
    with pytest.raises(telephony.CallNotPlaced):
        telephony.provider_for(account).dial(agent="8001", number="+8613800138000")
    account.options = {}
    with pytest.raises(telephony.CallNotPlaced):
        telephony.provider_for(account).dial(agent="8001", number="+8613800138000")


def test_the_console_provider_dials_and_simulates(account, handled):
    account.provider = "console"
    provider = telephony.provider_for(account)
    assert provider.dial(agent="8001", number="+8613800138000").startswith("console-")
    received = provider.simulate_incoming(caller="+8613800138000", agent="8001")
    assert received.created
    ((_account, event),) = handled
    assert event.kind == "ringing" and event.agent == "8001" and event.payload["simulated"]
    assert telephony.provider_for(None).name == "console"
    assert telephony.provider_names()[:2] == ["console", "webhook"]
