"""The cases pages: the agent queue (every filter, the order, keyset pages, a fixed number of
queries as data grows, bad input), the case page (header with SLA colouring, conversation,
reply and note by htmx, status buttons, assignment, a stale form refused), new case and
change, the picker, types and categories, the 360° section, badge and timeline; another
workspace's cases are 404, users without the right 403."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.activities.models import TimelineEntry
from guanxi.activities.timeline_display import system_text
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import Role
from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import Case, CaseCategory, CaseMessage, CaseType, Queue
from guanxi.service.services import cases as services

from .cases_support import *  # noqa: F403
from .cases_support import bulk_cases, case_type, make_case

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the agent queue -------------------------------------------------------------------------


def test_queue_orders_by_priority_then_due_then_id(agent, service_ws):
    now = timezone.now()
    bulk_cases(service_ws, 1, start=0, priority=3, resolution_due_at=now + dt.timedelta(hours=1))
    bulk_cases(service_ws, 1, start=1, priority=1, resolution_due_at=None)
    bulk_cases(service_ws, 1, start=2, priority=1, resolution_due_at=now + dt.timedelta(days=2))
    bulk_cases(service_ws, 1, start=3, priority=1, resolution_due_at=now + dt.timedelta(days=1))
    bulk_cases(service_ws, 1, start=4, priority=3, resolution_due_at=None)
    bulk_cases(service_ws, 1, start=5, status="closed", priority=1)
    page = html(client_for(agent).get("/service/cases/"))
    order = [page.index(f"批量工单{i}<") for i in (3, 2, 1, 0, 4)]
    assert order == sorted(order)
    assert "批量工单5<" not in page  # closed: not in the open set
    assert "5 of" in page and "many" not in page.split("pager")[-1]


def test_queue_pages_by_keyset(agent, service_ws):
    bulk_cases(service_ws, 60)
    client = client_for(agent)
    first = html(client.get("/service/cases/"))
    assert "1–50 of" in first and "many" in first
    assert "批量工单49<" in first and "批量工单50<" not in first
    next_href = first.split('class="btn btn-small" href="?')[-1].split('"')[0]
    second = html(client.get("/service/cases/?" + next_href.replace("&amp;", "&")))
    assert "51–60 of" in second and "批量工单50<" in second and "批量工单49<" not in second


@pytest.mark.parametrize("q", ["", "批量工单"])
def test_queue_keyset_crosses_priorities_and_null_due(agent, service_ws, q):
    """Every case once, in order, whatever the page size (a search reads the page in one
    query, the open set in index range scans on SQLite)."""
    from guanxi.service.selectors import cases as selectors

    now = timezone.now()
    for i in range(12):
        due = None if i % 3 == 0 else now + dt.timedelta(hours=i % 5)
        bulk_cases(service_ws, 1, start=i, priority=1 + i % 4, resolution_due_at=due)
    seen, cursor = [], None
    while True:
        page = selectors.queue_page(
            workspace=service_ws,
            actor=agent,
            filters=selectors.QueueFilters(q=q),
            cursor=cursor,
            limit=5,
        )
        seen.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    keys = [
        (c.priority, c.resolution_due_at is None, c.resolution_due_at or now, c.pk) for c in seen
    ]
    assert keys == sorted(keys) and len({c.pk for c in seen}) == 12


@pytest.mark.parametrize("limit", [1, 2_000])
def test_queue_search_by_id_set_or_in_order(agent, service_ws, account, monkeypatch, limit):
    """A search with few matches hands the page their ids (PostgreSQL); one with more than
    the limit walks the open set in order, testing each case: the same cases either way."""
    from guanxi.service.selectors import cases as selectors

    monkeypatch.setattr(selectors, "SEARCH_SET_LIMIT", limit)
    bulk_cases(service_ws, 4)
    bulk_cases(service_ws, 1, start=4, status="closed")
    make_case(agent, account=account, subject="空调不制冷")

    def found(q: str) -> set[str]:
        page = selectors.queue_page(
            workspace=service_ws, actor=agent, filters=selectors.QueueFilters(q=q)
        )
        return {c.subject for c in page.items}

    assert found("批量工单") == {f"批量工单{i}" for i in range(4)}
    assert found("批量工单3") == {"批量工单3"}
    assert found("不制冷") == {"空调不制冷"}
    assert found("上海星河") == {"空调不制冷"}  # the customer's name
    assert found("没有这个词") == set()


def test_queue_filters(agent, other_agent, service_ws, queue, account):
    now = timezone.now()
    complaint = case_type(service_ws, "complaint")
    parent = CaseCategory.objects.create(workspace=service_ws, name="硬件")
    child = CaseCategory.objects.create(workspace=service_ws, name="打印机", parent=parent)
    other_queue = Queue.objects.create(workspace=service_ws, name="二线")
    bulk_cases(service_ws, 1, start=0, assignee=agent, queue=queue)
    bulk_cases(service_ws, 1, start=1, assignee=other_agent, queue=other_queue)
    bulk_cases(service_ws, 1, start=2, priority=1, category=child)
    bulk_cases(service_ws, 1, start=3, case_type=complaint, kind="complaint")
    bulk_cases(service_ws, 1, start=4, resolution_due_at=now - dt.timedelta(hours=1))
    bulk_cases(service_ws, 1, start=5, resolution_due_at=now + dt.timedelta(hours=1))
    bulk_cases(service_ws, 1, start=6, status="waiting")
    bulk_cases(service_ws, 1, start=7, status="resolved")
    make_case(agent, account=account, subject="空调不制冷")
    client = client_for(agent)

    def shown(**params) -> set[int]:
        page = html(client.get("/service/cases/", params))
        return {i for i in range(8) if f"批量工单{i}<" in page} | (
            {99} if "空调不制冷" in page else set()
        )

    assert shown() == {0, 1, 2, 3, 4, 5, 6, 99}
    assert shown(assignee="me") == {0}
    assert shown(assignee="unassigned") == {2, 3, 4, 5, 6, 99}
    assert shown(assignee=str(other_agent.pk)) == {1}
    assert shown(queue=str(queue.pk)) == {0}
    assert shown(queue="none") == {2, 3, 4, 5, 6, 99}
    assert shown(priority="1") == {2}
    assert shown(type=str(complaint.pk)) == {3}
    assert shown(category=str(parent.pk)) == {2}  # a category takes its children along
    assert shown(category=str(child.pk)) == {2}
    assert shown(sla="overdue") == {4}
    assert shown(sla="due_soon") == {5}
    assert shown(status="waiting") == {6}
    assert shown(status="resolved") == {7}
    assert shown(status="all") == {0, 1, 2, 3, 4, 5, 6, 7, 99}
    assert shown(q="上海星河") == {99}  # the customer's name
    assert shown(q="空调") == {99}
    assert shown(q="不制冷") == {99}  # 3+ characters: the text index
    assert shown(q="星河") == {99}  # two characters of the customer: the customers' search
    assert shown(q="批量工单3") == {3}
    assert shown(q="没有这个词") == set()
    assert shown(q="CS-2000-000008") == {7}  # a number finds it whatever the status
    assert shown(q="cs2000000003") == {2}


def test_queue_marks_overdue_and_due_soon(agent, service_ws):
    now = timezone.now()
    bulk_cases(service_ws, 1, start=0, resolution_due_at=now - dt.timedelta(minutes=5))
    bulk_cases(service_ws, 1, start=1, resolution_due_at=now + dt.timedelta(hours=2))
    page = html(client_for(agent).get("/service/cases/"))
    assert "case-row sla-overdue" in page and "case-row sla-due_soon" in page


@pytest.mark.parametrize(
    "params",
    [
        {"priority": "9"},
        {"queue": "abc"},
        {"sla": "late"},
        {"status": "nonsense"},
        {"cursor": "not-a-cursor"},
        {"cursor": "WzEsMl0"},
        {"assignee": "-3"},
    ],
)
def test_queue_bad_input_is_a_message_not_an_error(agent, service_ws, params):
    bulk_cases(service_ws, 2)
    page = html(client_for(agent).get("/service/cases/", params))
    assert 'class="notice error"' in page and "批量工单0<" in page


def test_queue_runs_a_fixed_number_of_queries(agent, service_ws, queue):
    client = client_for(agent)
    bulk_cases(service_ws, 3, assignee=agent, queue=queue)
    client.get("/service/cases/")  # warm caches (navigation, content types)
    counts = {}
    for label, params in (
        ("open", {}),
        ("queue", {"queue": str(queue.pk)}),
        ("me", {"assignee": "me"}),
        ("search", {"q": "批量"}),
    ):
        with CaptureQueriesContext(connection) as small:
            html(client.get("/service/cases/", params))
        counts[label] = len(small)
    bulk_cases(service_ws, 120, start=3, assignee=agent, queue=queue)
    bulk_cases(service_ws, 40, start=200, priority=1, resolution_due_at=None)
    for label, params in (
        ("open", {}),
        ("queue", {"queue": str(queue.pk)}),
        ("me", {"assignee": "me"}),
        ("search", {"q": "批量"}),
    ):
        with CaptureQueriesContext(connection) as large:
            html(client.get("/service/cases/", params))
        assert len(large) <= counts[label], (label, [q["sql"] for q in large])
    # At most one query per (priority, due set or not) on top of the page's own.
    assert max(counts.values()) <= min(counts.values()) + 8
    with CaptureQueriesContext(connection) as htmx:
        response = client.get("/service/cases/", {"priority": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert len(htmx) <= counts["open"]


def test_queue_shows_only_visible_cases(agent, other_admin, service_ws):
    bulk_cases(service_ws, 1)
    elsewhere = make_case(other_admin, subject="别家的工单")
    page = html(client_for(agent).get("/service/cases/", {"q": elsewhere.number}))
    assert "别家的工单" not in page
    page = html(client_for(agent).get("/service/cases/", {"status": "all"}))
    assert "别家的工单" not in page


# --- the case page ---------------------------------------------------------------------------


def test_case_page_shows_header_conversation_and_history(agent, account, contact, queue):
    case = make_case(
        agent,
        account=account,
        contact=contact,
        description="打印机卡纸",
        assignee=agent.pk,
        queue=queue.pk,
        priority=1,
    )
    Case.objects.in_workspace(agent.workspace).filter(pk=case.pk).update(
        resolution_due_at=timezone.now() - dt.timedelta(hours=1),
        response_due_at=timezone.now() + dt.timedelta(hours=1),
    )
    services.case_reply(actor=agent, workspace=agent.workspace, case_id=case.pk, body="马上处理")
    services.case_reply(
        actor=agent, workspace=agent.workspace, case_id=case.pk, body="内部备注", internal=True
    )
    client = client_for(agent)
    client.get(f"/service/cases/{case.pk}/")
    with CaptureQueriesContext(connection) as queries:
        page = html(client.get(f"/service/cases/{case.pk}/"))
    assert case.number in page and "prio prio-1" in page
    assert "sla-time overdue" in page and "Overdue" in page
    assert f"/customers/accounts/{account.pk}/" in page or "上海星河贸易有限公司" in page
    assert "打印机卡纸" in page and "马上处理" in page and "内部备注" in page
    assert "msg msg-note" in page and "msg msg-out" in page and "msg msg-in" in page
    assert "Wait on the customer" in page and "Resolve" in page
    assert "Opened" in page and "Status changed" in page
    # The other parts' panels load themselves after the page.
    assert f"/service/cases/{case.pk}/dispatch/" in page
    assert f"/service/surveys/case/{case.pk}/" in page and "/service/kb/suggest/" in page
    first = len(queries)
    for i in range(10):
        services.case_reply(
            actor=agent, workspace=agent.workspace, case_id=case.pk, body=f"第{i}次"
        )
    with CaptureQueriesContext(connection) as queries:
        html(client.get(f"/service/cases/{case.pk}/"))
    assert len(queries) == first


def test_reply_and_note_by_htmx(agent):
    case = make_case(agent)
    client = client_for(agent)
    response = client.post(
        f"/service/cases/{case.pk}/reply/",
        {"body": "您好，我们已收到", "lock_version": case.lock_version},
        HTTP_HX_REQUEST="true",
    )
    page = html(response)
    assert "<html" not in page and "您好，我们已收到" in page
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "success"
    case.refresh_from_db()
    assert case.status == "open" and case.first_response_at is not None
    response = client.post(
        f"/service/cases/{case.pk}/reply/",
        {"body": "客户脾气急", "internal": "on", "lock_version": case.lock_version},
        HTTP_HX_REQUEST="true",
    )
    assert "客户脾气急" in html(response)
    note = CaseMessage.objects.in_workspace(agent.workspace).get(body="客户脾气急")
    assert note.kind == "note"
    # Empty: an error toast, nothing written.
    response = client.post(
        f"/service/cases/{case.pk}/reply/", {"body": " "}, HTTP_HX_REQUEST="true"
    )
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "error"


def test_status_buttons_and_a_stale_form(agent, other_agent):
    case = make_case(agent)
    client = client_for(agent)
    stale = case.lock_version
    response = client.post(
        f"/service/cases/{case.pk}/status/",
        {"status": "open", "lock_version": stale},
        HTTP_HX_REQUEST="true",
    )
    assert "Wait on the customer" in html(response)
    # The same old form again (another tab): refused, nothing changes.
    response = client.post(
        f"/service/cases/{case.pk}/status/",
        {"status": "cancelled", "lock_version": stale},
        HTTP_HX_REQUEST="true",
    )
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast["level"] == "error" and "changed" in toast["message"]
    case.refresh_from_db()
    assert case.status == "open"
    # Resolving needs the resolution; without htmx it redirects back.
    response = client.post(
        f"/service/cases/{case.pk}/status/",
        {"status": "resolved", "resolution": "", "lock_version": case.lock_version},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "open"
    client.post(
        f"/service/cases/{case.pk}/status/",
        {"status": "resolved", "resolution": "重装驱动", "lock_version": case.lock_version},
    )
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolution == "重装驱动"
    page = html(client.get(f"/service/cases/{case.pk}/"))
    assert "Reopen" in page and "Close" in page and "Wait on the customer" not in page


def test_assign_and_take(agent, other_agent, queue):
    case = make_case(agent)
    client = client_for(agent)
    client.post(
        f"/service/cases/{case.pk}/assign/",
        {"assignee": other_agent.pk, "queue": queue.pk, "lock_version": case.lock_version},
    )
    case.refresh_from_db()
    assert case.assignee == other_agent and case.queue == queue
    client.post(
        f"/service/cases/{case.pk}/assign/",
        {"take": "1", "queue": queue.pk, "lock_version": case.lock_version},
    )
    case.refresh_from_db()
    assert case.assignee == agent and case.queue == queue


def test_new_case_from_the_phone(agent, account, contact):
    client = client_for(agent)
    page = html(client.get("/service/cases/new/", {"contact": contact.pk, "phone": "13800000000"}))
    assert f'<option value="{contact.pk}" selected>王芳</option>' in page
    assert 'value="13800000000"' in page
    response = client.post("/service/cases/new/", {"subject": "", "priority": "3"})
    page = html(response)
    assert "Choose the type of case." in page and "Say in a few words" in page
    assert not Case.objects.in_workspace(agent.workspace).exists()
    response = client.post(
        "/service/cases/new/",
        {
            "contact": contact.pk,
            "case_type": case_type(agent.workspace, "repair").pk,
            "priority": "2",
            "subject": "热水器漏水",
            "description": "客户来电说热水器漏水",
            "assignee": "me",
        },
    )
    case = Case.objects.in_workspace(agent.workspace).get()
    assert response.status_code == 302 and response["Location"] == f"/service/cases/{case.pk}/"
    assert case.account == account and case.assignee == agent and case.channel == "phone"
    assert case.kind == "repair" and case.priority == 2


def test_customer_picker(agent, account, contact):
    client = client_for(agent)
    page = html(client.get("/service/cases/customers/", {"kind": "contact", "q": "王芳"}))
    assert f'value="{contact.pk}"' in page
    page = html(client.get("/service/cases/customers/", {"kind": "account", "q": "星河"}))
    assert f'value="{account.pk}"' in page
    page = html(client.get("/service/cases/customers/", {"kind": "order", "q": "zzz"}))
    assert "Nothing found" in page


def test_edit_page_and_a_stale_edit(agent, other_agent):
    case = make_case(agent)
    client = client_for(agent)
    page = html(client.get(f"/service/cases/{case.pk}/edit/"))
    assert 'name="lock_version"' in page and "打印机不出纸" in page
    services.case_update(
        actor=other_agent,
        workspace=agent.workspace,
        case_id=case.pk,
        changes={"priority": 1},
        lock_version=case.lock_version,
    )
    form = {
        "case_type": case.case_type_id,
        "priority": "4",
        "subject": "改后的标题",
        "lock_version": case.lock_version,
    }
    page = html(client.post(f"/service/cases/{case.pk}/edit/", form))
    assert "changed case" in page or "has changed" in page
    case.refresh_from_db()
    assert case.subject == "打印机不出纸" and case.priority == 1
    form["lock_version"] = case.lock_version
    response = client.post(f"/service/cases/{case.pk}/edit/", form)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.subject == "改后的标题" and case.priority == 4


# --- types and categories --------------------------------------------------------------------


def test_types_page(admin_user, agent, queue):
    client = client_for(admin_user)
    page = html(client.get("/service/case-types/"))
    assert "Add a case type" in page
    client.post(
        "/service/case-types/",
        {"op": "type", "type-name": "安装预约", "type-kind": "request", "type-active": "on"},
    )
    row = CaseType.objects.in_workspace(admin_user.workspace).get(name="安装预约")
    client.post(
        "/service/case-types/",
        {"op": "category", "cat-name": "安装", "cat-queue": queue.pk, "cat-active": "on"},
    )
    category = CaseCategory.objects.in_workspace(admin_user.workspace).get(name="安装")
    assert category.queue == queue
    client.post(
        f"/service/case-types/{row.pk}/",
        {"name": "安装预约", "kind": "request", "position": "5"},
    )
    row.refresh_from_db()
    assert not row.active and row.position == 5
    client.post(f"/service/case-categories/{category.pk}/", {"name": "上门安装", "active": "on"})
    category.refresh_from_db()
    assert category.name == "上门安装" and category.queue is None
    # An agent reads the types but does not get the forms.
    page = html(client_for(agent).get("/service/case-types/"))
    assert "安装预约" in page and "Add a case type" not in page
    assert client_for(agent).get(f"/service/case-types/{row.pk}/").status_code == 403


# --- the customer's pages --------------------------------------------------------------------


def test_360_section_badge_and_timeline(agent, admin_user, account, contact):
    complaint = make_case(agent, kind="complaint", account=account, subject="送货太慢")
    make_case(agent, account=account, subject="发票抬头错了")
    client = client_for(admin_user)
    page = html(client.get(f"/customers/accounts/{account.pk}/"))
    assert "Open complaint" in page
    panel_url = f"/service/customers/account/{account.pk}/cases/"
    assert panel_url in page  # the section loads after the page
    panel = html(client.get(panel_url))
    assert "送货太慢" in panel and "发票抬头错了" in panel
    assert f"/service/cases/new/?account={account.pk}" in panel
    entry = TimelineEntry.objects.in_workspace(agent.workspace).get(
        related_object_id=complaint.pk, subtype="case_opened"
    )
    assert system_text(entry) == f"Complaint {complaint.number} filed: 送货太慢"
    services.case_change_status(
        actor=agent, workspace=agent.workspace, case_id=complaint.pk, status="cancelled"
    )
    page = html(client.get(f"/customers/accounts/{account.pk}/"))
    assert "Open complaint" not in page
    page = html(client.get(f"/customers/contacts/{contact.pk}/"))
    assert f"/service/customers/contact/{contact.pk}/cases/" in page


def test_360_panels_refused_across_workspaces_and_without_the_right(
    agent, other_admin, account, service_ws
):
    theirs = AccountFactory(workspace=other_admin.workspace, name="别家公司")
    client = client_for(agent)
    for part in ("cases", "satisfaction"):
        assert client.get(f"/service/customers/account/{theirs.pk}/{part}/").status_code == 404
        assert client.get(f"/service/customers/desk/{account.pk}/{part}/").status_code == 404
    assert client.get(f"/service/customers/account/{account.pk}/notes/").status_code == 404
    make_case(agent, account=account, subject="看不见的工单")
    # Someone who may read customers but not cases: no section, and an empty panel.
    role = Role.objects.create(
        workspace=service_ws,
        name="Customers only",
        code="customers_only",
        rights={"customers.account": {"actions": ["read"], "visibility": "all"}},
    )
    outsider = client_for(UserFactory(workspace=service_ws, role=role))
    page = outsider.get(f"/customers/accounts/{account.pk}/")
    assert page.status_code == 200
    assert f"/service/customers/account/{account.pk}/cases/" not in html(page)
    panel = outsider.get(f"/service/customers/account/{account.pk}/cases/")
    assert panel.status_code == 200 and "看不见的工单" not in html(panel)


# --- tenancy and rights ----------------------------------------------------------------------


def test_another_workspaces_case_is_not_found(agent, other_admin):
    case = make_case(other_admin)
    client = client_for(agent)
    for url in (f"/service/cases/{case.pk}/", f"/service/cases/{case.pk}/edit/"):
        assert client.get(url).status_code == 404
    for url, data in (
        (f"/service/cases/{case.pk}/reply/", {"body": "x"}),
        (f"/service/cases/{case.pk}/status/", {"status": "open"}),
        (f"/service/cases/{case.pk}/assign/", {"take": "1"}),
    ):
        assert client.post(url, data).status_code == 404
    foreign_type = case_type(other_admin.workspace)
    assert client_for(agent).get(f"/service/case-types/{foreign_type.pk}/").status_code in (
        403,
        404,
    )
    assert client_for(agent).get("/service/cases/", {"q": case.number}).status_code == 200
    assert Case.objects.in_workspace(other_admin.workspace).get().status == "new"


def test_without_the_right_every_page_is_refused(nobody, agent):
    case = make_case(agent)
    category = CaseCategory.objects.create(workspace=agent.workspace, name="X")
    client = client_for(nobody)
    for url in (
        "/service/cases/",
        "/service/cases/new/",
        "/service/cases/customers/?q=a",
        "/service/case-types/",
        f"/service/case-types/{case.case_type_id}/",
        f"/service/case-categories/{category.pk}/",
    ):
        assert client.get(url).status_code == 403, url
    for url in (f"/service/cases/{case.pk}/", f"/service/cases/{case.pk}/edit/"):
        assert client.get(url).status_code in (403, 404), url
    for url, data in (
        (f"/service/cases/{case.pk}/reply/", {"body": "x"}),
        (f"/service/cases/{case.pk}/status/", {"status": "open"}),
        (f"/service/cases/{case.pk}/assign/", {"take": "1"}),
    ):
        assert client.post(url, data).status_code in (403, 404), url
    case.refresh_from_db()
    assert case.status == "new" and case.assignee is None
    assert not CaseMessage.objects.in_workspace(agent.workspace).filter(body="x").exists()


def test_signed_out_goes_to_login(agent):
    case = make_case(agent)
    response = Client().get(f"/service/cases/{case.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]
