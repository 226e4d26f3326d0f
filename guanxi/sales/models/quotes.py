"""Quotes: versioned offers with lines priced from the price books, discounts, tax and
totals; discounts above the workspace's threshold (or a price below what this customer
was already quoted) wait for a manager's approval."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import OwnedModel, WorkspaceModel


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", pgettext_lazy("quote status", "Rejected")
    SENT = "sent", pgettext_lazy("quote status", "Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined by the customer")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Replaced by a newer version")


class Quote(OwnedModel):
    # The number stays across versions: Q-2026-0042 v1, v2, …; one row per version.
    number = models.CharField(_("number"), max_length=40)
    version_number = models.PositiveIntegerField(_("version"), default=1)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
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
    price_book = models.ForeignKey(
        "sales.PriceBook", verbose_name=_("price book"), on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # A discount on the whole quote, on top of the lines' discounts (percent).
    discount_percent = models.DecimalField(
        _("overall discount (%)"), max_digits=5, decimal_places=2, default=0
    )
    subtotal = models.DecimalField(_("subtotal"), max_digits=18, decimal_places=2, default=0)
    discount_total = models.DecimalField(_("discount"), max_digits=18, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("tax"), max_digits=18, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=0)
    total_base = models.DecimalField(max_digits=18, decimal_places=2, default=0, editable=False)
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Why approval is needed: [{"code", "line", "detail"}], recomputed on every save.
    approval_reasons = models.JSONField(default=list, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or declined"), null=True, blank=True)
    # Optimistic locking: a save names the version it read; a stale one is refused.
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "number", "version_number"], name="quote_number_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="quote_ws_created"),
            models.Index(fields=["workspace", "account", "-created_at"], name="quote_ws_account"),
            models.Index(fields=["workspace", "contact", "-created_at"], name="quote_ws_contact"),
            models.Index(fields=["workspace", "deal"], name="quote_ws_deal"),
            models.Index(fields=["workspace", "status", "owner"], name="quote_ws_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.version_number}"


class QuoteLine(WorkspaceModel):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey("sales.Product", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    # The price book's price when the line was made; the rep sets only the discount.
    list_price = models.DecimalField(_("list price"), max_digits=18, decimal_places=4)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=0
    )
    unit_price = models.DecimalField(_("net unit price"), max_digits=18, decimal_places=4)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=4)
    subtotal = models.DecimalField(_("subtotal"), max_digits=18, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=18, decimal_places=2)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2)
    # Copied for "last prices for this customer" look-ups without joining the quote.
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        indexes = [
            models.Index(fields=["workspace", "quote", "position"], name="quoteline_ws_quote"),
            models.Index(
                fields=["workspace", "account", "product", "-created_at"],
                name="quoteline_ws_acct_product",
                condition=Q(account__isnull=False),
            ),
            models.Index(
                fields=["workspace", "contact", "product", "-created_at"],
                name="quoteline_ws_cont_product",
                condition=Q(contact__isnull=False),
            ),
        ]


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("approval status", "Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", pgettext_lazy("approval status", "Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class QuoteApproval(WorkspaceModel):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approvals")
    requested_by = models.ForeignKey("platform.User", on_delete=models.PROTECT, related_name="+")
    # The manager asked (the requester's team manager); anyone with approve rights may decide.
    approver = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    reasons = models.JSONField(default=list, blank=True)
    request_note = models.TextField(_("note to the approver"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote approval")
        verbose_name_plural = _("quote approvals")
        indexes = [
            models.Index(
                fields=["workspace", "status", "approver"], name="quoteapproval_ws_status"
            ),
            models.Index(fields=["workspace", "quote"], name="quoteapproval_ws_quote"),
        ]
