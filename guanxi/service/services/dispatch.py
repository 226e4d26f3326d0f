"""Dispatch: sending a technician to the customer's site for a case.

``dispatch_suggest`` ranks the workspace's technicians for a case on a day by

- skill: their summed skill levels for the case's category (or its parent), product and type;
- distance: from the nearest of their home and that day's other visits to the customer
  (haversine, from the coordinates in the customer file; nothing is geocoded);
- region: the customer's region, province or city among the technician's regions;
- free capacity: their open visits that day against their most visits a day (a technician
  who is fully booked comes last);

and says why in words. ``dispatch_create`` books one: the Dispatch, a visit task on the
technician's day (so it is on their day route), the case's "dispatched" event, a
notification to the technician and a message to the customer (sent once committed).
``dispatch_complete`` (with the work report) completes the visit task; ``dispatch_cancel``
cancels it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from guanxi.activities import localtime
from guanxi.activities.models import EntryKind, ReminderState, Task, TaskKind, TaskStatus
from guanxi.activities.objects import TASK
from guanxi.activities.services import notifications
from guanxi.activities.services.routes import haversine_m
from guanxi.activities.services.timeline import record_entry
from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import (
    OPEN_STATUSES,
    AgentProfile,
    Case,
    CaseEventKind,
    CaseMessage,
    Dispatch,
    DispatchStatus,
    MessageKind,
)
from ..objects import CASE, DISPATCH
from . import customer_messages, routing

# "Now" is a few seconds old by the time a form is sent.
PAST_GRACE = dt.timedelta(minutes=5)
MAX_LENGTH = dt.timedelta(hours=24)
# Unknown distance counts as this far (a technician without a home or a customer without
# coordinates is neither favoured nor ruled out).
UNKNOWN_KM = 50.0
MAX_SUGGESTIONS = 50


@dataclass
class Suggestion:
    technician: User
    profile: AgentProfile
    skill: int
    distance_km: float | None
    distance_from: str  # "home", "visit" or ""
    region_match: bool
    visits: int
    capacity: int
    score: float
    reason: str

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.visits)

    @property
    def full(self) -> bool:
        return self.visits >= self.capacity


def _point(record) -> tuple[float, float] | None:
    if record is not None and record.latitude is not None and record.longitude is not None:
        return float(record.latitude), float(record.longitude)
    return None


def customer_point(case: Case) -> tuple[float, float] | None:
    """Where the customer is: the contact's coordinates, else the account's."""
    return _point(case.contact) or _point(case.account)


def customer_address(case: Case) -> str:
    for record in (case.contact, case.account):
        if record is None:
            continue
        parts = [record.province, record.city, record.district, record.street]
        text = " ".join(p for p in parts if p)
        if text:
            return text[:300]
    return ""


def _places(case: Case) -> set[str]:
    places = set()
    for record in (case.contact, case.account):
        if record is not None:
            places |= {record.region, record.province, record.city}
    return {p.strip().lower() for p in places if p and p.strip()}


def _case(workspace, actor, case_id) -> Case:
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    qs = permissions.visible(Case.objects.in_workspace(workspace), actor=actor, object_key=CASE)
    case = qs.select_related("account", "contact", "category").filter(pk=pk).first()
    if case is None:
        raise NotFound()
    return case


def _reason(s: Suggestion) -> str:
    parts = [str(_("skill %(n)s") % {"n": s.skill}) if s.skill else str(_("no matching skill"))]
    if s.distance_km is None:
        parts.append(str(_("distance unknown")))
    elif s.distance_from == "visit":
        parts.append(str(_("%(km)s km from another visit that day") % {"km": s.distance_km}))
    else:
        parts.append(str(_("%(km)s km from home") % {"km": s.distance_km}))
    if s.region_match:
        parts.append(str(_("works this region")))
    if s.full:
        parts.append(str(_("fully booked (%(n)s visits)") % {"n": s.visits}))
    else:
        parts.append(
            str(_("%(free)s of %(max)s visits free") % {"free": s.free, "max": s.capacity})
        )
    return " · ".join(parts)[:300]


def _score(s: Suggestion) -> float:
    distance = s.distance_km if s.distance_km is not None else UNKNOWN_KM
    return round(
        10 * s.skill + (15 if s.region_match else 0) - min(distance, 200) / 4 + 2 * s.free, 2
    )


def _rank(
    *, workspace, case: Case, day: dt.date, tz, technician_ids=None, exclude_dispatch=None
) -> list[Suggestion]:
    """The suggestions for ``case`` on ``day`` (in ``tz``), best first. Four queries."""
    profiles = list(
        AgentProfile.objects.in_workspace(workspace)
        .filter(is_technician=True, user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "id")
    )
    if technician_ids is not None:
        profiles = [p for p in profiles if p.user_id in technician_ids]
    if not profiles:
        return []
    levels = routing.skill_levels(case, [p.pk for p in profiles])
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=1)
    visits = (
        Task.objects.in_workspace(workspace)
        .filter(
            kind=TaskKind.VISIT,
            status=TaskStatus.OPEN,
            assignee_id__in=[p.user_id for p in profiles],
            due_at__gte=start,
            due_at__lt=end,
        )
        .select_related("account", "contact")
    )
    if exclude_dispatch is not None and exclude_dispatch.task_id:
        visits = visits.exclude(pk=exclude_dispatch.task_id)
    day_points: dict[int, list[tuple[float, float]]] = {}
    day_counts: dict[int, int] = {}
    for task in visits:
        day_counts[task.assignee_id] = day_counts.get(task.assignee_id, 0) + 1
        point = _point(task.contact) or _point(task.account)
        if point is not None:
            day_points.setdefault(task.assignee_id, []).append(point)
    target = customer_point(case)
    places = _places(case)
    out = []
    for profile in profiles:
        distance, source = None, ""
        if target is not None:
            options = []
            home = (
                (float(profile.home_latitude), float(profile.home_longitude))
                if profile.home_latitude is not None and profile.home_longitude is not None
                else None
            )
            if home is not None:
                options.append((haversine_m(*home, *target), "home"))
            for point in day_points.get(profile.user_id, []):
                options.append((haversine_m(*point, *target), "visit"))
            if options:
                metres, source = min(options)
                distance = round(metres / 1000, 1)
        regions = {r.strip().lower() for r in profile.regions or [] if r and r.strip()}
        s = Suggestion(
            technician=profile.user,
            profile=profile,
            skill=levels.get(profile.pk, 0),
            distance_km=distance,
            distance_from=source,
            region_match=bool(regions & places),
            visits=day_counts.get(profile.user_id, 0),
            capacity=profile.max_visits_per_day,
            score=0,
            reason="",
        )
        s.score = _score(s)
        s.reason = _reason(s)
        out.append(s)
    out.sort(key=lambda s: (s.full, -s.score, s.technician.full_name, s.technician.pk))
    return out[:MAX_SUGGESTIONS]


def dispatch_suggest(*, actor: User, workspace: Workspace, case_id, day: dt.date):
    """The technicians for case ``case_id`` on ``day`` (the actor's local day), best first,
    each with the reason in words. Needs the right to dispatch."""
    permissions.require(actor, DISPATCH, Action.CREATE)
    localtime.check_day(day, field="day")
    case = _case(workspace, actor, case_id)
    return _rank(workspace=workspace, case=case, day=day, tz=localtime.user_zone(actor))


# --- booking --------------------------------------------------------------------------------


def _aware(errors: FieldErrors, value, actor, *, field: str) -> dt.datetime | None:
    if isinstance(value, str) and value.strip():
        from django.utils.dateparse import parse_datetime

        try:
            value = parse_datetime(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, dt.datetime):
        errors.add(field, _("Enter a date and time."))
        return None
    return localtime.as_aware(value, actor).astimezone(dt.UTC)


def _technician(errors: FieldErrors, workspace, technician_id) -> AgentProfile | None:
    try:
        pk = int(technician_id)
    except (TypeError, ValueError):
        pk = 0
    profile = (
        AgentProfile.objects.in_workspace(workspace)
        .select_related("user")
        .filter(user_id=pk, user__workspace_id=workspace.pk)
        .first()
    )
    if profile is None or not profile.is_technician or not profile.user.is_active:
        errors.add("technician", _("Choose a technician of this workspace."))
        return None
    return profile


def dispatch_url(dispatch: Dispatch | None = None) -> str:
    try:
        return reverse("service:dispatch_list")
    except NoReverseMatch:  # pragma: no cover - the pages are always installed
        return ""


def _customer_text(case: Case, technician: User, starts: dt.datetime, ends: dt.datetime) -> str:
    zone = localtime.zone_named(getattr(case.workspace, "time_zone", ""))
    with translation.override(customer_messages.case_language(case)):
        local_start, local_end = starts.astimezone(zone), ends.astimezone(zone)
        return str(
            _(
                "Case %(number)s: our technician %(name)s will visit you on %(day)s "
                "between %(start)s and %(end)s."
            )
            % {
                "number": case.number,
                "name": technician.full_name,
                "day": formats.date_format(local_start.date(), "SHORT_DATE_FORMAT"),
                "start": local_start.strftime("%H:%M"),
                "end": local_end.strftime("%H:%M"),
            }
        )


def _lock_dispatch(workspace, actor, dispatch_id) -> Dispatch:
    try:
        pk = int(dispatch_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    visible = permissions.visible(
        Dispatch.objects.in_workspace(workspace), actor=actor, object_key=DISPATCH
    )
    if not visible.filter(pk=pk).exists():
        raise NotFound()
    return (
        Dispatch.objects.in_workspace(workspace)
        .select_for_update(of=("self",))
        .select_related("case", "technician", "task")
        .get(pk=pk)
    )


def dispatch_create(
    *,
    actor: User,
    workspace: Workspace,
    case_id,
    technician_id,
    starts_at,
    ends_at,
    note: str = "",
    now: dt.datetime | None = None,
) -> Dispatch:
    """Send a technician to the customer of an open case from ``starts_at`` to ``ends_at``
    (naive times are the actor's local time). Refused: a technician who is not one of this
    workspace's technicians, a time in the past, the end before the start, a case without
    a customer, and a time that overlaps another of the technician's dispatches (409).
    Makes the visit task on the technician's day, the case's "dispatched" event and a
    notification; the customer is told once the transaction commits."""
    from .cases import case_event

    permissions.require(actor, DISPATCH, Action.CREATE)
    now = now or timezone.now()
    errors = FieldErrors()
    starts = _aware(errors, starts_at, actor, field="starts_at")
    ends = _aware(errors, ends_at, actor, field="ends_at")
    if starts is not None and starts < now - PAST_GRACE:
        errors.add("starts_at", _("The visit is in the past. Choose a time from now on."))
    if starts is not None and ends is not None:
        if ends <= starts:
            errors.add("ends_at", _("The end is before the start."))
        elif ends - starts > MAX_LENGTH:
            errors.add("ends_at", _("A visit lasts at most 24 hours."))
    note = str(note or "").strip()
    if len(note) > 2000:
        errors.add("note", _("At most %(n)s characters.") % {"n": 2000})
    profile = _technician(errors, workspace, technician_id)
    case = _case(workspace, actor, case_id)
    errors.raise_if_any()
    if case.status not in OPEN_STATUSES:
        raise Conflict(
            _("Case %(number)s is closed; reopen it to send a technician.")
            % {"number": case.number},
            code="case_final",
        )
    if case.account_id is None and case.contact_id is None:
        raise ApplicationError(
            _("Link the case to a customer first: a visit needs an address."),
            code="no_customer",
        )
    technician = profile.user
    with transaction.atomic():
        # One technician's bookings are made one after the other (no double booking).
        AgentProfile.objects.in_workspace(workspace).select_for_update().filter(
            pk=profile.pk
        ).first()
        clash = (
            Dispatch.objects.in_workspace(workspace)
            .filter(
                technician=technician,
                status=DispatchStatus.SCHEDULED,
                starts_at__lt=ends,
                ends_at__gt=starts,
            )
            .select_related("case")
            .first()
        )
        if clash is not None:
            raise Conflict(
                _("%(name)s is already booked then (case %(number)s).")
                % {"name": technician.full_name, "number": clash.case.number},
                code="overlap",
                fields={"starts_at": [_("Choose another time or technician.")]},
            )
        zone = localtime.user_zone(technician)
        ranked = _rank(
            workspace=workspace,
            case=case,
            day=starts.astimezone(zone).date(),
            tz=zone,
            technician_ids={technician.pk},
        )
        suggestion = ranked[0] if ranked else None
        title = str(_("Service visit %(number)s: %(subject)s")) % {
            "number": case.number,
            "subject": case.subject,
        }
        task = Task.objects.create(
            workspace=workspace,
            kind=TaskKind.VISIT,
            title=title[:200],
            description="\n\n".join(p for p in (note, case.description[:5000]) if p),
            due_at=starts,
            ends_at=ends,
            location=customer_address(case),
            assignee=technician,
            created_by=actor,
            account_id=case.account_id,
            contact_id=case.contact_id,
            related_object_key=CASE,
            related_object_id=case.pk,
        )
        audit.log_create(actor=actor, instance=task)
        dispatch = Dispatch.objects.create(
            workspace=workspace,
            case=case,
            technician=technician,
            task=task,
            starts_at=starts,
            ends_at=ends,
            reason=suggestion.reason if suggestion else "",
            distance_km=suggestion.distance_km if suggestion else None,
            created_by=actor,
        )
        audit.log_create(actor=actor, instance=dispatch)
        local = starts.astimezone(zone)
        case_event(
            case,
            CaseEventKind.DISPATCHED,
            actor=actor,
            to_value=technician.full_name,
            note=f"{local:%Y-%m-%d %H:%M}–{ends.astimezone(zone):%H:%M}",
        )
        if technician.pk != actor.pk:
            notifications.notify(
                workspace=workspace,
                user=technician,
                title=_("Visit for case %(number)s on %(when)s: %(subject)s"),
                params={
                    "number": case.number,
                    "when": f"{local:%Y-%m-%d %H:%M}",
                    "subject": case.subject,
                },
                url=dispatch_url(dispatch),
                task=task,
            )
        message = CaseMessage.objects.create(
            workspace=workspace,
            case=case,
            kind=MessageKind.OUTBOUND,
            channel=case.channel,
            body=_customer_text(case, technician, starts, ends),
            author=actor,
        )
        # The channels part sends it once this transaction commits (by e-mail or SMS).
        customer_messages.case_deliver(case, message)
    return dispatch


def dispatch_complete(
    *, actor: User, workspace: Workspace, dispatch_id, report, now: dt.datetime | None = None
) -> Dispatch:
    """The technician's work report: the dispatch is done and its visit task completed (on
    the customer's timeline). Needs the right to update dispatches (technicians: their own)."""
    from .cases import case_event

    permissions.require(actor, DISPATCH, Action.UPDATE)
    report = str(report or "").strip()
    if not report:
        raise ApplicationError(
            _("Write what was done."), fields={"report": [_("Write what was done.")]}
        )
    if len(report) > 10_000:
        raise ApplicationError(
            _("At most %(n)s characters.") % {"n": 10_000},
            fields={"report": [_("At most %(n)s characters.") % {"n": 10_000}]},
        )
    now = now or timezone.now()
    with transaction.atomic():
        dispatch = _lock_dispatch(workspace, actor, dispatch_id)
        if dispatch.status != DispatchStatus.SCHEDULED:
            raise Conflict(_("This visit is no longer scheduled."), code="not_scheduled")
        before = audit.snapshot(dispatch)
        dispatch.status = DispatchStatus.DONE
        dispatch.report = report
        dispatch.save()
        audit.log_update(actor=actor, instance=dispatch, before=before)
        task = (
            Task.objects.in_workspace(workspace)
            .select_for_update()
            .filter(pk=dispatch.task_id)
            .first()
        )
        if task is not None and task.status != TaskStatus.DONE:
            task_before = audit.snapshot(task)
            task.status = TaskStatus.DONE
            task.completed_at = now
            if task.reminder_state == ReminderState.PENDING:
                task.reminder_state = ReminderState.NONE
            task.save()
            audit.log_update(actor=actor, instance=task, before=task_before)
            if task.account_id or task.contact_id:
                record_entry(
                    workspace=workspace,
                    author=actor,
                    kind=EntryKind.TASK,
                    subtype=task.kind,
                    channel="in_person",
                    occurred_at=now,
                    account=task.account_id,
                    contacts=[task.contact_id] if task.contact_id else [],
                    subject=task.title,
                    body=report,
                    related_object_key=TASK,
                    related_object_id=task.pk,
                    data={"task_id": task.pk, "dispatch_id": dispatch.pk},
                )
        case_event(
            dispatch.case,
            CaseEventKind.DISPATCHED,
            actor=actor,
            from_value=DispatchStatus.SCHEDULED,
            to_value=DispatchStatus.DONE,
            note=report,
        )
    return dispatch


def dispatch_cancel(
    *, actor: User, workspace: Workspace, dispatch_id, reason: str = ""
) -> Dispatch:
    """Call a scheduled visit off: the dispatch and its task are cancelled, the case's
    history says so, and the technician is told (unless they did it)."""
    from .cases import case_event

    permissions.require(actor, DISPATCH, Action.UPDATE)
    reason = str(reason or "").strip()[:300]
    with transaction.atomic():
        dispatch = _lock_dispatch(workspace, actor, dispatch_id)
        if dispatch.status == DispatchStatus.CANCELLED:
            return dispatch
        if dispatch.status == DispatchStatus.DONE:
            raise Conflict(_("This visit is done; it cannot be cancelled."), code="dispatch_done")
        before = audit.snapshot(dispatch)
        dispatch.status = DispatchStatus.CANCELLED
        dispatch.save()
        audit.log_update(actor=actor, instance=dispatch, before=before)
        task = (
            Task.objects.in_workspace(workspace)
            .select_for_update()
            .filter(pk=dispatch.task_id, status=TaskStatus.OPEN)
            .first()
        )
        if task is not None:
            task_before = audit.snapshot(task)
            task.status = TaskStatus.CANCELLED
            if task.reminder_state == ReminderState.PENDING:
                task.reminder_state = ReminderState.NONE
            task.save()
            audit.log_update(actor=actor, instance=task, before=task_before)
        case_event(
            dispatch.case,
            CaseEventKind.DISPATCHED,
            actor=actor,
            from_value=DispatchStatus.SCHEDULED,
            to_value=DispatchStatus.CANCELLED,
            note=reason,
        )
        if dispatch.technician_id != actor.pk:
            notifications.notify(
                workspace=workspace,
                user=dispatch.technician,
                title=_("Visit for case %(number)s cancelled"),
                body=reason.replace("%", "%%"),
                params={"number": dispatch.case.number},
                url=dispatch_url(dispatch),
            )
    return dispatch
