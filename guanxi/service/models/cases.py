"""Cases: complaints, faults, repairs, requests and inquiries, from every channel, with
their conversation and their history. A case is SLA-timed from the moment it exists."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import WorkspaceModel


class CaseStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("case status", "New")
    OPEN = "open", pgettext_lazy("case status", "Open")
    # Waiting on the customer: the SLA clocks stop until the customer answers.
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("case status", "Cancelled")


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING)


class CasePriority(models.IntegerChoices):
    """Ordered: a smaller number is more urgent, so queues sort by it directly."""

    URGENT = 1, _("Urgent")
    HIGH = 2, pgettext_lazy("priority", "High")
    NORMAL = 3, pgettext_lazy("priority", "Normal")
    LOW = 4, pgettext_lazy("priority", "Low")


class CaseChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", pgettext_lazy("messages", "E-mail")
    SMS = "sms", _("SMS")
    PORTAL = "portal", _("Customer portal")
    API = "api", _("API")
    AGENT = "agent", _("Entered by an agent")


class CaseTypeKind(models.TextChoices):
    """What a type means to the system: complaints flag the customer (marketing holds off),
    repairs may need a technician on site."""

    COMPLAINT = "complaint", _("Complaint")
    FAULT = "fault", _("Fault")
    REPAIR = "repair", _("Repair")
    REQUEST = "request", _("Request")
    INQUIRY = "inquiry", _("Inquiry")


class CaseType(WorkspaceModel):
    """A configurable kind of case (the five built-in ones are made for each workspace)."""

    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=20, choices=CaseTypeKind.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("case type")
        verbose_name_plural = _("case types")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="casetype_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CaseCategory(WorkspaceModel):
    """What a case is about (billing, installation, a product line…); a tree of two levels.
    A category may route its cases to a queue."""

    name = models.CharField(_("name"), max_length=80)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    queue = models.ForeignKey(
        "service.Queue",
        verbose_name=_("queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "parent", "name"], name="casecategory_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


def _thread_key() -> str:
    return secrets.token_hex(8)


class Case(WorkspaceModel):
    """One customer's problem or request, from opening to closing."""

    number = models.CharField(_("case number"), max_length=30)
    case_type = models.ForeignKey(
        CaseType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+"
    )
    # A copy of the type's kind, so queues and flags filter without a join.
    kind = models.CharField(max_length=20, choices=CaseTypeKind.choices, editable=False)
    category = models.ForeignKey(
        CaseCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    channel = models.CharField(_("channel"), max_length=10, choices=CaseChannel.choices)
    # The customer's language for acknowledgements, surveys and article suggestions.
    language = models.CharField(_("language"), max_length=10, blank=True)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    product = models.ForeignKey(
        "sales.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=pgettext_lazy("sales order", "order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Where to answer when no contact is linked (an unknown e-mail sender or SMS number).
    reply_email = models.CharField(_("reply e-mail"), max_length=254, blank=True)
    reply_phone = models.CharField(_("reply phone"), max_length=32, blank=True)  # E.164
    queue = models.ForeignKey(
        "service.Queue",
        verbose_name=_("queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assignee = models.ForeignKey(
        "platform.User",
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The secret in outgoing subjects and reply addresses ("[CS-2026-000123 #k]"): a reply
    # threads onto the case only if it carries the case's own key.
    thread_key = models.CharField(max_length=16, default=_thread_key, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    # SLA: the policy that applied, the due times in wall-clock time (worked out from the
    # business calendar when the case opens or its clock restarts), and what happened.
    sla_policy = models.ForeignKey(
        "service.SlaPolicy",
        verbose_name=_("SLA policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    # When the response/resolution warning is due (the sweep compares these with now).
    response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    # Set while waiting on the customer: the business time used so far, in minutes, so the
    # due times can be worked out again when the clock restarts.
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    response_used_minutes = models.PositiveIntegerField(default=0)
    resolution_used_minutes = models.PositiveIntegerField(default=0)
    response_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)

    lock_version = models.PositiveIntegerField(default=0)
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="case_number_unique")
        ]
        indexes = [
            # The agent queue: open cases by queue/assignee, most urgent and soonest due first.
            models.Index(
                fields=["workspace", "status", "priority", "resolution_due_at", "id"],
                name="case_ws_status_prio",
            ),
            models.Index(
                fields=["workspace", "queue", "status", "priority", "resolution_due_at", "id"],
                name="case_ws_queue",
            ),
            models.Index(
                fields=["workspace", "assignee", "status", "priority", "resolution_due_at", "id"],
                name="case_ws_assignee",
            ),
            # The agent queue's default (the open set): one range scan per priority, in
            # order, on both databases (the status list is written into the query as
            # literals, so SQLite's planner can prove the index's condition).
            models.Index(
                fields=["workspace", "priority", "resolution_due_at", "id"],
                condition=Q(status__in=["new", "open", "waiting"]),
                name="case_open_prio",
            ),
            models.Index(
                fields=["workspace", "queue", "priority", "resolution_due_at", "id"],
                condition=Q(status__in=["new", "open", "waiting"]),
                name="case_open_queue",
            ),
            models.Index(
                fields=["workspace", "assignee", "priority", "resolution_due_at", "id"],
                condition=Q(status__in=["new", "open", "waiting"]),
                name="case_open_assignee",
            ),
            models.Index(fields=["workspace", "-id"], name="case_ws_newest"),
            models.Index(fields=["workspace", "account", "-id"], name="case_ws_account"),
            models.Index(fields=["workspace", "contact", "-id"], name="case_ws_contact"),
            models.Index(
                fields=["workspace", "category", "kind", "created_at"], name="case_ws_category"
            ),
            # The SLA sweep: open cases whose warning or due time has passed.
            models.Index(
                fields=["workspace", "response_warn_at"],
                condition=Q(first_response_at__isnull=True, sla_paused_at__isnull=True)
                & Q(status__in=["new", "open"]),
                name="case_sla_response_open",
            ),
            models.Index(
                fields=["workspace", "resolution_warn_at"],
                condition=Q(sla_paused_at__isnull=True) & Q(status__in=["new", "open"]),
                name="case_sla_resolution_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MessageKind(models.TextChoices):
    INBOUND = "in", _("From the customer")
    OUTBOUND = "out", _("To the customer")
    NOTE = "note", _("Internal note")


class CaseMessage(WorkspaceModel):
    """One message of a case's conversation: from the customer (any channel), an answer to
    them, or an internal note (never shown in the portal)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=4, choices=MessageKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=CaseChannel.choices)
    body = models.TextField(_("message"))
    author = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Written by the customer (portal, e-mail or SMS): the contact when known.
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The e-mail this message came in as or went out as (activities' EmailMessage id).
    email_id = models.BigIntegerField(null=True, blank=True)
    sms_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("case message")
        verbose_name_plural = _("case messages")
        indexes = [models.Index(fields=["workspace", "case", "id"], name="casemsg_ws_case")]


class CaseEventKind(models.TextChoices):
    CREATED = "created", _("Opened")
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    PRIORITY = "priority", _("Priority changed")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breached")
    ESCALATED = "escalated", _("Escalated")
    DISPATCHED = "dispatched", _("Technician dispatched")
    SURVEY = "survey", _("Survey answered")


class CaseEvent(WorkspaceModel):
    """The history of a case: every status, assignment, priority and SLA event, with who
    or what did it (the SLA sweep has no actor)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=CaseEventKind.choices)
    from_value = models.CharField(max_length=60, blank=True)
    to_value = models.CharField(max_length=60, blank=True)
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [
            models.Index(fields=["workspace", "case", "id"], name="caseevent_ws_case"),
            models.Index(fields=["workspace", "kind", "created_at"], name="caseevent_ws_kind"),
        ]
