"""Tasks and reminders (to-dos, calls, meetings and visits to do), the in-app
notifications reminders raise, and each user's private calendar feed."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import WorkspaceModel


class TaskKind(models.TextChoices):
    TODO = "todo", _("To-do")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    EMAIL = "email", pgettext_lazy("messages", "E-mail")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task status", "Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class Recurrence(models.TextChoices):
    NONE = "", _("Does not repeat")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class ReminderState(models.TextChoices):
    NONE = "", _("No reminder")
    PENDING = "pending", _("Pending")
    # Claimed by a worker; the e-mail is being handed to the mail server. A row left here
    # by a dead worker is never sent again (no message twice); the sweeper marks it failed.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Task(WorkspaceModel):
    """Something someone has to do, at a time: a to-do, a call, a meeting or a visit.
    Done tasks stay; a recurring task makes its next occurrence when it is done."""

    kind = models.CharField(_("type"), max_length=10, choices=TaskKind.choices, default="todo")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_at = models.DateTimeField(_("due"))
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    all_day = models.BooleanField(_("all day"), default=False)
    # A visit's time window at the customer, for the day's route.
    window_start = models.TimeField(_("arrive after"), null=True, blank=True)
    window_end = models.TimeField(_("arrive before"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=300, blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    assignee = models.ForeignKey(
        "platform.User", verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        "platform.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    related_object_key = models.CharField(max_length=60, blank=True)
    related_object_id = models.BigIntegerField(null=True, blank=True)
    recurrence = models.CharField(
        _("repeats"), max_length=10, choices=Recurrence.choices, blank=True, default=""
    )
    recurrence_interval = models.PositiveSmallIntegerField(_("every"), default=1)
    recurrence_until = models.DateField(_("repeat until"), null=True, blank=True)
    previous = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="next_occurrence"
    )
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminder_state = models.CharField(
        max_length=10, choices=ReminderState.choices, blank=True, default=""
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    # Visit tasks generated from a visit plan: the plan, and the slot ("2026-11#1") that
    # makes generation idempotent.
    visit_plan = models.ForeignKey(
        "activities.VisitPlan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    plan_slot = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(
                fields=["workspace", "assignee", "status", "due_at"], name="task_ws_assignee"
            ),
            models.Index(
                fields=["workspace", "account", "status", "due_at"], name="task_ws_account"
            ),
            models.Index(
                fields=["workspace", "contact", "status", "due_at"], name="task_ws_contact"
            ),
            models.Index(
                fields=["workspace", "reminder_state", "remind_at"], name="task_ws_reminder"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "visit_plan", "plan_slot"],
                condition=Q(visit_plan__isnull=False),
                name="task_visit_plan_slot_unique",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Notification(WorkspaceModel):
    """An in-app message to one user (a reminder, a reassignment, a filed e-mail)."""

    user = models.ForeignKey("platform.User", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=300, blank=True)
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "user", "read_at", "-created_at"], name="notif_ws_user"
            )
        ]


class CalendarFeed(WorkspaceModel):
    """A user's private iCalendar feed. The URL carries a secret whose hash is stored;
    revoking sets ``revoked_at`` and a new feed gets a new secret."""

    user = models.ForeignKey("platform.User", on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=128)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "user"], name="calfeed_ws_user")]
