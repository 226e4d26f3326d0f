"""What every workspace's sales start with, made on first use and idempotent: the China VAT
rates, the base currency, a default pipeline with stages and probabilities, common lost
reasons, and the settings row. Names are written in the workspace's language."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ..models import Currency, LostReason, Pipeline, SalesSettings, Stage, TaxRate


def sales_settings(workspace) -> SalesSettings:
    row = SalesSettings.objects.in_workspace(workspace).first()
    if row is None:
        ensure_sales_defaults(workspace)
        row = SalesSettings.objects.in_workspace(workspace).get()
    return row


def default_pipeline(workspace) -> Pipeline:
    pipeline = (
        Pipeline.objects.in_workspace(workspace)
        .filter(active=True)
        .order_by("-is_default", "order", "id")
        .first()
    )
    if pipeline is None:
        ensure_sales_defaults(workspace)
        pipeline = Pipeline.objects.in_workspace(workspace).get(is_default=True)
    return pipeline


@transaction.atomic
def ensure_sales_defaults(workspace) -> None:
    if SalesSettings.objects.in_workspace(workspace).select_for_update().exists():
        return
    with translation.override(workspace.language or "zh-hans"):
        SalesSettings.objects.create(workspace=workspace)
        if not TaxRate.objects.in_workspace(workspace).exists():
            for name, rate, default in (
                (_("VAT 13%"), "0.13", True),
                (_("VAT 9%"), "0.09", False),
                (_("VAT 6%"), "0.06", False),
                (_("VAT 3% (small-scale)"), "0.03", False),
                (_("Zero-rated"), "0", False),
            ):
                TaxRate.objects.create(
                    workspace=workspace, name=name, rate=Decimal(rate), is_default=default
                )
        Currency.objects.get_or_create(
            workspace=workspace,
            code=workspace.default_currency,
            defaults={"name": workspace.default_currency},
        )
        if not Pipeline.objects.in_workspace(workspace).exists():
            pipeline = Pipeline.objects.create(
                workspace=workspace, name=_("Sales pipeline"), is_default=True
            )
            for order, (name, probability, kind, category) in enumerate(
                (
                    (_("Qualification"), 10, "open", "pipeline"),
                    (_("Needs analysis"), 20, "open", "pipeline"),
                    (_("Proposal / quote"), 40, "open", "best_case"),
                    (_("Negotiation"), 70, "open", "commit"),
                    (_("Contract"), 90, "open", "commit"),
                    (_("Won"), 100, "won", "closed"),
                    (pgettext("deal stage", "Lost"), 0, "lost", "omitted"),
                ),
                start=1,
            ):
                Stage.objects.create(
                    workspace=workspace,
                    pipeline=pipeline,
                    name=name,
                    order=order * 10,
                    probability=probability,
                    kind=kind,
                    forecast_category=category,
                )
        if not LostReason.objects.in_workspace(workspace).exists():
            for order, name in enumerate(
                (
                    _("Price too high"),
                    _("Chose a competitor"),
                    _("No budget"),
                    _("No decision / project stopped"),
                    _("Product does not fit"),
                    _("Lost contact"),
                ),
                start=1,
            ):
                LostReason.objects.create(workspace=workspace, name=name, order=order)
