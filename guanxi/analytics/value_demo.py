"""Demo data of the value part (``seed(workspace=, users=)``), called by ``demo.py`` after
the sales demo: one recompute over the demo orders, so classes, the Pareto curve and the
360° sections show from the first sign-in. The demo orders are recent, so the reference
year is the last full year when it has sales, else the current one."""

from __future__ import annotations

from django.utils import timezone

from .models import CustomerYearRevenue
from .selectors.value import reference_year
from .services import value


def seed(*, workspace, users, rng=None) -> None:
    admin = next((u for u in users if u.role.is_admin), None) if users else None
    run = value.value_recompute(workspace=workspace, actor=admin, trigger="demo")
    if run.customers:
        return
    # No sales last year: classify by this year's, so the demo shows classes at all.
    this_year = reference_year(workspace, now=timezone.now()) + 1
    if CustomerYearRevenue.objects.in_workspace(workspace).filter(year=this_year).exists():
        value.value_recompute(workspace=workspace, actor=admin, trigger="demo", year=this_year)
