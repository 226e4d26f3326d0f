"""Real concurrent transactions (PostgreSQL; SQLite serialises writers): cases opened at
once get different numbers; two agents changing one case from the same version — one wins,
the other is refused with 409 and writes nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from guanxi.common.errors import ApplicationError
from guanxi.platform.tests.factories import UserFactory, WorkspaceFactory
from guanxi.service.models import Case, CaseEvent
from guanxi.service.services import cases
from guanxi.service.services.case_types import service_setup

from .cases_support import case_type

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = call()
        except ApplicationError as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # reported in the assertion below
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.fixture
def setup():
    workspace = WorkspaceFactory()
    service_setup(workspace)
    first = UserFactory(workspace=workspace, role_code="service_agent")
    second = UserFactory(workspace=workspace, role_code="service_agent")
    return workspace, first, second


def _open(workspace, agent, subject):
    return cases.case_create(
        actor=agent,
        workspace=workspace,
        values={"case_type": case_type(workspace).pk, "subject": subject},
        channel="phone",
    )


def test_cases_opened_at_once_get_different_numbers(setup):
    workspace, first, second = setup
    outcomes = _race(
        [lambda i=i: _open(workspace, (first, second)[i % 2], f"同时{i}") for i in range(6)]
    )
    assert all(isinstance(o, Case) for o in outcomes), outcomes
    numbers = set(Case.objects.in_workspace(workspace).values_list("number", flat=True))
    assert len(numbers) == 6


def test_two_edits_from_one_version_one_wins(setup):
    workspace, first, second = setup
    case = _open(workspace, first, "原标题")
    version = case.lock_version
    outcomes = _race(
        [
            lambda: cases.case_update(
                actor=first,
                workspace=workspace,
                case_id=case.pk,
                changes={"subject": "甲改的", "priority": 1},
                lock_version=version,
            ),
            lambda: cases.case_update(
                actor=second,
                workspace=workspace,
                case_id=case.pk,
                changes={"subject": "乙改的", "priority": 4},
                lock_version=version,
            ),
        ]
    )
    assert sorted(o if isinstance(o, str) else "ok" for o in outcomes) == ["ok", "stale"], outcomes
    case.refresh_from_db()
    assert case.lock_version == version + 1
    assert (case.subject, case.priority) in (("甲改的", 1), ("乙改的", 4))
    assert CaseEvent.objects.in_workspace(workspace).filter(case=case, kind="priority").count() == 1


def test_two_status_moves_from_one_version_one_wins(setup):
    workspace, first, second = setup
    case = _open(workspace, first, "状态竞争")
    version = case.lock_version
    outcomes = _race(
        [
            lambda: cases.case_change_status(
                actor=first, workspace=workspace, case_id=case.pk, status="open",
                lock_version=version,
            ),
            lambda: cases.case_change_status(
                actor=second, workspace=workspace, case_id=case.pk, status="cancelled",
                lock_version=version,
            ),
        ]
    )  # fmt: skip
    assert sorted(o if isinstance(o, str) else "ok" for o in outcomes) == ["ok", "stale"], outcomes
    assert CaseEvent.objects.in_workspace(workspace).filter(case=case, kind="status").count() == 1
