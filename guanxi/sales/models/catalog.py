"""The catalogue and what things cost: tax rates, currencies and their exchange rates,
products, and price books (standard, per customer class, per customer)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel

CUSTOMER_CLASSES = (("A", "A"), ("B", "B"), ("C", "C"))


class TaxRate(WorkspaceModel):
    """A VAT rate (China: 13%, 9%, 6%, 3% and 0% to start with), editable per workspace."""

    name = models.CharField(_("name"), max_length=60)
    # A fraction: 0.1300 is 13%.
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4)
    is_default = models.BooleanField(_("default"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="taxrate_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Currency(WorkspaceModel):
    """A currency the workspace trades in. The workspace's default currency is the base every
    amount is converted to for forecasts and reports."""

    code = models.CharField(_("code"), max_length=3)
    name = models.CharField(_("name"), max_length=60, blank=True)
    decimals = models.PositiveSmallIntegerField(_("decimal places"), default=2)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "code"], name="currency_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code


class ExchangeRate(WorkspaceModel):
    """How many units of the base currency one unit of ``currency`` is worth from a day on.
    The rate of a day is the latest row on or before it."""

    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "currency", "valid_from"], name="exchangerate_day_unique"
            ),
        ]


class Product(WorkspaceModel):
    code = models.CharField(_("product code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    tax_rate = models.ForeignKey(
        TaxRate, verbose_name=_("tax rate"), null=True, blank=True, on_delete=models.PROTECT
    )
    active = models.BooleanField(_("active"), default=True)
    # Lower-case code, name, English name and pinyin, for the product picker's search.
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "code"], name="product_code_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "active", "name", "id"], name="product_ws_name"),
            models.Index(fields=["workspace", "category", "name"], name="product_ws_category"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PriceBookKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    CLASS = "class", _("Customer class")
    CUSTOMER = "customer", _("One customer")


class PriceBook(WorkspaceModel):
    """Prices in one currency. A quote takes each product's price from the most specific
    book that lists it: the customer's own, then its class's, then the standard book."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=10, choices=PriceBookKind.choices, default=PriceBookKind.STANDARD
    )
    currency = models.CharField(_("currency"), max_length=3)
    customer_class = models.CharField(
        _("customer class"), max_length=1, choices=CUSTOMER_CLASSES, blank=True
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("individual customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("price book")
        verbose_name_plural = _("price books")
        indexes = [
            models.Index(fields=["workspace", "kind", "currency"], name="pricebook_ws_kind"),
            models.Index(
                fields=["workspace", "account"],
                name="pricebook_ws_account",
                condition=Q(kind="customer"),
            ),
            models.Index(
                fields=["workspace", "contact"],
                name="pricebook_ws_contact",
                condition=Q(kind="customer"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PriceBookEntry(WorkspaceModel):
    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=4)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "price_book", "product"], name="pricebookentry_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "product"], name="pricebookentry_ws_product"),
        ]
