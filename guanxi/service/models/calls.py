"""The call centre: telephony events received from the provider (each once), and the
screen pops they cause on an agent's open browser."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


class CallEventKind(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    DIALING = "dialing", _("Dialling out")


class CallEvent(WorkspaceModel):
    """One event of one call from the telephony provider. ``event_id`` makes a resent
    webhook a no-op."""

    provider = models.CharField(max_length=30)
    event_id = models.CharField(max_length=100)
    call_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=CallEventKind.choices)
    direction = models.CharField(max_length=3)  # "in" or "out"
    caller = models.CharField(max_length=32, blank=True)  # E.164 where it parses
    callee = models.CharField(max_length=32, blank=True)
    agent = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey(
        "customers.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    # The timeline entry the ended call was logged as.
    entry_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "event_id"], name="callevent_unique"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "call_id", "id"], name="callevent_ws_call"),
            models.Index(fields=["workspace", "agent", "-id"], name="callevent_ws_agent"),
        ]


class ScreenPop(WorkspaceModel):
    """ "Show this caller to this agent now": read by the agent's open page (server push)."""

    user = models.ForeignKey("platform.User", on_delete=models.CASCADE, related_name="+")
    call_id = models.CharField(max_length=100)
    caller = models.CharField(max_length=32, blank=True)
    account = models.ForeignKey(
        "customers.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Where the pop takes the agent (the 360° page, or the new-caller form).
    url = models.CharField(max_length=300)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("screen pop")
        verbose_name_plural = _("screen pops")
        indexes = [models.Index(fields=["workspace", "user", "-id"], name="screenpop_ws_user")]
