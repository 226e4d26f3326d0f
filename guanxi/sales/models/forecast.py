"""Quotas: what a rep or a team should sell in a period (in the base currency)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class Quota(WorkspaceModel):
    user = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "platform.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("quota"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="quota_user_or_team",
            ),
            models.UniqueConstraint(
                fields=["workspace", "user", "period_kind", "period_start"],
                name="quota_user_period_unique",
                condition=Q(user__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["workspace", "team", "period_kind", "period_start"],
                name="quota_team_period_unique",
                condition=Q(team__isnull=False),
            ),
        ]
        indexes = [
            models.Index(
                fields=["workspace", "period_kind", "period_start"], name="quota_ws_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_label}: {self.user or self.team}"

    @property
    def period_label(self) -> str:
        """``2026``, ``2026-Q4`` or ``2026-11``: the period as the pages and the API name it."""
        start = self.period_start
        if self.period_kind == PeriodKind.YEAR:
            return str(start.year)
        if self.period_kind == PeriodKind.QUARTER:
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        return f"{start.year}-{start.month:02d}"
