"""Who works on what: queues with their distribution method, agents (skills, languages,
availability, load) and the dispatch of technicians to customers' sites."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import WorkspaceModel


class DistributionMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin")
    SKILLS = "skills", _("By skills")
    LOAD = "load", _("By load (fewest open cases)")
    MANUAL = "manual", _("Manual (supervisor assigns)")


class Queue(WorkspaceModel):
    """A group of agents that takes cases, and how cases are shared among them."""

    name = models.CharField(_("name"), max_length=80)
    method = models.CharField(
        _("distribution"),
        max_length=12,
        choices=DistributionMethod.choices,
        default=DistributionMethod.ROUND_ROBIN,
    )
    supervisor = models.ForeignKey(
        "platform.User",
        verbose_name=_("supervisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Cases in these languages prefer this queue (empty: any).
    languages = models.JSONField(_("languages"), default=list, blank=True)
    is_default = models.BooleanField(_("default queue"), default=False)
    active = models.BooleanField(_("active"), default=True)
    # Round-robin's pointer: the member who got the last case.
    last_assigned = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="queue_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class QueueMember(WorkspaceModel):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey("platform.User", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("queue member")
        verbose_name_plural = _("queue members")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="queuemember_unique")]


class AgentStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentProfile(WorkspaceModel):
    """A service agent's or technician's working facts."""

    user = models.OneToOneField(
        "platform.User", on_delete=models.CASCADE, related_name="service_profile"
    )
    status = models.CharField(
        _("availability"),
        max_length=10,
        choices=AgentStatus.choices,
        default=AgentStatus.OFFLINE,
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    max_open_cases = models.PositiveSmallIntegerField(_("most open cases"), default=30)
    # The telephony provider's name for this agent (extension or agent id): an incoming
    # call for it pops on this user's screen.
    phone_extension = models.CharField(_("phone extension"), max_length=40, blank=True)
    is_technician = models.BooleanField(_("technician (on-site work)"), default=False)
    # Where a technician starts the day, and where they work.
    home_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    home_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    max_visits_per_day = models.PositiveSmallIntegerField(_("most visits a day"), default=5)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "phone_extension"],
                condition=~models.Q(phone_extension=""),
                name="agentprofile_extension_unique",
            )
        ]


class SkillKind(models.TextChoices):
    CATEGORY = "category", _("Case category")
    PRODUCT = "product", _("Product")
    CASE_TYPE = "case_type", _("Case type")


class AgentSkill(WorkspaceModel):
    """What an agent knows: a category, a product or a case type, at a level 1–5."""

    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="skills")
    kind = models.CharField(_("kind"), max_length=10, choices=SkillKind.choices)
    object_id = models.BigIntegerField()
    level = models.PositiveSmallIntegerField(_("level"), default=3)

    class Meta:
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        constraints = [
            models.UniqueConstraint(fields=["agent", "kind", "object_id"], name="agentskill_unique")
        ]
        indexes = [
            models.Index(fields=["workspace", "kind", "object_id"], name="agentskill_ws_object")
        ]


class DispatchStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", pgettext_lazy("dispatch status", "Done")
    CANCELLED = "cancelled", pgettext_lazy("dispatch status", "Cancelled")


class Dispatch(WorkspaceModel):
    """A technician sent to the customer's site for a case: the visit is a task on the
    technician's day (and route), linked back to the case."""

    case = models.ForeignKey("service.Case", on_delete=models.CASCADE, related_name="dispatches")
    technician = models.ForeignKey(
        "platform.User",
        verbose_name=_("technician"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    task = models.ForeignKey(
        "activities.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DispatchStatus.choices,
        default=DispatchStatus.SCHEDULED,
    )
    # Why this technician (skill, distance, free time), shown on the case.
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    distance_km = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    report = models.TextField(_("work report"), blank=True)
    created_by = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        indexes = [
            models.Index(fields=["workspace", "technician", "starts_at"], name="dispatch_ws_tech"),
            models.Index(fields=["workspace", "case", "-id"], name="dispatch_ws_case"),
        ]
