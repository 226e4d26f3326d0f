"""E-mail with customers: templates, messages sent from the worker over SMTP, messages
fetched from IMAP mailboxes (filed to a customer's timeline, or waiting in triage), and
their attachments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


class EmailPurpose(models.TextChoices):
    # One-to-one service mail is allowed without marketing consent; marketing mail is not.
    SERVICE = "service", _("Service (one-to-one)")
    MARKETING = "marketing", _("Marketing")


class EmailDirection(models.TextChoices):
    OUTBOUND = "out", _("Sent")
    INBOUND = "in", _("Received")


class EmailStatus(models.TextChoices):
    # Outbound
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # Inbound
    TRIAGE = "triage", _("Waiting in triage")
    FILED = "filed", _("Filed")
    DISMISSED = "dismissed", _("Dismissed")


class Mailbox(WorkspaceModel):
    """An IMAP mailbox the worker fetches. ``uidvalidity``/``last_uid`` are the checkpoint;
    each message is also unique by (mailbox, uidvalidity, uid), so a fetch that died
    mid-way never files a message twice."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"))
    host = models.CharField(_("IMAP server"), max_length=200)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_ssl = models.BooleanField(_("use SSL/TLS"), default=True)
    username = models.CharField(_("user name"), max_length=200)
    password = models.CharField(_("password"), max_length=200)
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    is_active = models.BooleanField(_("active"), default=True)
    # Who triages messages from unknown senders.
    triage_owner = models.ForeignKey(
        "platform.User",
        verbose_name=_("triage owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        indexes = [models.Index(fields=["workspace", "is_active"], name="mailbox_ws_active")]


class EmailTemplate(WorkspaceModel):
    """A message with placeholders ({{ contact.name }}, {{ account.name }}, {{ user.full_name }}),
    in one language."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=EmailPurpose.choices, default=EmailPurpose.SERVICE
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        indexes = [models.Index(fields=["workspace", "name"], name="emailtpl_ws_name")]


class EmailMessage(WorkspaceModel):
    """One e-mail, sent or received. Outbound rows are the send's state (queued → sending →
    sent/failed; a row left in sending is never retried blindly); inbound rows are filed to
    a customer or wait in triage."""

    direction = models.CharField(_("direction"), max_length=3, choices=EmailDirection.choices)
    status = models.CharField(_("status"), max_length=10, choices=EmailStatus.choices)
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=EmailPurpose.choices, default=EmailPurpose.SERVICE
    )
    message_id = models.CharField(max_length=300, blank=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)
    # The Message-ID of the thread's first message: replies are matched through it.
    thread_root = models.CharField(max_length=300, blank=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(_("to"), default=list)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(blank=True)
    account = models.ForeignKey(
        "customers.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender = models.ForeignKey(
        "platform.User",
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    template = models.ForeignKey(
        EmailTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entry = models.ForeignKey(
        "activities.TimelineEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    # Triage: who should file it, and who did.
    assigned_to = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filed_by = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filed_at = models.DateTimeField(null=True, blank=True)
    # Where an inbound message went when it became a lead or a case (later apps).
    related_object_key = models.CharField(max_length=60, blank=True)
    related_object_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        indexes = [
            models.Index(fields=["workspace", "status", "-created_at"], name="email_ws_status"),
            models.Index(fields=["workspace", "message_id"], name="email_ws_message_id"),
            models.Index(fields=["workspace", "thread_root"], name="email_ws_thread"),
            models.Index(fields=["workspace", "contact", "-created_at"], name="email_ws_contact"),
            models.Index(fields=["workspace", "account", "-created_at"], name="email_ws_account"),
            # The worker's sweeper reads the few rows in flight across workspaces: a small
            # partial index instead of a scan of every message ever sent.
            models.Index(
                fields=["workspace", "status", "updated_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="email_in_flight",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "mailbox", "imap_uidvalidity", "imap_uid"],
                condition=Q(imap_uid__isnull=False),
                name="email_fetched_once",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class EmailAttachment(WorkspaceModel):
    message = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to="mail/%Y/%m/")

    class Meta:
        indexes = [models.Index(fields=["workspace", "message"], name="emailatt_ws_message")]
