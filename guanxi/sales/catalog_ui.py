"""What the catalogue adds to the shared UI: the side navigation (products, price books,
the sales settings' tax rates and currencies) and the "Prices for this customer" panel of
the 360° page, loaded lazily; and its hooks into the customers: a merge moves the merged
customer's own price books to the survivor, and an individual customer's own book is part
of their personal data (exported, and de-named when they are erased)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.customers import sections
from guanxi.customers.services import merge, privacy
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from .models import PriceBook, PriceBookEntry
from .objects import CONFIGURATION, PRICE_BOOK, PRODUCT
from .ui import SALES


def _can(object_key: str, action: str = "read"):
    return lambda user: permissions.can(user, object_key, action)


def _can_change_settings(user) -> bool:
    return permissions.can(user, CONFIGURATION, "update")


for _order, _label, _url, _allowed in (
    (360, _("Products"), "sales:product_list", _can(PRODUCT)),
    (361, _("Price books"), "sales:price_book_list", _can(PRICE_BOOK)),
    (390, _("Tax rates and currencies"), "sales:catalog_settings", _can_change_settings),
):
    register(NavItem(section=SALES, label=_label, url_name=_url, order=_order, allowed=_allowed))


def _prices_url(object_key: str, record) -> str | None:
    kind = "account" if object_key == sections.ACCOUNT else "contact"
    if kind == "contact" and record.account_id:
        return None  # a person at an account is priced as the account: see its page
    return reverse("sales:customer_prices_panel", args=[kind, record.pk])


sections.register(
    sections.Section(
        key="sales.prices",
        title=_("Prices for this customer"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=330,
        lazy_url=_prices_url,
        allowed=_can(PRICE_BOOK),
    )
)


# --- merge: the merged customer's own books go to the survivor ---------------------------------


def _book_mover(fk: str):
    def move(*, workspace, survivor, merged) -> int:
        return (
            PriceBook.objects.in_workspace(workspace)
            .filter(**{fk: merged})
            .update(**{fk: survivor})
        )

    return move


merge.register_mover(merge.ACCOUNT, _book_mover("account"), name="sales.PriceBook.account")
merge.register_mover(merge.CONTACT, _book_mover("contact"), name="sales.PriceBook.contact")


# --- personal data: an individual's own price book --------------------------------------------


def _personal_books(workspace_id: int, contact) -> dict:
    books = list(
        PriceBook.objects.in_workspace(workspace_id).filter(contact=contact).order_by("id")[:100]
    )
    if not books:
        return {}
    prices: dict[int, list] = {}
    for book_id, code, price in (
        PriceBookEntry.objects.in_workspace(workspace_id)
        .filter(price_book__in=books)
        .order_by("product__code")
        .values_list("price_book_id", "product__code", "unit_price")[:10_000]
    ):
        prices.setdefault(book_id, []).append({"product": code, "unit_price": str(price)})
    return {
        "sales.price_books": [
            {
                "name": b.name,
                "currency": b.currency,
                "valid_from": b.valid_from.isoformat() if b.valid_from else None,
                "valid_until": b.valid_until.isoformat() if b.valid_until else None,
                "notes": b.notes,
                "prices": prices.get(b.pk, []),
            }
            for b in books
        ]
    }


def _erase_books(workspace_id: int, contact) -> dict:
    # The prices stay (they are the company's terms, referenced by quotes); the book's
    # name and notes, which people write the customer's name into, go.
    books = list(PriceBook.objects.in_workspace(workspace_id).filter(contact=contact))
    for book in books:
        book.name = f"#{book.pk}"
        book.notes = ""
    PriceBook.objects.in_workspace(workspace_id).bulk_update(books, ["name", "notes"])
    return {"sales.price_books": len(books)}


privacy.register_personal_data("sales.price_books", provider=_personal_books, eraser=_erase_books)
