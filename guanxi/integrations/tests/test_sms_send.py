"""Sending texts: one row per idempotency key, one provider call per row, never a second
send after a crash; the webhook provider end to end against a local HTTP server that checks
the signature."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone

from guanxi.common.errors import ApplicationError
from guanxi.integrations import sms
from guanxi.integrations.models import SmsDirection, SmsMessage, SmsState


def _rows(workspace):
    return SmsMessage.objects.in_workspace(workspace)


@pytest.mark.django_db
def test_phone_numbers_are_normalised_to_e164(workspace):
    assert sms.phone_e164("138 1234 5678") == "+8613812345678"
    assert sms.phone_e164("+86 138-1234-5678") == "+8613812345678"
    assert sms.phone_e164("+44 20 7946 0958") == "+442079460958"
    assert sms.phone_e164("12345") is None
    assert sms.phone_e164("") is None
    with pytest.raises(ApplicationError) as caught:
        sms.sms_send(
            workspace=workspace, phone="not a number", body="hi", purpose="t", idempotency_key="k"
        )
    assert "phone" in caught.value.fields
    assert not _rows(workspace).exists()


@pytest.mark.django_db
def test_bad_text_and_missing_key_are_refused(workspace):
    for body in ("", "   ", "x" * (sms.BODY_MAX + 1), "a\x00b"):
        with pytest.raises(ApplicationError) as caught:
            sms.sms_send(
                workspace=workspace,
                phone="13812345678",
                body=body,
                purpose="t",
                idempotency_key=f"k{len(body)}",
            )
        assert "body" in caught.value.fields
    with pytest.raises(ApplicationError):
        sms.sms_send(
            workspace=workspace, phone="13812345678", body="hi", purpose="t", idempotency_key=""
        )
    assert not _rows(workspace).exists()


@pytest.mark.django_db
def test_console_provider_logs_and_marks_sent(
    workspace, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="guanxi.integrations.sms")
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            workspace=workspace,
            phone="138 1234 5678",
            body="您的工单 CS-2026-000001 已受理",
            purpose="case_ack",
            idempotency_key="ack:1",
            related=("service.case", 1),
        )
    message.refresh_from_db()
    assert message.state == SmsState.SENT
    assert message.direction == SmsDirection.OUTBOUND
    assert message.phone == "+8613812345678"
    assert message.provider == "console"
    assert message.attempts == 1
    assert message.sent_at is not None
    assert (message.related_object_key, message.related_object_id) == ("service.case", 1)
    assert "CS-2026-000001" in caplog.text


@pytest.mark.django_db
def test_same_key_one_row_one_provider_call(
    workspace, webhook_account, provider_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = sms.sms_send(
            workspace=workspace,
            phone="13812345678",
            body="code 123456",
            purpose="portal_code",
            idempotency_key="portal:42",
        )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = sms.sms_send(
            workspace=workspace,
            phone="13999999999",  # whatever else differs, the key decides
            body="code 999999",
            purpose="portal_code",
            idempotency_key="portal:42",
        )
    assert again.pk == first.pk
    assert callbacks == []
    assert _rows(workspace).count() == 1
    assert len(provider_server.requests) == 1
    # Running the task again (a duplicate enqueue) sends nothing more.
    assert sms.deliver(first.pk) == "skipped"
    assert len(provider_server.requests) == 1


@pytest.mark.django_db
def test_long_keys_stay_idempotent(workspace, django_capture_on_commit_callbacks):
    key = "survey:" + "x" * 300
    with django_capture_on_commit_callbacks(execute=True):
        first = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="s", idempotency_key=key
        )
        second = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="s", idempotency_key=key
        )
    assert first.pk == second.pk
    assert first.idempotency_key.startswith("sha256:")


@pytest.mark.django_db
def test_keys_are_per_workspace(workspace, other_workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mine = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="s", idempotency_key="k"
        )
        theirs = sms.sms_send(
            workspace=other_workspace,
            phone="13812345678",
            body="a",
            purpose="s",
            idempotency_key="k",
        )
    assert mine.pk != theirs.pk
    assert theirs.workspace_id == other_workspace.pk


@pytest.mark.django_db
def test_webhook_provider_end_to_end(
    workspace, webhook_account, provider_server, django_capture_on_commit_callbacks
):
    webhook_account.options = {**webhook_account.options, "sender": "GUANXI"}
    webhook_account.save()
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            workspace=workspace,
            phone="+86 138 1234 5678",
            body="您好",
            purpose="test",
            idempotency_key="t1",
        )
    message.refresh_from_db()
    assert message.state == SmsState.SENT
    assert message.provider == "webhook"
    assert message.provider_message_id == "gw-1"
    [(_headers, payload, signature_ok)] = provider_server.requests
    assert signature_ok
    assert payload == {
        "to": "+8613812345678",
        "text": "您好",
        "id": str(message.pk),
        "from": "GUANXI",
    }


@pytest.mark.django_db
def test_webhook_provider_with_the_wrong_secret_fails(
    workspace, webhook_account, provider_server, django_capture_on_commit_callbacks
):
    provider_server.secret = "not-the-account-secret"
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="t", idempotency_key="t"
        )
    message.refresh_from_db()
    assert message.state == SmsState.FAILED
    assert "401" in message.error
    assert len(provider_server.requests) == 1  # a refusal is final: not tried again


@pytest.mark.django_db
def test_busy_gateway_is_retried_then_sent(
    workspace, webhook_account, provider_server, django_capture_on_commit_callbacks
):
    provider_server.status = 503
    with django_capture_on_commit_callbacks(execute=False):
        message = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="t", idempotency_key="t"
        )
    with pytest.raises(sms.SmsNotSent):
        sms.deliver(message.pk, retries_left=2)
    message.refresh_from_db()
    assert message.state == SmsState.QUEUED
    provider_server.status = 200
    assert sms.deliver(message.pk, retries_left=1) == SmsState.SENT
    assert len(provider_server.requests) == 2
    message.refresh_from_db()
    assert message.attempts == 2


@pytest.mark.django_db
def test_unreachable_gateway_fails_after_the_last_try(
    workspace, django_capture_on_commit_callbacks
):
    from guanxi.common.tests.smtp import free_port
    from guanxi.integrations.models import ProviderAccount, ProviderKind

    ProviderAccount.objects.create(
        workspace=workspace,
        kind=ProviderKind.SMS,
        provider="webhook",
        options={"send_url": f"http://127.0.0.1:{free_port()}/send"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="t", idempotency_key="t"
        )
    message.refresh_from_db()
    # Huey ran it with its retries (immediate mode); each try found nobody listening.
    assert message.state == SmsState.FAILED
    assert "could not be reached" in message.error
    assert message.attempts == 4


class ExplodingProvider(sms.SmsProvider):
    """A provider whose connection dies after the text went out: the row must not be sent
    again."""

    name = "exploding"
    calls = 0

    def send(self, message):
        type(self).calls += 1
        raise ConnectionResetError("peer went away")


@pytest.mark.django_db
def test_provider_crash_mid_send_is_never_retried(
    workspace, settings, django_capture_on_commit_callbacks
):
    from guanxi.integrations.models import ProviderAccount, ProviderKind

    settings.SMS_PROVIDERS = {"exploding": f"{__name__}.ExplodingProvider"}
    ProviderAccount.objects.create(workspace=workspace, kind=ProviderKind.SMS, provider="exploding")
    ExplodingProvider.calls = 0
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="t", idempotency_key="t"
        )
    message.refresh_from_db()
    assert message.state == SmsState.FAILED
    assert "may have been delivered" in message.error
    assert ExplodingProvider.calls == 1
    sms.sweep(now=timezone.now() + dt.timedelta(hours=1))
    assert sms.deliver(message.pk, retries_left=3) == "skipped"
    assert ExplodingProvider.calls == 1


@pytest.mark.django_db
def test_crash_between_claim_and_provider_sends_nothing_twice(
    workspace, webhook_account, provider_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        message = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="t", idempotency_key="t"
        )
    # A worker claims the row and dies before (or while) talking to the provider.
    assert sms._claim(message.pk) is not None
    message.refresh_from_db()
    assert message.state == SmsState.SENDING
    # The task run again, or a second worker: the row is not queued, nothing is sent.
    assert sms.deliver(message.pk, retries_left=3) == "skipped"
    # The sweeper, before the row counts as stuck, leaves it; after, fails it — never resends.
    assert sms.sweep() == {"failed": [], "requeued": []}
    later = timezone.now() + sms.STUCK_AFTER + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = sms.sweep(now=later)
    assert result == {"failed": [message.pk], "requeued": []}
    message.refresh_from_db()
    assert message.state == SmsState.FAILED
    assert "may not have been sent" in message.error
    assert sms.deliver(message.pk) == "skipped"
    assert provider_server.requests == []


@pytest.mark.django_db
def test_sweeper_requeues_a_lost_task_and_it_is_sent_once(
    workspace, webhook_account, provider_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the enqueue is lost
        message = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="t", idempotency_key="t"
        )
    assert sms.sweep() == {"failed": [], "requeued": []}  # not old enough yet
    later = timezone.now() + sms.REQUEUE_AFTER + dt.timedelta(minutes=1)
    result = sms.sweep(now=later)  # Huey immediate: the re-enqueued task runs at once
    assert result == {"failed": [], "requeued": [message.pk]}
    message.refresh_from_db()
    assert message.state == SmsState.SENT
    assert sms.sweep(now=later + dt.timedelta(hours=1)) == {"failed": [], "requeued": []}
    assert len(provider_server.requests) == 1


@pytest.mark.django_db
def test_unknown_provider_fails_the_message(workspace, django_capture_on_commit_callbacks):
    from guanxi.integrations.models import ProviderAccount, ProviderKind

    ProviderAccount.objects.create(workspace=workspace, kind=ProviderKind.SMS, provider="nope")
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="t", idempotency_key="t"
        )
    message.refresh_from_db()
    assert message.state == SmsState.FAILED
    assert "unknown SMS provider" in message.error


@pytest.mark.django_db
def test_an_inactive_account_means_console(workspace, django_capture_on_commit_callbacks):
    from guanxi.integrations.models import ProviderAccount, ProviderKind

    ProviderAccount.objects.create(
        workspace=workspace, kind=ProviderKind.SMS, provider="webhook", active=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = sms.sms_send(
            workspace=workspace, phone="13812345678", body="a", purpose="t", idempotency_key="t"
        )
    message.refresh_from_db()
    assert (message.state, message.provider) == (SmsState.SENT, "console")
