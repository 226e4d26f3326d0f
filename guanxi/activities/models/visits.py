"""Visit plans (how often each account is visited, generating visit tasks) and field
check-ins (外勤签到)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel

from .timeline import VisitMeans


def _default_visits_by_type() -> dict:
    # Visits a year by customer type until an administrator changes them.
    return {
        "customer": 4,
        "prospect": 2,
        "agent": 12,
        "supplier": 1,
        "partner": 4,
        "competitor": 0,
        "other": 0,
    }


class VisitSettings(WorkspaceModel):
    """A workspace's visit rules: default frequencies, and how far from the customer a
    check-in may be before it is flagged."""

    visits_per_year_by_type = models.JSONField(default=_default_visits_by_type)
    # By customer class (A/B/C) once sales computes classes; a class beats the type.
    visits_per_year_by_class = models.JSONField(default=dict, blank=True)
    far_checkin_meters = models.PositiveIntegerField(
        _("flag check-ins farther than (m)"), default=500
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="visit_settings_one_per_workspace")
        ]


class VisitPlan(WorkspaceModel):
    """How often one account is visited. ``is_custom`` is false while the frequency follows
    the workspace defaults."""

    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="+"
    )
    visits_per_year = models.PositiveSmallIntegerField(_("visits a year"), default=0)
    is_custom = models.BooleanField(_("set by hand"), default=False)
    means = models.CharField(
        _("usual means"),
        max_length=40,
        choices=VisitMeans.choices,
        default=VisitMeans.COMPANY_VISIT,
    )
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    updated_by = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "account"], name="visit_plan_one_per_account"
            )
        ]


class CheckIn(WorkspaceModel):
    """A rep at a customer's site: where and when they checked in, how far that was from the
    customer's address, and (at check-out) the visit written to the timeline."""

    user = models.ForeignKey(
        "platform.User", verbose_name=_("rep"), on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        "activities.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey(
        "customers.Account", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    means = models.CharField(
        _("means"), max_length=40, choices=VisitMeans.choices, default=VisitMeans.COMPANY_VISIT
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    accuracy_m = models.PositiveIntegerField(_("accuracy (m)"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(
        _("distance to the customer (m)"), null=True, blank=True
    )
    is_far = models.BooleanField(_("far from the customer"), default=False)
    photo = models.FileField(_("photo"), upload_to="checkins/%Y/%m/", blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    entry = models.ForeignKey(
        "activities.TimelineEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        indexes = [
            models.Index(fields=["workspace", "user", "-checked_in_at"], name="checkin_ws_user"),
            models.Index(
                fields=["workspace", "account", "-checked_in_at"], name="checkin_ws_account"
            ),
        ]
        constraints = [
            # A rep is at one place at a time: a second check-in waits for the check-out.
            models.UniqueConstraint(
                fields=["workspace", "user"],
                condition=Q(checked_out_at__isnull=True),
                name="checkin_one_open_per_user",
            )
        ]
