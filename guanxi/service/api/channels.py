"""``/service/sms`` (the SMS outbox and inbox, a test text) and ``/service/channels`` (the
SMS provider, the inbound settings). All need the service configuration right: reading to
see, updating to change or send; another workspace's rows are simply not there."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.views import actor_scope
from guanxi.integrations import sms
from guanxi.integrations.models import SmsDirection, SmsState
from guanxi.platform import mail, permissions
from guanxi.platform.models import Action

from ..objects import CONFIGURATION
from ..selectors import channels as selectors
from ..services import channels as services

router = Router()
TAGS = ["Service channels"]

DirectionName = Literal[tuple(SmsDirection.values)]  # type: ignore[valid-type]
StateName = Literal[tuple(SmsState.values)]  # type: ignore[valid-type]


# --- schemas -----------------------------------------------------------------------------------


class SmsOut(Schema):
    id: int
    direction: DirectionName = Field(..., description="`out`: we sent it; `in`: received.")
    state: StateName = Field(
        ...,
        description="Outgoing: queued → sending → sent or failed (a failed text is never "
        "sent again by itself). Incoming: received.",
    )
    phone: str = Field(..., description="The other side's number, E.164.")
    body: str
    purpose: str = Field(..., description="What it was for: case_ack, case_reply, portal_code…")
    provider: str
    provider_message_id: str
    error: str
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None = Field(..., description="Sent, or received.")
    case_id: int | None = Field(..., description="The case it is about, if any.")


class SmsListParams(Schema):
    direction: DirectionName = "out"
    state: StateName | None = None
    phone: str | None = Field(None, max_length=40, description="Any form; matched as E.164.")


class TestSmsIn(Schema):
    phone: bounded_text(40)
    body: bounded_text(sms.BODY_MAX) = Field("", description="Empty: a standard test text.")


class ProviderOut(Schema):
    configured: bool = Field(..., description="False: no account yet, texts go to the console.")
    provider: str = Field(..., description="`console` or `webhook` (or one from settings).")
    send_url: str
    sender: str
    webhook_url: str = Field(..., description="Where the gateway POSTs incoming texts.")
    secret: str = Field(
        ..., description="The shared secret; empty unless you may change the configuration."
    )


class ProviderIn(Schema):
    provider: bounded_text(30)
    send_url: bounded_text(services.SEND_URL_MAX) = ""
    sender: bounded_text(services.SENDER_MAX) = ""


class ChannelSettingsOut(Schema):
    case_mailbox_ids: list[int] = Field(
        ..., description="Mailboxes whose every new message opens a case."
    )
    inbound_case_type_id: int | None = Field(
        ..., description="Type of cases from e-mail and SMS; null: the inquiry type."
    )
    sms_thread_days: int = Field(..., description="Days a text joins the sender's open case.")


class ChannelSettingsIn(Schema):
    case_mailbox_ids: list[Id] = Field(default_factory=list, max_length=100)
    inbound_case_type_id: Id | None = None
    sms_thread_days: int = Field(14, ge=1, le=services.THREAD_DAYS_MAX)


# --- helpers -----------------------------------------------------------------------------------


def sms_out(m) -> dict:
    return {
        "id": m.pk,
        "direction": m.direction,
        "state": m.state,
        "phone": m.phone,
        "body": m.body,
        "purpose": m.purpose,
        "provider": m.provider,
        "provider_message_id": m.provider_message_id,
        "error": m.error,
        "attempts": m.attempts,
        "created_at": m.created_at,
        "sent_at": m.sent_at,
        "case_id": m.related_object_id if m.related_object_key == "service.case" else None,
    }


def _provider_out(request, account) -> dict:
    if account is None:
        return {
            "configured": False,
            "provider": "console",
            "send_url": "",
            "sender": "",
            "webhook_url": "",
            "secret": "",
        }
    options = account.options or {}
    may_change = permissions.can(request.user, CONFIGURATION, Action.UPDATE)
    return {
        "configured": True,
        "provider": account.provider,
        "send_url": options.get("send_url", ""),
        "sender": options.get("sender", ""),
        "webhook_url": mail.absolute_url(reverse("hooks:sms_inbound", args=[account.public_key])),
        "secret": account.secret if may_change else "",
    }


def _settings_out(row) -> dict:
    return {
        "case_mailbox_ids": [int(pk) for pk in row.case_mailbox_ids or []],
        "inbound_case_type_id": row.inbound_case_type_id,
        "sms_thread_days": row.sms_thread_days,
    }


# --- SMS -------------------------------------------------------------------------------------


@router.get(
    "/service/sms",
    response=documented(page_of(SmsOut)),
    tags=TAGS,
    operation_id="service_sms_list",
    summary="List texts sent (the outbox) or received (the inbox), newest first",
)
def sms_list(request, filters: Query[SmsListParams], page: Query[PageParams]):
    phone = sms.phone_e164(filters.phone or "") or ("+" if filters.phone else "")
    qs = selectors.sms_messages(
        **actor_scope(request),
        direction=filters.direction,
        state=filters.state or "",
        phone=phone,
    )
    return page_response(qs, page, sms_out, descending=True)


@router.get(
    "/service/sms/{sms_id}",
    response=documented(SmsOut),
    tags=TAGS,
    operation_id="service_sms_get",
    summary="One text",
)
def sms_get(request, sms_id: Id):
    return sms_out(selectors.sms_get(**actor_scope(request), sms_id=sms_id))


@router.post(
    "/service/channels/sms-test",
    response=documented(SmsOut, status=201),
    tags=TAGS,
    operation_id="service_sms_test",
    summary="Send a test text through the configured provider",
)
def sms_test(request, payload: TestSmsIn):
    message = services.sms_test_send(**actor_scope(request), phone=payload.phone, body=payload.body)
    return Status(201, sms_out(message))


# --- configuration -----------------------------------------------------------------------------


@router.get(
    "/service/channels/sms-provider",
    response=documented(ProviderOut),
    tags=TAGS,
    operation_id="service_sms_provider_get",
    summary="The SMS provider, and the webhook address and secret to give the gateway",
)
def provider_get(request):
    return _provider_out(request, services.sms_provider(**actor_scope(request)))


@router.put(
    "/service/channels/sms-provider",
    response=documented(ProviderOut),
    tags=TAGS,
    operation_id="service_sms_provider_update",
    summary="Choose the SMS provider (console or webhook with its address)",
)
def provider_update(request, payload: ProviderIn):
    account = services.sms_provider_update(**actor_scope(request), **payload.dict())
    return _provider_out(request, account)


@router.post(
    "/service/channels/sms-provider/secret",
    response=documented(ProviderOut),
    tags=TAGS,
    operation_id="service_sms_provider_rotate_secret",
    summary="Make a new shared secret (the old one stops working at once)",
)
def provider_rotate_secret(request):
    account = services.sms_provider_rotate_secret(**actor_scope(request))
    return _provider_out(request, account)


@router.get(
    "/service/channels/settings",
    response=documented(ChannelSettingsOut),
    tags=TAGS,
    operation_id="service_channel_settings_get",
    summary="Which mailboxes open cases; the type of cases from e-mail and SMS",
)
def settings_get(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return _settings_out(services.channel_settings(request.workspace))


@router.put(
    "/service/channels/settings",
    response=documented(ChannelSettingsOut),
    tags=TAGS,
    operation_id="service_channel_settings_update",
    summary="Change which mailboxes open cases, the inbound case type and the SMS thread days",
)
def settings_update(request, payload: ChannelSettingsIn):
    row = services.channel_settings_update(
        **actor_scope(request),
        values={
            "case_mailbox_ids": payload.case_mailbox_ids,
            "inbound_case_type": payload.inbound_case_type_id,
            "sms_thread_days": payload.sms_thread_days,
        },
    )
    return _settings_out(row)
