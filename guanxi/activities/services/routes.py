"""The day's route: a rep's visits on a day, in the order that makes the shortest path.

``solve_route`` is the solver (no database): an open path from a start point through every
stop, shortest in haversine metres, honouring time windows where given — OR-Tools routing
(PATH_CHEAPEST_ARC, then GUIDED_LOCAL_SEARCH within a time limit). Travel time is the
distance at an assumed speed (30 km/h in town), each stop takes a service time (30 min).
When the windows cannot all be met it solves without them and flags the windows missed,
never failing. Without a start point the path may begin at any stop (a free start).

``day_route`` reads the rep's open visit tasks of the day, takes each stop's coordinates
from the task's contact when the contact has them, else from the account, and lists the
stops without coordinates apart ("no location"). Coordinates come from the customer file
(entered, imported, or picked on the check-in page); nothing is geocoded.

``exact_open_path`` (Held–Karp) is the reference the tests and the bench compare with.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..localtime import check_day, user_zone
from ..objects import TASK

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_SPEED_KMH = 30.0
DEFAULT_SERVICE_MINUTES = 30
DAY_SECONDS = 24 * 3600
MAX_STOPS = 200
DEFAULT_START_TIME = dt.time(9, 0)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Great-circle distance in whole metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a))))


def check_coordinates(latitude, longitude, *, prefix: str = "") -> tuple[float, float] | None:
    """Both or neither; −90..90 and −180..180. Returns floats, or None for no position."""
    if latitude in (None, "") and longitude in (None, ""):
        return None
    errors = {}
    values = []
    for name, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        try:
            number = float(Decimal(str(value).strip()))
        except (ArithmeticError, ValueError, TypeError):
            number = None
        if number is None or not math.isfinite(number) or abs(number) > limit:
            errors[f"{prefix}{name}"] = [
                _("Enter a latitude between -90 and 90.")
                if name == "latitude"
                else _("Enter a longitude between -180 and 180.")
            ]
        values.append(number)
    if errors:
        message = " ".join(str(m) for msgs in errors.values() for m in msgs)
        raise ApplicationError(message, code="invalid_position", fields=errors)
    return values[0], values[1]


@dataclass
class Stop:
    """One place to visit. ``window_*`` are seconds after midnight, or None."""

    key: object
    latitude: float
    longitude: float
    window_start: int | None = None
    window_end: int | None = None
    service_seconds: int = DEFAULT_SERVICE_MINUTES * 60


@dataclass
class Leg:
    stop: Stop
    distance_m: int
    cumulative_m: int
    arrival: int  # seconds after midnight, when the rep gets there
    start: int  # when the visit begins (after waiting for the window to open)
    window_missed: bool


@dataclass
class Solution:
    legs: list[Leg]
    total_m: int
    windows_relaxed: bool
    solve_seconds: float
    missed: list[Stop] = field(default_factory=list)


def _distance_matrix(points: list[tuple[float, float]]) -> list[list[int]]:
    n = len(points)
    matrix = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            d = haversine_m(*points[i], *points[j])
            matrix[i][j] = matrix[j][i] = d
    return matrix


def time_limit_for(stops: int) -> float:
    """Guided local search runs until its time limit: long enough for ~50 stops, short
    enough that 25 stops answer well under two seconds."""
    return min(1.0, 0.1 + 0.03 * stops)


def _solve(
    matrix,
    stops: list[Stop],
    *,
    start_given: bool,
    start_time: int,
    speed_ms: float,
    windows: bool,
    time_limit: float,
) -> list[int] | None:
    """Node order of the stops (1-based matrix indices) or None when infeasible.

    Nodes: 0 the start (a dummy at zero distance from everything when no start is given),
    1..n the stops, n+1 a dummy end at zero distance from everything (an open path)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(stops)
    size = n + 2
    end = n + 1

    def dist(i: int, j: int) -> int:
        if j == end or i == end:
            return 0
        if i == 0 and not start_given:
            return 0
        if j == 0:
            return 0
        return matrix[i][j]

    manager = pywrapcp.RoutingIndexManager(size, 1, [0], [end])
    routing = pywrapcp.RoutingModel(manager)

    def distance_cb(a: int, b: int) -> int:
        return dist(manager.IndexToNode(a), manager.IndexToNode(b))

    def time_cb(a: int, b: int) -> int:
        i, j = manager.IndexToNode(a), manager.IndexToNode(b)
        service = stops[i - 1].service_seconds if 1 <= i <= n else 0
        return service + math.ceil(dist(i, j) / speed_ms)

    distance_index = routing.RegisterTransitCallback(distance_cb)
    routing.SetArcCostEvaluatorOfAllVehicles(distance_index)
    if windows:
        time_index = routing.RegisterTransitCallback(time_cb)
        horizon = 3 * DAY_SECONDS
        routing.AddDimension(time_index, DAY_SECONDS, horizon, False, "time")
        time_dim = routing.GetDimensionOrDie("time")
        time_dim.CumulVar(routing.Start(0)).SetRange(start_time, start_time)
        for node, stop in enumerate(stops, 1):
            if stop.window_start is None and stop.window_end is None:
                continue
            lo = stop.window_start if stop.window_start is not None else 0
            hi = stop.window_end if stop.window_end is not None else horizon
            time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(lo, hi)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(10, int(time_limit * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    order = []
    index = routing.Start(0)
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        if 1 <= node <= n:
            order.append(node)
        index = solution.Value(routing.NextVar(index))
    return order


def _walk(order, matrix, stops, *, start_given, start_time, speed_ms) -> tuple[list[Leg], int]:
    legs, cumulative, clock, previous = [], 0, start_time, 0 if start_given else None
    for node in order:
        stop = stops[node - 1]
        distance = matrix[previous][node] if previous is not None else 0
        clock += math.ceil(distance / speed_ms)
        arrival = clock
        begin = max(arrival, stop.window_start) if stop.window_start is not None else arrival
        missed = stop.window_end is not None and begin > stop.window_end
        cumulative += distance
        legs.append(Leg(stop, distance, cumulative, arrival, begin, missed))
        clock = begin + stop.service_seconds
        previous = node
    return legs, cumulative


def solve_route(
    stops: list[Stop],
    *,
    start: tuple[float, float] | None = None,
    start_time: int = DEFAULT_START_TIME.hour * 3600,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    time_limit: float | None = None,
) -> Solution:
    """The shortest open path from ``start`` (or from any stop) through ``stops``,
    meeting their time windows when possible; else solved without windows, the missed
    windows flagged."""
    began = time.perf_counter()
    if not stops:
        return Solution([], 0, False, 0.0)
    points = [start or (stops[0].latitude, stops[0].longitude)]
    points += [(s.latitude, s.longitude) for s in stops]
    matrix = _distance_matrix(points)
    speed_ms = max(1.0, speed_kmh) * 1000 / 3600
    limit = time_limit if time_limit is not None else time_limit_for(len(stops))
    common = {"start_given": start is not None, "start_time": start_time, "speed_ms": speed_ms}
    has_windows = any(s.window_start is not None or s.window_end is not None for s in stops)
    relaxed = False
    if len(stops) == 1:
        order = [1]
    else:
        order = None
        if has_windows:
            order = _solve(matrix, stops, windows=True, time_limit=limit, **common)
        if order is None:
            relaxed = has_windows
            order = _solve(matrix, stops, windows=False, time_limit=limit, **common)
    legs, total = _walk(order, matrix, stops, **common)
    return Solution(
        legs,
        total,
        relaxed,
        time.perf_counter() - began,
        [leg.stop for leg in legs if leg.window_missed],
    )


def exact_open_path(
    points: list[tuple[float, float]], *, start: tuple[float, float] | None
) -> tuple[int, list[int]]:
    """Held–Karp: the optimal open path through ``points`` from ``start`` (or from any
    point when None), by distance only. O(2ⁿ·n²): for ≤ ~12 points (tests, the bench)."""
    n = len(points)
    if n == 0:
        return 0, []
    d = _distance_matrix(points)
    first = [haversine_m(*start, *p) if start else 0 for p in points]
    inf = float("inf")
    size = 1 << n
    cost = [[inf] * n for _ in range(size)]
    parent = [[-1] * n for _ in range(size)]
    for j in range(n):
        cost[1 << j][j] = first[j]
    for mask in range(1, size):
        row = cost[mask]
        for j in range(n):
            c = row[j]
            if c == inf:
                continue
            for k in range(n):
                if mask & (1 << k):
                    continue
                nxt = mask | (1 << k)
                value = c + d[j][k]
                if value < cost[nxt][k]:
                    cost[nxt][k] = value
                    parent[nxt][k] = j
    full = size - 1
    last = min(range(n), key=lambda j: cost[full][j])
    best = int(cost[full][last])
    order, mask = [], full
    while last != -1:
        order.append(last)
        last, mask = parent[mask][last], mask & ~(1 << last)
    return best, order[::-1]


# --- the rep's day ------------------------------------------------------------------------------


@dataclass
class RouteStop:
    task: object
    account: object
    contact: object
    latitude: float
    longitude: float
    leg_m: int
    cumulative_m: int
    eta: dt.datetime
    window_missed: bool

    @property
    def geo_uri(self) -> str:
        label = getattr(self.account or self.contact, "name", "")
        from urllib.parse import quote

        lat, lon = f"{self.latitude:.6f}", f"{self.longitude:.6f}"
        return f"geo:{lat},{lon}?q={lat},{lon}({quote(label)})"


@dataclass
class DayRoute:
    user: User
    day: dt.date
    start: tuple[float, float] | None
    stops: list[RouteStop]
    unlocated: list
    total_m: int
    windows_relaxed: bool
    solve_seconds: float

    @property
    def missed(self) -> list[RouteStop]:
        return [s for s in self.stops if s.window_missed]


def _coordinates(task) -> tuple[float, float] | None:
    for record in (task.contact, task.account):
        if record is not None and record.latitude is not None and record.longitude is not None:
            return float(record.latitude), float(record.longitude)
    return None


def _seconds(value: dt.time | None) -> int | None:
    return None if value is None else value.hour * 3600 + value.minute * 60 + value.second


def route_user(*, workspace: Workspace, actor: User, user_id) -> User:
    """Whose route: the actor's own, or a rep whose tasks the actor may see."""
    permissions.require(actor, TASK, Action.READ)
    if user_id in (None, "") or str(user_id) == str(actor.pk):
        return actor
    try:
        user = User.objects.filter(workspace=workspace).select_related("team").get(pk=int(user_id))
    except (User.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    visibility = permissions.visibility_for(actor, TASK)
    allowed = visibility == "all" or (
        actor.team is not None
        and user.team is not None
        and (
            (visibility == "team" and user.team_id == actor.team_id)
            or (visibility == "team_below" and user.team.path.startswith(actor.team.path))
        )
    )
    if not allowed:
        raise NotFound()
    return user


def day_route(
    *,
    workspace: Workspace,
    actor: User,
    day: dt.date,
    user_id=None,
    start_latitude=None,
    start_longitude=None,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    now: dt.datetime | None = None,
) -> DayRoute:
    """The rep's open visits on ``day`` in the shortest order from the start point (the
    browser's position or a given coordinate; without one, from the best first stop).
    Today's route leaves now (or at 09:00 if earlier); another day's at 09:00."""
    from ..selectors.visits import day_visits

    check_day(day)
    start = check_coordinates(start_latitude, start_longitude, prefix="start_")
    user = route_user(workspace=workspace, actor=actor, user_id=user_id)
    zone = user_zone(user)
    tasks = day_visits(workspace=workspace, actor=actor, user=user, day=day, tz=zone)
    if len(tasks) > MAX_STOPS:
        raise ApplicationError(
            _("At most %(n)s visits a day can be routed.") % {"n": MAX_STOPS},
            code="too_many_stops",
        )
    located, unlocated = [], []
    for task in tasks:
        point = _coordinates(task)
        if point is None:
            unlocated.append(task)
            continue
        located.append(
            Stop(
                key=task,
                latitude=point[0],
                longitude=point[1],
                window_start=_seconds(task.window_start),
                window_end=_seconds(task.window_end),
            )
        )
    now_local = (now or timezone.now()).astimezone(zone)
    start_clock = DEFAULT_START_TIME.hour * 3600
    if now_local.date() == day:
        start_clock = max(start_clock, now_local.hour * 3600 + now_local.minute * 60)
    solution = solve_route(located, start=start, start_time=start_clock, speed_kmh=speed_kmh)
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    stops = [
        RouteStop(
            task=leg.stop.key,
            account=leg.stop.key.account,
            contact=leg.stop.key.contact,
            latitude=leg.stop.latitude,
            longitude=leg.stop.longitude,
            leg_m=leg.distance_m,
            cumulative_m=leg.cumulative_m,
            eta=midnight + dt.timedelta(seconds=leg.start),
            window_missed=leg.window_missed,
        )
        for leg in solution.legs
    ]
    return DayRoute(
        user=user,
        day=day,
        start=start,
        stops=stops,
        unlocated=unlocated,
        total_m=solution.total_m,
        windows_relaxed=solution.windows_relaxed,
        solve_seconds=solution.solve_seconds,
    )
