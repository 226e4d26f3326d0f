"""Adapters to the outside: the SMS and telephony providers each workspace has configured,
and every SMS in or out (one row each, with a state and an idempotency key, so a crash
sends no message twice)."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


class ProviderKind(models.TextChoices):
    SMS = "sms", _("SMS")
    TELEPHONY = "telephony", _("Telephony")


def _public_key() -> str:
    return secrets.token_urlsafe(12)


def _secret() -> str:
    return secrets.token_urlsafe(32)


class ProviderAccount(WorkspaceModel):
    """A workspace's provider for SMS or telephony: ``console`` (development: messages go
    to the log and the outbox) or ``webhook`` (the generic shape cloud providers use: we
    POST to its URL, it POSTs events to ours, both signed with the shared secret)."""

    kind = models.CharField(_("kind"), max_length=10, choices=ProviderKind.choices)
    provider = models.CharField(_("provider"), max_length=30, default="console")
    # In the URL the provider calls (/hooks/<kind>/<public_key>/): says which workspace.
    public_key = models.CharField(max_length=32, default=_public_key, unique=True)
    secret = models.CharField(max_length=64, default=_secret)
    # Provider settings: the outbound URL, sender number, account ids…
    options = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("provider account")
        verbose_name_plural = _("provider accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind"],
                condition=models.Q(active=True),
                name="provideraccount_active_unique",
            )
        ]


class SmsDirection(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class SmsState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    # Claimed by a worker and handed to the provider: a row left here by a dead worker is
    # never sent again (the sweeper marks it failed), so no message goes twice.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    RECEIVED = "received", _("Received")


class SmsMessage(WorkspaceModel):
    direction = models.CharField(_("direction"), max_length=3, choices=SmsDirection.choices)
    state = models.CharField(_("state"), max_length=10, choices=SmsState.choices)
    phone = models.CharField(_("phone"), max_length=32)  # the other side, E.164
    body = models.TextField(_("text"))
    purpose = models.CharField(_("purpose"), max_length=40, blank=True)
    # Unique per workspace for outgoing messages: the same key never sends twice.
    idempotency_key = models.CharField(max_length=120, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # What it is about (a case, a survey), by generic reference.
    related_object_key = models.CharField(max_length=60, blank=True)
    related_object_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="sms_idempotency_unique",
            ),
            models.UniqueConstraint(
                fields=["workspace", "provider", "provider_message_id"],
                condition=models.Q(direction="in") & ~models.Q(provider_message_id=""),
                name="sms_inbound_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "state", "id"], name="sms_ws_state"),
            models.Index(fields=["workspace", "phone", "-id"], name="sms_ws_phone"),
            # The outbox and the inbox, newest first.
            models.Index(fields=["workspace", "direction", "-id"], name="sms_ws_direction"),
        ]
