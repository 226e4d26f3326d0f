"""Real concurrent transactions (PostgreSQL; SQLite serialises writers): cases routed at the
same moment through one round-robin queue go to different agents, load-based routing sees
the cases given a moment before, and two dispatches of one technician at the same time
cannot both be booked."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from guanxi.common.errors import ApplicationError
from guanxi.platform.tests.factories import UserFactory, WorkspaceFactory
from guanxi.service.models import Case, Dispatch
from guanxi.service.services import dispatch, routing
from guanxi.service.services.case_types import service_setup

from .assignment_support import make_agent, make_case, make_queue

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
def ws():
    workspace = WorkspaceFactory()
    service_setup(workspace)
    return workspace


def _route_one(case_id, workspace):
    def call():
        with transaction.atomic():
            case = Case.objects.in_workspace(workspace).get(pk=case_id)
            routing.case_route(case, actor=None)
            case.save()
            # Hold the transaction a little, as case_create does its other writes.
            Case.objects.in_workspace(workspace).filter(pk=case.pk).exists()
        return case.assignee_id

    return call


def test_round_robin_at_once_gives_each_agent_one(ws):
    agents = [make_agent(ws, f"坐席{i}") for i in range(4)]
    make_queue(ws, "一线", members=agents, is_default=True)
    cases = [make_case(ws, subject=f"同时 {i}") for i in range(4)]
    outcomes = _race([_route_one(c.pk, ws) for c in cases])
    assert sorted(outcomes) == sorted(a.pk for a in agents), outcomes


def test_load_at_once_spreads_the_cases(ws):
    agents = [make_agent(ws, f"坐席{i}", max_open_cases=2) for i in range(3)]
    make_queue(ws, "负载", members=agents, method="load", is_default=True)
    cases = [make_case(ws, subject=f"同时 {i}") for i in range(6)]
    outcomes = _race([_route_one(c.pk, ws) for c in cases])
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sorted(outcomes) == sorted([a.pk for a in agents] * 2), outcomes


def test_one_technician_cannot_be_booked_twice_at_once(ws):
    from guanxi.customers.tests.factories import ContactFactory

    manager = UserFactory(workspace=ws, role_code="service_manager")
    tech = make_agent(ws, "师傅", role="technician", is_technician=True)
    contact = ContactFactory(workspace=ws, name="客户")
    cases = [make_case(ws, subject=f"上门 {i}", contact=contact) for i in range(3)]
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)

    def book(case):
        return lambda: (
            dispatch.dispatch_create(
                actor=manager,
                workspace=ws,
                case_id=case.pk,
                technician_id=tech.pk,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=2),
            ).pk
        )

    outcomes = _race([book(c) for c in cases])
    assert sorted(map(str, outcomes)).count("overlap") == 2, outcomes
    assert Dispatch.objects.in_workspace(ws).count() == 1
