"""The shared timeline: one append-only row per thing anyone did with a customer, and the
commitments ("what we promised") that people make there."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import WorkspaceModel


class EntryKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", pgettext_lazy("messages", "E-mail")
    SMS = "sms", _("SMS")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    NOTE = "note", _("Note")
    COMMITMENT = "commitment", _("Commitment")
    TASK = "task", pgettext_lazy("timeline entry kind", "Task")
    SYSTEM = "system", _("System event")


class VisitMeans(models.TextChoices):
    """The five means of the field (五个手段)."""

    COMPANY_VISIT = "company_visit", _("Company visit")
    REFERENCE_VISIT = "reference_visit", _("Reference-site visit")
    ONSITE_MEETING = "onsite_meeting", _("On-site meeting")
    TECHNICAL_EXCHANGE = "technical_exchange", _("Technical exchange")
    MANAGEMENT_RESEARCH = "management_research", _("Management research")


class SystemEvent(models.TextChoices):
    STAGE_CHANGE = "stage_change", _("Stage changed")
    OWNER_CHANGE = "owner_change", _("Owner changed")
    MERGE = "merge", _("Records merged")
    CONSENT_CHANGE = "consent_change", _("Consent changed")
    REASSIGNED = "reassigned", _("Reassigned")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", pgettext_lazy("messages", "E-mail")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video call")
    WEB = "web", _("Web")
    SYSTEM = "system", _("System")


class TimelineEntry(WorkspaceModel):
    """Something that happened with a customer. Append-only: the services never change an
    entry's content (a customer merge re-points it; an erasure redacts it)."""

    kind = models.CharField(_("type"), max_length=20, choices=EntryKind.choices)
    # Visit means for visits; the event for system entries; free for the rest.
    subtype = models.CharField(_("subtype"), max_length=40, blank=True)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("details"), blank=True)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    contacts = models.ManyToManyField(
        "customers.Contact",
        verbose_name=_("contacts"),
        through="EntryContact",
        related_name="+",
        blank=True,
    )
    author = models.ForeignKey(
        "platform.User",
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Private entries are seen by their author and those whose visibility covers the author.
    is_private = models.BooleanField(_("private"), default=False)
    # A later app's record the entry is about (a deal, a case), by generic reference.
    related_object_key = models.CharField(max_length=60, blank=True)
    related_object_id = models.BigIntegerField(null=True, blank=True)
    # Type-specific facts: an e-mail's message id, a stage change's from/to, a check-in's
    # place and distance, a task's id.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [
            models.Index(
                fields=["workspace", "account", "-occurred_at", "-id"], name="entry_ws_account_time"
            ),
            models.Index(
                fields=["workspace", "author", "-occurred_at", "-id"], name="entry_ws_author_time"
            ),
            models.Index(
                fields=["workspace", "related_object_key", "related_object_id", "-occurred_at"],
                name="entry_ws_related_time",
            ),
            # The private entries of a customer, for the "may this reader see it" test of a
            # timeline page (PostgreSQL hashes that subquery: it reads these rows only).
            models.Index(
                fields=["workspace", "account"],
                condition=Q(is_private=True),
                name="entry_ws_account_private",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


class EntryContact(WorkspaceModel):
    """A contact an entry is about. ``occurred_at`` is the entry's, copied so that a
    contact's timeline is one index range."""

    entry = models.ForeignKey(TimelineEntry, on_delete=models.CASCADE, related_name="contact_links")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "contact"], name="entry_contact_unique")
        ]
        indexes = [
            models.Index(
                fields=["workspace", "contact", "-occurred_at", "-entry"],
                name="entrycontact_ws_contact_time",
            )
        ]


class CommitmentStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("not done yet", "Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class Commitment(WorkspaceModel):
    """What we promised: who promised what to whom, by when."""

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
        verbose_name=_("promised to"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    promised_by = models.ForeignKey(
        "platform.User", verbose_name=_("promised by"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("what was promised"))
    due_date = models.DateField(_("due by"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CommitmentStatus.choices, default=CommitmentStatus.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution = models.CharField(_("resolution note"), max_length=500, blank=True)
    source_entry = models.ForeignKey(
        TimelineEntry,
        verbose_name=_("made in"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        "platform.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    related_object_key = models.CharField(max_length=60, blank=True)
    related_object_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        indexes = [
            models.Index(
                fields=["workspace", "account", "status", "due_date"], name="commit_ws_account"
            ),
            models.Index(
                fields=["workspace", "contact", "status", "due_date"], name="commit_ws_contact"
            ),
            models.Index(
                fields=["workspace", "promised_by", "status", "due_date"],
                name="commit_ws_promiser",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False) | Q(contact__isnull=False),
                name="commitment_has_customer",
            )
        ]

    def __str__(self) -> str:
        return self.text[:80]
