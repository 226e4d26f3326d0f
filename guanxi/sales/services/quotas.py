"""Quotas: what a rep or a team should sell in a month, quarter or year, in the base currency.

A team's quota is its own number (what its manager answers for), not the sum of its
members'. Setting quotas needs the right ``sales.quota`` (create/update), and the rep or
team must be in the actor's view of quotas (a manager: their team and the teams below).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from guanxi.activities.services.visits import Period, parse_period
from guanxi.common.errors import ApplicationError, FieldErrors
from guanxi.platform import audit, permissions
from guanxi.platform.models import User, Workspace

from ..models import Quota
from ..objects import QUOTA
from ..selectors.forecast import quota_get, scope_for
from .money import round_money

MAX_QUOTA = Decimal("9999999999999999.99")


def clean_amount(value, errors: FieldErrors, *, field: str = "amount") -> Decimal | None:
    """A quota amount: a number from 0 with at most two decimals."""
    if isinstance(value, bool) or value is None or value == "":
        errors.add(field, _("Enter the quota as an amount."))
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors.add(field, _("Enter the quota as an amount."))
        return None
    if not amount.is_finite():
        errors.add(field, _("Enter the quota as an amount."))
        return None
    if amount < 0:
        errors.add(field, _("A quota cannot be negative."))
        return None
    if amount > MAX_QUOTA:
        errors.add(field, _("This quota is too large."))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.add(field, _("Enter at most two decimal places."))
        return None
    return round_money(amount)


def _period(value, errors: FieldErrors) -> Period | None:
    if isinstance(value, Period):
        return value
    try:
        return parse_period(value)
    except ApplicationError as exc:
        errors.add("period", exc.message)
        return None


@dataclass
class _Target:
    user: User | None
    team: object | None


def _target(scope, *, user_id, team_id, errors: FieldErrors) -> _Target | None:
    if (user_id in (None, "")) == (team_id in (None, "")):
        errors.add("user", _("Choose either a rep or a team."))
        return None
    if user_id not in (None, ""):
        user = _lookup(scope.users, user_id)
        if user is None:
            errors.add("user", _("Choose a rep you manage."))
            return None
        return _Target(user=user, team=None)
    team = _lookup(scope.teams, team_id)
    if team is None:
        errors.add("team", _("Choose a team you manage."))
        return None
    return _Target(user=None, team=team)


def _lookup(mapping: dict, key):
    try:
        return mapping.get(int(key))
    except (TypeError, ValueError):
        return None


def quota_set(
    *,
    actor: User,
    workspace: Workspace,
    period,
    amount,
    user_id=None,
    team_id=None,
) -> Quota:
    """Set the quota of one rep (``user_id``) or one team (``team_id``) for ``period``
    (``2026``, ``2026-Q4``, ``2026-11``): creates it, or changes the one there is."""
    permissions.require(actor, QUOTA, "update")
    permissions.require(actor, QUOTA, "create")
    errors = FieldErrors()
    parsed = _period(period, errors)
    value = clean_amount(amount, errors)
    scope = scope_for(workspace=workspace, actor=actor, object_key=QUOTA)
    target = _target(scope, user_id=user_id, team_id=team_id, errors=errors)
    errors.raise_if_any()
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _upsert(actor, workspace, parsed, value, target)
        except IntegrityError:  # a concurrent first save of the same quota: update it
            if attempt:
                raise
    raise AssertionError("unreachable")


def _upsert(actor, workspace, period: Period, amount: Decimal, target: _Target) -> Quota:
    qs = Quota.objects.in_workspace(workspace).filter(
        period_kind=period.kind, period_start=period.start
    )
    qs = qs.filter(user=target.user) if target.user else qs.filter(team=target.team)
    quota = qs.select_for_update().first()
    if quota is None:
        quota = Quota(
            workspace_id=workspace.pk,
            user=target.user,
            team=target.team,
            period_kind=period.kind,
            period_start=period.start,
            amount=amount,
        )
        with transaction.atomic():
            quota.save()
        audit.log_create(actor=actor, instance=quota)
        return quota
    quota.user, quota.team = target.user, target.team  # named rows for the audit's text
    before = audit.snapshot(quota)
    quota.amount = amount
    quota.save(update_fields=["amount", "updated_at"])
    audit.log_update(actor=actor, instance=quota, before=before)
    return quota


def quota_update(*, actor: User, workspace: Workspace, quota_id, amount) -> Quota:
    """Change one quota's amount."""
    permissions.require(actor, QUOTA, "update")
    quota = quota_get(workspace=workspace, actor=actor, quota_id=quota_id)
    errors = FieldErrors()
    value = clean_amount(amount, errors)
    errors.raise_if_any()
    with transaction.atomic():
        locked = Quota.objects.in_workspace(workspace).select_for_update().get(pk=quota.pk)
        before = audit.snapshot(locked)
        locked.amount = value
        locked.save(update_fields=["amount", "updated_at"])
        audit.log_update(actor=actor, instance=locked, before=before)
    return locked


def quota_delete(*, actor: User, workspace: Workspace, quota_id) -> None:
    permissions.require(actor, QUOTA, "delete")
    quota = quota_get(workspace=workspace, actor=actor, quota_id=quota_id)
    with transaction.atomic():
        audit.log_delete(actor=actor, instance=quota)
        Quota.objects.in_workspace(workspace).filter(pk=quota.pk).delete()


def quotas_save(*, actor: User, workspace: Workspace, period, entries: list[dict]) -> list[Quota]:
    """The quotas editor: many quotas of one period at once. Each entry has ``user_id`` or
    ``team_id`` and ``amount``; an empty amount removes that quota. Every bad entry is
    reported (field ``user-<id>`` / ``team-<id>``) and nothing is written unless all pass."""
    permissions.require(actor, QUOTA, "update")
    permissions.require(actor, QUOTA, "create")
    errors = FieldErrors()
    parsed = _period(period, errors)
    errors.raise_if_any()
    scope = scope_for(workspace=workspace, actor=actor, object_key=QUOTA)
    wanted = []
    for entry in entries:
        try:
            wanted.append(int(entry.get("user_id")))
        except (TypeError, ValueError):
            continue
    scope.users_for(wanted)  # one read of the named reps, not one per entry
    plan: list[tuple[_Target, Decimal | None]] = []
    for entry in entries:
        user_id, team_id = entry.get("user_id"), entry.get("team_id")
        name = f"user-{user_id}" if user_id not in (None, "") else f"team-{team_id}"
        sub = FieldErrors()
        target = _target(scope, user_id=user_id, team_id=team_id, errors=sub)
        raw = entry.get("amount")
        value = None if raw in (None, "") else clean_amount(raw, sub, field=name)
        for messages in sub.fields.values():
            for message in messages:
                errors.add(name, message)
        if target is not None and not sub.fields:
            plan.append((target, value))
    errors.raise_if_any()
    if any(value is None for _target_, value in plan):
        permissions.require(actor, QUOTA, "delete")
    saved: list[Quota] = []
    with transaction.atomic():
        current = {
            (q.user_id, q.team_id): q
            for q in Quota.objects.in_workspace(workspace)
            .filter(period_kind=parsed.kind, period_start=parsed.start)
            .select_for_update()
        }
        for target, value in plan:
            key = (getattr(target.user, "pk", None), getattr(target.team, "pk", None))
            existing = current.get(key)
            if value is None:
                if existing is not None:
                    existing.user, existing.team = target.user, target.team
                    audit.log_delete(actor=actor, instance=existing)
                    Quota.objects.in_workspace(workspace).filter(pk=existing.pk).delete()
                continue
            if existing is not None and existing.amount == value:
                saved.append(existing)
                continue
            saved.append(_upsert(actor, workspace, parsed, value, target))
    return saved
