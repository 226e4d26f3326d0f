"""The forecast part's demo data: quotas for the reps and teams, this quarter and year, once."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from guanxi.activities.services.visits import current_period
from guanxi.platform.models import User
from guanxi.sales import forecast_demo
from guanxi.sales.models import Quota

from .forecast_support import org_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def test_demo_quotas(workspace, admin_user, org):
    users = list(User.objects.filter(workspace=workspace).select_related("role"))
    result = forecast_demo.seed(workspace=workspace, users=users, rng=random.Random(1))
    quarter = current_period("quarter", today=timezone.localdate())
    rows = Quota.objects.in_workspace(workspace).filter(period_start=quarter.start)
    by_user = {q.user_id: q.amount for q in rows if q.user_id}
    by_team = {q.team_id: q.amount for q in rows if q.team_id}
    reps = {org["li"].pk, org["zhao"].pk, org["sun"].pk}
    assert set(by_user) == reps  # managers and the administrator carry none
    assert set(by_team) == {org["sales"].pk, org["east"].pk, org["north"].pk}
    east = by_user[org["li"].pk] + by_user[org["zhao"].pk]
    assert by_team[org["east"].pk] >= east  # the team's own number, above its members'
    assert result == {"quotas": 2 * (len(reps) + 3)}
    assert forecast_demo.seed(workspace=workspace, users=users, rng=random.Random(1)) == {
        "quotas": 0
    }
