"""The forecast benchmark: the forecast page and API over N deals (1,000,000 for the figure).

    .venv/bin/python bench/forecast.py --db sqlite --deals 50000      # var/bench-forecast.sqlite3
    .venv/bin/python bench/forecast.py --db postgres --deals 1000000  # guanxi_bench_forecast

1. Seeds (once per ``--deals``; a second run reuses it) the workspace "Bench forecast N":
   a department with 4 teams (5 teams in all), 20 reps (5 per team), a sales manager of the
   department, and N deals over 3 years (last year, this year, next year) by
   ``bulk_create`` (PostgreSQL: ``COPY``): deals whose expected close date has passed are
   mostly won or lost (closed then), the rest open in the categories pipeline / best case
   / commit / omitted with their probabilities; quotas per rep and team for every quarter
   and year. Then ANALYZE (PostgreSQL: VACUUM ANALYZE).
2. Signs in with ``django.test.Client`` (in process, ``DEBUG`` off) as the administrator
   (visibility "all") and as the sales manager ("team and below": the owner filter is in
   the query) and times, warm and ``--requests`` times each: the forecast page for this
   quarter and this year per rep, this year per team, ``GET /api/v1/forecast`` (year, per
   rep and per team) and the rep performance page for the year.
3. Prints the plans of the forecast's two grouped queries (``EXPLAIN``; PostgreSQL:
   ``EXPLAIN ANALYZE``) and a Markdown table: p50 and p95 of the server time in
   milliseconds and the SQL queries of one request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
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
SQLITE_PATH = ROOT / "var" / "bench-forecast.sqlite3"
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_forecast"
REPS_PER_TEAM = 5
BATCH = 10_000
# Open deals' categories: (category, share, probability range).
OPEN_MIX = (
    ("pipeline", 0.50, (10, 30)),
    ("best_case", 0.25, (40, 60)),
    ("commit", 0.15, (70, 90)),
    ("omitted", 0.10, (5, 10)),
)


def setup_django(db: str) -> None:
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{SQLITE_PATH}")


# --- seeding --------------------------------------------------------------------------------------


def seed(n_deals: int, log) -> dict:
    from django.db import connection, transaction

    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.platform.models import Role, Team, User
    from guanxi.sales.models import Deal, Quota
    from guanxi.sales.services.setup import ensure_sales_defaults

    name = f"Bench forecast {n_deals}"
    admin = bench_workspace(name)
    ws = admin.workspace
    ensure_sales_defaults(ws)
    domain = admin.email.split("@", 1)[1]
    department = Team.objects.in_workspace(ws).get(parent__isnull=True)
    teams = list(Team.objects.in_workspace(ws).filter(parent=department).order_by("pk"))
    manager = User.objects.filter(workspace=ws, email=f"manager@{domain}").first()
    if manager is None:
        roles = {r.code: r for r in Role.objects.in_workspace(ws)}
        manager = User.objects.create(
            workspace=ws,
            email=f"manager@{domain}",
            full_name="陈总监",
            role=roles["sales_manager"],
            team=department,
        )
        User.objects.bulk_create(
            User(
                workspace=ws,
                email=f"rep{t}{i}@{domain}",
                full_name=f"销售{t}{i}",
                role=roles["sales_rep"],
                team=team,
            )
            for t, team in enumerate(teams)
            for i in range(REPS_PER_TEAM)
        )
    reps = list(
        User.objects.filter(workspace=ws, email__startswith="rep")
        .order_by("pk")
        .select_related("team")
    )
    have = Deal.objects.in_workspace(ws).count()
    if have >= n_deals:
        log(f"  reusing {have:,} deals")
        return {"workspace": ws, "admin": admin, "manager": manager, "teams": teams}
    started = time.perf_counter()
    _deals(ws, reps, n_deals - have, random.Random(have))
    log(f"  {n_deals - have:,} deals in {time.perf_counter() - started:.1f} s")
    today = dt.date.today()
    with transaction.atomic():
        Quota.objects.in_workspace(ws).delete()
        quotas = []
        for year in (today.year - 1, today.year, today.year + 1):
            starts = [("year", dt.date(year, 1, 1), 4)] + [
                ("quarter", dt.date(year, 3 * q - 2, 1), 1) for q in range(1, 5)
            ]
            for kind, start, times in starts:
                per_rep = Decimal(n_deals) * 150 * times  # about what a rep closes
                quotas += [
                    Quota(
                        workspace=ws, user=r, period_kind=kind, period_start=start, amount=per_rep
                    )
                    for r in reps
                ]
                quotas += [
                    Quota(
                        workspace=ws,
                        team=t,
                        period_kind=kind,
                        period_start=start,
                        amount=per_rep * (20 if t == department else REPS_PER_TEAM),
                    )
                    for t in [department, *teams]
                ]
        Quota.objects.bulk_create(quotas)
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM sets the visibility map, so the covering indexes are read
        # without visiting the table (an index-only scan), as on a table autovacuum keeps.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"workspace": ws, "admin": admin, "manager": manager, "teams": teams}


def _deal_rows(ws, reps, n: int, rng: random.Random):
    """Field values of ``n`` deals, as dicts, over last year, this year and next year."""
    from guanxi.sales.models import Stage
    from guanxi.sales.services.setup import default_pipeline

    pipeline = default_pipeline(ws)
    stages = {}
    for stage in Stage.objects.in_workspace(ws).filter(pipeline=pipeline).order_by("order"):
        stages.setdefault(stage.kind, stage)
        stages.setdefault(stage.forecast_category, stage)
    today = dt.date.today()
    first = dt.date(today.year - 1, 1, 1)
    span = (dt.date(today.year + 2, 1, 1) - first).days
    zone = dt.timezone(dt.timedelta(hours=8))
    weights = [share for _c, share, _p in OPEN_MIX]
    for i in range(n):
        close = first + dt.timedelta(days=rng.randrange(span))
        owner = reps[rng.randrange(len(reps))]
        amount = Decimal(rng.randrange(5_000, 2_000_000)) + Decimal(rng.randrange(100)) / 100
        created = dt.datetime.combine(
            close - dt.timedelta(days=rng.randrange(10, 180)), dt.time(10), tzinfo=zone
        )
        roll = rng.random()
        if close < today and roll < 0.8:
            status = "won" if roll < 0.35 else "lost"
            stage = stages[status]
            category, probability = ("closed", 100) if status == "won" else ("omitted", 0)
            closed_at = dt.datetime.combine(
                close + dt.timedelta(days=rng.randrange(-5, 6)), dt.time(15), tzinfo=zone
            )
        else:
            status, closed_at = "open", None
            category, _share, (low, high) = rng.choices(OPEN_MIX, weights=weights)[0]
            stage = stages[category if category != "omitted" else "pipeline"]
            probability = rng.randrange(low, high + 1)
        yield {
            "workspace_id": ws.pk,
            "created_at": created,
            "updated_at": created,
            "owner_id": owner.pk,
            "name": f"商机 {i}",
            "pipeline_id": pipeline.pk,
            "stage_id": stage.pk,
            "status": status,
            "amount": amount,
            "currency": "CNY",
            "amount_base": amount,
            "probability": probability,
            "forecast_category": category,
            "expected_close_date": close,
            "next_step": "",
            "lost_note": "",
            "source": "",
            "campaign": "",
            "closed_at": closed_at,
            "stage_changed_at": closed_at or created,
            "position": float(i),
            "version": 1,
            "custom": "{}",
        }


def _deals(ws, reps, n: int, rng: random.Random) -> None:
    from django.db import connection, transaction

    from guanxi.sales.models import Deal

    rows = _deal_rows(ws, reps, n, rng)
    if connection.vendor == "postgresql":
        columns = None
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY
            buffer = io.StringIO()
            for count, row in enumerate(rows, 1):
                if columns is None:
                    columns = list(row)
                buffer.write("\t".join(_copy_value(row[c]) for c in columns) + "\n")
                if count % 100_000 == 0:
                    _copy(raw, Deal._meta.db_table, columns, buffer)
                    buffer = io.StringIO()
            if buffer.tell():
                _copy(raw, Deal._meta.db_table, columns, buffer)
        return
    created = Deal._meta.get_field("created_at")
    created.auto_now_add = False  # the seeded creation times stand (cycle lengths)
    try:
        batch = []
        for row in rows:
            row["custom"] = {}
            batch.append(Deal(**row))
            if len(batch) == BATCH:
                with transaction.atomic():
                    Deal.objects.bulk_create(batch)
                batch = []
        if batch:
            with transaction.atomic():
                Deal.objects.bulk_create(batch)
    finally:
        created.auto_now_add = True


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _copy(raw, table: str, columns: list[str], buffer: io.StringIO) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        copy.write(buffer.getvalue())


# --- measuring -------------------------------------------------------------------------------


def explain(data: dict, log) -> list[str]:
    """The plans of the forecast's grouped queries (this year, as the manager)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.activities.services.visits import parse_period
    from guanxi.sales.selectors.forecast import forecast

    period = parse_period(str(dt.date.today().year))
    out = []
    for who, user in (("administrator", data["admin"]), ("sales manager", data["manager"])):
        with CaptureQueriesContext(connection) as captured:
            forecast(workspace=data["workspace"], actor=user, period=period)
        for query in captured.captured_queries:
            sql = query["sql"]
            if "GROUP BY" not in sql or "sales_deal" not in sql:
                continue
            prefix = (
                "EXPLAIN ANALYZE" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
            )
            with connection.cursor() as cursor:
                cursor.execute(f"{prefix} {sql}")
                plan = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
            out.append(f"-- {who}: {sql[:160]}…")
            out.extend(plan)
            out.append("")
    for line in out:
        log(line)
    return out


def measure(data: dict, requests: int, log) -> list[dict]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from guanxi.platform import services

    today = dt.date.today()
    year = str(today.year)
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    rows = []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver", "127.0.0.1"]):
        for who, user in (("administrator", data["admin"]), ("sales manager", data["manager"])):
            client = Client(raise_request_exception=True)
            client.force_login(user)
            _token, secret = services.api_token_create(
                actor=user, workspace=data["workspace"], name="bench", scopes=["read"]
            )
            bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
            cases = [
                (f"forecast page, {quarter}, per rep", f"/sales/forecast/?period={quarter}", {}),
                (f"forecast page, {year}, per rep", f"/sales/forecast/?period={year}", {}),
                (
                    f"forecast page, {year}, per team",
                    f"/sales/forecast/?period={year}&kind=team",
                    {},
                ),
                (
                    f"forecast rows (htmx), {year}, one team",
                    f"/sales/forecast/?period={year}&kind=rep&team={data['teams'][0].pk}",
                    {"HTTP_HX_REQUEST": "true"},
                ),
                (f"GET /api/v1/forecast, {year}", f"/api/v1/forecast?period={year}", bearer),
                (
                    f"GET /api/v1/forecast, {year}, per team",
                    f"/api/v1/forecast?period={year}&kind=team",
                    bearer,
                ),
                (f"rep performance page, {year}", f"/sales/performance/?period={year}", {}),
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
                row = {
                    "who": who,
                    "what": label,
                    "p50": statistics.median(timings),
                    "p95": harness.percentile(timings, 0.95),
                    "queries": queries,
                }
                log(
                    f"  {who}, {label}: p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms, {queries} q"
                )
                rows.append(row)
    return rows


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
    parser.add_argument("--deals", type=int, default=1_000_000, help="deals (1,000,000)")
    parser.add_argument("--scale", type=int, dest="deals", help="the same as --deals")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per row (20)")
    args = parser.parse_args()
    setup_django(args.db)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f"Seeding (or reusing) “Bench forecast {args.deals}” …")
    data = seed(args.deals, log)
    plans = explain(data, log)
    rows = measure(data, args.requests, log)
    import django

    from guanxi.sales.models import Deal

    total = Deal.objects.in_workspace(data["workspace"]).count()
    print()
    print(f"### Forecast — {vendor()}: {total:,} deals, 20 reps, 5 teams, 3 years")
    print()
    print(
        f"`.venv/bin/python bench/forecast.py --db {args.db} --deals {args.deals} "
        f"--requests {args.requests}` (Django {django.get_version()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU, load average "
        f"{os.getloadavg()[0]:.1f} at the end). Server time through django.test.Client, warm."
    )
    print()
    print("| As | What | p50 ms | p95 ms | SQL queries |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['who']} | {r['what']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['queries']} |")
    print()
    print("Plans of the two grouped queries (this year):")
    print()
    print("```")
    print("\n".join(plans))
    print("```")


if __name__ == "__main__":
    main()
