"""Fixtures of the integrations tests: a provider's HTTP server on loopback and an SMS
account that sends to it."""

from __future__ import annotations

import pytest

from .http_provider import ProviderServer


@pytest.fixture
def provider_server():
    server = ProviderServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook_account(workspace, provider_server):
    from guanxi.integrations.models import ProviderAccount, ProviderKind

    account = ProviderAccount.objects.create(
        workspace=workspace,
        kind=ProviderKind.SMS,
        provider="webhook",
        options={"send_url": provider_server.url},
    )
    provider_server.secret = account.secret
    return account
