"""The agent-queue benchmark: the first page of the service desk's case queue, with filters,
over N cases (the figure: 1,000,000 cases, under 100 ms p50, on both databases).

    .venv/bin/python bench/cases_queue.py --db sqlite --cases 100000
    .venv/bin/python bench/cases_queue.py --db postgres --cases 1000000
    .venv/bin/python bench/cases_queue.py --cases 5000 --requests 10      # a quick proof

1. Seeds (once per size; a second run reuses it) the workspace "Bench cases N": 50 agents,
   10 queues, 2,000 accounts with a contact each, and N cases written with ``COPY`` on
   PostgreSQL and ``executemany`` on SQLite (never the ORM one by one). As on a desk that
   has run for years, 10 % of the cases are open (new, open, waiting) and the rest
   resolved, closed or cancelled; priorities 5 % urgent, 20 % high, 60 % normal, 15 %
   low; resolution due times from three days ago to ten days ahead (2 % without one);
   80 % of the cases with an agent, all in a queue; the customer's name in the search
   text. Then ANALYZE (VACUUM ANALYZE on PostgreSQL).
2. Signs in with ``django.test.Client`` (in process, ``DEBUG`` off) as one agent and
   times, warm, ``--requests`` times each: the queue's first page (the open set, by
   priority then due time), filtered by a queue, by "assigned to me", by priority, by
   SLA state (overdue), by type, by a customer's name and by a case number, plus the
   second page (keyset) and ``GET /api/v1/service/cases``.
3. Prints a Markdown table: p50 and p95 of the server time in milliseconds and the SQL
   queries of one request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import harness
from value import Writer, _sqlite_value

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_cases"
AGENTS = 50
QUEUES = 10
CUSTOMERS = 2_000
OPEN_SHARE = 0.10
SUBJECTS = (
    "打印机不出纸",
    "空调不制冷",
    "发票抬头开错了",
    "快递破损",
    "热水器漏水",
    "账号无法登录",
    "退货退款",
    "安装预约",
    "屏幕有坏点",
    "噪音太大",
)


def setup_django(db: str, cases: int) -> None:
    sqlite_path = ROOT / "var" / f"bench-cases-{cases}.sqlite3"
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{sqlite_path}")


def seed(cases: int, log) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.customers import normalize, search_keys
    from guanxi.customers.models import Account, Contact
    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.platform.models import Role, User
    from guanxi.service.models import Case, CaseType, Queue, QueueMember
    from guanxi.service.services.case_types import service_setup

    admin = bench_workspace(f"Bench cases {cases}")
    ws = admin.workspace
    service_setup(ws)
    role = Role.objects.in_workspace(ws).get(code="service_agent")
    domain = admin.email.split("@", 1)[1]
    agents = list(User.objects.filter(workspace=ws, role=role).order_by("id"))
    if len(agents) < AGENTS:
        User.objects.bulk_create(
            User(
                workspace=ws,
                email=f"agent{i:03d}@{domain}",
                full_name=f"客服{i:03d}",
                role=role,
            )
            for i in range(len(agents), AGENTS)
        )
        agents = list(User.objects.filter(workspace=ws, role=role).order_by("id"))
    queues = list(Queue.objects.in_workspace(ws).order_by("id"))
    if len(queues) < QUEUES:
        for i in range(len(queues), QUEUES):
            queue = Queue.objects.create(workspace=ws, name=f"队列{i:02d}")
            for position, agent in enumerate(agents[i * 5 : i * 5 + 5]):
                QueueMember.objects.create(workspace=ws, queue=queue, user=agent, position=position)
        queues = list(Queue.objects.in_workspace(ws).order_by("id"))
    data = {"workspace": ws, "agent": agents[0], "queue": queues[0], "admin": admin}
    have = Case.objects.in_workspace(ws).count()
    if have >= cases:
        log(f"reusing {have:,} cases")
        return data
    if have:
        raise SystemExit("a partly seeded bench workspace: delete its database and run again")
    rng = random.Random(20261201)
    now = timezone.now()
    sqlite = connection.vendor == "sqlite"

    def v(value):
        return _sqlite_value(value) if sqlite else value

    started = time.perf_counter()
    with transaction.atomic():
        accounts = []
        for i in range(CUSTOMERS):
            account = Account(workspace=ws, code=f"BS{i:05d}", name=f"服务客户{i:04d}有限公司")
            search_keys.apply_account_keys(account)
            accounts.append(account)
        Account.objects.bulk_create(accounts, batch_size=5_000)
        accounts = list(Account.objects.in_workspace(ws).order_by("id").values_list("pk", "name"))
        contacts = []
        for i, (pk, _name) in enumerate(accounts):
            contact = Contact(
                workspace=ws, code=f"BSC{i:05d}", name=f"联系人{i:04d}", account_id=pk
            )
            search_keys.apply_contact_keys(contact)
            contacts.append(contact)
        Contact.objects.bulk_create(contacts, batch_size=5_000)
        contacts = list(Contact.objects.in_workspace(ws).order_by("id").values_list("pk", "name"))
    log(f"{CUSTOMERS:,} accounts and contacts in {time.perf_counter() - started:.1f} s")

    types = list(CaseType.objects.in_workspace(ws).order_by("id").values_list("pk", "kind"))
    year = now.year
    started = time.perf_counter()
    with transaction.atomic():
        writer = Writer(
            Case,
            [
                "workspace_id",
                "number",
                "case_type_id",
                "kind",
                "subject",
                "priority",
                "status",
                "channel",
                "account_id",
                "contact_id",
                "queue_id",
                "assignee_id",
                "resolution_due_at",
                "response_due_at",
                "first_response_at",
                "search_text",
                "created_at",
                "updated_at",
            ],
        )
        for i in range(cases):
            is_open = rng.random() < OPEN_SHARE
            status = (
                rng.choice(("new", "open", "open", "open", "waiting"))
                if is_open
                else rng.choice(("closed", "closed", "closed", "resolved", "cancelled"))
            )
            roll = rng.random()
            priority = 1 if roll < 0.05 else 2 if roll < 0.25 else 3 if roll < 0.85 else 4
            due = (
                None
                if rng.random() < 0.02
                else now + dt.timedelta(minutes=rng.randrange(-3 * 1440, 10 * 1440))
            )
            customer = rng.randrange(CUSTOMERS)
            account_id, account_name = accounts[customer]
            contact_id, contact_name = contacts[customer]
            type_id, kind = types[rng.randrange(len(types))]
            number = f"CS-{year}-{i + 1:06d}" if i < 999_999 else f"CS-{year}-{i + 1}"
            subject = f"{SUBJECTS[i % len(SUBJECTS)]} #{i}"
            assignee = agents[rng.randrange(AGENTS)].pk if rng.random() < 0.8 else None
            created = now - dt.timedelta(minutes=cases - i)
            writer.add(
                [
                    ws.pk,
                    number,
                    type_id,
                    kind,
                    subject,
                    priority,
                    status,
                    "phone",
                    account_id,
                    contact_id,
                    queues[rng.randrange(QUEUES)].pk,
                    assignee,
                    v(due),
                    v(due - dt.timedelta(days=1) if due else None),
                    v(created + dt.timedelta(hours=1)) if rng.random() < 0.7 else None,
                    normalize.fold(f"{number} {subject} {account_name} {contact_name}"),
                    v(created),
                    v(created),
                ]
            )
        writer.flush()
    with connection.cursor() as cursor:
        # VACUUM as autovacuum would on a desk's server (it may be off on a bench machine):
        # without the visibility map, the planner's look at the due-time index's ends and
        # every index-only scan read the heap (the page's queries took twice as long).
        cursor.execute("ANALYZE" if sqlite else "VACUUM (ANALYZE)")
    log(f"{cases:,} cases in {time.perf_counter() - started:.1f} s")
    return data


def measure(data: dict, requests: int, log) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from guanxi.service.models import Case, CaseType

    ws, agent, queue = data["workspace"], data["agent"], data["queue"]
    repair = CaseType.objects.in_workspace(ws).get(kind="repair")
    some = Case.objects.in_workspace(ws).filter(status="closed").order_by("id").values("number")[:1]
    number = some[0]["number"] if some else "CS-2000-000001"
    rows = []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver", "127.0.0.1"]):
        client = Client(raise_request_exception=True)
        client.force_login(agent)
        first = client.get("/service/cases/").content.decode()
        marker = 'class="btn btn-small" href="?'
        second = None
        if marker in first:
            second = "/service/cases/?" + first.split(marker)[-1].split('"')[0].replace(
                "&amp;", "&"
            )
        cases = [
            ("queue: open (default)", "/service/cases/"),
            ("queue: one queue, open", f"/service/cases/?queue={queue.pk}"),
            ("queue: assigned to me", "/service/cases/?assignee=me"),
            ("queue: urgent only", "/service/cases/?priority=1"),
            ("queue: overdue", "/service/cases/?sla=overdue"),
            (
                "queue: unassigned, one queue",
                f"/service/cases/?queue={queue.pk}&assignee=unassigned",
            ),
            ("queue: type repair", f"/service/cases/?type={repair.pk}"),
            ("queue: search a customer's name", "/service/cases/?q=服务客户0042"),
            ("queue: search a case number", f"/service/cases/?q={number}"),
            ("queue: waiting only", "/service/cases/?status=waiting"),
            ("queue: second page (keyset)", second),
            ("GET /api/v1/service/cases (50)", "/api/v1/service/cases"),
        ]
        for label, url in cases:
            if url is None:
                continue
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            executed = []

            def count(execute, sql, params, many, context, executed=executed):
                executed.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                client.get(url)
            timings = []
            for _ in range(requests):
                t0 = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - t0) * 1000)
            rows.append(
                {
                    "what": label,
                    "p50": statistics.median(timings),
                    "p95": harness.percentile(timings, 0.95),
                    "queries": len(executed),
                }
            )
            log(f"{label}: p50 {rows[-1]['p50']:.1f} ms, {len(executed)} queries")
    return rows


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
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases (1,000,000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per row (30)")
    args = parser.parse_args()
    setup_django(args.db, args.cases)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f"Seeding (or reusing) “Bench cases {args.cases}” …")
    data = seed(args.cases, log)
    rows = measure(data, args.requests, log)
    import django

    print()
    print(f"### Agent queue — {vendor()}: {args.cases:,} cases ({OPEN_SHARE:.0%} open)")
    print()
    print(
        f"`.venv/bin/python bench/cases_queue.py --db {args.db} --cases {args.cases} "
        f"--requests {args.requests}` (Django {django.get_version()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU, load average "
        f"{os.getloadavg()[0]:.1f} at the end). Server time through django.test.Client, warm, "
        "as a service agent."
    )
    print()
    print("| What | p50 ms | p95 ms | SQL queries |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['what']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['queries']} |")


if __name__ == "__main__":
    main()
