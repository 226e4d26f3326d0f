"""The catalogue's hooks into the customers: a merge moves the merged customer's own price
books to the survivor; an individual's own book is in their data export and loses its
name and notes when they are erased."""

from __future__ import annotations

from decimal import Decimal

from guanxi.customers.services import merge, privacy
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.sales.models import PriceBook
from guanxi.sales.services import catalog as services
from guanxi.sales.services.pricing import price_for
from guanxi.sales.services.setup import ensure_sales_defaults


def _book_for(admin, **customer):
    scope = {"actor": admin, "workspace": admin.workspace}
    product = services.product_create(**scope, code="P-1", name="泵")
    book = services.price_book_create(
        **scope,
        name="王先生专属价",
        kind="customer",
        currency="CNY",
        notes="王先生 VIP",
        **{f"{k}_id": v.pk for k, v in customer.items()},
    )
    services.price_entry_set(**scope, price_book_id=book.pk, product_id=product.pk, unit_price="88")
    return book, product


def test_account_merge_moves_the_book(workspace, admin_user):
    ensure_sales_defaults(workspace)
    survivor = AccountFactory(workspace=workspace)
    merged = AccountFactory(workspace=workspace)
    book, product = _book_for(admin_user, account=merged)
    merge.account_merge(
        actor=admin_user, workspace=workspace, survivor_id=survivor.pk, merged_id=merged.pk
    )
    book.refresh_from_db()
    assert book.account_id == survivor.pk
    survivor.refresh_from_db()
    price = price_for(workspace=workspace, product=product, account=survivor)
    assert (price.source, price.unit_price) == ("customer", Decimal("88"))


def test_contact_merge_moves_the_book(workspace, admin_user):
    ensure_sales_defaults(workspace)
    survivor = ContactFactory(workspace=workspace, account=None)
    merged = ContactFactory(workspace=workspace, account=None)
    book, _product = _book_for(admin_user, contact=merged)
    merge.contact_merge(
        actor=admin_user, workspace=workspace, survivor_id=survivor.pk, merged_id=merged.pk
    )
    book.refresh_from_db()
    assert book.contact_id == survivor.pk


def test_personal_data_export_and_erase(workspace, admin_user):
    ensure_sales_defaults(workspace)
    person = ContactFactory(workspace=workspace, account=None)
    book, _product = _book_for(admin_user, contact=person)
    data = privacy.contact_personal_data(
        actor=admin_user, workspace=workspace, contact_id=person.pk
    )
    exported = data["sales.price_books"]
    assert (
        exported[0]["name"] == "王先生专属价"
        and exported[0]["prices"][0]["unit_price"] == "88.0000"
    )
    privacy.contact_erase(
        actor=admin_user, workspace=workspace, contact_id=person.pk, reason="客户要求删除"
    )
    book = PriceBook.objects.in_workspace(workspace).get(pk=book.pk)
    assert book.name == f"#{book.pk}" and book.notes == ""
    assert book.entries.count() == 1
