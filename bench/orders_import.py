"""Order import speed: N order lines over M customers and P products from a CSV file through
``guanxi import orders`` (the importer the page, the API and the CLI share), on SQLite and
PostgreSQL, with peak memory.

    .venv/bin/python bench/orders_import.py --lines 1000000 --db sqlite
    .venv/bin/python bench/orders_import.py --lines 1000000 --db postgres
    .venv/bin/python bench/orders_import.py --scale 0.02 --db sqlite    # 20,000 lines

The file (``var/bench-orders-<N>-<M>-<P>.csv``, kept between runs) has the columns customer
code, date, product, quantity, amount, order number (about 4 lines per order; a fifth of the
orders have no number and are grouped by customer and day). Each run starts from an empty
database (SQLite ``var/bench-orders.sqlite3`` or PostgreSQL ``guanxi_bench_orders``,
recreated) with M accounts and P products. The import runs as a child process under
``/usr/bin/time -v``: wall time, lines/s and maximum resident set size are printed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PG_NAME = "guanxi_bench_orders"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
SQLITE_PATH = VAR / "bench-orders.sqlite3"
HEADER = ["customer code", "date", "product", "quantity", "amount", "order number"]


def generate(path: Path, lines: int, customers: int, products: int, seed: int = 11) -> None:
    rnd = random.Random(seed)
    start = dt.date(2023, 1, 1)
    started = time.monotonic()
    written = 0
    order = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        while written < lines:
            order += 1
            customer = f"A{rnd.randrange(customers):07d}"
            day = (start + dt.timedelta(days=rnd.randrange(3 * 365))).isoformat()
            number = f"IMP-{order:08d}" if rnd.random() < 0.8 else ""
            for _ in range(min(rnd.randint(1, 7), lines - written)):
                quantity = rnd.randint(1, 50)
                price = rnd.choice((9.9, 19.5, 120, 560, 1280, 4999))
                writer.writerow(
                    [
                        customer,
                        day,
                        f"P{rnd.randrange(products):05d}",
                        quantity,
                        f"{quantity * price:.2f}",
                        number,
                    ]
                )
                written += 1
    print(f"generated {lines:,} lines in {time.monotonic() - started:.1f} s: {path}")


SEED = """
from guanxi.platform.services import workspace_create
from guanxi.platform.models import Workspace
from guanxi.customers.models import Account
from guanxi.sales.models import Product
from guanxi.sales.services.setup import ensure_sales_defaults
workspace_create(name='bench-orders', admin_email='bench-orders@example.com',
                 admin_name='Bench', admin_password=None)
ws = Workspace.objects.get(slug='bench-orders')
ensure_sales_defaults(ws)
for start in range(0, {customers}, 5000):
    Account.objects.bulk_create(
        Account(workspace=ws, code=f'A{{n:07d}}', name=f'客户 {{n}}', search_text=f'客户 {{n}}')
        for n in range(start, min(start + 5000, {customers}))
    )
Product.objects.bulk_create(
    Product(workspace=ws, code=f'P{{n:05d}}', name=f'产品 {{n}}') for n in range({products})
)
"""


def reset_database(db: str, env: dict, customers: int, products: int) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
        subprocess.run(
            [sys.executable, "scripts/pg_test_db.py", "ensure"], cwd=ROOT, env=env, check=True
        )
    guanxi = str(ROOT / ".venv/bin/guanxi")
    subprocess.run([guanxi, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    code = SEED.format(customers=customers, products=products)
    subprocess.run([guanxi, "shell", "-c", code], cwd=ROOT, env=env, check=True)


def run_import(path: Path, env: dict) -> dict:
    cmd = [
        "/usr/bin/time",
        "-v",
        str(ROOT / ".venv/bin/guanxi"),
        "import",
        "orders",
        str(path),
        "--workspace",
        "bench-orders",
        "--quiet",
    ]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode:
        print(done.stdout, done.stderr)
        raise SystemExit("the import failed")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", done.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", done.stderr).group(1))
    print(done.stdout.strip())
    return {"wall": wall, "rss_mb": rss / 1024, "cpu": user + system}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: lines / 20")
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply --lines by this")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    lines = int(args.lines * args.scale)
    customers = args.customers or max(lines // 20, 10)
    VAR.mkdir(exist_ok=True)
    path = VAR / f"bench-orders-{lines}-{customers}-{args.products}.csv"
    if not path.exists():
        generate(path, lines, customers, args.products)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.dev")
    env["DATABASE_URL"] = PG_URL if args.db == "postgres" else f"sqlite:///{SQLITE_PATH}"
    reset_database(args.db, env, customers, args.products)
    result = run_import(path, env)
    print(
        f"{args.db}: {lines:,} order lines ({customers:,} customers, {args.products:,} "
        f"products) in {result['wall']:.1f} s ({lines / result['wall']:,.0f} lines/s), "
        f"max RSS {result['rss_mb']:.0f} MB, CPU time of the import {result['cpu']:.1f} s"
    )
    print(f"load average at the end (the machine is shared): {os.getloadavg()}")


if __name__ == "__main__":
    main()
