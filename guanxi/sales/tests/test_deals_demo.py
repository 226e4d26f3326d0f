"""The deals' demo data: about 40 deals over the demo reps and stages, some won, some lost
with a reason, a few stale; seeding twice adds nothing."""

from __future__ import annotations

import random

import pytest

from guanxi.customers.demo import seed_demo as seed_customers
from guanxi.sales import deals_demo
from guanxi.sales.models import Deal, DealStageChange
from guanxi.sales.selectors import deals as selectors
from guanxi.sales.services.setup import ensure_sales_defaults

from .deals_support import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_demo_deals(workspace, rep, rep2, admin_user):
    ensure_sales_defaults(workspace)
    seed_customers(workspace=workspace, users=[rep, rep2], count=20)
    deals_demo.seed(workspace=workspace, users=[admin_user, rep, rep2], rng=random.Random(5))
    made = Deal.objects.in_workspace(workspace)
    assert made.count() == deals_demo.DEALS
    assert {d.owner_id for d in made} == {rep.pk, rep2.pk}
    assert made.filter(status="won").exists()
    lost = made.filter(status="lost")
    assert lost.exists() and not lost.filter(lost_reason__isnull=True).exists()
    assert len({d.stage_id for d in made.filter(status="open")}) >= 3
    assert made.filter(selectors.stale_q(selectors.stale_cutoff(workspace))).exists()
    assert DealStageChange.objects.in_workspace(workspace).count() > made.count()
    deals_demo.seed(workspace=workspace, users=[rep], rng=random.Random(5))
    assert Deal.objects.in_workspace(workspace).count() == deals_demo.DEALS
