"""Demo service data for ``guanxi seed`` / ``make run``: each part seeds its own, in the
order they build on each other (queues and agents and the SLA before cases, so demo cases
are routed and timed; the knowledge base; cases; then what follows from cases: channels,
surveys, the portal and calls). A part without a ``<part>_demo.py`` (or without ``seed``
in it) is skipped."""

from __future__ import annotations

import importlib
import random

from .services.case_types import service_setup

PARTS = ("assignment", "sla", "knowledge", "cases", "channels", "surveys", "portal", "calls")


def seed_demo(*, workspace, users) -> None:
    service_setup(workspace)
    rng = random.Random(20261201)
    for part in PARTS:
        try:
            module = importlib.import_module(f"guanxi.service.{part}_demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"guanxi.service.{part}_demo":
                raise
            continue
        seed = getattr(module, "seed", None)
        if seed is not None:
            seed(workspace=workspace, users=users, rng=rng)
