"""The cases demo: about 300 cases over the demo customers (history in bulk, open ones
through the services), with conversations, open complaints flagging their customers; quick;
a second run adds nothing. The service demo runs the parts in order (the knowledge base,
cases, the portal's settings and searches), and a second run of it adds nothing."""

from __future__ import annotations

import random
import time

import pytest

from guanxi.customers.models import Account, Contact
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import User
from guanxi.platform.tests.factories import UserFactory
from guanxi.service import cases_demo, demo, knowledge_demo, portal_demo
from guanxi.service.models import (
    Article,
    Case,
    CaseMessage,
    CaseTypeKind,
    PortalSearch,
    PortalSettings,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_ws(workspace, admin_user):
    for i in range(3):
        UserFactory(workspace=workspace, role_code="service_agent", full_name=f"客服{i}")
    for i in range(30):
        account = AccountFactory(workspace=workspace, name=f"演示客户{i}")
        ContactFactory(workspace=workspace, name=f"联系人{i}", account=account)
    return workspace


def _users(workspace):
    return list(User.objects.filter(workspace=workspace).select_related("role").order_by("pk"))


def test_demo_seeds_cases_quickly_and_once(demo_ws):
    started = time.perf_counter()
    result = cases_demo.seed(workspace=demo_ws, users=_users(demo_ws), rng=random.Random(1))
    elapsed = time.perf_counter() - started
    cases = Case.objects.in_workspace(demo_ws)
    assert result["cases"] == cases.count() == cases_demo.HISTORY + cases_demo.OPEN
    assert elapsed < 15  # well under 5 s on a quiet machine; tests share a busy one
    open_cases = cases.filter(status__in=["new", "open", "waiting"])
    assert open_cases.count() == cases_demo.OPEN
    assert cases.filter(status="waiting").exists() and cases.filter(status="closed").exists()
    assert len(set(cases.values_list("number", flat=True))) == cases.count()
    assert CaseMessage.objects.in_workspace(demo_ws).filter(kind="note").exists()
    assert CaseMessage.objects.in_workspace(demo_ws).count() > 2 * cases_demo.HISTORY
    complaints = open_cases.filter(kind=CaseTypeKind.COMPLAINT)
    assert complaints.exists()
    flagged = set(
        Contact.objects.in_workspace(demo_ws)
        .filter(open_complaint=True)
        .values_list("pk", flat=True)
    )
    assert flagged == set(complaints.values_list("contact_id", flat=True)) - {None}
    assert Account.objects.in_workspace(demo_ws).filter(open_complaint=True).exists()
    assert cases_demo.seed(workspace=demo_ws, users=_users(demo_ws), rng=random.Random(1)) == {
        "cases": 0
    }


def test_service_demo_runs_the_parts_once(demo_ws):
    assert {"knowledge", "cases", "portal"} <= set(demo.PARTS)
    assert demo.PARTS.index("knowledge") < demo.PARTS.index("portal")  # the portal links articles
    demo.seed_demo(workspace=demo_ws, users=_users(demo_ws))

    def counts():
        return {
            model.__name__: model.objects.in_workspace(demo_ws).count()
            for model in (Case, CaseMessage, Article, PortalSearch, PortalSettings)
        }

    seeded = counts()
    assert seeded["Case"] >= cases_demo.OPEN
    expected = len(knowledge_demo.ARTICLES) + len(knowledge_demo.TRANSLATIONS) + 1
    assert seeded["Article"] == expected
    assert seeded["PortalSearch"] > 0 and seeded["PortalSettings"] == 1
    assert PortalSettings.objects.in_workspace(demo_ws).get().welcome == portal_demo.WELCOME
    # The searches opened the knowledge base's public articles.
    opened = PortalSearch.objects.in_workspace(demo_ws).exclude(opened_article=None)
    assert opened.exists()
    assert not opened.exclude(opened_article__visibility="public").exists()
    # ``make run`` loads the demo once, but a second run adds nothing.
    demo.seed_demo(workspace=demo_ws, users=_users(demo_ws))
    assert counts() == seeded
