"""Helpers of the portal's tests: a workspace with its case types, a customer (an account
and its contact with an e-mail address and a mobile number), public and internal articles
written through the knowledge services, and a signed-in portal client (signed in the way
a customer does it: a code asked for, read from the database's hash by trying the code
the service made — the tests get the code from the mail or the SMS outbox). Import them into
a test module with ``from .portal_support import *  # noqa: F403``."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.integrations.models import SmsMessage
from guanxi.platform.models import Role
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, make_token
from guanxi.service.services import knowledge
from guanxi.service.services.case_types import service_setup

__all__ = [
    "EMAIL",
    "MOBILE",
    "_fresh_rate_limits",
    "api_for",
    "article",
    "code_from_text",
    "customer",
    "last_sms_code",
    "nobody",
    "other_customer",
    "portal_url",
    "portal_ws",
    "sign_in",
]

EMAIL = "wang.fang@example.com"
MOBILE = "+8613812345678"
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def portal_ws(workspace, admin_user):
    service_setup(workspace)
    return workspace


@pytest.fixture
def customer(portal_ws):
    account = AccountFactory(workspace=portal_ws, name="上海星河贸易有限公司")
    return ContactFactory(
        workspace=portal_ws, name="王芳", account=account, email=EMAIL, mobile=MOBILE
    )


@pytest.fixture
def other_customer(portal_ws, customer):
    """A colleague at the same account, with their own address."""
    return ContactFactory(
        workspace=portal_ws,
        name="李强",
        account=customer.account,
        email="li.qiang@example.com",
        mobile="+8613912345678",
    )


@pytest.fixture
def nobody(portal_ws):
    """Signed in as staff, but the role grants nothing of the service."""
    role = Role.objects.create(workspace=portal_ws, name="Warehouse", code="warehouse", rights={})
    return UserFactory(workspace=portal_ws, role=role)


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


def article(actor, title, body, *, public=True, publish=True, **values):
    """An article written and published through the knowledge services."""
    return knowledge.article_create(
        actor=actor,
        workspace=actor.workspace,
        title=title,
        body=body,
        visibility="public" if public else "internal",
        publish=publish,
        **values,
    )


def portal_url(workspace, name: str, *args) -> str:
    return reverse(f"portal:{name}", args=[workspace.slug, *args])


def code_from_text(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no 6-digit code in {text!r}"
    return match.group(1)


def last_sms_code(workspace) -> str:
    message = SmsMessage.objects.in_workspace(workspace).order_by("-id").first()
    assert message is not None, "no SMS was written"
    return code_from_text(message.body)


def sign_in(client: Client, workspace, destination: str, *, code_of) -> None:
    """Ask for a code for ``destination`` and enter it; ``code_of()`` reads the code that
    was sent (from the mail server or the SMS outbox)."""
    response = client.post(portal_url(workspace, "sign_in"), {"destination": destination})
    assert response.status_code == 200, response.content.decode()[:500]
    response = client.post(
        portal_url(workspace, "sign_in_code"), {"destination": destination, "code": code_of()}
    )
    assert response.status_code == 302, response.content.decode()[:800]
