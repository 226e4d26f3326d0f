# ruff: noqa: F811  (the shared fixtures are imported by name, and pytest passes them in)
"""At scale: a rep with 5,000 customers and 5,000 open tasks, spread across a team of three
by the background job, in batches. Prints the time (run with ``-s`` to see it)."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.utils import timezone

from guanxi.activities.models import Task, TimelineEntry
from guanxi.activities.services import reassign
from guanxi.activities.tests.test_reassign_support import leaver, rep_a1, rep_a2, run, team_a  # noqa: F401
from guanxi.customers import search_keys
from guanxi.customers.models import Account, PoolEvent
from guanxi.platform.models import AuditEntry, JobState
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
# REASSIGN_SCALE=50000 measures more; the test's own size is 5,000.
CUSTOMERS = int(os.environ.get("REASSIGN_SCALE", "5000"))


def test_five_thousand_customers_and_tasks(workspace, admin_user, leaver, rep_a1, rep_a2, team_a):
    third = UserFactory(workspace=workspace, team=team_a, full_name="周敏")
    accounts = []
    for i in range(CUSTOMERS):
        account = Account(
            workspace=workspace, code=f"S{i:06d}", name=f"规模测试公司{i}", owner=leaver
        )
        search_keys.apply_account_keys(account)
        accounts.append(account)
    accounts = Account.objects.bulk_create(accounts, batch_size=1000)
    due = timezone.now() + dt.timedelta(days=3)
    Task.objects.bulk_create(
        [
            Task(
                workspace=workspace,
                title=f"回访 {i}",
                due_at=due,
                assignee=leaver,
                account_id=a.pk,
                kind="visit" if i % 5 == 0 else "call",
            )
            for i, a in enumerate(accounts)
        ],
        batch_size=1000,
    )
    started = time.perf_counter()
    job = reassign.reassign_start(
        actor=admin_user,
        workspace=workspace,
        from_user_id=leaver.pk,
        mode="team",
        team_id=team_a.pk,
    )
    run(job)
    elapsed = time.perf_counter() - started
    print(f"\nreassigned {CUSTOMERS} customers + {CUSTOMERS} tasks in {elapsed:.1f} s")
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.done == job.total == CUSTOMERS
    assert not Account.objects.in_workspace(workspace).filter(owner=leaver).exists()
    assert not Task.objects.in_workspace(workspace).filter(assignee=leaver).exists()
    # Spread evenly (all three started empty), each account with its task.
    counts = sorted(r["customers"] for r in job.result["receivers"])
    assert counts == sorted(CUSTOMERS // 3 + (i < CUSTOMERS % 3) for i in range(3))
    for member in (rep_a1, rep_a2, third):
        mine = Account.objects.in_workspace(workspace).filter(owner=member).values("pk")
        assert (
            not Task.objects.in_workspace(workspace)
            .filter(account__in=mine)
            .exclude(assignee=member)
            .exists()
        )
    assert job.result["totals"]["tasks"] == CUSTOMERS
    assert job.result["totals"]["visit_tasks"] == CUSTOMERS // 5
    assert (
        TimelineEntry.objects.in_workspace(workspace).filter(subtype="reassigned").count()
        == CUSTOMERS
    )
    assert PoolEvent.objects.in_workspace(workspace).filter(from_owner=leaver).count() == CUSTOMERS
    assert (
        AuditEntry.objects.filter(workspace=workspace, object_key="activities.task").count()
        == CUSTOMERS
    )
    # Generous, so a busy CI machine passes; the measured figure is in docs/activities/reassign.md.
    assert elapsed < 300
