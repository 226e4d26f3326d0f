"""Visit plans: how often each account is visited, and the visit tasks that follow.

``visit_settings_get``/``visit_settings_update`` hold the workspace's defaults (visits a
year by value class A/B/C and by customer type; a class with an entry beats the type) and
the check-in distance that counts as far. ``visit_plan_get`` gives an account's
effective frequency — its own plan when set by hand, else the default for its class or type;
``visit_plan_set`` and ``visit_plan_reset`` change it. ``visit_plans_generate`` (run as the
``activities.visit_plans`` job, started by ``visit_plans_generate_start``) turns the plans
into visit ``Task`` rows for a year, quarter or month.

Slots: a plan of ``f`` visits a year has ``f`` fixed slots a year, whatever period is
generated. When ``f`` divides by 12 the slots are monthly (``2026-11#1``…), when it divides
by 4 quarterly (``2026-Q4#1``…), else yearly (``2026#3``); visit ``k`` of ``n`` in a unit
falls at ``(k - ½) / n`` of it, moved off a weekend inside the unit, at 10:00 in the
owner's time zone. Generating a period creates the slots whose date falls in it, and the
unique ``(visit_plan, plan_slot)`` makes a second run create nothing, even after generating
the year and then one of its quarters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Account, AccountType
from guanxi.platform import audit, jobs, permissions
from guanxi.platform.models import Action, AuditAction, Team, User, Workspace

from ..localtime import zone_named
from ..models import Task, TaskKind, TaskStatus, VisitMeans, VisitPlan, VisitSettings
from ..objects import TASK, VISIT_PLAN

JOB_KIND = "activities.visit_plans"
MAX_VISITS_PER_YEAR = 365
MIN_FAR_METERS, MAX_FAR_METERS = 10, 100_000
CLASSES = ("A", "B", "C")
GENERATE_BATCH = 2000
VISIT_HOUR = dt.time(10, 0)


# --- settings -----------------------------------------------------------------------------------


def _ws_id(workspace) -> int:
    return getattr(workspace, "pk", workspace)


def visit_settings_get(*, workspace) -> VisitSettings:
    """The workspace's visit rules; the defaults (unsaved) when never changed."""
    settings = VisitSettings.objects.in_workspace(workspace).first()
    return settings or VisitSettings(workspace_id=_ws_id(workspace))


def _frequency(value, *, field: str) -> int:
    """A number of visits a year, 0–365."""
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if value not in (None, "") else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 <= number <= MAX_VISITS_PER_YEAR:
        message = _("Enter a whole number of visits a year from 0 to %(max)s.") % {
            "max": MAX_VISITS_PER_YEAR
        }
        raise ApplicationError(message, code="invalid_frequency", fields={field: [message]})
    return number


def _frequency_map(values, *, field: str, allowed: tuple[str, ...]) -> dict[str, int]:
    if not isinstance(values, dict):
        message = _("Enter the visits a year for each key.")
        raise ApplicationError(message, fields={field: [message]})
    unknown = sorted(str(k) for k in values if k not in allowed)
    if unknown:
        message = _("Unknown keys: %(keys)s. Use: %(allowed)s.") % {
            "keys": ", ".join(unknown),
            "allowed": ", ".join(allowed),
        }
        raise ApplicationError(message, fields={field: [message]})
    return {key: _frequency(v, field=f"{field}.{key}") for key, v in values.items()}


def visit_settings_update(
    *,
    actor: User,
    workspace: Workspace,
    visits_per_year_by_type: dict | None = None,
    visits_per_year_by_class: dict | None = None,
    far_checkin_meters: int | None = None,
) -> VisitSettings:
    """Change the workspace's visit rules (administrators). The maps are merged key by key
    into the current ones; keys are customer types (``customer``, ``agent``…) and classes
    (``A``/``B``/``C``); values are visits a year, 0–365."""
    permissions.require_admin(actor)
    by_type = (
        None
        if visits_per_year_by_type is None
        else _frequency_map(
            visits_per_year_by_type,
            field="visits_per_year_by_type",
            allowed=tuple(AccountType.values),
        )
    )
    by_class = (
        None
        if visits_per_year_by_class is None
        else _frequency_map(
            visits_per_year_by_class, field="visits_per_year_by_class", allowed=CLASSES
        )
    )
    far = None
    if far_checkin_meters is not None:
        try:
            far = int(far_checkin_meters)
        except (TypeError, ValueError):
            far = None
        if (
            isinstance(far_checkin_meters, bool)
            or far is None
            or not (MIN_FAR_METERS <= far <= MAX_FAR_METERS)
        ):
            message = _("Enter a distance from %(min)s to %(max)s metres.") % {
                "min": MIN_FAR_METERS,
                "max": MAX_FAR_METERS,
            }
            raise ApplicationError(message, fields={"far_checkin_meters": [message]})
    with transaction.atomic():
        settings = VisitSettings.objects.in_workspace(workspace).select_for_update().first()
        if settings is None:
            try:
                with transaction.atomic():
                    settings = VisitSettings.objects.create(workspace_id=_ws_id(workspace))
            except IntegrityError:  # created by a concurrent first save
                settings = VisitSettings.objects.in_workspace(workspace).select_for_update().get()
        before = audit.snapshot(settings)
        if by_type is not None:
            settings.visits_per_year_by_type = {**settings.visits_per_year_by_type, **by_type}
        if by_class is not None:
            settings.visits_per_year_by_class = {
                **settings.visits_per_year_by_class,
                **by_class,
            }
        if far is not None:
            settings.far_checkin_meters = far
        settings.save()
        audit.log_update(actor=actor, instance=settings, before=before)
    return settings


def default_frequency(settings: VisitSettings, account_type: str, value_class: str = "") -> int:
    """Visits a year for an account that follows the defaults: by its value class (A/B/C,
    computed by the analytics' customer-value run) when the by-class map has an entry for
    it — a class beats the type — else by its customer type."""
    by_class = settings.visits_per_year_by_class or {}
    if value_class and value_class in by_class:
        value = by_class[value_class]
    else:
        value = (settings.visits_per_year_by_type or {}).get(account_type, 0)
    try:
        return max(0, min(MAX_VISITS_PER_YEAR, int(value)))
    except (TypeError, ValueError):
        return 0


# --- one account's plan -------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectivePlan:
    """What an account's visit frequency is now, and where it comes from."""

    account: Account
    visits_per_year: int
    is_custom: bool
    means: str
    notes: str
    plan: VisitPlan | None

    @property
    def source(self) -> str:
        return "custom" if self.is_custom else "default"

    @property
    def means_label(self) -> str:
        return VisitMeans(self.means).label if self.means in VisitMeans.values else self.means


def _effective(account: Account, plan: VisitPlan | None, settings: VisitSettings) -> EffectivePlan:
    if plan is not None and plan.is_custom:
        return EffectivePlan(account, plan.visits_per_year, True, plan.means, plan.notes, plan)
    return EffectivePlan(
        account,
        default_frequency(settings, account.account_type, account.value_class),
        False,
        plan.means if plan else VisitMeans.COMPANY_VISIT,
        plan.notes if plan else "",
        plan,
    )


def visit_plan_get(*, actor: User, workspace: Workspace, account_id) -> EffectivePlan:
    """The effective visit plan of an account the actor may see: the plan set by hand, or
    the workspace default for the account's type."""
    permissions.require(actor, VISIT_PLAN, Action.READ)
    account = customer_selectors.account_get(
        workspace=workspace, actor=actor, account_id=account_id
    )
    plan = VisitPlan.objects.in_workspace(workspace).filter(account=account).first()
    return _effective(account, plan, visit_settings_get(workspace=workspace))


def _clean_means(means) -> str:
    means = str(means or "").strip()
    if means not in VisitMeans.values:
        message = _("Choose one of the five visit means.")
        raise ApplicationError(message, code="invalid_means", fields={"means": [message]})
    return means


def _clean_notes(notes) -> str:
    text = str(notes or "").strip()
    if "\x00" in text:
        message = _("Text may not contain NUL characters.")
        raise ApplicationError(message, fields={"notes": [message]})
    if len(text) > 500:
        message = _("At most %(n)s characters.") % {"n": 500}
        raise ApplicationError(message, fields={"notes": [message]})
    return text


def _locked_plan(workspace, account: Account) -> VisitPlan | None:
    return (
        VisitPlan.objects.in_workspace(workspace)
        .select_for_update()
        .filter(account=account)
        .first()
    )


def _release_future_slots(workspace, plan: VisitPlan) -> int:
    """After a frequency change the plan's open, future generated visits follow the old
    slots: cancel them and detach them from the plan, so the next generation lays out the
    new ones (done and past visits stay as they are)."""
    return (
        Task.objects.in_workspace(workspace)
        .filter(visit_plan=plan, status=TaskStatus.OPEN, due_at__gt=timezone.now())
        .update(
            status=TaskStatus.CANCELLED,
            visit_plan=None,
            completed_at=None,
            updated_at=timezone.now(),
        )
    )


def visit_plan_set(
    *,
    actor: User,
    workspace: Workspace,
    account_id,
    visits_per_year,
    means: str | None = None,
    notes: str | None = None,
) -> EffectivePlan:
    """Set an account's visit frequency by hand (0–365 a year), and optionally its usual
    means and notes. The plan no longer follows the workspace defaults."""
    permissions.require(actor, VISIT_PLAN, Action.UPDATE)
    frequency = _frequency(visits_per_year, field="visits_per_year")
    means = _clean_means(means) if means is not None else None
    notes = _clean_notes(notes) if notes is not None else None
    account = customer_selectors.account_get(
        workspace=workspace, actor=actor, account_id=account_id
    )
    with transaction.atomic():
        plan = _locked_plan(workspace, account)
        settings = visit_settings_get(workspace=workspace)
        old_frequency = _effective(account, plan, settings).visits_per_year
        if plan is None:
            plan = VisitPlan(workspace_id=_ws_id(workspace), account=account)
            before = None
        else:
            before = audit.snapshot(plan)
        plan.visits_per_year = frequency
        plan.is_custom = True
        if means is not None:
            plan.means = means
        if notes is not None:
            plan.notes = notes
        plan.updated_by = actor
        plan.save()
        if before is None:
            audit.log_create(actor=actor, instance=plan)
        else:
            audit.log_update(actor=actor, instance=plan, before=before)
        if frequency != old_frequency:
            _release_future_slots(workspace, plan)
    return _effective(account, plan, settings)


def visit_plan_reset(*, actor: User, workspace: Workspace, account_id) -> EffectivePlan:
    """Put an account's visit frequency back to the workspace default for its type."""
    permissions.require(actor, VISIT_PLAN, Action.UPDATE)
    account = customer_selectors.account_get(
        workspace=workspace, actor=actor, account_id=account_id
    )
    settings = visit_settings_get(workspace=workspace)
    with transaction.atomic():
        plan = _locked_plan(workspace, account)
        if plan is None or not plan.is_custom:
            return _effective(account, plan, settings)
        before = audit.snapshot(plan)
        default = default_frequency(settings, account.account_type, account.value_class)
        changed = default != plan.visits_per_year
        plan.visits_per_year = default
        plan.is_custom = False
        plan.updated_by = actor
        plan.save()
        audit.log_update(actor=actor, instance=plan, before=before)
        if changed:
            _release_future_slots(workspace, plan)
    return _effective(account, plan, settings)


# --- periods and slots --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A year (``2026``), quarter (``2026-Q4``) or month (``2026-11``); ``end`` is exclusive."""

    label: str
    kind: str  # "year" | "quarter" | "month"
    start: dt.date
    end: dt.date

    @property
    def year(self) -> int:
        return self.start.year


_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


def _month_start(year: int, month: int) -> dt.date:
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse_period(value) -> Period:
    """``"2026"``, ``"2026-Q4"`` or ``"2026-11"`` (years 2000–2100)."""
    text = str(value or "").strip().upper()
    match = _PERIOD.match(text)
    year = int(match.group(1)) if match else 0
    month = int(match.group(3)) if match and match.group(3) else None
    if not match or not 2000 <= year <= 2100 or (month is not None and not 1 <= month <= 12):
        message = _("Enter a period as a year (2026), a quarter (2026-Q4) or a month (2026-11).")
        raise ApplicationError(message, code="invalid_period", fields={"period": [message]})
    if match.group(2):
        quarter = int(match.group(2))
        start = dt.date(year, 3 * quarter - 2, 1)
        return Period(f"{year}-Q{quarter}", "quarter", start, _month_start(year, 3 * quarter + 1))
    if month is not None:
        return Period(
            f"{year}-{month:02d}",
            "month",
            dt.date(year, month, 1),
            _month_start(year, month + 1),
        )
    return Period(str(year), "year", dt.date(year, 1, 1), dt.date(year + 1, 1, 1))


def current_period(kind: str = "quarter", *, today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    if kind == "year":
        return parse_period(str(today.year))
    if kind == "month":
        return parse_period(f"{today.year}-{today.month:02d}")
    return parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")


def _working_day(day: dt.date, unit_start: dt.date, unit_end: dt.date) -> dt.date:
    """Saturday → Friday, Sunday → Monday, never leaving the slot's unit (public holidays
    are not known: reps move those visits by hand)."""
    weekday = day.weekday()
    if weekday == 5:
        day -= dt.timedelta(days=1)
    elif weekday == 6:
        day += dt.timedelta(days=1)
    if day >= unit_end:
        day -= dt.timedelta(days=3)  # the unit ended on a Sunday: the Friday before
    if day < unit_start:
        day += dt.timedelta(days=3)  # the unit began on a Saturday: the Monday after
    return day


def year_slots(year: int, visits_per_year: int) -> list[tuple[str, dt.date]]:
    """The ``(slot, day)`` of every visit a plan of ``visits_per_year`` makes in ``year``."""
    if visits_per_year <= 0:
        return []
    if visits_per_year % 12 == 0:
        per_unit = visits_per_year // 12
        units = [
            (f"{year}-{m:02d}", dt.date(year, m, 1), _month_start(year, m + 1))
            for m in range(1, 13)
        ]
    elif visits_per_year % 4 == 0:
        per_unit = visits_per_year // 4
        units = [
            (f"{year}-Q{q}", dt.date(year, 3 * q - 2, 1), _month_start(year, 3 * q + 1))
            for q in range(1, 5)
        ]
    else:
        per_unit = visits_per_year
        units = [(str(year), dt.date(year, 1, 1), dt.date(year + 1, 1, 1))]
    slots = []
    for name, start, end in units:
        length = (end - start).days
        for k in range(1, per_unit + 1):
            day = start + dt.timedelta(days=int((k - 0.5) * length / per_unit))
            slots.append((f"{name}#{k}", _working_day(day, start, end)))
    return slots


def period_slots(period: Period, visits_per_year: int) -> list[tuple[str, dt.date]]:
    return [
        (slot, day)
        for slot, day in year_slots(period.year, visits_per_year)
        if period.start <= day < period.end
    ]


# --- generation ---------------------------------------------------------------------------------


def _filters(*, workspace, team_id, owner_id) -> tuple[Team | None, User | None]:
    team = owner = None
    if team_id not in (None, ""):
        try:
            team = Team.objects.in_workspace(workspace).get(pk=int(team_id))
        except (Team.DoesNotExist, TypeError, ValueError):
            raise NotFound(_("No such team.")) from None
    if owner_id not in (None, ""):
        try:
            owner = User.objects.filter(workspace=workspace).get(pk=int(owner_id))
        except (User.DoesNotExist, TypeError, ValueError):
            raise NotFound(_("No such user.")) from None
    return team, owner


def _require_generate(actor: User) -> None:
    permissions.require(actor, VISIT_PLAN, Action.UPDATE)
    permissions.require(actor, TASK, Action.CREATE)


def visit_plans_generate_start(
    *, actor: User, workspace: Workspace, period, team_id=None, owner_id=None
):
    """Check the request and start the ``activities.visit_plans`` job; returns the job."""
    _require_generate(actor)
    parsed = parse_period(period)
    team, owner = _filters(workspace=workspace, team_id=team_id, owner_id=owner_id)
    return jobs.job_start(
        actor=actor,
        workspace=workspace,
        kind=JOB_KIND,
        params={
            "period": parsed.label,
            "team_id": team.pk if team else None,
            "owner_id": owner.pk if owner else None,
        },
    )


def _accounts_to_plan(*, actor, workspace, team: Team | None, owner: User | None):
    qs = customer_selectors.account_list(workspace=workspace, actor=actor).filter(
        owner__isnull=False, owner__is_active=True
    )
    if owner is not None:
        qs = qs.filter(owner=owner)
    if team is not None:
        qs = qs.filter(owner__team__path__startswith=team.path)
    return qs


def _location(row: dict) -> str:
    return " ".join(p for p in (row["city"], row["district"], row["street"]) if p)[:300]


def _generate_batch(*, actor, workspace, period: Period, settings, rows: list[dict]) -> tuple:
    """Plans and visit tasks for one batch of accounts, in one transaction."""
    ws_id = _ws_id(workspace)
    plans = VisitPlan.objects.in_workspace(workspace)
    ids = [r["pk"] for r in rows]
    stored = {p["account_id"]: p for p in plans.filter(account_id__in=ids).values()}

    def frequency(row) -> int:
        plan = stored.get(row["pk"])
        if plan is not None and plan["is_custom"]:
            return plan["visits_per_year"]
        return default_frequency(settings, row["account_type"], row["value_class"])

    wanted = [r for r in rows if frequency(r) > 0]
    new_plans = [
        VisitPlan(
            workspace_id=ws_id,
            account_id=r["pk"],
            visits_per_year=frequency(r),
            is_custom=False,
            updated_by=actor,
        )
        for r in wanted
        if r["pk"] not in stored
    ]
    if new_plans:
        plans.bulk_create(new_plans, ignore_conflicts=True)
        stored.update(
            {
                p["account_id"]: p
                for p in plans.filter(account_id__in=[p.account_id for p in new_plans]).values()
            }
        )
    plan_ids = [stored[r["pk"]]["id"] for r in wanted]
    taken = set(
        Task.objects.in_workspace(workspace)
        .filter(visit_plan_id__in=plan_ids, plan_slot__startswith=str(period.year))
        .values_list("visit_plan_id", "plan_slot")
    )
    tasks = []
    for row in wanted:
        plan = stored[row["pk"]]
        zone = zone_named(row["owner__time_zone"], workspace.time_zone)
        for slot, day in period_slots(period, frequency(row)):
            if (plan["id"], slot) in taken:
                continue
            tasks.append(
                Task(
                    workspace_id=ws_id,
                    kind=TaskKind.VISIT,
                    title=gettext("Visit: %(name)s") % {"name": row["name"]},
                    description=plan["notes"],
                    due_at=dt.datetime.combine(day, VISIT_HOUR, tzinfo=zone),
                    location=_location(row),
                    assignee_id=row["owner_id"],
                    created_by=actor,
                    account_id=row["pk"],
                    visit_plan_id=plan["id"],
                    plan_slot=slot,
                )
            )
    # A concurrent run may have taken a slot meanwhile: the unique slot makes it a no-op.
    Task.objects.bulk_create(tasks, batch_size=1000, ignore_conflicts=True)
    return len(new_plans), len(tasks)


def visit_plans_generate(
    *,
    actor: User,
    workspace: Workspace,
    period,
    team_id=None,
    owner_id=None,
    progress: Callable[[int, int | None, str], None] | None = None,
) -> dict:
    """Create the visit tasks of ``period`` for every account the actor may see that has
    an active owner and a frequency above 0 (optionally only one owner's, or one team's and
    the teams below), assigned to the owner. Idempotent by ``(visit_plan, plan_slot)``.
    Works in batches of ``GENERATE_BATCH`` accounts, each in its own transaction, so a
    100,000-account run is bounded in memory and a crash loses no finished batch."""
    _require_generate(actor)
    parsed = parse_period(period)
    team, owner = _filters(workspace=workspace, team_id=team_id, owner_id=owner_id)
    settings = visit_settings_get(workspace=workspace)
    accounts = _accounts_to_plan(actor=actor, workspace=workspace, team=team, owner=owner)
    total = accounts.count()
    done = plans_created = tasks_created = 0
    last_pk = 0
    fields = ("pk", "name", "account_type", "value_class", "owner_id", "owner__time_zone")
    fields += ("city", "district", "street")
    while True:
        rows = list(accounts.filter(pk__gt=last_pk).order_by("pk").values(*fields)[:GENERATE_BATCH])
        if not rows:
            break
        with transaction.atomic():
            made_plans, made_tasks = _generate_batch(
                actor=actor, workspace=workspace, period=parsed, settings=settings, rows=rows
            )
        plans_created += made_plans
        tasks_created += made_tasks
        done += len(rows)
        last_pk = rows[-1]["pk"]
        if progress is not None:
            progress(done, total, gettext("%(n)s visits planned so far") % {"n": tasks_created})
    with transaction.atomic():
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key=VISIT_PLAN,
            object_repr=gettext("Visit tasks for %(period)s") % {"period": parsed.label},
            changes={
                "period": parsed.label,
                "team": team.pk if team else None,
                "owner": owner.pk if owner else None,
                "accounts": done,
                "tasks_created": tasks_created,
                "plans_created": plans_created,
            },
        )
    return {
        "period": parsed.label,
        "accounts": done,
        "tasks_created": tasks_created,
        "plans_created": plans_created,
    }
