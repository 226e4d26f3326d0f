"""Helpers of the cases part's tests: a service workspace with its case types, agents, a
customer (an account with a contact), and a one-call case maker. Import the fixtures into a
test module with ``from .cases_support import *  # noqa: F403``."""

from __future__ import annotations

import pytest

from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import Role
from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import CaseType, CaseTypeKind, Queue
from guanxi.service.services import cases as case_services
from guanxi.service.services.case_types import service_setup

__all__ = [
    "account",
    "agent",
    "bulk_cases",
    "case_type",
    "contact",
    "make_case",
    "nobody",
    "other_agent",
    "queue",
    "service_ws",
]


@pytest.fixture
def service_ws(workspace):
    service_setup(workspace)
    return workspace


@pytest.fixture
def agent(service_ws):
    return UserFactory(workspace=service_ws, role_code="service_agent", full_name="Agent Li")


@pytest.fixture
def other_agent(service_ws):
    return UserFactory(workspace=service_ws, role_code="service_agent", full_name="Agent Zhao")


@pytest.fixture
def nobody(service_ws):
    """A user whose role grants nothing on cases (nor anything else)."""
    role = Role.objects.create(workspace=service_ws, name="Nobody", code="nobody", rights={})
    return UserFactory(workspace=service_ws, role=role)


@pytest.fixture
def account(service_ws):
    return AccountFactory(workspace=service_ws, name="上海星河贸易有限公司")


@pytest.fixture
def contact(service_ws, account):
    return ContactFactory(workspace=service_ws, name="王芳", account=account)


@pytest.fixture
def queue(service_ws):
    return Queue.objects.create(workspace=service_ws, name="一线支持")


def case_type(workspace, kind: str = CaseTypeKind.FAULT) -> CaseType:
    return CaseType.objects.in_workspace(workspace).filter(kind=kind).order_by("id").first()


def make_case(actor, *, workspace=None, kind=CaseTypeKind.FAULT, channel="phone", **extra):
    """A case of the built-in type of ``kind`` (``values`` items may be given as keywords;
    ``account``, ``contact`` and the other ``case_create`` arguments too)."""
    workspace = workspace or actor.workspace
    service_setup(workspace)
    values = {
        "case_type": case_type(workspace, kind).pk,
        "subject": extra.pop("subject", "打印机不出纸"),
    }
    for name in case_services.CREATE_VALUES:
        if name in extra:
            values[name] = extra.pop(name)
    return case_services.case_create(
        actor=actor, workspace=workspace, values=values, channel=channel, **extra
    )


def bulk_cases(workspace, n: int, *, start: int = 0, **fields) -> list:
    """``n`` cases written at once (no services: for lists and query counts). ``fields``
    apply to all; by default faults of priority 3 due in a day, status "open"."""
    import datetime as dt

    from django.utils import timezone

    from guanxi.service.models import Case

    service_setup(workspace)
    fault = case_type(workspace, CaseTypeKind.FAULT)
    now = timezone.now()
    defaults = {
        "case_type": fault,
        "kind": fault.kind,
        "status": "open",
        "priority": 3,
        "channel": "phone",
        "resolution_due_at": now + dt.timedelta(days=1),
    }
    defaults.update(fields)
    rows = [
        Case(
            workspace=workspace,
            number=f"CS-2000-{start + i + 1:06d}",
            subject=f"批量工单{start + i}",
            search_text=f"cs-2000-{start + i + 1:06d} 批量工单{start + i}",
            **defaults,
        )
        for i in range(n)
    ]
    return Case.objects.bulk_create(rows)
