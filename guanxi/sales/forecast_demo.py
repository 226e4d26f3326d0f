"""Demo data of the forecast part (``seed(workspace=, users=, rng=)``), called by ``demo.py``:
quotas for the demo reps and teams, this quarter and this year. A team's quota is its own
number — a little above what its members carry, as managers set them. Runs once: a
workspace with quotas is left alone."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from guanxi.activities.services.visits import current_period
from guanxi.platform import permissions
from guanxi.platform.models import Team

from .models import Quota
from .objects import DEAL
from .services.quotas import quota_set


def seed(*, workspace, users, rng) -> dict:
    if Quota.objects.in_workspace(workspace).exists():
        return {"quotas": 0}
    admin = next((u for u in users if u.is_active and u.role.is_admin), None)
    if admin is None:
        return {"quotas": 0}
    reps = [
        u
        for u in users
        if u.is_active
        and not u.role.is_admin
        and permissions.can(u, DEAL, "create")
        and permissions.visibility_for(u, DEAL) == "own"
    ]
    today = timezone.localdate()
    quarter, year = current_period("quarter", today=today), current_period("year", today=today)
    made = 0
    per_team: dict[int, Decimal] = {}
    for rep in reps:
        amount = Decimal(rng.randrange(6, 25) * 50_000)
        quota_set(actor=admin, workspace=workspace, period=quarter, amount=amount, user_id=rep.pk)
        quota_set(
            actor=admin,
            workspace=workspace,
            period=year,
            amount=amount * 4 + Decimal(rng.randrange(0, 5) * 100_000),
            user_id=rep.pk,
        )
        made += 2
        if rep.team_id:
            per_team[rep.team_id] = per_team.get(rep.team_id, Decimal(0)) + amount
    teams = Team.objects.in_workspace(workspace).order_by("path")
    for team in teams:
        below = sum(
            (amount for team_id, amount in per_team.items() if _is_below(team_id, team, teams)),
            Decimal(0),
        )
        if not below:
            continue
        own = (below * Decimal("1.1")).quantize(Decimal("1000"))
        quota_set(actor=admin, workspace=workspace, period=quarter, amount=own, team_id=team.pk)
        quota_set(actor=admin, workspace=workspace, period=year, amount=own * 4, team_id=team.pk)
        made += 2
    return {"quotas": made}


def _is_below(team_id: int, team: Team, teams) -> bool:
    """Whether ``team_id`` is ``team`` or a team under it (``teams`` is one evaluated set)."""
    by_id = {t.pk: t for t in teams}
    other = by_id.get(team_id)
    return other is not None and other.path.startswith(team.path)
