"""The route solver: within 1% of the optimum (Held–Karp) on 30+ random seeded instances
small enough to solve exactly, 25 stops in under 2 seconds, time windows met when they
can be and flagged when they cannot; and the rep's day built from visit tasks."""

from __future__ import annotations

import datetime as dt
import random
import time
import zoneinfo
from decimal import Decimal

import pytest

from guanxi.activities.models import TaskKind, TaskStatus
from guanxi.activities.services import routes
from guanxi.activities.services.routes import Stop, exact_open_path, haversine_m, solve_route
from guanxi.activities.tests.factories import TaskFactory
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory

SHANGHAI = (31.2304, 121.4737)


def _instance(seed: int, n: int, spread: float = 0.25):
    rnd = random.Random(seed)
    return [
        (SHANGHAI[0] + (rnd.random() - 0.5) * spread, SHANGHAI[1] + (rnd.random() - 0.5) * spread)
        for _ in range(n)
    ]


def test_haversine():
    assert haversine_m(*SHANGHAI, *SHANGHAI) == 0
    # Shanghai People's Square to Beijing Tiananmen: about 1,067 km.
    assert 1_060_000 < haversine_m(*SHANGHAI, 39.9087, 116.3975) < 1_075_000
    assert haversine_m(0, 0, 0, 1) == pytest.approx(111_195, abs=5)


def test_exact_solver_on_a_line():
    points = [(0, 0.03), (0, 0.01), (0, 0.02)]
    best, order = exact_open_path(points, start=(0, 0))
    assert order == [1, 2, 0] and best == haversine_m(0, 0, 0, 0.03)
    free, _ = exact_open_path(points, start=None)
    assert free == haversine_m(0, 0.01, 0, 0.03)


@pytest.mark.parametrize("seed", range(32))
def test_within_one_percent_of_the_optimum(seed):
    rnd = random.Random(1000 + seed)
    n = rnd.randint(6, 11)
    points = _instance(seed, n)
    start = None if seed % 4 == 0 else _instance(10_000 + seed, 1)[0]
    solution = solve_route([Stop(i, *p) for i, p in enumerate(points)], start=start)
    best, _ = exact_open_path(points, start=start)
    assert sorted(leg.stop.key for leg in solution.legs) == list(range(n))
    assert solution.total_m <= best * 1.01, (solution.total_m, best)
    assert solution.total_m >= best  # the exact solver is a true lower bound


def test_25_stops_in_under_two_seconds():
    points = _instance(25, 25, spread=0.4)
    began = time.perf_counter()
    solution = solve_route([Stop(i, *p) for i, p in enumerate(points)], start=SHANGHAI)
    elapsed = time.perf_counter() - began
    assert len(solution.legs) == 25
    assert elapsed < 2.0, elapsed


def test_legs_add_up_and_etas_advance():
    points = _instance(7, 6)
    solution = solve_route(
        [Stop(i, *p, service_seconds=1800) for i, p in enumerate(points)],
        start=SHANGHAI,
        start_time=9 * 3600,
        speed_kmh=30,
    )
    assert sum(leg.distance_m for leg in solution.legs) == solution.total_m
    assert solution.legs[-1].cumulative_m == solution.total_m
    for a, b in zip(solution.legs, solution.legs[1:], strict=False):
        travel = b.distance_m / (30000 / 3600)
        assert b.arrival == pytest.approx(a.start + 1800 + travel, abs=1)


def test_time_windows_change_the_order_when_they_can_be_met():
    # Three stops on a line east of the start; the farthest must be visited first (before 9:20).
    near, mid, far = (0, 0.01), (0, 0.02), (0, 0.03)
    stops = [
        Stop("near", *near),
        Stop("mid", *mid),
        Stop("far", *far, window_start=None, window_end=9 * 3600 + 20 * 60),
    ]
    solution = solve_route(stops, start=(0, 0), start_time=9 * 3600)
    assert solution.legs[0].stop.key == "far"
    assert not solution.windows_relaxed and not solution.missed
    free = solve_route([Stop(s.key, s.latitude, s.longitude) for s in stops], start=(0, 0))
    assert [leg.stop.key for leg in free.legs] == ["near", "mid", "far"]


def test_impossible_windows_are_flagged_not_fatal():
    stops = [
        Stop("a", 0, 0.01, window_start=8 * 3600, window_end=8 * 3600 + 600),  # before we leave
        Stop("b", 0, 0.02),
    ]
    solution = solve_route(stops, start=(0, 0), start_time=9 * 3600)
    assert solution.windows_relaxed
    assert [s.key for s in solution.missed] == ["a"]
    assert [leg.stop.key for leg in solution.legs] == ["a", "b"]


def test_waits_for_a_window_to_open():
    stops = [Stop("a", 0, 0.001, window_start=11 * 3600, window_end=12 * 3600)]
    solution = solve_route(stops, start=(0, 0), start_time=9 * 3600)
    assert solution.legs[0].start == 11 * 3600 and not solution.missed


def test_no_stops_and_one_stop():
    assert solve_route([], start=SHANGHAI).legs == []
    one = solve_route([Stop("x", 31.0, 121.0)], start=None)
    assert one.total_m == 0 and one.legs[0].distance_m == 0


@pytest.mark.parametrize(
    "lat, lon, field",
    [
        (91, 0, "latitude"),
        (-90.5, 0, "latitude"),
        (0, 181, "longitude"),
        ("abc", 0, "latitude"),
        (0, "nan", "longitude"),
        (10, None, "longitude"),
    ],
)
def test_coordinates_are_checked(lat, lon, field):
    with pytest.raises(ApplicationError) as err:
        routes.check_coordinates(lat, lon)
    assert field in err.value.fields
    assert routes.check_coordinates(None, "") is None
    assert routes.check_coordinates("-90", "180") == (-90.0, 180.0)


# --- the rep's day ------------------------------------------------------------------------------


@pytest.fixture
def rep(workspace):
    team = TeamFactory(workspace=workspace)
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


def _visit(workspace, rep, day, account=None, contact=None, hour=10, **extra):
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    return TaskFactory(
        workspace=workspace,
        assignee=rep,
        kind=TaskKind.VISIT,
        account=account,
        contact=contact,
        due_at=dt.datetime.combine(day, dt.time(hour), tzinfo=zone),
        **extra,
    )


def _account(workspace, rep, lat=None, lon=None, **kw):
    return AccountFactory(
        workspace=workspace,
        owner=rep,
        latitude=None if lat is None else Decimal(str(lat)),
        longitude=None if lon is None else Decimal(str(lon)),
        **kw,
    )


@pytest.mark.django_db
def test_day_route_orders_located_stops_and_lists_the_rest(workspace, rep):
    day = dt.date(2026, 11, 10)
    far = _account(workspace, rep, 31.30, 121.50, name="远")
    near = _account(workspace, rep, 31.24, 121.48, name="近")
    nowhere = _account(workspace, rep, name="无坐标")
    person = ContactFactory(
        workspace=workspace, owner=rep, latitude=Decimal("31.27"), longitude=Decimal("121.49")
    )
    t_far = _visit(workspace, rep, day, far)
    t_near = _visit(workspace, rep, day, near, window_start=dt.time(9), window_end=dt.time(17))
    t_none = _visit(workspace, rep, day, nowhere)
    t_person = _visit(workspace, rep, day, account=nowhere, contact=person)  # contact's point wins
    _visit(workspace, rep, day + dt.timedelta(days=1), near)  # another day
    _visit(workspace, rep, day, near, status=TaskStatus.DONE)  # already done
    TaskFactory(
        workspace=workspace, assignee=rep, kind=TaskKind.CALL, account=near, due_at=t_far.due_at
    )  # not a visit
    route = routes.day_route(
        workspace=workspace,
        actor=rep,
        day=day,
        start_latitude="31.2304",
        start_longitude="121.4737",
        now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    assert [s.task for s in route.stops] == [t_near, t_person, t_far]
    assert route.unlocated == [t_none]
    assert route.stops[0].leg_m == haversine_m(*SHANGHAI, 31.24, 121.48)
    assert route.stops[-1].cumulative_m == route.total_m
    assert route.stops[0].eta.hour == 9 and route.stops[0].eta.date() == day
    assert route.stops[1].eta > route.stops[0].eta
    assert route.stops[0].geo_uri.startswith("geo:31.240000,121.480000?q=")


@pytest.mark.django_db
def test_day_route_without_start_begins_at_a_stop(workspace, rep):
    day = dt.date(2026, 11, 10)
    for i in range(3):
        _visit(workspace, rep, day, _account(workspace, rep, 31.2 + i * 0.01, 121.4))
    route = routes.day_route(workspace=workspace, actor=rep, day=day)
    assert route.stops[0].leg_m == 0 and route.start is None
    assert route.total_m == haversine_m(31.2, 121.4, 31.22, 121.4)


@pytest.mark.django_db
def test_day_route_visibility(workspace, rep, other_workspace):
    manager = UserFactory(workspace=workspace, role_code="sales_manager", team=rep.team)
    colleague = UserFactory(workspace=workspace, team=rep.team)
    day = dt.date(2026, 11, 10)
    _visit(workspace, rep, day, _account(workspace, rep, 31.2, 121.4))
    assert (
        len(routes.day_route(workspace=workspace, actor=manager, day=day, user_id=rep.pk).stops)
        == 1
    )
    with pytest.raises(NotFound):
        routes.day_route(workspace=workspace, actor=colleague, day=day, user_id=rep.pk)
    foreign = UserFactory(workspace=other_workspace)
    with pytest.raises(NotFound):
        routes.day_route(workspace=workspace, actor=manager, day=day, user_id=foreign.pk)
    with pytest.raises(ApplicationError) as err:
        routes.day_route(
            workspace=workspace, actor=rep, day=day, start_latitude=95, start_longitude=1
        )
    assert "start_latitude" in err.value.fields


@pytest.mark.django_db
def test_day_route_needs_task_rights(workspace):
    nobody = UserFactory(workspace=workspace)
    nobody.role.rights = {}
    nobody.role.save()
    with pytest.raises(PermissionDenied):
        routes.day_route(workspace=workspace, actor=nobody, day=dt.date(2026, 1, 5))
