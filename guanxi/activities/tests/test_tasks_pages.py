"""Task pages with the Django test client: "my day" as the start page (overdue first, in
red, fixed query count), the lists (filters, team, bulk done), the form (errors shown,
nothing written), htmx done/reopen, quick add, the customer panel, notifications."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.models import Notification, Task, TaskStatus
from guanxi.activities.services import notifications
from guanxi.activities.services import tasks as services
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


@pytest.fixture
def manager(workspace, team):
    return UserFactory(
        workspace=workspace, team=team, role_code="sales_manager", time_zone="Asia/Shanghai"
    )


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def _today_at(hour: int, minute: int = 0) -> dt.datetime:
    local = timezone.now().astimezone(SHANGHAI)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _task(user, **values) -> Task:
    values.setdefault("title", "任务")
    values.setdefault("due_at", timezone.now() + dt.timedelta(hours=1))
    return Task.objects.create(workspace=user.workspace, assignee=user, created_by=user, **values)


def _fill_day(user, n: int, account=None) -> None:
    for i in range(n):
        _task(user, title=f"逾期 {i}", due_at=timezone.now() - dt.timedelta(days=2, hours=i))
        _task(
            user,
            title=f"今天 {i}",
            due_at=_today_at(23, 59) - dt.timedelta(minutes=i),
            account=account,
            kind="visit",
        )
        _task(user, title=f"明天 {i}", due_at=_today_at(12) + dt.timedelta(days=1))
        Notification.objects.create(workspace=user.workspace, user=user, title=f"提醒 {i}")


# --- my day -----------------------------------------------------------------------------------


def test_my_day_is_the_start_page(rep_client, rep):
    account = AccountFactory(workspace=rep.workspace, owner=rep, name="星河科技")
    _task(rep, title="上周就该打的电话", due_at=timezone.now() - dt.timedelta(days=3))
    _task(rep, title="下午拜访", kind="visit", due_at=_today_at(23, 30), account=account)
    _task(rep, title="早上开会", kind="meeting", due_at=_today_at(0, 1))
    _task(rep, title="明天的事", due_at=_today_at(10) + dt.timedelta(days=1))
    _task(rep, title="已取消", due_at=_today_at(23, 0), status=TaskStatus.CANCELLED)
    Notification.objects.create(workspace=rep.workspace, user=rep, title="新的提醒")
    page = rep_client.get(reverse("platform:home"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("上周就该打的电话") < html.index("早上开会") < html.index("下午拜访")
    assert html.index("下午拜访") < html.index("明天的事")
    assert "已取消" not in html and "新的提醒" in html
    assert 'class="task-row overdue' in html  # overdue stands out
    assert "css/tasks.css" in html
    assert "星河科技" in html
    # The bell is lazy-loaded by the shell.
    assert reverse("activities:notification_bell") in html


def test_my_day_links_visits_to_check_in_when_that_page_exists(rep_client, rep):
    visit = _task(rep, title="拜访", kind="visit", due_at=_today_at(23, 30))
    html = rep_client.get(reverse("activities:my_day")).content.decode()
    try:
        url = reverse("activities:checkin_start")
    except Exception:  # pragma: no cover - the visits part is not installed
        pytest.skip("no check-in page")
    assert f"{url}?task={visit.pk}" in html


@pytest.mark.parametrize("url_name", ["platform:home", "activities:my_day"])
def test_my_day_query_count_is_fixed(client, rep, url_name):
    client.force_login(rep)
    account = AccountFactory(workspace=rep.workspace, owner=rep)
    _fill_day(rep, 2, account)
    client.get(reverse(url_name))
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    _fill_day(rep, 30, account)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse(url_name)).status_code == 200
    assert 0 < len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert "All overdue tasks" in client.get(reverse(url_name)).content.decode()


def test_a_user_without_tasks_right_sees_the_plain_start_page(client, workspace):
    user = UserFactory(workspace=workspace, role_code="read_only")
    user.role.rights = {k: v for k, v in user.role.rights.items() if k != "activities.task"}
    user.role.save()
    client.force_login(user)
    page = client.get(reverse("platform:home"))
    assert page.status_code == 200 and "my-day" not in page.content.decode()


# --- done buttons (htmx) ----------------------------------------------------------------------


def test_done_and_reopen_with_htmx(rep_client, rep):
    task = _task(rep, title="写报告")
    url = reverse("activities:task_action", args=[task.pk, "complete"])
    response = rep_client.post(url, {"compact": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "task-row" in response.content.decode() and " done" in response.content.decode()
    assert "toast" in response["HX-Trigger"]
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    response = rep_client.post(
        reverse("activities:task_action", args=[task.pk, "reopen"]), HTTP_HX_REQUEST="true"
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_done_without_htmx_goes_back(rep_client, rep):
    task = _task(rep)
    response = rep_client.post(
        reverse("activities:task_action", args=[task.pk, "complete"]), {"next": "/"}
    )
    assert response.status_code == 302 and response.url == "/"


def test_actions_on_foreign_or_invisible_tasks(client, rep, manager, other_admin, workspace):
    theirs = _task(manager)
    client.force_login(rep)
    url = reverse("activities:task_action", args=[theirs.pk, "complete"])
    assert client.post(url).status_code == 404
    client.force_login(other_admin)
    assert client.post(url).status_code == 404
    reader = UserFactory(workspace=workspace, role_code="read_only")
    client.force_login(reader)
    assert client.post(url).status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == TaskStatus.OPEN


def test_actions_need_post(rep_client, rep):
    task = _task(rep)
    url = reverse("activities:task_action", args=[task.pk, "complete"])
    assert rep_client.get(url).status_code == 405


# --- quick add ---------------------------------------------------------------------------------


def test_quick_add_with_htmx_refreshes(rep_client, rep):
    today = timezone.now().astimezone(SHANGHAI).date()
    response = rep_client.post(
        reverse("activities:task_quick_add"),
        {
            "title": "打给李总",
            "kind": "call",
            "due_date": today.isoformat(),
            "due_time": "23:59",
            "reminder": "15",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    task = Task.objects.in_workspace(rep.workspace).get()
    assert task.kind == "call" and task.reminder_state == "pending"


def test_quick_add_in_the_past_shows_the_error_and_writes_nothing(rep_client, rep):
    yesterday = timezone.now().astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    response = rep_client.post(
        reverse("activities:task_quick_add"),
        {"title": "昨天的", "kind": "todo", "due_date": yesterday.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "past" in response.content.decode()
    assert not Task.objects.in_workspace(rep.workspace).exists()


# --- lists --------------------------------------------------------------------------------------


def test_my_tasks_list_and_filters(rep_client, rep, manager):
    _task(rep, title="我的电话", kind="call")
    _task(rep, title="我的会议", kind="meeting")
    _task(rep, title="做完了", status=TaskStatus.DONE)
    _task(manager, title="经理的")
    html = rep_client.get(reverse("activities:task_list")).content.decode()
    assert "我的电话" in html and "我的会议" in html
    assert "做完了" not in html and "经理的" not in html
    html = rep_client.get(
        reverse("activities:task_list"),
        {"kind": "call"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="task-rows",
    ).content.decode()
    assert "我的电话" in html and "我的会议" not in html and "<html" not in html
    html = rep_client.get(reverse("activities:task_list"), {"status": "done"}).content.decode()
    assert "做完了" in html
    html = rep_client.get(reverse("activities:task_list"), {"period": "bogus"}).content.decode()
    assert "not valid" in html


def test_task_list_query_count_is_fixed(rep_client, rep):
    account = AccountFactory(workspace=rep.workspace, owner=rep)
    for i in range(3):
        _task(rep, title=f"t{i}", account=account)
    rep_client.get(reverse("activities:task_list"))
    with CaptureQueriesContext(connection) as small:
        rep_client.get(reverse("activities:task_list"))
    for i in range(60):
        _task(rep, title=f"u{i}", account=account, kind="visit")
    with CaptureQueriesContext(connection) as large:
        page = rep_client.get(reverse("activities:task_list"))
    assert "More" in page.content.decode()
    assert 0 < len(large) == len(small)


def test_team_tasks_for_managers_only(client, rep, manager):
    _task(rep, title="代表的任务")
    client.force_login(manager)
    html = client.get(reverse("activities:task_team")).content.decode()
    assert "代表的任务" in html
    html = client.get(reverse("activities:task_team"), {"assignee_id": manager.pk}).content.decode()
    assert "代表的任务" not in html
    client.force_login(rep)
    assert client.get(reverse("activities:task_team")).status_code == 403


def test_bulk_complete(rep_client, rep, manager):
    a, b = _task(rep), _task(rep)
    response = rep_client.post(reverse("activities:task_list"), {"ids": [a.pk, b.pk]})
    assert response.status_code == 302
    assert Task.objects.in_workspace(rep.workspace).filter(status=TaskStatus.DONE).count() == 2
    foreign = _task(manager)
    rep_client.post(reverse("activities:task_list"), {"ids": [foreign.pk]})
    foreign.refresh_from_db()
    assert foreign.status == TaskStatus.OPEN


# --- the form ----------------------------------------------------------------------------------


def test_create_with_the_form(rep_client, rep):
    account = AccountFactory(workspace=rep.workspace, owner=rep, name="星河科技")
    page = rep_client.get(reverse("activities:task_create"), {"account": account.pk})
    assert page.status_code == 200 and "星河科技" in page.content.decode()
    assert 'name="assignee"' not in page.content.decode()  # a rep assigns to themselves
    day = (timezone.now() + dt.timedelta(days=2)).astimezone(SHANGHAI).date()
    response = rep_client.post(
        reverse("activities:task_create"),
        {
            "title": "季度回访",
            "kind": "visit",
            "due_date": day.isoformat(),
            "due_time": "10:00",
            "priority": "high",
            "reminder": "1440",
            "recurrence": "quarterly",
            "recurrence_interval": "1",
            "account": account.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()
    task = Task.objects.in_workspace(rep.workspace).get()
    assert task.account == account and task.recurrence == "quarterly"
    assert task.due_at.astimezone(SHANGHAI).time() == dt.time(10)
    assert task.remind_at == task.due_at - dt.timedelta(days=1)


def test_form_errors_are_shown_and_nothing_written(rep_client, rep):
    yesterday = timezone.now().astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    response = rep_client.post(
        reverse("activities:task_create"),
        {
            "title": "过去",
            "kind": "todo",
            "due_date": yesterday.isoformat(),
            "due_time": "10:00",
            "priority": "normal",
        },
    )
    assert response.status_code == 200
    assert "past" in response.content.decode()
    assert not Task.objects.in_workspace(rep.workspace).exists()


def test_a_manager_assigns_with_the_form(client, rep, manager):
    client.force_login(manager)
    page = client.get(reverse("activities:task_create"))
    assert f'value="{rep.pk}"' in page.content.decode()
    day = (timezone.now() + dt.timedelta(days=2)).date()
    response = client.post(
        reverse("activities:task_create"),
        {
            "title": "交给代表",
            "kind": "call",
            "due_date": day.isoformat(),
            "due_time": "10:00",
            "priority": "normal",
            "assignee": rep.pk,
        },
    )
    assert response.status_code == 302
    assert Task.objects.in_workspace(rep.workspace).get().assignee == rep


def test_edit_an_overdue_task(rep_client, rep):
    task = _task(rep, title="旧标题", due_at=timezone.now() - dt.timedelta(days=3))
    page = rep_client.get(reverse("activities:task_edit", args=[task.pk]))
    assert page.status_code == 200
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(
        {
            "title": "新标题",
            "due_date": data["due_date"].isoformat(),
            "due_time": data["due_time"].strftime("%H:%M"),
        }
    )
    response = rep_client.post(reverse("activities:task_edit", args=[task.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    task.refresh_from_db()
    assert task.title == "新标题"


def test_edit_page_of_a_foreign_task_is_404(client, rep, other_admin):
    task = _task(rep)
    client.force_login(other_admin)
    assert client.get(reverse("activities:task_edit", args=[task.pk])).status_code == 404


# --- the customer's panel -----------------------------------------------------------------------


def test_customer_panel_lists_open_tasks_with_quick_add(rep_client, rep):
    account = AccountFactory(workspace=rep.workspace, owner=rep)
    _task(rep, title="送样品", account=account)
    _task(rep, title="完成的", account=account, status=TaskStatus.DONE)
    detail = rep_client.get(reverse("customers:account_detail", args=[account.pk]))
    url = reverse("activities:customer_tasks_panel", args=["accounts", account.pk])
    assert url in detail.content.decode()
    html = rep_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "送样品" in html and "完成的" not in html
    assert f'name="account" value="{account.pk}"' in html


def test_customer_panel_of_a_foreign_customer_is_404(client, rep, other_admin):
    account = AccountFactory(workspace=rep.workspace, owner=rep)
    client.force_login(other_admin)
    url = reverse("activities:customer_tasks_panel", args=["accounts", account.pk])
    assert client.get(url).status_code == 404


# --- notifications -----------------------------------------------------------------------------


def test_bell_list_and_mark_read(rep_client, rep, manager):
    services.task_create(
        actor=manager,
        workspace=manager.workspace,
        title="交办",
        due_at=timezone.now() + dt.timedelta(hours=3),
        assignee_id=rep.pk,
    )
    with CaptureQueriesContext(connection) as queries:
        bell = rep_client.get(reverse("activities:notification_bell"), HTTP_HX_REQUEST="true")
    assert ">1<" in bell.content.decode()
    assert len([q for q in queries if "activities_notification" in q["sql"]]) == 1
    page = rep_client.get(reverse("activities:notification_list"))
    assert "交办" in page.content.decode()
    note = Notification.objects.in_workspace(rep.workspace).get(user=rep)
    response = rep_client.post(
        reverse("activities:notification_read", args=[note.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    note.refresh_from_db()
    assert note.read_at is not None
    Notification.objects.create(workspace=rep.workspace, user=rep, title="a")
    Notification.objects.create(workspace=rep.workspace, user=rep, title="b")
    rep_client.post(reverse("activities:notifications_read_all"))
    assert (
        not Notification.objects.in_workspace(rep.workspace).filter(read_at__isnull=True).exists()
    )


def test_someone_elses_notification_is_404(client, rep, manager):
    note = notifications.notify(workspace=rep.workspace, user=rep, title="私人")
    client.force_login(manager)
    assert client.post(reverse("activities:notification_read", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None
