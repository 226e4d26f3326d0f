"""The workspace's sales settings, one row per workspace (made on first use)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


class SalesSettings(WorkspaceModel):
    # A quote whose discount on any line, or overall, is above this needs a manager's approval.
    discount_approval_percent = models.DecimalField(
        _("discount needing approval (%)"), max_digits=5, decimal_places=2, default=Decimal("10")
    )
    quote_valid_days = models.PositiveIntegerField(_("quotes valid for (days)"), default=30)
    # An open deal with no stage change and no activity for this long is flagged stale.
    stale_deal_days = models.PositiveIntegerField(_("deal is stale after (days)"), default=30)
    # A new lead should be answered within this many minutes (the first-response timer).
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), default=240
    )
    # Payment reminders: a task for the order's owner when an invoice is this many days late.
    payment_reminder_days = models.PositiveIntegerField(
        _("remind about late payment after (days)"), default=1
    )
    quote_number_prefix = models.CharField(_("quote number prefix"), max_length=10, default="Q")
    order_number_prefix = models.CharField(_("order number prefix"), max_length=10, default="SO")
    invoice_number_prefix = models.CharField(
        _("invoice number prefix"), max_length=10, default="INV"
    )

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="salessettings_one_per_workspace"),
        ]
