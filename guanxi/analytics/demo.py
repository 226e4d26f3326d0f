"""Demo customer value: one recompute over the demo orders, so classes and the Pareto curve
show from the first sign-in."""

from __future__ import annotations


def seed_demo(*, workspace, users) -> None:
    from . import value_demo

    seed = getattr(value_demo, "seed", None)
    if seed is not None:
        seed(workspace=workspace, users=users)
