"""The inbound SMS webhook: signed requests only, each provider message stored once, handed
to the registered handlers; another workspace's key posts into that workspace only."""

from __future__ import annotations

import time

import pytest

from guanxi.integrations import sms
from guanxi.integrations.models import ProviderAccount, ProviderKind, SmsMessage, SmsState

from .sms_hooks import post_inbound


@pytest.fixture
def account(workspace):
    return ProviderAccount.objects.create(
        workspace=workspace, kind=ProviderKind.SMS, provider="webhook"
    )


@pytest.fixture
def other_account(other_workspace):
    return ProviderAccount.objects.create(
        workspace=other_workspace, kind=ProviderKind.SMS, provider="webhook"
    )


@pytest.fixture
def seen():
    """A registered inbound handler that records what it was given."""
    got: list[SmsMessage] = []

    def handler(message):
        got.append(message)
        sms.sms_link(message, object_key="test.thing", object_id=7)
        return True

    sms.register_inbound_handler("test.recorder", handler, order=1)
    yield got
    sms.unregister_inbound_handler("test.recorder")


def _inbound(workspace):
    return SmsMessage.objects.in_workspace(workspace).filter(direction="in")


@pytest.mark.django_db
def test_valid_message_is_stored_and_handed_over(client, workspace, account, seen):
    response = post_inbound(client, account, sender="138 1234 5678", text="打印机坏了")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "stored"
    [message] = _inbound(workspace)
    assert message.phone == "+8613812345678"
    assert message.body == "打印机坏了"
    assert message.state == SmsState.RECEIVED
    assert message.provider == "webhook"
    assert [m.pk for m in seen] == [message.pk]
    assert (message.related_object_key, message.related_object_id) == ("test.thing", 7)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {"signature": ""},  # none
        {"signature": "sha256=" + "0" * 64},  # made up
        {"secret": "someone-elses-secret"},  # signed with the wrong secret
        {"signature": "md5=abc"},
    ],
)
def test_bad_or_missing_signature_is_refused_and_nothing_stored(
    client, workspace, account, seen, kwargs
):
    response = post_inbound(client, account, sender="13812345678", text="hi", **kwargs)
    assert response.status_code == 401
    assert not _inbound(workspace).exists()
    assert seen == []


@pytest.mark.django_db
def test_a_tampered_body_is_refused(client, workspace, account, seen):
    from guanxi.integrations import signatures

    signed = b'{"from": "13812345678", "text": "hi", "id": "1"}'
    response = post_inbound(
        client,
        account,
        sender="",
        text="",
        body=b'{"from": "13812345678", "text": "HI", "id": "1"}',
        signature=signatures.sign(account.secret, signed),
    )
    assert response.status_code == 401
    assert not _inbound(workspace).exists()


@pytest.mark.django_db
def test_old_requests_are_refused(client, workspace, account, seen):
    response = post_inbound(
        client, account, sender="13812345678", text="hi", timestamp=time.time() - 6 * 60
    )
    assert response.status_code == 401
    assert not _inbound(workspace).exists()


@pytest.mark.django_db
def test_an_old_signed_body_with_a_fresh_header_is_refused(client, workspace, account, seen):
    import json

    from guanxi.integrations import signatures

    body = json.dumps(
        {"from": "13812345678", "text": "hi", "id": "x1", "timestamp": int(time.time()) - 3600}
    ).encode()
    response = post_inbound(client, account, sender="", text="", body=body)
    assert response.status_code == 401
    assert signatures.timestamp_fresh(int(time.time()))
    assert not _inbound(workspace).exists()


@pytest.mark.django_db
def test_replay_of_the_same_provider_id_is_ignored(client, workspace, account, seen):
    first = post_inbound(client, account, sender="13812345678", text="hi", message_id="abc")
    again = post_inbound(client, account, sender="13812345678", text="hi", message_id="abc")
    assert first.status_code == again.status_code == 200
    assert again.json() == {"status": "duplicate", "id": first.json()["id"]}
    assert _inbound(workspace).count() == 1
    assert len(seen) == 1


@pytest.mark.django_db
def test_unknown_or_inactive_key_is_not_found(client, workspace, account, seen):
    response = post_inbound(
        client, account, sender="13812345678", text="hi", public_key="no-such-key"
    )
    assert response.status_code == 404
    account.active = False
    account.save()
    response = post_inbound(client, account, sender="13812345678", text="hi")
    assert response.status_code == 404
    assert not _inbound(workspace).exists()


@pytest.mark.django_db
def test_a_telephony_key_is_no_sms_key(client, workspace, seen):
    telephony = ProviderAccount.objects.create(
        workspace=workspace, kind=ProviderKind.TELEPHONY, provider="webhook"
    )
    response = post_inbound(client, telephony, sender="13812345678", text="hi")
    assert response.status_code == 404


@pytest.mark.django_db
def test_another_workspaces_key_posts_only_into_that_workspace(
    client, workspace, other_workspace, account, other_account, seen
):
    # Our secret on their key: refused.
    response = post_inbound(
        client,
        account,
        sender="13812345678",
        text="hi",
        public_key=other_account.public_key,
    )
    assert response.status_code == 401
    # Their key with their secret: lands in their workspace, never in ours.
    response = post_inbound(client, other_account, sender="13812345678", text="hi")
    assert response.status_code == 200
    assert not _inbound(workspace).exists()
    assert _inbound(other_workspace).count() == 1
    assert seen[0].workspace_id == other_workspace.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"text": "no sender", "id": "1"}',
        b'{"from": "138", "id": "1"}',
        b'{"from": "13812345678", "text": "no id"}',
    ],
)
def test_malformed_but_signed_bodies_are_bad_requests(client, workspace, account, seen, body):
    response = post_inbound(client, account, sender="", text="", body=body)
    assert response.status_code == 400
    assert not _inbound(workspace).exists()


@pytest.mark.django_db
def test_get_is_not_allowed(client, account):
    from django.urls import reverse

    response = client.get(reverse("hooks:sms_inbound", args=[account.public_key]))
    assert response.status_code == 405


@pytest.mark.django_db
def test_a_handler_that_refuses_leaves_the_message_stored(client, workspace, account):
    from guanxi.common.errors import ApplicationError

    def refusing(message):
        raise ApplicationError("no")

    sms.register_inbound_handler("test.refusing", refusing, order=1)
    try:
        response = post_inbound(client, account, sender="13812345678", text="hi")
    finally:
        sms.unregister_inbound_handler("test.refusing")
    assert response.status_code == 200
    assert _inbound(workspace).count() == 1


@pytest.mark.django_db
def test_a_short_code_sender_is_kept_as_given(client, workspace, account, seen):
    response = post_inbound(client, account, sender="10086", text="余额")
    assert response.status_code == 200
    assert _inbound(workspace).get().phone == "10086"
