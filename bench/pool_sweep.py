"""Customer pool figures: the return sweep's rate and the pool page's server time with a
full pool. Not part of the test suite (speed is measured, not asserted); run with

    .venv/bin/pytest -q -s -p no:xdist bench/pool_sweep.py
    DATABASE_URL=postgres://… .venv/bin/pytest -q -s --reuse-db -p no:xdist bench/pool_sweep.py
"""

import datetime as dt
import time

from django.utils import timezone

from guanxi.customers.models import Account, PoolSettings
from guanxi.customers.services import pool
from guanxi.platform.tests.factories import UserFactory


def test_pool_sweep_and_page(workspace, client):
    rep = UserFactory(workspace=workspace)
    PoolSettings.objects.create(workspace=workspace, return_after_days=30)
    old = timezone.now() - dt.timedelta(days=60)
    n = 20000
    Account.objects.bulk_create(
        [
            Account(
                workspace=workspace,
                code=f"B{i:07d}",
                name=f"公司{i}",
                owner=rep,
                owned_since=old if i % 2 else timezone.now(),
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    Account.objects.bulk_create(
        [Account(workspace=workspace, code=f"P{i:07d}", name=f"池{i}") for i in range(n)],
        batch_size=2000,
    )
    t = time.perf_counter()
    r = pool.pool_return_sweep(workspace=workspace)
    el = time.perf_counter() - t
    print(
        f"\nSWEEP returned {r.returned_inactive} of {n} owned in {el:.2f}s = {r.returned_inactive / el:.0f}/s"
    )
    client.force_login(rep)
    times = []
    for _ in range(20):
        t = time.perf_counter()
        assert client.get("/customers/pool/").status_code == 200
        times.append(time.perf_counter() - t)
    times.sort()
    print(
        f"POOL PAGE p50 {times[10] * 1000:.1f} ms p95 {times[18] * 1000:.1f} ms with {n + r.returned_inactive} in pool"
    )
