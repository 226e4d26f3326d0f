"""The call centre end to end over real HTTP: the live test server, an agent's SSE stream
read by a real HTTP client, and the provider's signed events POSTed to the webhook by
another — the ringing event pops the right customer for the right agent, a bad signature
is refused, an unknown number makes no customer, and the ended call lands on the timeline
once. Click-to-call goes to a loopback server playing the call centre."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.test import Client

from guanxi.activities.models import TimelineEntry
from guanxi.customers.models import Account, Contact
from guanxi.integrations.models import ProviderAccount, ProviderKind
from guanxi.integrations.tests.http_provider import ProviderServer
from guanxi.service.models import CallEvent

from .calls_support import KNOWN, UNKNOWN, event_body, make_agent, signed_headers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(transactional_db, settings):
    from guanxi.customers.tests.factories import AccountFactory, ContactFactory
    from guanxi.platform.tests.factories import WorkspaceFactory
    from guanxi.service.services.case_types import service_setup

    settings.CALL_POP_STREAM_SECONDS = 4
    ws = WorkspaceFactory()
    service_setup(ws)
    agent_a = make_agent(ws, "Agent A", "8001")
    agent_b = make_agent(ws, "Agent B", "8002")
    company = AccountFactory(workspace=ws, name="Acme")
    caller = ContactFactory(workspace=ws, name="张伟", account=company, mobile=KNOWN)
    account = ProviderAccount.objects.create(
        workspace=ws, kind=ProviderKind.TELEPHONY, provider="webhook"
    )
    return ws, agent_a, agent_b, caller, account


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class StreamReader(threading.Thread):
    """Reads an agent's pop stream over HTTP and keeps each event with the time it came."""

    def __init__(self, base: str, cookie: str):
        super().__init__(daemon=True)
        self.parts = urlsplit(base)
        self.cookie = cookie
        self.events: list[tuple[float, dict]] = []
        self.opened = threading.Event()

    def run(self):
        conn = http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=10)
        conn.request(
            "GET", "/service/calls/pops/stream/", headers={"Cookie": f"sessionid={self.cookie}"}
        )
        response = conn.getresponse()
        assert response.status == 200
        self.opened.set()
        kind, data = "", ""
        while True:
            line = response.readline()
            if not line:
                break
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                kind = text[7:]
            elif text.startswith("data: "):
                data = text[6:]
            elif text == "" and kind == "pop":
                self.events.append((time.monotonic(), json.loads(data)))
                kind, data = "", ""
        conn.close()


def post_signed(base: str, account, body: bytes, *, secret: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    headers.update(signed_headers(secret or account.secret, body))
    request = urllib.request.Request(
        f"{base}/hooks/telephony/{account.public_key}/", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_an_incoming_call_pops_the_right_customer_for_the_right_agent(live_server, setup):
    ws, agent_a, agent_b, caller, account = setup
    readers = [StreamReader(live_server.url, session_cookie(u)) for u in (agent_a, agent_b)]
    for reader in readers:
        reader.start()
        assert reader.opened.wait(5)
    time.sleep(0.3)
    # A forged event is refused and pops nothing.
    status, body = post_signed(live_server.url, account, event_body(call_id="x"), secret="forged")
    assert status == 401 and body == {"error": "bad_signature"}
    sent = time.monotonic()
    status, body = post_signed(live_server.url, account, event_body(call_id="live-1"))
    assert status == 200 and body["pops"] == 1
    for reader in readers:
        reader.join(6)
    ((got_at, pop),) = readers[0].events
    assert readers[1].events == []
    assert got_at - sent < 1.0
    assert pop["url"] == f"/customers/contacts/{caller.pk}/"
    assert pop["title"] == "Incoming call from 张伟 (Acme)"
    # The call ends: one timeline entry, and a replay of the end changes nothing.
    ended = event_body(
        call_id="live-1", kind="ended", event_id="live-1-end", duration=42, outcome="completed"
    )
    assert post_signed(live_server.url, account, ended)[0] == 200
    status, body = post_signed(live_server.url, account, ended)
    assert status == 200 and body["status"] == "duplicate"
    entries = TimelineEntry.objects.in_workspace(ws).filter(kind="call")
    assert entries.count() == 1 and entries.get().duration_seconds == 42
    assert not CallEvent.objects.in_workspace(ws).filter(call_id="x").exists()


def test_an_unknown_number_creates_no_customer(live_server, setup):
    ws, _agent_a, _b, _caller, account = setup
    accounts = Account.objects.in_workspace(ws).count()
    contacts = Contact.objects.in_workspace(ws).count()
    for kind in ("ringing", "answered", "ended"):
        body = event_body(call_id="u-1", kind=kind, event_id=f"u-1-{kind}", caller=UNKNOWN)
        assert post_signed(live_server.url, account, body)[0] == 200
    assert Account.objects.in_workspace(ws).count() == accounts
    assert Contact.objects.in_workspace(ws).count() == contacts
    head = CallEvent.objects.in_workspace(ws).filter(call_id="u-1").order_by("id").first()
    assert head.contact_id is None and head.entry_id is None


def test_click_to_call_through_the_generic_webhook_provider(live_server, setup):
    ws, agent_a, _b, caller, account = setup
    centre = ProviderServer(secret=account.secret).start()
    try:
        centre.answer = {"call_id": "cc-7"}
        account.options = {"url": centre.url}
        account.save()
        client = Client()
        client.force_login(agent_a)
        response = client.post("/service/calls/dial/", {"phone": KNOWN})
        assert response.status_code == 200, response.content
        ((_headers, payload, ok),) = centre.requests
        assert ok and payload == {"agent": "8001", "number": KNOWN, "id": payload["id"]}
        row = CallEvent.objects.in_workspace(ws).get(call_id="cc-7")
        assert row.kind == "dialing" and row.contact_id == caller.pk
        centre.status = 503
        response = client.post("/service/calls/dial/", {"phone": KNOWN})
        assert response.status_code == 409 and response.json()["error"]["code"] == "not_placed"
        assert CallEvent.objects.in_workspace(ws).count() == 1
    finally:
        centre.stop()
