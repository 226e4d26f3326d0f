"""``guanxi report pareto``: the same figures as the API, as a table, JSON or CSV."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from guanxi.analytics.tests.value_support import add_order
from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.tests.test_api_support import ApiClient, make_token

pytestmark = pytest.mark.django_db
YEAR = 2025


def _report(*args) -> str:
    out = io.StringIO()
    call_command("report", "pareto", *args, stdout=out)
    return out.getvalue()


def test_report_pareto_matches_the_api(workspace, other_workspace, admin_user):
    for amount in ["700.01", "200", "99.99", "0.10", "0.20"]:
        add_order(
            workspace,
            account=AccountFactory(workspace=workspace),
            day=dt.date(YEAR, 2, 2),
            amounts=[amount],
        )
    with pytest.raises(CommandError):
        _report("--year", str(YEAR))  # two workspaces: which one?
    body = json.loads(
        _report(
            "--workspace", workspace.slug, "--year", str(YEAR), "--recompute", "--format", "json"
        )
    )
    api = ApiClient(make_token(admin_user)).get("/analytics/pareto", year=YEAR).json()
    assert (
        (body["customers"], body["revenue"]) == (api["customers"], api["revenue"]) == (5, "1000.30")
    )
    assert [(p["customers"], p["revenue"], p["share"]) for p in body["top"]] == [
        (p["customers"], p["revenue"], p["share"]) for p in api["top"]
    ]
    assert body["top"][3] == {
        "percent": "20.0",
        "customers": 1,
        "revenue": "700.01",
        "share": "69.9800",
    }
    table = _report("--workspace", workspace.slug)
    assert "5 customers with sales, 1000.30 CNY" in table and "69.9800" in table
    lines = _report("--workspace", workspace.slug, "--format", "csv").splitlines()
    assert lines[0] == "percent,customers,revenue,share" and len(lines) == 202
    assert lines[-1] == "100.0,5,1000.30,100.0000"
    with pytest.raises(CommandError):
        _report("--workspace", "nope")
    with pytest.raises(CommandError):
        _report("--workspace", workspace.slug, "--year", "12")
