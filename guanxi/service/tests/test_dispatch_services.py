"""Dispatch: technicians ranked for a case by skill, distance (from home or the day's other
visits), region and free capacity, with the reason in words; booking makes the visit task
on the technician's day route, the case's event, the technician's notification and the
customer's message; refusals (another workspace's technician, not a technician, overlap,
the past, end before start, a closed case, no customer, no right); completing with the work
report and cancelling; technicians see only their own."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from guanxi.activities.models import Notification, Task, TimelineEntry
from guanxi.activities.services import routes
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.tests.factories import ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.service.models import CaseEvent, CaseMessage, Dispatch, SkillKind
from guanxi.service.services import dispatch

from .assignment_support import *  # noqa: F403
from .assignment_support import make_agent, make_case, make_category, skill

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def tomorrow() -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def technician(workspace, name, team=None, **profile):
    user = make_agent(workspace, name, role="technician", is_technician=True, **profile)
    user.time_zone = "Asia/Shanghai"
    user.team = team
    user.save(update_fields=["time_zone", "team"])
    return user


@pytest.fixture
def crew(service_ws, manager, customer):
    # The service manager sees the dispatches of their team (and the teams below).
    team = TeamFactory(workspace=service_ws, name="上门服务")
    manager.time_zone = "Asia/Shanghai"
    manager.team = team
    manager.save(update_fields=["time_zone", "team"])
    category = make_category(service_ws, "空调维修")
    near = technician(
        service_ws, "近师傅", team, home_latitude="31.230000", home_longitude="121.470000"
    )
    skilled = technician(
        service_ws, "强师傅", team, home_latitude="31.220000", home_longitude="121.540000"
    )
    skill(skilled, SkillKind.CATEGORY, category.pk, 5)
    regional = technician(
        service_ws,
        "杭师傅",
        home_latitude="30.270000",
        home_longitude="120.150000",
        regions=["华东"],
    )
    full = technician(service_ws, "满师傅", team, max_visits_per_day=1)
    Task.objects.create(
        workspace=service_ws,
        kind="visit",
        title="别的上门",
        due_at=at(tomorrow(), 9),
        assignee=full,
        contact=ContactFactory(
            workspace=service_ws, name="邻居", latitude="31.229500", longitude="121.455500"
        ),
    )
    not_tech = make_agent(service_ws, "坐席")
    case = make_case(
        service_ws,
        subject="空调不制冷",
        category=category,
        contact=customer,
        account=customer.account,
    )
    return {
        "case": case,
        "near": near,
        "skilled": skilled,
        "regional": regional,
        "full": full,
        "agent": not_tech,
    }


def test_ranking_by_skill_distance_region_and_capacity(service_ws, manager, crew):
    ranked = dispatch.dispatch_suggest(
        actor=manager, workspace=service_ws, case_id=crew["case"].pk, day=tomorrow()
    )
    names = [s.technician.full_name for s in ranked]
    assert names == ["强师傅", "近师傅", "杭师傅", "满师傅"]
    by = {s.technician.full_name: s for s in ranked}
    assert by["强师傅"].skill == 5 and 7 < by["强师傅"].distance_km < 9
    assert by["近师傅"].distance_from == "home" and by["近师傅"].distance_km < 2
    assert by["杭师傅"].region_match and by["杭师傅"].distance_km > 100
    full = by["满师傅"]
    assert full.full and full.distance_from == "visit" and full.distance_km < 0.2
    assert "skill 5" in by["强师傅"].reason and "km from home" in by["强师傅"].reason
    assert "works this region" in by["杭师傅"].reason
    assert "fully booked" in full.reason and "from another visit" in full.reason
    assert "坐席" not in names  # not a technician

    # Another day the full one is free again (and has no visit to start from).
    other_day = dispatch.dispatch_suggest(
        actor=manager,
        workspace=service_ws,
        case_id=crew["case"].pk,
        day=tomorrow() + dt.timedelta(days=1),
    )
    free = next(s for s in other_day if s.technician.full_name == "满师傅")
    assert not free.full and free.distance_km is None and "distance unknown" in free.reason


def test_dispatch_makes_the_visit_on_the_technicians_day_and_route(
    service_ws, manager, crew, customer
):
    case, tech = crew["case"], crew["skilled"]
    made = dispatch.dispatch_create(
        actor=manager,
        workspace=service_ws,
        case_id=case.pk,
        technician_id=tech.pk,
        starts_at=at(tomorrow(), 10),
        ends_at=at(tomorrow(), 12),
        note="带压缩机配件",
    )
    assert made.status == "scheduled" and "skill 5" in made.reason and made.distance_km
    task = made.task
    assert task.kind == "visit" and task.assignee == tech and task.status == "open"
    assert task.due_at == at(tomorrow(), 10) and task.ends_at == at(tomorrow(), 12)
    assert (task.account_id, task.contact_id) == (customer.account_id, customer.pk)
    assert (task.related_object_key, task.related_object_id) == ("service.case", case.pk)
    assert "静安区" in task.location and "带压缩机配件" in task.description

    day = routes.day_route(workspace=service_ws, actor=tech, day=tomorrow())
    assert [stop.task.pk for stop in day.stops] == [task.pk]
    assert day.stops[0].contact == customer

    event = CaseEvent.objects.in_workspace(service_ws).get(case=case, kind="dispatched")
    assert event.to_value == "强师傅" and event.actor == manager
    note = Notification.objects.in_workspace(service_ws).get(user=tech)
    assert note.task == task and case.number in note.title
    message = CaseMessage.objects.in_workspace(service_ws).get(case=case, kind="out")
    assert "强师傅" in message.body and "10:00" in message.body and message.author == manager


def test_refusals(service_ws, manager, crew, nobody, other_admin):
    from guanxi.service.services.case_types import service_setup

    case = crew["case"]
    service_setup(other_admin.workspace)
    foreign_tech = technician(other_admin.workspace, "别家师傅")
    good = {"starts_at": at(tomorrow(), 10), "ends_at": at(tomorrow(), 12)}

    def book(**changes):
        values = {"case_id": case.pk, "technician_id": crew["near"].pk, **good, **changes}
        return dispatch.dispatch_create(actor=manager, workspace=service_ws, **values)

    for changes, field in (
        ({"technician_id": foreign_tech.pk}, "technician"),
        ({"technician_id": crew["agent"].pk}, "technician"),
        ({"technician_id": "x"}, "technician"),
        ({"starts_at": timezone.now() - dt.timedelta(hours=1)}, "starts_at"),
        ({"ends_at": at(tomorrow(), 9)}, "ends_at"),
        ({"ends_at": at(tomorrow(), 10) + dt.timedelta(days=2)}, "ends_at"),
        ({"starts_at": "not a time"}, "starts_at"),
    ):
        with pytest.raises(ApplicationError) as exc:
            book(**changes)
        assert field in exc.value.fields, (changes, exc.value.fields)

    book()
    with pytest.raises(Conflict) as exc:  # overlaps 10–12
        book(starts_at=at(tomorrow(), 11), ends_at=at(tomorrow(), 13))
    assert exc.value.code == "overlap"
    book(starts_at=at(tomorrow(), 12), ends_at=at(tomorrow(), 13))  # back to back is fine

    bare = make_case(service_ws, subject="没有客户")
    with pytest.raises(ApplicationError) as exc:
        book(case_id=bare.pk, starts_at=at(tomorrow(), 15), ends_at=at(tomorrow(), 16))
    assert exc.value.code == "no_customer"
    case.status = "closed"
    case.save()
    with pytest.raises(Conflict):
        book(starts_at=at(tomorrow(), 15), ends_at=at(tomorrow(), 16))
    with pytest.raises(PermissionDenied):
        dispatch.dispatch_create(
            actor=nobody,
            workspace=service_ws,
            case_id=case.pk,
            technician_id=crew["near"].pk,
            **good,
        )
    with pytest.raises(PermissionDenied):
        dispatch.dispatch_suggest(
            actor=nobody, workspace=service_ws, case_id=case.pk, day=tomorrow()
        )
    with pytest.raises(NotFound):
        dispatch.dispatch_suggest(
            actor=other_admin, workspace=other_admin.workspace, case_id=case.pk, day=tomorrow()
        )
    assert Dispatch.objects.in_workspace(service_ws).count() == 2
    assert Task.objects.in_workspace(service_ws).filter(kind="visit").count() == 3


def test_complete_and_cancel_technicians_see_their_own(service_ws, manager, crew, customer):
    case = crew["case"]
    first = dispatch.dispatch_create(
        actor=manager,
        workspace=service_ws,
        case_id=case.pk,
        technician_id=crew["near"].pk,
        starts_at=at(tomorrow(), 10),
        ends_at=at(tomorrow(), 12),
    )
    second = dispatch.dispatch_create(
        actor=manager,
        workspace=service_ws,
        case_id=case.pk,
        technician_id=crew["skilled"].pk,
        starts_at=at(tomorrow(), 14),
        ends_at=at(tomorrow(), 15),
    )
    near = crew["near"]
    # Another technician's visit is not theirs to close.
    with pytest.raises(NotFound):
        dispatch.dispatch_complete(
            actor=near, workspace=service_ws, dispatch_id=second.pk, report="x"
        )
    with pytest.raises(ApplicationError) as exc:
        dispatch.dispatch_complete(
            actor=near, workspace=service_ws, dispatch_id=first.pk, report=" "
        )
    assert "report" in exc.value.fields

    done = dispatch.dispatch_complete(
        actor=near, workspace=service_ws, dispatch_id=first.pk, report="更换了压缩机，已制冷"
    )
    assert done.status == "done" and done.report.startswith("更换")
    task = Task.objects.in_workspace(service_ws).get(pk=first.task_id)
    assert task.status == "done" and task.completed_at
    entry = TimelineEntry.objects.in_workspace(service_ws).get(related_object_id=task.pk)
    assert entry.body == "更换了压缩机，已制冷" and entry.account_id == customer.account_id
    with pytest.raises(Conflict):
        dispatch.dispatch_complete(
            actor=near, workspace=service_ws, dispatch_id=first.pk, report="再"
        )
    with pytest.raises(Conflict):
        dispatch.dispatch_cancel(actor=manager, workspace=service_ws, dispatch_id=first.pk)

    cancelled = dispatch.dispatch_cancel(
        actor=manager, workspace=service_ws, dispatch_id=second.pk, reason="客户改期 100%"
    )
    assert cancelled.status == "cancelled"
    assert Task.objects.in_workspace(service_ws).get(pk=second.task_id).status == "cancelled"
    told = Notification.objects.in_workspace(service_ws).filter(user=crew["skilled"]).latest("id")
    assert ("cancelled" in told.title or "已取消" in told.title) and told.body == "客户改期 100%"
    assert (
        dispatch.dispatch_cancel(actor=manager, workspace=service_ws, dispatch_id=second.pk).status
        == "cancelled"
    )  # again: nothing changes
    kinds = list(
        CaseEvent.objects.in_workspace(service_ws)
        .filter(case=case, kind="dispatched")
        .order_by("id")
        .values_list("to_value", flat=True)
    )
    assert kinds == ["近师傅", "强师傅", "done", "cancelled"]
    # The freed time can be booked again.
    dispatch.dispatch_create(
        actor=manager,
        workspace=service_ws,
        case_id=case.pk,
        technician_id=crew["skilled"].pk,
        starts_at=at(tomorrow(), 14),
        ends_at=at(tomorrow(), 15),
    )


def test_other_workspace_cannot_touch_a_dispatch(service_ws, manager, crew, other_admin):
    made = dispatch.dispatch_create(
        actor=manager,
        workspace=service_ws,
        case_id=crew["case"].pk,
        technician_id=crew["near"].pk,
        starts_at=at(tomorrow(), 10),
        ends_at=at(tomorrow(), 11),
    )
    with pytest.raises(NotFound):
        dispatch.dispatch_complete(
            actor=other_admin, workspace=other_admin.workspace, dispatch_id=made.pk, report="x"
        )
    with pytest.raises(NotFound):
        dispatch.dispatch_cancel(
            actor=other_admin, workspace=other_admin.workspace, dispatch_id=made.pk
        )
    reader = UserFactory(workspace=service_ws, role_code="read_only")
    with pytest.raises(PermissionDenied):
        dispatch.dispatch_cancel(actor=reader, workspace=service_ws, dispatch_id=made.pk)
    made.refresh_from_db()
    assert made.status == "scheduled"


def test_a_manager_sees_the_visit_they_sent_outside_their_team(service_ws, manager, crew):
    """杭师傅 is in no team: the manager's team scope does not cover him, but the manager
    sent him and sees that visit (and no one else's outside the team)."""
    from guanxi.service.selectors import assignment as selectors

    sent = dispatch.dispatch_create(
        actor=manager,
        workspace=service_ws,
        case_id=crew["case"].pk,
        technician_id=crew["regional"].pk,
        starts_at=at(tomorrow(), 14),
        ends_at=at(tomorrow(), 16),
    )
    colleague = make_agent(service_ws, "另一位经理", role="service_manager")
    other = dispatch.dispatch_create(
        actor=colleague,
        workspace=service_ws,
        case_id=crew["case"].pk,
        technician_id=crew["regional"].pk,
        starts_at=at(tomorrow() + dt.timedelta(days=1), 9),
        ends_at=at(tomorrow() + dt.timedelta(days=1), 10),
    )
    seen = selectors.case_dispatches(workspace=service_ws, actor=manager, case=crew["case"])
    assert [d.pk for d in seen] == [sent.pk]
    assert selectors.dispatch_get(workspace=service_ws, actor=manager, dispatch_id=sent.pk)
    with pytest.raises(NotFound):
        selectors.dispatch_get(workspace=service_ws, actor=manager, dispatch_id=other.pk)
