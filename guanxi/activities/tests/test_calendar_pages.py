"""The calendar: month/week/day pages (fixed queries, a manager picks a team member, a rep
may not), the grids' arithmetic, and the private iCalendar feed (parses, stable UIDs, the
user's zone, all-day dates, the window, revoked or wrong secret 404, shown once)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.models import CalendarFeed, Task, TaskStatus
from guanxi.activities.selectors import calendar as calendar_selectors
from guanxi.activities.services import calendar as calendar_services
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import AuditEntry
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
    return UserFactory(workspace=workspace, team=team, role_code="sales_manager")


def _task(user, **values) -> Task:
    values.setdefault("title", "任务")
    values.setdefault("due_at", timezone.now() + dt.timedelta(hours=1))
    return Task.objects.create(workspace=user.workspace, assignee=user, **values)


def _local_today():
    return timezone.now().astimezone(SHANGHAI).date()


# --- grids ----------------------------------------------------------------------------------


def test_windows():
    day = dt.date(2026, 2, 18)  # a Wednesday
    assert calendar_selectors.window("day", day) == (day, dt.date(2026, 2, 19))
    assert calendar_selectors.window("week", day) == (dt.date(2026, 2, 16), dt.date(2026, 2, 23))
    first, stop = calendar_selectors.window("month", day)
    assert first == dt.date(2026, 1, 26) and stop == dt.date(2026, 3, 2)
    assert (stop - first).days % 7 == 0
    assert calendar_selectors.step("month", dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 1)
    assert calendar_selectors.step("week", day, -1) == dt.date(2026, 2, 11)


def test_a_multi_day_event_is_on_each_of_its_days(rep):
    start = dt.datetime(2099, 3, 2, 9, tzinfo=SHANGHAI)
    _task(rep, title="展会", kind="meeting", due_at=start, ends_at=start + dt.timedelta(days=2))
    first, stop = dt.date(2099, 3, 1), dt.date(2099, 3, 8)
    events = calendar_selectors.events(
        workspace=rep.workspace,
        actor=rep,
        user=rep,
        start=dt.datetime(2099, 3, 1, tzinfo=SHANGHAI),
        end=dt.datetime(2099, 3, 8, tzinfo=SHANGHAI),
    )
    days = calendar_selectors.days(events, user=rep, first=first, stop=stop, month=3, today=None)
    assert [d.date.day for d in days if d.events] == [2, 3, 4]


# --- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["month", "week", "day"])
def test_calendar_views_render_with_fixed_queries(client, rep, view):
    client.force_login(rep)
    account = AccountFactory(workspace=rep.workspace, owner=rep)
    today = _local_today()
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=SHANGHAI)

    def add(n):
        for i in range(n):
            _task(rep, title=f"会议{i}", kind="meeting", due_at=noon, account=account)
            _task(
                rep,
                title=f"全天{i}",
                all_day=True,
                due_at=dt.datetime.combine(today, dt.time.min, tzinfo=SHANGHAI),
            )

    add(2)
    url = reverse("activities:calendar")
    params = {"view": view, "date": today.isoformat()}
    client.get(url, params)
    with CaptureQueriesContext(connection) as small:
        page = client.get(url, params)
    assert page.status_code == 200
    assert "会议0" in page.content.decode()
    add(20)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url, params).status_code == 200
    assert 0 < len(large) == len(small)


def test_prev_next_and_bad_input(client, rep):
    client.force_login(rep)
    page = client.get(reverse("activities:calendar"), {"view": "month", "date": "2026-01-31"})
    html = page.content.decode()
    assert "date=2025-12-01" in html and "date=2026-02-01" in html
    # Nonsense falls back to this month rather than failing.
    assert (
        client.get(reverse("activities:calendar"), {"view": "x", "date": "2026-13-45"}).status_code
        == 200
    )
    assert "js/calendar.js" in html  # a phone opens on the day view


def test_a_manager_opens_a_team_members_calendar(client, rep, manager, other_admin):
    _task(rep, title="代表的拜访", kind="visit")
    url = reverse("activities:calendar")
    client.force_login(manager)
    html = client.get(url, {"view": "week", "user": rep.pk}).content.decode()
    assert "代表的拜访" in html
    client.force_login(rep)
    assert client.get(url, {"user": manager.pk}).status_code == 403
    client.force_login(other_admin)
    assert client.get(url, {"user": rep.pk}).status_code == 404


def test_cancelled_tasks_are_not_on_the_page(client, rep):
    _task(rep, title="取消了", status=TaskStatus.CANCELLED)
    client.force_login(rep)
    html = client.get(reverse("activities:calendar"), {"view": "day"}).content.decode()
    assert "取消了" not in html


# --- the feed -------------------------------------------------------------------------------


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_feed_page_shows_the_url_once_then_revokes(client, rep):
    client.force_login(rep)
    response = client.post(reverse("activities:calendar_feed"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    feed = CalendarFeed.objects.in_workspace(rep.workspace).get()
    assert f"/activities/calendar/{feed.prefix}." in html
    secret = html.split(f"{feed.prefix}.", 1)[1].split(".ics", 1)[0]
    assert secret not in feed.secret_hash and len(feed.secret_hash) == 64
    page = client.get(reverse("activities:calendar")).content.decode()
    assert secret not in page  # shown once
    assert Client().get(f"/activities/calendar/{feed.prefix}.{secret}.ics").status_code == 200
    client.post(reverse("activities:calendar_feed"), {"op": "revoke"})
    assert Client().get(f"/activities/calendar/{feed.prefix}.{secret}.ics").status_code == 404
    audit = AuditEntry.objects.filter(
        workspace=rep.workspace, object_key="activities.calendar_feed"
    )
    assert audit.count() == 2 and secret not in str(list(audit.values_list("changes", flat=True)))


def test_a_new_feed_replaces_the_old(rep):
    _, old = calendar_services.calendar_feed_create(actor=rep, workspace=rep.workspace)
    _, new = calendar_services.calendar_feed_create(actor=rep, workspace=rep.workspace)
    client = Client()
    assert client.get(_path(old)).status_code == 404
    assert client.get(_path(new)).status_code == 200


def test_a_wrong_secret_or_unknown_prefix_is_404(rep):
    feed, _url = calendar_services.calendar_feed_create(actor=rep, workspace=rep.workspace)
    client = Client()
    assert client.get(f"/activities/calendar/{feed.prefix}.wrong-secret.ics").status_code == 404
    assert client.get("/activities/calendar/000000000000.x.ics").status_code == 404


def test_a_deactivated_user_feed_is_404(rep):
    _, url = calendar_services.calendar_feed_create(actor=rep, workspace=rep.workspace)
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert Client().get(_path(url)).status_code == 404


def test_the_ics_feed_parses_with_stable_uids_and_the_users_zone(rep):
    account = AccountFactory(workspace=rep.workspace, owner=rep, name="星河科技")
    tomorrow = _local_today() + dt.timedelta(days=1)
    meeting = _task(
        rep,
        title="季度会议",
        kind="meeting",
        location="上海",
        due_at=dt.datetime.combine(tomorrow, dt.time(14), tzinfo=SHANGHAI),
        account=account,
    )
    all_day = _task(
        rep,
        title="写周报",
        all_day=True,
        due_at=dt.datetime.combine(tomorrow, dt.time.min, tzinfo=SHANGHAI),
    )
    done = _task(rep, title="做完了", status=TaskStatus.DONE)
    _task(rep, title="太远了", due_at=timezone.now() + dt.timedelta(days=200))
    _task(rep, title="太久了", due_at=timezone.now() - dt.timedelta(days=40))
    _task(UserFactory(workspace=rep.workspace), title="别人的")
    _, url = calendar_services.calendar_feed_create(actor=rep, workspace=rep.workspace)
    client = Client()
    first = icalendar.Calendar.from_ical(client.get(_path(url)).content)
    second = icalendar.Calendar.from_ical(client.get(_path(url)).content)
    events = {str(e["summary"]): e for e in first.walk("VEVENT")}
    assert set(events) == {"季度会议", "写周报", "✓ 做完了"}
    assert [str(e["uid"]) for e in first.walk("VEVENT")] == [
        str(e["uid"]) for e in second.walk("VEVENT")
    ]
    event = events["季度会议"]
    start = event.decoded("dtstart")
    assert start.tzinfo is not None and str(start.tzinfo) == "Asia/Shanghai"
    assert start.hour == 14 and event.decoded("dtend") - start == dt.timedelta(hours=1)
    assert str(event["location"]) == "上海" and "星河科技" in str(event["description"])
    assert str(event["uid"]) == f"task-{meeting.pk}@{rep.workspace_id}.guanxi"
    whole_day = events["写周报"]
    assert whole_day.decoded("dtstart") == tomorrow
    assert whole_day.decoded("dtend") == tomorrow + dt.timedelta(days=1)
    assert str(whole_day["uid"]) == f"task-{all_day.pk}@{rep.workspace_id}.guanxi"
    assert done.pk
    assert first.walk("VTIMEZONE")
    feed = CalendarFeed.objects.in_workspace(rep.workspace).get(revoked_at__isnull=True)
    assert feed.last_used_at is not None


def test_feed_fetch_runs_a_fixed_number_of_queries(rep):
    _, url = calendar_services.calendar_feed_create(actor=rep, workspace=rep.workspace)
    client = Client()
    for i in range(3):
        _task(rep, title=f"t{i}", kind="meeting")
    client.get(_path(url))
    with CaptureQueriesContext(connection) as small:
        client.get(_path(url))
    for i in range(40):
        _task(rep, title=f"u{i}", kind="visit", account=AccountFactory(workspace=rep.workspace))
    with CaptureQueriesContext(connection) as large:
        assert client.get(_path(url)).status_code == 200
    assert 0 < len(large) == len(small)
