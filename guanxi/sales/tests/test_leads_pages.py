"""The leads pages: list (filters, search, the timer, a fixed query count at two sizes),
new lead (by hand, from a call), the lead page (score factors, timer, log, status,
assign), convert (duplicate check, use existing or create new), scoring and assignment
admin; another workspace's leads are 404, users without the right 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers.tests.factories import ContactFactory
from guanxi.platform.tests.factories import UserFactory
from guanxi.sales.models import AssignmentRule, Lead, LeadScoringRule, RepProfile
from guanxi.sales.services import leads as services

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace)


def add_leads(workspace, owner, n, start=0):
    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(
            workspace=workspace,
            name=f"客户{start + i}",
            company=f"公司{start + i}",
            email=f"l{start + i}@example.com",
            owner=owner,
            assigned_at=now,
            first_response_due_at=now + dt.timedelta(minutes=(-30 if i % 2 else 30)),
            search_text=f"客户{start + i} 公司{start + i}",
        )
        for i in range(n)
    )


def test_list_filters_search_timer_and_fixed_queries(workspace, rep):
    client = client_for(rep)
    add_leads(workspace, rep, 3)
    client.get("/sales/leads/")  # warm caches (navigation, content types)
    with CaptureQueriesContext(connection) as small:
        response = client.get("/sales/leads/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "客户0" in html and "lead-timer overdue" in html and "left" in html
    add_leads(workspace, rep, 40, start=3)
    with CaptureQueriesContext(connection) as large:
        response = client.get("/sales/leads/")
    assert len(small) > 0 and len(large) == len(small)
    html = client.get("/sales/leads/", {"q": "客户7"}).content.decode()
    assert "客户7" in html and "客户8<" not in html
    html = client.get("/sales/leads/", {"f_overdue": "yes"}).content.decode()
    assert "客户1<" in html and "客户2<" not in html


def test_new_lead_and_from_a_call(workspace, rep):
    client = client_for(rep)
    page = client.get("/sales/leads/new/", {"phone": "13812345678"}).content.decode()
    assert 'value="13812345678"' in page and 'value="call" selected' in page
    response = client.post("/sales/leads/new/", {"name": "", "phone": "123"})
    assert response.status_code == 200
    assert "Enter the lead" in response.content.decode()
    response = client.post(
        "/sales/leads/new/", {"name": "来电客户", "phone": "13812345678", "source": "call"}
    )
    assert response.status_code == 302
    lead = Lead.objects.in_workspace(workspace).get()
    assert (lead.source, lead.owner) == ("call", rep)


def test_lead_page_score_timer_log_and_status(workspace, admin_user, rep):
    LeadScoringRule.objects.create(
        workspace=workspace, kind="fit", attribute="industry", operator="equals",
        value="能源", points=25,
    )  # fmt: skip
    lead = services.lead_create(
        actor=rep, workspace=workspace, name="钱九", email="q@x.cn", industry="能源"
    )
    client = client_for(rep)
    client.get(f"/sales/leads/{lead.pk}/")
    with CaptureQueriesContext(connection) as few:
        html = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert "25" in html and "Industry is 能源" in html and "left" in html
    assert "too little won and lost history" in html
    for i in range(15):
        services.lead_log_activity(
            actor=admin_user, workspace=workspace, lead_id=lead.pk, kind="note",
            body=f"备注{i}",
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        html = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert "备注14" in html
    assert 0 < len(many) == len(few)
    response = client.post(f"/sales/leads/{lead.pk}/log/", {"kind": "call", "body": "第一次电话"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.first_response_at is not None and lead.status == "working"
    html = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert "第一次电话" in html and "Answered" not in html  # the page shows the time
    client.post(f"/sales/leads/{lead.pk}/status/", {"status": "qualified"})
    lead.refresh_from_db()
    assert lead.status == "qualified"
    # Editing.
    response = client.post(f"/sales/leads/{lead.pk}/edit/", {"name": "钱九", "email": "bad"})
    assert response.status_code == 200 and "valid e-mail" in response.content.decode()
    response = client.post(
        f"/sales/leads/{lead.pk}/edit/", {"name": "钱九", "email": "q@x.cn", "company": "钱氏"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.company == "钱氏"


def test_convert_page_offers_existing_contact(workspace, rep):
    existing = ContactFactory(workspace=workspace, owner=rep, name="孙十", email="sun@x.cn")
    lead = services.lead_create(actor=rep, workspace=workspace, name="孙十", email="sun@x.cn")
    client = client_for(rep)
    html = client.get(f"/sales/leads/{lead.pk}/convert/").content.decode()
    assert f'value="{existing.pk}"' in html and "Use existing" in html
    response = client.post(
        f"/sales/leads/{lead.pk}/convert/",
        {"contact_choice": str(existing.pk), "create_deal": "on", "deal_name": "第一单"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lead.refresh_from_db()
    assert lead.contact_id == existing.pk and lead.deal.name == "第一单"
    # Converted: the convert page sends the user back with the message.
    response = client.get(f"/sales/leads/{lead.pk}/convert/")
    assert response.status_code == 302


def test_scoring_and_assignment_admin(workspace, admin_user, rep):
    client = client_for(admin_user)
    assert "Not enough history" in client.get("/sales/lead-scoring/").content.decode()
    response = client.post(
        "/sales/lead-scoring/",
        {
            "kind": "fit",
            "attribute": "province",
            "operator": "in",
            "value": "江苏,浙江",
            "points": "10",
        },
    )
    assert response.status_code == 302
    rule = LeadScoringRule.objects.in_workspace(workspace).get()
    client.post("/sales/lead-scoring/", {"op": "toggle", "rule_id": rule.pk})
    rule.refresh_from_db()
    assert not rule.active
    response = client.post("/sales/lead-scoring/", {"op": "retrain"}, follow=True)
    assert "Not enough history" in response.content.decode()

    response = client.post(
        "/sales/lead-assignment/",
        {
            "name": "华东",
            "method": "territory",
            "order": "1",
            "reps": [str(rep.pk)],
            "region": "华东",
        },
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.in_workspace(workspace).get()
    assert rule.conditions == {"region": ["华东"]}
    client.post(
        "/sales/lead-assignment/",
        {"op": "profile", "user_id": rep.pk, "territories": "华东, 上海", "max_open_leads": "5"},
    )
    profile = RepProfile.objects.in_workspace(workspace).get(user=rep)
    assert profile.territories == ["华东", "上海"] and profile.max_open_leads == 5
    assert not profile.available  # the box was not ticked
    html = client.get("/sales/lead-assignment/").content.decode()
    assert "华东" in html and rep.full_name in html


def test_other_workspace_and_rights(workspace, rep, other_admin):
    lead = services.lead_create(actor=rep, workspace=workspace, name="A", email="a@x.cn")
    outsider = client_for(other_admin)
    for url in (
        f"/sales/leads/{lead.pk}/",
        f"/sales/leads/{lead.pk}/edit/",
        f"/sales/leads/{lead.pk}/convert/",
    ):
        assert outsider.get(url).status_code == 404, url
    assert (
        outsider.post(f"/sales/leads/{lead.pk}/log/", {"kind": "note", "body": "x"}).status_code
        == 404
    )
    assert "A<" not in outsider.get("/sales/leads/").content.decode()
    technician = client_for(UserFactory(workspace=workspace, role_code="technician"))
    assert technician.get("/sales/leads/").status_code == 403
    assert technician.get("/sales/leads/new/").status_code == 403
    assert technician.post("/sales/lead-scoring/", {"op": "retrain"}).status_code == 403
    # A rep reads the configuration but may not change it.
    repc = client_for(rep)
    assert repc.get("/sales/lead-assignment/").status_code == 200
    response = repc.post("/sales/lead-assignment/", {"name": "x", "method": "load"})
    assert response.status_code == 403
    assert not AssignmentRule.objects.in_workspace(workspace).exists()
    assert repc.post(f"/sales/leads/{lead.pk}/delete/").status_code == 403
    # Another workspace's administrator sees none of this workspace's configuration.
    LeadScoringRule.objects.create(
        workspace=workspace, kind="fit", attribute="industry", operator="equals",
        value="秘密行业", points=5,
    )  # fmt: skip
    assert "秘密行业" not in outsider.get("/sales/lead-scoring/").content.decode()
    assert rep.full_name not in outsider.get("/sales/lead-assignment/").content.decode()
    response = outsider.post(
        "/sales/lead-scoring/",
        {"op": "delete", "rule_id": LeadScoringRule.objects.in_workspace(workspace).get().pk},
    )
    assert LeadScoringRule.objects.in_workspace(workspace).count() == 1
