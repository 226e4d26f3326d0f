"""The customer-value benchmark: the ABC and Pareto recompute over N customers and M order
lines (the figure: 1,000,000 customers and 10,000,000 lines in under 2 minutes, bounded
memory, on both databases).

    .venv/bin/python bench/value.py --db sqlite --customers 20000 --lines 200000
    .venv/bin/python bench/value.py --db postgres --customers 1000000 --lines 10000000

1. Seeds (once per size; a second run reuses it) the workspace "Bench value N/M": N
   customers (90 % accounts, 2 % of them agents; 10 % individual contacts) and M order
   lines on M/5 orders over the last four calendar years, 3 % of orders cancelled. Who
   buys is skewed (customer ``int(N × u²)``), so revenue is concentrated as in real books.
   Rows are written with ``COPY`` on PostgreSQL and ``executemany`` in big transactions
   on SQLite, never through the ORM one by one. Then ANALYZE.
2. Clears the classes, class history and revenue rows a previous run left, then runs
   ``services.value.value_recompute`` for the last full year twice: the first run
   classifies every customer (N class changes written), the second finds none.
3. Prints the seconds of each run, the peak RSS of this process (the database server's
   memory is not in it), the Pareto top figures and the class counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import resource
import time
from decimal import Decimal
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = ROOT / "var" / "bench-value.sqlite3"
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_value"
LINES_PER_ORDER = 5
CHUNK = 50_000


def setup_django(db: str) -> None:
    harness.setup_django(
        PG_URL if db == "postgres" else f"sqlite:///{SQLITE_PATH}", cache_table=False
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- writing rows fast --------------------------------------------------------------------------


def _defaults(model, connection) -> dict:
    """Every concrete column of ``model`` with its Django default, ready for the database
    (the ORM's defaults are not database defaults, so raw inserts must give them all)."""
    out = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        value = field.get_default()
        if field.get_internal_type() == "JSONField":
            value = json.dumps(value if value is not None else {})
        out[field.column] = value
    return out


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class Writer:
    """Rows of one table: ``COPY`` on PostgreSQL, ``executemany`` on SQLite, a chunk at a
    time so memory stays flat."""

    def __init__(self, model, columns: list[str]):
        from django.db import connection

        self.connection = connection
        self.table = model._meta.db_table
        self.defaults = _defaults(model, connection)
        self.columns = columns + [c for c in self.defaults if c not in columns]
        self.rows: list = []

    def add(self, values: list) -> None:
        self.rows.append(values)
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        extra = [self.defaults[c] for c in self.columns[len(self.rows[0]) :]]
        cursor = self.connection.cursor()
        if self.connection.vendor == "postgresql":
            buffer = io.StringIO()
            for row in self.rows:
                buffer.write("\t".join(_copy_value(v) for v in [*row, *extra]) + "\n")
            buffer.seek(0)
            columns = ", ".join(self.columns)
            with cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join(["?"] * len(self.columns))
            raw = cursor.cursor
            raw.executemany(
                f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})",
                ([*row, *extra] for row in self.rows),
            )
        self.rows = []


def _sqlite_value(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- seeding --------------------------------------------------------------------------------------


def seed(customers: int, lines: int, log):
    from django.db import connection, transaction

    from guanxi.customers.models import Account, Contact
    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.sales.models import Order, OrderLine

    admin = bench_workspace(f"Bench value {customers}/{lines}")
    ws = admin.workspace
    have = OrderLine.objects.in_workspace(ws).count()
    if have >= lines:
        log(f"  reusing {have:,} order lines")
        return ws
    if have:
        raise SystemExit(
            "a partly seeded bench workspace: delete var/bench-value.sqlite3 or the db"
        )
    rng = random.Random(20261130)
    now = dt.datetime.now(dt.UTC)
    sqlite = connection.vendor == "sqlite"

    def v(value):
        return _sqlite_value(value) if sqlite else value

    started = time.perf_counter()
    n_accounts = customers * 9 // 10
    with transaction.atomic():
        accounts = Writer(
            Account, ["workspace_id", "code", "name", "account_type", "created_at", "updated_at"]
        )
        for i in range(n_accounts):
            kind = "agent" if i % 50 == 7 else "customer"
            accounts.add([ws.pk, f"BA{i:08d}", f"客户 {i}", kind, v(now), v(now)])
        accounts.flush()
        people = Writer(Contact, ["workspace_id", "code", "name", "created_at", "updated_at"])
        for i in range(customers - n_accounts):
            people.add([ws.pk, f"BC{i:08d}", f"个人 {i}", v(now), v(now)])
        people.flush()
    account_ids = list(Account.objects.in_workspace(ws).order_by("pk").values_list("pk", flat=True))
    contact_ids = list(Contact.objects.in_workspace(ws).order_by("pk").values_list("pk", flat=True))
    log(f"  {customers:,} customers in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    this_year = dt.date.today().year
    first = dt.date(this_year - 4, 1, 1)
    span = (dt.date(this_year, 1, 1) - first).days
    n_orders = max(1, lines // LINES_PER_ORDER)
    with transaction.atomic():
        orders = Writer(
            Order,
            [
                "workspace_id",
                "number",
                "status",
                "order_date",
                "account_id",
                "contact_id",
                "currency",
                "created_at",
                "updated_at",
            ],
        )
        order_meta = []
        for i in range(n_orders):
            who = int(customers * rng.random() ** 2)
            account_id = account_ids[who] if who < len(account_ids) else None
            contact_id = None if account_id else contact_ids[who - len(account_ids)]
            day = first + dt.timedelta(days=rng.randrange(span))
            status = "cancelled" if rng.random() < 0.03 else "completed"
            orders.add(
                [ws.pk, f"BO{i:09d}", status, v(day), account_id, contact_id, "CNY", v(now), v(now)]
            )
            order_meta.append((day, account_id, contact_id))
        orders.flush()
    first_order = Order.objects.in_workspace(ws).order_by("pk").values_list("pk", flat=True).first()
    with transaction.atomic():
        writer = Writer(
            OrderLine,
            [
                "workspace_id",
                "order_id",
                "position",
                "quantity",
                "unit_price",
                "amount",
                "amount_base",
                "order_date",
                "account_id",
                "contact_id",
                "created_at",
                "updated_at",
            ],
        )
        for i in range(lines):
            n = i // LINES_PER_ORDER if i // LINES_PER_ORDER < n_orders else rng.randrange(n_orders)
            day, account_id, contact_id = order_meta[n]
            amount = Decimal(rng.randrange(100, 500_000)) / 100
            writer.add(
                [
                    ws.pk,
                    first_order + n,
                    i % LINES_PER_ORDER + 1,
                    "1",
                    str(amount),
                    str(amount),
                    str(amount),
                    v(day),
                    account_id,
                    contact_id,
                    v(now),
                    v(now),
                ]
            )
        writer.flush()
    del order_meta
    log(f"  {n_orders:,} orders and {lines:,} lines in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="A fraction of the figure's size (1.0 = 1,000,000 customers, 10,000,000 lines).",
    )
    args = parser.parse_args()
    if args.scale:
        args.customers, args.lines = int(1_000_000 * args.scale), int(10_000_000 * args.scale)
    setup_django(args.db)

    from django.db import connection

    from guanxi.analytics.services import value

    def log(message: str) -> None:
        print(message, flush=True)

    log(
        f"# customer value · {connection.vendor} · {args.customers:,} customers, {args.lines:,} lines"
    )
    ws = seed(args.customers, args.lines, log)
    rss_seeded = peak_rss_mb()
    year = dt.date.today().year - 1
    # The first run classifies everyone, as on a fresh install: clear what a previous
    # bench run left (classes, class history, revenue rows).
    from guanxi.analytics.models import ClassChange, CustomerYearRevenue, ValueRun
    from guanxi.customers.models import Account, Contact

    for model in (Account, Contact):
        model.objects.in_workspace(ws).exclude(value_class="").update(value_class="")
    for model in (ClassChange, CustomerYearRevenue, ValueRun):
        model.objects.in_workspace(ws).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    timings = []
    for attempt in (1, 2):
        started = time.perf_counter()
        run = value.value_recompute(workspace=ws, trigger="bench", year=year)
        timings.append(time.perf_counter() - started)
        log(f"  run {attempt}: {timings[-1]:.1f} s, {run.changed:,} classes changed")
    top = {str(p[0]): (p[2], p[1]) for p in run.pareto if p[0] in (1.0, 5.0, 10.0, 20.0, 50.0)}
    log("")
    log(
        "| database | customers | lines | first run (s) | second run (s) | peak RSS (MB) | A / B / C |"
    )
    log("|---|---:|---:|---:|---:|---:|---|")
    counts = run.class_counts
    log(
        f"| {connection.vendor} | {args.customers:,} | {args.lines:,} | {timings[0]:.1f} |"
        f" {timings[1]:.1f} | {peak_rss_mb():.0f} (after seeding {rss_seeded:.0f}) |"
        f" {counts.get('A', 0):,} / {counts.get('B', 0):,} / {counts.get('C', 0):,} |"
    )
    log("")
    log(f"Pareto {year}: {run.customers:,} customers with sales, revenue {run.revenue}")
    for percent, (k, share) in top.items():
        log(f"  top {percent} %: {k:,} customers, {share} % of revenue")


if __name__ == "__main__":
    main()
