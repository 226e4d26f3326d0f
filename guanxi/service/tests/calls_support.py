"""Helpers of the calls part's tests: agents with phone extensions, a telephony account,
known customers (a person at a company, a company line, a number two people share), and
a signed call event POSTed as the provider would. Import the fixtures with
``from .calls_support import *  # noqa: F403``."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from django.urls import reverse

from guanxi.customers.models import ContactPoint, PointKind
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.integrations import signatures
from guanxi.integrations.models import ProviderAccount, ProviderKind
from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import AgentProfile

from .cases_support import nobody, service_ws

__all__ = [
    "KNOWN",
    "SHARED",
    "UNKNOWN",
    "agent_a",
    "agent_b",
    "caller",
    "event_body",
    "manager",
    "nobody",
    "post_event",
    "service_ws",
    "shared_number",
    "signed_headers",
    "telephony_account",
]

KNOWN = "+8613800138000"
SHARED = "+8602150000000"
UNKNOWN = "+8613911112222"
_ids = itertools.count(1)


def make_agent(workspace, name: str, extension: str, role: str = "service_agent"):
    user = UserFactory(workspace=workspace, role_code=role, full_name=name)
    AgentProfile.objects.create(workspace=workspace, user=user, phone_extension=extension)
    return user


@pytest.fixture
def agent_a(service_ws):
    return make_agent(service_ws, "Agent A", "8001")


@pytest.fixture
def agent_b(service_ws):
    return make_agent(service_ws, "Agent B", "8002")


@pytest.fixture
def manager(service_ws):
    return make_agent(service_ws, "Manager M", "8009", role="service_manager")


@pytest.fixture
def caller(service_ws):
    """张伟 of Acme (Acme's own line is another number), reachable on ``KNOWN``."""
    company = AccountFactory(workspace=service_ws, name="Acme", phone="+862188888888")
    return ContactFactory(workspace=service_ws, name="张伟", account=company, mobile=KNOWN)


@pytest.fixture
def shared_number(service_ws):
    """Two people who give the same office number (one on file as a further number)."""
    first = ContactFactory(workspace=service_ws, name="李娜", phone=SHARED)
    second = ContactFactory(workspace=service_ws, name="王强")
    ContactPoint.objects.create(
        workspace=service_ws, contact=second, kind=PointKind.PHONE, value=SHARED
    )
    return first, second


@pytest.fixture
def telephony_account(service_ws):
    return ProviderAccount.objects.create(
        workspace=service_ws,
        kind=ProviderKind.TELEPHONY,
        provider="webhook",
        options={"url": "http://127.0.0.1:9/unused"},
    )


def event_body(**fields) -> bytes:
    payload = {
        "event_id": f"ev-{next(_ids)}",
        "call_id": "call-1",
        "kind": "ringing",
        "direction": "in",
        "caller": KNOWN,
        "callee": "+862100000000",
        "agent": "8001",
        "timestamp": int(time.time()),
    }
    payload.update(fields)
    payload = {k: v for k, v in payload.items() if v is not None}
    return json.dumps(payload, ensure_ascii=False).encode()


def signed_headers(secret: str, body: bytes, *, timestamp: float | None = None) -> dict:
    now = time.time() if timestamp is None else timestamp
    return {
        signatures.SIGNATURE_HEADER: signatures.sign(secret, body),
        signatures.TIMESTAMP_HEADER: str(int(now)),
    }


def post_event(client, account, *, body: bytes | None = None, headers=None, **fields):
    """POST one call event to ``/hooks/telephony/<key>/``, signed with the account's
    secret unless ``headers`` are given."""
    body = body if body is not None else event_body(**fields)
    if headers is None:
        headers = signed_headers(account.secret, body)
    url = reverse("hooks:telephony_event", args=[account.public_key])
    return client.post(url, data=body, content_type="application/json", headers=headers)
