"""ECharts options built on the server, as plain JSON (no functions): the page puts them
in a ``json_script`` block and ``static/js/charts.js`` hands them to ECharts, so no inline
script is needed (CSP). Labels are translated here."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext

GRID = {"left": 48, "right": 16, "top": 32, "bottom": 40, "containLabel": True}


def _num(value) -> float:
    return float(value or 0)


def pareto_option(pareto) -> dict:
    return {
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "xAxis": {
            "type": "value",
            "min": 0,
            "max": 100,
            "name": gettext("Customers (%)"),
            "nameLocation": "middle",
            "nameGap": 28,
        },
        "yAxis": {"type": "value", "min": 0, "max": 100, "name": gettext("Revenue (%)")},
        "series": [
            {
                "name": gettext("Share of revenue"),
                "type": "line",
                "showSymbol": False,
                "areaStyle": {"opacity": 0.15},
                "data": [[_num(p.percent), _num(p.share)] for p in pareto.points],
            },
            {
                "name": gettext("Equal shares"),
                "type": "line",
                "showSymbol": False,
                "lineStyle": {"type": "dashed", "width": 1},
                "data": [[0, 0], [100, 100]],
            },
        ],
    }


def revenue_by_year_option(years) -> dict:
    return {
        "grid": {**GRID, "top": 16, "bottom": 24},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [str(y.year) for y in years]},
        "yAxis": {"type": "value"},
        "series": [
            {
                "name": gettext("Revenue"),
                "type": "bar",
                "data": [_num(y.revenue) for y in years],
            }
        ],
    }


def bar_option(labels, series: list[tuple[str, list, str]], *, horizontal: bool = False) -> dict:
    """Bars for each ``(name, values, axis)``; axis "left" or "right" (a second y axis)."""
    category = {"type": "category", "data": [str(label) for label in labels]}
    value_axes = [{"type": "value"}]
    if any(axis == "right" for _, _, axis in series):
        value_axes.append({"type": "value", "splitLine": {"show": False}})
    out = {
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "series": [
            {
                "name": name,
                "type": "bar",
                "data": [_num(v) for v in values],
                **({"yAxisIndex": 1} if axis == "right" and not horizontal else {}),
            }
            for name, values, axis in series
        ],
    }
    if horizontal:
        out["xAxis"], out["yAxis"] = value_axes[0], {**category, "inverse": True}
    else:
        out["xAxis"], out["yAxis"] = category, value_axes
    return out


def line_option(labels, series: list[tuple[str, list]], *, percent: bool = False) -> dict:
    return {
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "category", "data": [str(label) for label in labels]},
        "yAxis": {"type": "value", **({"min": 0, "max": 100} if percent else {})},
        "series": [
            {
                "name": name,
                "type": "line",
                "connectNulls": False,
                "data": [None if v is None else _num(v) for v in values],
            }
            for name, values in series
        ],
    }


def as_money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))
