"""The sales dashboard page (``/analytics/sales/``): ECharts panels over what the user may
see; the selector does the work, this view builds the charts' options."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext

from guanxi.common.views import actor_scope, page

from . import charts
from .selectors import dashboards as selectors


def _charts(board) -> dict:
    out = {}
    if board.pipeline is not None:
        stages = board.pipeline.stages
        out["pipeline"] = charts.bar_option(
            [s.stage.name for s in stages],
            [
                (gettext("Amount"), [s.amount for s in stages], "left"),
                (gettext("Deals"), [s.count for s in stages], "right"),
            ],
        )
    if board.forecast is not None:
        reps = board.forecast.reps
        out["forecast"] = charts.bar_option(
            [r.label for r in reps],
            [
                (gettext("Quota"), [r.quota or 0 for r in reps], "left"),
                (gettext("Closed won"), [r.figures.closed_won for r in reps], "left"),
                (gettext("Commit"), [r.figures.commit for r in reps], "left"),
            ],
            horizontal=True,
        )
    if board.win_rate is not None:
        out["win_rate"] = charts.line_option(
            [m.month.strftime("%Y-%m") for m in board.win_rate],
            [(gettext("Win rate (%)"), [m.rate for m in board.win_rate])],
            percent=True,
        )
    if board.receivables is not None:
        from guanxi.sales.selectors.receivables import BUCKETS

        totals = board.receivables.totals
        out["receivables"] = charts.bar_option(
            [label for _key, label, _first, _last in BUCKETS],
            [(gettext("Unpaid"), [totals.buckets[key] for key, *_rest in BUCKETS], "left")],
        )
    if board.top_customers:
        out["top_customers"] = charts.bar_option(
            [c.name for c in board.top_customers],
            [(gettext("Revenue"), [c.revenue for c in board.top_customers], "left")],
            horizontal=True,
        )
    return out


@page
def sales_dashboard(request):
    """Pipeline by stage, forecast against quota this quarter, win rate by month,
    receivables by ageing bucket and top customers by revenue."""
    board = selectors.sales_dashboard(
        **actor_scope(request), pipeline_id=request.GET.get("pipeline") or None
    )
    return render(
        request, "analytics/sales_dashboard.html", {"board": board, "charts": _charts(board)}
    )
