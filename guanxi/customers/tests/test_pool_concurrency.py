"""Two reps claiming one customer at the same moment: one wins, the other hears who owns
it. One rep claiming two customers at once at cap-1: one claim passes. Real concurrent
transactions need PostgreSQL (SQLite serialises writers with "database is locked")."""

import threading

import pytest
from django.db import connection

from guanxi.common.errors import Conflict
from guanxi.customers.models import Account, PoolEvent, PoolSettings
from guanxi.customers.services import pool
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.factories import UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[i] = "ok"
        except Conflict as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # reported in the assertion below
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_two_reps_claim_one_customer_at_once():
    workspace = WorkspaceFactory()
    reps = [UserFactory(workspace=workspace) for _ in range(2)]
    for _round in range(5):
        account = AccountFactory(workspace=workspace)
        outcomes = _race(
            [
                lambda r=r, a=account: pool.customer_claim(
                    actor=r, workspace=workspace, object_key="customers.account", record_id=a.pk
                )
                for r in reps
            ]
        )
        assert sorted(map(str, outcomes)) == ["ok", "owned_by_other"], outcomes
        assert PoolEvent.objects.in_workspace(workspace).filter(account=account).count() == 1


def test_one_rep_at_cap_minus_one_claims_two_at_once():
    workspace = WorkspaceFactory()
    rep = UserFactory(workspace=workspace)
    PoolSettings.objects.create(workspace=workspace, max_per_rep=2)
    AccountFactory(workspace=workspace, owner=rep)
    for _round in range(3):
        a, b = AccountFactory.create_batch(2, workspace=workspace)
        outcomes = _race(
            [
                lambda x=x: pool.customer_claim(
                    actor=rep, workspace=workspace, object_key="customers.account", record_id=x.pk
                )
                for x in (a, b)
            ]
        )
        assert Account.objects.in_workspace(workspace).filter(owner=rep).count() == 2
        if _round == 0:
            assert sorted(map(str, outcomes)) == ["ok", "pool_cap_reached"], outcomes
        else:
            assert outcomes == ["pool_cap_reached", "pool_cap_reached"], outcomes
