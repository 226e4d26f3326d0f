"""The channels pages: the channel settings (SMS provider, its webhook address and secret, a
test text, the mailboxes that open cases) and the SMS outbox and inbox; fixed query counts,
another workspace's rows never shown, users without the right refused."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.integrations import sms
from guanxi.integrations.models import ProviderAccount, SmsMessage
from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import ChannelSettings

from .cases_support import *  # noqa: F403
from .channels_support import *  # noqa: F403

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(service_ws):
    return UserFactory(workspace=service_ws, role_code="administrator")


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
        assert response.status_code == 200, response.content[:500]
    return len(ctx)


def _send(workspace, n, *, start=0, phone="+8613812345678"):
    for i in range(start, start + n):
        sms.sms_send(
            workspace=workspace, phone=phone, body=f"短信{i}", purpose="t", idempotency_key=f"k{i}"
        )


def test_settings_page_without_a_provider(admin):
    response = client_for(admin).get(reverse("service:channel_settings"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "sms-webhook-url" not in page
    assert 'name="provider"' in page and 'name="case_mailbox_ids"' not in page  # no mailboxes


def test_choose_the_webhook_provider(admin, service_ws):
    client = client_for(admin)
    url = reverse("service:channel_provider_save")
    response = client.post(url, {"provider": "webhook", "send_url": ""})
    assert response.status_code == 400
    assert "Enter the address the gateway takes messages at." in response.content.decode()
    assert not ProviderAccount.objects.in_workspace(service_ws).exists()
    response = client.post(url, {"provider": "webhook", "send_url": "ftp://x"})
    assert response.status_code == 400
    response = client.post(
        url, {"provider": "webhook", "send_url": "https://gw.example.com/send", "sender": "GX"}
    )
    assert response.status_code == 302
    account = ProviderAccount.objects.in_workspace(service_ws).get()
    assert account.provider == "webhook"
    assert account.options == {"send_url": "https://gw.example.com/send", "sender": "GX"}
    page = client.get(reverse("service:channel_settings")).content.decode()
    assert f"/hooks/sms/{account.public_key}/" in page
    assert account.secret in page
    # A new secret.
    old = account.secret
    assert client.post(reverse("service:channel_secret_rotate")).status_code == 302
    account.refresh_from_db()
    assert account.secret != old


def test_a_read_only_role_sees_no_secret_and_changes_nothing(service_ws, admin, agent):
    client_for(admin).post(
        reverse("service:channel_provider_save"),
        {"provider": "webhook", "send_url": "https://gw.example.com/send"},
    )
    account = ProviderAccount.objects.in_workspace(service_ws).get()
    client = client_for(agent)  # service agents may read the service configuration
    page = client.get(reverse("service:channel_settings"))
    assert page.status_code == 200
    assert account.secret not in page.content.decode()
    for name, data in (
        ("service:channel_provider_save", {"provider": "console"}),
        ("service:channel_provider_save", {"provider": "nonsense"}),
        ("service:channel_secret_rotate", {}),
        ("service:channel_test_sms", {"phone": "13812345678"}),
        ("service:channel_inbound_save", {"sms_thread_days": "3"}),
    ):
        assert client.post(reverse(name), data).status_code == 403, name
    account.refresh_from_db()
    assert account.provider == "webhook"
    assert not SmsMessage.objects.in_workspace(service_ws).exists()
    assert not ChannelSettings.objects.in_workspace(service_ws).exists()


def test_users_without_the_right_are_refused(nobody):
    client = client_for(nobody)
    for name in ("service:channel_settings", "service:sms_list"):
        assert client.get(reverse(name)).status_code == 403, name
    assert (
        client.post(reverse("service:channel_test_sms"), {"phone": "13812345678"}).status_code
        == 403
    )


def test_anonymous_visitors_sign_in_first(client):
    response = client.get(reverse("service:sms_list"))
    assert response.status_code == 302


def test_send_a_test_sms(admin, service_ws, django_capture_on_commit_callbacks):
    client = client_for(admin)
    url = reverse("service:channel_test_sms")
    response = client.post(url, {"phone": "12345"})
    assert response.status_code == 400
    assert "is not a valid phone number" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"phone": "138 1234 5678", "body": ""})
    assert response.status_code == 302
    message = SmsMessage.objects.in_workspace(service_ws).get()
    assert (message.phone, message.purpose, message.state) == ("+8613812345678", "test", "sent")
    assert service_ws.name in message.body
    listing = client.get(response["Location"]).content.decode()
    assert message.body[:20] in listing


def test_choose_the_mailboxes_that_open_cases(admin, service_ws, mailbox, other_workspace):
    from guanxi.activities.models import Mailbox

    theirs = Mailbox.objects.create(
        workspace=other_workspace, name="x", address="x@x.com", host="h", username="u", password="p"
    )
    client = client_for(admin)
    page = client.get(reverse("service:channel_settings")).content.decode()
    assert "support@crm.example.com" in page and "x@x.com" not in page
    url = reverse("service:channel_inbound_save")
    response = client.post(url, {"case_mailbox_ids": [theirs.pk], "sms_thread_days": "14"})
    assert response.status_code == 400
    response = client.post(url, {"case_mailbox_ids": [mailbox.pk], "sms_thread_days": "0"})
    assert response.status_code == 400
    response = client.post(url, {"case_mailbox_ids": [mailbox.pk], "sms_thread_days": "7"})
    assert response.status_code == 302
    row = ChannelSettings.objects.in_workspace(service_ws).get()
    assert (row.case_mailbox_ids, row.sms_thread_days) == ([mailbox.pk], 7)


def test_sms_list_fixed_queries_and_pages(admin, service_ws, other_workspace):
    client = client_for(admin)
    url = reverse("service:sms_list")
    _send(service_ws, 3)
    client.get(url)  # the first request of a session warms its caches
    few = _count(client, url)
    _send(service_ws, 60, start=3)
    many = _count(client, url)
    assert few == many
    page = client.get(url).content.decode()
    assert "短信62" in page and "短信12" not in page  # newest first, 50 a page
    assert "hx-get" in page
    cursor = page.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
    rows = client.get(f"{url}?direction=out&cursor={cursor}", headers={"HX-Request": "true"})
    assert "短信12" in rows.content.decode() and "<table" not in rows.content.decode()
    # Another workspace's texts are not here; theirs show only there.
    _send(other_workspace, 1, start=900)
    assert "短信900" not in client.get(url).content.decode()


def test_sms_list_inbox_and_filters(admin, service_ws):
    account = ProviderAccount.objects.create(workspace=service_ws, kind="sms", provider="console")
    sms.sms_receive(
        account=account, sender="13900001111", text="收到的短信", provider_message_id="a"
    )
    _send(service_ws, 1)
    client = client_for(admin)
    url = reverse("service:sms_list")
    inbox = client.get(url, {"direction": "in"}).content.decode()
    assert "收到的短信" in inbox and "短信0" not in inbox
    outbox = client.get(url, {"direction": "out", "state": "queued"}).content.decode()
    assert "短信0" in outbox
    assert "短信0" not in client.get(url, {"direction": "out", "state": "sent"}).content.decode()
    assert "短信0" in client.get(url, {"phone": "138 1234 5678"}).content.decode()
    assert "短信0" not in client.get(url, {"phone": "139 0000 1111"}).content.decode()


def test_settings_page_fixed_queries(admin, service_ws, mailbox):
    client = client_for(admin)
    url = reverse("service:channel_settings")
    client.get(url)
    before = _count(client, url)
    from guanxi.activities.models import Mailbox

    for i in range(5):
        Mailbox.objects.create(
            workspace=service_ws,
            name=f"m{i}",
            address=f"m{i}@x.com",
            host="h",
            username="u",
            password="p",
        )
    assert _count(client, url) == before
