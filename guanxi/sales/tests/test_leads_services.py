"""Leads services: capture and validation, scoring rules, assignment rules, the
first-response timer, conversion (with the duplicate check), the e-mail triage action and
the customers' merge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.activities.models import EntryContact, Notification, TimelineEntry
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.models import Account, Contact
from guanxi.customers.tests.factories import ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.sales.models import (
    AssignmentRule,
    Deal,
    Lead,
    LeadStatus,
    RepProfile,
)
from guanxi.sales.services import lead_assignment, lead_conversion, lead_scoring
from guanxi.sales.services import leads as services

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def manager(workspace, team):
    user = UserFactory(workspace=workspace, team=team, role_code="sales_manager")
    team.manager = user
    team.save()
    return user


@pytest.fixture
def rep(workspace, team):
    # Notifications are written in their reader's language: English, to read them here.
    return UserFactory(workspace=workspace, team=team, language="en")


@pytest.fixture
def rep2(workspace, team):
    return UserFactory(workspace=workspace, team=team, language="en")


def make(actor, workspace, **values):
    values.setdefault("name", "张三")
    values.setdefault("phone", "13812345678")
    return services.lead_create(actor=actor, workspace=workspace, **values)


# --- capture ---------------------------------------------------------------------------------


def test_create_normalises_and_fills_search_text(workspace, rep):
    lead = make(rep, workspace, phone="138 1234 5678", email=" Zhang@Example.COM ", company="华为")
    assert lead.phone == "+8613812345678"
    assert lead.email == "zhang@example.com"
    assert "13812345678" in lead.search_text and "华为" in lead.search_text
    assert lead.source == "manual" and lead.status == LeadStatus.NEW
    # Nobody's rule took it: who typed it in keeps it, and the timer runs.
    assert lead.owner == rep
    assert lead.first_response_due_at is not None and lead.first_response_at is None


@pytest.mark.parametrize(
    "values, fields",
    [
        ({"name": "", "phone": "13812345678"}, {"name"}),
        ({"name": "A", "phone": "", "email": ""}, {"phone"}),
        ({"name": "A", "email": "not-an-email"}, {"email"}),
        ({"name": "A", "phone": "12345"}, {"phone"}),
        ({"name": "", "phone": "12345", "email": "x@"}, {"name", "phone", "email"}),
        ({"name": "A", "phone": "13812345678", "employees": "-3"}, {"employees"}),
        ({"name": "A", "phone": "13812345678", "source": "telepathy"}, {"source"}),
    ],
)
def test_bad_input_is_refused_whole(workspace, rep, values, fields):
    with pytest.raises(ApplicationError) as err:
        services.lead_create(actor=rep, workspace=workspace, **values)
    assert set(err.value.fields) == fields
    assert not Lead.objects.across_workspaces().exists()


def test_rights_and_other_workspace(workspace, rep, other_admin):
    technician = UserFactory(workspace=workspace, role_code="technician")
    with pytest.raises(PermissionDenied):
        make(technician, workspace)
    lead = make(rep, workspace)
    with pytest.raises(NotFound):
        services.lead_update(
            actor=other_admin, workspace=other_admin.workspace, lead_id=lead.pk, name="x"
        )
    # A rep sees their own leads only.
    other_rep = UserFactory(workspace=workspace)
    with pytest.raises(NotFound):
        services.lead_update(actor=other_rep, workspace=workspace, lead_id=lead.pk, name="x")
    # Only a manager gives a lead to someone else.
    with pytest.raises(PermissionDenied):
        make(rep, workspace, owner_id=other_rep.pk)


def test_update_status_and_log(workspace, rep):
    lead = make(rep, workspace)
    lead = services.lead_update(actor=rep, workspace=workspace, lead_id=lead.pk, company="腾讯")
    assert "腾讯" in lead.search_text
    with pytest.raises(ApplicationError) as err:
        services.lead_update(actor=rep, workspace=workspace, lead_id=lead.pk, phone="", email="")
    assert "phone" in err.value.fields
    with pytest.raises(ApplicationError):
        services.lead_set_status(
            actor=rep, workspace=workspace, lead_id=lead.pk, status="unqualified"
        )
    services.lead_log_activity(
        actor=rep, workspace=workspace, lead_id=lead.pk, kind="call", body="打了电话"
    )
    lead.refresh_from_db()
    assert lead.first_response_at is not None
    assert lead.status == LeadStatus.WORKING
    entry = TimelineEntry.objects.across_workspaces().get(
        related_object_key="sales.lead", related_object_id=lead.pk
    )
    assert entry.kind == "call" and entry.author == rep
    services.lead_set_status(
        actor=rep, workspace=workspace, lead_id=lead.pk, status="unqualified", reason="没预算"
    )
    lead.refresh_from_db()
    assert lead.status == "unqualified" and lead.unqualified_reason == "没预算"


def test_someone_elses_activity_does_not_stop_the_timer(workspace, rep, manager):
    lead = make(rep, workspace)
    services.lead_log_activity(
        actor=manager, workspace=workspace, lead_id=lead.pk, kind="note", body="看一下"
    )
    lead.refresh_from_db()
    assert lead.first_response_at is None


# --- scoring ---------------------------------------------------------------------------------


def test_scoring_rules_fit_and_engagement(workspace, admin_user, rep):
    for values in (
        {"kind": "fit", "attribute": "industry", "operator": "in", "value": "制造业, 能源", "points": 20},
        {"kind": "fit", "attribute": "employees", "operator": "at_least", "value": "200", "points": 15},
        {"kind": "fit", "attribute": "title", "operator": "contains", "value": "总监,经理", "points": 10},
        {"kind": "fit", "attribute": "source", "operator": "equals", "value": "referral", "points": -5},
        {"kind": "engagement", "attribute": "activities", "operator": "at_least", "value": "2", "points": 7},
    ):  # fmt: skip
        lead_scoring.scoring_rule_create(actor=admin_user, workspace=workspace, **values)
    lead = make(rep, workspace, industry="制造业", employees=500, title="采购总监")
    assert (lead.fit_score, lead.engagement_score, lead.score) == (45, 0, 45)
    for _ in range(2):
        services.lead_log_activity(
            actor=rep, workspace=workspace, lead_id=lead.pk, kind="note", body="跟进"
        )
    lead.refresh_from_db()
    assert (lead.engagement_score, lead.score) == (7, 52)
    explain = lead_scoring.explain(workspace=workspace, lead=lead)
    assert explain["counts"]["activities"] == 2 and len(explain["rules"]) == 4


def test_scoring_rule_validation_and_rights(workspace, admin_user, rep):
    with pytest.raises(ApplicationError) as err:
        lead_scoring.scoring_rule_create(
            actor=admin_user,
            workspace=workspace,
            kind="fit",
            attribute="employees",
            operator="contains",
            value="abc",
            points="x",
        )
    assert {"operator", "value", "points"} <= set(err.value.fields)
    with pytest.raises(PermissionDenied):
        lead_scoring.scoring_rule_create(
            actor=rep,
            workspace=workspace,
            kind="fit",
            attribute="industry",
            operator="equals",
            value="x",
            points=1,
        )


def test_changing_a_rule_rescores_every_lead(
    workspace, admin_user, rep, django_capture_on_commit_callbacks
):
    lead = make(rep, workspace, industry="能源")
    assert lead.score == 0
    with django_capture_on_commit_callbacks(execute=True):
        lead_scoring.scoring_rule_create(
            actor=admin_user,
            workspace=workspace,
            kind="fit",
            attribute="industry",
            operator="equals",
            value="能源",
            points=30,
        )
    lead.refresh_from_db()
    assert lead.score == 30


# --- assignment ------------------------------------------------------------------------------


def rule(admin, workspace, method, reps, **values):
    return lead_assignment.assignment_rule_create(
        actor=admin,
        workspace=workspace,
        name=method,
        method=method,
        rep_ids=[r.pk for r in reps],
        **values,
    )


def web_lead(workspace, **values):
    from django.db import transaction

    values.setdefault("name", "访客")
    values.setdefault("email", f"v{Lead.objects.across_workspaces().count()}@example.com")
    with transaction.atomic():
        return services.create_lead(
            workspace=workspace, actor=None, values=values, source="web_form"
        )


def test_round_robin_takes_turns_and_skips_the_unavailable(workspace, admin_user, rep, rep2):
    third = UserFactory(workspace=workspace)
    rule(admin_user, workspace, "round_robin", [rep, rep2, third])
    owners = [web_lead(workspace).owner for _ in range(4)]
    assert owners == [rep, rep2, third, rep]
    RepProfile.objects.create(workspace=workspace, user=rep2, available=False)
    assert [web_lead(workspace).owner for _ in range(2)] == [third, rep]
    notes = Notification.objects.across_workspaces().filter(user=rep)
    assert notes.count() == 3 and "New lead" in notes.first().title


def test_territory_load_and_skill(workspace, admin_user, rep, rep2):
    RepProfile.objects.create(workspace=workspace, user=rep, territories=["华东"], skills=["能源"])
    RepProfile.objects.create(
        workspace=workspace, user=rep2, territories=["华南", "广东"], max_open_leads=1
    )
    rule(admin_user, workspace, "territory", [rep, rep2], order=1)
    assert web_lead(workspace, region="华东").owner == rep
    assert web_lead(workspace, province="广东").owner == rep2
    # rep2 is full (max 1 open lead): the next 华南 lead finds nobody and stays unassigned.
    lead = web_lead(workspace, region="华南")
    assert lead.owner is None and lead.first_response_due_at is None
    AssignmentRule.objects.across_workspaces().all().delete()
    rule(admin_user, workspace, "skill", [rep, rep2], order=1)
    rule(admin_user, workspace, "load", [rep, rep2], order=2, conditions={"source": ["web_form"]})
    assert web_lead(workspace, industry="能源").owner == rep  # skill
    # Load: rep2 is at capacity, so rep (though busier) is the only one.
    assert web_lead(workspace, industry="零售").owner == rep
    RepProfile.objects.across_workspaces().filter(user=rep2).update(max_open_leads=None)
    assert web_lead(workspace, industry="零售").owner == rep2  # fewest open


def test_conditions_choose_the_rule(workspace, admin_user, rep, rep2):
    rule(admin_user, workspace, "load", [rep], order=1, conditions={"campaign": ["展会"]})
    rule(admin_user, workspace, "load", [rep2], order=2)
    assert web_lead(workspace, campaign="展会").owner == rep
    assert web_lead(workspace, campaign="官网").owner == rep2


def test_rule_validation(workspace, admin_user, other_admin):
    with pytest.raises(ApplicationError) as err:
        lead_assignment.assignment_rule_create(
            actor=admin_user,
            workspace=workspace,
            name="",
            method="coin_toss",
            rep_ids=[other_admin.pk],
            conditions={"colour": ["red"]},
        )
    assert {"name", "method", "rep_ids", "conditions"} <= set(err.value.fields)


# --- the first-response timer ----------------------------------------------------------------


def test_overdue_first_response_notifies_owner_and_manager_once(workspace, rep, manager):
    lead = make(rep, workspace)
    later = lead.first_response_due_at + dt.timedelta(minutes=1)
    assert services.leads_notify_overdue(now=later) == 1
    assert services.leads_notify_overdue(now=later) == 0
    assert (
        Notification.objects.across_workspaces().filter(user=rep, title__contains="overdue").count()
        == 1
    )
    assert Notification.objects.across_workspaces().filter(user=manager).count() == 1
    # Answered leads are not late.
    other = make(rep, workspace, phone="13912345678")
    services.lead_log_activity(
        actor=rep, workspace=workspace, lead_id=other.pk, kind="call", body="ok"
    )
    assert services.leads_notify_overdue(now=later + dt.timedelta(days=1)) == 0


# --- conversion ------------------------------------------------------------------------------


def test_convert_makes_account_contact_and_deal_and_moves_entries(workspace, rep):
    lead = make(rep, workspace, company="上海某某机械有限公司", email="li@example.com", name="李四")
    services.lead_log_activity(
        actor=rep, workspace=workspace, lead_id=lead.pk, kind="call", body="聊了"
    )
    lead = lead_conversion.lead_convert(
        actor=rep, workspace=workspace, lead_id=lead.pk, amount="120000", deal_name="机床"
    )
    assert lead.status == LeadStatus.CONVERTED and lead.converted_at
    account, contact, deal = lead.account, lead.contact, lead.deal
    assert account.name == "上海某某机械有限公司" and account.owner == rep
    assert contact.account_id == account.pk and contact.mobile == "+8613812345678"
    assert deal.name == "机床" and deal.amount == Decimal("120000") and deal.lead_id == lead.pk
    entry = TimelineEntry.objects.across_workspaces().get(
        related_object_key="sales.lead", related_object_id=lead.pk
    )
    assert entry.account_id == account.pk
    assert EntryContact.objects.across_workspaces().filter(entry=entry, contact=contact).exists()
    with pytest.raises(Conflict):
        lead_conversion.lead_convert(actor=rep, workspace=workspace, lead_id=lead.pk)
    with pytest.raises(ApplicationError):
        services.lead_update(actor=rep, workspace=workspace, lead_id=lead.pk, name="x")


def test_convert_offers_and_uses_existing_customers(workspace, rep):
    existing = ContactFactory(workspace=workspace, owner=rep, name="王五", mobile="+8613712345678")
    lead = make(rep, workspace, name="王五", phone="13712345678")
    matches = lead_conversion.conversion_matches(actor=rep, workspace=workspace, lead=lead)
    assert [m[0].pk for m in matches["contacts"]] == [existing.pk]
    contacts = Contact.objects.across_workspaces().count()
    lead = lead_conversion.lead_convert(
        actor=rep, workspace=workspace, lead_id=lead.pk, contact_id=existing.pk, create_deal=False
    )
    assert lead.contact_id == existing.pk and lead.deal is None
    assert Contact.objects.across_workspaces().count() == contacts


def test_failed_conversion_writes_nothing(workspace, rep, other_admin):
    lead = make(rep, workspace, company="某公司")
    foreign = ContactFactory(workspace=other_admin.workspace)
    with pytest.raises(NotFound):
        lead_conversion.lead_convert(
            actor=rep, workspace=workspace, lead_id=lead.pk, contact_id=foreign.pk
        )
    with pytest.raises(ApplicationError):
        lead_conversion.lead_convert(actor=rep, workspace=workspace, lead_id=lead.pk, amount="-5")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    assert not Account.objects.across_workspaces().filter(workspace=workspace).exists()
    assert not Deal.objects.across_workspaces().exists()


# --- other capture paths and hooks -----------------------------------------------------------


def test_triage_action_turns_an_email_into_a_lead(workspace, rep):
    from guanxi.activities.models import EmailMessage
    from guanxi.sales.leads_ui import lead_from_email

    email = EmailMessage(
        workspace=workspace,
        from_address="buyer@factory.cn",
        from_name="赵六",
        subject="询价",
        body_text="请报价 100 台",
    )
    key, lead_id = lead_from_email(actor=rep, workspace=workspace, email=email)
    lead = Lead.objects.across_workspaces().get(pk=lead_id)
    assert key == "sales.lead"
    assert (lead.name, lead.email, lead.source) == ("赵六", "buyer@factory.cn", "email")
    assert "请报价" in lead.message


def test_contact_merge_moves_lead_links(workspace, rep):
    from guanxi.sales.leads_ui import _move_contact_leads

    a = ContactFactory(workspace=workspace, owner=rep)
    b = ContactFactory(workspace=workspace, owner=rep)
    lead = make(rep, workspace)
    Lead.objects.across_workspaces().filter(pk=lead.pk).update(contact=b)
    assert _move_contact_leads(workspace=workspace, survivor=a, merged=b) == 1
    lead.refresh_from_db()
    assert lead.contact_id == a.pk


def test_manager_assigns_and_owner_hands_back(workspace, rep, rep2, manager):
    lead = web_lead(workspace)
    assert lead.owner is None
    # The pool is seen by every rep; one takes a lead from it, the manager gives it on.
    services.lead_assign(actor=rep, workspace=workspace, lead_id=lead.pk, owner_id=rep.pk)
    lead.refresh_from_db()
    assert lead.owner == rep
    services.lead_assign(actor=manager, workspace=workspace, lead_id=lead.pk, owner_id=rep2.pk)
    lead.refresh_from_db()
    assert lead.owner == rep2 and lead.first_response_due_at > timezone.now()
    # A rep sees only their own leads: someone else's is not there for them.
    with pytest.raises(NotFound):
        services.lead_assign(actor=rep, workspace=workspace, lead_id=lead.pk, owner_id=rep.pk)
    services.lead_assign(actor=rep2, workspace=workspace, lead_id=lead.pk, owner_id=None)
    lead.refresh_from_db()
    assert lead.owner is None and lead.first_response_due_at is None


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_round_robin_is_race_safe(workspace, admin_user):
    """Leads arriving at the same time from several workers still take turns: the rule row
    is locked, so no rep gets two in a row and the split is even."""
    import threading

    from django.db import connection, transaction

    reps = [UserFactory(workspace=workspace) for _ in range(2)]
    rule(admin_user, workspace, "round_robin", reps)
    barrier = threading.Barrier(4)
    errors = []

    def worker(n):
        try:
            barrier.wait()
            for i in range(5):
                with transaction.atomic():
                    services.create_lead(
                        workspace=workspace,
                        actor=None,
                        values={"name": f"w{n}-{i}", "email": f"w{n}-{i}@example.com"},
                        source="web_form",
                    )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    owners = list(
        Lead.objects.in_workspace(workspace)
        .order_by("assigned_at", "id")
        .values_list("owner_id", flat=True)
    )
    assert len(owners) == 20
    assert owners.count(reps[0].pk) == owners.count(reps[1].pk) == 10


def test_a_persons_leads_are_exported_and_erased_with_them(workspace, rep):
    from guanxi.sales.leads_ui import erase_leads, leads_personal_data

    person = ContactFactory(workspace=workspace, owner=rep, email="me@example.com", mobile="")
    mine = make(rep, workspace, phone="", email="me@example.com", message="我的留言")
    other = make(rep, workspace, phone="13912345678", email="")
    exported = leads_personal_data(workspace.pk, person)
    assert [row["id"] for row in exported["leads"]] == [mine.pk]
    assert erase_leads(workspace.pk, person) == {"leads": 1}
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.email, mine.message, mine.search_text) == ("", "", "")
    assert other.phone == "+8613912345678"
