"""Fixtures of the deals' tests: a team with a manager and two reps, an outsider rep of
another team, a read-only user, a customer of the first rep, and the sales defaults (the
default pipeline with its seven stages, lost reasons)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, make_token
from guanxi.sales.models import ExchangeRate, LostReason, Stage
from guanxi.sales.services.setup import default_pipeline, ensure_sales_defaults


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


def stages(pipeline) -> dict[str, Stage]:
    """The pipeline's stages by kind and order: ``open1``…``openN``, ``won``, ``lost``."""
    out: dict[str, Stage] = {}
    n = 0
    for stage in (
        Stage.objects.in_workspace(pipeline.workspace_id)
        .filter(pipeline=pipeline)
        .order_by("order", "id")
    ):
        if stage.kind == "open":
            n += 1
            out[f"open{n}"] = stage
        else:
            out.setdefault(stage.kind, stage)
    return out


@pytest.fixture
def sales(workspace):
    ensure_sales_defaults(workspace)
    ExchangeRate.objects.create(
        workspace=workspace,
        currency="USD",
        valid_from=timezone.localdate() - dt.timedelta(days=30),
        rate=Decimal("7.10"),
    )
    pipeline = default_pipeline(workspace)
    return {
        "pipeline": pipeline,
        "stages": stages(pipeline),
        "reason": LostReason.objects.in_workspace(workspace).order_by("order").first(),
    }


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def manager(workspace, team):
    user = UserFactory(workspace=workspace, role_code="sales_manager", team=team)
    team.manager = user
    team.save(update_fields=["manager"])
    return user


@pytest.fixture
def rep(workspace, team, manager):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


@pytest.fixture
def rep2(workspace, team, manager):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


@pytest.fixture
def outsider(workspace):
    """A rep of another team."""
    return UserFactory(workspace=workspace, team=TeamFactory(workspace=workspace))


@pytest.fixture
def reader(workspace):
    """May read deals (all) but change nothing."""
    return UserFactory(workspace=workspace, role_code="read_only")


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(workspace=workspace, owner=rep)


@pytest.fixture
def contact(workspace, account, rep):
    return ContactFactory(workspace=workspace, owner=rep, account=account)
