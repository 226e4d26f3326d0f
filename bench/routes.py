"""Visit figures: the route solver's time for 10, 25 and 50 stops (p50/p95 over 20 runs of
random seeded instances in a 40 km square of Shanghai), its gap to the exact optimum
(Held–Karp) on small instances, and optionally visit-task generation for N accounts.

    .venv/bin/python bench/routes.py                              # the solver only
    .venv/bin/python bench/routes.py --generate 100000 --db sqlite     # var/bench-visits.sqlite3
    .venv/bin/python bench/routes.py --generate 100000 --db postgres   # guanxi_bench_visits

Generation starts from an empty database (recreated), seeds 100 reps and N accounts with
the built-in type mix, and times ``visit_plans_generate`` for the year 2026 (plans created,
tasks bulk-inserted in batches), then a second run (idempotent: creates nothing).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var"
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_visits"
SQLITE_PATH = VAR / "bench-visits.sqlite3"
SHANGHAI = (31.2304, 121.4737)


def _points(rnd: random.Random, n: int, spread: float = 0.36):
    return [
        (SHANGHAI[0] + (rnd.random() - 0.5) * spread, SHANGHAI[1] + (rnd.random() - 0.5) * spread)
        for _ in range(n)
    ]


def bench_solver(runs: int) -> None:
    from guanxi.activities.services.routes import Stop, exact_open_path, solve_route, time_limit_for

    print("| stops | time limit (s) | p50 (s) | p95 (s) | max (s) |")
    print("|---:|---:|---:|---:|---:|")
    for n in (10, 25, 50):
        times = []
        for seed in range(runs):
            rnd = random.Random(n * 1000 + seed)
            stops = [Stop(i, *p) for i, p in enumerate(_points(rnd, n))]
            began = time.perf_counter()
            solve_route(stops, start=_points(rnd, 1)[0])
            times.append(time.perf_counter() - began)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        print(
            f"| {n} | {time_limit_for(n):.2f} | {statistics.median(times):.3f} | {p95:.3f} "
            f"| {times[-1]:.3f} |"
        )
    gaps = []
    for seed in range(runs):
        rnd = random.Random(seed)
        n = rnd.randint(6, 11)
        points = _points(rnd, n)
        start = _points(rnd, 1)[0]
        solution = solve_route([Stop(i, *p) for i, p in enumerate(points)], start=start)
        best, _ = exact_open_path(points, start=start)
        gaps.append(solution.total_m / best - 1)
    print(
        f"\nGap to the optimum (Held–Karp) on {runs} instances of 6–11 stops: "
        f"max {max(gaps) * 100:.3f}%, mean {statistics.mean(gaps) * 100:.3f}%, "
        f"optimal in {sum(g < 1e-9 for g in gaps)} of {runs}."
    )


def _setup_database(db: str) -> None:
    if db == "postgres":
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
             "DROP DATABASE IF EXISTS guanxi_bench_visits"],
            check=True,
        )  # fmt: skip
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
             "CREATE DATABASE guanxi_bench_visits TEMPLATE template0 "
             "LC_COLLATE 'C' LC_CTYPE 'C.UTF-8' ENCODING 'UTF8'"],
            check=True,
        )  # fmt: skip
        os.environ["DATABASE_URL"] = PG_URL
    else:
        VAR.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"


def bench_generate(n: int, db: str) -> None:
    _setup_database(db)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from guanxi.activities.models import Task
    from guanxi.activities.services import visits
    from guanxi.customers.models import Account
    from guanxi.platform import services as platform_services
    from guanxi.platform.models import Role, User

    workspace, admin = platform_services.workspace_create(
        name="Bench visits",
        admin_email="bench-visits@example.com",
        admin_name="Bench",
        admin_password="bench-visits-Passw0rd",
        language="en",
        time_zone="Asia/Shanghai",
    )
    rep_role = Role.objects.in_workspace(workspace).get(code="sales_rep")
    reps = User.objects.bulk_create(
        [
            User(workspace=workspace, email=f"rep{i}@bench.example.com", full_name=f"Rep {i}",
                 role=rep_role, time_zone="Asia/Shanghai")
            for i in range(100)
        ]
    )  # fmt: skip
    types = ["customer"] * 6 + ["prospect"] * 2 + ["agent", "supplier", "competitor", "other"]
    rnd = random.Random(3)
    began = time.perf_counter()
    Account.objects.bulk_create(
        (
            Account(workspace=workspace, code=f"V{i:07d}", name=f"公司 {i}",
                    account_type=rnd.choice(types), owner=reps[i % len(reps)], city="上海")
            for i in range(n)
        ),
        batch_size=5000,
    )  # fmt: skip
    print(f"seeded {n:,} accounts in {time.perf_counter() - began:.1f} s ({db})")

    def run(label: str) -> None:
        began = time.perf_counter()
        result = visits.visit_plans_generate(actor=admin, workspace=workspace, period="2026")
        elapsed = time.perf_counter() - began
        print(
            f"{label}: {result['accounts']:,} accounts, {result['plans_created']:,} plans and "
            f"{result['tasks_created']:,} visit tasks created in {elapsed:.1f} s "
            f"({result['tasks_created'] / elapsed if elapsed else 0:,.0f} tasks/s)"
        )

    run("first run")
    run("second run (idempotent)")
    print(f"visit tasks in the database: {Task.objects.in_workspace(workspace).count():,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--generate", type=int, default=0, help="also time generation for N accounts"
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    if args.generate:
        bench_generate(args.generate, args.db)
        return
    import django

    django.setup()
    bench_solver(args.runs)


if __name__ == "__main__":
    main()
