# ruff: noqa: F811  (pytest fixtures imported from test_quotes_support)
"""The quotes' demo data: quotes per rep, one waiting for approval, one accepted (with its
order), made through the services; a second run adds nothing."""

from __future__ import annotations

import random

import pytest

from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import User
from guanxi.sales import quotes_demo
from guanxi.sales.models import Order, Quote, QuoteStatus

from .test_quotes_support import _media_in_tmp, manager, rep, rep2, team  # noqa: F401

pytestmark = pytest.mark.django_db


def test_demo_quotes(workspace, rep, rep2, manager):
    for user in (rep, rep2):
        for _ in range(4):
            AccountFactory(workspace=workspace, owner=user)
    users = list(User.objects.filter(workspace=workspace).select_related("role"))
    quotes_demo.seed(workspace=workspace, users=users, rng=random.Random(1))
    statuses = list(Quote.objects.in_workspace(workspace).values_list("status", flat=True))
    assert len(statuses) == 8
    assert statuses.count(QuoteStatus.PENDING_APPROVAL) == 1
    assert statuses.count(QuoteStatus.ACCEPTED) == 1
    assert QuoteStatus.SENT in statuses and QuoteStatus.DRAFT in statuses
    assert Order.objects.in_workspace(workspace).count() == 1
    quotes_demo.seed(workspace=workspace, users=users, rng=random.Random(1))
    assert Quote.objects.in_workspace(workspace).count() == 8
