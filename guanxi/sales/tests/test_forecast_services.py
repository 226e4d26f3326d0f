"""Quotas, the forecast, rep performance, the leaderboard and owner suggestions, read and
written through the services and selectors directly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.activities.models import TimelineEntry
from guanxi.activities.services.visits import parse_period
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory
from guanxi.sales.models import DealStatus, Quota
from guanxi.sales.selectors import forecast as fc
from guanxi.sales.selectors import performance as perf
from guanxi.sales.services import quotas

from .forecast_support import SHANGHAI, make_deal, no_rights_user, org_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
Q4 = parse_period("2026-Q4")


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


# --- quotas --------------------------------------------------------------------------------------


def test_quota_set_creates_then_changes_and_audits(workspace, org):
    manager, li = org["manager"], org["li"]
    quota = quotas.quota_set(
        actor=manager, workspace=workspace, period="2026-Q4", amount="500000", user_id=li.pk
    )
    assert (quota.period_kind, quota.period_start, quota.amount) == (
        "quarter",
        dt.date(2026, 10, 1),
        Decimal("500000.00"),
    )
    again = quotas.quota_set(
        actor=manager, workspace=workspace, period="2026-q4", amount="600000.5", user_id=li.pk
    )
    assert again.pk == quota.pk and again.amount == Decimal("600000.50")
    team_quota = quotas.quota_set(
        actor=manager, workspace=workspace, period="2026-Q4", amount=900000, team_id=org["east"].pk
    )
    assert team_quota.user_id is None and team_quota.amount == Decimal("900000.00")
    actions = list(
        AuditEntry.objects.in_workspace(workspace)
        .filter(object_key="sales.quota")
        .values_list("action", flat=True)
        .order_by("pk")
    )
    assert actions == ["create", "update", "create"]


def test_quota_bad_input_reports_every_field_and_writes_nothing(workspace, org):
    with pytest.raises(ApplicationError) as caught:
        quotas.quota_set(
            actor=org["manager"], workspace=workspace, period="2026-Q5", amount="-1", user_id=None
        )
    assert set(caught.value.fields) == {"period", "amount", "user"}
    for amount in ("abc", "1.234", "1e30", "NaN", True):
        with pytest.raises(ApplicationError):
            quotas.quota_set(
                actor=org["manager"],
                workspace=workspace,
                period="2026",
                amount=amount,
                user_id=org["li"].pk,
            )
    assert not Quota.objects.in_workspace(workspace).exists()


def test_quota_rights_and_reach(workspace, org, other_admin):
    # A rep may read quotas, not set them.
    with pytest.raises(PermissionDenied):
        quotas.quota_set(
            actor=org["li"], workspace=workspace, period="2026", amount=1, user_id=org["li"].pk
        )
    # The East manager cannot set the North rep's quota, nor a team above their own.
    with pytest.raises(ApplicationError) as caught:
        quotas.quota_set(
            actor=org["manager"],
            workspace=workspace,
            period="2026",
            amount=1,
            user_id=org["sun"].pk,
        )
    assert "user" in caught.value.fields
    with pytest.raises(ApplicationError):
        quotas.quota_set(
            actor=org["manager"],
            workspace=workspace,
            period="2026",
            amount=1,
            team_id=org["sales"].pk,
        )
    # Another workspace's administrator cannot reach these reps nor these quotas.
    mine = quotas.quota_set(
        actor=org["director"], workspace=workspace, period="2026", amount=1, user_id=org["sun"].pk
    )
    with pytest.raises(ApplicationError):
        quotas.quota_set(
            actor=other_admin,
            workspace=other_admin.workspace,
            period="2026",
            amount=1,
            user_id=org["sun"].pk,
        )
    with pytest.raises(NotFound):
        quotas.quota_update(
            actor=other_admin, workspace=other_admin.workspace, quota_id=mine.pk, amount=5
        )
    with pytest.raises(NotFound):
        quotas.quota_delete(actor=org["manager"], workspace=workspace, quota_id=mine.pk)
    quotas.quota_delete(actor=org["director"], workspace=workspace, quota_id=mine.pk)
    assert not Quota.objects.in_workspace(workspace).exists()


def test_quotas_save_many_at_once(workspace, org):
    director = org["director"]
    quotas.quotas_save(
        actor=director,
        workspace=workspace,
        period="2026-11",
        entries=[
            {"user_id": org["li"].pk, "amount": "100"},
            {"user_id": org["zhao"].pk, "amount": "200"},
            {"team_id": org["east"].pk, "amount": "250"},
        ],
    )
    period = parse_period("2026-11")
    assert {
        q.amount for q in fc.quota_list(workspace=workspace, actor=director, period=period)
    } == {
        Decimal("100"),
        Decimal("200"),
        Decimal("250"),
    }
    with pytest.raises(ApplicationError) as caught:
        quotas.quotas_save(
            actor=director,
            workspace=workspace,
            period="2026-11",
            entries=[
                {"user_id": org["li"].pk, "amount": ""},
                {"user_id": org["zhao"].pk, "amount": "x"},
                {"team_id": org["north"].pk, "amount": "-5"},
            ],
        )
    assert set(caught.value.fields) == {f"user-{org['zhao'].pk}", f"team-{org['north'].pk}"}
    assert Quota.objects.in_workspace(workspace).count() == 3  # nothing removed either
    quotas.quotas_save(
        actor=director,
        workspace=workspace,
        period="2026-11",
        entries=[{"user_id": org["li"].pk, "amount": ""}],
    )
    assert Quota.objects.in_workspace(workspace).count() == 2


# --- the forecast --------------------------------------------------------------------------------


@pytest.fixture
def q4_deals(workspace, org):
    li, zhao, sun = org["li"], org["zhao"], org["sun"]
    d = dt.date
    # 李: won 300k in Q4 (at both ends of it in Shanghai), commit 200k, best case 100k.
    # 1 October 01:00 in Shanghai is still 30 September in UTC: the quarter is the reader's.
    make_deal(workspace, li, amount="200000", status=DealStatus.WON, closed_at=at("2026-10-01", 1))
    make_deal(workspace, li, amount="100000", status=DealStatus.WON, closed_at=at("2026-12-31", 23))
    make_deal(
        workspace, li, amount="200000", category="commit", probability=70, close=d(2026, 11, 1)
    )
    make_deal(
        workspace, li, amount="100000", category="best_case", probability=40, close=d(2026, 12, 31)
    )
    # Not in Q4: won in Q3, closing in January, omitted, lost.
    make_deal(workspace, li, amount="999", status=DealStatus.WON, closed_at=at("2026-09-30", 23))
    make_deal(workspace, li, amount="999", category="commit", close=d(2027, 1, 1))
    make_deal(workspace, li, amount="999", category="omitted", close=d(2026, 11, 1))
    make_deal(workspace, li, amount="999", status=DealStatus.LOST, closed_at=at("2026-11-01"))
    # 赵: pipeline 50k at 10 %; 孙 (North): won 80k, pipeline 20k at 20 %.
    make_deal(
        workspace, zhao, amount="50000", category="pipeline", probability=10, close=d(2026, 10, 2)
    )
    make_deal(workspace, sun, amount="80000", status=DealStatus.WON, closed_at=at("2026-11-20"))
    make_deal(
        workspace, sun, amount="20000", category="pipeline", probability=20, close=d(2026, 12, 1)
    )
    quotas.quota_set(
        actor=org["director"], workspace=workspace, period=Q4, amount=600000, user_id=li.pk
    )
    quotas.quota_set(
        actor=org["director"],
        workspace=workspace,
        period=Q4,
        amount=1000000,
        team_id=org["east"].pk,
    )
    quotas.quota_set(
        actor=org["director"],
        workspace=workspace,
        period=Q4,
        amount=1500000,
        team_id=org["sales"].pk,
    )


def _rows(result) -> dict:
    return {r.label: r for r in result.rows}


def test_forecast_per_rep(workspace, org, q4_deals):
    result = fc.forecast(workspace=workspace, actor=org["director"], period=Q4)
    rows = _rows(result)
    li = rows["李娜"]
    assert li.figures.closed_won == Decimal("300000.00") and li.figures.won_count == 2
    assert li.figures.commit == Decimal("200000.00")
    assert li.figures.best_case == Decimal("100000.00")
    assert li.figures.pipeline == 0
    assert li.figures.weighted == Decimal("180000.00")  # 200k × 70 % + 100k × 40 %
    assert li.quota == Decimal("600000.00") and li.attainment == Decimal("50.0")
    assert li.projected_attainment == Decimal("83.3")
    assert rows["赵强"].figures.weighted == Decimal("5000.00") and rows["赵强"].quota is None
    assert rows["孙伟"].figures.closed_won == Decimal("80000.00")
    assert result.total.figures.closed_won == Decimal("380000.00")
    assert result.total.figures.weighted == Decimal("189000.00")
    assert result.total.figures.open_count == 4
    # A reader in UTC: the deal won at 01:00 on 1 October in Shanghai closed in Q3.
    org["director"].time_zone = "UTC"
    utc = _rows(fc.forecast(workspace=workspace, actor=org["director"], period=Q4))
    assert utc["李娜"].figures.closed_won == Decimal("100000.00")


def test_forecast_per_team_rolls_up_the_tree_with_own_quotas(workspace, org, q4_deals):
    result = fc.forecast(workspace=workspace, actor=org["director"], period=Q4, kind="team")
    assert [(r.label, r.depth) for r in result.rows] == [("销售部", 0), ("华东", 1), ("华北", 1)]
    rows = _rows(result)
    assert rows["华东"].figures.closed_won == Decimal("300000.00")
    assert rows["华东"].quota == Decimal("1000000.00")  # its own number, not 李's 600k
    assert rows["华东"].attainment == Decimal("30.0")
    assert rows["销售部"].figures.closed_won == Decimal("380000.00")
    assert rows["销售部"].figures.pipeline == Decimal("70000.00")
    assert rows["华北"].quota is None and rows["华北"].attainment is None
    east = fc.forecast(
        workspace=workspace, actor=org["director"], period=Q4, kind="team", team_id=org["east"].pk
    )
    assert [r.label for r in east.rows] == ["华东"]
    assert east.total.quota == Decimal("1000000.00")


def test_forecast_respects_visibility(workspace, org, q4_deals, other_admin):
    rep_view = fc.forecast(workspace=workspace, actor=org["li"], period=Q4)
    assert [r.label for r in rep_view.rows] == ["李娜"]
    assert rep_view.total.figures.closed_won == Decimal("300000.00")
    manager_view = fc.forecast(workspace=workspace, actor=org["manager"], period=Q4)
    assert {r.label for r in manager_view.rows} == {"李娜", "赵强", "王经理"}
    assert manager_view.total.figures.closed_won == Decimal("300000.00")
    with pytest.raises(NotFound):
        fc.forecast(workspace=workspace, actor=org["manager"], period=Q4, team_id=org["north"].pk)
    foreign = fc.forecast(workspace=other_admin.workspace, actor=other_admin, period=Q4)
    assert foreign.total.figures.closed_won == 0 and all(
        r.figures.open_count == 0 for r in foreign.rows
    )
    with pytest.raises(NotFound):
        fc.forecast(
            workspace=other_admin.workspace, actor=other_admin, period=Q4, team_id=org["east"].pk
        )
    nobody = no_rights_user(workspace)
    assert fc.forecast(workspace=workspace, actor=nobody, period=Q4).rows == []


def test_forecast_query_count_is_fixed(workspace, org, q4_deals):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            fc.forecast(workspace=workspace, actor=org["director"], period=Q4, kind="team")
        return len(ctx.captured_queries)

    before = count()
    for i in range(30):
        make_deal(workspace, org["zhao"], category="commit", close=dt.date(2026, 11, 1 + i % 28))
    assert count() == before <= 6


def test_forecast_drill_deals(workspace, org, q4_deals):
    li = org["li"]
    won = fc.forecast_deals(
        workspace=workspace, actor=org["director"], period=Q4, column="closed_won", owner_id=li.pk
    )
    assert sorted(d.amount_base for d in won) == [Decimal("100000.00"), Decimal("200000.00")]
    east_open = fc.forecast_deals(
        workspace=workspace, actor=org["director"], period=Q4, column="open", team_id=org["east"].pk
    )
    assert len(east_open) == 3
    with pytest.raises(NotFound):
        fc.forecast_deals(
            workspace=workspace, actor=org["li"], period=Q4, column="open", owner_id=org["sun"].pk
        )
    with pytest.raises(ApplicationError):
        fc.forecast_deals(workspace=workspace, actor=li, period=Q4, column="lost")


# --- performance ---------------------------------------------------------------------------------


def test_rep_performance_and_leaderboard(workspace, org):
    li, zhao = org["li"], org["zhao"]
    for i, status in enumerate([DealStatus.WON] * 3 + [DealStatus.LOST]):
        make_deal(
            workspace,
            li,
            amount=str(100000 * (i + 1)),
            status=status,
            closed_at=at("2026-11-10"),
            created_at=at("2026-11-10") - dt.timedelta(days=10 * (i + 1)),
        )
    make_deal(
        workspace,
        zhao,
        amount="50000",
        status=DealStatus.WON,
        closed_at=at("2026-10-10"),
        created_at=at("2026-10-01"),
    )
    make_deal(workspace, zhao, amount="70000", category="commit", close=dt.date(2027, 3, 1))
    for kind, n in (("call", 3), ("visit", 2), ("meeting", 1), ("email", 4), ("note", 5)):
        for _ in range(n):
            TimelineEntry.objects.create(
                workspace=workspace, kind=kind, occurred_at=at("2026-11-01"), author=zhao
            )
    TimelineEntry.objects.create(
        workspace=workspace, kind="call", occurred_at=at("2026-09-01"), author=li
    )
    result = perf.rep_performance(workspace=workspace, actor=org["manager"], period=Q4)
    rows = {r.user.full_name: r for r in result.rows}
    li_row = rows["李娜"]
    assert (li_row.won, li_row.lost, li_row.win_rate) == (3, 1, Decimal("75.0"))
    assert li_row.won_amount == Decimal("600000.00") and li_row.average_won == Decimal("200000.00")
    assert li_row.average_cycle_days == Decimal("20.0")
    assert li_row.activity_total == 0
    zhao_row = rows["赵强"]
    assert zhao_row.win_rate == Decimal("100.0") and zhao_row.average_cycle_days == Decimal("9.0")
    assert (zhao_row.open_count, zhao_row.open_amount) == (1, Decimal("70000.00"))
    assert zhao_row.activities == {"call": 3, "visit": 2, "meeting": 1, "email": 4}
    board = perf.leaderboard(workspace=workspace, actor=org["manager"], period=Q4)
    assert [r.user.full_name for r in board.won_amount] == ["李娜", "赵强"]
    assert [r.user.full_name for r in board.win_rate] == ["赵强", "李娜"]
    assert [r.user.full_name for r in board.activities] == ["赵强"]
    # A rep sees their own row only; the North rep is not in the East manager's view.
    assert [
        r.user.full_name
        for r in perf.rep_performance(workspace=workspace, actor=li, period=Q4).rows
    ] == ["李娜"]
    assert "孙伟" not in rows


def test_rep_performance_query_count_is_fixed(workspace, org):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            perf.leaderboard(workspace=workspace, actor=org["director"], period=Q4)
        return len(ctx.captured_queries)

    before = count()
    for user in (org["li"], org["zhao"], org["sun"]):
        make_deal(workspace, user, status=DealStatus.WON, closed_at=at("2026-11-01"))
        TimelineEntry.objects.create(
            workspace=workspace, kind="call", occurred_at=at("2026-11-01"), author=user
        )
    assert count() == before <= 6


# --- who should take this deal? ------------------------------------------------------------------


def test_suggest_owners_ranks_by_record_with_similar_customers(workspace, org):
    li, zhao, sun = org["li"], org["zhao"], org["sun"]
    factory = AccountFactory(
        workspace=workspace, industry="制造业", region="华东", account_type="customer"
    )
    shop = AccountFactory(workspace=workspace, industry="零售", region="华北")
    recent = at("2026-06-01")
    # 李: 7 of 9 in 制造业 at ~420k. 赵: 1 of 1 in 制造业 (a small sample). 孙: 8 of 8 in 零售.
    for i in range(9):
        make_deal(
            workspace,
            li,
            amount="420000",
            status=DealStatus.WON if i < 7 else DealStatus.LOST,
            closed_at=recent,
            account=factory,
        )
    make_deal(
        workspace, zhao, amount="400000", status=DealStatus.WON, closed_at=recent, account=factory
    )
    for _ in range(8):
        make_deal(
            workspace, sun, amount="30000", status=DealStatus.WON, closed_at=recent, account=shop
        )
    big = make_deal(
        workspace,
        org["manager"],
        amount="450000",
        close=dt.date(2026, 12, 1),
        account=AccountFactory(workspace=workspace, industry="制造业", region="华东"),
    )
    big.account.refresh_from_db()
    UserFactory(workspace=workspace, full_name="离职", is_active=False)
    with CaptureQueriesContext(connection) as ctx:
        ranked = perf.suggest_owners(workspace=workspace, deal=big, limit=3)
    assert len(ctx.captured_queries) <= 3
    assert [s.user.full_name for s in ranked][:2] == ["李娜", "赵强"]
    assert ranked[0].reasons[0] == "won 7 of 9 deals in 制造业, avg CN¥420K"
    assert all(s.user.is_active for s in ranked)
    assert "离职" not in [
        s.user.full_name for s in perf.suggest_owners(workspace=workspace, deal=big, limit=20)
    ]
    # Only those who hand deals out see suggestions; a rep is refused, another workspace's
    # administrator does not find the deal.
    with pytest.raises(PermissionDenied):
        perf.deal_for_suggestion(workspace=workspace, actor=li, deal_id=big.pk)
    assert (
        perf.deal_for_suggestion(workspace=workspace, actor=org["manager"], deal_id=big.pk) == big
    )


def test_suggestion_of_a_deal_from_another_workspace_is_not_found(workspace, org, other_admin):
    deal = make_deal(workspace, org["li"], close=dt.date(2026, 12, 1))
    with pytest.raises(NotFound):
        perf.deal_for_suggestion(
            workspace=other_admin.workspace, actor=other_admin, deal_id=deal.pk
        )


def test_everyone_view_reads_only_the_reps_with_figures(workspace, org, q4_deals, admin_user):
    def run():
        with CaptureQueriesContext(connection) as ctx:
            result = fc.forecast(workspace=workspace, actor=admin_user, period=Q4)
            perf.rep_performance(workspace=workspace, actor=admin_user, period=Q4)
        return result, len(ctx.captured_queries)

    result, before = run()
    assert {r.label for r in result.rows} == {"李娜", "赵强", "孙伟"}
    assert result.total.figures.closed_won == Decimal("380000.00")
    for i in range(40):  # people without deals: neither rows nor queries
        UserFactory(workspace=workspace, team=org["east"], full_name=f"新人{i}")
    result, after = run()
    assert after == before and len(result.rows) == 3
