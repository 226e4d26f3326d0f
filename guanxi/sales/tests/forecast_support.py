"""Test data of the forecast part: a team tree with a manager and reps, and deals made
directly with the model (the deals part's services are not needed to read them)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.sales.models import Deal, DealStatus, Stage
from guanxi.sales.services.setup import default_pipeline

_names = itertools.count(1)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def stages(workspace) -> dict[str, Stage]:
    pipeline = default_pipeline(workspace)
    by_kind: dict[str, Stage] = {}
    for stage in Stage.objects.in_workspace(workspace).filter(pipeline=pipeline).order_by("order"):
        by_kind.setdefault(stage.kind, stage)
        by_kind.setdefault(stage.forecast_category, stage)
    return by_kind


def make_deal(
    workspace,
    owner,
    *,
    amount="100000",
    status=DealStatus.OPEN,
    category="pipeline",
    probability=None,
    close=None,
    closed_at=None,
    created_at=None,
    account=None,
) -> Deal:
    by_kind = stages(workspace)
    stage = by_kind[status] if status != DealStatus.OPEN else by_kind[category]
    now = timezone.now()
    deal = Deal.objects.create(
        workspace=workspace,
        owner=owner,
        name=f"商机 {next(_names)}",
        pipeline=stage.pipeline,
        stage=stage,
        status=status,
        account=account,
        amount=Decimal(amount),
        currency="CNY",
        amount_base=Decimal(amount),
        probability=stage.probability if probability is None else probability,
        forecast_category="closed" if status == DealStatus.WON else category,
        expected_close_date=close,
        closed_at=closed_at,
        stage_changed_at=now,
    )
    if created_at is not None:
        Deal.objects.in_workspace(workspace).filter(pk=deal.pk).update(created_at=created_at)
        deal.created_at = created_at
    return deal


@pytest.fixture(name="org")
def org_fixture(workspace):
    """Sales (manager 陈) → East (manager 王, reps 李 and 赵) and North (rep 孙)."""
    sales = TeamFactory(workspace=workspace, name="销售部")
    east = TeamFactory(workspace=workspace, name="华东", parent=sales)
    north = TeamFactory(workspace=workspace, name="华北", parent=sales)
    from guanxi.platform.services import _refresh_paths

    for team in (east, north):
        _refresh_paths(team)
        team.refresh_from_db()
    return {
        "sales": sales,
        "east": east,
        "north": north,
        "director": UserFactory(
            workspace=workspace, role_code="sales_manager", team=sales, full_name="陈总监"
        ),
        "manager": UserFactory(
            workspace=workspace, role_code="sales_manager", team=east, full_name="王经理"
        ),
        "li": UserFactory(workspace=workspace, team=east, full_name="李娜"),
        "zhao": UserFactory(workspace=workspace, team=east, full_name="赵强"),
        "sun": UserFactory(workspace=workspace, team=north, full_name="孙伟"),
    }


def no_rights_user(workspace):
    """A user whose role grants nothing on sales."""
    from guanxi.platform.models import Role

    role, _created = Role.objects.in_workspace(workspace).get_or_create(
        workspace=workspace, code="no-sales", defaults={"name": "无权限", "rights": {}}
    )
    return UserFactory(workspace=workspace, role=role, full_name="无权限用户")
