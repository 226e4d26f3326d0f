"""Deals on pipelines: stages with their probabilities, amounts in a currency (and in the
base currency for forecasts), products, competitors, lost reasons and the stage history."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import OwnedModel, WorkspaceModel


class Pipeline(WorkspaceModel):
    name = models.CharField(_("name"), max_length=120)
    is_default = models.BooleanField(_("default"), default=False)
    order = models.PositiveIntegerField(_("sort order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        indexes = [models.Index(fields=["workspace", "order", "id"], name="pipeline_ws_order")]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", pgettext_lazy("deal stage kind", "Open")
    WON = "won", _("Won")
    LOST = "lost", pgettext_lazy("deal status", "Lost")


class ForecastCategory(models.TextChoices):
    OMITTED = "omitted", _("Omitted")
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")


class Stage(WorkspaceModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=80)
    order = models.PositiveIntegerField(_("sort order"))
    # Percent, 0–100: the weight of a deal in this stage in the weighted pipeline.
    probability = models.PositiveSmallIntegerField(_("probability (%)"))
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default="open")
    # The forecast category a deal takes when it enters this stage (the owner may change it).
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        indexes = [
            models.Index(fields=["workspace", "pipeline", "order"], name="stage_ws_pipeline"),
        ]

    def __str__(self) -> str:
        return self.name


class DealStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("deal status", "Open")
    WON = "won", _("Won")
    LOST = "lost", pgettext_lazy("deal status", "Lost")


class LostReason(WorkspaceModel):
    name = models.CharField(_("name"), max_length=120)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("sort order"), default=100)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        indexes = [models.Index(fields=["workspace", "order"], name="lostreason_ws_order")]

    def __str__(self) -> str:
        return self.name


class Competitor(WorkspaceModel):
    name = models.CharField(_("name"), max_length=120)
    website = models.CharField(_("website"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="competitor_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Deal(OwnedModel):
    name = models.CharField(_("name"), max_length=200)
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT)
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT)
    status = models.CharField(
        _("status"), max_length=4, choices=DealStatus.choices, default=DealStatus.OPEN
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    # ``amount`` in the workspace's base currency at the rate of the day it was set.
    amount_base = models.DecimalField(max_digits=18, decimal_places=2, default=0, editable=False)
    # Percent, from the stage unless the owner set it.
    probability = models.PositiveSmallIntegerField(_("probability (%)"))
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step by"), null=True, blank=True)
    competitors = models.ManyToManyField(
        Competitor, through="DealCompetitor", related_name="+", verbose_name=_("competitors")
    )
    lost_reason = models.ForeignKey(
        LostReason, verbose_name=_("lost reason"), null=True, blank=True, on_delete=models.PROTECT
    )
    lost_note = models.TextField(_("why we lost"), blank=True)
    source = models.CharField(_("source"), max_length=60, blank=True)
    campaign = models.CharField(_("campaign"), max_length=120, blank=True)
    lead = models.ForeignKey(
        "sales.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    stage_changed_at = models.DateTimeField(_("in this stage since"))
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # The card's place in its kanban column: a sparse rank, smaller first.
    position = models.FloatField(default=0, editable=False)
    # Optimistic locking: a save names the version it read; a stale one is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            # The kanban: one column is one range of this index.
            models.Index(
                fields=["workspace", "pipeline", "stage", "position", "id"],
                name="deal_ws_board",
                condition=Q(status="open"),
            ),
            # Forecasts: deals closing in a period. The columns after the owner make it
            # covering: the forecast's grouped query reads no table rows (SQLite, 50,000
            # deals: 41 → 2 ms for a year; see docs/sales/forecast.md).
            models.Index(
                fields=[
                    "workspace",
                    "expected_close_date",
                    "owner",
                    "status",
                    "forecast_category",
                    "probability",
                    "amount_base",
                ],
                name="deal_ws_close",
            ),
            # A rep's deals by status; the amount last makes the rep performance's open
            # pipeline (count and sum per owner) a read of the index alone.
            models.Index(
                fields=["workspace", "owner", "status", "-updated_at", "amount_base"],
                name="deal_ws_owner",
            ),
            models.Index(fields=["workspace", "account", "status"], name="deal_ws_account"),
            models.Index(fields=["workspace", "contact", "status"], name="deal_ws_contact"),
            # Won or lost in a period; owner, amount and creation make the forecast's and the
            # rep performance's (cycle length) grouped queries covering.
            models.Index(
                fields=["workspace", "status", "closed_at", "owner", "amount_base", "created_at"],
                name="deal_ws_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DealCompetitor(WorkspaceModel):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+")
    competitor = models.ForeignKey(Competitor, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "deal", "competitor"], name="dealcompetitor_unique"
            ),
        ]


class DealLine(WorkspaceModel):
    """A product the deal is about (the quote, when made, takes its prices from the books)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("sales.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=4)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("deal product")
        verbose_name_plural = _("deal products")
        indexes = [models.Index(fields=["workspace", "deal"], name="dealline_ws_deal")]


class DealStageChange(WorkspaceModel):
    """One move of a deal between stages (or its opening): cycle length and win rates are
    read from here; the timeline shows each move too."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    amount_base = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "deal", "changed_at"], name="dealstage_ws_deal"),
        ]
