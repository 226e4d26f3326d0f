"""Fixtures and helpers of the reassignment tests (no tests here). A sales department
with two teams: the leaver 王伟 and two colleagues in team A under manager 张经理, a third
rep in team B under its own manager."""

from __future__ import annotations

import pytest

from guanxi.activities.models import Commitment, Task, TaskKind
from guanxi.activities.tests.factories import CommitmentFactory, TaskFactory
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform import jobs
from guanxi.platform.models import Job
from guanxi.platform.tests.factories import TeamFactory, UserFactory


@pytest.fixture
def team_a(workspace):
    return TeamFactory(workspace=workspace, name="华北一组")


@pytest.fixture
def team_b(workspace):
    return TeamFactory(workspace=workspace, name="华南二组")


@pytest.fixture
def leaver(workspace, team_a):
    return UserFactory(workspace=workspace, full_name="王伟", team=team_a)


@pytest.fixture
def rep_a1(workspace, team_a):
    return UserFactory(workspace=workspace, full_name="李娜", team=team_a)


@pytest.fixture
def rep_a2(workspace, team_a):
    return UserFactory(workspace=workspace, full_name="刘洋", team=team_a)


@pytest.fixture
def manager_a(workspace, team_a):
    return UserFactory(
        workspace=workspace, full_name="张经理", role_code="sales_manager", team=team_a
    )


@pytest.fixture
def rep_b(workspace, team_b):
    return UserFactory(workspace=workspace, full_name="陈静", team=team_b)


@pytest.fixture
def manager_b(workspace, team_b):
    return UserFactory(
        workspace=workspace, full_name="赵经理", role_code="sales_manager", team=team_b
    )


def book_of(workspace, owner, *, accounts=3, contacts_each=2, individuals=1):
    """A rep's book: accounts with contacts, an open task and a commitment each, a visit
    task on the first, individual customers with a task, and done work that stays."""
    made = {"accounts": [], "contacts": [], "tasks": [], "commitments": []}
    for i in range(accounts):
        account = AccountFactory(workspace=workspace, owner=owner, name=f"星河科技{i}有限公司")
        made["accounts"].append(account)
        for _ in range(contacts_each):
            made["contacts"].append(
                ContactFactory(workspace=workspace, owner=owner, account=account)
            )
        made["tasks"].append(TaskFactory(workspace=workspace, assignee=owner, account=account))
        made["commitments"].append(
            CommitmentFactory(workspace=workspace, promised_by=owner, account=account)
        )
    if made["accounts"]:
        made["tasks"].append(
            TaskFactory(
                workspace=workspace,
                assignee=owner,
                account=made["accounts"][0],
                kind=TaskKind.VISIT,
                title="季度拜访",
            )
        )
    for _ in range(individuals):
        person = ContactFactory(workspace=workspace, owner=owner)
        made["contacts"].append(person)
        made["tasks"].append(TaskFactory(workspace=workspace, assignee=owner, contact=person))
    # History: done tasks and kept promises stay with who did them.
    TaskFactory(workspace=workspace, assignee=owner, status="done")
    if made["accounts"]:
        CommitmentFactory(
            workspace=workspace, promised_by=owner, account=made["accounts"][0], status="kept"
        )
    return made


def run(job: Job) -> Job:
    """Run a queued job in this process, as the worker would, and reload it."""
    jobs.run_job(job.pk)
    job.refresh_from_db()
    return job


def open_tasks(workspace, user):
    return Task.objects.in_workspace(workspace).filter(assignee=user, status="open")


def open_commitments(workspace, user):
    return Commitment.objects.in_workspace(workspace).filter(promised_by=user, status="open")
