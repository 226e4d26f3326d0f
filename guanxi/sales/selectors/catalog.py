"""Reads of the catalogue: products (search by code, name, English name, pinyin or
initials), price books and their prices, a product's prices in every book, tax rates,
currencies and exchange rates. Each checks the read right; every product and book of the
workspace is visible to whoever may read products or books (no record visibility)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from guanxi.common.errors import NotFound
from guanxi.customers.normalize import fold
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import Currency, ExchangeRate, PriceBook, PriceBookEntry, Product, TaxRate
from ..objects import CONFIGURATION, PRICE_BOOK, PRODUCT


def _pk(value) -> int:
    try:
        pk = int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 1 <= pk <= 2**63 - 1:
        raise NotFound()
    return pk


def search_products(qs: QuerySet, term: str) -> QuerySet:
    """Products whose code, names, pinyin or initials contain every word of ``term``."""
    for word in fold(term or "").split()[:5]:
        qs = qs.filter(search_text__contains=word)
    return qs


def product_list(
    *, workspace, actor, q: str = "", category: str = "", active: bool | None = None
) -> QuerySet:
    permissions.require(actor, PRODUCT, Action.READ)
    qs = Product.objects.in_workspace(workspace).select_related("tax_rate")
    if q:
        qs = search_products(qs, q)
    if category:
        qs = qs.filter(category=category)
    if active is not None:
        qs = qs.filter(active=active)
    return qs


def product_get(*, workspace, actor, product_id) -> Product:
    permissions.require(actor, PRODUCT, Action.READ)
    row = (
        Product.objects.in_workspace(workspace)
        .select_related("tax_rate")
        .filter(pk=_pk(product_id))
        .first()
    )
    if row is None:
        raise NotFound()
    return row


def product_categories(*, workspace, actor) -> list[str]:
    permissions.require(actor, PRODUCT, Action.READ)
    return list(
        Product.objects.in_workspace(workspace)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def product_prices(*, workspace, actor, product_id) -> list[PriceBookEntry]:
    """The product's price in every book, standard books first."""
    product = product_get(workspace=workspace, actor=actor, product_id=product_id)
    if not permissions.can(actor, PRICE_BOOK, Action.READ):
        return []
    rank = {"standard": 0, "class": 1, "customer": 2}
    rows = list(
        PriceBookEntry.objects.in_workspace(workspace)
        .filter(product=product)
        .select_related("price_book", "price_book__account", "price_book__contact")
    )
    rows.sort(key=lambda e: (rank[e.price_book.kind], e.price_book.currency, e.price_book.name))
    return rows


def price_book_list(*, workspace, actor, kind: str = "", currency: str = "") -> QuerySet:
    permissions.require(actor, PRICE_BOOK, Action.READ)
    qs = (
        PriceBook.objects.in_workspace(workspace)
        .select_related("account", "contact")
        .annotate(entry_count=Count("entries"))
    )
    if kind:
        qs = qs.filter(kind=kind)
    if currency:
        qs = qs.filter(currency=currency.upper())
    return qs.order_by("-active", "kind", "currency", "name", "id")


def price_book_get(*, workspace, actor, price_book_id) -> PriceBook:
    permissions.require(actor, PRICE_BOOK, Action.READ)
    row = (
        PriceBook.objects.in_workspace(workspace)
        .select_related("account", "contact")
        .filter(pk=_pk(price_book_id))
        .first()
    )
    if row is None:
        raise NotFound()
    return row


def price_book_entries(*, workspace, actor, price_book_id, q: str = "") -> QuerySet:
    """The book's prices with their products, by product code."""
    book = price_book_get(workspace=workspace, actor=actor, price_book_id=price_book_id)
    qs = (
        PriceBookEntry.objects.in_workspace(workspace)
        .filter(price_book=book)
        .select_related("product")
    )
    for word in fold(q or "").split()[:5]:
        qs = qs.filter(product__search_text__contains=word)
    return qs


def tax_rate_list(*, workspace, actor) -> QuerySet:
    permissions.require(actor, CONFIGURATION, Action.READ)
    return TaxRate.objects.in_workspace(workspace).order_by("-active", "-rate", "name")


def currency_list(*, workspace, actor) -> QuerySet:
    permissions.require(actor, CONFIGURATION, Action.READ)
    return Currency.objects.in_workspace(workspace).order_by("-active", "code")


def exchange_rate_list(*, workspace, actor, currency: str = "") -> QuerySet:
    permissions.require(actor, CONFIGURATION, Action.READ)
    qs = ExchangeRate.objects.in_workspace(workspace)
    if currency:
        qs = qs.filter(currency=currency.upper())
    return qs.order_by("currency", "-valid_from", "-id")


def entry_counts(*, workspace, book_ids: list[int]) -> dict[int, int]:
    """How many prices each book lists (one grouped query)."""
    if not book_ids:
        return {}
    return dict(
        PriceBookEntry.objects.in_workspace(workspace)
        .filter(price_book_id__in=book_ids)
        .values("price_book_id")
        .annotate(n=Count("id"))
        .values_list("price_book_id", "n")
    )
