"""The leads benchmark: the leads list and lead page with many leads, capture with scoring
and assignment, an import, a full rescoring and a model training.

    .venv/bin/python bench/leads.py --scale 0.1              # SQLite, 1,000 leads
    .venv/bin/python bench/leads.py --db postgres --scale 1  # 10,000 leads

1. Seeds (once per scale; a second run reuses it) the workspace "Bench leads": 20 reps, a
   sales manager, 8 scoring rules, a round-robin rule, 10,000 × scale leads (a third
   converted with won or lost deals written directly, for the model), then ANALYZE.
2. Times with ``django.test.Client`` (in process, ``DEBUG`` off), warm, ``--requests``
   times each: the leads list as the manager (first page, overdue filter, a search, page
   2 by cursor) and a rep, the lead page, ``GET /api/v1/leads``.
3. Times the writes once each: 200 leads captured through the service (validated,
   scored, assigned round-robin), an import of 1,000 × scale rows (check + write), a full
   rescoring of the workspace, and a training of the predictive model.
4. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_leads"
WORKSPACE = "Bench leads"
LEADS = 10_000
REPS = 20
INDUSTRIES = ["制造业", "能源", "零售", "教育", "医疗", "物流", "金融", "建筑"]
PROVINCES = ["上海", "江苏", "浙江", "广东", "北京", "四川", "湖北", "山东"]


def setup_django(db: str, scale: float) -> None:
    sqlite_path = ROOT / "var" / f"bench-leads-{scale:g}.sqlite3"
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{sqlite_path}")


def seed(n: int, log) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.platform.models import Role, Team, User
    from guanxi.sales.models import Deal, Lead, LeadScoringRule
    from guanxi.sales.services import lead_assignment
    from guanxi.sales.services.deals import deal_create
    from guanxi.sales.services.setup import ensure_sales_defaults

    admin = bench_workspace(WORKSPACE)
    ws = admin.workspace
    ensure_sales_defaults(ws)
    roles = {r.code: r for r in Role.objects.in_workspace(ws)}
    reps = list(User.objects.filter(workspace=ws, role=roles["sales_rep"]).order_by("pk"))
    for i in range(len(reps), REPS):
        reps.append(
            User.objects.create(
                workspace=ws, email=f"lead-rep{i}@bench-leads.example", full_name=f"代表{i}",
                role=roles["sales_rep"],
            )
        )  # fmt: skip
    manager = User.objects.filter(workspace=ws, role=roles["sales_manager"]).first()
    team = Team.objects.in_workspace(ws).order_by("id").first()
    if manager is None:
        manager = User.objects.create(
            workspace=ws, email="lead-manager@bench-leads.example", full_name="经理",
            role=roles["sales_manager"],
        )  # fmt: skip
    User.objects.filter(pk__in=[manager.pk, *[r.pk for r in reps]]).update(team=team)
    manager.refresh_from_db()
    if not LeadScoringRule.objects.in_workspace(ws).exists():
        for kind, attribute, operator, value, points in (
            ("fit", "industry", "in", "制造业,能源", 20),
            ("fit", "employees", "at_least", "200", 15),
            ("fit", "title", "contains", "经理,总监", 10),
            ("fit", "province", "in", "上海,江苏,浙江", 5),
            ("fit", "source", "equals", "referral", 10),
            ("engagement", "activities", "at_least", "2", 10),
            ("engagement", "replies", "at_least", "1", 15),
            ("engagement", "visits", "at_least", "1", 20),
        ):
            LeadScoringRule.objects.create(
                workspace=ws, kind=kind, attribute=attribute, operator=operator, value=value,
                points=points,
            )  # fmt: skip
        lead_assignment.assignment_rule_create(
            actor=admin, workspace=ws, name="all", method="round_robin",
            rep_ids=[r.pk for r in reps],
        )  # fmt: skip
    have = Lead.objects.in_workspace(ws).count()
    rng = random.Random(5)
    if have < n:
        now = timezone.now()
        closed = max(30, (n - have) // 3)
        deal_ids = []
        with transaction.atomic():
            for i in range(closed):
                deal_ids.append(deal_create(actor=admin, workspace=ws, name=f"D{i}").pk)
        won = [d for i, d in enumerate(deal_ids) if i % 3 == 0]
        Deal.objects.in_workspace(ws).filter(pk__in=won).update(status="won")
        Deal.objects.in_workspace(ws).filter(pk__in=deal_ids).exclude(pk__in=won).update(
            status="lost"
        )
        rows = []
        for i in range(have, n):
            industry = rng.choice(INDUSTRIES)
            deal = deal_ids[i - have] if i - have < len(deal_ids) else None
            owner = rng.choice(reps)
            rows.append(
                Lead(
                    workspace=ws, name=f"线索{i}", company=f"公司{i}", title=rng.choice(["采购经理", "工程师", "总监"]),
                    email=f"l{i}@bench.example", industry=industry,
                    employees=rng.choice([10, 80, 300, 2000]), province=rng.choice(PROVINCES),
                    source=rng.choice(["web_form", "import", "manual", "call", "email"]),
                    owner=owner, assigned_at=now,
                    first_response_due_at=now + (timezone.timedelta(hours=rng.choice([-5, 4]))),
                    status="converted" if deal else rng.choice(["new", "working", "qualified"]),
                    deal_id=deal, score=rng.randint(0, 80),
                    search_text=f"线索{i} 公司{i} l{i}@bench.example",
                )
            )  # fmt: skip
        Lead.objects.bulk_create(rows, batch_size=2000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"workspace": ws, "admin": admin, "manager": manager, "rep": reps[0], "reps": reps}


def measure(data: dict, requests: int, scale: float, log) -> list[dict]:
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings

    from guanxi.platform.models import Job
    from guanxi.sales.models import Lead
    from guanxi.sales.services import lead_import, lead_model, lead_scoring
    from guanxi.sales.services.leads import create_lead

    ws = data["workspace"]
    rows = []
    lead = Lead.objects.in_workspace(ws).filter(owner=data["rep"]).order_by("-pk").first()
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        for who, user in (("manager", data["manager"]), ("rep", data["rep"])):
            client = Client(raise_request_exception=True)
            client.force_login(user)
            first = client.get("/sales/leads/")
            cursor = first.context["page"].next_cursor if first.context else None
            cases = [
                ("leads list (first page)", "/sales/leads/"),
                ("leads list: overdue", "/sales/leads/?f_overdue=yes"),
                ("leads list: search", "/sales/leads/?q=公司12"),
                (
                    "leads list: page 2",
                    f"/sales/leads/?cursor={cursor}" if cursor else "/sales/leads/",
                ),
                ("lead page", f"/sales/leads/{lead.pk}/"),
                ("GET /api/v1/leads (50)", "/api/v1/leads"),
            ]
            for label, url in cases:
                assert client.get(url).status_code == 200, url
                # Counted by a wrapper: the request_started signal resets the query log.
                captured = []
                with connection.execute_wrapper(
                    lambda run, sql, *a, log=captured: log.append(sql) or run(sql, *a)
                ):
                    client.get(url)
                timings = []
                for _ in range(requests):
                    t0 = time.perf_counter()
                    client.get(url)
                    timings.append((time.perf_counter() - t0) * 1000)
                rows.append(_row(who, label, timings, len(captured)))
                log(f"{who}: {label}: p50 {rows[-1]['p50']:.1f} ms")

    def once(label, fn):
        t0 = time.perf_counter()
        result = fn()
        rows.append(_row("—", label, [(time.perf_counter() - t0) * 1000], None))
        log(f"{label}: {rows[-1]['p50']:.0f} ms ({result})")

    def capture():
        for i in range(200):
            with transaction.atomic():
                create_lead(
                    workspace=ws, actor=None, source="web_form",
                    values={"name": f"新线索{i}", "email": f"n{i}-{time.time_ns()}@bench.example",
                            "industry": "能源", "employees": 300},
                )  # fmt: skip
        return "200 leads"

    once("capture 200 leads (validate, score, assign)", capture)

    count = max(100, int(1000 * scale))
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as f:
        f.write("姓名,公司,手机,邮箱,行业,人数,省份\n")
        for i in range(count):
            f.write(f"导入{i},导入公司{i},,imp{i}-{time.time_ns()}@bench.example,制造业,120,江苏\n")
        path = f.name
    job = Job.objects.create(
        workspace=ws, owner=data["admin"], kind=lead_import.JOB_KIND,
        params={"path": path, "campaign": "bench"}, idempotency_key=f"bench-{time.time_ns()}",
    )  # fmt: skip
    once(
        f"import {count:,} rows (check + write)",
        lambda: lead_import.run_import(job, lambda *a: None)["created"],
    )
    once("rescore every lead", lambda: f"{lead_scoring.rescore_workspace(workspace=ws):,} leads")
    once("train the predictive model", lambda: lead_model.train(workspace=ws)[0] or "no model")
    return rows


def _row(who, label, timings, queries) -> dict:
    return {
        "who": who,
        "what": label,
        "p50": statistics.median(timings),
        "p95": harness.percentile(timings, 0.95),
        "queries": queries,
    }


def vendor() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        major, rest = divmod(connection.pg_version, 10000)
        return f"PostgreSQL {major}.{rest % 100}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 10,000 leads")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    setup_django(args.db, args.scale)
    n = max(100, int(LEADS * args.scale))
    data = seed(n, lambda m: print(m, file=sys.stderr))
    rows = measure(data, args.requests, args.scale, lambda m: print(m, file=sys.stderr))
    print(f"\n{vendor()}, {n:,} leads, Python {platform.python_version()}\n")
    print("| who | what | p50 ms | p95 ms | queries |")
    print("| --- | --- | ---: | ---: | ---: |")
    for r in rows:
        queries = "" if r["queries"] is None else r["queries"]
        print(f"| {r['who']} | {r['what']} | {r['p50']:.1f} | {r['p95']:.1f} | {queries} |")


if __name__ == "__main__":
    main()
