"""The forecast pages: forecast (per rep and team, htmx rows, drill), quotas editor, rep
performance with the leaderboard, and the suggested-owners fragment; rights, other
workspaces, and a fixed number of queries whatever the data size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.activities.models import TimelineEntry
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.factories import UserFactory
from guanxi.sales.models import DealStatus, Quota

from .forecast_support import SHANGHAI, make_deal, no_rights_user, org_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
PERIOD = {"period": "2026-Q4"}


def at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12), tzinfo=SHANGHAI)


def seed(workspace, users, per_user: int) -> None:
    for user in users:
        for i in range(per_user):
            make_deal(
                workspace,
                user,
                amount=str(10000 * (i + 1)),
                status=DealStatus.WON if i % 4 == 0 else DealStatus.OPEN,
                category=("commit", "best_case", "pipeline")[i % 3],
                close=dt.date(2026, 10, 1 + i % 28),
                closed_at=at("2026-11-05") if i % 4 == 0 else None,
            )
            TimelineEntry.objects.create(
                workspace=workspace, kind="call", occurred_at=at("2026-11-05"), author=user
            )


def test_forecast_page_per_rep_and_team(client, workspace, org):
    seed(workspace, [org["li"], org["sun"]], 3)
    Quota.objects.create(
        workspace=workspace,
        user=org["li"],
        period_kind="quarter",
        period_start=dt.date(2026, 10, 1),
        amount=40000,
    )
    client.force_login(org["director"])
    response = client.get(reverse("sales:forecast"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "李娜" in html and "孙伟" in html and "25.0%" in html  # 10k won of a 40k quota
    assert 'href="/sales/forecast/deals/?period=2026-Q4&column=closed_won&owner=' in html
    rows = client.get(
        reverse("sales:forecast"), {**PERIOD, "kind": "team"}, headers={"HX-Request": "true"}
    )
    assert rows.status_code == 200 and "<html" not in rows.content.decode()
    assert "华东" in rows.content.decode() and "销售部" in rows.content.decode()
    bad = client.get(reverse("sales:forecast"), {"period": "2026-Q7"})
    assert bad.status_code == 200  # this quarter instead, with the message
    assert "Enter a period" in bad.content.decode()


def test_forecast_page_visibility_and_rights(client, workspace, org, other_admin):
    seed(workspace, [org["li"], org["sun"]], 3)
    client.force_login(org["li"])
    html = client.get(reverse("sales:forecast"), PERIOD).content.decode()
    assert "李娜" in html and "孙伟" not in html
    client.force_login(other_admin)
    html = client.get(reverse("sales:forecast"), PERIOD).content.decode()
    assert "李娜" not in html
    assert (
        client.get(reverse("sales:forecast"), {**PERIOD, "team": org["east"].pk}).status_code == 404
    )
    drill = client.get(
        reverse("sales:forecast_deals"), {**PERIOD, "column": "open", "owner": org["li"].pk}
    )
    assert drill.status_code == 404
    client.force_login(no_rights_user(workspace))
    assert client.get(reverse("sales:forecast"), PERIOD).status_code == 403
    assert client.get(reverse("sales:performance"), PERIOD).status_code == 403
    assert client.get(reverse("sales:quotas"), PERIOD).status_code == 403


def test_forecast_drill_lists_the_deals(client, workspace, org):
    seed(workspace, [org["li"], org["sun"]], 6)
    client.force_login(org["manager"])
    response = client.get(
        reverse("sales:forecast_deals"), {**PERIOD, "column": "commit", "owner": org["li"].pk}
    )
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == 1 + 1  # the header and li's commit deal
    assert (
        client.get(
            reverse("sales:forecast_deals"), {**PERIOD, "column": "open", "owner": org["sun"].pk}
        ).status_code
        == 404
    )


def test_forecast_and_performance_queries_do_not_grow(client, workspace, org):
    client.force_login(org["director"])

    def count(name: str, **params) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(name), {**PERIOD, **params}).status_code == 200
        return len(ctx.captured_queries)

    seed(workspace, [org["li"]], 2)
    client.get(reverse("sales:forecast"))  # the first request of a session writes it
    small = {
        "rep": count("sales:forecast"),
        "team": count("sales:forecast", kind="team"),
        "perf": count("sales:performance"),
        "quotas": count("sales:quotas"),
        "drill": count("sales:forecast_deals", column="open"),
    }
    more = [UserFactory(workspace=workspace, team=org["east"]) for _ in range(5)]
    seed(workspace, [org["li"], org["zhao"], org["sun"], *more], 12)
    large = {
        "rep": count("sales:forecast"),
        "team": count("sales:forecast", kind="team"),
        "perf": count("sales:performance"),
        "quotas": count("sales:quotas"),
        "drill": count("sales:forecast_deals", column="open"),
    }
    assert large == small


def test_quotas_editor_saves_and_reports_bad_amounts(client, workspace, org):
    client.force_login(org["manager"])
    url = reverse("sales:quotas")
    page = client.get(url, PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="user-{org["li"].pk}"' in html and f'name="team-{org["east"].pk}"' in html
    assert f'name="user-{org["sun"].pk}"' not in html  # North is not the East manager's
    response = client.post(
        url,
        {
            "period": "2026-Q4",
            f"user-{org['li'].pk}": "300000",
            f"user-{org['zhao'].pk}": "",
            f"team-{org['east'].pk}": "800000",
        },
    )
    assert response.status_code == 302
    assert {q.amount for q in Quota.objects.in_workspace(workspace)} == {300000, 800000}
    bad = client.post(
        url,
        {"period": "2026-Q4", f"user-{org['li'].pk}": "-1", f"user-{org['zhao'].pk}": "abc"},
    )
    assert bad.status_code == 400
    assert "A quota cannot be negative." in bad.content.decode()
    assert {q.amount for q in Quota.objects.in_workspace(workspace)} == {300000, 800000}
    # A bad period saves nothing (not this quarter's boxes either).
    bad_period = client.post(url, {"period": "2026-Q9", f"user-{org['li'].pk}": "7"})
    assert bad_period.status_code == 400
    assert {q.amount for q in Quota.objects.in_workspace(workspace)} == {300000, 800000}
    # Out of view: not the manager's to set — refused, nothing written.
    refused = client.post(url, {"period": "2026-Q4", f"user-{org['sun'].pk}": "5"})
    assert refused.status_code == 400
    assert Quota.objects.in_workspace(workspace).count() == 2
    client.force_login(org["li"])
    html = client.get(url, PERIOD).content.decode()
    assert '<input id="q-user' not in html  # a rep reads, does not edit
    assert client.post(url, {"period": "2026-Q4", f"user-{org['li'].pk}": "1"}).status_code == 403


def test_performance_page(client, workspace, org):
    seed(workspace, [org["li"], org["zhao"]], 3)
    client.force_login(org["manager"])
    response = client.get(reverse("sales:performance"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "李娜" in html and "赵强" in html and "Leaderboard" in html and "孙伟" not in html
    rows = client.get(reverse("sales:performance"), PERIOD, headers={"HX-Request": "true"})
    assert "<html" not in rows.content.decode() and "李娜" in rows.content.decode()


def test_suggested_owners_fragment(client, workspace, org, other_admin):
    account = AccountFactory(workspace=workspace, industry="制造业")
    for _ in range(4):
        make_deal(
            workspace,
            org["zhao"],
            amount="400000",
            status=DealStatus.WON,
            closed_at=at("2026-06-01"),
            account=account,
        )
    deal = make_deal(
        workspace,
        org["li"],
        amount="420000",
        close=dt.date(2026, 12, 1),
        account=AccountFactory(workspace=workspace, industry="制造业"),
    )
    url = reverse("sales:deal_suggested_owners", args=[deal.pk])
    client.force_login(org["manager"])
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "赵强" in html and "won 4 of 4 deals in 制造业" in html and "<html" not in html
    page = client.get(url)  # without script: the same as a page of its own
    assert page.status_code == 200 and "<html" in page.content.decode()
    # The deal page shows the section (loaded after the page) to a manager, not to the rep.
    detail = client.get(reverse("sales:deal_detail", args=[deal.pk])).content.decode()
    assert f'hx-get="{url}"' in detail
    client.force_login(org["li"])
    detail = client.get(reverse("sales:deal_detail", args=[deal.pk]))
    assert detail.status_code == 200 and url not in detail.content.decode()
    client.force_login(org["li"])
    assert client.get(url).status_code == 403
    client.force_login(other_admin)
    assert client.get(url).status_code == 404


def test_navigation_shows_the_pages(client, workspace, org):
    client.force_login(org["manager"])
    html = client.get(reverse("sales:forecast")).content.decode()
    for name in ("sales:forecast", "sales:quotas", "sales:performance"):
        assert f'href="{reverse(name)}"' in html
