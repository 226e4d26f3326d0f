"""How cases come in by e-mail and SMS: one row per workspace (made when first changed)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


class ChannelSettings(WorkspaceModel):
    """A workspace's inbound channels: which mailboxes turn every new message into a case
    (a support@ address), the type of cases opened from e-mail and SMS, and how long an
    open case keeps taking a customer's texts."""

    # activities' Mailbox ids (a list, so the row stays in this workspace; ids of mailboxes
    # since deleted are simply never matched).
    case_mailbox_ids = models.JSONField(_("mailboxes that open cases"), default=list, blank=True)
    # None: the workspace's first active type of kind "inquiry".
    inbound_case_type = models.ForeignKey(
        "service.CaseType",
        verbose_name=_("type of cases from e-mail and SMS"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sms_thread_days = models.PositiveSmallIntegerField(
        _("days a text joins the open case"), default=14
    )

    class Meta:
        verbose_name = _("channel settings")
        verbose_name_plural = _("channel settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="channelsettings_workspace_unique")
        ]
