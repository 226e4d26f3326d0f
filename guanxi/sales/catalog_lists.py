"""The products list (``sales.products``): the platform's list component (sort, search by
code, name or pinyin, category and active filters, keyset pages, saved views, export)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.platform.lists import Column, Filter, ListSpec, register

from .models import Product
from .objects import PRODUCT
from .selectors import catalog as selectors


def _products(workspace, actor):
    return Product.objects.in_workspace(workspace).select_related("tax_rate")


def _categories(workspace, actor) -> list[tuple[str, str]]:
    return [(c, c) for c in selectors.product_categories(workspace=workspace, actor=actor)]


def _active(qs, value):
    if value == "yes":
        return qs.filter(active=True)
    if value == "no":
        return qs.filter(active=False)
    return qs


PRODUCTS = register(
    ListSpec(
        key="sales.products",
        object_key=PRODUCT,
        title=_("Products"),
        queryset=_products,
        search=selectors.search_products,
        columns=[
            Column("code", _("Product code"), sort="code", link=True),
            Column("name", _("Name"), sort="name"),
            Column("name_en", _("English name"), default=False),
            Column("category", _("Category"), sort="category"),
            Column("unit", _("Unit")),
            Column(
                "tax_rate", _("Tax rate"), value=lambda p: p.tax_rate.name if p.tax_rate_id else ""
            ),
            Column("active", _("Active"), value=lambda p: _("Yes") if p.active else _("No")),
        ],
        filters=[
            Filter(
                "category",
                _("Category"),
                choices=_categories,
                apply=lambda qs, v: qs.filter(category=v) if v else qs,
            ),
            Filter(
                "active",
                _("Active"),
                choices=lambda w, a: [("yes", _("Yes")), ("no", _("No"))],
                apply=_active,
            ),
        ],
        default_sort="code",
        detail_url=lambda row: reverse("sales:product_detail", args=[row.pk]),
    )
)
