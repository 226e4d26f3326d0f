"""Service levels: the working calendar (weekly hours, Chinese public holidays and the
adjusted working days 调休, as rows the administrator edits), the SLA policies by customer
class and priority, and what happens before and on a breach."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


def default_week() -> dict:
    """Monday (1) to Friday (5), 9:00–12:00 and 13:30–18:00."""
    day = [["09:00", "12:00"], ["13:30", "18:00"]]
    return {str(d): day for d in range(1, 6)}


class WorkCalendar(WorkspaceModel):
    """Business hours: the hours of each weekday, and days that differ from the week (a
    public holiday off, a weekend worked in exchange)."""

    name = models.CharField(_("name"), max_length=80)
    time_zone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    # ISO weekday ("1" = Monday … "7" = Sunday) → list of ["HH:MM", "HH:MM"] spans.
    week = models.JSONField(_("working hours"), default=default_week)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="workcalendar_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday (day off)")
    WORKDAY = "workday", _("Adjusted working day (调休)")


class CalendarDay(WorkspaceModel):
    """A day that differs from the calendar's week: a public holiday, or a weekend day
    worked in exchange (调休). A working day has the hours of its own weekday unless it
    gives its own."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=80, blank=True)
    hours = models.JSONField(_("working hours"), default=list, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="calendarday_unique")
        ]


class SlaPolicy(WorkspaceModel):
    """Targets for cases of one customer class and priority ("" / null = any), in business
    minutes of its calendar. The most specific active policy applies."""

    name = models.CharField(_("name"), max_length=80)
    customer_class = models.CharField(_("customer class"), max_length=1, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)
    calendar = models.ForeignKey(
        WorkCalendar,
        verbose_name=_("working calendar"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_response_minutes = models.PositiveIntegerField(_("first response within (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution within (minutes)"))
    # A warning when this share of the target has been used (80 = at 80 %).
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at this share of the target (%)"), default=80
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "customer_class", "priority"],
                condition=models.Q(active=True),
                name="slapolicy_active_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class EscalationWhen(models.TextChoices):
    WARNING = "warning", _("Before the breach (warning)")
    BREACH = "breach", _("On the breach")


class EscalationTarget(models.TextChoices):
    RESPONSE = "response", _("First response")
    RESOLUTION = "resolution", _("Resolution")
    ANY = "any", _("Either")


class EscalationAction(models.TextChoices):
    NOTIFY = "notify", _("Notify")
    REASSIGN = "reassign", _("Reassign")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority")


class EscalationRule(WorkspaceModel):
    """One thing a policy does at a warning or a breach: notify (the assignee, the queue's
    supervisor or a named user), reassign (to a queue or a user) or raise the priority."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="rules")
    when = models.CharField(_("when"), max_length=10, choices=EscalationWhen.choices)
    target = models.CharField(
        _("target"),
        max_length=10,
        choices=EscalationTarget.choices,
        default=EscalationTarget.ANY,
    )
    action = models.CharField(_("action"), max_length=20, choices=EscalationAction.choices)
    notify_assignee = models.BooleanField(_("notify the assignee"), default=True)
    notify_supervisor = models.BooleanField(_("notify the queue's supervisor"), default=False)
    user = models.ForeignKey(
        "platform.User",
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    queue = models.ForeignKey(
        "service.Queue",
        verbose_name=_("queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")
        ordering = ["position", "id"]
