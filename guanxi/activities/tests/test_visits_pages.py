"""The visit pages with the Django test client: settings, the account's plan panel (htmx),
generation, plan versus done and its drill-down, the day's route, check-in / check-out on
the phone page; rights, other workspaces, bad input, and fixed query counts."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from guanxi.activities import visit_jobs  # noqa: F401  (registers the job handler)
from guanxi.activities.models import (
    CheckIn,
    Task,
    TaskKind,
    TaskStatus,
    TimelineEntry,
    VisitPlan,
    VisitSettings,
)
from guanxi.activities.services import visits
from guanxi.activities.tests.factories import TaskFactory
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import Job
from guanxi.platform.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(
        workspace=workspace, team=team, full_name="李销售", time_zone="Asia/Shanghai"
    )


@pytest.fixture
def manager(workspace, team):
    return UserFactory(
        workspace=workspace, role_code="sales_manager", team=team, full_name="王经理"
    )


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(
        workspace=workspace,
        owner=rep,
        name="华东机电",
        latitude=Decimal("31.2304"),
        longitude=Decimal("121.4737"),
    )


def _login(client, user):
    client.force_login(user)
    return client


# --- settings -----------------------------------------------------------------------------------


def test_settings_page(client, workspace, admin_user):
    _login(client, admin_user)
    url = reverse("activities:visit_settings")
    response = client.get(url)
    assert response.status_code == 200 and "type__customer" in response.content.decode()
    data = {
        f"type__{k}": 3
        for k in ("customer", "prospect", "agent", "partner", "supplier", "competitor", "other")
    }
    data.update({"class__A": 12, "far_checkin_meters": 300})
    assert client.post(url, data).status_code == 302
    saved = VisitSettings.objects.in_workspace(workspace).get()
    assert saved.visits_per_year_by_type["agent"] == 3 and saved.visits_per_year_by_class == {
        "A": 12
    }
    data["far_checkin_meters"] = 1
    response = client.post(url, data)
    assert response.status_code == 200 and "error" in response.content.decode()
    assert VisitSettings.objects.in_workspace(workspace).get().far_checkin_meters == 300


def test_settings_page_is_for_administrators(client, manager):
    assert _login(client, manager).get(reverse("activities:visit_settings")).status_code == 403


# --- the account's plan panel -------------------------------------------------------------------


def test_account_page_has_the_visit_plan_section(client, rep, account):
    response = _login(client, rep).get(reverse("customers:account_detail", args=[account.pk]))
    assert reverse("activities:visit_plan_panel", args=[account.pk]) in response.content.decode()


def test_plan_panel_shows_edits_and_resets(client, workspace, rep, account):
    TaskFactory(
        workspace=workspace,
        assignee=rep,
        kind=TaskKind.VISIT,
        account=account,
        due_at=timezone.now() + dt.timedelta(days=3),
    )
    _login(client, rep)
    url = reverse("activities:visit_plan_panel", args=[account.pk])
    body = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "default for the customer type" in body and "<strong>4</strong>" in body
    assert "Check in" in body
    edit = reverse("activities:visit_plan_edit", args=[account.pk])
    response = client.post(
        edit,
        {"visits_per_year": 12, "means": "onsite_meeting", "notes": "月度"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<strong>12</strong>" in body and "set by hand" in body
    response = client.post(
        edit, {"visits_per_year": 400, "means": "onsite_meeting"}, headers={"HX-Request": "true"}
    )
    assert "notice error" in response.content.decode()
    assert VisitPlan.objects.in_workspace(workspace).get().visits_per_year == 12
    response = client.post(reverse("activities:visit_plan_reset", args=[account.pk]))
    assert response.status_code == 302
    assert not VisitPlan.objects.in_workspace(workspace).get().is_custom


def test_plan_panel_queries_do_not_grow(client, workspace, rep, account):
    _login(client, rep)
    url = reverse("activities:visit_plan_panel", args=[account.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.get(url)  # the first request of a session also writes the session
    small = count()
    for i in range(30):
        TaskFactory(
            workspace=workspace,
            assignee=rep,
            kind=TaskKind.VISIT,
            account=account,
            due_at=timezone.now() + dt.timedelta(days=i + 1),
            status=TaskStatus.DONE if i % 2 else TaskStatus.OPEN,
            completed_at=timezone.now(),
        )
    assert count() == small


def test_plan_panel_of_foreign_or_invisible_account_is_404(client, workspace, rep, other_workspace):
    _login(client, rep)
    for account in (
        AccountFactory(workspace=other_workspace),
        AccountFactory(workspace=workspace, owner=UserFactory(workspace=workspace)),
    ):
        assert (
            client.get(reverse("activities:visit_plan_panel", args=[account.pk])).status_code == 404
        )
        assert (
            client.post(
                reverse("activities:visit_plan_edit", args=[account.pk]),
                {"visits_per_year": 3, "means": "company_visit"},
            ).status_code
            == 404
        )


# --- generation, plan versus done ---------------------------------------------------------------


def test_generate_page_starts_the_job(
    client, workspace, manager, rep, account, django_capture_on_commit_callbacks
):
    _login(client, manager)
    url = reverse("activities:visit_generate")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"period": "2026", "team": "", "owner": ""})
    assert response.status_code == 200 and "job-progress" in response.content.decode()
    assert Job.objects.in_workspace(workspace).get().state == "succeeded"
    assert Task.objects.in_workspace(workspace).filter(kind=TaskKind.VISIT).count() == 4
    response = client.post(url, {"period": "soon"})
    assert "Enter a period" in response.content.decode()
    assert Job.objects.in_workspace(workspace).count() == 1


def test_generate_page_needs_rights(client, workspace):
    assert (
        _login(client, UserFactory(workspace=workspace, role_code="technician"))
        .get(reverse("activities:visit_generate"))
        .status_code
        == 403
    )


def _seed_period(workspace, reps, per_rep: int):
    now = timezone.now()
    for rep in reps:
        account = AccountFactory(workspace=workspace, owner=rep)
        for i in range(per_rep):
            TaskFactory(
                workspace=workspace,
                assignee=rep,
                kind=TaskKind.VISIT,
                account=account,
                due_at=dt.datetime(2026, 10, 5 + i % 20, 10, tzinfo=ZONE),
                status=[TaskStatus.DONE, TaskStatus.OPEN, TaskStatus.CANCELLED][i % 3],
                completed_at=now if i % 3 == 0 else None,
            )


def test_progress_page_per_rep_and_visibility(client, workspace, manager, rep, team):
    other_team_rep = UserFactory(
        workspace=workspace, team=TeamFactory(workspace=workspace), full_name="外队"
    )
    _seed_period(workspace, [rep, other_team_rep], 6)
    checkin = CheckIn.objects.create(
        workspace=workspace,
        user=rep,
        checked_in_at=dt.datetime(2026, 11, 2, 9, tzinfo=ZONE),
        checked_out_at=dt.datetime(2026, 11, 2, 10, tzinfo=ZONE),
    )
    assert checkin.task_id is None
    _login(client, manager)
    response = client.get(reverse("activities:visit_progress"), {"period": "2026-Q4"})
    body = response.content.decode()
    assert response.status_code == 200 and "李销售" in body and "外队" not in body
    row = visits_row = response.context["rows"][0]
    assert (row.planned, row.done_tasks, row.extra_checkouts, row.done) == (4, 2, 1, 3)
    assert visits_row.percent == 75 and row.overdue == 2  # 2026-10 is in the past
    # The rep sees only themselves; the htmx partial is just the table.
    _login(client, rep)
    partial = client.get(
        reverse("activities:visit_progress"), {"period": "2026-Q4"}, headers={"HX-Request": "true"}
    )
    assert "<table" in partial.content.decode() and "<html" not in partial.content.decode()
    # A bad period falls back to the current quarter with a message.
    assert client.get(reverse("activities:visit_progress"), {"period": "x"}).status_code == 200


def test_progress_queries_do_not_grow(client, workspace, manager, team):
    _login(client, manager)
    url = reverse("activities:visit_progress")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"period": "2026-Q4"}).status_code == 200
        return len(ctx.captured_queries)

    _seed_period(workspace, [UserFactory(workspace=workspace, team=team)], 3)
    client.get(url)  # the first request of a session also writes the session
    small = count()
    _seed_period(workspace, [UserFactory(workspace=workspace, team=team) for _ in range(6)], 9)
    assert count() == small


def test_drill_down(client, workspace, manager, rep, other_workspace):
    _seed_period(workspace, [rep], 6)
    _login(client, manager)
    url = reverse("activities:visit_progress_rep", args=[rep.pk])
    response = client.get(url, {"period": "2026-Q4", "state": "done"})
    assert response.status_code == 200 and len(response.context["page"].items) == 2
    assert len(client.get(url, {"period": "2026-Q4"}).context["page"].items) == 4
    assert (
        len(client.get(url, {"period": "2026-Q4", "state": "overdue"}).context["page"].items) == 2
    )
    stranger = UserFactory(workspace=other_workspace)
    assert (
        client.get(reverse("activities:visit_progress_rep", args=[stranger.pk])).status_code == 404
    )
    _login(client, rep)
    colleague = UserFactory(workspace=workspace, team=rep.team)
    assert (
        client.get(reverse("activities:visit_progress_rep", args=[colleague.pk])).status_code == 404
    )


# --- the day's route ----------------------------------------------------------------------------


def test_route_page(client, workspace, rep, account):
    day = dt.date(2026, 11, 10)
    bare = AccountFactory(workspace=workspace, owner=rep, name="没有坐标的公司")
    for target, hour in ((account, 10), (bare, 11)):
        TaskFactory(
            workspace=workspace,
            assignee=rep,
            kind=TaskKind.VISIT,
            account=target,
            due_at=dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE),
        )
    _login(client, rep)
    response = client.get(
        reverse("activities:route_day"),
        {"date": "2026-11-10", "start_lat": "31.2", "start_lon": "121.4"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "geo:31.230400,121.473700" in body
        and "没有坐标的公司" in body
        and "data-use-position" in body
    )
    assert 'name="viewport"' in body and "js/visits.js" in body
    response = client.get(
        reverse("activities:route_day"), {"date": "2026-11-10", "start_lat": "99", "start_lon": "1"}
    )
    assert (
        response.status_code == 200
        and "Enter a latitude between -90 and 90." in response.content.decode()
    )
    assert client.get(reverse("activities:route_day"), {"date": "nonsense"}).status_code == 200


# --- check-in and check-out ---------------------------------------------------------------------


def _png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, format="PNG")
    return SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")


def test_phone_check_in_then_out(client, workspace, rep, account):
    visit = TaskFactory(workspace=workspace, assignee=rep, kind=TaskKind.VISIT, account=account)
    _login(client, rep)
    url = reverse("activities:checkin_start")
    page = client.get(url, {"task": visit.pk}).content.decode()
    assert 'name="latitude"' in page and 'type="hidden"' in page and "data-checkin" in page
    assert 'capture="environment"' in page
    response = client.post(
        url,
        {
            "task": visit.pk,
            "latitude": "31.2310",
            "longitude": "121.4740",
            "accuracy": "15",
            "means": "company_visit",
            "photo": _png(),
        },
    )
    assert response.status_code == 302, response.content.decode()
    checkin = CheckIn.objects.in_workspace(workspace).get()
    detail = client.get(response["Location"]).content.decode()
    assert "on site" in detail and f"{checkin.distance_m} m" in detail
    photo = client.get(reverse("activities:checkin_photo", args=[checkin.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    response = client.post(
        reverse("activities:checkin_checkout", args=[checkin.pk]),
        {"means": "technical_exchange", "outcome": "positive", "notes": "顺利"},
    )
    assert response.status_code == 302
    entry = TimelineEntry.objects.in_workspace(workspace).get()
    assert entry.subtype == "technical_exchange" and entry.body == "顺利"
    visit.refresh_from_db()
    assert visit.status == TaskStatus.DONE
    # Checking out again: a clear message, nothing more written.
    response = client.post(
        reverse("activities:checkin_checkout", args=[checkin.pk]), {"means": "company_visit"}
    )
    assert response.status_code == 400 and "already checked out" in response.content.decode()
    assert TimelineEntry.objects.in_workspace(workspace).count() == 1


def test_check_in_bad_input_messages(client, workspace, rep, account):
    _login(client, rep)
    url = reverse("activities:checkin_start")
    response = client.post(url, {"account": account.pk, "latitude": "123", "longitude": "10"})
    assert (
        response.status_code == 400
        and "Enter a latitude between -90 and 90." in response.content.decode()
    )
    bad = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(url, {"account": account.pk, "photo": bad})
    assert response.status_code == 400 and "not an image" in response.content.decode()
    assert not CheckIn.objects.in_workspace(workspace).exists()


def test_no_position_then_set_customer_location(client, workspace, rep):
    bare = AccountFactory(workspace=workspace, owner=rep)
    _login(client, rep)
    response = client.post(
        reverse("activities:checkin_start"),
        {"account": bare.pk, "latitude": "30.1", "longitude": "120.2"},
    )
    checkin = CheckIn.objects.in_workspace(workspace).get()
    detail = client.get(response["Location"]).content.decode()
    assert "Set the customer" in detail
    client.post(reverse("activities:checkin_set_location", args=[checkin.pk]))
    bare.refresh_from_db()
    assert bare.latitude == Decimal("30.100000")
    client.post(
        reverse("activities:checkin_checkout", args=[checkin.pk]), {"means": "company_visit"}
    )
    # Without a position: allowed, marked.
    response = client.post(reverse("activities:checkin_start"), {"account": bare.pk})
    assert response.status_code == 302
    assert "no position" in client.get(response["Location"]).content.decode()


def test_check_in_pages_other_workspace_404(client, workspace, rep, other_workspace, other_admin):
    foreign = AccountFactory(workspace=other_workspace)
    theirs = CheckIn.objects.create(
        workspace=other_workspace, user=other_admin, account=foreign, checked_in_at=timezone.now()
    )
    _login(client, rep)
    assert (
        client.get(reverse("activities:checkin_start"), {"account": foreign.pk}).status_code == 404
    )
    assert client.get(reverse("activities:checkin_detail", args=[theirs.pk])).status_code == 404
    assert (
        client.post(
            reverse("activities:checkin_checkout", args=[theirs.pk]), {"means": "company_visit"}
        ).status_code
        == 404
    )
    assert client.get(reverse("activities:checkin_photo", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("activities:checkin_start"), {"task": "abc"}).status_code == 404


def test_check_in_page_for_read_only_user_is_403(client, workspace, account):
    reader = UserFactory(workspace=workspace, role_code="read_only")
    _login(client, reader)
    response = client.post(reverse("activities:checkin_start"), {"account": account.pk})
    assert response.status_code == 403


def test_sidenav_entries(client, rep, admin_user):
    body = _login(client, rep).get(reverse("activities:route_day")).content.decode()
    assert (
        reverse("activities:visit_progress") in body
        and reverse("activities:visit_settings") not in body
    )
    body = _login(client, admin_user).get(reverse("activities:route_day")).content.decode()
    assert reverse("activities:visit_settings") in body


def test_period_choices_cover_the_year():
    choices = visits.parse_period("2026-Q4")
    assert choices.label == "2026-Q4"
