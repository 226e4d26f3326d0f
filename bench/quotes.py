"""The quotes benchmark: the quote editor of an old customer with a long price history.

    .venv/bin/python bench/quotes.py --db sqlite     # var/bench-quotes.sqlite3
    .venv/bin/python bench/quotes.py --db postgres   # guanxi_bench_quotes on 127.0.0.1
    .venv/bin/python bench/quotes.py --scale 0.1     # a tenth of the data, to try it

1. Seeds (once per scale; a second run reuses it) the workspace "Bench quotes": one account
   with ``--lines`` products (50) priced in a CNY standard book, ``--history`` sent quotes of
   that customer (400) each quoting every product (20,000 quote lines), ``--orders`` orders
   (200) each ordering every product (10,000 order lines), and background quotes for 1,000
   other accounts; then ANALYZE.
2. Times, warm and ``--requests`` times each: the quote editor of a new draft with every
   product on it (each line with its last 5 quoted and 3 ordered prices beside it), the
   htmx save of one line's discount (the totals and the approval rules — discounts and the
   "two prices" rule over the customer's open quotes and last year's orders — recomputed),
   and ``GET /api/v1/quotes/{id}``.
3. Prints a Markdown table: p50 and p95 server time in milliseconds and the SQL queries of
   one request.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from decimal import Decimal
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_quotes"
WORKSPACE = "Bench quotes"
BACKGROUND_ACCOUNTS = 1_000


def setup_django(db: str, scale: float) -> None:
    sqlite = ROOT / "var" / f"bench-quotes-{scale:g}.sqlite3"
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{sqlite}")


def seed(*, lines: int, history: int, orders: int, log) -> dict:
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.customers import search_keys
    from guanxi.customers.models import Account
    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.sales.models import (
        Order,
        OrderLine,
        PriceBook,
        PriceBookEntry,
        Product,
        Quote,
        QuoteLine,
        TaxRate,
    )
    from guanxi.sales.services.setup import ensure_sales_defaults

    admin = bench_workspace(WORKSPACE)
    ws = admin.workspace
    ensure_sales_defaults(ws)
    account = Account.objects.in_workspace(ws).filter(code="BENCH-Q").first()
    if account is not None:
        products = list(Product.objects.in_workspace(ws).filter(code__startswith="BQ-"))
        return {"admin": admin, "account": account, "products": products}
    started = time.perf_counter()
    today = timezone.localdate()
    with transaction.atomic():
        vat = TaxRate.objects.in_workspace(ws).get(is_default=True)
        book = PriceBook.objects.create(workspace=ws, name="标准", kind="standard", currency="CNY")
        products = Product.objects.bulk_create(
            Product(workspace=ws, code=f"BQ-{i:04d}", name=f"产品{i}", unit="件", tax_rate=vat)
            for i in range(lines)
        )
        PriceBookEntry.objects.bulk_create(
            PriceBookEntry(workspace=ws, price_book=book, product=p, unit_price=Decimal("100"))
            for p in products
        )

        def account_named(code, name):
            row = Account(workspace=ws, code=code, name=name, owner=admin)
            search_keys.apply_account_keys(row)
            return row

        account = account_named("BENCH-Q", "上海宏达机电设备有限公司")
        account.save()
        others = Account.objects.bulk_create(
            account_named(f"BQA-{i:05d}", f"背景客户{i}") for i in range(BACKGROUND_ACCOUNTS)
        )

        def quotes_for(customer, count, start):
            made = Quote.objects.bulk_create(
                Quote(
                    workspace=ws,
                    number=f"H-2026-{start + i:06d}",
                    owner=admin,
                    account=customer,
                    price_book=book,
                    currency="CNY",
                    status="sent",
                    valid_until=today + dt.timedelta(days=30),
                )
                for i in range(count)
            )
            QuoteLine.objects.bulk_create(
                (
                    QuoteLine(
                        workspace=ws,
                        quote=q,
                        position=n + 1,
                        product=p,
                        quantity=Decimal(1),
                        list_price=Decimal(100),
                        discount_percent=Decimal(i % 5),
                        unit_price=Decimal(100 - i % 5),
                        tax_rate=Decimal("0.13"),
                        subtotal=Decimal(100 - i % 5),
                        tax=Decimal("13"),
                        total=Decimal(113),
                        account=customer,
                    )
                    for i, q in enumerate(made)
                    for n, p in enumerate(products)
                ),
                batch_size=5_000,
            )

        quotes_for(account, history, 0)
        for index, other in enumerate(others):
            quotes_for(other, 2, history + index * 2)
        made = Order.objects.bulk_create(
            Order(
                workspace=ws,
                number=f"BO-{i:06d}",
                order_date=today - dt.timedelta(days=i),
                account=account,
                owner=admin,
                currency="CNY",
            )
            for i in range(orders)
        )
        OrderLine.objects.bulk_create(
            (
                OrderLine(
                    workspace=ws,
                    order=o,
                    position=n + 1,
                    product=p,
                    quantity=Decimal(2),
                    unit_price=Decimal("97"),
                    amount=Decimal("194"),
                    order_date=o.order_date,
                    account=account,
                )
                for o in made
                for n, p in enumerate(products)
            ),
            batch_size=5_000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"seeded in {time.perf_counter() - started:.1f} s")
    return {"admin": admin, "account": account, "products": products}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the data (1.0)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per row (20)")
    args = parser.parse_args()
    setup_django(args.db, args.scale)
    lines = max(2, int(50 * args.scale))
    history = max(2, int(400 * args.scale))
    orders = max(2, int(200 * args.scale))

    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from guanxi.platform.tests.test_api_support import make_token
    from guanxi.sales.services import quotes

    data = seed(lines=lines, history=history, orders=orders, log=print)
    admin, account, products = data["admin"], data["account"], data["products"]
    quote = quotes.quote_create(
        actor=admin,
        workspace=admin.workspace,
        account_id=account.pk,
        lines=[{"product_id": p.pk, "quantity": "1"} for p in products],
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    secret = make_token(admin, scopes=["read", "write"])
    line_id = quote.lines.order_by("position").values_list("pk", flat=True).first()
    editor = reverse("sales:quote_detail", args=[quote.pk])
    save = reverse("sales:quote_line_update", args=[quote.pk, line_id])

    def editor_get():
        return client.get(editor)

    def line_save(step=[0]):  # noqa: B006  (a counter between calls)
        step[0] += 1
        quote.refresh_from_db(fields=["lock_version"])
        return client.post(
            save,
            {"lock_version": quote.lock_version, "discount_percent": str(step[0] % 5)},
            HTTP_HX_REQUEST="true",
        )

    def api_get():
        return client.get(f"/api/v1/quotes/{quote.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}")

    rows = []
    for name, call in (
        (f"editor, {lines} lines with their history", editor_get),
        ("save one line (htmx; totals and rules)", line_save),
        ("GET /api/v1/quotes/{id}", api_get),
    ):
        call()
        reset_queries()  # the seed's queries would shift the capture's window
        with CaptureQueriesContext(connection) as ctx:
            response = call()
        assert response.status_code == 200, (name, response.status_code)
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = call()
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        rows.append((name, statistics.median(times), harness.percentile(times, 0.95), len(ctx)))
    print()
    print(
        f"Quotes bench on {args.db} ({connection.vendor}), scale {args.scale:g}: {lines} products, "
        f"{history} earlier quotes and {orders} orders of the customer, "
        f"{BACKGROUND_ACCOUNTS} other accounts · {platform.python_version()}"
    )
    print()
    print("| request | p50 ms | p95 ms | queries |")
    print("|---|---:|---:|---:|")
    for name, p50, p95, queries in rows:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
