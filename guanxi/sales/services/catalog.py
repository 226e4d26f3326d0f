"""The catalogue: tax rates, currencies and exchange rates (the sales configuration),
products, price books and their prices, and the import of a price list into a book.

Every function checks the actor's right before it opens its transaction, reports every bad
field at once (``FieldErrors``), writes nothing on bad input, and leaves an audit row.
Tax rates, currencies and rates need the ``sales.configuration`` right, products
``sales.product``, price books and their prices ``sales.price_book``.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_name, get_currency_precision, list_currencies
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.customers.models import Account, Contact
from guanxi.customers.normalize import fold, pinyin
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action

from ..models import (
    CUSTOMER_CLASSES,
    Currency,
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    PriceBookKind,
    Product,
    SalesSettings,
    TaxRate,
)
from ..objects import CONFIGURATION, PRICE_BOOK, PRODUCT
from . import money
from .setup import ensure_sales_defaults

MAX_PRICE = Decimal("99999999999999")  # 14 integer digits: the column's 18 minus 4 decimals
MAX_RATE = Decimal("9999999999")  # 10 integer digits: the column's 18 minus 8 decimals
IMPORT_MAX_ROWS = 20_000
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ERRORS = 50
ISO_CURRENCIES = frozenset(list_currencies())


# --- input cleaning ----------------------------------------------------------------------------


def _text(errors: FieldErrors, value, *, name: str, max_length: int, required=False) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        errors.add(name, _("Text may not contain NUL characters."))
        return ""
    text = text.strip()
    if required and not text:
        errors.add(name, _("This field is required."))
    elif len(text) > max_length:
        errors.add(name, _("At most %(n)s characters.") % {"n": max_length})
    return text


def _decimal(errors: FieldErrors, value, *, name: str, places: int, maximum: Decimal):
    """A Decimal with at most ``places`` decimals, or None (and an error). Floats are
    refused: money and rates are never binary fractions."""
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add(name, _("This field is required."))
        return None
    if isinstance(value, float | bool):
        errors.add(name, _("Enter a number."))
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        errors.add(name, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(name, _("Enter a number."))
        return None
    if abs(number) >= maximum:
        errors.add(name, _("The number is too large."))
        return None
    if number != number.quantize(Decimal(1).scaleb(-places)):
        errors.add(name, _("At most %(n)s decimal places.") % {"n": places})
        return None
    return number


def _date(errors: FieldErrors, value, *, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(name, _("Enter a date as YYYY-MM-DD."))
        return None


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def _id(value) -> int:
    """A record id from the caller, or "not found" for anything that is not one."""
    if hasattr(value, "pk"):
        value = value.pk
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
    if pk < 1 or pk > 2**63 - 1:
        raise NotFound()
    return pk


def _get(model, workspace, value, *, select_for_update=False):
    qs = model.objects.in_workspace(workspace)
    if select_for_update:
        qs = qs.select_for_update()
    row = qs.filter(pk=_id(value)).first()
    if row is None:
        raise NotFound()
    return row


def currency_code(errors: FieldErrors, value, *, name: str = "currency") -> str:
    """An ISO 4217 code (three letters, a currency that exists), upper case."""
    code = _text(errors, value, name=name, max_length=3, required=True).upper()
    if code and code not in ISO_CURRENCIES:
        errors.add(
            name,
            _("%(code)s is not an ISO 4217 currency code (three letters, e.g. CNY, USD).")
            % {"code": code[:3]},
        )
        return ""
    return code


def _workspace_currency(errors: FieldErrors, workspace, value, *, name="currency") -> str:
    """A code of one of the workspace's active currencies."""
    code = currency_code(errors, value, name=name)
    if code and code != money.base_currency(workspace):
        known = Currency.objects.in_workspace(workspace).filter(code=code, active=True).exists()
        if not known:
            errors.add(
                name,
                _("Add %(code)s under Sales settings → Currencies first.") % {"code": code},
            )
            return ""
    return code


# --- tax rates -------------------------------------------------------------------------------


def _clean_tax_rate(errors, values: dict) -> dict:
    out = {}
    if "name" in values:
        out["name"] = _text(errors, values["name"], name="name", max_length=60, required=True)
    if "rate" in values:
        rate = _decimal(errors, values["rate"], name="rate", places=4, maximum=Decimal(100))
        if rate is not None and not (Decimal(0) <= rate < Decimal(1)):
            errors.add("rate", _("A tax rate is a fraction from 0 to below 1 (0.13 is 13%)."))
        out["rate"] = rate
    for flag in ("is_default", "active"):
        if flag in values:
            out[flag] = _bool(values[flag])
    return out


def _one_default_tax_rate(workspace, row: TaxRate) -> None:
    if row.is_default:
        TaxRate.objects.in_workspace(workspace).exclude(pk=row.pk).filter(is_default=True).update(
            is_default=False
        )


def tax_rate_create(*, actor, workspace, name, rate, is_default=False, active=True) -> TaxRate:
    """A VAT rate (``rate`` a fraction: 0.13 for 13%). A new default replaces the old one."""
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    errors = FieldErrors()
    values = _clean_tax_rate(
        errors, {"name": name, "rate": rate, "is_default": is_default, "active": active}
    )
    errors.raise_if_any()
    with transaction.atomic():
        if TaxRate.objects.in_workspace(workspace).filter(name=values["name"]).exists():
            raise _duplicate("name", _("A tax rate with this name exists already."))
        row = TaxRate.objects.create(workspace=workspace, **values)
        _one_default_tax_rate(workspace, row)
        audit.log_create(actor=actor, instance=row)
    return row


def tax_rate_update(*, actor, workspace, tax_rate_id, **changes) -> TaxRate:
    """Change a tax rate's name, rate, default flag or active flag. A rate that products
    use can be deactivated (new products cannot pick it) but not deleted."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    values = _clean_tax_rate(errors, _known(changes, ("name", "rate", "is_default", "active")))
    errors.raise_if_any()
    with transaction.atomic():
        row = _get(TaxRate, workspace, tax_rate_id, select_for_update=True)
        if (
            "name" in values
            and TaxRate.objects.in_workspace(workspace)
            .filter(name=values["name"])
            .exclude(pk=row.pk)
            .exists()
        ):
            raise _duplicate("name", _("A tax rate with this name exists already."))
        before = audit.snapshot(row)
        for field, value in values.items():
            setattr(row, field, value)
        row.save()
        _one_default_tax_rate(workspace, row)
        audit.log_update(actor=actor, instance=row, before=before)
    return row


def _known(changes: dict, allowed: tuple[str, ...]) -> dict:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)},
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    return changes


def _duplicate(field: str, message) -> Conflict:
    return Conflict(message, code="duplicate", fields={field: [message]})


# --- currencies and exchange rates -------------------------------------------------------------


def currency_create(*, actor, workspace, code, name="", decimals=None, active=True) -> Currency:
    """A currency the workspace trades in (ISO 4217). Its name defaults to the name in the
    workspace's language, its decimals to the currency's usual ones."""
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    ensure_sales_defaults(workspace)
    errors = FieldErrors()
    code = currency_code(errors, code, name="code")
    name = _text(errors, name, name="name", max_length=60)
    places = _decimals(errors, decimals, code)
    errors.raise_if_any()
    if not name:
        name = get_currency_name(code, locale=_babel_locale(workspace))[:60]
    with transaction.atomic():
        if Currency.objects.in_workspace(workspace).filter(code=code).exists():
            raise _duplicate("code", _("This currency is set up already."))
        row = Currency.objects.create(
            workspace=workspace, code=code, name=name, decimals=places, active=_bool(active)
        )
        audit.log_create(actor=actor, instance=row)
    return row


def _decimals(errors, value, code: str) -> int:
    if value in (None, ""):
        return get_currency_precision(code) if code else 2
    try:
        places = int(value)
    except (TypeError, ValueError):
        places = -1
    if not 0 <= places <= 4:
        errors.add("decimals", _("From 0 to 4 decimal places."))
        return 2
    return places


def _babel_locale(workspace) -> str:
    return {"zh-hans": "zh_Hans_CN", "zh-hant": "zh_Hant_TW"}.get(
        (workspace.language or "").lower(), "en"
    )


def currency_update(*, actor, workspace, currency_id, **changes) -> Currency:
    """Rename a currency, change its decimals, or (de)activate it. The code never changes;
    the base currency stays active."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    _known(changes, ("name", "decimals", "active"))
    errors = FieldErrors()
    values: dict = {}
    if "name" in changes:
        values["name"] = _text(errors, changes["name"], name="name", max_length=60)
    with transaction.atomic():
        row = _get(Currency, workspace, currency_id, select_for_update=True)
        if "decimals" in changes:
            values["decimals"] = _decimals(errors, changes["decimals"], row.code)
        if "active" in changes:
            values["active"] = _bool(changes["active"])
            if not values["active"] and row.code == money.base_currency(workspace):
                errors.add("active", _("The base currency cannot be deactivated."))
        errors.raise_if_any()
        before = audit.snapshot(row)
        for field, value in values.items():
            setattr(row, field, value)
        row.save()
        audit.log_update(actor=actor, instance=row, before=before)
    return row


def _clean_rate(errors, workspace, *, currency, valid_from, rate) -> dict:
    code = _workspace_currency(errors, workspace, currency)
    if code and code == money.base_currency(workspace):
        errors.add(
            "currency",
            _("The base currency's rate is always 1 and cannot be changed."),
        )
    day = _date(errors, valid_from, name="valid_from")
    if day is None and "valid_from" not in errors.fields:
        errors.add("valid_from", _("This field is required."))
    value = _decimal(errors, rate, name="rate", places=8, maximum=MAX_RATE)
    if value is not None and value <= 0:
        errors.add("rate", _("An exchange rate must be greater than 0."))
    return {"currency": code, "valid_from": day, "rate": value}


def exchange_rate_create(*, actor, workspace, currency, valid_from, rate) -> ExchangeRate:
    """How many units of the base currency one unit of ``currency`` is worth from
    ``valid_from`` on. One rate per currency and day."""
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    errors = FieldErrors()
    values = _clean_rate(errors, workspace, currency=currency, valid_from=valid_from, rate=rate)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            if (
                ExchangeRate.objects.in_workspace(workspace)
                .filter(currency=values["currency"], valid_from=values["valid_from"])
                .exists()
            ):
                raise _duplicate("valid_from", _("This currency has a rate for that day already."))
            row = ExchangeRate.objects.create(workspace=workspace, **values)
            audit.log_create(actor=actor, instance=row)
    except IntegrityError:  # a concurrent request added the same day
        raise _duplicate(
            "valid_from", _("This currency has a rate for that day already.")
        ) from None
    return row


def exchange_rate_update(*, actor, workspace, rate_id, rate) -> ExchangeRate:
    """Correct a rate's value (its currency and day stay)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    value = _decimal(errors, rate, name="rate", places=8, maximum=MAX_RATE)
    if value is not None and value <= 0:
        errors.add("rate", _("An exchange rate must be greater than 0."))
    errors.raise_if_any()
    with transaction.atomic():
        row = _get(ExchangeRate, workspace, rate_id, select_for_update=True)
        before = audit.snapshot(row)
        row.rate = value
        row.save()
        audit.log_update(actor=actor, instance=row, before=before)
    return row


def exchange_rate_delete(*, actor, workspace, rate_id) -> None:
    permissions.require(actor, CONFIGURATION, Action.DELETE)
    with transaction.atomic():
        row = _get(ExchangeRate, workspace, rate_id, select_for_update=True)
        audit.log_delete(actor=actor, instance=row)
        row.delete()


# --- products --------------------------------------------------------------------------------

PRODUCT_FIELDS = ("code", "name", "name_en", "category", "description", "unit", "tax_rate_id")


def product_search_text(*, code: str, name: str, name_en: str) -> str:
    """What the product picker searches: code, names, the name's pinyin and initials."""
    full, initials = pinyin(name)
    return " ".join(p for p in (fold(code), fold(name), fold(name_en), full, initials) if p)


def _clean_product(errors, workspace, values: dict, *, partial: bool) -> dict:
    out: dict = {}
    limits = {"code": 64, "name": 200, "name_en": 200, "category": 100, "unit": 20}
    for field, limit in limits.items():
        if field in values or not partial:
            out[field] = _text(
                errors,
                values.get(field),
                name=field,
                max_length=limit,
                required=field in ("code", "name"),
            )
    if "description" in values or not partial:
        out["description"] = _text(
            errors, values.get("description"), name="description", max_length=10_000
        )
    if "tax_rate_id" in values:
        tax = values["tax_rate_id"]
        if tax in (None, ""):
            out["tax_rate_id"] = None
        else:
            try:
                pk = _id(tax)
            except NotFound:
                pk = None
            ok = (
                pk is not None
                and TaxRate.objects.in_workspace(workspace).filter(pk=pk, active=True).exists()
            )
            if ok:
                out["tax_rate_id"] = pk
            else:
                errors.add("tax_rate_id", _("Choose one of the active tax rates."))
    if "active" in values:
        out["active"] = _bool(values["active"])
    return out


def _code_taken(workspace, code: str, exclude: int | None = None) -> bool:
    qs = Product.objects.in_workspace(workspace).filter(code=code)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


def product_create(*, actor, workspace, **values) -> Product:
    """A product: ``code`` (unique in the workspace), ``name``, and optionally ``name_en``,
    ``category``, ``description``, ``unit`` and ``tax_rate_id`` (default: the workspace's
    default tax rate)."""
    permissions.require(actor, PRODUCT, Action.CREATE)
    _known(values, (*PRODUCT_FIELDS, "active"))
    ensure_sales_defaults(workspace)
    if "tax_rate_id" not in values:
        values["tax_rate_id"] = (
            TaxRate.objects.in_workspace(workspace)
            .filter(is_default=True, active=True)
            .values_list("pk", flat=True)
            .first()
        )
    errors = FieldErrors()
    clean = _clean_product(errors, workspace, values, partial=False)
    if clean.get("code") and _code_taken(workspace, clean["code"]):
        errors.raise_if_any()
        raise _duplicate("code", _("Another product has this code."))
    errors.raise_if_any()
    clean["search_text"] = product_search_text(
        code=clean["code"], name=clean["name"], name_en=clean["name_en"]
    )
    try:
        with transaction.atomic():
            row = Product.objects.create(workspace=workspace, **clean)
            audit.log_create(actor=actor, instance=row)
    except IntegrityError:
        raise _duplicate("code", _("Another product has this code.")) from None
    return row


def product_update(*, actor, workspace, product_id, **changes) -> Product:
    """Change any of the product's fields (``active`` too)."""
    permissions.require(actor, PRODUCT, Action.UPDATE)
    _known(changes, (*PRODUCT_FIELDS, "active"))
    errors = FieldErrors()
    clean = _clean_product(errors, workspace, changes, partial=True)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            row = _get(Product, workspace, product_id, select_for_update=True)
            if clean.get("code") and _code_taken(workspace, clean["code"], exclude=row.pk):
                raise _duplicate("code", _("Another product has this code."))
            before = audit.snapshot(row)
            for field, value in clean.items():
                setattr(row, field, value)
            row.search_text = product_search_text(code=row.code, name=row.name, name_en=row.name_en)
            row.save()
            audit.log_update(actor=actor, instance=row, before=before)
    except IntegrityError:
        raise _duplicate("code", _("Another product has this code.")) from None
    return row


def product_deactivate(*, actor, workspace, product_id) -> Product:
    """Take a product off the picker; its prices, quotes and orders stay."""
    return product_update(actor=actor, workspace=workspace, product_id=product_id, active=False)


# --- price books -----------------------------------------------------------------------------

BOOK_FIELDS = (
    "name",
    "kind",
    "currency",
    "customer_class",
    "account_id",
    "contact_id",
    "valid_from",
    "valid_until",
    "active",
    "notes",
)


def _clean_book(errors, workspace, values: dict) -> dict:
    """Every field of a book (the caller merges the old values with the changes)."""
    out = {
        "name": _text(errors, values.get("name"), name="name", max_length=120, required=True),
        "notes": _text(errors, values.get("notes"), name="notes", max_length=10_000),
        "active": _bool(values.get("active", True)),
        "valid_from": _date(errors, values.get("valid_from"), name="valid_from"),
        "valid_until": _date(errors, values.get("valid_until"), name="valid_until"),
    }
    kind = values.get("kind") or PriceBookKind.STANDARD
    if kind not in PriceBookKind.values:
        errors.add("kind", _("Choose standard, class or customer."))
    out["kind"] = kind
    out["currency"] = _workspace_currency(errors, workspace, values.get("currency"))
    if out["valid_from"] and out["valid_until"] and out["valid_until"] < out["valid_from"]:
        errors.add("valid_until", _("The end is before the start."))
    customer_class = (values.get("customer_class") or "").strip().upper()
    account_id, contact_id = values.get("account_id"), values.get("contact_id")
    account_id = None if account_id in (None, "") else account_id
    contact_id = None if contact_id in (None, "") else contact_id
    out.update(customer_class="", account_id=None, contact_id=None)
    if kind == PriceBookKind.CLASS:
        if customer_class not in dict(CUSTOMER_CLASSES):
            errors.add("customer_class", _("A class book needs the customer class (A, B or C)."))
        out["customer_class"] = customer_class
    elif customer_class:
        errors.add("customer_class", _("Only a class book has a customer class."))
    if kind == PriceBookKind.CUSTOMER:
        if (account_id is None) == (contact_id is None):
            errors.add(
                "account_id",
                _("A customer book is for one account or one individual customer."),
            )
        elif account_id is not None:
            out["account_id"] = _get(Account, workspace, account_id).pk
        else:
            contact = _get(Contact, workspace, contact_id)
            if contact.account_id:
                errors.add(
                    "contact_id",
                    _("This person belongs to an account: give the book to the account."),
                )
            out["contact_id"] = contact.pk
    elif account_id is not None or contact_id is not None:
        errors.add("account_id", _("Only a customer book belongs to a customer."))
    return out


def _overlapping_standard(workspace, values: dict, exclude: int | None):
    """The other active standard book of the currency whose validity overlaps."""
    if not (values["active"] and values["kind"] == PriceBookKind.STANDARD):
        return None
    qs = PriceBook.objects.in_workspace(workspace).filter(
        kind=PriceBookKind.STANDARD, currency=values["currency"], active=True
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    if values["valid_until"]:
        qs = qs.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=values["valid_until"]))
    if values["valid_from"]:
        qs = qs.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=values["valid_from"]))
    return qs.order_by("id").first()


def _lock_books(workspace) -> None:
    """One change of price books at a time per workspace (the settings row is the lock),
    so two requests cannot both add "the" standard book of a currency."""
    list(SalesSettings.objects.in_workspace(workspace).select_for_update().values_list("pk"))


def _save_book(actor, workspace, values: dict, row: PriceBook | None) -> PriceBook:
    with transaction.atomic():
        _lock_books(workspace)
        other = _overlapping_standard(workspace, values, row.pk if row else None)
        if other is not None:
            message = _(
                "“%(book)s” is already the active standard book in %(currency)s for these "
                "dates; deactivate it or give the books different dates."
            ) % {"book": other.name, "currency": values["currency"]}
            raise Conflict(message, code="standard_book_exists", fields={"kind": [message]})
        if row is None:
            row = PriceBook.objects.create(workspace=workspace, **values)
            audit.log_create(actor=actor, instance=row)
            return row
        before = audit.snapshot(row)
        for field, value in values.items():
            setattr(row, field, value)
        row.save()
        audit.log_update(actor=actor, instance=row, before=before)
    return row


def price_book_create(*, actor, workspace, **values) -> PriceBook:
    """A price book: ``name``, ``kind`` (standard, class, customer), ``currency``; a class
    book needs ``customer_class``, a customer book ``account_id`` or (an individual)
    ``contact_id``; optional ``valid_from``/``valid_until``, ``active``, ``notes``. Only one
    active standard book per currency at a time."""
    permissions.require(actor, PRICE_BOOK, Action.CREATE)
    _known(values, BOOK_FIELDS)
    ensure_sales_defaults(workspace)
    errors = FieldErrors()
    clean = _clean_book(errors, workspace, values)
    errors.raise_if_any()
    return _save_book(actor, workspace, clean, None)


def price_book_update(*, actor, workspace, price_book_id, **changes) -> PriceBook:
    """Change a book's fields; the kind rules are checked on the result."""
    permissions.require(actor, PRICE_BOOK, Action.UPDATE)
    _known(changes, BOOK_FIELDS)
    row = _get(PriceBook, workspace, price_book_id)
    merged = {field: getattr(row, field) for field in BOOK_FIELDS}
    merged.update(changes)
    errors = FieldErrors()
    clean = _clean_book(errors, workspace, merged)
    errors.raise_if_any()
    return _save_book(actor, workspace, clean, row)


# --- prices ----------------------------------------------------------------------------------


def _clean_price(errors, value, name="unit_price") -> Decimal | None:
    price = _decimal(errors, value, name=name, places=4, maximum=MAX_PRICE)
    if price is not None and price < 0:
        errors.add(name, _("A price cannot be negative."))
    return price


def price_entry_set(*, actor, workspace, price_book_id, product_id, unit_price) -> PriceBookEntry:
    """Set (add or change) a product's price in a book."""
    permissions.require(actor, PRICE_BOOK, Action.UPDATE)
    book = _get(PriceBook, workspace, price_book_id)
    product = _get(Product, workspace, product_id)
    errors = FieldErrors()
    price = _clean_price(errors, unit_price)
    errors.raise_if_any()
    with transaction.atomic():
        entry = (
            PriceBookEntry.objects.in_workspace(workspace)
            .select_for_update()
            .filter(price_book=book, product=product)
            .first()
        )
        if entry is None:
            try:
                with transaction.atomic():
                    entry = PriceBookEntry.objects.create(
                        workspace=workspace, price_book=book, product=product, unit_price=price
                    )
            except IntegrityError:  # set by a concurrent request a moment ago: change it
                entry = (
                    PriceBookEntry.objects.in_workspace(workspace)
                    .select_for_update()
                    .get(price_book=book, product=product)
                )
            else:
                _log_price(actor, book, product, None, price)
                return entry
        old = entry.unit_price
        if old != price:
            entry.unit_price = price
            entry.save(update_fields=["unit_price", "updated_at"])
            _log_price(actor, book, product, old, price)
    return entry


def price_entry_remove(*, actor, workspace, price_book_id, product_id) -> None:
    """Take a product out of a book (the next book down then prices it)."""
    permissions.require(actor, PRICE_BOOK, Action.UPDATE)
    book = _get(PriceBook, workspace, price_book_id)
    product = _get(Product, workspace, product_id)
    with transaction.atomic():
        entry = (
            PriceBookEntry.objects.in_workspace(workspace)
            .select_for_update()
            .filter(price_book=book, product=product)
            .first()
        )
        if entry is None:
            raise NotFound(_("This book has no price for the product."))
        _log_price(actor, book, product, entry.unit_price, None)
        entry.delete()


def _log_price(actor, book: PriceBook, product: Product, old, new) -> None:
    audit.log(
        actor=actor,
        workspace=book.workspace_id,
        action="update",
        object_key=PRICE_BOOK,
        object_id=book.pk,
        object_repr=str(book),
        changes={f"price[{product.code}]": [_plain(old), _plain(new)]},
    )


def _plain(value) -> str | None:
    return None if value is None else str(value)


# --- the price list import ---------------------------------------------------------------------

CODE_HEADERS = ("product code", "code", "product", "sku", "产品编码", "产品代码", "编码", "料号")
PRICE_HEADERS = ("price", "unit price", "unit_price", "单价", "价格", "售价")


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    updated: int
    unchanged: int


def _read_table(file_name: str, content: bytes) -> list[list]:
    """The rows of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file."""
    import tablib

    name = (file_name or "").lower()
    if name.endswith(".xlsx"):
        fmt = "xlsx"
        data: bytes | str = content
    elif name.endswith(".csv") or name.endswith(".txt"):
        fmt = "csv"
        try:
            data = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                data = content.decode("gb18030")
            except UnicodeDecodeError:
                raise ApplicationError(
                    _("The file is neither UTF-8 nor GB18030 text."), code="bad_file"
                ) from None
    else:
        raise ApplicationError(
            _("Upload a .csv or .xlsx file."),
            code="bad_file",
            fields={"file": [_("Upload a .csv or .xlsx file.")]},
        )
    try:
        dataset = tablib.Dataset().load(
            data if fmt == "csv" else io.BytesIO(data), format=fmt, headers=False
        )
    except Exception:  # tablib/openpyxl raise many types for a damaged file
        raise ApplicationError(_("The file could not be read."), code="bad_file") from None
    return [list(row) for row in dataset]


def _header_index(header: list, names: tuple[str, ...]) -> int | None:
    wanted = {fold(n) for n in names}
    for index, cell in enumerate(header):
        if fold(str(cell or "")) in wanted:
            return index
    return None


def price_list_import(
    *, actor, workspace, price_book_id, file_name: str, content: bytes
) -> ImportResult:
    """Set the prices of a book from a file with a header row naming the product code
    column and the price column (English or Chinese headers). All or nothing: any bad row
    (unknown code, negative or malformed price, a code twice) refuses the whole file, with
    the row numbers (the header is row 1)."""
    permissions.require(actor, PRICE_BOOK, Action.UPDATE)
    book = _get(PriceBook, workspace, price_book_id)
    if len(content) > IMPORT_MAX_BYTES:
        raise ApplicationError(
            _("The file is larger than %(mb)s MB.") % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)},
            code="file_too_large",
        )
    rows = _read_table(file_name, content)
    if not rows:
        raise ApplicationError(_("The file is empty."), code="bad_file")
    header, body = rows[0], rows[1:]
    code_at, price_at = _header_index(header, CODE_HEADERS), _header_index(header, PRICE_HEADERS)
    if code_at is None or price_at is None:
        raise ApplicationError(
            _("The first row must name the columns: “product code” (产品编码) and “price” (单价)."),
            code="bad_header",
        )
    if len(body) > IMPORT_MAX_ROWS:
        raise ApplicationError(
            _("At most %(n)s rows per file.") % {"n": f"{IMPORT_MAX_ROWS:,}"}, code="too_many_rows"
        )
    errors = FieldErrors()
    wanted: dict[str, tuple[int, Decimal]] = {}
    for number, row in enumerate(body, start=2):
        cells = list(row) + [None] * (max(code_at, price_at) + 1 - len(row))
        code = str(cells[code_at] if cells[code_at] is not None else "").strip()
        raw_price = cells[price_at]
        if not code and raw_price in (None, ""):
            continue  # a blank line
        label = _("Row %(n)s") % {"n": number}
        if not code:
            errors.add(str(label), _("The product code is missing."))
            continue
        if code in wanted:
            errors.add(
                str(label),
                _("%(code)s is listed twice (row %(first)s too).")
                % {"code": code, "first": wanted[code][0]},
            )
            continue
        if isinstance(raw_price, float):
            raw_price = repr(raw_price)  # XLSX numbers: their shortest exact decimal form
        row_errors = FieldErrors()
        price = _clean_price(row_errors, raw_price, name="price")
        for message in row_errors.fields.get("price", []):
            errors.add(str(label), message)
        if price is not None and not row_errors.fields:
            wanted[code] = (number, price)
        else:
            wanted.setdefault(code, (number, Decimal(0)))
        if len(errors.fields) >= IMPORT_MAX_ERRORS:
            break
    products = dict(
        Product.objects.in_workspace(workspace)
        .filter(code__in=list(wanted))
        .values_list("code", "pk")
    )
    for code, (number, _price) in wanted.items():
        if code not in products:
            errors.add(
                str(_("Row %(n)s") % {"n": number}),
                _("No product has the code %(code)s.") % {"code": code},
            )
    if errors.fields:
        raise ApplicationError(
            _("Nothing was imported: %(n)s rows have errors.") % {"n": len(errors.fields)},
            code="import_invalid",
            fields=errors.fields,
        )
    if not wanted:
        raise ApplicationError(_("The file has no prices."), code="bad_file")
    created = updated = unchanged = 0
    with transaction.atomic():
        existing = {
            e.product_id: e
            for e in PriceBookEntry.objects.in_workspace(workspace)
            .select_for_update()
            .filter(price_book=book, product_id__in=list(products.values()))
        }
        new, changed, now = [], [], timezone.now()
        for code, (_number, price) in wanted.items():
            entry = existing.get(products[code])
            if entry is None:
                new.append(
                    PriceBookEntry(
                        workspace=workspace,
                        price_book=book,
                        product_id=products[code],
                        unit_price=price,
                    )
                )
            elif entry.unit_price != price:
                entry.unit_price = price
                entry.updated_at = now
                changed.append(entry)
            else:
                unchanged += 1
        PriceBookEntry.objects.in_workspace(workspace).bulk_create(new, batch_size=1000)
        PriceBookEntry.objects.in_workspace(workspace).bulk_update(
            changed, ["unit_price", "updated_at"], batch_size=1000
        )
        created, updated = len(new), len(changed)
        audit.log(
            actor=actor,
            workspace=workspace,
            action="update",
            object_key=PRICE_BOOK,
            object_id=book.pk,
            object_repr=str(book),
            changes={
                "import": [None, file_name[:200]],
                "prices_created": [None, created],
                "prices_updated": [None, updated],
            },
        )
    return ImportResult(rows=len(wanted), created=created, updated=updated, unchanged=unchanged)
