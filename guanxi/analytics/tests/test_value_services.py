# ruff: noqa: F811  (the shared fixtures are imported by name, and pytest passes them in)
"""The customer-value recompute against an independent plain-Python computation (revenue
per customer and year, the Pareto curve, the ABC classes — exact to the cent), the tie and
growth edges, class changes and history, the rules, the job and the nightly start."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from guanxi.analytics.models import ClassChange, CustomerYearRevenue, ValueRun, ValueSettings
from guanxi.analytics.selectors import value as selectors
from guanxi.analytics.services import value
from guanxi.analytics.tests.value_support import (  # noqa: F401
    D,
    add_order,
    day_in,
    expected_classes,
    expected_pareto,
    expected_revenue,
    nobody,
    stored_classes,
)
from guanxi.common.errors import ApplicationError, Conflict, PermissionDenied
from guanxi.customers.models import Account, Contact
from guanxi.customers.services.records import set_value_classes
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform import jobs
from guanxi.platform.models import AuditEntry, Job, JobState
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

YEAR = 2025


def _random_book(workspace, seed: int) -> None:
    """Accounts (some agents), individuals, people at accounts with lines of their own;
    amounts with cents (0.10 + 0.20 sums), returns (negative lines), cancelled orders,
    ties at round figures, and exact 10 % growth (100.00 → 110.00 → 121.00)."""
    rng = random.Random(seed)
    accounts = [
        AccountFactory(workspace=workspace, account_type=rng.choice(["customer"] * 6 + ["agent"]))
        for _ in range(60)
    ]
    individuals = [ContactFactory(workspace=workspace) for _ in range(20)]
    at_accounts = [
        ContactFactory(workspace=workspace, account=rng.choice(accounts)) for _ in range(6)
    ]
    customers = [("account", a) for a in accounts] + [("contact", c) for c in individuals]
    for n, (kind, record) in enumerate(customers):
        who = {kind: record}
        shape = rng.random()
        if shape < 0.15:
            continue  # no sales at all
        if shape < 0.25:  # exact growth of 10 % (B), or just under it
            base = D(rng.choice(["100.00", "200.00", "333.33"]))
            under = rng.random() < 0.5
            for back, factor in ((2, D(1)), (1, D("1.1")), (0, D("1.21"))):
                amount = (base * factor).quantize(D("0.01"))
                if under and back == 0:
                    amount -= D("0.01")
                add_order(workspace, day=day_in(YEAR - back, n), amounts=[amount], **who)
            continue
        if shape < 0.35:  # a tie at a round figure
            add_order(workspace, day=day_in(YEAR, n), amounts=["500.00"], **who)
            continue
        if shape < 0.4:  # sold last year only, with a zero year before
            add_order(workspace, day=day_in(YEAR - 1, n), amounts=["80.00"], **who)
            add_order(workspace, day=day_in(YEAR, n), amounts=["120.00"], **who)
            continue
        for year in range(YEAR - 3, YEAR + 2):
            for _ in range(rng.randint(0, 3)):
                amounts = [str(D(rng.randint(1, 200000)) / 100) for _ in range(rng.randint(1, 3))]
                if rng.random() < 0.2:
                    amounts.append("0.10")
                    amounts.append("0.20")
                if rng.random() < 0.1:
                    amounts.append("-" + str(D(rng.randint(1, 5000)) / 100))
                status = (
                    "cancelled"
                    if rng.random() < 0.1
                    else rng.choice(["confirmed", "shipped", "completed", "draft"])
                )
                add_order(
                    workspace,
                    day=day_in(year, rng.randint(0, 99)),
                    amounts=amounts,
                    status=status,
                    **who,
                )
    for contact in at_accounts[:4]:  # lines naming only the person
        add_order(workspace, contact=contact, day=day_in(YEAR, 3), amounts=["777.77"])


@pytest.mark.parametrize("seed", [1, 2])
def test_recompute_matches_an_independent_computation(workspace, other_workspace, seed):
    _random_book(workspace, seed)
    _random_book(other_workspace, seed + 100)  # must not leak in
    run = value.value_recompute(workspace=workspace, year=YEAR)
    run.refresh_from_db()
    assert run.state == "done", run.error

    revenue = expected_revenue(workspace)
    stored = {
        ("account" if r.account_id else "contact", r.account_id or r.contact_id, r.year): r.revenue
        for r in CustomerYearRevenue.objects.in_workspace(workspace)
    }
    assert stored == revenue

    pareto = expected_pareto(revenue, YEAR)
    assert run.customers == pareto["customers"] and run.revenue == pareto["revenue"]
    assert len(run.pareto) == 201
    for x, share, k, amount in run.pareto:
        want_k, want_revenue, want_share = pareto["points"][D(x)]
        assert (k, D(amount)) == (want_k, want_revenue), x
        assert D(str(share)) == want_share, x
    computed = selectors.pareto_compute(workspace=workspace, year=YEAR)
    assert [p.as_list() for p in computed.points] == run.pareto

    classes = expected_classes(workspace, revenue, YEAR)
    stored_now = stored_classes(workspace)
    assert {k: stored_now[k] for k in classes} == classes
    untouched = [k for k in stored_now if k not in classes]
    assert untouched and all(stored_now[k] == "" for k in untouched)  # people at accounts
    counts = {c: list(classes.values()).count(c) for c in "ABC"}
    assert run.class_counts == counts and counts["B"] > 0 and counts["A"] > 0
    assert run.changed == len(classes) == ClassChange.objects.in_workspace(workspace).count()
    assert not ClassChange.objects.in_workspace(other_workspace).exists()
    assert not CustomerYearRevenue.objects.in_workspace(other_workspace).exists()
    assert set(
        Account.objects.in_workspace(other_workspace).values_list("value_class", flat=True)
    ) == {""}


def test_ties_at_the_cut_off_are_in_and_growth_edges(workspace):
    accounts = [AccountFactory(workspace=workspace) for _ in range(10)]
    for account, amount in zip(
        accounts, ["900", "300", "300", "299.99", "50", "40", "30", "20", "10", "5"], strict=True
    ):
        add_order(workspace, account=account, day=dt.date(YEAR, 6, 1), amounts=[amount])
    exact = AccountFactory(workspace=workspace)  # 100 → 110 → 121: grown exactly 10 % twice
    under = AccountFactory(workspace=workspace)  # 100 → 110 → 120.99
    gap = AccountFactory(workspace=workspace)  # 0 → 110 → 121: the first year is zero
    once = AccountFactory(workspace=workspace)  # 100 → 100 → 200: grew one year only
    for account, amounts in (
        (exact, ["100", "110", "121"]),
        (under, ["100", "110", "120.99"]),
        (gap, [None, "110", "121"]),
        (once, ["100", "100", "200"]),
    ):
        for back, amount in zip((2, 1, 0), amounts, strict=True):
            if amount:
                add_order(
                    workspace, account=account, day=dt.date(YEAR - back, 3, 1), amounts=[amount]
                )
    agent = AccountFactory(workspace=workspace, account_type="agent")  # A with no sales
    quiet = AccountFactory(workspace=workspace)  # no sales: C
    value.value_recompute(workspace=workspace, year=YEAR)
    classes = dict(Account.objects.in_workspace(workspace).values_list("pk", "value_class"))
    # 14 customers sold in the year: top 20 % = ceil(2.8) = 3 → cut-off 300 (ranks 2, 3 tie).
    assert [classes[a.pk] for a in accounts[:4]] == ["A", "A", "A", "C"]
    assert classes[exact.pk] == "B" and classes[under.pk] == "C"
    assert classes[gap.pk] == "C" and classes[once.pk] == "C"
    assert classes[agent.pk] == "A" and classes[quiet.pk] == "C"
    reasons = dict(ClassChange.objects.in_workspace(workspace).values_list("account_id", "reason"))
    assert reasons[agent.pk] == "account_type" and reasons[accounts[0].pk] == "top_share"
    assert reasons[exact.pk] == "growth" and reasons[quiet.pk] == "rest"


def test_a_second_run_writes_only_changes(workspace, admin_user):
    climber, steady = AccountFactory(workspace=workspace), AccountFactory(workspace=workspace)
    small = [AccountFactory(workspace=workspace) for _ in range(4)]
    add_order(workspace, account=steady, day=dt.date(YEAR, 1, 5), amounts=["1000"])
    for account in small:
        add_order(workspace, account=account, day=dt.date(YEAR, 1, 5), amounts=["10"])
    first = value.value_recompute(workspace=workspace, year=YEAR, actor=admin_user)
    assert first.changed == 6
    add_order(workspace, account=climber, day=dt.date(YEAR, 2, 5), amounts=["5000"])
    second = value.value_recompute(workspace=workspace, year=YEAR, actor=admin_user)
    # Top 20 % of 6 customers = 2: the climber (5000) joins the steady one (1000) in A.
    assert second.changed == 1
    assert Account.objects.in_workspace(workspace).get(pk=steady.pk).value_class == "A"
    history = ClassChange.objects.in_workspace(workspace).filter(run=second)
    assert [(h.account_id, h.from_class, h.to_class, h.reason) for h in history] == [
        (climber.pk, "C", "A", "top_share")
    ]
    third = value.value_recompute(workspace=workspace, year=YEAR)
    assert (
        third.changed == 0
        and not ClassChange.objects.in_workspace(workspace).filter(run=third).exists()
    )
    summary = AuditEntry.objects.in_workspace(workspace).filter(object_key="customers.account")
    assert summary.count() == 2  # one summary row per run that changed something


def test_set_value_classes_is_bulk_scoped_and_audited_once(workspace, other_workspace):
    mine = [AccountFactory(workspace=workspace) for _ in range(3)]
    person = ContactFactory(workspace=workspace)
    theirs = AccountFactory(workspace=other_workspace)
    counts = set_value_classes(
        workspace=workspace,
        changes=iter(
            [
                ("account", mine[0].pk, "A"),
                ("account", mine[1].pk, "B"),
                ("contact", person.pk, "A"),
                ("account", theirs.pk, "A"),
            ]
        ),
    )
    assert counts == {"A": 2, "B": 1}
    assert Account.objects.in_workspace(other_workspace).get().value_class == ""
    assert Contact.objects.in_workspace(workspace).get().value_class == "A"
    entries = AuditEntry.objects.in_workspace(workspace)
    assert entries.count() == 1 and "A: 2" in entries.get().changes["value_class"][1]
    with pytest.raises(ApplicationError):
        set_value_classes(workspace=workspace, changes=[("account", mine[2].pk, "Z")])
    assert Account.objects.in_workspace(workspace).get(pk=mine[2].pk).value_class == ""


def test_rules_update_validates_every_field_at_once(workspace, admin_user, nobody):
    with pytest.raises(ApplicationError) as caught:
        value.value_settings_update(
            actor=admin_user,
            workspace=workspace,
            a_top_percent="120",
            a_account_types=["alien"],
            b_growth_percent="abc",
            b_years=0,
            nightly_hour=24,
        )
    assert set(caught.value.fields) == {
        "a_top_percent",
        "a_account_types",
        "b_growth_percent",
        "b_years",
        "nightly_hour",
    }
    assert value.value_settings_get(workspace=workspace).a_top_percent == D(20)
    rules = value.value_settings_update(
        actor=admin_user,
        workspace=workspace,
        a_top_percent="10.5",
        a_account_types=["agent", "partner"],
        b_years=3,
    )
    assert (rules.a_top_percent, rules.a_account_types, rules.b_years) == (
        D("10.5"),
        ["agent", "partner"],
        3,
    )
    with pytest.raises(PermissionDenied):
        value.value_settings_update(actor=nobody, workspace=workspace, b_years=2)
    rep = UserFactory(workspace=workspace)  # sales reps read customer value, no more
    with pytest.raises(PermissionDenied):
        value.value_settings_update(actor=rep, workspace=workspace, b_years=2)


def test_rules_drive_the_classes(workspace, admin_user):
    partner = AccountFactory(workspace=workspace, account_type="partner")
    agent = AccountFactory(workspace=workspace, account_type="agent")
    grower = AccountFactory(workspace=workspace)
    for back, amount in ((3, "100"), (2, "105"), (1, "111"), (0, "117")):  # ~5 % a year
        add_order(workspace, account=grower, day=dt.date(YEAR - back, 5, 5), amounts=[amount])
    value.value_settings_update(
        actor=admin_user,
        workspace=workspace,
        a_top_percent="0",
        a_account_types=["partner"],
        b_growth_percent="5",
        b_years=3,
    )
    value.value_recompute(workspace=workspace, year=YEAR)
    classes = dict(Account.objects.in_workspace(workspace).values_list("pk", "value_class"))
    assert classes == {partner.pk: "A", agent.pk: "C", grower.pk: "B"}


def test_recompute_as_a_job_with_progress(
    workspace, admin_user, django_capture_on_commit_callbacks
):
    account = AccountFactory(workspace=workspace)
    add_order(workspace, account=account, day=dt.date(YEAR, 5, 5), amounts=["10"])
    with django_capture_on_commit_callbacks(execute=False):
        job = value.value_recompute_start(actor=admin_user, workspace=workspace, year=YEAR)
    with pytest.raises(Conflict):
        value.value_recompute_start(actor=admin_user, workspace=workspace)
    assert jobs.run_job(job.pk) == "succeeded"
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (JobState.SUCCEEDED, 4, 4)
    assert job.result["class_counts"] == {"A": 1, "B": 0, "C": 0}
    run = ValueRun.objects.in_workspace(workspace).get()
    assert run.job_id == job.pk and run.trigger == "manual" and run.year == YEAR
    with pytest.raises(ApplicationError):
        value.value_recompute_start(actor=admin_user, workspace=workspace, year="nineteen")


def test_a_failed_run_is_marked_and_leaves_nothing_half_written(workspace, monkeypatch):
    account = AccountFactory(workspace=workspace)
    add_order(workspace, account=account, day=dt.date(YEAR, 5, 5), amounts=["10"])

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(value, "_record_changes", broken)
    with pytest.raises(RuntimeError):
        value.value_recompute(workspace=workspace, year=YEAR)
    run = ValueRun.objects.in_workspace(workspace).get()
    assert run.state == "failed" and run.error == "RuntimeError"
    assert Account.objects.in_workspace(workspace).get().value_class == ""
    assert not ClassChange.objects.in_workspace(workspace).exists()
    monkeypatch.undo()
    assert value.value_recompute(workspace=workspace, year=YEAR).state == "done"


def test_nightly_start_at_the_workspace_hour(
    workspace, other_workspace, django_capture_on_commit_callbacks
):
    workspace.time_zone = "Asia/Shanghai"
    workspace.save()
    other_workspace.time_zone = "Europe/Berlin"
    other_workspace.save()
    ValueSettings.objects.create(workspace=workspace, nightly_hour=2, a_account_types=["agent"])
    at = dt.datetime(2026, 3, 10, 18, 5, tzinfo=dt.UTC)  # 02:05 in Shanghai, 19:05 in Berlin
    with django_capture_on_commit_callbacks(execute=False):
        started = value.value_nightly_start_due(now=at)
        again = value.value_nightly_start_due(now=at + dt.timedelta(minutes=30))
    assert len(started) == 1 and again == started  # once a night
    job = Job.objects.in_workspace(workspace).get(pk=started[0])
    assert job.params == {"trigger": "nightly"} and job.owner is None
    assert not Job.objects.in_workspace(other_workspace).exists()


def test_reference_year_is_the_last_full_year_in_the_workspace_zone(workspace):
    workspace.time_zone = "Asia/Shanghai"
    # 2026-12-31 17:00 UTC is 2027-01-01 01:00 in Shanghai: 2026 is then the last full year.
    assert (
        selectors.reference_year(workspace, now=dt.datetime(2026, 12, 31, 17, tzinfo=dt.UTC))
        == 2026
    )
    assert (
        selectors.reference_year(workspace, now=dt.datetime(2026, 12, 31, 15, tzinfo=dt.UTC))
        == 2025
    )


def test_a_rerun_rewrites_only_revenue_rows_that_changed(workspace):
    steady, grows, gone = (AccountFactory(workspace=workspace) for _ in range(3))
    person = ContactFactory(workspace=workspace)
    add_order(workspace, account=steady, day=dt.date(YEAR, 1, 1), amounts=["10.10"])
    add_order(workspace, account=grows, day=dt.date(YEAR, 1, 1), amounts=["1"])
    cancelled = add_order(workspace, account=gone, day=dt.date(YEAR, 1, 1), amounts=["5"])
    add_order(workspace, contact=person, day=dt.date(YEAR, 1, 1), amounts=["0.10", "0.20"])
    value.value_recompute(workspace=workspace, year=YEAR)
    rows = CustomerYearRevenue.objects.in_workspace(workspace)
    before = {(r.account_id, r.contact_id): r.pk for r in rows}
    add_order(workspace, account=grows, day=dt.date(YEAR, 6, 1), amounts=["2"])
    add_order(workspace, account=grows, day=dt.date(YEAR - 1, 6, 1), amounts=["3"])
    cancelled.status = "cancelled"
    cancelled.save()
    value.value_recompute(workspace=workspace, year=YEAR)
    after = {(r.account_id, r.contact_id, r.year): (r.pk, r.revenue, r.lines) for r in rows.all()}
    assert after == {
        (steady.pk, None, YEAR): (before[(steady.pk, None)], D("10.10"), 1),  # untouched
        (None, person.pk, YEAR): (before[(None, person.pk)], D("0.30"), 2),  # untouched
        (grows.pk, None, YEAR): (after[(grows.pk, None, YEAR)][0], D("3.00"), 2),
        (grows.pk, None, YEAR - 1): (after[(grows.pk, None, YEAR - 1)][0], D("3.00"), 1),
    }
    assert after[(grows.pk, None, YEAR)][0] != before[(grows.pk, None)]  # rewritten
    assert revenue_matches(workspace)


def revenue_matches(workspace) -> bool:
    stored = {
        ("account" if r.account_id else "contact", r.account_id or r.contact_id, r.year): r.revenue
        for r in CustomerYearRevenue.objects.in_workspace(workspace)
    }
    return stored == expected_revenue(workspace)
