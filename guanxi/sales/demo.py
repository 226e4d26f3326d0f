"""Demo sales for ``guanxi seed`` / ``make run``: each part seeds its own, in the order they
build on each other (the catalogue, leads, deals, quotes, orders, quotas)."""

from __future__ import annotations

import importlib
import random

from .services.setup import ensure_sales_defaults

PARTS = ("catalog", "leads", "deals", "quotes", "orders", "forecast")


def seed_demo(*, workspace, users) -> None:
    ensure_sales_defaults(workspace)
    rng = random.Random(20261130)
    for part in PARTS:
        seed = getattr(importlib.import_module(f"guanxi.sales.{part}_demo"), "seed", None)
        if seed is not None:
            seed(workspace=workspace, users=users, rng=rng)
