# ruff: noqa: F811  (pytest fixtures imported from test_quotes_support)
"""Two people at once, for real (two threads, two connections, PostgreSQL): two editors
saving the same quote version — exactly one wins, the other gets the 409 and nothing of
theirs is written; two reps making quotes at the same moment get different numbers."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from guanxi.common.errors import Conflict
from guanxi.sales.models import Quote
from guanxi.sales.services import quotes

from .test_quotes_support import (  # noqa: F401
    _media_in_tmp,
    account,
    cabinet,
    catalog,
    manager,
    pump,
    rep,
    rep2,
    team,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def run_together(*calls):
    """Start every call at once (a barrier) in its own thread; their results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_editors_at_once_one_wins(workspace, rep, manager, account, pump):
    quote = quotes.quote_create(
        actor=rep,
        workspace=workspace,
        account_id=account.pk,
        lines=[{"product_id": pump.pk, "quantity": "1"}],
    )
    line = quote.lines.get()
    read = quote.lock_version

    def edit(actor, quantity):
        return lambda: quotes.quote_line_update(
            actor=actor,
            workspace=workspace,
            quote_id=quote.pk,
            line_id=line.pk,
            lock_version=read,
            quantity=quantity,
        )

    results = run_together(edit(rep, "5"), edit(manager, "7"))
    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(conflicts) == 1 and len(winners) == 1, results
    line.refresh_from_db()
    assert line.quantity == winners[0].quantity
    quote.refresh_from_db()
    assert quote.lock_version == read + 1
    assert quote.subtotal == line.quantity * Decimal(100)


def test_numbers_made_at_the_same_moment_differ(workspace, rep, rep2, account, pump):
    def make(actor):
        return lambda: quotes.quote_create(
            actor=actor,
            workspace=workspace,
            account_id=account.pk,
            lines=[{"product_id": pump.pk, "quantity": "1"}],
        )

    results = run_together(make(rep), make(rep2), make(rep), make(rep2))
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(Quote.objects.in_workspace(workspace).values_list("number", flat=True))
    assert len(set(numbers)) == 4
    assert [n[-4:] for n in numbers] == ["0001", "0002", "0003", "0004"]
