"""Helpers of the surveys part's tests: an administrator of the service workspace, a customer
who can be e-mailed and one who can only be texted, resolving a case, and reading the survey
link's token back from the message that carried it (only its hash is stored). Import the
fixtures with ``from .surveys_support import *  # noqa: F403``."""

from __future__ import annotations

import re

import pytest

from guanxi.activities.models import EmailMessage
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.integrations.models import SmsMessage
from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import CaseStatus, Survey, SurveyChannel
from guanxi.service.services import cases as case_services
from guanxi.service.services import surveys

from .cases_support import (
    account,
    agent,
    case_type,
    contact,
    make_case,
    nobody,
    other_agent,
    queue,
    service_ws,
)

__all__ = [
    "account",
    "admin",
    "agent",
    "case_type",
    "contact",
    "emailed",
    "make_case",
    "nobody",
    "other_agent",
    "queue",
    "resolve",
    "resolved_case",
    "service_ws",
    "survey_token",
    "texted",
]

LINK = re.compile(r"/s/([A-Za-z0-9_\-]+)/")


@pytest.fixture
def admin(service_ws):
    return UserFactory(workspace=service_ws, role_code="administrator", full_name="Admin Chen")


@pytest.fixture
def emailed(service_ws):
    """A person with an e-mail address (and a mobile), at a company."""
    company = AccountFactory(workspace=service_ws, name="杭州云帆科技有限公司")
    return ContactFactory(
        workspace=service_ws,
        name="李娜",
        account=company,
        email="li.na@example.cn",
        mobile="+8613812345678",
    )


@pytest.fixture
def texted(service_ws):
    """A person with only a mobile number."""
    return ContactFactory(workspace=service_ws, name="赵强", mobile="+8613912345678")


def resolve(actor, case, resolution="已更换硒鼓"):
    """new → open → resolved (as far as the case has to go)."""
    case.refresh_from_db()
    if case.status == CaseStatus.NEW:
        case = case_services.case_change_status(
            actor=actor, workspace=case.workspace, case_id=case.pk, status=CaseStatus.OPEN
        )
    return case_services.case_change_status(
        actor=actor,
        workspace=case.workspace,
        case_id=case.pk,
        status=CaseStatus.RESOLVED,
        resolution=resolution,
    )


def resolved_case(actor, contact, **extra):
    case = make_case(
        actor,
        contact=contact,
        account=contact.account,
        acknowledge=False,
        assignee=extra.pop("assignee", actor.pk),
        **extra,
    )
    return resolve(actor, case)


def survey_token(survey: Survey) -> str:
    """The token of ``survey``'s link, read from the e-mail or text that carried it."""
    if survey.channel == SurveyChannel.SMS:
        bodies = list(
            SmsMessage.objects.in_workspace(survey.workspace_id)
            .filter(idempotency_key=f"survey:{survey.pk}")
            .values_list("body", flat=True)
        )
    else:
        bodies = list(
            EmailMessage.objects.in_workspace(survey.workspace_id)
            .filter(body_text__contains="/s/")
            .values_list("body_text", flat=True)
        )
    for body in bodies:
        for token in LINK.findall(body):
            if surveys.token_hash(token) == survey.token_hash:
                return token
    raise AssertionError(f"no message carries the link of survey {survey.pk}")
