"""Visit settings, an account's plan (default, set, reset), periods and slots, and the
generation of visit tasks (spread, idempotent across periods, filters, rights)."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest
from django.utils import timezone

from guanxi.activities import visit_jobs  # noqa: F401  (registers the job handler)
from guanxi.activities.models import Task, TaskKind, TaskStatus, VisitPlan, VisitSettings
from guanxi.activities.services import visits
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import AuditEntry, Job, JobState
from guanxi.platform.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


@pytest.fixture
def manager(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_manager", team=team)


# --- settings -----------------------------------------------------------------------------------


def test_settings_defaults_and_update(workspace, admin_user):
    settings = visits.visit_settings_get(workspace=workspace)
    assert settings.pk is None and settings.visits_per_year_by_type["customer"] == 4
    saved = visits.visit_settings_update(
        actor=admin_user,
        workspace=workspace,
        visits_per_year_by_type={"customer": 6},
        visits_per_year_by_class={"A": 12},
        far_checkin_meters=800,
    )
    assert saved.visits_per_year_by_type["customer"] == 6
    assert saved.visits_per_year_by_type["agent"] == 12  # merged, not replaced
    assert saved.visits_per_year_by_class == {"A": 12}
    assert saved.far_checkin_meters == 800
    assert AuditEntry.objects.in_workspace(workspace).filter(action="update").exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"visits_per_year_by_type": {"customer": 366}}, "visits_per_year_by_type.customer"),
        ({"visits_per_year_by_type": {"customer": -1}}, "visits_per_year_by_type.customer"),
        ({"visits_per_year_by_type": {"nonsense": 1}}, "visits_per_year_by_type"),
        ({"visits_per_year_by_class": {"D": 1}}, "visits_per_year_by_class"),
        ({"visits_per_year_by_type": {"customer": True}}, "visits_per_year_by_type.customer"),
        ({"far_checkin_meters": 5}, "far_checkin_meters"),
        ({"far_checkin_meters": "far"}, "far_checkin_meters"),
    ],
)
def test_settings_bad_input_writes_nothing(workspace, admin_user, changes, field):
    with pytest.raises(ApplicationError) as err:
        visits.visit_settings_update(actor=admin_user, workspace=workspace, **changes)
    assert field in err.value.fields
    assert not VisitSettings.objects.in_workspace(workspace).exists()


def test_settings_only_administrators(workspace, manager):
    with pytest.raises(PermissionDenied):
        visits.visit_settings_update(actor=manager, workspace=workspace, far_checkin_meters=100)


# --- one account's plan -------------------------------------------------------------------------


def test_plan_default_by_type_then_custom_then_reset(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep, account_type="agent")
    plan = visits.visit_plan_get(actor=rep, workspace=workspace, account_id=account.pk)
    assert (plan.visits_per_year, plan.source, plan.plan) == (12, "default", None)

    plan = visits.visit_plan_set(
        actor=rep,
        workspace=workspace,
        account_id=account.pk,
        visits_per_year=24,
        means="technical_exchange",
        notes="每月两次",
    )
    assert (plan.visits_per_year, plan.source, plan.means) == (24, "custom", "technical_exchange")
    row = VisitPlan.objects.in_workspace(workspace).get(account=account)
    assert row.is_custom and row.updated_by == rep
    assert (
        visits.visit_plan_get(actor=rep, workspace=workspace, account_id=account.pk).notes
        == "每月两次"
    )

    plan = visits.visit_plan_reset(actor=rep, workspace=workspace, account_id=account.pk)
    assert (plan.visits_per_year, plan.source) == (12, "default")
    row.refresh_from_db()
    assert not row.is_custom and row.visits_per_year == 12


def test_plan_follows_settings_while_default(workspace, rep, admin_user):
    account = AccountFactory(workspace=workspace, owner=rep, account_type="customer")
    visits.visit_settings_update(
        actor=admin_user, workspace=workspace, visits_per_year_by_type={"customer": 2}
    )
    assert (
        visits.visit_plan_get(actor=rep, workspace=workspace, account_id=account.pk).visits_per_year
        == 2
    )


@pytest.mark.parametrize("value", [-1, 366, "x", None, True, 1.5])
def test_plan_set_bad_frequency_writes_nothing(workspace, rep, value):
    account = AccountFactory(workspace=workspace, owner=rep)
    with pytest.raises(ApplicationError) as err:
        visits.visit_plan_set(
            actor=rep, workspace=workspace, account_id=account.pk, visits_per_year=value
        )
    assert "visits_per_year" in err.value.fields
    assert not VisitPlan.objects.in_workspace(workspace).exists()


def test_plan_set_bad_means_and_notes(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep)
    with pytest.raises(ApplicationError) as err:
        visits.visit_plan_set(
            actor=rep, workspace=workspace, account_id=account.pk, visits_per_year=4, means="dinner"
        )
    assert "means" in err.value.fields
    with pytest.raises(ApplicationError):
        visits.visit_plan_set(
            actor=rep,
            workspace=workspace,
            account_id=account.pk,
            visits_per_year=4,
            notes="x" * 501,
        )
    assert not VisitPlan.objects.in_workspace(workspace).exists()


def test_plan_of_invisible_or_foreign_account_is_not_found(workspace, rep, other_workspace):
    someone = UserFactory(workspace=workspace)
    theirs = AccountFactory(workspace=workspace, owner=someone)
    foreign = AccountFactory(workspace=other_workspace)
    for account in (theirs, foreign):
        with pytest.raises(NotFound):
            visits.visit_plan_get(actor=rep, workspace=workspace, account_id=account.pk)
        with pytest.raises(NotFound):
            visits.visit_plan_set(
                actor=rep, workspace=workspace, account_id=account.pk, visits_per_year=4
            )


def test_plan_set_needs_the_right(workspace):
    technician = UserFactory(workspace=workspace, role_code="technician")
    account = AccountFactory(workspace=workspace, owner=technician)
    with pytest.raises(PermissionDenied):
        visits.visit_plan_set(
            actor=technician, workspace=workspace, account_id=account.pk, visits_per_year=4
        )
    assert visits.visit_plan_get(actor=technician, workspace=workspace, account_id=account.pk)


# --- periods and slots --------------------------------------------------------------------------


def test_parse_period():
    assert visits.parse_period("2026").start == dt.date(2026, 1, 1)
    q4 = visits.parse_period("2026-q4")
    assert (q4.label, q4.start, q4.end) == ("2026-Q4", dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    nov = visits.parse_period("2026-11")
    assert (nov.start, nov.end) == (dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    for bad in ("", "26", "2026-13", "2026-Q5", "1999", "2026-11-01", None):
        with pytest.raises(ApplicationError) as err:
            visits.parse_period(bad)
        assert "period" in err.value.fields


@pytest.mark.parametrize("frequency", [1, 2, 3, 4, 6, 8, 12, 24, 52, 365])
def test_slots_spread_evenly_on_working_days(frequency):
    slots = visits.year_slots(2026, frequency)
    assert len(slots) == frequency
    assert len({s for s, _ in slots}) == frequency
    assert all(day.weekday() < 5 and day.year == 2026 for _, day in slots)
    if frequency == 4:
        assert [s for s, _ in slots] == ["2026-Q1#1", "2026-Q2#1", "2026-Q3#1", "2026-Q4#1"]
        assert [(d.month - 1) // 3 for _, d in slots] == [0, 1, 2, 3]
    if frequency == 24:
        assert [s for s, _ in slots][20:22] == ["2026-11#1", "2026-11#2"]
    if frequency == 12:
        assert [d.month for _, d in slots] == list(range(1, 13))
    # No gap between consecutive visits is more than about twice the even spacing.
    days = sorted(d for _, d in slots)
    if frequency <= 52:
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        assert max(gaps, default=0) <= 2 * 365 / frequency + 3


def test_period_slots_subset_of_year():
    year = visits.year_slots(2026, 24)
    q4 = visits.period_slots(visits.parse_period("2026-Q4"), 24)
    nov = visits.period_slots(visits.parse_period("2026-11"), 24)
    assert len(q4) == 6 and len(nov) == 2
    assert set(nov) <= set(q4) <= set(year)


# --- generation ---------------------------------------------------------------------------------


def _generate(actor, workspace, period, **filters):
    calls = []
    result = visits.visit_plans_generate(
        actor=actor,
        workspace=workspace,
        period=period,
        progress=lambda done, total, message="": calls.append((done, total)),
        **filters,
    )
    return result, calls


def test_generate_year_then_quarter_is_idempotent(workspace, manager, rep):
    customer = AccountFactory(workspace=workspace, owner=rep, account_type="customer", city="上海")
    agent = AccountFactory(workspace=workspace, owner=rep, account_type="agent")
    AccountFactory(workspace=workspace, owner=rep, account_type="competitor")  # 0 a year
    AccountFactory(workspace=workspace, owner=None, account_type="customer")  # in the pool
    result, calls = _generate(manager, workspace, "2026")
    assert result["tasks_created"] == 4 + 12
    assert result["plans_created"] == 2
    assert calls[-1] == (3, 3)
    tasks = Task.objects.in_workspace(workspace)
    assert set(tasks.values_list("kind", flat=True)) == {TaskKind.VISIT}
    assert set(tasks.values_list("assignee_id", flat=True)) == {rep.pk}
    first = tasks.filter(account=customer).order_by("due_at").first()
    local = first.due_at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute, local.weekday() < 5) == (10, 0, True)
    assert first.plan_slot == "2026-Q1#1" and first.location == "上海"
    assert tasks.filter(account=agent, plan_slot="2026-11#1").exists()
    plans = VisitPlan.objects.in_workspace(workspace)
    assert plans.count() == 2 and not plans.filter(is_custom=True).exists()

    again, _ = _generate(manager, workspace, "2026")
    quarter, _ = _generate(manager, workspace, "2026-Q4")
    month, _ = _generate(manager, workspace, "2026-11")
    assert again["tasks_created"] == quarter["tasks_created"] == month["tasks_created"] == 0
    assert tasks.count() == 16


def test_generate_month_only_makes_that_month(workspace, manager, rep):
    account = AccountFactory(workspace=workspace, owner=rep, account_type="agent")
    visits.visit_plan_set(
        actor=manager, workspace=workspace, account_id=account.pk, visits_per_year=24
    )
    result, _ = _generate(manager, workspace, "2026-11")
    assert result["tasks_created"] == 2
    slots = sorted(Task.objects.in_workspace(workspace).values_list("plan_slot", flat=True))
    assert slots == ["2026-11#1", "2026-11#2"]
    year, _ = _generate(manager, workspace, "2026")
    assert year["tasks_created"] == 22


def test_frequency_change_replaces_open_future_slots(workspace, manager, rep):
    account = AccountFactory(workspace=workspace, owner=rep, account_type="customer")
    year = timezone.localdate().year + 1
    _generate(manager, workspace, str(year))
    tasks = Task.objects.in_workspace(workspace)
    assert tasks.filter(status=TaskStatus.OPEN).count() == 4
    visits.visit_plan_set(
        actor=manager, workspace=workspace, account_id=account.pk, visits_per_year=12
    )
    assert tasks.filter(status=TaskStatus.CANCELLED, visit_plan__isnull=True).count() == 4
    result, _ = _generate(manager, workspace, str(year))
    assert result["tasks_created"] == 12
    assert tasks.filter(status=TaskStatus.OPEN).count() == 12


def test_generate_filters_by_owner_and_team(workspace, manager, rep, team):
    other_team = TeamFactory(workspace=workspace)
    elsewhere = UserFactory(workspace=workspace, team=other_team)
    AccountFactory(workspace=workspace, owner=rep, account_type="customer")
    AccountFactory(workspace=workspace, owner=elsewhere, account_type="customer")
    admin = UserFactory(workspace=workspace, role_code="administrator")
    result, _ = _generate(admin, workspace, "2026", owner_id=elsewhere.pk)
    assert result["accounts"] == 1
    assert set(Task.objects.in_workspace(workspace).values_list("assignee_id", flat=True)) == {
        elsewhere.pk
    }
    result, _ = _generate(admin, workspace, "2026", team_id=team.pk)
    assert result["accounts"] == 1 and result["tasks_created"] == 4
    with pytest.raises(NotFound):
        _generate(admin, workspace, "2026", team_id=999999)


def test_generate_sees_only_visible_accounts(workspace, rep):
    other = UserFactory(workspace=workspace)
    AccountFactory(workspace=workspace, owner=rep, account_type="customer")
    AccountFactory(workspace=workspace, owner=other, account_type="customer")
    # A rep may generate the visits of their own accounts, and only those.
    result, _ = _generate(rep, workspace, "2026")
    assert (result["accounts"], result["tasks_created"]) == (1, 4)
    assert set(Task.objects.in_workspace(workspace).values_list("assignee_id", flat=True)) == {
        rep.pk
    }


def test_generate_needs_rights_and_a_valid_period(workspace):
    technician = UserFactory(workspace=workspace, role_code="technician")
    with pytest.raises(PermissionDenied):
        visits.visit_plans_generate_start(actor=technician, workspace=workspace, period="2026")
    admin = UserFactory(workspace=workspace, role_code="administrator")
    with pytest.raises(ApplicationError) as err:
        visits.visit_plans_generate_start(actor=admin, workspace=workspace, period="next year")
    assert err.value.code == "invalid_period"
    assert not Job.objects.in_workspace(workspace).exists()


def test_generate_runs_as_a_job(workspace, manager, rep, django_capture_on_commit_callbacks):
    AccountFactory(workspace=workspace, owner=rep, account_type="customer")
    with django_capture_on_commit_callbacks(execute=True):
        job = visits.visit_plans_generate_start(
            actor=manager, workspace=workspace, period="2026-Q4"
        )
    job.refresh_from_db()
    assert job.kind == "activities.visit_plans" and job.state == JobState.SUCCEEDED, job.error
    assert job.result["tasks_created"] == 1 and job.result["url"].endswith("period=2026-Q4")
    assert (job.done, job.total) == (1, 1)
