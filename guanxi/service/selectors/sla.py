"""Reads of the SLA part: calendars, days and policies for the configuration pages, the
month preview of a calendar, and the SLA dashboard's figures (a fixed number of queries
whatever the number of cases; the dashboard counts only the cases the user may see)."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import Case as CaseWhen
from django.db.models import Count, F, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import (
    CalendarDay,
    CalendarDayKind,
    Case,
    CaseEvent,
    CaseEventKind,
    CasePriority,
    EscalationRule,
    SlaPolicy,
    WorkCalendar,
)
from ..objects import CASE, CONFIGURATION
from ..services import business_time

AT_RISK_LIMIT = 50
PERIOD_DAYS = 30
CLASSES = ("A", "B", "C", "")


# --- configuration ---------------------------------------------------------------------------


def _require_config(actor) -> None:
    permissions.require(actor, CONFIGURATION, Action.READ)


def calendar_list(*, workspace, actor):
    _require_config(actor)
    return (
        WorkCalendar.objects.in_workspace(workspace)
        .annotate(day_count=Count("days"))
        .order_by("-is_default", "name", "id")
    )


def calendar_detail(*, workspace, actor, calendar_id) -> WorkCalendar:
    from ..services.sla import calendar_get

    _require_config(actor)
    return calendar_get(workspace=workspace, calendar_id=calendar_id)


def calendar_days(*, workspace, actor, calendar, year: int | None = None):
    _require_config(actor)
    qs = CalendarDay.objects.in_workspace(workspace).filter(calendar=calendar)
    if year:
        qs = qs.filter(day__year=year)
    return qs.order_by("day")


def calendar_years(*, workspace, calendar) -> list[int]:
    """The years that have special days in the calendar (for the days list's year links)."""
    return [
        d.year
        for d in CalendarDay.objects.in_workspace(workspace)
        .filter(calendar=calendar)
        .dates("day", "year")
    ]


def policy_list(*, workspace, actor):
    _require_config(actor)
    return (
        SlaPolicy.objects.in_workspace(workspace)
        .select_related("calendar")
        .annotate(rule_count=Count("rules"))
        .order_by("customer_class", "priority", "id")
    )


def policy_detail(*, workspace, actor, policy_id) -> SlaPolicy:
    from ..services.sla import policy_get

    _require_config(actor)
    return policy_get(workspace=workspace, policy_id=policy_id)


def policy_rules(*, workspace, actor, policy):
    _require_config(actor)
    return (
        EscalationRule.objects.in_workspace(workspace)
        .filter(policy=policy)
        .select_related("user", "queue")
        .order_by("position", "id")
    )


# --- the month preview -----------------------------------------------------------------------


@dataclass
class PreviewDay:
    day: dt.date
    in_month: bool
    hours: str
    minutes: int
    special: CalendarDay | None
    is_today: bool = False

    @property
    def kind(self) -> str:
        if self.special is not None:
            return self.special.kind
        return "working" if self.minutes else "off"


@dataclass
class MonthPreview:
    first: dt.date
    weeks: list[list[PreviewDay]]
    minutes: int  # business minutes of the month
    working_days: int
    previous: dt.date
    next: dt.date


def _shift_month(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(text: str | None, *, today: dt.date) -> dt.date:
    """``"2026-02"`` as the first of that month; today's month when absent or unreadable."""
    try:
        year, month = (int(p) for p in str(text or "").split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    except ValueError:
        pass
    return today.replace(day=1)


def calendar_month(*, workspace, actor, calendar: WorkCalendar, month: dt.date) -> MonthPreview:
    """A month of the calendar as a wall calendar: each day's hours and special day, weeks
    from Monday (like an iCal month view). Two queries (the days of the month, and the
    calendar's days for the business-time object, cached)."""
    _require_config(actor)
    cal = business_time.business_calendar(calendar)
    first = month.replace(day=1)
    days_in = pycalendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=days_in)
    special = {
        d.day: d
        for d in CalendarDay.objects.in_workspace(workspace).filter(
            calendar=calendar,
            day__gte=first - dt.timedelta(days=7),
            day__lte=last + dt.timedelta(days=7),
        )
    }
    today = timezone.now().astimezone(cal.zone).date()
    start = first - dt.timedelta(days=first.weekday())
    end = last + dt.timedelta(days=6 - last.weekday())
    weeks: list[list[PreviewDay]] = []
    day = start
    total = working = 0
    while day <= end:
        if day.weekday() == 0:
            weeks.append([])
        minutes = cal.day_minutes(day)
        spans = cal.spans_on(day)
        weeks[-1].append(
            PreviewDay(
                day=day,
                in_month=day.month == first.month,
                hours=", ".join(f"{a}–{b}" for a, b in business_time.hours_json(spans)),
                minutes=minutes,
                special=special.get(day),
                is_today=day == today,
            )
        )
        if day.month == first.month:
            total += minutes
            working += 1 if minutes else 0
        day += dt.timedelta(days=1)
    return MonthPreview(
        first=first,
        weeks=weeks,
        minutes=total,
        working_days=working,
        previous=_shift_month(first, -1),
        next=_shift_month(first, 1),
    )


# --- the dashboard ---------------------------------------------------------------------------


@dataclass
class AttainmentRow:
    customer_class: str
    priority: int
    responses: int = 0
    responses_met: int = 0
    resolutions: int = 0
    resolutions_met: int = 0

    @staticmethod
    def _percent(met: int, total: int) -> float | None:
        return round(100 * met / total, 1) if total else None

    @property
    def response_percent(self) -> float | None:
        return self._percent(self.responses_met, self.responses)

    @property
    def resolution_percent(self) -> float | None:
        return self._percent(self.resolutions_met, self.resolutions)

    @property
    def priority_label(self) -> str:
        return str(CasePriority(self.priority).label)


@dataclass
class SlaBoard:
    now: dt.datetime
    since: dt.datetime
    days: int
    states: dict[str, int]
    breaches_per_day: list[tuple[dt.date, int]]
    attainment: list[AttainmentRow]
    by_class: list[AttainmentRow]
    median_first_response: int | None
    first_responses: int
    at_risk: list[Case] = field(default_factory=list)

    @property
    def open_cases(self) -> int:
        return sum(self.states.values())


def visible_cases(*, workspace, actor):
    """The cases the actor may read (the dashboard counts only these)."""
    return permissions.visible(Case.objects.in_workspace(workspace), actor=actor, object_key=CASE)


def _zone(workspace) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(getattr(workspace, "time_zone", "") or "Asia/Shanghai")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def _class_expression():
    """The customer class as the clock chose it: the account's, else the contact's."""
    return CaseWhen(
        When(account__isnull=False, then=F("account__value_class")),
        When(contact__isnull=False, then=F("contact__value_class")),
        default=Value(""),
    )


def sla_dashboard(*, workspace, actor, now: dt.datetime | None = None, days: int = PERIOD_DAYS):
    """Open cases by SLA state (on track, warned, breached, paused), breaches per day over the
    last ``days`` days, first-response and resolution attainment by customer class and
    priority over the same days, the median business minutes to a first response, and the
    open cases at risk (warned or breached, soonest due first). Seven queries."""
    permissions.require(actor, CASE, Action.READ)
    now = now or timezone.now()
    zone = _zone(workspace)
    today = now.astimezone(zone).date()
    first_day = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone)
    cases = visible_cases(workspace=workspace, actor=actor)

    # 1. Open cases by state (one pass over the open cases).
    breached = Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
    warned = Q(response_warned_at__isnull=False, first_response_at__isnull=True) | Q(
        resolution_warned_at__isnull=False
    )
    paused = Q(sla_paused_at__isnull=False)
    states = cases.filter(status__in=["new", "open", "waiting"]).aggregate(
        paused=Count("pk", filter=paused),
        breached=Count("pk", filter=~paused & breached),
        warned=Count("pk", filter=~paused & ~breached & warned),
        on_track=Count("pk", filter=~paused & ~breached & ~warned),
    )
    states = {key: states[key] for key in ("on_track", "warned", "breached", "paused")}

    # 2. Breaches per day (in the workspace's time zone).
    events = CaseEvent.objects.in_workspace(workspace).filter(
        kind=CaseEventKind.SLA_BREACH, created_at__gte=since
    )
    if permissions.visibility_for(actor, CASE) != "all":
        events = events.filter(case__in=cases.values("pk"))
    per_day = dict(
        events.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    breaches_per_day = [
        (first_day + dt.timedelta(days=i), per_day.get(first_day + dt.timedelta(days=i), 0))
        for i in range(days)
    ]

    # 3. Attainment by class and priority: first responses and resolutions in the period.
    timed = cases.filter(sla_policy__isnull=False)
    responded = Q(first_response_at__gte=since)
    resolved = Q(resolved_at__gte=since)
    rows = (
        timed.filter(responded | resolved)
        .annotate(klass=_class_expression())
        .values("klass", "priority")
        .annotate(
            responses=Count("pk", filter=responded),
            responses_met=Count("pk", filter=responded & Q(response_breached_at__isnull=True)),
            resolutions=Count("pk", filter=resolved),
            resolutions_met=Count(
                "pk",
                filter=resolved
                & Q(resolution_breached_at__isnull=True)
                & (
                    Q(resolution_due_at__isnull=True)
                    | Q(resolved_at__lte=F("resolution_due_at"))
                    | Q(sla_paused_at__isnull=False)
                ),
            ),
        )
        .order_by()
    )
    table: dict[tuple[str, int], AttainmentRow] = {}
    for row in rows:
        klass = (row["klass"] or "").upper()
        key = (klass if klass in CLASSES else "", row["priority"])
        item = table.setdefault(key, AttainmentRow(key[0], key[1]))
        item.responses += row["responses"]
        item.responses_met += row["responses_met"]
        item.resolutions += row["resolutions"]
        item.resolutions_met += row["resolutions_met"]
    attainment = [table[k] for k in sorted(table, key=lambda k: (k[0] == "", k[0], k[1]))]
    by_class = []
    for klass in CLASSES:
        items = [r for r in attainment if r.customer_class == klass]
        if items:
            total = AttainmentRow(klass, 0)
            for r in items:
                total.responses += r.responses
                total.responses_met += r.responses_met
                total.resolutions += r.resolutions
                total.resolutions_met += r.resolutions_met
            by_class.append(total)

    # 4. The median business minutes to a first response (the clock's own count: pauses
    # and non-working time left out). A count, then the middle row.
    answered = timed.filter(responded).order_by("response_used_minutes", "pk")
    first_responses = answered.count()
    median = None
    if first_responses:
        middle = list(
            answered.values_list("response_used_minutes", flat=True)[
                (first_responses - 1) // 2 : first_responses // 2 + 1
            ]
        )
        median = round(sum(middle) / len(middle)) if middle else None

    # 5. At risk: open, running, past a warning (breached ones included), soonest due first.
    risky = (
        cases.filter(status__in=["new", "open"], sla_paused_at__isnull=True)
        .filter(
            Q(resolution_warn_at__lte=now)
            | Q(first_response_at__isnull=True, response_warn_at__lte=now)
        )
        .annotate(
            next_due=CaseWhen(
                When(
                    first_response_at__isnull=True,
                    response_due_at__lt=F("resolution_due_at"),
                    then=F("response_due_at"),
                ),
                default=F("resolution_due_at"),
            )
        )
        .select_related("assignee", "account", "contact", "queue")
        .order_by(F("next_due").asc(nulls_last=True), "pk")[:AT_RISK_LIMIT]
    )
    return SlaBoard(
        now=now,
        since=since,
        days=days,
        states=states,
        breaches_per_day=breaches_per_day,
        attainment=attainment,
        by_class=by_class,
        median_first_response=median,
        first_responses=first_responses,
        at_risk=list(risky),
    )


def kinds() -> dict[str, str]:
    return dict(CalendarDayKind.choices)
