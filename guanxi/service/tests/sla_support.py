"""Helpers of the SLA part's tests: a service workspace with its SLA defaults (the default
calendar with the 2025/2026 holidays, the policies), people (an administrator, a service
manager, agents, a supervisor, a user whose role grants nothing), customers of class A and
C, and a case maker that starts the clock at a chosen instant.

Import the fixtures with ``from .sla_support import *  # noqa: F403``."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import Role
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, make_token
from guanxi.service.models import Case, CaseType, CaseTypeKind, Queue
from guanxi.service.services import business_time, sla_clock
from guanxi.service.services import sla as sla_services
from guanxi.service.services.case_types import service_setup

__all__ = [
    "SHANGHAI",
    "api_for",
    "at",
    "class_a",
    "class_c",
    "make_case",
    "nobody",
    "sla_admin",
    "sla_agent",
    "sla_agent2",
    "sla_manager",
    "sla_queue",
    "sla_ws",
    "supervisor",
]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=0, minute=0, zone=SHANGHAI) -> dt.datetime:
    """A wall-clock time in ``zone`` as an aware datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


@pytest.fixture
def sla_ws(workspace):
    business_time.clear_cache()
    service_setup(workspace)
    sla_services.sla_setup(workspace)
    return workspace


@pytest.fixture
def sla_admin(sla_ws):
    return UserFactory(
        workspace=sla_ws, role_code="administrator", full_name="Admin Wu", language="en"
    )


@pytest.fixture
def sla_manager(sla_ws):
    return UserFactory(
        workspace=sla_ws, role_code="service_manager", full_name="Manager Qian", language="en"
    )


@pytest.fixture
def sla_agent(sla_ws):
    return UserFactory(
        workspace=sla_ws, role_code="service_agent", full_name="Agent Li", language="en"
    )


@pytest.fixture
def sla_agent2(sla_ws):
    return UserFactory(
        workspace=sla_ws, role_code="service_agent", full_name="Agent Zhao", language="en"
    )


@pytest.fixture
def supervisor(sla_ws):
    return UserFactory(
        workspace=sla_ws, role_code="service_manager", full_name="Supervisor Sun", language="en"
    )


@pytest.fixture
def nobody(sla_ws):
    """A user whose role grants nothing (no cases, no service configuration)."""
    role = Role.objects.create(workspace=sla_ws, name="Nobody", code="nobody", rights={})
    return UserFactory(workspace=sla_ws, role=role)


@pytest.fixture
def sla_queue(sla_ws, supervisor):
    return Queue.objects.create(workspace=sla_ws, name="一线支持", supervisor=supervisor)


@pytest.fixture
def class_a(sla_ws):
    return AccountFactory(workspace=sla_ws, name="甲级客户有限公司", value_class="A")


@pytest.fixture
def class_c(sla_ws):
    return AccountFactory(workspace=sla_ws, name="丙级客户有限公司", value_class="C")


_numbers = iter(range(1, 10_000_000))


def make_case(
    workspace,
    *,
    now: dt.datetime,
    priority: int = 3,
    account=None,
    contact=None,
    assignee=None,
    queue=None,
    status: str = "open",
    subject: str = "打印机不出纸",
) -> Case:
    """A case opened at ``now`` with its SLA clock started then (as ``case_create`` does,
    without its messages and routing, so tests choose the instant)."""
    case_type = CaseType.objects.in_workspace(workspace).filter(kind=CaseTypeKind.FAULT).first()
    case = Case(
        workspace=workspace,
        number=f"CS-T-{next(_numbers):07d}",
        case_type=case_type,
        kind=case_type.kind,
        subject=subject,
        priority=priority,
        status=status,
        channel="phone",
        account=account,
        contact=contact,
        assignee=assignee,
        queue=queue,
    )
    case.save()
    Case.objects.in_workspace(workspace).filter(pk=case.pk).update(created_at=now)
    case.created_at = now
    sla_clock.sla_start(case, now=now)
    case.save()
    return case


def contact_of_class(workspace, value_class: str):
    return ContactFactory(workspace=workspace, name="散客", value_class=value_class)
