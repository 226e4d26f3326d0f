"""ECharts options for the survey and trend pages, built on the server as plain JSON (no
functions): the page puts each in a ``json_script`` block and ``static/js/charts.js`` hands
it to ECharts, so no inline script is needed (CSP). Labels are translated here."""

from __future__ import annotations

from django.utils.translation import gettext

GRID = {"left": 48, "right": 48, "top": 40, "bottom": 32, "containLabel": True}


def distribution_option(distribution: dict[int, int]) -> dict:
    return {
        "grid": {**GRID, "top": 16, "right": 16},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [f"{n}★" for n in range(1, 6)]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": gettext("Answers"),
                "type": "bar",
                "data": [distribution.get(n, 0) for n in range(1, 6)],
            }
        ],
    }


def volume_option(trends) -> dict:
    """Cases picked per period (bars) and their share of all cases (line, right axis)."""
    return {
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "category", "data": [p.label for p in trends.periods]},
        "yAxis": [
            {"type": "value", "minInterval": 1},
            {"type": "value", "min": 0, "max": 100, "splitLine": {"show": False}},
        ],
        "series": [
            {
                "name": gettext("Cases"),
                "type": "bar",
                "data": [p.matched for p in trends.periods],
            },
            {
                "name": gettext("Share of all cases (%)"),
                "type": "line",
                "yAxisIndex": 1,
                "connectNulls": False,
                "data": [p.share for p in trends.periods],
            },
        ],
    }


def resolution_option(trends) -> dict:
    """Median hours to resolve (left) and the average score (right, 1–5)."""
    return {
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "category", "data": [p.label for p in trends.periods]},
        "yAxis": [
            {"type": "value", "min": 0},
            {"type": "value", "min": 1, "max": 5, "splitLine": {"show": False}},
        ],
        "series": [
            {
                "name": gettext("Median hours to resolve"),
                "type": "line",
                "connectNulls": False,
                "data": [p.median_hours for p in trends.periods],
            },
            {
                "name": gettext("Satisfaction (1–5)"),
                "type": "line",
                "yAxisIndex": 1,
                "connectNulls": False,
                "data": [p.satisfaction for p in trends.periods],
            },
        ],
    }


def categories_option(trends) -> dict:
    """The largest categories per period, stacked."""
    return {
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "category", "data": [p.label for p in trends.periods]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": name, "type": "bar", "stack": "categories", "data": values}
            for name, values in trends.category_series.items()
        ],
    }


def movers_option(movers) -> dict:
    """This period against the previous one, per category or product (horizontal bars)."""
    return {
        "grid": {**GRID, "left": 16},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "inverse": True, "data": [m.name for m in movers]},
        "series": [
            {
                "name": gettext("Previous period"),
                "type": "bar",
                "data": [m.previous for m in movers],
            },
            {
                "name": gettext("This period"),
                "type": "bar",
                "data": [m.current for m in movers],
            },
        ],
    }
