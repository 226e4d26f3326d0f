"""Orders, their lines, invoices and payments: what customers bought and what they owe.
Order lines carry the customer and the date so revenue per customer per year is one scan."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import OwnedModel, WorkspaceModel


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Order(OwnedModel):
    number = models.CharField(_("number"), max_length=40)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED
    )
    order_date = models.DateField(_("order date"))
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
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    quote = models.ForeignKey(
        "sales.Quote", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.DecimalField(_("subtotal"), max_digits=18, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("tax"), max_digits=18, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=0)
    total_base = models.DecimalField(max_digits=18, decimal_places=2, default=0, editable=False)
    # Base-currency units per unit of ``currency`` on the order date: receivables and credit
    # checks sum ``unpaid × rate`` in SQL without a rate look-up per row.
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, default=1, editable=False)
    invoiced_total = models.DecimalField(_("invoiced"), max_digits=18, decimal_places=2, default=0)
    paid_total = models.DecimalField(_("paid"), max_digits=18, decimal_places=2, default=0)
    payment_terms_days = models.PositiveIntegerField(_("payment due after (days)"), default=30)
    notes = models.TextField(_("notes"), blank=True)
    # The import run that made it, if imported (a resumed import skips what it made).
    import_run = models.ForeignKey(
        "platform.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="order_number_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "-order_date", "-id"], name="order_ws_date"),
            models.Index(fields=["workspace", "account", "-order_date"], name="order_ws_account"),
            models.Index(fields=["workspace", "contact", "-order_date"], name="order_ws_contact"),
            models.Index(fields=["workspace", "owner", "-order_date"], name="order_ws_owner"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(WorkspaceModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("line"), default=1)
    product = models.ForeignKey(
        "sales.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=4)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=4, default=0)
    # Net of tax, in the order's currency, and in the base currency for value reports.
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    amount_base = models.DecimalField(max_digits=18, decimal_places=2, default=0, editable=False)
    # Copied from the order: revenue per customer per year reads this table alone.
    order_date = models.DateField()
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        indexes = [
            models.Index(fields=["workspace", "order", "position"], name="orderline_ws_order"),
            models.Index(
                fields=["workspace", "account", "product", "-order_date"],
                name="orderline_ws_acct_product",
                condition=Q(account__isnull=False),
            ),
            models.Index(
                fields=["workspace", "contact", "product", "-order_date"],
                name="orderline_ws_cont_product",
                condition=Q(contact__isnull=False),
            ),
        ]


class InvoiceStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("invoice status", "Open")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


class Invoice(WorkspaceModel):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("number"), max_length=40)
    issued_on = models.DateField(_("issued"))
    due_on = models.DateField(_("due"))
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    paid_amount = models.DecimalField(_("paid"), max_digits=18, decimal_places=2, default=0)
    # The order's rate (base-currency units per unit of ``currency``).
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, default=1, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    # Copied from the order for the ageing report (by customer and rep) without joins.
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The overdue reminder task made for it, so the periodic job makes it once.
    reminder_task_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="invoice_number_unique"),
        ]
        indexes = [
            models.Index(
                fields=["workspace", "due_on"],
                name="invoice_ws_open_due",
                condition=Q(status__in=["open", "partly_paid"]),
            ),
            models.Index(fields=["workspace", "order"], name="invoice_ws_order"),
            models.Index(fields=["workspace", "account", "status"], name="invoice_ws_account"),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank", _("Bank transfer")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat", _("WeChat Pay")
    CARD = "card", _("Card")
    OTHER = "other", _("Other")


class Payment(WorkspaceModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    received_on = models.DateField(_("received"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    method = models.CharField(
        _("method"), max_length=10, choices=PaymentMethod.choices, default="bank"
    )
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    recorded_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [models.Index(fields=["workspace", "invoice"], name="payment_ws_invoice")]


class OrderImport(WorkspaceModel):
    """One order import of one file: its options, its checkpoint and its counts.

    Each batch of lines is written in one transaction together with ``lines_done``, so an
    import resumed after a crash starts after the last committed batch and creates nothing
    twice. The orders it made point at its job (``Order.import_run``).
    """

    job = models.OneToOneField(
        "platform.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500)
    options = models.JSONField(default=dict, blank=True)
    lines_total = models.PositiveIntegerField(null=True, blank=True)
    # File lines (after the header) consumed by committed batches: the checkpoint.
    lines_done = models.PositiveIntegerField(default=0)
    orders_created = models.PositiveIntegerField(default=0)
    lines_created = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)
    # Accounts made for unknown customer codes (option ``create_customers``).
    customers_created = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Return lines (negative quantity or amount) left out under ``returns = "skip"``.
    skipped = models.PositiveIntegerField(default=0)
    error_path = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        indexes = [models.Index(fields=["workspace", "-id"], name="orderimport_ws_id")]

    def __str__(self) -> str:
        return self.file_name
