"""The SLA services: the defaults a workspace starts with, loading a year of Chinese
holidays (idempotent, edits kept), calendars and days (validation, clashes, what may not be
deleted), policies (validation, one active per class and priority, the most specific one
applies), rights, and the clock: start, pause/resume keeping the time used, the first
response, re-applying after a priority change, stopping on resolution (a pause closed, a
late one a breach) and running again on reopening, and the real case services' path."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.platform.models import AuditEntry
from guanxi.service.data import cn_holidays
from guanxi.service.models import (
    CalendarDay,
    EscalationRule,
    SlaPolicy,
    WorkCalendar,
)
from guanxi.service.services import business_time, sla_clock
from guanxi.service.services import sla as services

from .sla_support import *  # noqa: F403
from .sla_support import at, contact_of_class, make_case

pytestmark = pytest.mark.django_db


def local(instant):
    return instant.astimezone(at(2026, 1, 1).tzinfo).replace(tzinfo=None)


# --- defaults and holidays -----------------------------------------------------------------------


def test_setup_makes_the_default_calendar_policies_and_rules_once(sla_ws):
    calendar = WorkCalendar.objects.in_workspace(sla_ws).get()
    assert calendar.is_default and calendar.time_zone == "Asia/Shanghai"
    assert (
        calendar.week["1"] == [["09:00", "12:00"], ["13:30", "18:00"]] and "6" not in calendar.week
    )
    days = CalendarDay.objects.in_workspace(sla_ws).filter(calendar=calendar)
    expected = sum(len(cn_holidays.rows_for(y, "zh-hans")) for y in (2025, 2026))
    assert days.count() == expected == 72
    assert days.get(day=dt.date(2026, 2, 14)).kind == "workday"
    assert days.get(day=dt.date(2026, 2, 15)).name == "春节"
    assert days.get(day=dt.date(2025, 10, 11)).name == "国庆节、中秋节调休上班"
    policies = SlaPolicy.objects.in_workspace(sla_ws)
    assert policies.count() == 16
    a_urgent = policies.get(customer_class="A", priority=1)
    assert (a_urgent.first_response_minutes, a_urgent.resolution_minutes) == (30, 240)
    c_low = policies.get(customer_class="C", priority=4)
    assert (c_low.first_response_minutes, c_low.resolution_minutes) == (480, 5 * 450)
    assert set(
        EscalationRule.objects.in_workspace(sla_ws)
        .filter(policy=a_urgent)
        .values_list("when", "action")
    ) == {("warning", "notify"), ("breach", "notify"), ("breach", "raise_priority")}
    assert services.sla_setup(sla_ws) == calendar
    assert SlaPolicy.objects.in_workspace(sla_ws).count() == 16
    assert WorkCalendar.objects.in_workspace(sla_ws).count() == 1


def test_an_english_workspace_gets_english_holiday_names(workspace):
    workspace.language = "en"
    workspace.save()
    calendar = services.sla_setup(workspace)
    row = CalendarDay.objects.in_workspace(workspace).get(
        calendar=calendar, day=dt.date(2026, 1, 4)
    )
    assert row.name == "New Year's Day (adjusted working day)"
    assert calendar.name == "Standard working hours"


def test_loading_a_year_is_idempotent_and_keeps_edits(sla_ws, sla_admin):
    calendar = services.default_calendar(sla_ws)
    assert services.calendar_load_holidays(
        actor=sla_admin, workspace=sla_ws, calendar_id=calendar.pk, year=2026
    ) == {"added": 0, "kept": 39}
    row = CalendarDay.objects.in_workspace(sla_ws).get(calendar=calendar, day=dt.date(2026, 5, 9))
    services.calendar_day_delete(
        actor=sla_admin, workspace=sla_ws, calendar_id=calendar.pk, day_id=row.pk
    )
    changed = CalendarDay.objects.in_workspace(sla_ws).get(
        calendar=calendar, day=dt.date(2026, 10, 1)
    )
    services.calendar_day_update(
        actor=sla_admin,
        workspace=sla_ws,
        calendar_id=calendar.pk,
        day_id=changed.pk,
        name="国庆（公司）",
    )
    result = services.calendar_load_holidays(
        actor=sla_admin, workspace=sla_ws, calendar_id=calendar.pk, year="2026"
    )
    assert result == {"added": 1, "kept": 38}
    changed.refresh_from_db()
    assert changed.name == "国庆（公司）"
    with pytest.raises(ApplicationError) as caught:
        services.calendar_load_holidays(
            actor=sla_admin, workspace=sla_ws, calendar_id=calendar.pk, year=1999
        )
    assert "year" in caught.value.fields
    assert (
        AuditEntry.objects.in_workspace(sla_ws)
        .filter(object_key="service.workcalendar", object_id=str(calendar.pk))
        .exists()
    )


# --- calendars and days ------------------------------------------------------------------------------


def test_calendar_validation_and_what_may_not_be_deleted(sla_ws, sla_admin):
    scope = {"actor": sla_admin, "workspace": sla_ws}
    with pytest.raises(ApplicationError) as caught:
        services.calendar_create(**scope, name="", time_zone="Mars/Base", week={"1": [["9", "x"]]})
    assert set(caught.value.fields) == {"name", "time_zone", "week"}
    with pytest.raises(ApplicationError) as caught:
        services.calendar_create(**scope, name="空", week={})
    assert "week" in caught.value.fields
    berlin = services.calendar_create(
        **scope,
        name="Berlin office",
        time_zone="Europe/Berlin",
        week={str(d): [["09:00", "17:00"]] for d in range(1, 6)},
    )
    assert not berlin.is_default
    with pytest.raises(Conflict):
        services.calendar_create(**scope, name="Berlin office")
    default = services.default_calendar(sla_ws)
    with pytest.raises(Conflict):
        services.calendar_delete(**scope, calendar_id=default.pk)  # policies use it
    berlin = services.calendar_update(**scope, calendar_id=berlin.pk, is_default=True)
    default.refresh_from_db()
    assert berlin.is_default and not default.is_default
    with pytest.raises(Conflict):
        services.calendar_delete(**scope, calendar_id=berlin.pk)  # the default
    services.calendar_update(**scope, calendar_id=default.pk, is_default=True)
    services.calendar_delete(**scope, calendar_id=berlin.pk)
    assert not WorkCalendar.objects.in_workspace(sla_ws).filter(pk=berlin.pk).exists()
    with pytest.raises(NotFound):
        services.calendar_update(**scope, calendar_id=berlin.pk, name="x")


def test_days_validation_and_clashes(sla_ws, sla_admin):
    scope = {"actor": sla_admin, "workspace": sla_ws}
    calendar = services.default_calendar(sla_ws)
    with pytest.raises(ApplicationError) as caught:
        services.calendar_day_create(
            **scope, calendar_id=calendar.pk, day="2026-13-01", kind="party", hours="9-5"
        )
    assert set(caught.value.fields) == {"day", "kind", "hours"}
    with pytest.raises(Conflict):
        services.calendar_day_create(
            **scope, calendar_id=calendar.pk, day="2026-02-15", kind="holiday"
        )
    row = services.calendar_day_create(
        **scope,
        calendar_id=calendar.pk,
        day=dt.date(2026, 3, 7),
        kind="workday",
        name="盘点日",
        hours="10:00-15:00",
    )
    assert row.hours == [["10:00", "15:00"]]
    cal = business_time.business_calendar(
        services.calendar_get(workspace=sla_ws, calendar_id=calendar.pk)
    )
    assert cal.day_minutes(dt.date(2026, 3, 7)) == 300
    row = services.calendar_day_update(
        **scope, calendar_id=calendar.pk, day_id=row.pk, kind="holiday"
    )
    assert row.hours == []  # a holiday has no hours
    with pytest.raises(Conflict):
        services.calendar_day_update(
            **scope, calendar_id=calendar.pk, day_id=row.pk, day="2026-10-01"
        )


def test_other_workspaces_calendars_are_not_found(sla_ws, other_workspace, other_admin):
    calendar = services.default_calendar(sla_ws)
    scope = {"actor": other_admin, "workspace": other_workspace}
    with pytest.raises(NotFound):
        services.calendar_update(**scope, calendar_id=calendar.pk, name="x")
    with pytest.raises(NotFound):
        services.calendar_day_create(
            **scope, calendar_id=calendar.pk, day="2026-03-02", kind="holiday"
        )
    with pytest.raises(NotFound):
        services.calendar_load_holidays(**scope, calendar_id=calendar.pk, year=2026)


def test_configuration_needs_the_right(sla_ws, sla_agent, nobody):
    calendar = services.default_calendar(sla_ws)
    for user in (sla_agent, nobody):  # an agent reads the configuration, changes nothing
        with pytest.raises(PermissionDenied):
            services.calendar_update(
                actor=user, workspace=sla_ws, calendar_id=calendar.pk, name="x"
            )
        with pytest.raises(PermissionDenied):
            services.sla_policy_create(
                actor=user,
                workspace=sla_ws,
                name="x",
                first_response_minutes=1,
                resolution_minutes=2,
            )
    assert (
        AuditEntry.objects.in_workspace(sla_ws)
        .filter(actor=nobody, action="permission_denied")
        .exists()
    )


# --- policies --------------------------------------------------------------------------------------


def test_policy_validation_and_one_active_per_class_and_priority(sla_ws, sla_manager):
    scope = {"actor": sla_manager, "workspace": sla_ws}
    with pytest.raises(ApplicationError) as caught:
        services.sla_policy_create(
            **scope,
            name="",
            customer_class="D",
            priority=9,
            first_response_minutes=120,
            resolution_minutes=60,
            warn_at_percent=0,
        )
    assert set(caught.value.fields) == {
        "name",
        "customer_class",
        "priority",
        "resolution_minutes",
        "warn_at_percent",
    }
    with pytest.raises(Conflict) as caught:
        services.sla_policy_create(
            **scope,
            name="A 紧急 2",
            customer_class="A",
            priority=1,
            first_response_minutes=10,
            resolution_minutes=60,
        )
    assert caught.value.code == "policy_exists"
    inactive = services.sla_policy_create(
        **scope,
        name="A 紧急 备用",
        customer_class="a",
        priority=1,
        first_response_minutes=10,
        resolution_minutes=60,
        active=False,
    )
    assert inactive.customer_class == "A" and inactive.calendar.is_default
    with pytest.raises(Conflict):
        services.sla_policy_update(**scope, policy_id=inactive.pk, active=True)
    any_policy = services.sla_policy_create(
        **scope, name="兜底", first_response_minutes=600, resolution_minutes=6000
    )
    assert any_policy.customer_class == "" and any_policy.priority is None
    services.sla_policy_delete(**scope, policy_id=any_policy.pk)
    assert not SlaPolicy.objects.in_workspace(sla_ws).filter(pk=any_policy.pk).exists()


def test_the_most_specific_policy_applies(workspace, admin_user):
    scope = {"actor": admin_user, "workspace": workspace}
    calendar = services.calendar_create(**scope, name="日历")

    def policy(name, klass="", priority=None, active=True):
        return services.sla_policy_create(
            **scope,
            name=name,
            customer_class=klass,
            priority=priority,
            calendar_id=calendar.pk,
            first_response_minutes=60,
            resolution_minutes=600,
            active=active,
        )

    anything = policy("any")
    urgent = policy("urgent", priority=1)
    class_a = policy("A", klass="A")
    a_urgent = policy("A urgent", klass="A", priority=1)
    policy("B urgent (off)", klass="B", priority=1, active=False)

    def chosen(klass, priority):
        return services.policy_for(
            workspace_id=workspace.pk, customer_class=klass, priority=priority
        )

    assert chosen("A", 1) == a_urgent
    assert chosen("a", 3) == class_a
    assert chosen("B", 1) == urgent
    assert chosen("", 1) == urgent
    assert chosen("C", 4) == anything
    assert chosen("Z", 4) == anything
    services.sla_policy_update(**scope, policy_id=anything.pk, active=False)
    assert chosen("C", 4) is None


def test_escalation_rule_validation(sla_ws, sla_manager, sla_agent, sla_queue):
    scope = {"actor": sla_manager, "workspace": sla_ws}
    policy = SlaPolicy.objects.in_workspace(sla_ws).get(customer_class="B", priority=3)
    with pytest.raises(ApplicationError) as caught:
        services.escalation_rule_create(**scope, policy_id=policy.pk, when="later", action="x")
    assert set(caught.value.fields) == {"when", "action"}
    with pytest.raises(ApplicationError) as caught:
        services.escalation_rule_create(
            **scope, policy_id=policy.pk, when="breach", action="notify"
        )
    assert "notify_assignee" in caught.value.fields
    with pytest.raises(ApplicationError) as caught:
        services.escalation_rule_create(
            **scope,
            policy_id=policy.pk,
            when="breach",
            action="reassign",
            queue_id=sla_queue.pk,
            user_id=sla_agent.pk,
        )
    assert "queue_id" in caught.value.fields
    rule = services.escalation_rule_create(
        **scope, policy_id=policy.pk, when="breach", action="reassign", queue_id=sla_queue.pk
    )
    assert rule.queue == sla_queue and rule.user is None
    rule = services.escalation_rule_update(
        **scope, policy_id=policy.pk, rule_id=rule.pk, queue_id=None, user_id=sla_agent.pk
    )
    assert rule.user == sla_agent and rule.queue is None
    other = SlaPolicy.objects.in_workspace(sla_ws).get(customer_class="C", priority=3)
    with pytest.raises(NotFound):
        services.escalation_rule_delete(**scope, policy_id=other.pk, rule_id=rule.pk)
    services.escalation_rule_delete(**scope, policy_id=policy.pk, rule_id=rule.pk)


# --- the clock ------------------------------------------------------------------------------------


def test_start_sets_due_and_warning_times_from_the_calendar(sla_ws, class_a):
    case = make_case(sla_ws, now=at(2026, 3, 2, 9), priority=1, account=class_a)
    assert case.sla_policy.customer_class == "A" and case.sla_policy.priority == 1
    assert local(case.response_due_at) == dt.datetime(2026, 3, 2, 9, 30)
    assert local(case.response_warn_at) == dt.datetime(2026, 3, 2, 9, 24)  # 80 % of 30 min
    # 4 business hours: 09:00–12:00 and 13:30–14:30.
    assert local(case.resolution_due_at) == dt.datetime(2026, 3, 2, 14, 30)
    assert local(case.resolution_warn_at) == dt.datetime(2026, 3, 2, 13, 42)  # 192 min
    # Opened on the eve of the Spring Festival: due after the holiday.
    late = make_case(sla_ws, now=at(2026, 2, 14, 17, 45), priority=1, account=class_a)
    assert local(late.response_due_at) == dt.datetime(2026, 2, 24, 9, 15)


def test_class_comes_from_the_account_else_the_contact(sla_ws, class_c):
    assert (
        sla_clock.customer_class(make_case(sla_ws, now=at(2026, 3, 2, 9), account=class_c)) == "C"
    )
    person = contact_of_class(sla_ws, "A")
    case = make_case(sla_ws, now=at(2026, 3, 2, 9), contact=person)
    assert case.sla_policy.customer_class == "A"
    unknown = make_case(sla_ws, now=at(2026, 3, 2, 9), priority=2)
    assert unknown.sla_policy.customer_class == "" and unknown.sla_policy.priority == 2


def test_pause_and_resume_keep_the_time_used(sla_ws, class_c):
    start = at(2026, 3, 2, 9)  # Monday
    case = make_case(sla_ws, now=start, priority=3, account=class_c)  # 8 h / 4 d
    sla_clock.sla_pause(case, now=at(2026, 3, 2, 10, 30))
    assert case.sla_paused_at == at(2026, 3, 2, 10, 30)
    assert (case.response_used_minutes, case.resolution_used_minutes) == (90, 90)
    sla_clock.sla_pause(case, now=at(2026, 3, 3, 10))  # already paused: nothing
    assert case.resolution_used_minutes == 90
    resume = at(2026, 3, 4, 9)  # Wednesday: the two days waited do not count
    sla_clock.sla_resume(case, now=resume)
    assert case.sla_paused_at is None
    cal = business_time.business_calendar(case.sla_policy.calendar)
    assert cal.between(resume, case.resolution_due_at) == 4 * 450 - 90
    assert cal.between(resume, case.response_due_at) == 480 - 90
    assert cal.between(resume, case.response_warn_at) == 384 - 90
    # A second pause counts from the resume on.
    sla_clock.sla_pause(case, now=at(2026, 3, 4, 11))
    assert case.resolution_used_minutes == 90 + 120
    sla_clock.sla_resume(case, now=at(2026, 3, 4, 11))
    sla_clock.sla_resume(case, now=at(2026, 3, 5, 11))  # not paused: nothing
    assert cal.between(at(2026, 3, 4, 11), case.resolution_due_at) == 4 * 450 - 210


def test_first_response_keeps_its_business_minutes_and_a_late_one_is_a_breach(sla_ws, class_a):
    on_time = make_case(sla_ws, now=at(2026, 3, 2, 11, 50), priority=1, account=class_a)
    on_time.first_response_at = at(2026, 3, 2, 13, 40)  # 10 min before lunch + 10 after
    sla_clock.sla_first_response(on_time, now=on_time.first_response_at)
    assert on_time.response_used_minutes == 20 and on_time.response_breached_at is None
    late = make_case(sla_ws, now=at(2026, 3, 2, 9), priority=1, account=class_a)
    late.first_response_at = at(2026, 3, 2, 10)
    sla_clock.sla_first_response(late, now=late.first_response_at)
    assert late.response_used_minutes == 60 and late.response_breached_at == at(2026, 3, 2, 10)


def test_reapply_keeps_the_time_used_under_the_new_policy(sla_ws, class_a):
    case = make_case(sla_ws, now=at(2026, 3, 2, 9), priority=3, account=class_a)  # 2 h / 2 d
    now = at(2026, 3, 2, 10)
    case.priority = 1  # 30 min / 4 h
    sla_clock.sla_reapply(case, now=now)
    assert case.sla_policy.priority == 1
    assert case.response_due_at == now  # 60 of 30 minutes used: due at once
    assert local(case.resolution_due_at) == dt.datetime(2026, 3, 2, 14, 30)
    assert case.resolution_used_minutes == 60
    # Paused: the policy changes, the used minutes stay, due times wait for the resume.
    sla_clock.sla_pause(case, now=at(2026, 3, 2, 11))
    case.priority = 4
    sla_clock.sla_reapply(case, now=at(2026, 3, 3, 9))
    assert case.sla_policy.priority == 4 and case.resolution_used_minutes == 120
    sla_clock.sla_resume(case, now=at(2026, 3, 3, 9))
    cal = business_time.business_calendar(case.sla_policy.calendar)
    assert cal.between(at(2026, 3, 3, 9), case.resolution_due_at) == 3 * 450 - 120


def test_resolving_stops_the_clock_and_reopening_runs_it_with_the_time_left(sla_ws, class_c):
    case = make_case(sla_ws, now=at(2026, 3, 2, 9), priority=3, account=class_c)  # 8 h / 4 d
    case.status = "resolved"
    sla_clock.sla_stop(case, now=at(2026, 3, 2, 11))
    assert (case.response_used_minutes, case.resolution_used_minutes) == (120, 120)
    assert case.resolution_breached_at is None and case.sla_paused_at is None
    # Resolved, the clock stands still: a new priority keeps the minutes used at resolution.
    case.priority = 2  # class C, high: 4 h / 3 d
    sla_clock.sla_reapply(case, now=at(2026, 3, 3, 15))
    assert case.sla_policy.priority == 2
    assert (case.response_used_minutes, case.resolution_used_minutes) == (120, 120)
    # Reopened on Wednesday: the time it spent resolved does not count.
    case.status = "open"
    reopen = at(2026, 3, 4, 9)
    sla_clock.sla_reopen(case, now=reopen)
    cal = business_time.business_calendar(case.sla_policy.calendar)
    assert cal.between(reopen, case.resolution_due_at) == 3 * 450 - 120
    assert cal.between(reopen, case.resolution_warn_at) == 3 * 450 * 80 // 100 - 120
    assert cal.between(reopen, case.response_due_at) == 240 - 120


def test_resolving_while_waiting_closes_the_pause(sla_ws, class_c, sla_agent):
    from guanxi.service.selectors.sla import sla_dashboard

    case = make_case(sla_ws, now=at(2026, 3, 2, 9), priority=3, account=class_c)  # 8 h / 4 d
    case.first_response_at = at(2026, 3, 2, 9, 30)
    sla_clock.sla_first_response(case, now=case.first_response_at)
    case.status = "waiting"
    sla_clock.sla_pause(case, now=at(2026, 3, 2, 10, 30))
    # Resolved a week later, all of it spent waiting on the customer: on time.
    resolved = at(2026, 3, 10, 9)
    case.status, case.resolved_at = "resolved", resolved
    sla_clock.sla_stop(case, now=resolved)
    assert case.sla_paused_at is None
    assert case.resolution_used_minutes == 90 and case.resolution_breached_at is None
    assert case.resolution_due_at >= resolved
    case.save()
    board = sla_dashboard(workspace=sla_ws, actor=sla_agent, now=at(2026, 3, 10, 10))
    assert board.states["paused"] == 0
    (row,) = [r for r in board.attainment if (r.customer_class, r.priority) == ("C", 3)]
    assert (row.resolutions, row.resolutions_met) == (1, 1)
    # Reopened: the resolution clock runs with what was left; the response is answered.
    case.status, case.resolved_at = "open", None
    reopen = at(2026, 3, 11, 9)
    response_due = case.response_due_at
    sla_clock.sla_reopen(case, now=reopen)
    cal = business_time.business_calendar(case.sla_policy.calendar)
    assert cal.between(reopen, case.resolution_due_at) == 4 * 450 - 90
    assert case.response_due_at == response_due


def test_a_late_resolution_is_a_breach_and_stays_one_after_reopening(sla_ws, class_a):
    case = make_case(sla_ws, now=at(2026, 3, 2, 9), priority=1, account=class_a)  # 30 min / 4 h
    case.status = "resolved"
    sla_clock.sla_stop(case, now=at(2026, 3, 2, 15))  # 180 + 90 business minutes
    assert case.resolution_used_minutes == 270
    assert case.resolution_breached_at == at(2026, 3, 2, 15)
    case.status = "open"
    sla_clock.sla_reopen(case, now=at(2026, 3, 3, 9))
    assert case.resolution_due_at == case.resolution_warn_at == at(2026, 3, 3, 9)
    assert case.resolution_breached_at == at(2026, 3, 2, 15)


def test_case_create_starts_the_clock(sla_ws, sla_agent, class_a):
    from guanxi.service.models import CaseType
    from guanxi.service.services import cases as case_services

    case_type = CaseType.objects.in_workspace(sla_ws).filter(kind="complaint").first()
    case = case_services.case_create(
        actor=sla_agent,
        workspace=sla_ws,
        values={"case_type": case_type.pk, "subject": "发票开错了", "priority": 2},
        channel="phone",
        account=class_a,
        assign=False,
        acknowledge=False,
    )
    case.refresh_from_db()
    assert case.sla_policy.customer_class == "A" and case.sla_policy.priority == 2
    assert case.response_due_at and case.resolution_due_at > case.response_due_at


def test_the_case_services_stop_the_clock_on_resolution_and_run_it_on_reopening(
    sla_ws, sla_agent, class_c, monkeypatch
):
    from types import SimpleNamespace

    from guanxi.service.models import Case, CaseType
    from guanxi.service.services import cases as case_services

    clock = SimpleNamespace(now=lambda: at(2026, 3, 2, 9))
    monkeypatch.setattr(case_services, "timezone", clock)

    def when(instant):
        clock.now = lambda: instant

    def move(status, instant, **extra):
        when(instant)
        return case_services.case_change_status(
            actor=sla_agent, workspace=sla_ws, case_id=case.pk, status=status, **extra
        )

    case_type = CaseType.objects.in_workspace(sla_ws).filter(kind="fault").first()
    case = case_services.case_create(  # class C, normal: 8 h / 4 days (1,800 minutes)
        actor=sla_agent,
        workspace=sla_ws,
        values={"case_type": case_type.pk, "subject": "扫描仪卡纸", "priority": 3},
        channel="phone",
        account=class_c,
        assign=False,
        acknowledge=False,
    )
    when(at(2026, 3, 2, 9, 30))
    case_services.case_reply(actor=sla_agent, workspace=sla_ws, case_id=case.pk, body="在查")
    move("waiting", at(2026, 3, 2, 10))  # 60 minutes used
    move("open", at(2026, 3, 3, 9))
    move("resolved", at(2026, 3, 3, 10), resolution="换了搓纸轮")  # 120 used
    case = Case.objects.in_workspace(sla_ws).get(pk=case.pk)
    assert case.resolution_used_minutes == 120 and case.sla_paused_at is None
    assert services.sla_sweep(now=at(2026, 3, 10, 9))["resolution_breaches"] == 0
    # The customer writes a week later: reopened, due with the 1,680 minutes left.
    when(at(2026, 3, 11, 9))
    case_services.case_customer_message(
        workspace=sla_ws, case=case, body="又卡纸了", channel="portal"
    )
    case = Case.objects.in_workspace(sla_ws).get(pk=case.pk)
    assert case.status == "open" and case.reopened == 1
    cal = business_time.business_calendar(case.sla_policy.calendar)
    assert cal.between(at(2026, 3, 11, 9), case.resolution_due_at) == 1800 - 120
    counts = services.sla_sweep(now=at(2026, 3, 11, 9, 1))
    assert counts["resolution_breaches"] == counts["resolution_warnings"] == 0
    # Resolved and reopened by the agent: the same again.
    move("resolved", at(2026, 3, 11, 10), resolution="清洁了滚轮")  # 180 used
    move("open", at(2026, 3, 12, 9))
    case = Case.objects.in_workspace(sla_ws).get(pk=case.pk)
    assert case.reopened == 2 and case.resolution_used_minutes == 180
    assert cal.between(at(2026, 3, 12, 9), case.resolution_due_at) == 1800 - 180


def test_a_workspace_without_sla_setup_gets_it_with_its_first_case(workspace):
    from guanxi.service.services.case_types import service_setup

    service_setup(workspace)
    assert not WorkCalendar.objects.in_workspace(workspace).exists()
    case = make_case(workspace, now=at(2026, 3, 2, 9), priority=2)
    assert case.sla_policy is not None and WorkCalendar.objects.in_workspace(workspace).exists()
