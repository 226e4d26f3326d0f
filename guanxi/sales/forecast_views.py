"""The forecast part's pages: the forecast (per rep or team, against quota, drill to the deals),
the quotas editor, rep performance with the leaderboard, and the "who should take this deal?"
fragment a deal page loads. The selectors and services do the work; these views translate
between HTTP and them."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.activities import localtime
from guanxi.activities.services.visits import Period, current_period, parse_period
from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.platform import permissions

from .objects import DEAL, QUOTA
from .selectors import forecast as selectors
from .selectors import performance as performance_selectors
from .services import quotas as quota_services

KINDS = ("rep", "team")
COLUMN_LABELS = {
    "closed_won": _("Closed won"),
    "commit": _("Commit"),
    "best_case": _("Best case"),
    "pipeline": _("Pipeline"),
    "open": _("Open deals"),
}


def _period(request) -> tuple[Period, str]:
    """The period asked for (``?period=``), else this quarter in the user's zone."""
    today = localtime.local_today(request.user)
    raw = request.GET.get("period") or request.POST.get("period") or ""
    if not raw:
        return current_period("quarter", today=today), ""
    try:
        return parse_period(raw), ""
    except ApplicationError as exc:
        return current_period("quarter", today=today), str(exc.message)


def period_choices(current: Period, today) -> list[str]:
    """Last, this and next year, their quarters and this period's year's months."""
    out: list[str] = []
    for year in sorted({today.year - 1, today.year, today.year + 1, current.year}):
        out.append(str(year))
        out.extend(f"{year}-Q{q}" for q in range(1, 5))
    out.extend(f"{current.year}-{m:02d}" for m in range(1, 13))
    if current.label not in out:
        out.append(current.label)
    return out


def _picker_context(request, period: Period) -> dict:
    return {
        "period": period,
        "periods": period_choices(period, localtime.local_today(request.user)),
    }


# --- the forecast --------------------------------------------------------------------------------


@page
def forecast_page(request):
    """The forecast of a period per rep or per team (the tree), against quota."""
    permissions.require(request.user, DEAL, "read")
    period, error = _period(request)
    if error:
        messages.error(request, error)
    kind = request.GET.get("kind") if request.GET.get("kind") in KINDS else "rep"
    team_id = request.GET.get("team") or None
    result = selectors.forecast(**actor_scope(request), period=period, kind=kind, team_id=team_id)
    context = {
        **_picker_context(request, period),
        "result": result,
        "kind": kind,
        "team_id": str(team_id or ""),
        "teams": result.teams,
        "can_edit_quotas": permissions.can(request.user, QUOTA, "update"),
    }
    template = "sales/forecast/rows.html" if request.htmx else "sales/forecast/forecast.html"
    return render(request, template, context)


@page
def forecast_deals_page(request):
    """The deals behind one forecast figure: a rep's or a team's, one column."""
    permissions.require(request.user, DEAL, "read")
    period, error = _period(request)
    if error:
        messages.error(request, error)
    column = request.GET.get("column") if request.GET.get("column") in COLUMN_LABELS else "open"
    owner_id = request.GET.get("owner") or None
    team_id = request.GET.get("team") or None
    qs = selectors.forecast_deals(
        **actor_scope(request), period=period, column=column, owner_id=owner_id, team_id=team_id
    )
    key = "closed_at" if column == "closed_won" else "expected_close_date"
    try:
        rows = paginate(qs, key=key, cursor=request.GET.get("cursor") or None, limit=50)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        rows = paginate(qs, key=key, limit=50)
    scope = selectors.scope_for(**actor_scope(request))
    owner = scope.users.get(int(owner_id)) if owner_id else None
    team = scope.teams.get(int(team_id)) if team_id else None
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "sales/forecast/deals.html",
        {
            "period": period,
            "column": column,
            "column_label": COLUMN_LABELS[column],
            "owner": owner,
            "team": team,
            "page": rows,
            "query": query.urlencode(),
            "currency": request.workspace.default_currency,
            "deal_url_name": _deal_url_name(),
        },
    )


def _deal_url_name() -> str | None:
    """The deal page's URL name once the deals part has one (the drill links to it)."""
    try:
        reverse("sales:deal_detail", args=[1])
    except NoReverseMatch:
        return None
    return "sales:deal_detail"


# --- quotas --------------------------------------------------------------------------------------


@page
def quotas_page(request):
    """The quotas of a period: a team's own number, then each rep's; managers edit those in
    their view, everyone with the right reads."""
    permissions.require(request.user, QUOTA, "read")
    period, error = _period(request)
    if error:
        messages.error(request, error)
    can_edit = permissions.can(request.user, QUOTA, "update") and permissions.can(
        request.user, QUOTA, "create"
    )
    errors: dict[str, list[str]] = {}
    posted: dict[str, str] = {}
    if request.method == "POST" and error:  # never save a bad period's boxes to another
        errors = {"period": [error]}
    elif request.method == "POST":
        if not can_edit:
            permissions.require(request.user, QUOTA, "update")
        entries = []
        for name, value in request.POST.items():
            kind, _sep, pk = name.partition("-")
            if kind in ("user", "team") and pk.isdigit():
                posted[name] = value.strip()
                entries.append({f"{kind}_id": int(pk), "amount": value.strip()})
        try:
            quota_services.quotas_save(**actor_scope(request), period=period, entries=entries)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
            messages.error(request, str(exc.message))
        else:
            messages.success(request, gettext("The quotas were saved."))
            return redirect(f"{request.path}?period={period.label}")
    scope = selectors.scope_for(**actor_scope(request), object_key=QUOTA)
    current = selectors.quota_list(**actor_scope(request), period=period)
    by_user = {q.user_id: q.amount for q in current if q.user_id}
    by_team = {q.team_id: q.amount for q in current if q.team_id}
    teams = selectors.tree_order([selectors.ForecastRow(team=t) for t in scope.teams.values()])
    top = min((r.team.path.count("/") for r in teams), default=0)
    team_rows = [
        {
            "name": f"team-{r.team.pk}",
            "team": r.team,
            "depth": r.team.path.count("/") - top,
            "value": posted.get(f"team-{r.team.pk}", by_team.get(r.team.pk, "")),
            "errors": errors.get(f"team-{r.team.pk}", []),
        }
        for r in teams
    ]
    user_rows = [
        {
            "name": f"user-{u.pk}",
            "user": u,
            "value": posted.get(f"user-{u.pk}", by_user.get(u.pk, "")),
            "errors": errors.get(f"user-{u.pk}", []),
        }
        for u in scope.users.values()
        if (u.is_active and permissions.can(u, DEAL, "create")) or u.pk in by_user
    ]
    return render(
        request,
        "sales/forecast/quotas.html",
        {
            **_picker_context(request, period),
            "team_rows": team_rows,
            "user_rows": user_rows,
            "can_edit": can_edit,
            "currency": request.workspace.default_currency,
        },
        status=400 if errors else 200,
    )


# --- performance ---------------------------------------------------------------------------------


@page
def performance_page(request):
    """Per rep over a period: win rate, average won deal, cycle, open pipeline and activities;
    the leaderboard beside it."""
    permissions.require(request.user, DEAL, "read")
    period, error = _period(request)
    if error:
        messages.error(request, error)
    perf = performance_selectors.rep_performance(**actor_scope(request), period=period)
    board = performance_selectors.board_from(perf)
    template = (
        "sales/forecast/performance_body.html"
        if request.htmx
        else "sales/forecast/performance.html"
    )
    return render(
        request,
        template,
        {**_picker_context(request, period), "perf": perf, "board": board},
    )


# --- who should take this deal? ------------------------------------------------------------------


@page
def deal_suggested_owners(request, pk: int):
    """The fragment a deal page loads (htmx): the reps best placed to take the deal, and why."""
    deal = performance_selectors.deal_for_suggestion(**actor_scope(request), deal_id=pk)
    try:
        limit = max(1, min(int(request.GET.get("limit") or 3), 20))
    except ValueError:
        limit = 3
    suggestions = performance_selectors.suggest_owners(
        workspace=request.workspace, deal=deal, limit=limit
    )
    template = (
        "sales/forecast/suggested_owners.html"
        if request.htmx
        else "sales/forecast/suggested_owners_page.html"
    )
    return render(
        request,
        template,
        {
            "deal": deal,
            "suggestions": suggestions,
            "embedded": bool(request.htmx),
            "deal_url": reverse(name, args=[deal.pk]) if (name := _deal_url_name()) else "",
        },
    )
