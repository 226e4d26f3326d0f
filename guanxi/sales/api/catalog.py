"""``/products``, ``/price-books`` (and their ``/entries`` and ``/import``), ``/tax-rates``,
``/currencies``, ``/exchange-rates`` and ``/prices`` (the price resolved for a customer).
The same services and selectors as the pages; another workspace's ids are 404, missing
rights 403."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from guanxi.common.api import Id, PageParams, PatchSchema, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.views import actor_scope
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import PriceBook, PriceBookEntry, Product
from ..objects import PRICE_BOOK, PRODUCT
from ..selectors import catalog as selectors
from ..services import catalog as services
from ..services import pricing

router = Router()
PRODUCT_TAGS = ["Products"]
BOOK_TAGS = ["Price books"]
SETTINGS_TAGS = ["Sales settings"]

KindName = Literal["standard", "class", "customer"]
ClassName = Literal["A", "B", "C"]
Price = Decimal


# --- schemas ---------------------------------------------------------------------------------


class TaxRateOut(Schema):
    id: int
    name: str
    rate: Decimal = Field(..., description="A fraction: 0.13 is 13%.")
    is_default: bool
    active: bool


class TaxRateIn(Schema):
    name: bounded_text(60, min_length=1)
    rate: Decimal = Field(..., ge=0, lt=1, decimal_places=4, description="0.13 is 13%.")
    is_default: bool = False
    active: bool = True


class TaxRatePatch(PatchSchema):
    name: bounded_text(60, min_length=1) | None = None
    rate: Decimal | None = Field(None, ge=0, lt=1, decimal_places=4)
    is_default: bool | None = None
    active: bool | None = None


class CurrencyOut(Schema):
    id: int
    code: str
    name: str
    decimals: int
    active: bool
    is_base: bool = Field(..., description="The workspace's base currency (its rate is 1).")


class CurrencyIn(Schema):
    code: bounded_text(3, min_length=3) = Field(..., description="ISO 4217, e.g. USD.")
    name: bounded_text(60) = Field("", description="Default: the name in the workspace's language.")
    decimals: int | None = Field(None, ge=0, le=4, description="Default: the currency's own.")
    active: bool = True


class CurrencyPatch(PatchSchema):
    name: bounded_text(60) | None = None
    decimals: int | None = Field(None, ge=0, le=4)
    active: bool | None = None


class ExchangeRateOut(Schema):
    id: int
    currency: str
    valid_from: dt.date
    rate: Decimal = Field(..., description="Units of the base currency per unit, from that day.")


class ExchangeRateIn(Schema):
    currency: bounded_text(3, min_length=3)
    valid_from: dt.date
    rate: Decimal = Field(..., gt=0, decimal_places=8)


class ExchangeRatePatch(Schema):
    rate: Decimal = Field(..., gt=0, decimal_places=8)


class ExchangeRateFilters(Schema):
    currency: bounded_text(3) | None = None


class ProductOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    category: str
    description: str
    unit: str
    tax_rate_id: int | None
    tax_rate: Decimal | None = Field(..., description="The product's VAT rate (a fraction).")
    active: bool


class ProductIn(Schema):
    code: bounded_text(64, min_length=1) = Field(..., description="Unique in the workspace.")
    name: bounded_text(200, min_length=1)
    name_en: bounded_text(200) = ""
    category: bounded_text(100) = ""
    description: bounded_text(10_000) = ""
    unit: bounded_text(20) = Field("", description="台, 套, 件, 年…")
    tax_rate_id: Id | None = Field(None, description="Default: the workspace's default rate.")
    active: bool = True


class ProductPatch(PatchSchema):
    code: bounded_text(64, min_length=1) | None = None
    name: bounded_text(200, min_length=1) | None = None
    name_en: bounded_text(200) | None = None
    category: bounded_text(100) | None = None
    description: bounded_text(10_000) | None = None
    unit: bounded_text(20) | None = None
    tax_rate_id: Id | None = None
    active: bool | None = Field(None, description="false takes the product off the picker.")


class ProductFilters(Schema):
    q: bounded_text(100) = Field("", description="Code, name, English name, pinyin, initials.")
    category: bounded_text(100) = ""
    active: bool | None = None


class BookRef(Schema):
    id: int
    name: str
    kind: KindName
    currency: str


class ProductPriceOut(Schema):
    price_book: BookRef
    unit_price: Price


class PriceBookOut(Schema):
    id: int
    name: str
    kind: KindName
    currency: str
    customer_class: str
    account_id: int | None
    contact_id: int | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    active: bool
    notes: str


class PriceBookIn(Schema):
    name: bounded_text(120, min_length=1)
    kind: KindName = "standard"
    currency: bounded_text(3, min_length=3)
    customer_class: ClassName | None = Field(None, description="Class books only.")
    account_id: Id | None = Field(None, description="Customer books: the account…")
    contact_id: Id | None = Field(None, description="…or the individual customer.")
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    active: bool = True
    notes: bounded_text(10_000) = ""


class PriceBookPatch(PatchSchema):
    name: bounded_text(120, min_length=1) | None = None
    kind: KindName | None = None
    currency: bounded_text(3, min_length=3) | None = None
    customer_class: ClassName | None = None
    account_id: Id | None = None
    contact_id: Id | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    active: bool | None = None
    notes: bounded_text(10_000) | None = None


class PriceBookFilters(Schema):
    kind: KindName | None = None
    currency: bounded_text(3) | None = None


class EntryOut(Schema):
    product_id: int
    product_code: str
    product_name: str
    unit_price: Price


class EntryIn(Schema):
    unit_price: Decimal = Field(..., ge=0, decimal_places=4)


class EntryFilters(Schema):
    q: bounded_text(100) = ""


class ImportOut(Schema):
    rows: int
    created: int
    updated: int
    unchanged: int


class PriceQuery(Schema):
    product: Id
    account: Id | None = None
    contact: Id | None = Field(None, description="An individual customer (or a person).")
    currency: bounded_text(3) | None = Field(
        None, description="Default: the customer's currency, else the base currency."
    )
    on: dt.date | None = Field(None, description="Default: today.")


class ResolvedPriceOut(Schema):
    product_id: int
    unit_price: Price
    currency: str
    price_book_id: int
    price_book_name: str
    source: Literal["customer", "class", "standard"]
    tax_rate: Decimal


# --- serializers -----------------------------------------------------------------------------


def product_out(row: Product) -> dict:
    return {
        "id": row.pk,
        "code": row.code,
        "name": row.name,
        "name_en": row.name_en,
        "category": row.category,
        "description": row.description,
        "unit": row.unit,
        "tax_rate_id": row.tax_rate_id,
        "tax_rate": row.tax_rate.rate if row.tax_rate_id else None,
        "active": row.active,
    }


def book_out(row: PriceBook) -> dict:
    return {
        "id": row.pk,
        "name": row.name,
        "kind": row.kind,
        "currency": row.currency,
        "customer_class": row.customer_class,
        "account_id": row.account_id,
        "contact_id": row.contact_id,
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
        "active": row.active,
        "notes": row.notes,
    }


def entry_out(row: PriceBookEntry) -> dict:
    return {
        "product_id": row.product_id,
        "product_code": row.product.code,
        "product_name": row.product.name,
        "unit_price": row.unit_price,
    }


def _product(request, product_id) -> dict:
    return product_out(selectors.product_get(**actor_scope(request), product_id=product_id))


# --- products --------------------------------------------------------------------------------


@router.get(
    "/products",
    response=documented(page_of(ProductOut)),
    tags=PRODUCT_TAGS,
    operation_id="products_list",
    summary="List or search the products (by code)",
)
def products_list(request, filters: Query[ProductFilters], page: Query[PageParams]):
    qs = selectors.product_list(
        **actor_scope(request), q=filters.q, category=filters.category, active=filters.active
    )
    return page_response(qs, page, product_out, key="code")


@router.post(
    "/products",
    response=documented(ProductOut, status=201),
    tags=PRODUCT_TAGS,
    operation_id="products_create",
    summary="Add a product (a code used already: 409)",
)
def products_create(request, payload: ProductIn):
    values = payload.model_dump(exclude_unset=True)
    row = services.product_create(**actor_scope(request), **values)
    return Status(201, _product(request, row.pk))


@router.get(
    "/products/{product_id}",
    response=documented(ProductOut),
    tags=PRODUCT_TAGS,
    operation_id="products_get",
    summary="A product",
)
def products_get(request, product_id: Id):
    return _product(request, product_id)


@router.patch(
    "/products/{product_id}",
    response=documented(ProductOut),
    tags=PRODUCT_TAGS,
    operation_id="products_update",
    summary="Change a product; `active: false` deactivates it",
)
def products_update(request, product_id: Id, payload: ProductPatch):
    services.product_update(**actor_scope(request), product_id=product_id, **payload.changes())
    return _product(request, product_id)


@router.get(
    "/products/{product_id}/prices",
    response=documented(list[ProductPriceOut]),
    tags=PRODUCT_TAGS,
    operation_id="products_prices",
    summary="The product's price in every book",
)
def products_prices(request, product_id: Id):
    permissions.require(request.user, PRICE_BOOK, Action.READ)
    rows = selectors.product_prices(**actor_scope(request), product_id=product_id)
    return [
        {
            "price_book": {
                "id": e.price_book.pk,
                "name": e.price_book.name,
                "kind": e.price_book.kind,
                "currency": e.price_book.currency,
            },
            "unit_price": e.unit_price,
        }
        for e in rows
    ]


# --- price books -----------------------------------------------------------------------------


@router.get(
    "/price-books",
    response=documented(list[PriceBookOut]),
    tags=BOOK_TAGS,
    operation_id="price_books_list",
    summary="The price books (active first)",
)
def price_books_list(request, filters: Query[PriceBookFilters]):
    qs = selectors.price_book_list(
        **actor_scope(request), kind=filters.kind or "", currency=filters.currency or ""
    )
    return [book_out(b) for b in qs[:1000]]


@router.post(
    "/price-books",
    response=documented(PriceBookOut, status=201),
    tags=BOOK_TAGS,
    operation_id="price_books_create",
    summary="Add a price book (a second active standard book in a currency: 409)",
)
def price_books_create(request, payload: PriceBookIn):
    row = services.price_book_create(**actor_scope(request), **payload.model_dump())
    return Status(201, book_out(row))


@router.get(
    "/price-books/{price_book_id}",
    response=documented(PriceBookOut),
    tags=BOOK_TAGS,
    operation_id="price_books_get",
    summary="A price book",
)
def price_books_get(request, price_book_id: Id):
    return book_out(selectors.price_book_get(**actor_scope(request), price_book_id=price_book_id))


@router.patch(
    "/price-books/{price_book_id}",
    response=documented(PriceBookOut),
    tags=BOOK_TAGS,
    operation_id="price_books_update",
    summary="Change a price book",
)
def price_books_update(request, price_book_id: Id, payload: PriceBookPatch):
    row = services.price_book_update(
        **actor_scope(request), price_book_id=price_book_id, **payload.changes()
    )
    return book_out(row)


@router.get(
    "/price-books/{price_book_id}/entries",
    response=documented(page_of(EntryOut)),
    tags=BOOK_TAGS,
    operation_id="price_books_entries",
    summary="The book's prices, by product id",
)
def price_books_entries(
    request, price_book_id: Id, filters: Query[EntryFilters], page: Query[PageParams]
):
    qs = selectors.price_book_entries(
        **actor_scope(request), price_book_id=price_book_id, q=filters.q
    )
    permissions.require(request.user, PRODUCT, Action.READ)
    return page_response(qs, page, entry_out, key="product_id")


@router.put(
    "/price-books/{price_book_id}/entries/{product_id}",
    response=documented(EntryOut),
    tags=BOOK_TAGS,
    operation_id="price_books_entry_set",
    summary="Set a product's price in the book",
)
def price_books_entry_set(request, price_book_id: Id, product_id: Id, payload: EntryIn):
    entry = services.price_entry_set(
        **actor_scope(request),
        price_book_id=price_book_id,
        product_id=product_id,
        unit_price=payload.unit_price,
    )
    return entry_out(entry)


@router.delete(
    "/price-books/{price_book_id}/entries/{product_id}",
    response=documented(None, status=204),
    tags=BOOK_TAGS,
    operation_id="price_books_entry_remove",
    summary="Take a product out of the book",
)
def price_books_entry_remove(request, price_book_id: Id, product_id: Id):
    services.price_entry_remove(
        **actor_scope(request), price_book_id=price_book_id, product_id=product_id
    )
    return Status(204, None)


@router.post(
    "/price-books/{price_book_id}/import",
    response=documented(ImportOut),
    tags=BOOK_TAGS,
    operation_id="price_books_import",
    summary="Set the book's prices from a CSV or XLSX price list (all or nothing)",
)
def price_books_import(request, price_book_id: Id, file: File[UploadedFile]):
    """The first row names the columns: product code (``code``, ``产品编码``…) and price
    (``price``, ``单价``…). Any bad row refuses the file: 400 ``import_invalid`` with the
    messages per row in ``fields`` ("Row 3": [...])."""
    if file.size and file.size > services.IMPORT_MAX_BYTES:
        content = b"x" * (services.IMPORT_MAX_BYTES + 1)
    else:
        content = file.read()
    result = services.price_list_import(
        **actor_scope(request),
        price_book_id=price_book_id,
        file_name=file.name or "",
        content=content,
    )
    return {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }


# --- the resolved price ----------------------------------------------------------------------


def _customer(request, kind: str, pk):
    """The account or contact the actor may see (404 otherwise, other workspaces too)."""
    if pk is None:
        return None
    if kind == "account":
        return customer_selectors.account_get(**actor_scope(request), account_id=pk)
    return customer_selectors.contact_get(**actor_scope(request), contact_id=pk)


@router.get(
    "/prices",
    response=documented(ResolvedPriceOut),
    tags=BOOK_TAGS,
    operation_id="prices_resolve",
    summary="The price of a product for a customer (customer book → class book → standard)",
)
def prices_resolve(request, query: Query[PriceQuery]):
    """No book lists the product for this customer and currency: 400 ``no_price``."""
    permissions.require(request.user, PRICE_BOOK, Action.READ)
    product = selectors.product_get(**actor_scope(request), product_id=query.product)
    workspace = request.workspace
    price = pricing.price_for(
        workspace=workspace,
        product=product,
        account=_customer(request, "account", query.account),
        contact=_customer(request, "contact", query.contact),
        currency=query.currency,
        on=query.on,
    )
    book = selectors.price_book_get(**actor_scope(request), price_book_id=price.price_book_id)
    return {
        "product_id": price.product_id,
        "unit_price": price.unit_price,
        "currency": price.currency,
        "price_book_id": price.price_book_id,
        "price_book_name": book.name,
        "source": price.source,
        "tax_rate": price.tax_rate,
    }


# --- tax rates, currencies, exchange rates -------------------------------------------------------


def tax_rate_out(row) -> dict:
    return {
        "id": row.pk,
        "name": row.name,
        "rate": row.rate,
        "is_default": row.is_default,
        "active": row.active,
    }


@router.get(
    "/tax-rates",
    response=documented(list[TaxRateOut]),
    tags=SETTINGS_TAGS,
    operation_id="tax_rates_list",
    summary="The workspace's VAT rates",
)
def tax_rates_list(request):
    return [tax_rate_out(r) for r in selectors.tax_rate_list(**actor_scope(request))[:500]]


@router.post(
    "/tax-rates",
    response=documented(TaxRateOut, status=201),
    tags=SETTINGS_TAGS,
    operation_id="tax_rates_create",
    summary="Add a VAT rate",
)
def tax_rates_create(request, payload: TaxRateIn):
    return Status(
        201, tax_rate_out(services.tax_rate_create(**actor_scope(request), **payload.model_dump()))
    )


@router.patch(
    "/tax-rates/{tax_rate_id}",
    response=documented(TaxRateOut),
    tags=SETTINGS_TAGS,
    operation_id="tax_rates_update",
    summary="Change a VAT rate (or deactivate it)",
)
def tax_rates_update(request, tax_rate_id: Id, payload: TaxRatePatch):
    row = services.tax_rate_update(
        **actor_scope(request), tax_rate_id=tax_rate_id, **payload.changes()
    )
    return tax_rate_out(row)


def currency_out(row, base: str) -> dict:
    return {
        "id": row.pk,
        "code": row.code,
        "name": row.name,
        "decimals": row.decimals,
        "active": row.active,
        "is_base": row.code == base,
    }


@router.get(
    "/currencies",
    response=documented(list[CurrencyOut]),
    tags=SETTINGS_TAGS,
    operation_id="currencies_list",
    summary="The currencies the workspace trades in",
)
def currencies_list(request):
    base = request.workspace.default_currency
    return [currency_out(r, base) for r in selectors.currency_list(**actor_scope(request))[:500]]


@router.post(
    "/currencies",
    response=documented(CurrencyOut, status=201),
    tags=SETTINGS_TAGS,
    operation_id="currencies_create",
    summary="Add a currency (ISO 4217)",
)
def currencies_create(request, payload: CurrencyIn):
    row = services.currency_create(**actor_scope(request), **payload.model_dump())
    return Status(201, currency_out(row, request.workspace.default_currency))


@router.patch(
    "/currencies/{currency_id}",
    response=documented(CurrencyOut),
    tags=SETTINGS_TAGS,
    operation_id="currencies_update",
    summary="Rename a currency, change its decimals or (de)activate it",
)
def currencies_update(request, currency_id: Id, payload: CurrencyPatch):
    row = services.currency_update(
        **actor_scope(request), currency_id=currency_id, **payload.changes()
    )
    return currency_out(row, request.workspace.default_currency)


def rate_out(row) -> dict:
    return {"id": row.pk, "currency": row.currency, "valid_from": row.valid_from, "rate": row.rate}


@router.get(
    "/exchange-rates",
    response=documented(page_of(ExchangeRateOut)),
    tags=SETTINGS_TAGS,
    operation_id="exchange_rates_list",
    summary="Exchange rates to the base currency, by id",
)
def exchange_rates_list(request, filters: Query[ExchangeRateFilters], page: Query[PageParams]):
    qs = selectors.exchange_rate_list(**actor_scope(request), currency=filters.currency or "")
    return page_response(qs.order_by(), page, rate_out, key="pk")


@router.post(
    "/exchange-rates",
    response=documented(ExchangeRateOut, status=201),
    tags=SETTINGS_TAGS,
    operation_id="exchange_rates_create",
    summary="Add a rate from a day on (one per currency and day: 409)",
)
def exchange_rates_create(request, payload: ExchangeRateIn):
    row = services.exchange_rate_create(**actor_scope(request), **payload.model_dump())
    return Status(201, rate_out(row))


@router.patch(
    "/exchange-rates/{rate_id}",
    response=documented(ExchangeRateOut),
    tags=SETTINGS_TAGS,
    operation_id="exchange_rates_update",
    summary="Correct a rate",
)
def exchange_rates_update(request, rate_id: Id, payload: ExchangeRatePatch):
    row = services.exchange_rate_update(**actor_scope(request), rate_id=rate_id, rate=payload.rate)
    return rate_out(row)


@router.delete(
    "/exchange-rates/{rate_id}",
    response=documented(None, status=204),
    tags=SETTINGS_TAGS,
    operation_id="exchange_rates_delete",
    summary="Delete a rate",
)
def exchange_rates_delete(request, rate_id: Id):
    services.exchange_rate_delete(**actor_scope(request), rate_id=rate_id)
    return Status(204, None)
