"""Helpers of the assignment part's tests: a service workspace with a manager, agents and
technicians, a customer with coordinates, and small makers for queues, profiles and cases.
Import the fixtures with ``from .assignment_support import *  # noqa: F403``."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import Role
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, make_token
from guanxi.service.models import (
    AgentProfile,
    AgentSkill,
    AgentStatus,
    Case,
    CaseCategory,
    CaseType,
    CaseTypeKind,
    Queue,
    QueueMember,
)
from guanxi.service.services.case_types import service_setup

__all__ = [
    "api_for",
    "client_for",
    "customer",
    "fault_type",
    "make_agent",
    "make_case",
    "make_category",
    "make_queue",
    "manager",
    "nobody",
    "open_cases",
    "service_ws",
    "skill",
]

_numbers = itertools.count(1)


@pytest.fixture
def service_ws(workspace):
    service_setup(workspace)
    return workspace


@pytest.fixture
def manager(service_ws):
    return UserFactory(workspace=service_ws, role_code="service_manager", full_name="主管 陈")


@pytest.fixture
def nobody(service_ws):
    """A user whose role grants nothing of the service."""
    role = Role.objects.create(workspace=service_ws, name="Nobody", code="nobody", rights={})
    return UserFactory(workspace=service_ws, role=role)


@pytest.fixture
def customer(service_ws):
    """A contact (with coordinates in Shanghai's Jing'an district) at an account."""
    account = AccountFactory(
        workspace=service_ws,
        name="上海星河贸易有限公司",
        region="华东",
        province="上海",
        city="上海",
        street="南京西路 1266 号",
    )
    return ContactFactory(
        workspace=service_ws,
        name="王芳",
        account=account,
        province="上海",
        city="上海",
        district="静安区",
        street="南京西路 1266 号",
        latitude="31.229000",
        longitude="121.455000",
    )


def fault_type(workspace) -> CaseType:
    return CaseType.objects.in_workspace(workspace).get(kind=CaseTypeKind.FAULT)


def make_agent(
    workspace, name: str, *, status=AgentStatus.AVAILABLE, role="service_agent", **profile
):
    user = UserFactory(workspace=workspace, role_code=role, full_name=name)
    AgentProfile.objects.create(workspace=workspace, user=user, status=status, **profile)
    return user


def skill(user, kind: str, object_id: int, level: int) -> AgentSkill:
    return AgentSkill.objects.create(
        workspace_id=user.workspace_id,
        agent=user.service_profile,
        kind=kind,
        object_id=object_id,
        level=level,
    )


def make_queue(workspace, name: str, members=(), **values) -> Queue:
    queue = Queue.objects.create(workspace=workspace, name=name, **values)
    for position, user in enumerate(members):
        QueueMember.objects.create(workspace=workspace, queue=queue, user=user, position=position)
    return queue


def make_category(workspace, name: str, *, queue=None, parent=None) -> CaseCategory:
    return CaseCategory.objects.create(workspace=workspace, name=name, queue=queue, parent=parent)


def make_case(workspace, *, subject="打印机不出纸", assignee=None, **values) -> Case:
    """A case row as the cases part stores it (no routing: the tests call it themselves)."""
    case_type = values.pop("case_type", None) or fault_type(workspace)
    return Case.objects.create(
        workspace=workspace,
        number=f"CS-TEST-{next(_numbers):06d}",
        case_type=case_type,
        kind=case_type.kind,
        subject=subject,
        channel=values.pop("channel", "phone"),
        assignee=assignee,
        **values,
    )


def open_cases(user, n: int, workspace=None) -> list[Case]:
    return [
        make_case(workspace or user.workspace, subject=f"已有 {i}", assignee=user) for i in range(n)
    ]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user) -> ApiClient:
    scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))
