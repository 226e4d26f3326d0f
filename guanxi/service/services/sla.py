"""Service levels: working calendars (week hours, holidays and 调休 working days), SLA
policies with their escalation rules, the defaults a workspace starts with, the choice of
a case's policy, and the sweep that warns, breaches and escalates.

Calendars, days, policies and rules are configuration: reading needs the CONFIGURATION
right's "read", changes its "create"/"update"/"delete"; rights are checked before the
transaction (so a denial's audit row survives) and every change is audited. A change of a
calendar's week or days moves the calendar row's ``updated_at`` (``calendar_touch``), which
is what the business-time cache is keyed on. Policy and calendar changes apply to cases
whose clock is (re)started afterwards; due times already set are not rewritten.

The sweep (``sla_sweep``, a periodic job every minute) works per workspace and per kind —
response breach, resolution breach, response warning, resolution warning — with one
``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING id`` each, which the partial indexes on
``Case`` serve (open, not paused, warning time passed). The update and the escalations of
the cases it returns are one transaction, so a crash mid-sweep rolls back that batch and a
re-run does it again; a case marked once is never marked again (the ``*_warned_at`` /
``*_breached_at`` columns are in the WHERE), and on PostgreSQL ``FOR UPDATE SKIP LOCKED``
keeps two sweeps off each other's rows. A breach found before its warning also sets the
warning time, so that case is not warned after the fact.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import Notification
from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from ..data import cn_holidays
from ..models import (
    CalendarDay,
    CalendarDayKind,
    Case,
    CaseEvent,
    CaseEventKind,
    CasePriority,
    EscalationAction,
    EscalationRule,
    EscalationTarget,
    EscalationWhen,
    Queue,
    SlaPolicy,
    WorkCalendar,
)
from ..objects import CONFIGURATION
from . import business_time, routing, sla_clock
from .sla_clock import customer_class, policy_for  # noqa: F401  (part of this module's API)

logger = logging.getLogger(__name__)

CUSTOMER_CLASSES = ("A", "B", "C")
MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_DAYS_PER_CALENDAR = 2000
SWEEP_BATCH = 1000

# The default working day (09:00–12:00, 13:30–18:00) is 7.5 hours: "days" below are those.
HOUR = 60
DAY = 450

# (class, priority) → (first response, resolution) in business minutes. Customers without a
# class yet (new ones, unknown senders) get the priority-only policies, set like class B.
DEFAULT_TARGETS: dict[tuple[str, int], tuple[int, int]] = {
    ("A", 1): (30, 4 * HOUR),
    ("A", 2): (1 * HOUR, 1 * DAY),
    ("A", 3): (2 * HOUR, 2 * DAY),
    ("A", 4): (4 * HOUR, 3 * DAY),
    ("B", 1): (1 * HOUR, 8 * HOUR),
    ("B", 2): (2 * HOUR, 2 * DAY),
    ("B", 3): (4 * HOUR, 3 * DAY),
    ("B", 4): (8 * HOUR, 4 * DAY),
    ("C", 1): (2 * HOUR, 1 * DAY),
    ("C", 2): (4 * HOUR, 3 * DAY),
    ("C", 3): (8 * HOUR, 4 * DAY),
    ("C", 4): (8 * HOUR, 5 * DAY),
}
DEFAULT_WARN_PERCENT = 80


# --- small helpers ---------------------------------------------------------------------------


def _workspace_id(workspace) -> int:
    return getattr(workspace, "pk", workspace)


def _pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _require(actor: User | None, action: str) -> None:
    if actor is not None:
        permissions.require(actor, CONFIGURATION, action)


def _text(errors: FieldErrors, name: str, value, limit: int, *, required=False) -> str:
    text = str(value if value is not None else "").strip()
    if "\x00" in text:
        errors.add(name, _("Text may not contain NUL characters."))
    elif len(text) > limit:
        errors.add(name, _("At most %(n)s characters.") % {"n": limit})
    elif required and not text:
        errors.add(name, _("This field is required."))
    return text


def _int(errors: FieldErrors, name: str, value, low: int, high: int, message) -> int | None:
    try:
        number = int(str(value).strip())
        if not low <= number <= high:
            raise ValueError
        return number
    except (TypeError, ValueError):
        errors.add(name, message)
        return None


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def case_url(case_id: int) -> str:
    try:
        return reverse("service:case_detail", args=[case_id])
    except NoReverseMatch:
        return ""


# --- calendars -------------------------------------------------------------------------------


def calendar_get(*, workspace, calendar_id) -> WorkCalendar:
    """A calendar of this workspace (another workspace's is "not found")."""
    calendar = (
        WorkCalendar.objects.in_workspace(workspace).filter(pk=_pk(calendar_id)).first()
        if _pk(calendar_id) > 0
        else None
    )
    if calendar is None:
        raise NotFound()
    return calendar


def calendar_touch(calendar: WorkCalendar) -> None:
    """Move the calendar's ``updated_at`` on: cached business time of it is rebuilt."""
    calendar.updated_at = timezone.now()
    WorkCalendar.objects.in_workspace(calendar.workspace_id).filter(pk=calendar.pk).update(
        updated_at=calendar.updated_at
    )


def _clean_calendar(values: dict, *, partial: bool) -> dict:
    errors = FieldErrors()
    out: dict[str, Any] = {}
    allowed = {"name", "time_zone", "week", "is_default"}
    for name in values:
        if name not in allowed:
            errors.add(name, _("This field cannot be set."))
    if "name" in values or not partial:
        out["name"] = _text(errors, "name", values.get("name"), 80, required=True)
    if "time_zone" in values or not partial:
        zone = str(values.get("time_zone") or "Asia/Shanghai").strip()
        try:
            business_time.check_time_zone(zone)
            out["time_zone"] = zone
        except business_time.HoursError as exc:
            errors.add("time_zone", exc.message)
    if "week" in values or not partial:
        week = values.get("week")
        if week is None and not partial:
            from ..models.sla import default_week

            week = default_week()
        try:
            out["week"] = business_time.check_week(week)
            if not out["week"]:
                errors.add("week", _("Give working hours to at least one weekday."))
        except business_time.HoursError as exc:
            errors.add("week", exc.message)
    if "is_default" in values:
        out["is_default"] = _bool(values["is_default"])
    errors.raise_if_any()
    return out


def _name_taken(workspace, model, name: str, exclude_pk=None) -> bool:
    qs = model.objects.in_workspace(workspace).filter(name=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def calendar_create(*, actor: User | None, workspace: Workspace, **values) -> WorkCalendar:
    """A working calendar: a name, a time zone and the hours of each weekday (``week``:
    ``{"1": [["09:00", "12:00"], …], …}``; the default week when omitted)."""
    _require(actor, Action.CREATE)
    clean = _clean_calendar(values, partial=False)
    with transaction.atomic():
        if _name_taken(workspace, WorkCalendar, clean["name"]):
            raise Conflict(
                _("A calendar of this name exists."),
                fields={"name": [_("A calendar of this name exists.")]},
            )
        first = not WorkCalendar.objects.in_workspace(workspace).exists()
        if clean.get("is_default") or first:
            WorkCalendar.objects.in_workspace(workspace).filter(is_default=True).update(
                is_default=False
            )
            clean["is_default"] = True
        calendar = WorkCalendar.objects.create(workspace=workspace, **clean)
        audit.log_create(actor=actor, instance=calendar)
    return calendar


def calendar_update(
    *, actor: User | None, workspace: Workspace, calendar_id, **changes
) -> WorkCalendar:
    """Change a calendar's name, time zone, week hours or default flag (only those given)."""
    _require(actor, Action.UPDATE)
    clean = _clean_calendar(changes, partial=True)
    with transaction.atomic():
        calendar = calendar_get(workspace=workspace, calendar_id=calendar_id)
        calendar = (
            WorkCalendar.objects.in_workspace(workspace).select_for_update().get(pk=calendar.pk)
        )
        if "name" in clean and _name_taken(workspace, WorkCalendar, clean["name"], calendar.pk):
            raise Conflict(
                _("A calendar of this name exists."),
                fields={"name": [_("A calendar of this name exists.")]},
            )
        if clean.get("is_default") is False and calendar.is_default:
            raise ApplicationError(
                _("Make another calendar the default instead."),
                fields={"is_default": [_("Make another calendar the default instead.")]},
            )
        before = audit.snapshot(calendar)
        if clean.get("is_default"):
            WorkCalendar.objects.in_workspace(workspace).exclude(pk=calendar.pk).filter(
                is_default=True
            ).update(is_default=False)
        for name, value in clean.items():
            setattr(calendar, name, value)
        calendar.save()
        audit.log_update(actor=actor, instance=calendar, before=before)
    return calendar


def calendar_delete(*, actor: User | None, workspace: Workspace, calendar_id) -> None:
    """Delete a calendar no policy uses (its days go with it); the default one stays."""
    _require(actor, Action.DELETE)
    with transaction.atomic():
        calendar = calendar_get(workspace=workspace, calendar_id=calendar_id)
        if SlaPolicy.objects.in_workspace(workspace).filter(calendar=calendar).exists():
            raise Conflict(
                _("SLA policies use this calendar; give them another one first."),
                code="in_use",
            )
        if calendar.is_default:
            raise Conflict(
                _("The default calendar cannot be deleted; make another one the default."),
                code="default_calendar",
            )
        audit.log_delete(actor=actor, instance=calendar)
        CalendarDay.objects.in_workspace(workspace).filter(calendar=calendar).delete()
        calendar.delete()


# --- calendar days ---------------------------------------------------------------------------


def _clean_day(values: dict, *, partial: bool) -> dict:
    errors = FieldErrors()
    out: dict[str, Any] = {}
    for name in values:
        if name not in ("day", "kind", "name", "hours"):
            errors.add(name, _("This field cannot be set."))
    if "day" in values or not partial:
        raw = values.get("day")
        if isinstance(raw, dt.datetime):
            raw = raw.date()
        if isinstance(raw, dt.date):
            out["day"] = raw
        else:
            try:
                out["day"] = dt.date.fromisoformat(str(raw or "").strip())
            except ValueError:
                errors.add("day", _("Enter a date as YYYY-MM-DD."))
        if "day" in out and not 2000 <= out["day"].year <= 2100:
            errors.add("day", _("Enter a date between 2000 and 2100."))
    if "kind" in values or not partial:
        kind = str(values.get("kind") or "")
        if kind not in CalendarDayKind.values:
            errors.add("kind", _("Choose a holiday or an adjusted working day."))
        out["kind"] = kind
    if "name" in values or not partial:
        out["name"] = _text(errors, "name", values.get("name"), 80)
    if "hours" in values or not partial:
        hours = values.get("hours")
        try:
            if isinstance(hours, str):
                out["hours"] = business_time.parse_hours_text(hours)
            else:
                out["hours"] = business_time.hours_json(business_time.spans_of(hours or []))
        except business_time.HoursError as exc:
            errors.add("hours", exc.message)
    errors.raise_if_any()
    return out


def calendar_day_get(*, workspace, calendar_id, day_id) -> CalendarDay:
    calendar = calendar_get(workspace=workspace, calendar_id=calendar_id)
    row = (
        CalendarDay.objects.in_workspace(workspace)
        .filter(calendar=calendar, pk=_pk(day_id))
        .select_related("calendar")
        .first()
    )
    if row is None:
        raise NotFound()
    return row


def _day_taken(workspace, calendar, day: dt.date, exclude_pk=None) -> None:
    qs = CalendarDay.objects.in_workspace(workspace).filter(calendar=calendar, day=day)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise Conflict(
            _("This date is already in the calendar; change that day instead."),
            fields={"day": [_("This date is already in the calendar.")]},
        )


def calendar_day_create(
    *, actor: User | None, workspace: Workspace, calendar_id, **values
) -> CalendarDay:
    """Add a holiday (a day off) or an adjusted working day (调休; its own ``hours``, else
    its weekday's, else the usual working day's) to a calendar."""
    _require(actor, Action.UPDATE)
    clean = _clean_day(values, partial=False)
    if clean["kind"] == CalendarDayKind.HOLIDAY:
        clean["hours"] = []
    with transaction.atomic():
        calendar = calendar_get(workspace=workspace, calendar_id=calendar_id)
        calendar = (
            WorkCalendar.objects.in_workspace(workspace).select_for_update().get(pk=calendar.pk)
        )
        _day_taken(workspace, calendar, clean["day"])
        if CalendarDay.objects.in_workspace(workspace).filter(calendar=calendar).count() >= (
            MAX_DAYS_PER_CALENDAR
        ):
            raise ApplicationError(
                _("A calendar holds at most %(n)s special days; delete old ones first.")
                % {"n": MAX_DAYS_PER_CALENDAR},
                code="too_many_days",
            )
        row = CalendarDay.objects.create(workspace=workspace, calendar=calendar, **clean)
        calendar_touch(calendar)
        audit.log_create(actor=actor, instance=row)
    return row


def calendar_day_update(
    *, actor: User | None, workspace: Workspace, calendar_id, day_id, **changes
) -> CalendarDay:
    """Change a special day's date, kind, name or hours (only those given)."""
    _require(actor, Action.UPDATE)
    clean = _clean_day(changes, partial=True)
    with transaction.atomic():
        row = calendar_day_get(workspace=workspace, calendar_id=calendar_id, day_id=day_id)
        calendar = (
            WorkCalendar.objects.in_workspace(workspace).select_for_update().get(pk=row.calendar_id)
        )
        if "day" in clean:
            _day_taken(workspace, calendar, clean["day"], exclude_pk=row.pk)
        before = audit.snapshot(row)
        for name, value in clean.items():
            setattr(row, name, value)
        if row.kind == CalendarDayKind.HOLIDAY:
            row.hours = []
        row.save()
        calendar_touch(calendar)
        audit.log_update(actor=actor, instance=row, before=before)
    return row


def calendar_day_delete(*, actor: User | None, workspace: Workspace, calendar_id, day_id) -> None:
    """The day follows the week again."""
    _require(actor, Action.UPDATE)
    with transaction.atomic():
        row = calendar_day_get(workspace=workspace, calendar_id=calendar_id, day_id=day_id)
        audit.log_delete(actor=actor, instance=row)
        row.delete()
        calendar_touch(row.calendar)


def _language(workspace) -> str:
    return getattr(workspace, "language", "") or "zh-hans"


def calendar_load_holidays(
    *, actor: User | None, workspace: Workspace, calendar_id, year
) -> dict[str, int]:
    """Copy one year of Chinese public holidays and adjusted working days (the State
    Council's schedule, ``data/cn_holidays``) into a calendar. Idempotent: a date the
    calendar already has is left as it is (the administrator's edits win), so loading
    twice adds nothing. Returns ``{"added": n, "kept": m}``."""
    _require(actor, Action.UPDATE)
    year_number = _pk(year)
    if year_number not in cn_holidays.YEARS:
        years = ", ".join(str(y) for y in cn_holidays.available_years())
        raise ApplicationError(
            _("No holiday schedule for that year; available: %(years)s.") % {"years": years},
            fields={"year": [_("Choose one of: %(years)s.") % {"years": years}]},
        )
    rows = cn_holidays.rows_for(year_number, _language(workspace))
    with transaction.atomic():
        calendar = calendar_get(workspace=workspace, calendar_id=calendar_id)
        calendar = (
            WorkCalendar.objects.in_workspace(workspace).select_for_update().get(pk=calendar.pk)
        )
        have = set(
            CalendarDay.objects.in_workspace(workspace)
            .filter(calendar=calendar, day__in=[r[0] for r in rows])
            .values_list("day", flat=True)
        )
        new = [
            CalendarDay(workspace=workspace, calendar=calendar, day=day, kind=kind, name=name)
            for day, kind, name in rows
            if day not in have
        ]
        CalendarDay.objects.bulk_create(new)
        if new:
            calendar_touch(calendar)
            audit.log(
                actor=actor,
                workspace=workspace,
                action=AuditAction.UPDATE,
                object_key="service.workcalendar",
                object_id=calendar.pk,
                object_repr=str(calendar),
                changes={"holidays_loaded": [None, f"{year_number}: {len(new)}"]},
            )
    return {"added": len(new), "kept": len(have)}


# --- policies --------------------------------------------------------------------------------


def policy_get(*, workspace, policy_id) -> SlaPolicy:
    policy = (
        SlaPolicy.objects.in_workspace(workspace)
        .filter(pk=_pk(policy_id))
        .select_related("calendar")
        .first()
        if _pk(policy_id) > 0
        else None
    )
    if policy is None:
        raise NotFound()
    return policy


POLICY_FIELDS = (
    "name",
    "customer_class",
    "priority",
    "calendar_id",
    "first_response_minutes",
    "resolution_minutes",
    "warn_at_percent",
    "active",
)


def _clean_policy(workspace, values: dict, *, current: dict | None = None) -> dict:
    errors = FieldErrors()
    for name in values:
        if name not in POLICY_FIELDS:
            errors.add(name, _("This field cannot be set."))
    merged = {**(current or {}), **values}
    out: dict[str, Any] = {}
    out["name"] = _text(errors, "name", merged.get("name"), 80, required=True)
    klass = str(merged.get("customer_class") or "").strip().upper()
    if klass not in ("", *CUSTOMER_CLASSES):
        errors.add("customer_class", _("Choose class A, B, C or any."))
    out["customer_class"] = klass
    priority = merged.get("priority")
    if priority in (None, ""):
        out["priority"] = None
    else:
        out["priority"] = _int(
            errors, "priority", priority, 1, 4, _("Choose a priority (1 urgent … 4 low) or any.")
        )
    calendar_id = merged.get("calendar_id")
    calendar = None
    if calendar_id in (None, ""):
        calendar = (
            WorkCalendar.objects.in_workspace(workspace).order_by("-is_default", "id").first()
        )
        if calendar is None:
            errors.add("calendar_id", _("Choose a working calendar."))
    else:
        calendar = (
            WorkCalendar.objects.in_workspace(workspace).filter(pk=_pk(calendar_id)).first()
            if _pk(calendar_id) > 0
            else None
        )
        if calendar is None:
            errors.add("calendar_id", _("Choose a working calendar."))
    out["calendar"] = calendar
    message = _("Enter a number of business minutes from 1 to %(n)s.") % {"n": MAX_TARGET_MINUTES}
    out["first_response_minutes"] = _int(
        errors,
        "first_response_minutes",
        merged.get("first_response_minutes"),
        1,
        MAX_TARGET_MINUTES,
        message,
    )
    out["resolution_minutes"] = _int(
        errors,
        "resolution_minutes",
        merged.get("resolution_minutes"),
        1,
        MAX_TARGET_MINUTES,
        message,
    )
    if (
        out["first_response_minutes"]
        and out["resolution_minutes"]
        and out["resolution_minutes"] < out["first_response_minutes"]
    ):
        errors.add("resolution_minutes", _("Resolution cannot be due before the first response."))
    out["warn_at_percent"] = _int(
        errors,
        "warn_at_percent",
        merged.get("warn_at_percent", DEFAULT_WARN_PERCENT),
        1,
        100,
        _("Enter a share from 1 to 100 %."),
    )
    out["active"] = _bool(merged.get("active", True))
    errors.raise_if_any()
    return out


def _check_unique(workspace, clean: dict, exclude_pk=None) -> None:
    if not clean["active"]:
        return
    qs = SlaPolicy.objects.in_workspace(workspace).filter(
        active=True, customer_class=clean["customer_class"]
    )
    qs = (
        qs.filter(priority__isnull=True)
        if clean["priority"] is None
        else qs.filter(priority=clean["priority"])
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    other = qs.first()
    if other is not None:
        raise Conflict(
            _("The active policy “%(name)s” already covers this class and priority.")
            % {"name": other.name},
            code="policy_exists",
            fields={"priority": [_("Another active policy covers this class and priority.")]},
        )


def sla_policy_create(*, actor: User | None, workspace: Workspace, **values) -> SlaPolicy:
    """A policy for a customer class (A, B, C or "" for any) and a priority (1–4 or None for
    any): first-response and resolution targets in business minutes of its calendar, and
    the share of the target at which a warning goes out."""
    _require(actor, Action.CREATE)
    values.setdefault("warn_at_percent", DEFAULT_WARN_PERCENT)
    clean = _clean_policy(workspace, values)
    with transaction.atomic():
        _check_unique(workspace, clean)
        policy = SlaPolicy.objects.create(workspace=workspace, **clean)
        audit.log_create(actor=actor, instance=policy)
    return policy


def sla_policy_update(
    *, actor: User | None, workspace: Workspace, policy_id, **changes
) -> SlaPolicy:
    """Change a policy (only the fields given). New targets apply to clocks started or
    recalculated afterwards."""
    _require(actor, Action.UPDATE)
    with transaction.atomic():
        policy = policy_get(workspace=workspace, policy_id=policy_id)
        policy = SlaPolicy.objects.in_workspace(workspace).select_for_update().get(pk=policy.pk)
        current = {name: getattr(policy, name) for name in POLICY_FIELDS}
        clean = _clean_policy(workspace, changes, current=current)
        _check_unique(workspace, clean, exclude_pk=policy.pk)
        before = audit.snapshot(policy)
        for name, value in clean.items():
            setattr(policy, name, value)
        policy.save()
        audit.log_update(actor=actor, instance=policy, before=before)
    return policy


def sla_policy_delete(*, actor: User | None, workspace: Workspace, policy_id) -> None:
    """Delete a policy and its rules; its cases keep their due times (and lose the link)."""
    _require(actor, Action.DELETE)
    with transaction.atomic():
        policy = policy_get(workspace=workspace, policy_id=policy_id)
        audit.log_delete(actor=actor, instance=policy)
        EscalationRule.objects.in_workspace(workspace).filter(policy=policy).delete()
        policy.delete()


# --- escalation rules ------------------------------------------------------------------------


RULE_FIELDS = (
    "when",
    "target",
    "action",
    "notify_assignee",
    "notify_supervisor",
    "user_id",
    "queue_id",
    "position",
)


def _clean_rule(workspace, values: dict) -> dict:
    errors = FieldErrors()
    for name in values:
        if name not in RULE_FIELDS:
            errors.add(name, _("This field cannot be set."))
    out: dict[str, Any] = {}
    when = str(values.get("when") or "")
    if when not in EscalationWhen.values:
        errors.add("when", _("Choose before the breach or on the breach."))
    out["when"] = when
    target = str(values.get("target") or EscalationTarget.ANY)
    if target not in EscalationTarget.values:
        errors.add("target", _("Choose first response, resolution or either."))
    out["target"] = target
    action = str(values.get("action") or "")
    if action not in EscalationAction.values:
        errors.add("action", _("Choose notify, reassign or raise the priority."))
    out["action"] = action
    out["notify_assignee"] = _bool(values.get("notify_assignee", False))
    out["notify_supervisor"] = _bool(values.get("notify_supervisor", False))
    user = None
    if values.get("user_id") not in (None, ""):
        user = User.objects.filter(
            workspace_id=_workspace_id(workspace), pk=_pk(values["user_id"]), is_active=True
        ).first()
        if user is None:
            errors.add("user_id", _("No such active user."))
    queue = None
    if values.get("queue_id") not in (None, ""):
        queue = Queue.objects.in_workspace(workspace).filter(pk=_pk(values["queue_id"])).first()
        if queue is None:
            errors.add("queue_id", _("No such queue."))
    out["position"] = (
        _int(errors, "position", values.get("position") or 0, 0, 1000, _("Enter 0 to 1000.")) or 0
    )
    if action == EscalationAction.NOTIFY:
        out["queue"] = None
        out["user"] = user
        if not (out["notify_assignee"] or out["notify_supervisor"] or user):
            errors.add(
                "notify_assignee", _("Say whom to notify: the assignee, the supervisor or a user.")
            )
    elif action == EscalationAction.REASSIGN:
        out["notify_assignee"] = out["notify_supervisor"] = False
        if (queue is None) == (user is None) and not errors.fields.get("user_id"):
            errors.add("queue_id", _("Reassign to one queue or to one user."))
        out["queue"], out["user"] = queue, user
    else:
        out["notify_assignee"] = out["notify_supervisor"] = False
        out["queue"] = out["user"] = None
    errors.raise_if_any()
    return out


def rule_get(*, workspace, policy_id, rule_id) -> EscalationRule:
    policy = policy_get(workspace=workspace, policy_id=policy_id)
    rule = (
        EscalationRule.objects.in_workspace(workspace)
        .filter(policy=policy, pk=_pk(rule_id))
        .select_related("user", "queue")
        .first()
    )
    if rule is None:
        raise NotFound()
    return rule


def escalation_rule_create(
    *, actor: User | None, workspace: Workspace, policy_id, **values
) -> EscalationRule:
    """What a policy does at a warning or a breach (of the first response, the resolution or
    either): notify (the assignee, the queue's supervisor and/or a named user), reassign
    (to a queue, whose distribution picks the agent, or to a user) or raise the priority
    one step (never past urgent; the due times are worked out again)."""
    _require(actor, Action.UPDATE)
    clean = _clean_rule(workspace, values)
    with transaction.atomic():
        policy = policy_get(workspace=workspace, policy_id=policy_id)
        if EscalationRule.objects.in_workspace(workspace).filter(policy=policy).count() >= 20:
            raise ApplicationError(_("A policy has at most 20 rules."), code="too_many_rules")
        rule = EscalationRule.objects.create(workspace=workspace, policy=policy, **clean)
        audit.log_create(actor=actor, instance=rule)
    return rule


def escalation_rule_update(
    *, actor: User | None, workspace: Workspace, policy_id, rule_id, **changes
) -> EscalationRule:
    _require(actor, Action.UPDATE)
    with transaction.atomic():
        rule = rule_get(workspace=workspace, policy_id=policy_id, rule_id=rule_id)
        current = {name: getattr(rule, name) for name in RULE_FIELDS}
        for name in changes:
            if name not in RULE_FIELDS:
                raise ApplicationError(
                    _("This field cannot be set."), fields={name: [_("This field cannot be set.")]}
                )
        clean = _clean_rule(workspace, {**current, **changes})
        before = audit.snapshot(rule)
        for name, value in clean.items():
            setattr(rule, name, value)
        rule.save()
        audit.log_update(actor=actor, instance=rule, before=before)
    return rule


def escalation_rule_delete(*, actor: User | None, workspace: Workspace, policy_id, rule_id) -> None:
    _require(actor, Action.UPDATE)
    with transaction.atomic():
        rule = rule_get(workspace=workspace, policy_id=policy_id, rule_id=rule_id)
        audit.log_delete(actor=actor, instance=rule)
        rule.delete()


# --- what every workspace starts with ------------------------------------------------------------


def _default_names(language: str) -> dict[str, str]:
    from django.utils import translation

    with translation.override(language):
        return {
            "calendar": str(_("Standard working hours")),
            "class": str(_("Class %(class)s, %(priority)s")),
            "any_class": str(_("Any class, %(priority)s")),
            "priorities": {p.value: str(p.label) for p in CasePriority},
        }


@transaction.atomic
def sla_setup(workspace: Workspace) -> WorkCalendar:
    """The default working calendar (Monday–Friday 09:00–12:00 and 13:30–18:00, Asia/Shanghai,
    with the Chinese public holidays and 调休 working days of every year in
    ``data/cn_holidays``), one policy per customer class and priority (``DEFAULT_TARGETS``)
    plus one per priority for customers without a class, and their escalation rules. Made
    once: a workspace that has any calendar keeps what it has."""
    existing = WorkCalendar.objects.in_workspace(workspace).order_by("-is_default", "id").first()
    if existing is not None:
        return existing
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    existing = WorkCalendar.objects.in_workspace(workspace).order_by("-is_default", "id").first()
    if existing is not None:
        return existing
    names = _default_names(_language(workspace))
    from ..models.sla import default_week

    calendar = WorkCalendar.objects.create(
        workspace=workspace,
        name=names["calendar"],
        time_zone=getattr(workspace, "time_zone", "") or "Asia/Shanghai",
        week=default_week(),
        is_default=True,
    )
    for year in cn_holidays.available_years():
        calendar_load_holidays(actor=None, workspace=workspace, calendar_id=calendar.pk, year=year)
    rows = [
        ((klass, priority), response, resolution)
        for (klass, priority), (response, resolution) in DEFAULT_TARGETS.items()
    ]
    rows += [
        (("", priority), *DEFAULT_TARGETS[("B", priority)]) for priority in CasePriority.values
    ]
    for (klass, priority), response, resolution in rows:
        label = names["priorities"][priority]
        name = (
            names["class"] % {"class": klass, "priority": label}
            if klass
            else names["any_class"] % {"priority": label}
        )
        policy = SlaPolicy.objects.create(
            workspace=workspace,
            name=name,
            customer_class=klass,
            priority=priority,
            calendar=calendar,
            first_response_minutes=response,
            resolution_minutes=resolution,
            warn_at_percent=DEFAULT_WARN_PERCENT,
        )
        rules = [
            EscalationRule(
                workspace=workspace,
                policy=policy,
                when=EscalationWhen.WARNING,
                target=EscalationTarget.ANY,
                action=EscalationAction.NOTIFY,
                notify_assignee=True,
                position=1,
            ),
            EscalationRule(
                workspace=workspace,
                policy=policy,
                when=EscalationWhen.BREACH,
                target=EscalationTarget.ANY,
                action=EscalationAction.NOTIFY,
                notify_assignee=True,
                notify_supervisor=True,
                position=2,
            ),
        ]
        if klass == "A" or priority == CasePriority.URGENT:
            rules.append(
                EscalationRule(
                    workspace=workspace,
                    policy=policy,
                    when=EscalationWhen.BREACH,
                    target=EscalationTarget.RESPONSE,
                    action=EscalationAction.RAISE_PRIORITY,
                    notify_assignee=False,
                    position=3,
                )
            )
        EscalationRule.objects.bulk_create(rules)
    return calendar


def default_calendar(workspace) -> WorkCalendar:
    calendar = WorkCalendar.objects.in_workspace(workspace).order_by("-is_default", "id").first()
    return calendar if calendar is not None else sla_setup(workspace)


# --- the sweep -------------------------------------------------------------------------------

# Breaches first: a case past both its warning and its due time is breached (and its warning
# time set) in one step, so it is not also "warned" afterwards.
SWEEP_KINDS = (
    ("response", EscalationWhen.BREACH),
    ("resolution", EscalationWhen.BREACH),
    ("response", EscalationWhen.WARNING),
    ("resolution", EscalationWhen.WARNING),
)


def _due_query(workspace_id: int, target: str, stage: str, now: dt.datetime, limit: int):
    """The ids to mark, as the partial index on ``Case`` serves them."""
    qs = Case.objects.in_workspace(workspace_id).filter(
        status__in=["new", "open"], sla_paused_at__isnull=True
    )
    if target == "response":
        qs = qs.filter(first_response_at__isnull=True)
    qs = qs.filter(**{f"{target}_warn_at__lte": now})
    if stage == EscalationWhen.BREACH:
        qs = qs.filter(**{f"{target}_due_at__lte": now, f"{target}_breached_at__isnull": True})
    else:
        qs = qs.filter(**{f"{target}_warned_at__isnull": True})
    qs = qs.order_by().values("pk")[:limit]
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return qs


def _mark(workspace_id: int, target: str, stage: str, now: dt.datetime, limit: int) -> list[int]:
    """One UPDATE … RETURNING id: mark up to ``limit`` cases warned or breached."""
    sub_sql, sub_params = _due_query(
        workspace_id, target, stage, now, limit
    ).query.sql_with_params()
    table = connection.ops.quote_name(Case._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    warned = connection.ops.quote_name(Case._meta.get_field(f"{target}_warned_at").column)
    breached = connection.ops.quote_name(Case._meta.get_field(f"{target}_breached_at").column)
    updated = connection.ops.quote_name(Case._meta.get_field("updated_at").column)
    pk = connection.ops.quote_name(Case._meta.pk.column)
    if stage == EscalationWhen.BREACH:
        sets = f"{breached} = %s, {warned} = COALESCE({warned}, %s), {updated} = %s"
        params = [stamp, stamp, stamp]
    else:
        sets = f"{warned} = %s, {updated} = %s"
        params = [stamp, stamp]
    sql = f"UPDATE {table} SET {sets} WHERE {pk} IN ({sub_sql}) RETURNING {pk}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *sub_params])
        return [row[0] for row in cursor.fetchall()]


def sla_sweep(
    *,
    now: dt.datetime | None = None,
    batch: int = SWEEP_BATCH,
    workspace_ids: list[int] | None = None,
) -> dict[str, int]:
    """Mark the open cases whose warning or due time has passed, in every workspace (or the
    given ones), and run their policies' escalation rules. Returns how many cases got each
    mark, and how many escalations ran."""
    now = now or timezone.now()
    counts = {
        "response_warnings": 0,
        "resolution_warnings": 0,
        "response_breaches": 0,
        "resolution_breaches": 0,
        "escalations": 0,
    }
    if workspace_ids is None:
        workspace_ids = list(Workspace.objects.order_by("pk").values_list("pk", flat=True))
    for workspace_id in workspace_ids:
        for target, stage in SWEEP_KINDS:
            key = f"{target}_{'breaches' if stage == EscalationWhen.BREACH else 'warnings'}"
            while True:
                with transaction.atomic():
                    ids = _mark(workspace_id, target, stage, now, batch)
                    if ids:
                        counts["escalations"] += _escalate(workspace_id, ids, target, stage, now)
                counts[key] += len(ids)
                if len(ids) < batch:
                    break
    if any(counts.values()):
        logger.info("SLA sweep: %s", counts)
    return counts


def sla_sweep_now(*, actor: User, workspace: Workspace) -> dict[str, int]:
    """The sweep of the administrator's own workspace, now (the API's trigger); the
    periodic job does every workspace each minute. Returns its counts."""
    permissions.require_admin(actor)
    return sla_sweep(workspace_ids=[workspace.pk])


# --- escalations -----------------------------------------------------------------------------


class _Escalation:
    """The escalation of one batch of cases of one workspace: events, notifications and
    the changes of the cases the rules reassign or re-prioritise."""

    def __init__(self, workspace_id: int, target: str, stage: str, now: dt.datetime):
        self.workspace_id = workspace_id
        self.target = target
        self.stage = stage
        self.now = now
        self.events: list[CaseEvent] = []
        self.notes: list[Notification] = []
        self.zones: dict[str, zoneinfo.ZoneInfo] = {}
        self._workspace_language: str | None = None
        self._policies: list[SlaPolicy] | None = None

    def event(self, case: Case, kind: str, *, from_value="", to_value="", note="") -> None:
        self.events.append(
            CaseEvent(
                workspace_id=self.workspace_id,
                case=case,
                kind=kind,
                from_value=("" if from_value is None else str(from_value))[:60],
                to_value=("" if to_value is None else str(to_value))[:60],
                note=str(note or "")[:300],
            )
        )

    def _zone(self, name: str) -> zoneinfo.ZoneInfo:
        zone = self.zones.get(name)
        if zone is None:
            try:
                zone = zoneinfo.ZoneInfo(name or "Asia/Shanghai")
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = zoneinfo.ZoneInfo("Asia/Shanghai")
            self.zones[name] = zone
        return zone

    def due_text(self, case: Case, user: User) -> str:
        due = getattr(case, f"{self.target}_due_at")
        if due is None:
            return ""
        zone_name = getattr(user, "time_zone", "") or (
            case.sla_policy.calendar.time_zone if case.sla_policy_id else ""
        )
        return due.astimezone(self._zone(zone_name)).strftime("%Y-%m-%d %H:%M")

    def language(self, user: User) -> str:
        if user.language:
            return user.language
        if self._workspace_language is None:
            self._workspace_language = (
                Workspace.objects.filter(pk=self.workspace_id)
                .values_list("language", flat=True)
                .first()
                or settings.LANGUAGE_CODE
            )
        return self._workspace_language

    def tell(self, case: Case, users, *, title, body) -> None:
        """In-app notifications (as ``notifications.notify`` writes them, in each user's
        language), collected and written with one bulk insert per batch: a sweep after an
        outage may notify thousands."""
        seen = set()
        url = case_url(case.pk)
        for user in users:
            if user is None or not user.is_active or user.pk in seen:
                continue
            seen.add(user.pk)
            params = {
                "number": case.number,
                "subject": case.subject,
                "due": self.due_text(case, user),
            }
            with translation.override(self.language(user)):
                self.notes.append(
                    Notification(
                        workspace_id=self.workspace_id,
                        user=user,
                        title=(str(title) % params)[:200],
                        body=(str(body) % params)[:500],
                        url=url[:300],
                    )
                )

    def policies(self) -> list[SlaPolicy]:
        """The workspace's active policies, loaded once (a raised priority picks again)."""
        if self._policies is None:
            self._policies = list(
                SlaPolicy.objects.in_workspace(self.workspace_id)
                .filter(active=True)
                .select_related("calendar")
            )
        return self._policies

    def messages(self):
        if self.stage == EscalationWhen.WARNING:
            title = _("SLA warning: %(number)s %(subject)s")
            body = (
                _("The first response is due %(due)s.")
                if self.target == "response"
                else _("Resolution is due %(due)s.")
            )
        else:
            title = _("SLA breached: %(number)s %(subject)s")
            body = (
                _("The first response was due %(due)s.")
                if self.target == "response"
                else _("Resolution was due %(due)s.")
            )
        return title, body


def _escalate(workspace_id: int, ids: list[int], target: str, stage: str, now) -> int:
    """Write the warning/breach events of the marked cases and apply their policies' rules;
    returns how many cases were escalated. Inside the marking's transaction."""
    work = _Escalation(workspace_id, target, stage, now)
    cases = list(
        Case.objects.in_workspace(workspace_id)
        .filter(pk__in=ids)
        .select_related(
            "assignee", "queue__supervisor", "sla_policy__calendar", "account", "contact"
        )
        .order_by("pk")
    )
    policy_ids = {c.sla_policy_id for c in cases if c.sla_policy_id}
    rules: dict[int, list[EscalationRule]] = defaultdict(list)
    for rule in (
        EscalationRule.objects.in_workspace(workspace_id)
        .filter(policy_id__in=policy_ids, when=stage, target__in=[target, EscalationTarget.ANY])
        .select_related("user", "queue")
        .order_by("position", "pk")
    ):
        rules[rule.policy_id].append(rule)
    kind = (
        CaseEventKind.SLA_WARNING if stage == EscalationWhen.WARNING else CaseEventKind.SLA_BREACH
    )
    title, body = work.messages()
    escalated_only: list[int] = []
    changed: list[Case] = []
    for case in cases:
        work.event(case, kind, to_value=target)
        applied = []
        dirty = False
        for rule in rules.get(case.sla_policy_id, ()):
            if rule.action == EscalationAction.NOTIFY:
                supervisor = case.queue.supervisor if case.queue_id and case.queue else None
                work.tell(
                    case,
                    [
                        case.assignee if rule.notify_assignee else None,
                        supervisor if rule.notify_supervisor else None,
                        rule.user,
                    ],
                    title=title,
                    body=body,
                )
                applied.append(rule)
            elif rule.action == EscalationAction.REASSIGN:
                if _reassign(work, case, rule):
                    applied.append(rule)
                    dirty = True
            elif rule.action == EscalationAction.RAISE_PRIORITY and _raise_priority(work, case):
                applied.append(rule)
                dirty = True
        escalation = stage == EscalationWhen.BREACH or any(
            r.action != EscalationAction.NOTIFY for r in applied
        )
        if not applied or not escalation:
            continue
        work.event(
            case,
            CaseEventKind.ESCALATED,
            from_value=case.escalation_level,
            to_value=case.escalation_level + 1,
            note=", ".join(str(EscalationAction(r.action).label) for r in applied),
        )
        if dirty:
            case.escalation_level += 1
            changed.append(case)
        else:
            escalated_only.append(case.pk)
    for case in changed:
        case.lock_version += 1
        case.save(
            update_fields=[
                "queue",
                "assignee",
                "priority",
                "escalation_level",
                "lock_version",
                "updated_at",
                *sla_clock.SLA_FIELDS,
            ]
        )
    if escalated_only:
        Case.objects.in_workspace(workspace_id).filter(pk__in=escalated_only).update(
            escalation_level=F("escalation_level") + 1
        )
    CaseEvent.objects.bulk_create(work.events, batch_size=500)
    Notification.objects.bulk_create(work.notes, batch_size=500)
    return len(changed) + len(escalated_only)


def _who(user: User | None) -> str:
    return (user.full_name or user.email) if user is not None else ""


def _reassign(work: _Escalation, case: Case, rule: EscalationRule) -> bool:
    before_user, before_queue = case.assignee, case.queue
    if rule.queue_id and rule.queue is not None and rule.queue.active:
        if case.queue_id == rule.queue_id and case.assignee_id is None:
            return False
        case.queue = rule.queue
        case.assignee = None
        routing.case_route(case, actor=None)
    elif rule.user_id and rule.user is not None and rule.user.is_active:
        if case.assignee_id == rule.user_id:
            return False
        case.assignee = rule.user
    else:
        return False
    if (case.assignee_id, case.queue_id) == (
        getattr(before_user, "pk", None),
        getattr(before_queue, "pk", None),
    ):
        return False
    work.event(
        case,
        CaseEventKind.ASSIGNED,
        from_value=_who(before_user) or (before_queue.name if before_queue else ""),
        to_value=_who(case.assignee) or (case.queue.name if case.queue else ""),
        note=str(_("Escalated by the SLA")),
    )
    if case.assignee is not None:
        work.tell(
            case,
            [case.assignee],
            title=_("Case escalated to you: %(number)s %(subject)s"),
            body=_("Its SLA was breached or is about to be; it is yours now."),
        )
    return True


def _raise_priority(work: _Escalation, case: Case) -> bool:
    if case.priority <= CasePriority.URGENT:
        return False
    old = case.priority
    case.priority = old - 1
    sla_clock.sla_reapply(case, now=work.now, policies=work.policies())
    work.event(
        case,
        CaseEventKind.PRIORITY,
        from_value=old,
        to_value=case.priority,
        note=str(_("Raised by the SLA")),
    )
    return True
