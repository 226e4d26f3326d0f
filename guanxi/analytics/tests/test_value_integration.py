"""Where the classes are used outside the analysis: the customers' lists filter (and show)
them, and the visit plans follow the by-class defaults (a class beats the type)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from guanxi.activities.services import visits
from guanxi.analytics.services import value
from guanxi.analytics.tests.value_support import D, add_order
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
YEAR = 2025


def test_lists_filter_by_class(client, workspace, admin_user):
    big = AccountFactory(workspace=workspace, name="大客户")
    small = AccountFactory(workspace=workspace, name="小客户")
    person = ContactFactory(workspace=workspace, name="散客")
    add_order(workspace, account=big, day=dt.date(YEAR, 1, 1), amounts=["1000"])
    add_order(workspace, account=small, day=dt.date(YEAR, 1, 1), amounts=["1"])
    add_order(workspace, contact=person, day=dt.date(YEAR, 1, 1), amounts=["2"])
    AccountFactory(workspace=workspace, name="未算")
    value.value_recompute(workspace=workspace, year=YEAR)
    unclassified = AccountFactory(workspace=workspace, name="新客户")  # made after the run
    client.force_login(admin_user)
    url = reverse("customers:account_list")
    a_list = client.get(url, {"f_value_class": "A"}).content.decode()
    assert "大客户" in a_list and "小客户" not in a_list
    c_list = client.get(url, {"f_value_class": "C"}).content.decode()
    assert "小客户" in c_list and "未算" in c_list and "大客户" not in c_list
    none = client.get(url, {"f_value_class": "none"}).content.decode()
    assert unclassified.name in none and "大客户" not in none
    assert "小客户" not in client.get(url, {"f_value_class": "Z"}).content.decode()
    people = client.get(reverse("customers:contact_list"), {"f_value_class": "C"}).content.decode()
    assert "散客" in people
    shown = client.get(url, {"f_value_class": "A", "cols": "name,value_class"}).content.decode()
    assert "大客户" in shown


def test_visit_frequency_follows_the_class(
    workspace, admin_user, django_capture_on_commit_callbacks
):
    rep = UserFactory(workspace=workspace)
    top = AccountFactory(workspace=workspace, owner=rep, account_type="customer")
    rest = AccountFactory(workspace=workspace, owner=rep, account_type="customer")
    agent = AccountFactory(workspace=workspace, owner=rep, account_type="agent")
    add_order(workspace, account=top, day=dt.date(YEAR, 1, 1), amounts=["1000"])
    add_order(workspace, account=rest, day=dt.date(YEAR, 1, 1), amounts=["1"])
    visits.visit_settings_update(
        actor=admin_user,
        workspace=workspace,
        visits_per_year_by_type={"customer": 4, "agent": 6},
        visits_per_year_by_class={"A": 12},
    )

    def frequency(account) -> int:
        return visits.visit_plan_get(
            actor=admin_user, workspace=workspace, account_id=account.pk
        ).visits_per_year

    assert (frequency(top), frequency(rest), frequency(agent)) == (4, 4, 6)  # no classes yet
    value.value_recompute(workspace=workspace, year=YEAR)
    # top and agent are A (the agent by its type): 12 a year; rest is C, no C entry: by type.
    assert (frequency(top), frequency(rest), frequency(agent)) == (12, 4, 12)
    result = visits.visit_plans_generate(actor=admin_user, workspace=workspace, period="2026")
    assert result["tasks_created"] == 12 + 4 + 12


def test_a_merge_moves_revenue_and_class_history(workspace, admin_user):
    from guanxi.analytics.models import ClassChange, CustomerYearRevenue
    from guanxi.customers.services.merge import account_merge

    survivor = AccountFactory(workspace=workspace, name="合并后")
    merged = AccountFactory(workspace=workspace, name="被合并")
    add_order(workspace, account=survivor, day=dt.date(YEAR, 1, 1), amounts=["10.10"])
    add_order(workspace, account=merged, day=dt.date(YEAR, 2, 1), amounts=["20.20"])
    add_order(workspace, account=merged, day=dt.date(YEAR - 1, 2, 1), amounts=["5"])
    value.value_recompute(workspace=workspace, year=YEAR)
    account_merge(
        actor=admin_user, workspace=workspace, survivor_id=survivor.pk, merged_id=merged.pk
    )
    rows = CustomerYearRevenue.objects.in_workspace(workspace).order_by("year")
    assert [(r.account_id, r.year, r.revenue, r.lines) for r in rows] == [
        (survivor.pk, YEAR - 1, D("5.00"), 1),
        (survivor.pk, YEAR, D("30.30"), 2),
    ]
    assert ClassChange.objects.in_workspace(workspace).filter(account=survivor).count() == 2


def test_demo_seed_runs_one_recompute(workspace, admin_user):
    from django.utils import timezone

    from guanxi.analytics import value_demo
    from guanxi.analytics.models import ValueRun

    this_year = timezone.now().year
    account = AccountFactory(workspace=workspace)
    add_order(workspace, account=account, day=dt.date(this_year, 1, 2), amounts=["9"])
    value_demo.seed(workspace=workspace, users=[admin_user])
    runs = ValueRun.objects.in_workspace(workspace).order_by("id")
    assert [r.year for r in runs] == [this_year - 1, this_year]  # no sales last year
    account.refresh_from_db()
    assert account.value_class == "A"
