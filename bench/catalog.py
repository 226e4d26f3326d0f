"""The catalogue benchmark: price resolution, the product picker and the catalogue pages
over a big catalogue.

    .venv/bin/python bench/catalog.py --db sqlite              # var/bench-catalog-1.sqlite3
    .venv/bin/python bench/catalog.py --db postgres            # guanxi_bench_catalog
    .venv/bin/python bench/catalog.py --scale 0.05             # a twentieth, to try it

1. Seeds (once per scale; a second run reuses it) the workspace "Bench catalog":
   ``20,000 × scale`` products with Chinese names (and their pinyin search text), a CNY
   standard book listing all of them, class books A, B and C listing half, ``1,000 × scale``
   customer books of 50 prices each, and an A-class account with its own book; then
   ANALYZE.
2. Times, warm and ``--requests`` times each: ``pricing.prices_for`` of 50 products for the
   account (customer → class → standard), the product picker (a 2-character Chinese
   term, a pinyin prefix, a code), the products list searched, the standard book's page,
   a product's prices in every book, and ``GET /api/v1/prices``.
3. Prints a Markdown table: p50 and p95 in milliseconds and the SQL queries of one call.
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
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_catalog"
WORKSPACE = "Bench catalog"
WORDS = [
    "离心泵",
    "计量泵",
    "蝶阀",
    "截止阀",
    "电机",
    "变频器",
    "控制柜",
    "流量计",
    "变送器",
    "密封件",
    "轴承",
    "法兰",
]


def setup_django(db: str, scale: float) -> None:
    sqlite = ROOT / "var" / f"bench-catalog-{scale:g}.sqlite3"
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{sqlite}")


def seed(*, products: int, customer_books: int, log) -> dict:
    from django.db import connection, transaction

    from guanxi.customers import search_keys
    from guanxi.customers.models import Account
    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.sales.models import PriceBook, PriceBookEntry, Product, TaxRate
    from guanxi.sales.services.catalog import product_search_text
    from guanxi.sales.services.setup import ensure_sales_defaults

    admin = bench_workspace(WORKSPACE)
    ws = admin.workspace
    ensure_sales_defaults(ws)
    account = Account.objects.in_workspace(ws).filter(code="BENCH-C").first()
    if account is not None:
        return {"admin": admin, "account": account}
    started = time.perf_counter()
    with transaction.atomic():
        vat = TaxRate.objects.in_workspace(ws).get(is_default=True)

        def product(i: int) -> Product:
            name = f"{WORDS[i % len(WORDS)]} {i // len(WORDS)}型"
            code = f"BC-{i:06d}"
            return Product(
                workspace=ws,
                code=code,
                name=name,
                category=WORDS[i % len(WORDS)],
                unit="台",
                tax_rate=vat,
                search_text=product_search_text(code=code, name=name, name_en=""),
            )

        rows = Product.objects.bulk_create((product(i) for i in range(products)), batch_size=5000)
        ids = [p.pk for p in rows]
        standard = PriceBook.objects.create(workspace=ws, name="标准", currency="CNY")
        books = [(standard, ids)]
        for cls in "ABC":
            book = PriceBook.objects.create(
                workspace=ws, name=f"{cls}类", kind="class", customer_class=cls, currency="CNY"
            )
            books.append((book, ids[::2]))
        accounts = []
        for i in range(customer_books + 1):
            row = Account(
                workspace=ws,
                code="BENCH-C" if i == 0 else f"BCA-{i:05d}",
                name="上海宏达机电设备有限公司" if i == 0 else f"背景客户{i}",
                owner=admin,
                value_class="A",
            )
            search_keys.apply_account_keys(row)
            accounts.append(row)
        accounts = Account.objects.bulk_create(accounts)
        for i, acc in enumerate(accounts):
            book = PriceBook.objects.create(
                workspace=ws,
                name=f"客户价 {acc.code}",
                kind="customer",
                account=acc,
                currency="CNY",
            )
            start = (i * 37) % max(1, len(ids) - 100)
            books.append((book, ids[start : start + 100 : 2]))
        for book, product_ids in books:
            PriceBookEntry.objects.bulk_create(
                (
                    PriceBookEntry(
                        workspace=ws,
                        price_book=book,
                        product_id=pk,
                        unit_price=Decimal(100 + pk % 900),
                    )
                    for pk in product_ids
                ),
                batch_size=5000,
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"seeded in {time.perf_counter() - started:.1f} s")
    return {"admin": admin, "account": accounts[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the data (1.0)")
    parser.add_argument("--requests", type=int, default=20, help="timed calls per row (20)")
    args = parser.parse_args()
    setup_django(args.db, args.scale)
    n_products = max(200, int(20_000 * args.scale))
    n_books = max(5, int(1_000 * args.scale))

    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from guanxi.platform.tests.test_api_support import make_token
    from guanxi.sales.models import PriceBook, Product
    from guanxi.sales.services import pricing

    data = seed(products=n_products, customer_books=n_books, log=print)
    admin, account = data["admin"], data["account"]
    ws = admin.workspace
    own = PriceBook.objects.in_workspace(ws).get(kind="customer", account=account)
    fifty = list(Product.objects.in_workspace(ws).order_by("code")[:50])
    standard = PriceBook.objects.in_workspace(ws).get(kind="standard", currency="CNY")
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    secret = make_token(admin, scopes=["read"])
    picker = reverse("sales:product_picker")

    def resolve():
        found = pricing.prices_for(workspace=ws, products=fifty, account=account)
        assert len(found) == 50

        class Ok:
            status_code = 200

        return Ok

    rows = []
    for name, call in (
        ("prices_for: 50 products, one customer", resolve),
        (
            "picker, 2 Chinese characters (离心)",
            lambda: client.get(picker, {"q": "离心", "account": account.pk}),
        ),
        (
            "picker, pinyin (jiliang)",
            lambda: client.get(picker, {"q": "jiliang", "account": account.pk}),
        ),
        (
            "picker, a code (bc-0012)",
            lambda: client.get(picker, {"q": "bc-0012", "account": account.pk}),
        ),
        (
            "products list searched (蝶阀)",
            lambda: client.get(reverse("sales:product_list"), {"q": "蝶阀"}),
        ),
        (
            f"standard book page ({n_products:,} prices, first 100)",
            lambda: client.get(reverse("sales:price_book_detail", args=[standard.pk])),
        ),
        (
            "a product's prices in every book",
            lambda: client.get(reverse("sales:product_detail", args=[fifty[0].pk])),
        ),
        (
            "GET /api/v1/prices",
            lambda: client.get(
                "/api/v1/prices",
                {"product": fifty[0].pk, "account": account.pk},
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            ),
        ),
    ):
        call()
        reset_queries()
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
        f"Catalogue bench on {args.db} ({connection.vendor}), scale {args.scale:g}: "
        f"{n_products:,} products, {n_books + 1:,} customer books (own book: "
        f"{own.entries.count()} prices) · {platform.python_version()}"
    )
    print()
    print("| call | p50 ms | p95 ms | queries |")
    print("|---|---:|---:|---:|")
    for name, p50, p95, queries in rows:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
