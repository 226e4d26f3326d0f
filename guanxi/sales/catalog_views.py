"""The catalogue's pages: products (list with search and category filter, a product with
its price in every book, new and edit), price books (list, a book with its prices editable
in place with htmx, new and edit, the price list import), the catalogue's part of the
sales settings (tax rates, currencies and exchange rates), the product picker the quotes
use, and the "Prices for this customer" panel of the 360° page. Every page calls the same
services and selectors as the API."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.activities import localtime
from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Account, Contact
from guanxi.platform import permissions
from guanxi.platform.list_views import render_list
from guanxi.platform.models import Action

from . import catalog_lists  # noqa: F401  (registers the products list)
from .catalog_forms import ImportForm, PriceBookForm, ProductForm
from .models import PriceBookKind, Product
from .objects import CONFIGURATION, PRICE_BOOK, PRODUCT
from .selectors import catalog as selectors
from .services import catalog as services
from .services import money, pricing

PICKER_LIMIT = 20
ENTRIES_PAGE = 100


# --- products --------------------------------------------------------------------------------


@page
def product_list(request):
    user = request.user
    return render_list(
        request,
        "sales.products",
        template="sales/catalog/product_list.html",
        extra={
            "create_url": reverse("sales:product_create")
            if permissions.can(user, PRODUCT, Action.CREATE)
            else "",
            "books_url": reverse("sales:price_book_list")
            if permissions.can(user, PRICE_BOOK, Action.READ)
            else "",
        },
    )


@page
def product_detail(request, product_id: int):
    scope = actor_scope(request)
    product = selectors.product_get(**scope, product_id=product_id)
    return render(
        request,
        "sales/catalog/product_detail.html",
        {
            "product": product,
            "prices": selectors.product_prices(**scope, product_id=product.pk),
            "can_read_books": permissions.can(request.user, PRICE_BOOK, Action.READ),
            "can_update": permissions.can(request.user, PRODUCT, Action.UPDATE),
        },
    )


def _product_form_page(request, *, product: Product | None):
    scope = actor_scope(request)
    if request.method == "POST":
        form = ProductForm(request.POST, workspace=request.workspace)
        if form.is_valid():
            try:
                if product is None:
                    product = services.product_create(**scope, **form.values())
                else:
                    services.product_update(**scope, product_id=product.pk, **form.values())
            except ApplicationError as exc:
                error_message(exc)
                form.add_service_error(exc)
            else:
                messages.success(request, _("Product saved."))
                return redirect("sales:product_detail", product.pk)
    elif product is not None:
        form = ProductForm(
            workspace=request.workspace,
            initial={
                "code": product.code,
                "name": product.name,
                "name_en": product.name_en,
                "category": product.category,
                "unit": product.unit,
                "tax_rate": product.tax_rate_id,
                "description": product.description,
                "active": product.active,
            },
        )
    else:
        form = ProductForm(workspace=request.workspace)
    return render(
        request,
        "sales/catalog/product_form.html",
        {"form": form, "product": product},
        status=400 if request.method == "POST" else 200,
    )


@page
def product_create(request):
    permissions.require(request.user, PRODUCT, Action.CREATE)
    return _product_form_page(request, product=None)


@page
def product_edit(request, product_id: int):
    permissions.require(request.user, PRODUCT, Action.UPDATE)
    product = selectors.product_get(**actor_scope(request), product_id=product_id)
    return _product_form_page(request, product=product)


# --- price books -----------------------------------------------------------------------------


@page
def price_book_list(request):
    books = list(selectors.price_book_list(**actor_scope(request))[:500])
    return render(
        request,
        "sales/catalog/book_list.html",
        {
            "books": books,
            "can_create": permissions.can(request.user, PRICE_BOOK, Action.CREATE),
        },
    )


def _book_entries(request, book, *, cursor=None, q=""):
    qs = selectors.price_book_entries(**actor_scope(request), price_book_id=book.pk, q=q)
    try:
        return paginate(qs, key="product__code", cursor=cursor, limit=ENTRIES_PAGE)
    except ApplicationError:
        return paginate(qs, key="product__code", limit=ENTRIES_PAGE)


@page
def price_book_detail(request, price_book_id: int):
    scope = actor_scope(request)
    book = selectors.price_book_get(**scope, price_book_id=price_book_id)
    permissions.require(request.user, PRODUCT, Action.READ)
    q = request.GET.get("q", "")[:100]
    entries = _book_entries(request, book, cursor=request.GET.get("cursor"), q=q)
    context = {
        "book": book,
        "entries": entries.items,
        "next_cursor": entries.next_cursor,
        "q": q,
        "can_update": permissions.can(request.user, PRICE_BOOK, Action.UPDATE),
        "import_form": ImportForm(),
    }
    if request.htmx and request.htmx.target == "book-entries":
        return render(request, "sales/catalog/book_entries.html", context)
    return render(request, "sales/catalog/book_detail.html", context)


def _customer_by_code(workspace, code: str):
    """(account id, contact id) of the customer with this code, or NotFound."""
    code = (code or "").strip()
    account = Account.objects.in_workspace(workspace).filter(code=code).values_list("pk").first()
    if account:
        return account[0], None
    contact = Contact.objects.in_workspace(workspace).filter(code=code).values_list("pk").first()
    if contact:
        return None, contact[0]
    raise NotFound()


def _book_form_page(request, *, book):
    scope = actor_scope(request)
    if request.method == "POST":
        form = PriceBookForm(request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            code = values.pop("account")
            values["account_id"] = values["contact_id"] = None
            try:
                if code:
                    try:
                        values["account_id"], values["contact_id"] = _customer_by_code(
                            request.workspace, code
                        )
                    except NotFound:
                        raise ApplicationError(
                            _("No customer has this code."),
                            fields={"account": [_("No customer has this code.")]},
                        ) from None
                if book is None:
                    book = services.price_book_create(**scope, **values)
                else:
                    services.price_book_update(**scope, price_book_id=book.pk, **values)
            except ApplicationError as exc:
                error_message(exc)
                form.add_service_error(exc)
            else:
                messages.success(request, _("Price book saved."))
                return redirect("sales:price_book_detail", book.pk)
    elif book is not None:
        customer = book.account or book.contact
        form = PriceBookForm(
            initial={
                "name": book.name,
                "kind": book.kind,
                "currency": book.currency,
                "customer_class": book.customer_class,
                "account": customer.code if customer else "",
                "valid_from": book.valid_from,
                "valid_until": book.valid_until,
                "active": book.active,
                "notes": book.notes,
            }
        )
    else:
        form = PriceBookForm(initial={"currency": money.base_currency(request.workspace)})
    return render(
        request,
        "sales/catalog/book_form.html",
        {"form": form, "book": book},
        status=400 if request.method == "POST" else 200,
    )


@page
def price_book_create(request):
    permissions.require(request.user, PRICE_BOOK, Action.CREATE)
    return _book_form_page(request, book=None)


@page
def price_book_edit(request, price_book_id: int):
    permissions.require(request.user, PRICE_BOOK, Action.UPDATE)
    book = selectors.price_book_get(**actor_scope(request), price_book_id=price_book_id)
    return _book_form_page(request, book=book)


def _entry_row(request, book, entry, *, error: str = "", status: int = 200):
    return render(
        request,
        "sales/catalog/book_entry_row.html",
        {"book": book, "entry": entry, "error": error, "can_update": True},
        status=status,
    )


@page
@require_POST
def price_entry_set(request, price_book_id: int, product_id: int):
    """Change one price in place (htmx: answers the row)."""
    scope = actor_scope(request)
    book = selectors.price_book_get(**scope, price_book_id=price_book_id)
    try:
        entry = services.price_entry_set(
            **scope,
            price_book_id=book.pk,
            product_id=product_id,
            unit_price=request.POST.get("unit_price", ""),
        )
    except ApplicationError as exc:
        message = error_message(exc)
        entry = (
            selectors.price_book_entries(**scope, price_book_id=book.pk)
            .filter(product_id=product_id)
            .first()
        )
        if not request.htmx or entry is None:
            messages.error(request, message)
            return redirect("sales:price_book_detail", book.pk)
        return _entry_row(request, book, entry, error=message, status=400)
    entry = selectors.price_book_entries(**scope, price_book_id=book.pk).filter(pk=entry.pk).get()
    if not request.htmx:
        return redirect("sales:price_book_detail", book.pk)
    return _entry_row(request, book, entry)


@page
@require_POST
def price_entry_remove(request, price_book_id: int, product_id: int):
    scope = actor_scope(request)
    book = selectors.price_book_get(**scope, price_book_id=price_book_id)
    services.price_entry_remove(**scope, price_book_id=book.pk, product_id=product_id)
    if request.htmx:
        return HttpResponse("")
    return redirect("sales:price_book_detail", book.pk)


@page
@require_POST
def price_entry_add(request, price_book_id: int):
    """Add a product's price by product code."""
    scope = actor_scope(request)
    book = selectors.price_book_get(**scope, price_book_id=price_book_id)
    code = request.POST.get("code", "").strip()[:64]
    product = Product.objects.in_workspace(request.workspace).filter(code=code).first()
    try:
        if product is None:
            raise ApplicationError(
                _("No product has the code %(code)s.") % {"code": code or "—"},
                fields={"code": [_("Unknown product code.")]},
            )
        services.price_entry_set(
            **scope,
            price_book_id=book.pk,
            product_id=product.pk,
            unit_price=request.POST.get("unit_price", ""),
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Price saved."))
    return redirect("sales:price_book_detail", book.pk)


@page
@require_POST
def price_book_import(request, price_book_id: int):
    scope = actor_scope(request)
    book = selectors.price_book_get(**scope, price_book_id=price_book_id)
    permissions.require(request.user, PRICE_BOOK, Action.UPDATE)
    form = ImportForm(request.POST, request.FILES)
    errors: list[str] = []
    result = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        content = (
            upload.read()
            if upload.size <= services.IMPORT_MAX_BYTES
            else b"x" * (services.IMPORT_MAX_BYTES + 1)
        )
        try:
            result = services.price_list_import(
                **scope, price_book_id=book.pk, file_name=upload.name, content=content
            )
        except ApplicationError as exc:
            errors = [error_message(exc)] + [
                f"{row}: {' '.join(str(m) for m in msgs)}" for row, msgs in exc.fields.items()
            ]
    else:
        errors = [str(e) for e in form.errors.get("file", [])]
    if result is not None:
        messages.success(
            request,
            _("Imported: %(created)s prices added, %(updated)s changed, %(unchanged)s unchanged.")
            % {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            },
        )
        return redirect("sales:price_book_detail", book.pk)
    entries = _book_entries(request, book)
    return render(
        request,
        "sales/catalog/book_detail.html",
        {
            "book": book,
            "entries": entries.items,
            "next_cursor": entries.next_cursor,
            "q": "",
            "can_update": True,
            "import_form": form,
            "import_errors": errors,
        },
        status=400,
    )


# --- the sales settings: tax rates, currencies, rates ---------------------------------------------

_SETTINGS_ACTIONS = {
    "tax_rate_create": (
        lambda scope, post: services.tax_rate_create(
            **scope,
            name=post.get("name", ""),
            rate=_percent(post.get("percent", "")),
            is_default=bool(post.get("is_default")),
        )
    ),
    "tax_rate_update": (
        lambda scope, post: services.tax_rate_update(
            **scope,
            tax_rate_id=post.get("id"),
            name=post.get("name", ""),
            rate=_percent(post.get("percent", "")),
            is_default=bool(post.get("is_default")),
            active=bool(post.get("active")),
        )
    ),
    "currency_create": (
        lambda scope, post: services.currency_create(
            **scope, code=post.get("code", ""), name=post.get("name", "")
        )
    ),
    "currency_update": (
        lambda scope, post: services.currency_update(
            **scope,
            currency_id=post.get("id"),
            name=post.get("name", ""),
            active=bool(post.get("active")),
        )
    ),
    "rate_create": (
        lambda scope, post: services.exchange_rate_create(
            **scope,
            currency=post.get("currency", ""),
            valid_from=post.get("valid_from", ""),
            rate=post.get("rate", ""),
        )
    ),
    "rate_update": (
        lambda scope, post: services.exchange_rate_update(
            **scope, rate_id=post.get("id"), rate=post.get("rate", "")
        )
    ),
    "rate_delete": (
        lambda scope, post: services.exchange_rate_delete(**scope, rate_id=post.get("id"))
    ),
}


def _percent(value: str):
    """A percentage typed on the page ("13") as the services' fraction ("0.13")."""
    from decimal import Decimal, InvalidOperation

    text = str(value or "").strip().rstrip("%").strip()
    try:
        return str(Decimal(text) / 100) if text else ""
    except InvalidOperation:
        return text  # the service reports it


def _plain_number(value) -> str:
    """13.0000 → "13", 7.10000000 → "7.1", 10 → "10" (never "1E+1"): what the inputs
    show is exactly what is stored, so saving a row unchanged changes nothing."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@page
def catalog_settings(request):
    scope = actor_scope(request)
    permissions.require(request.user, CONFIGURATION, Action.READ)
    if request.method == "POST":
        action = _SETTINGS_ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            messages.error(request, _("Unknown action."))
        else:
            try:
                action(scope, request.POST)
            except ApplicationError as exc:
                messages.error(request, error_message(exc))
            else:
                messages.success(request, _("Saved."))
        return redirect("sales:catalog_settings")
    base = money.base_currency(request.workspace)
    tax_rates = list(selectors.tax_rate_list(**scope))
    for row in tax_rates:
        row.percent = _plain_number(row.rate * 100)
    rates = list(selectors.exchange_rate_list(**scope)[:200])
    for row in rates:
        row.plain = _plain_number(row.rate)
    return render(
        request,
        "sales/catalog/settings.html",
        {
            "tax_rates": tax_rates,
            "currencies": list(selectors.currency_list(**scope)),
            "rates": rates,
            "base": base,
            "can_change": permissions.can(request.user, CONFIGURATION, Action.UPDATE),
            "today": localtime.local_today(request.user),
        },
    )


# --- the product picker (used by the quotes' editor) ---------------------------------------------


def _customer(request, kind: str, value):
    """The account or contact the actor may see, or NotFound (other workspaces too)."""
    if not value:
        return None
    scope = actor_scope(request)
    if kind == "account":
        return customer_selectors.account_get(**scope, account_id=value)
    return customer_selectors.contact_get(**scope, contact_id=value)


@page
def product_picker(request):
    """``GET ?q=&account=&contact=&currency=`` → ``<option>`` elements: the active products
    matching ``q`` (code, name, English name, pinyin, initials; at most 20), each with its
    price for the customer (``data-price``, ``data-currency``, ``data-source``,
    ``data-tax-rate``). Products without a price for this customer and currency are listed
    disabled. An unknown customer is a 404."""
    scope = actor_scope(request)
    permissions.require(request.user, PRICE_BOOK, Action.READ)
    workspace = request.workspace
    account = _customer(request, "account", request.GET.get("account"))
    contact = _customer(request, "contact", request.GET.get("contact"))
    currency = request.GET.get("currency", "")[:3]
    q = request.GET.get("q", "")[:100]
    products = list(
        selectors.product_list(**scope, q=q, active=True).order_by("code")[:PICKER_LIMIT]
    )
    prices = pricing.prices_for(
        workspace=workspace,
        products=products,
        account=account,
        contact=contact,
        currency=currency or None,
        on=localtime.local_today(request.user),
    )
    return render(
        request,
        "sales/catalog/picker_options.html",
        {
            "options": [{"product": p, "price": prices.get(p.pk)} for p in products],
            "q": q,
        },
    )


# --- the 360° panel ------------------------------------------------------------------------------


@page
def customer_prices_panel(request, kind: str, customer_id: int):
    """Which books price this customer today, in its currency: its own, its class's, the
    standard one; and how many products each lists."""
    permissions.require(request.user, PRICE_BOOK, Action.READ)
    workspace = request.workspace
    if kind not in ("account", "contact"):
        raise NotFound()
    record = _customer(request, kind, customer_id)
    account = record if kind == "account" else None
    contact = record if kind == "contact" else None
    customer = pricing.customer_of(account, contact)
    currency = customer.currency or money.base_currency(workspace)
    books = pricing.books_for(workspace, customer, currency, localtime.local_today(request.user))
    counts = selectors.entry_counts(workspace=workspace, book_ids=[b.pk for b in books])
    return render(
        request,
        "sales/catalog/section_customer.html",
        {
            "books": [{"book": b, "count": counts.get(b.pk, 0)} for b in books],
            "currency": currency,
            "value_class": customer.value_class,
            "applies": books[0] if books else None,
            "kinds": dict(PriceBookKind.choices),
        },
    )
