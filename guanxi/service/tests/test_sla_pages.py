"""The SLA pages: the dashboard (states, breaches, attainment, median, at risk; a fixed
number of queries at two sizes; only the cases the user may see), policies (add, change,
rules, delete), calendars (add, week hours, days added, changed and deleted, a year of
holidays loaded, the month preview whole and as an htmx swap); another workspace's records
are 404, users without the right 403 (and read-only users see no forms)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.service.models import CalendarDay, EscalationRule, SlaPolicy, WorkCalendar
from guanxi.service.services import sla as services
from guanxi.service.services import sla_clock

from .sla_support import *  # noqa: F403
from .sla_support import at, make_case

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_cases(ws, account, agent, n, *, start):
    """Cases in every SLA state: breached, warned, paused, answered, on track."""
    for i in range(n):
        case = make_case(
            ws, now=start, priority=1 + i % 4, account=account, assignee=agent, subject=f"故障{i}"
        )
        if i % 5 == 3:
            sla_clock.sla_pause(case, now=start)
            case.status = "waiting"
        if i % 5 == 4:
            case.first_response_at = start + dt.timedelta(minutes=20)
            sla_clock.sla_first_response(case, now=case.first_response_at)
        case.save()


def test_dashboard_figures_and_fixed_queries(sla_ws, sla_admin, sla_agent, class_a):
    client = client_for(sla_admin)
    add_cases(sla_ws, class_a, sla_agent, 5, start=at(2026, 11, 30, 9))
    services.sla_sweep(now=at(2026, 11, 30, 11))
    client.get("/service/sla/")  # warm the navigation's caches
    with CaptureQueriesContext(connection) as small:
        response = client.get("/service/sla/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "chart-sla-states" in html and "chart-sla-breaches" in html
    assert "故障0" in html and "badge danger" in html  # at risk, breached
    add_cases(sla_ws, class_a, sla_agent, 25, start=at(2026, 11, 30, 9, 30))
    services.sla_sweep(now=at(2026, 11, 30, 11))
    with CaptureQueriesContext(connection) as large:
        response = client.get("/service/sla/")
    assert response.status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    board = response.context["board"]
    assert sum(board.states.values()) == 30 and board.states["paused"] == 6
    assert board.states["breached"] > 0 and board.median_first_response == 20


def test_dashboard_counts_only_visible_cases(sla_ws, sla_agent, class_a, nobody):
    from guanxi.platform.models import Role
    from guanxi.platform.tests.factories import UserFactory

    add_cases(sla_ws, class_a, sla_agent, 5, start=at(2026, 11, 30, 9))
    role = Role.objects.create(
        workspace=sla_ws,
        name="Own cases",
        code="own_cases",
        rights={"service.case": {"actions": ["read"], "visibility": "own"}},
    )
    own = UserFactory(workspace=sla_ws, role=role)
    board = client_for(own).get("/service/sla/").context["board"]
    assert board.open_cases == 0 and board.at_risk == []
    board = client_for(sla_agent).get("/service/sla/").context["board"]
    assert board.open_cases == 5
    assert client_for(nobody).get("/service/sla/").status_code == 403


def test_policies_add_change_rules_and_delete(sla_ws, sla_manager, sla_agent2, class_c):
    client = client_for(sla_manager)
    page = client.get("/service/sla/policies/").content.decode()
    a_urgent = SlaPolicy.objects.in_workspace(sla_ws).get(customer_class="A", priority=1)
    assert a_urgent.name in page and "30 min" in page and "4 h" in page
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get()
    response = client.post(
        "/service/sla/policies/",
        {
            "name": "A 紧急",
            "customer_class": "A",
            "priority": "1",
            "calendar_id": calendar.pk,
            "first_response_minutes": "15",
            "resolution_minutes": "120",
            "warn_at_percent": "75",
            "active": "on",
        },
    )
    assert response.status_code == 200  # the class A urgent policy exists: a form error
    assert "Another active policy covers this class and priority" in response.content.decode()
    response = client.post(
        "/service/sla/policies/",
        {
            "name": "兜底",
            "customer_class": "",
            "priority": "",
            "calendar_id": calendar.pk,
            "first_response_minutes": "600",
            "resolution_minutes": "6000",
            "warn_at_percent": "90",
            "active": "on",
        },
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.in_workspace(sla_ws).get(name="兜底")
    assert policy.customer_class == "" and policy.priority is None
    url = f"/service/sla/policies/{policy.pk}/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "op": "save",
            "name": "兜底",
            "customer_class": "",
            "priority": "",
            "calendar_id": calendar.pk,
            "first_response_minutes": "600",
            "resolution_minutes": "60",
            "warn_at_percent": "90",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "Resolution cannot be due before the first response" in response.content.decode()
    response = client.post(
        url,
        {"op": "add_rule", "when": "breach", "target": "any", "action": "reassign",
         "user_id": sla_agent2.pk, "position": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    rule = EscalationRule.objects.in_workspace(sla_ws).get(policy=policy)
    assert "Reassign to Agent Zhao" in client.get(url).content.decode()
    client.post(url, {"op": "delete_rule", "rule_id": rule.pk})
    assert not EscalationRule.objects.in_workspace(sla_ws).filter(policy=policy).exists()
    response = client.post("/service/sla/policies/", {"op": "delete", "policy_id": policy.pk})
    assert response.status_code == 302
    assert not SlaPolicy.objects.in_workspace(sla_ws).filter(pk=policy.pk).exists()


def test_calendar_week_days_year_and_month_preview(sla_ws, sla_admin):
    client = client_for(sla_admin)
    response = client.post(
        "/service/sla/calendars/",
        {
            "name": "柏林办公室",
            "time_zone": "Europe/Berlin",
            "hours_1": "09:00-17:00",
            "hours_2": "09:00-17:00",
        },
    )
    assert response.status_code == 302
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get(name="柏林办公室")
    assert calendar.week == {"1": [["09:00", "17:00"]], "2": [["09:00", "17:00"]]}
    url = f"/service/sla/calendars/{calendar.pk}/"
    response = client.post(url, {"op": "save", "name": "柏林办公室", "time_zone": "Europe/Berlin",
                                 "hours_1": "9-17"})  # fmt: skip
    assert response.status_code == 200 and "Write working hours as" in response.content.decode()
    response = client.post(url, {"op": "save", "name": "柏林办公室", "time_zone": "Europe/Berlin"})
    assert "Give working hours to at least one weekday" in response.content.decode()
    response = client.post(url, {"op": "save", "name": "柏林办公室", "time_zone": "Europe/Berlin",
                                 "hours_1": "08:00-12:00, 13:00-17:00", "hours_6": "10:00-12:00"})  # fmt: skip
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert calendar.week["6"] == [["10:00", "12:00"]]
    response = client.post(url, {"op": "load_year", "year": "2026"})
    assert response.status_code == 302
    assert CalendarDay.objects.in_workspace(sla_ws).filter(calendar=calendar).count() == 39
    response = client.post(
        url,
        {"op": "add_day", "day-day": "2026-03-02", "day-kind": "holiday", "day-name": "公司年会"},
    )
    assert response.status_code == 302
    row = CalendarDay.objects.in_workspace(sla_ws).get(calendar=calendar, day=dt.date(2026, 3, 2))
    response = client.post(url, {"op": "add_day", "day-day": "2026-03-02", "day-kind": "holiday"})
    assert "already in the calendar" in response.content.decode()
    day_url = f"/service/sla/calendars/{calendar.pk}/days/{row.pk}/"
    assert "公司年会" in client.get(day_url).content.decode()
    response = client.post(
        day_url, {"day": "2026-03-07", "kind": "workday", "name": "补班", "hours": "10:00-14:00"}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.day, row.kind, row.hours) == (dt.date(2026, 3, 7), "workday", [["10:00", "14:00"]])
    page = client.get(url, {"month": "2026-03"}).content.decode()
    assert "补班" in page and "sla-day--workday" in page and "10:00–14:00" in page
    swap = client.get(f"{url}month/", {"month": "2026-10"}, headers={"HX-Request": "true"})
    html = swap.content.decode()
    assert swap.status_code == 200 and "<html" not in html
    assert html.count("sla-day--holiday") >= 7 and "2026-10" in html
    assert "<html" in client.get(f"{url}month/", {"month": "bad"}).content.decode()
    client.post(url, {"op": "delete_day", "day_id": row.pk})
    assert not CalendarDay.objects.in_workspace(sla_ws).filter(pk=row.pk).exists()
    response = client.post(url, {"op": "delete"})
    assert response.status_code == 302
    assert not WorkCalendar.objects.in_workspace(sla_ws).filter(pk=calendar.pk).exists()


def test_calendar_page_fixed_queries(sla_ws, sla_admin):
    client = client_for(sla_admin)
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get()
    url = f"/service/sla/calendars/{calendar.pk}/"
    client.get(url, {"month": "2026-02"})
    with CaptureQueriesContext(connection) as before:
        assert client.get(url, {"month": "2026-02"}).status_code == 200
    services.calendar_load_holidays(
        actor=sla_admin, workspace=sla_ws, calendar_id=calendar.pk, year=2025
    )
    for day in range(1, 20):
        CalendarDay.objects.create(
            workspace=sla_ws, calendar=calendar, day=dt.date(2027, 1, day), kind="holiday"
        )
    with CaptureQueriesContext(connection) as after:
        assert client.get(url, {"month": "2026-02"}).status_code == 200
    # One more: the calendar changed, so its business-time object is built again once.
    assert len(after) <= len(before) + 1
    with CaptureQueriesContext(connection) as again:
        assert client.get(url, {"month": "2026-02"}).status_code == 200
    assert len(again) <= len(before) + 1


def test_readers_see_no_forms_and_no_right_is_403(sla_ws, sla_agent, nobody):
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get()
    policy = SlaPolicy.objects.in_workspace(sla_ws).first()
    day = CalendarDay.objects.in_workspace(sla_ws).first()
    reader = client_for(sla_agent)  # agents read the configuration
    page = reader.get(f"/service/sla/calendars/{calendar.pk}/").content.decode()
    assert 'name="op" value="load_year"' not in page
    assert (
        reader.post("/service/sla/calendars/", {"name": "x", "hours_1": "09:00-10:00"}).status_code
        == 403
    )
    assert (
        reader.post(
            f"/service/sla/policies/{policy.pk}/", {"op": "delete_rule", "rule_id": 1}
        ).status_code
        == 403
    )
    assert reader.get(f"/service/sla/calendars/{calendar.pk}/days/{day.pk}/").status_code == 403
    denied = client_for(nobody)
    for url in (
        "/service/sla/",
        "/service/sla/policies/",
        f"/service/sla/policies/{policy.pk}/",
        "/service/sla/calendars/",
        f"/service/sla/calendars/{calendar.pk}/",
        f"/service/sla/calendars/{calendar.pk}/month/",
    ):
        assert denied.get(url).status_code == 403, url


def test_other_workspaces_records_are_404(sla_ws, other_workspace, other_admin):
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get()
    policy = SlaPolicy.objects.in_workspace(sla_ws).first()
    day = CalendarDay.objects.in_workspace(sla_ws).first()
    client = client_for(other_admin)
    for url in (
        f"/service/sla/policies/{policy.pk}/",
        f"/service/sla/calendars/{calendar.pk}/",
        f"/service/sla/calendars/{calendar.pk}/month/",
        f"/service/sla/calendars/{calendar.pk}/days/{day.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/service/sla/calendars/{calendar.pk}/", {"op": "delete"})
    assert response.status_code == 404
    assert WorkCalendar.objects.in_workspace(sla_ws).filter(pk=calendar.pk).exists()
    # Their own policies page lists their own defaults (made on this first visit), not ours.
    page = client.get("/service/sla/policies/").content.decode()
    assert f"/service/sla/policies/{policy.pk}/" not in page
    assert SlaPolicy.objects.in_workspace(other_workspace).count() == 16


def test_policy_pages_fixed_queries(sla_ws, sla_admin, sla_agent2):
    client = client_for(sla_admin)
    policy = SlaPolicy.objects.in_workspace(sla_ws).get(customer_class="B", priority=3)
    client.get("/service/sla/policies/")
    with CaptureQueriesContext(connection) as small_list:
        assert client.get("/service/sla/policies/").status_code == 200
    with CaptureQueriesContext(connection) as small_one:
        assert client.get(f"/service/sla/policies/{policy.pk}/").status_code == 200
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get()
    for i in range(10):
        other = services.sla_policy_create(
            actor=sla_admin,
            workspace=sla_ws,
            name=f"备用{i}",
            customer_class="A",
            priority=1,
            calendar_id=calendar.pk,
            first_response_minutes=10,
            resolution_minutes=100,
            active=False,
        )
        services.escalation_rule_create(
            actor=sla_admin,
            workspace=sla_ws,
            policy_id=policy.pk,
            when="breach",
            action="reassign",
            user_id=sla_agent2.pk,
            position=i,
        )
        assert other.pk
    with CaptureQueriesContext(connection) as large_list:
        assert client.get("/service/sla/policies/").status_code == 200
    with CaptureQueriesContext(connection) as large_one:
        assert client.get(f"/service/sla/policies/{policy.pk}/").status_code == 200
    assert len(large_list) == len(small_list)
    assert len(large_one) == len(small_one)


def test_the_warning_share_reads_without_a_percent_placeholder(sla_ws, sla_manager, sla_agent):
    """The label was "warn at (% of target)", whose "% o" gettext's tools and the catalogs'
    checker read as a format placeholder; it says it in words, on the form and the facts."""
    import re

    from guanxi.service.sla_forms import PolicyForm

    placeholder = re.compile(r"%(?!\()[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
    labels = [
        str(SlaPolicy._meta.get_field("warn_at_percent").verbose_name),
        str(PolicyForm.base_fields["warn_at_percent"].label),
    ]
    assert labels == [
        "warn at this share of the target (%)",
        "Warn at this share of the target (%)",
    ]
    assert not any(placeholder.search(label) for label in labels)
    policy = SlaPolicy.objects.in_workspace(sla_ws).first()
    url = f"/service/sla/policies/{policy.pk}/"
    form_page = client_for(sla_manager).get(url).content.decode()
    facts_page = client_for(sla_agent).get(url).content.decode()
    assert 'name="warn_at_percent"' in form_page
    for page in (form_page, facts_page):
        assert "Warn at this share of the target (%)" in page
