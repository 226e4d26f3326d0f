"""What a product costs a customer: the price resolution every quote, deal and order uses.

Among the workspace's *active* price books that are valid on the day and priced in the
currency (by default the customer's currency, else the workspace's base currency), the most
specific book that lists the product wins:

1. the customer's own book (kind ``customer``: its account; for an individual customer —
   a contact without an account — the contact's book),
2. the book of the customer's value class (kind ``class``, ``value_class`` A/B/C),
3. the standard book of the currency.

``prices_for`` resolves many products in a fixed number of queries (three); products it
finds no price for are left out of its answer, ``price_for`` refuses them (``no_price``).
Products of another workspace are "not found".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound

from ..models import PriceBook, PriceBookEntry, PriceBookKind, Product
from . import money

SOURCES = {
    PriceBookKind.CUSTOMER: "customer",
    PriceBookKind.CLASS: "class",
    PriceBookKind.STANDARD: "standard",
}
_RANK = {"customer": 0, "class": 1, "standard": 2}


@dataclass(frozen=True)
class Price:
    product_id: int
    unit_price: Decimal
    currency: str
    price_book_id: int
    source: str  # "customer" | "class" | "standard"
    tax_rate: Decimal  # the product's rate (a fraction), 0 when it has none


@dataclass(frozen=True)
class _Customer:
    account_id: int | None
    contact_id: int | None  # only for an individual customer
    value_class: str
    currency: str


def _customer(account, contact) -> _Customer:
    """Who the prices are for. An account wins over a contact; a contact who works at an
    account is priced as that account."""
    if account is None and contact is not None and contact.account_id:
        account = contact.account
    if account is not None:
        return _Customer(
            account.pk, None, account.value_class or "", (account.currency or "").upper()
        )
    if contact is not None:
        return _Customer(
            None, contact.pk, contact.value_class or "", (contact.currency or "").upper()
        )
    return _Customer(None, None, "", "")


def customer_of(account, contact) -> _Customer:
    """Who a price is for (the account, or the individual customer), with its class and
    currency."""
    return _customer(account, contact)


def _check_customer(workspace, account, contact) -> None:
    for row in (account, contact):
        if row is not None and row.workspace_id != workspace.pk:
            raise NotFound()


def _currency(workspace, customer: _Customer, currency: str | None) -> str:
    code = (currency or "").strip().upper()
    return code or customer.currency or money.base_currency(workspace)


def books_for(workspace, customer: _Customer, currency: str, on: dt.date) -> list[PriceBook]:
    """The books that apply, most specific first (one query)."""
    valid = (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )
    which = Q(kind=PriceBookKind.STANDARD)
    if customer.value_class:
        which |= Q(kind=PriceBookKind.CLASS, customer_class=customer.value_class)
    if customer.account_id is not None:
        which |= Q(kind=PriceBookKind.CUSTOMER, account_id=customer.account_id)
    elif customer.contact_id is not None:
        which |= Q(
            kind=PriceBookKind.CUSTOMER, contact_id=customer.contact_id, account__isnull=True
        )
    books = list(
        PriceBook.objects.in_workspace(workspace)
        .filter(valid, which, active=True, currency=currency)
        .order_by("id")
    )
    # Within one level, the book that started most recently wins, then the newest.
    books.sort(key=lambda b: (-(b.valid_from or dt.date.min).toordinal(), -b.pk))
    books.sort(key=lambda b: _RANK[SOURCES[b.kind]])
    return books


def price_book_for(
    *,
    workspace,
    account=None,
    contact=None,
    currency: str | None = None,
    on: dt.date | None = None,
) -> PriceBook:
    """The most specific book that applies to the customer (whether or not it lists a given
    product); ``no_price_book`` when none does."""
    _check_customer(workspace, account, contact)
    customer = _customer(account, contact)
    code = _currency(workspace, customer, currency)
    books = books_for(workspace, customer, code, on or timezone.localdate())
    if not books:
        raise ApplicationError(
            _("There is no active price book in %(currency)s for this customer.")
            % {"currency": code},
            code="no_price_book",
            fields={"currency": [_("No price book in this currency.")]},
        )
    return books[0]


def prices_for(
    *,
    workspace,
    products: Iterable = (),
    product_ids: Iterable[int] | None = None,
    account=None,
    contact=None,
    currency: str | None = None,
    on: dt.date | None = None,
) -> dict[int, Price]:
    """Each product's price for the customer, keyed by product id, in three queries whatever
    the number of products. Products without a price anywhere are left out. ``products``
    are Product rows or ids (``product_ids`` is the same, by name)."""
    wanted: list[int] = []
    for item in list(products) + list(product_ids or ()):
        pk = item.pk if isinstance(item, Product) else item
        if isinstance(item, Product) and item.workspace_id != workspace.pk:
            raise NotFound()
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise NotFound() from None
        if pk not in wanted:
            wanted.append(pk)
    if not wanted:
        return {}
    _check_customer(workspace, account, contact)
    customer = _customer(account, contact)
    code = _currency(workspace, customer, currency)
    tax = dict(
        Product.objects.in_workspace(workspace)
        .filter(pk__in=wanted)
        .values_list("pk", "tax_rate__rate")
    )
    if len(tax) != len(wanted):
        raise NotFound(_("Product not found."))
    books = books_for(workspace, customer, code, on or timezone.localdate())
    if not books:
        return {}
    order = {book.pk: index for index, book in enumerate(books)}
    kinds = {book.pk: SOURCES[book.kind] for book in books}
    entries = sorted(
        PriceBookEntry.objects.in_workspace(workspace)
        .filter(price_book_id__in=list(order), product_id__in=wanted)
        .values_list("price_book_id", "product_id", "unit_price"),
        key=lambda row: order[row[0]],
    )
    found: dict[int, Price] = {}
    for book_id, product_id, unit_price in entries:
        if product_id not in found:
            found[product_id] = Price(
                product_id=product_id,
                unit_price=unit_price,
                currency=code,
                price_book_id=book_id,
                source=kinds[book_id],
                tax_rate=tax[product_id] if tax[product_id] is not None else Decimal(0),
            )
    return found


def price_for(
    *,
    workspace,
    product,
    account=None,
    contact=None,
    currency: str | None = None,
    on: dt.date | None = None,
) -> Price:
    """One product's price for the customer; ``no_price`` when no applicable book lists it."""
    found = prices_for(
        workspace=workspace,
        products=[product],
        account=account,
        contact=contact,
        currency=currency,
        on=on,
    )
    pk = product.pk if isinstance(product, Product) else int(product)
    price = found.get(pk)
    if price is None:
        if not isinstance(product, Product):
            product = Product.objects.in_workspace(workspace).get(pk=pk)
        customer = _customer(account, contact)
        raise ApplicationError(
            _("%(product)s has no price in %(currency)s for this customer in any price book.")
            % {"product": str(product), "currency": _currency(workspace, customer, currency)},
            code="no_price",
            fields={"product": [_("No price for this product.")]},
        )
    return price
