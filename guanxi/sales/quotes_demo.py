"""Demo data of the quotes part (``seed(workspace=, users=, rng=)``), called by ``demo.py``:
a few quotes per demo rep over their own customers — drafts, sent ones, one waiting for
their manager's approval (a discount above the threshold) and one accepted (which makes its
order). Everything goes through the services, so totals, reasons, numbers, timeline entries
and audit rows are what a user's clicks would make."""

from __future__ import annotations

from decimal import Decimal

from guanxi.common.errors import ApplicationError
from guanxi.customers.models import Account

from .models import PriceBook, PriceBookEntry, Product, Quote, TaxRate
from .services import quote_approvals, quotes
from .services.money import base_currency

QUOTES_PER_REP = 4
# Used only when the catalogue's demo made no products (it runs before this one).
FALLBACK_PRODUCTS = (
    ("PUMP-50", "离心泵 50m³/h", "Centrifugal pump 50 m³/h", "台", Decimal("18600")),
    ("VALVE-DN80", "电动调节阀 DN80", "Motorised control valve DN80", "件", Decimal("4200")),
    ("PANEL-S", "变频控制柜", "VFD control panel", "套", Decimal("32800")),
    ("SVC-YEAR", "年度维保服务", "Annual maintenance", "年", Decimal("12000")),
)


def _products(workspace) -> list[Product]:
    currency = base_currency(workspace)
    priced = list(
        Product.objects.in_workspace(workspace)
        .filter(
            active=True,
            pk__in=PriceBookEntry.objects.in_workspace(workspace)
            .filter(price_book__currency=currency, price_book__kind="standard")
            .values("product_id"),
        )
        .order_by("id")[:12]
    )
    if priced:
        return priced
    vat = TaxRate.objects.in_workspace(workspace).filter(is_default=True).first()
    book = PriceBook.objects.create(
        workspace=workspace, name="标准价目表", kind="standard", currency=currency
    )
    made = []
    for code, name, name_en, unit, price in FALLBACK_PRODUCTS:
        product, _created = Product.objects.get_or_create(
            workspace=workspace,
            code=code,
            defaults={"name": name, "name_en": name_en, "unit": unit, "tax_rate": vat},
        )
        PriceBookEntry.objects.get_or_create(
            workspace=workspace, price_book=book, product=product, defaults={"unit_price": price}
        )
        made.append(product)
    return made


def seed(*, workspace, users, rng) -> None:
    if Quote.objects.in_workspace(workspace).exists():
        return
    reps = [u for u in users if u.is_active and u.role.code == "sales_rep"]
    if not reps:
        return
    products = _products(workspace)
    for index, rep in enumerate(reps):
        accounts = list(
            Account.objects.in_workspace(workspace)
            .filter(owner=rep)
            .order_by("id")[:QUOTES_PER_REP]
        )
        for number, account in enumerate(accounts):
            chosen = rng.sample(products, k=min(len(products), rng.randint(1, 3)))
            big_discount = index == 0 and number == 0
            lines = [
                {
                    "product_id": product.pk,
                    "quantity": rng.choice(["1", "2", "3", "5", "10"]),
                    "discount_percent": "15" if big_discount else rng.choice(["0", "0", "3", "5"]),
                }
                for product in chosen
            ]
            try:
                quote = quotes.quote_create(
                    actor=rep, workspace=workspace, account_id=account.pk, lines=lines
                )
                if big_discount:
                    quote_approvals.quote_submit(
                        actor=rep,
                        workspace=workspace,
                        quote_id=quote.pk,
                        lock_version=quote.lock_version,
                        note="老客户续约，竞争对手报价更低",
                    )
                    continue
                if number == 0 or quote.approval_reasons:
                    continue  # a draft
                quote = quotes.quote_send(
                    actor=rep,
                    workspace=workspace,
                    quote_id=quote.pk,
                    lock_version=quote.lock_version,
                    email=False,
                )
                if index == 0 and number == 1:
                    quotes.quote_accept(
                        actor=rep,
                        workspace=workspace,
                        quote_id=quote.pk,
                        lock_version=quote.lock_version,
                    )
            except ApplicationError:
                # A demo customer in a currency without a rate or a book: no quote for it.
                continue
