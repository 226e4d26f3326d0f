"""The channels API: the SMS list and one text, a test text, the SMS provider and the
inbound settings; bad input answered with the error shape and nothing written; another
workspace's rows are not there, users without the right are 403."""

from __future__ import annotations

import pytest

from guanxi.integrations import sms
from guanxi.integrations.models import ProviderAccount, SmsMessage
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token
from guanxi.service.models import CaseType, ChannelSettings

from .cases_support import *  # noqa: F403
from .channels_support import *  # noqa: F403

pytestmark = pytest.mark.django_db


def api_for(user) -> ApiClient:
    return ApiClient(make_token(user, scopes=["read", "write"]))


@pytest.fixture
def admin(service_ws):
    return UserFactory(workspace=service_ws, role_code="administrator")


def test_provider_get_and_update(admin, agent, service_ws):
    api = api_for(admin)
    body = api.get("/service/channels/sms-provider").json()
    assert body == {
        "configured": False,
        "provider": "console",
        "send_url": "",
        "sender": "",
        "webhook_url": "",
        "secret": "",
    }
    assert_error(api.put("/service/channels/sms-provider", {"provider": "webhook"}), 400, "invalid")
    assert_error(api.put("/service/channels/sms-provider", {"provider": "carrier-pigeon"}), 400)
    assert not ProviderAccount.objects.in_workspace(service_ws).exists()
    response = api.put(
        "/service/channels/sms-provider",
        {"provider": "webhook", "send_url": "https://gw.example.com/send", "sender": "GX"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    account = ProviderAccount.objects.in_workspace(service_ws).get()
    assert body["configured"] and body["secret"] == account.secret
    assert body["webhook_url"].endswith(f"/hooks/sms/{account.public_key}/")
    rotated = api.post("/service/channels/sms-provider/secret").json()
    assert rotated["secret"] != body["secret"]
    # A read-only role sees the settings without the secret and changes nothing.
    agent_api = api_for(agent)
    seen = agent_api.get("/service/channels/sms-provider").json()
    assert seen["configured"] and seen["secret"] == ""
    assert_error(agent_api.put("/service/channels/sms-provider", {"provider": "console"}), 403)
    assert_error(agent_api.post("/service/channels/sms-provider/secret"), 403)
    account.refresh_from_db()
    assert account.provider == "webhook" and account.secret == rotated["secret"]


def test_the_secret_is_never_in_the_audit_log(admin, service_ws):
    from guanxi.platform.models import AuditEntry

    api = api_for(admin)
    api.put(
        "/service/channels/sms-provider",
        {"provider": "webhook", "send_url": "https://gw.example.com/send"},
    )
    api.post("/service/channels/sms-provider/secret")
    secret = ProviderAccount.objects.in_workspace(service_ws).get().secret
    entries = AuditEntry.objects.filter(
        workspace=service_ws, object_key="integrations.provider_account"
    )
    assert entries.count() == 2
    assert all(secret not in str(e.changes) for e in entries)


def test_sms_test_and_list(admin, service_ws, other_admin, django_capture_on_commit_callbacks):
    api = api_for(admin)
    assert_error(api.post("/service/channels/sms-test", {"phone": "12"}), 400, "invalid_phone")
    assert_error(
        api.post("/service/channels/sms-test", {"phone": "13812345678", "body": "a\x00b"}), 422
    )
    assert not SmsMessage.objects.in_workspace(service_ws).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/service/channels/sms-test", {"phone": "13812345678", "body": "测试"})
    assert response.status_code == 201, response.content
    sent = response.json()
    assert (sent["phone"], sent["body"], sent["purpose"]) == ("+8613812345678", "测试", "test")
    assert api.get(f"/service/sms/{sent['id']}").json()["state"] == "sent"
    items = api.get("/service/sms").json()["items"]
    assert [m["id"] for m in items] == [sent["id"]]
    assert api.get("/service/sms", direction="in").json()["items"] == []
    assert api.get("/service/sms", phone="138 1234 5678").json()["items"][0]["id"] == sent["id"]
    assert api.get("/service/sms", phone="139 0000 0000").json()["items"] == []
    assert api.get("/service/sms", state="failed").json()["items"] == []
    assert_error(api.get("/service/sms", state="nonsense"), 422)
    # Another workspace: not there.
    other = api_for(other_admin)
    assert other.get("/service/sms").json()["items"] == []
    assert_error(other.get(f"/service/sms/{sent['id']}"), 404)


def test_sms_list_pages(admin, service_ws):
    for i in range(5):
        sms.sms_send(
            workspace=service_ws,
            phone="13812345678",
            body=f"{i}",
            purpose="t",
            idempotency_key=f"{i}",
        )
    api = api_for(admin)
    first = api.get("/service/sms", limit=3).json()
    assert [m["body"] for m in first["items"]] == ["4", "3", "2"]
    second = api.get("/service/sms", limit=3, cursor=first["next_cursor"]).json()
    assert [m["body"] for m in second["items"]] == ["1", "0"] and second["next_cursor"] is None


def test_channel_settings(admin, service_ws, mailbox, other_workspace):
    from guanxi.activities.models import Mailbox

    api = api_for(admin)
    assert api.get("/service/channels/settings").json() == {
        "case_mailbox_ids": [],
        "inbound_case_type_id": None,
        "sms_thread_days": 14,
    }
    theirs = Mailbox.objects.create(
        workspace=other_workspace, name="x", address="x@x.com", host="h", username="u", password="p"
    )
    assert_error(api.put("/service/channels/settings", {"case_mailbox_ids": [theirs.pk]}), 400)
    their_type = CaseType.objects.create(workspace=other_workspace, name="T", kind="fault")
    assert_error(
        api.put("/service/channels/settings", {"inbound_case_type_id": their_type.pk}), 400
    )
    assert_error(api.put("/service/channels/settings", {"sms_thread_days": 0}), 422)
    assert not ChannelSettings.objects.in_workspace(service_ws).exists()
    fault = CaseType.objects.in_workspace(service_ws).get(kind="fault")
    response = api.put(
        "/service/channels/settings",
        {"case_mailbox_ids": [mailbox.pk], "inbound_case_type_id": fault.pk, "sms_thread_days": 3},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "case_mailbox_ids": [mailbox.pk],
        "inbound_case_type_id": fault.pk,
        "sms_thread_days": 3,
    }


def test_users_without_the_right_are_refused(nobody, agent):
    api = api_for(nobody)
    for path in ("/service/sms", "/service/channels/sms-provider", "/service/channels/settings"):
        assert_error(api.get(path), 403)
    assert_error(api.post("/service/channels/sms-test", {"phone": "13812345678"}), 403)
    assert_error(api_for(agent).post("/service/channels/sms-test", {"phone": "13812345678"}), 403)
    assert_error(api_for(agent).put("/service/channels/settings", {"sms_thread_days": 3}), 403)
