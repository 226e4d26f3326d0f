"""The SLA sweep benchmark: one sweep over N open cases (the figure: 100,000 open cases in
under 30 seconds, on both databases), and a second sweep that finds nothing.

    .venv/bin/python bench/sla_sweep.py --db sqlite --cases 100000
    .venv/bin/python bench/sla_sweep.py --db postgres --cases 100000

1. Sets up the workspace "Bench SLA" (once): the service defaults, the SLA defaults (the
   working calendar with the 2025/2026 holidays, 16 policies with their escalation rules:
   notify the assignee at a warning, the assignee and the queue's supervisor at a breach,
   raise the priority at a response breach of class A or urgent cases), 50 agents in one
   queue with a supervisor, and 2,000 accounts of class A (20 %), B (30 %) and C (50 %).
2. Deletes the cases, events and notifications a previous run left, and writes N open
   cases (``COPY`` on PostgreSQL, ``executemany`` in one transaction on SQLite), each with
   an assignee, an account and the policy its class and priority choose, half of them
   still waiting for a first response. Due times are spread as a live desk's are, with
   the sweep having run until a few minutes ago: 70 % on track, 15 % warned earlier, 5 %
   breached earlier (those already marked), 7 % newly past a warning and 3 % newly past a
   due time (for the sweep to mark and escalate now). Then ANALYZE.
3. Runs ``sla_sweep`` at the seeding's "now" twice and prints the seconds of each, what
   each marked, and the events and notifications the first one wrote.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import resource
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = ROOT / "var" / "bench-sla.sqlite3"
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_sla"
WORKSPACE = "Bench SLA"
AGENTS = 50
ACCOUNTS = 2000
CHUNK = 20_000

# (share, state) of the open cases; "new_*" are for this sweep to find.
MIX = (
    (0.70, "on_track"),
    (0.15, "warned"),
    (0.05, "breached"),
    (0.07, "new_warning"),
    (0.03, "new_breach"),
)


def setup_django(db: str) -> None:
    harness.setup_django(
        PG_URL if db == "postgres" else f"sqlite:///{SQLITE_PATH}", cache_table=False
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def write_rows(model, columns: list[str], rows: list[list]) -> None:
    """Insert ``rows`` fast: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    from django.db import connection

    if not rows:
        return
    table = model._meta.db_table
    cursor = connection.cursor()
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_value(v) for v in row) + "\n")
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
    else:
        marks = ", ".join(["?"] * len(columns))
        cursor.cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )


def prepare(log):
    """The bench workspace with its people, customers and SLA defaults (made once)."""
    from django.db import transaction

    from guanxi.customers.models import Account
    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.platform.models import Role, User
    from guanxi.service.models import Queue, QueueMember
    from guanxi.service.services import sla
    from guanxi.service.services.case_types import service_setup

    admin = bench_workspace(WORKSPACE)
    ws = admin.workspace
    service_setup(ws)
    sla.sla_setup(ws)
    if Queue.objects.in_workspace(ws).exists():
        return ws
    with transaction.atomic():
        agent_role = Role.objects.in_workspace(ws).get(code="service_agent")
        manager_role = Role.objects.in_workspace(ws).get(code="service_manager")
        supervisor = User.objects.create(
            workspace=ws, email="bench-sla-supervisor@example.com", full_name="值班主管",
            role=manager_role,
        )  # fmt: skip
        queue = Queue.objects.create(workspace=ws, name="一线支持", supervisor=supervisor)
        for i in range(AGENTS):
            agent = User.objects.create(
                workspace=ws,
                email=f"bench-sla-agent{i}@example.com",
                full_name=f"坐席{i:02d}",
                role=agent_role,
            )
            QueueMember.objects.create(workspace=ws, queue=queue, user=agent, position=i)
        rng = random.Random(7)
        Account.objects.bulk_create(
            [
                Account(
                    workspace=ws,
                    code=f"SLA{i:06d}",
                    name=f"客户{i}",
                    value_class=rng.choices("ABC", weights=(20, 30, 50))[0],
                )
                for i in range(ACCOUNTS)
            ],
            batch_size=1000,
        )
    log(f"  prepared {WORKSPACE}: {AGENTS} agents, {ACCOUNTS} accounts, SLA defaults")
    return ws


def clear(ws) -> None:
    from django.db import connection, transaction

    from guanxi.activities.models import Notification
    from guanxi.service.models import Case, CaseEvent, CaseMessage

    with transaction.atomic(), connection.cursor() as cursor:
        for model in (CaseEvent, CaseMessage, Notification, Case):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE workspace_id = %s", [ws.pk])


def seed(ws, n: int, now: dt.datetime, log) -> dict[str, int]:
    from django.db import connection, transaction

    from guanxi.customers.models import Account
    from guanxi.platform.models import User
    from guanxi.service.models import Case, CaseType, Queue, SlaPolicy

    rng = random.Random(20261130)
    sqlite = connection.vendor == "sqlite"

    def v(value):
        if value is None or not sqlite:
            return value
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")

    queue = Queue.objects.in_workspace(ws).get()
    agents = list(
        User.objects.filter(workspace=ws, role__code="service_agent").values_list("pk", flat=True)
    )
    accounts = list(Account.objects.in_workspace(ws).values_list("pk", "value_class"))
    case_type = CaseType.objects.in_workspace(ws).get(kind="fault")
    policies = {(p.customer_class, p.priority): p for p in SlaPolicy.objects.in_workspace(ws)}
    columns = [
        "workspace_id", "number", "case_type_id", "kind", "subject", "priority", "status",
        "channel", "language", "account_id", "assignee_id", "queue_id", "sla_policy_id",
        "first_response_at", "response_due_at", "response_warn_at", "response_warned_at",
        "response_breached_at", "resolution_due_at", "resolution_warn_at",
        "resolution_warned_at", "resolution_breached_at", "response_used_minutes",
        "resolution_used_minutes", "escalation_level", "reopened", "lock_version",
        "thread_key", "description", "reply_email", "reply_phone", "resolution",
        "search_text", "created_at", "updated_at",
    ]  # fmt: skip
    states = [state for _share, state in MIX]
    weights = [share for share, _state in MIX]
    counts = dict.fromkeys(states, 0)
    minute = dt.timedelta(minutes=1)
    started = time.perf_counter()
    with transaction.atomic():
        rows = []
        for i in range(n):
            account_id, klass = accounts[rng.randrange(len(accounts))]
            priority = rng.choices((1, 2, 3, 4), weights=(5, 20, 60, 15))[0]
            policy = policies[(klass, priority)]
            state = rng.choices(states, weights=weights)[0]
            counts[state] += 1
            answered = rng.random() < 0.5
            # The target the state is about: the response while unanswered, else resolution.
            if state == "on_track":
                warn = now + rng.randrange(5, 3 * 24 * 60) * minute
                due = warn + rng.randrange(10, 24 * 60) * minute
                marks = (None, None)
            elif state == "warned":
                warn = now - rng.randrange(5, 24 * 60) * minute
                due = now + rng.randrange(5, 24 * 60) * minute
                marks = (warn + minute, None)
            elif state == "breached":
                due = now - rng.randrange(5, 3 * 24 * 60) * minute
                warn = due - rng.randrange(10, 24 * 60) * minute
                marks = (warn + minute, due + minute)
            elif state == "new_warning":
                warn = now - rng.randrange(0, 4) * minute
                due = now + rng.randrange(5, 8 * 60) * minute
                marks = (None, None)
            else:  # new_breach: past its warning (marked before) and now past its due time
                due = now - rng.randrange(0, 4) * minute
                warn = due - rng.randrange(10, 8 * 60) * minute
                marks = (warn + minute, None)
            opened = warn - rng.randrange(30, 5 * 24 * 60) * minute
            if answered:
                response = (None, None, None, None)
                resolution = (due, warn, *marks)
                first_response = opened + 10 * minute
            else:
                response = (due, warn, *marks)
                # Resolution later: its warning and due five days after the response's.
                resolution = (due + 5 * 24 * 60 * minute, warn + 5 * 24 * 60 * minute, None, None)
                first_response = None
            rows.append(
                [
                    ws.pk, f"CS-B-{i:08d}", case_type.pk, "fault", f"故障 {i}", priority, "open",
                    "phone", "", account_id, agents[i % len(agents)], queue.pk, policy.pk,
                    v(first_response), *(v(x) for x in response), *(v(x) for x in resolution),
                    0, 0, 0, 0, 0, f"{i:016x}", "", "", "", "", "", v(opened), v(opened),
                ]
            )  # fmt: skip
            if len(rows) >= CHUNK:
                write_rows(Case, columns, rows)
                rows = []
        write_rows(Case, columns, rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"  {n:,} open cases written in {time.perf_counter() - started:.1f} s: {counts}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()

    def log(text: str) -> None:
        print(text, flush=True)

    setup_django(args.db)
    from django.db import connection

    from guanxi.activities.models import Notification
    from guanxi.service.models import CaseEvent
    from guanxi.service.services import sla

    ws = prepare(log)
    # A worker loads the URL configuration (case links in notifications) once, at its first
    # task; a fresh process would pay those seconds inside the first sweep.
    from django.urls import reverse

    reverse("service:sla_dashboard")
    clear(ws)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    counts = seed(ws, args.cases, now, log)
    vendor = f"{connection.display_name} {'.'.join(map(str, connection.get_database_version()))}"
    log(f"SLA sweep over {args.cases:,} open cases on {vendor}")
    for run in (1, 2):
        started = time.perf_counter()
        result = sla.sla_sweep(now=now, workspace_ids=[ws.pk])
        seconds = time.perf_counter() - started
        marked = sum(v for k, v in result.items() if k != "escalations")
        log(f"  sweep {run}: {seconds:.2f} s, {marked:,} marks, {result}")
        if run == 1:
            events = CaseEvent.objects.in_workspace(ws).count()
            notes = Notification.objects.in_workspace(ws).count()
            log(f"           wrote {events:,} case events and {notes:,} notifications")
    expected = counts["new_warning"] + counts["new_breach"]
    log(f"  expected about {expected:,} marks (new warnings and breaches of the seed)")
    log(f"  peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
