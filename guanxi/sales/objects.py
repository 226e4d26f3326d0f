"""The sales' business objects, registered for roles, field rules and the audit log."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform import registry

from .models import (
    Deal,
    Invoice,
    Lead,
    LeadForm,
    Order,
    PriceBook,
    Product,
    Quota,
    Quote,
    QuoteApproval,
    SalesSettings,
)

LEAD = "sales.lead"
LEAD_FORM = "sales.lead_form"
DEAL = "sales.deal"
PRODUCT = "sales.product"
PRICE_BOOK = "sales.price_book"
QUOTE = "sales.quote"
# "update" on approvals is the right to approve or reject a quote's discount.
QUOTE_APPROVAL = "sales.quote_approval"
ORDER = "sales.order"
INVOICE = "sales.invoice"
QUOTA = "sales.quota"
# Pipelines and stages, lost reasons, competitors, tax rates, currencies and rates, scoring
# and assignment rules, rep profiles and the sales settings.
CONFIGURATION = "sales.configuration"

for key, model, label, plural, owner in (
    (LEAD, Lead, _("lead"), _("leads"), "owner"),
    (LEAD_FORM, LeadForm, _("web form"), _("web forms"), None),
    (DEAL, Deal, _("deal"), _("deals"), "owner"),
    (PRODUCT, Product, _("product"), _("products"), None),
    (PRICE_BOOK, PriceBook, _("price book"), _("price books"), None),
    (QUOTE, Quote, _("quote"), _("quotes"), "owner"),
    (QUOTE_APPROVAL, QuoteApproval, _("quote approval"), _("quote approvals"), None),
    (ORDER, Order, _("order"), _("orders"), "owner"),
    (INVOICE, Invoice, _("invoice"), _("invoices"), "owner"),
    (QUOTA, Quota, _("quota"), _("quotas"), "user"),
    (CONFIGURATION, SalesSettings, _("sales configuration"), _("sales configuration"), None),
):
    registry.register(
        registry.BusinessObject(
            key=key,
            model=model,
            label=label,
            label_plural=plural,
            owner_field=owner,
            supports_custom_fields=key in (LEAD, DEAL),
        )
    )
