"""The kanban benchmark: the deal board of one pipeline with 10,000 open deals.

    .venv/bin/python bench/kanban.py --db sqlite --deals 10000     # var/bench-kanban-10000.sqlite3
    .venv/bin/python bench/kanban.py --db postgres --deals 10000   # guanxi_bench_kanban on 127.0.0.1
    .venv/bin/python bench/kanban.py --deals 1000 --requests 10    # a quick proof at a small scale

1. Seeds (once per size; a second run reuses it) the workspace "Bench kanban <N>": a sales
   manager and 20 reps in one team, 500 accounts, and N open deals on the default pipeline
   spread over its five open stages (owners, accounts, amounts in CNY and USD, close dates
   over 12 months, 1 in 10 quiet for 90 days: stale), plus N/5 won and lost deals. Then
   ANALYZE.
2. Signs in with ``django.test.Client`` (in process, ``DEBUG`` off) as the manager (deals of
   the team: the visibility filter is in every query) and as one rep (own deals), and times,
   warm and ``--requests`` times: the board, the board filtered (mine, a close month, stale
   only), a column's "load more" (page 2, keyset), a move between stages, and
   ``GET /api/v1/deals``.
3. Prints a Markdown table: p50 and p95 of the server time in milliseconds and the SQL
   queries of one request. The target: the board's first render under 200 ms server time
   with a fixed number of queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_kanban"
REPS = 20
ACCOUNTS = 500
BATCH = 5_000


def setup_django(db: str, deals: int) -> None:
    sqlite_path = ROOT / "var" / f"bench-kanban-{deals}.sqlite3"
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{sqlite_path}")


def seed(deals: int, log) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.customers import search_keys
    from guanxi.customers.models import Account
    from guanxi.platform.management.commands.seed import bench_add_users, bench_workspace
    from guanxi.platform.models import Role, Team, User
    from guanxi.sales.models import Deal, ExchangeRate, LostReason, Stage
    from guanxi.sales.services.setup import default_pipeline, ensure_sales_defaults

    admin = bench_workspace(f"Bench kanban {deals}")
    ws = admin.workspace
    ensure_sales_defaults(ws)
    pipeline = default_pipeline(ws)
    team = Team.objects.in_workspace(ws).order_by("id").first()
    manager = User.objects.filter(workspace=ws, email__startswith="manager@").first()
    if manager is None:
        manager = User.objects.create(
            workspace=ws,
            email=f"manager@{admin.email.split('@', 1)[1]}",
            full_name="陈经理",
            role=Role.objects.in_workspace(ws).get(code="sales_manager"),
            team=team,
        )
    have = User.objects.filter(workspace=ws).count()
    if have < REPS + 2:
        bench_add_users(admin, REPS + 2 - have)
    reps = list(
        User.objects.filter(workspace=ws).exclude(pk__in=[admin.pk, manager.pk]).order_by("id")
    )[:REPS]
    User.objects.filter(pk__in=[r.pk for r in reps]).update(
        team=team, role=Role.objects.in_workspace(ws).get(code="sales_rep")
    )
    existing = Deal.objects.in_workspace(ws).filter(status="open").count()
    data = {"workspace": ws, "manager": manager, "rep": reps[0], "pipeline": pipeline}
    if existing >= deals:
        return data
    rng = random.Random(42)
    now = timezone.now()
    today = timezone.localdate()
    stages = list(Stage.objects.in_workspace(ws).filter(pipeline=pipeline).order_by("order"))
    opens = [s for s in stages if s.kind == "open"]
    won = next(s for s in stages if s.kind == "won")
    lost = next(s for s in stages if s.kind == "lost")
    reason = LostReason.objects.in_workspace(ws).order_by("order").first()
    started = time.perf_counter()
    with transaction.atomic():
        ExchangeRate.objects.get_or_create(
            workspace=ws,
            currency="USD",
            valid_from=today - dt.timedelta(days=400),
            defaults={"rate": Decimal("7.10")},
        )
        accounts = []
        for i in range(ACCOUNTS):
            account = Account(
                workspace=ws,
                code=f"BK{i:05d}",
                name=f"看板客户 {i:04d} 有限公司",
                owner=reps[i % REPS],
            )
            search_keys.apply_account_keys(account)
            accounts.append(account)
        Account.objects.bulk_create(accounts, batch_size=BATCH)
        accounts = list(Account.objects.in_workspace(ws).filter(code__startswith="BK"))
        rows = []
        closed = deals // 5
        for i in range(deals + closed):
            is_open = i < deals
            stage = opens[i % len(opens)] if is_open else (won if i % 2 else lost)
            usd = i % 7 == 0
            amount = Decimal(rng.randrange(5_000, 2_000_000))
            quiet = is_open and i % 10 == 0
            changed = now - dt.timedelta(days=90 if quiet else rng.randrange(0, 20))
            rows.append(
                Deal(
                    workspace=ws,
                    name=f"项目 {i:06d}",
                    pipeline=pipeline,
                    stage=stage,
                    status="open" if is_open else stage.kind,
                    owner=reps[i % REPS],
                    account=accounts[i % len(accounts)],
                    amount=amount,
                    currency="USD" if usd else "CNY",
                    amount_base=amount * Decimal("7.10") if usd else amount,
                    probability=stage.probability,
                    forecast_category=stage.forecast_category,
                    expected_close_date=today + dt.timedelta(days=rng.randrange(-30, 330)),
                    stage_changed_at=changed,
                    closed_at=None if is_open else changed,
                    lost_reason=reason if stage.kind == "lost" else None,
                    position=float((i // len(opens)) * 1024),
                )
            )
            if len(rows) >= BATCH:
                Deal.objects.bulk_create(rows)
                rows = []
        Deal.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(
        f"seeded {deals:,} open deals (+{deals // 5:,} closed) in {time.perf_counter() - started:.1f} s"
    )
    return data


def measure(data: dict, requests: int, log) -> list[dict]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from guanxi.sales.models import Deal

    ws, pipeline = data["workspace"], data["pipeline"]
    month = timezone.localdate().strftime("%Y-%m")
    rows = []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver", "127.0.0.1"]):
        for who, user in (("sales manager", data["manager"]), ("rep", data["rep"])):
            client = Client(raise_request_exception=True)
            client.force_login(user)
            board = f"/sales/deals/board/?pipeline={pipeline.pk}"
            first_stage = (
                Deal.objects.in_workspace(ws)
                .filter(pipeline=pipeline, status="open")
                .order_by("stage__order")
                .values_list("stage_id", flat=True)
                .first()
            )
            visible = Deal.objects.in_workspace(ws).filter(stage_id=first_stage, status="open")
            if who == "rep":
                visible = visible.filter(owner=user)
            last = visible.order_by("position", "id")[29]
            more = (
                f"/sales/deals/board/column/{first_stage}/?pipeline={pipeline.pk}"
                f"&after={last.position!r}:{last.pk}"
            )
            cases = [
                ("board (first render)", board, {}),
                ("board: mine", f"{board}&owner=mine", {}),
                ("board: closing this month", f"{board}&close_month={month}", {}),
                ("board: stale only", f"{board}&stale=1", {}),
                ("column: load more (keyset)", more, {"HTTP_HX_REQUEST": "true"}),
                ("GET /api/v1/deals (50)", f"/api/v1/deals?pipeline_id={pipeline.pk}", {}),
            ]
            for label, url, headers in cases:
                response = client.get(url, **headers)
                assert response.status_code == 200, (url, response.status_code)
                reset_queries()
                with CaptureQueriesContext(connection) as captured:
                    client.get(url, **headers)
                queries = len(captured)
                timings = []
                for _ in range(requests):
                    t0 = time.perf_counter()
                    client.get(url, **headers)
                    timings.append((time.perf_counter() - t0) * 1000)
                rows.append(_row(who, label, timings, queries))
                log(f"{who}: {label}: p50 {rows[-1]['p50']:.1f} ms")
            rows.append(_moves(client, visible, requests, who))
            log(f"{who}: move: p50 {rows[-1]['p50']:.1f} ms")
    return rows


def _row(who, label, timings, queries) -> dict:
    return {
        "who": who,
        "what": label,
        "p50": statistics.median(timings),
        "p95": harness.percentile(timings, 0.95),
        "queries": queries,
    }


def _moves(client, visible, requests: int, who: str) -> dict:
    """Drag a card to the next column and back, between two cards each time."""
    from guanxi.sales.models import Deal, Stage

    card = visible.order_by("position", "id")[5]
    stages = list(
        Stage.objects.in_workspace(card.workspace_id)
        .filter(pipeline_id=card.pipeline_id, kind="open")
        .order_by("order")
    )
    here, there = stages[0], stages[1]
    timings = []
    for i in range(requests):
        target = there if i % 2 == 0 else here
        card.refresh_from_db()
        neighbours = list(
            Deal.objects.in_workspace(card.workspace_id)
            .filter(stage=target, status="open")
            .exclude(pk=card.pk)
            .order_by("position", "id")
            .values_list("pk", flat=True)[3:5]
        )
        t0 = time.perf_counter()
        response = client.post(
            f"/sales/deals/{card.pk}/move/",
            {
                "stage": target.pk,
                "version": card.version,
                "after_id": neighbours[0],
                "before_id": neighbours[1],
            },
            HTTP_ACCEPT="application/json",
        )
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.content
    return _row(who, "move a card (drop between two)", timings, None)


def vendor() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        major, rest = divmod(connection.pg_version, 10000)
        return f"PostgreSQL {major}.{rest % 100}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--deals", type=int, default=10_000, help="open deals (10,000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per row (30)")
    args = parser.parse_args()
    setup_django(args.db, args.deals)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f"Seeding (or reusing) “Bench kanban {args.deals}” …")
    data = seed(args.deals, log)
    rows = measure(data, args.requests, log)
    import django

    print()
    print(f"### Kanban — {vendor()}: one pipeline with {args.deals:,} open deals")
    print()
    print(
        f"`.venv/bin/python bench/kanban.py --db {args.db} --deals {args.deals} "
        f"--requests {args.requests}` (Django {django.get_version()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU, load average "
        f"{os.getloadavg()[0]:.1f} at the end). Server time through django.test.Client, warm."
    )
    print()
    print("| As | What | p50 ms | p95 ms | SQL queries |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        queries = "—" if r["queries"] is None else r["queries"]
        print(f"| {r['who']} | {r['what']} | {r['p50']:.1f} | {r['p95']:.1f} | {queries} |")


if __name__ == "__main__":
    main()
