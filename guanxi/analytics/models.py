"""Customer value: revenue per customer per year (from orders), the runs that recompute it
with the Pareto curve and the ABC classes, the class rules, and each customer's class
history. Read-only over the sales tables; it writes only its own tables and the customer's
class column (through the customers' service)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import WorkspaceModel


class ValueSettings(WorkspaceModel):
    """The ABC rules, by default: A = agents and the top 20% by last year's sales; B = sales
    grown at least 10% in each of the last two years; C = the rest."""

    a_top_percent = models.DecimalField(
        _("A: top share of customers by annual sales (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
    )
    # Account types that are A whatever they buy (agents and distributors by default).
    a_account_types = models.JSONField(_("A: always these customer types"), default=list)
    b_growth_percent = models.DecimalField(
        _("B: yearly sales growth of at least (%)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("10"),
    )
    b_years = models.PositiveSmallIntegerField(
        _("B: growth in each of the last (years)"), default=2
    )
    # Nightly recompute at this hour in the workspace's time zone.
    nightly_hour = models.PositiveSmallIntegerField(_("recompute at (hour)"), default=2)

    class Meta:
        verbose_name = _("customer value settings")
        verbose_name_plural = _("customer value settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="valuesettings_one_per_workspace"),
        ]


class CustomerYearRevenue(WorkspaceModel):
    """Net revenue (base currency) of one customer in one calendar year, from order lines.
    A customer is an account, or an individual contact with no account."""

    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    revenue = models.DecimalField(_("revenue"), max_digits=20, decimal_places=2)
    lines = models.PositiveIntegerField(_("order lines"), default=0)

    class Meta:
        verbose_name = _("revenue per year")
        verbose_name_plural = _("revenue per year")
        indexes = [
            models.Index(fields=["workspace", "year", "-revenue"], name="custrev_ws_year"),
            models.Index(fields=["workspace", "account", "year"], name="custrev_ws_account"),
            models.Index(fields=["workspace", "contact", "year"], name="custrev_ws_contact"),
        ]


class RunState(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", pgettext_lazy("run state", "Failed")


class ValueRun(WorkspaceModel):
    """One recompute: the year it classified by, what it counted, the Pareto curve
    (``[[share of customers %, share of revenue %], …]``) and how many customers each
    class got."""

    job = models.ForeignKey(
        "platform.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("state"), max_length=8, choices=RunState.choices, default="running")
    trigger = models.CharField(_("started by"), max_length=10, default="manual")  # nightly|manual
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    customers = models.PositiveIntegerField(_("customers with sales"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=22, decimal_places=2, default=0)
    pareto = models.JSONField(default=list, blank=True)
    class_counts = models.JSONField(default=dict, blank=True)
    changed = models.PositiveIntegerField(_("classes changed"), default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("customer value run")
        verbose_name_plural = _("customer value runs")
        indexes = [models.Index(fields=["workspace", "-started_at"], name="valuerun_ws_started")]


class ClassChange(WorkspaceModel):
    """A customer's class moved (the class history on the 360° page)."""

    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(
        ValueRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_class = models.CharField(_("from"), max_length=1, blank=True)
    to_class = models.CharField(_("to"), max_length=1, blank=True)
    # Why, as a code: top_share | account_type | growth | rest
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    changed_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("class change")
        verbose_name_plural = _("class changes")
        indexes = [
            models.Index(
                fields=["workspace", "account", "-changed_at"],
                name="classchange_ws_account",
                condition=Q(account__isnull=False),
            ),
            models.Index(
                fields=["workspace", "contact", "-changed_at"],
                name="classchange_ws_contact",
                condition=Q(contact__isnull=False),
            ),
        ]
