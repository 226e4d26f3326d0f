"""The timeline benchmark: the customer 360° page with 10,000 entries on one account.

    .venv/bin/python bench/timeline.py --db sqlite     # var/bench-timeline.sqlite3
    .venv/bin/python bench/timeline.py --db postgres   # guanxi_bench_timeline on 127.0.0.1

1. Seeds (once; a second run reuses it) the workspace "Bench timeline": 20 users besides
   its administrator and a sales manager, one account with 30 contacts and 10,000 entries
   (mixed kinds, 20 authors, one or two contacts each, 1 in 20 private, 40 open
   commitments), and background data on 1,000 other accounts: 100,000 entries, each with
   a contact. Then ANALYZE.
2. Signs in with ``django.test.Client`` (in process, ``DEBUG`` off) as the administrator
   (visibility "all") and as the sales manager who owns the account (visibility "team and
   below" on entries: the private-entry filter is in the query), and times, each warm and
   ``--requests`` times: the account's 360° page, the busiest contact's 360° page, page 2
   and page 50 of the account's timeline (the htmx rows the last row loads, following the
   cursor), a filter by type and by person, and ``GET /api/v1/timeline``.
3. Prints a Markdown table: p50 and p95 of the server time in milliseconds and the SQL
   queries of one request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = ROOT / "var" / "bench-timeline.sqlite3"
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_timeline"
WORKSPACE = "Bench timeline"
ENTRIES = 10_000
BACKGROUND_ACCOUNTS = 1_000
BACKGROUND_PER_ACCOUNT = 100
AUTHORS = 20
CONTACTS = 30
BATCH = 5_000
KINDS = ["call", "call", "call", "email", "sms", "meeting", "visit", "visit", "note", "note"]
MEANS = ["company_visit", "reference_visit", "onsite_meeting", "technical_exchange"]
MINE = ("activities.timeline", "activities.commitments")
TOPICS = [
    "报价跟进",
    "技术交流",
    "回访",
    "合同条款",
    "样品寄送",
    "付款提醒",
    "新品介绍",
    "售后问题",
]


def setup_django(db: str) -> None:
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{SQLITE_PATH}")


# --- seeding --------------------------------------------------------------------------------------


def seed(log) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.activities.models import Commitment, EntryContact, TimelineEntry
    from guanxi.customers import search_keys
    from guanxi.customers.models import Account, AccountContact, Contact
    from guanxi.platform.management.commands.seed import bench_add_users, bench_workspace
    from guanxi.platform.models import Role, Team, User

    admin = bench_workspace(WORKSPACE)
    ws = admin.workspace
    manager = User.objects.filter(workspace=ws, email__startswith="manager@").first()
    if manager is None:
        team = Team.objects.in_workspace(ws).order_by("id").first()
        manager = User.objects.create(
            workspace=ws,
            email=f"manager@{admin.email.split('@', 1)[1]}",
            full_name="陈经理",
            role=Role.objects.in_workspace(ws).get(code="sales_manager"),
            team=team,
        )
    have = User.objects.filter(workspace=ws).count()
    if have < AUTHORS + 2:
        bench_add_users(admin, AUTHORS + 2 - have)
    account = Account.objects.in_workspace(ws).filter(code="BENCH-360").first()
    if account is not None:
        return {"workspace": ws, "admin": admin, "manager": manager, "account": account}
    rng = random.Random(42)
    authors = list(User.objects.filter(workspace=ws).exclude(pk=admin.pk).order_by("id"))[:AUTHORS]
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        account = Account(
            workspace=ws, code="BENCH-360", name="上海宏达机电设备有限公司", owner=manager
        )
        search_keys.apply_account_keys(account)
        account.save()
        contacts = []
        for i in range(CONTACTS):
            c = Contact(
                workspace=ws,
                code=f"BC{i:05d}",
                name=f"联系人{i:02d}",
                owner=manager,
                account=account,
            )
            search_keys.apply_contact_keys(c)
            contacts.append(c)
        contacts = Contact.objects.bulk_create(contacts)
        AccountContact.objects.bulk_create(
            AccountContact(workspace=ws, account=account, contact=c, is_primary=True)
            for c in contacts
        )
        _entries(ws, [account], contacts, authors, ENTRIES, now, rng, private_every=20)
        Commitment.objects.bulk_create(
            Commitment(
                workspace=ws,
                account=account,
                contact=contacts[i % CONTACTS],
                promised_by=authors[i % 5],
                text=f"承诺 {i}: {rng.choice(TOPICS)}",
                due_date=(now + dt.timedelta(days=rng.randint(-10, 30))).date(),
            )
            for i in range(40)
        )
    log(f"  the account: {ENTRIES:,} entries in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    others = []
    for i in range(BACKGROUND_ACCOUNTS):
        a = Account(workspace=ws, code=f"BG{i:06d}", name=f"背景公司{i}", owner=rng.choice(authors))
        search_keys.apply_account_keys(a)
        others.append(a)
    with transaction.atomic():
        others = Account.objects.bulk_create(others, batch_size=BATCH)
        people = []
        for i, a in enumerate(others):
            for j in range(2):
                c = Contact(
                    workspace=ws, code=f"BGC{i:06d}{j}", name=f"背景联系人{i}-{j}", account=a
                )
                search_keys.apply_contact_keys(c)
                people.append(c)
        people = Contact.objects.bulk_create(people, batch_size=BATCH)
    for start in range(0, BACKGROUND_ACCOUNTS, 50):
        with transaction.atomic():
            for i in range(start, min(start + 50, BACKGROUND_ACCOUNTS)):
                mine = people[2 * i : 2 * i + 2]
                _entries(ws, [others[i]], mine, authors, BACKGROUND_PER_ACCOUNT, now, rng, links=1)
    log(
        f"  background: {BACKGROUND_ACCOUNTS * BACKGROUND_PER_ACCOUNT:,} entries on "
        f"{BACKGROUND_ACCOUNTS:,} accounts in {time.perf_counter() - started:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    total = TimelineEntry.objects.in_workspace(ws).count()
    links = EntryContact.objects.in_workspace(ws).count()
    log(f"  {total:,} entries, {links:,} contact links in the workspace")
    return {"workspace": ws, "admin": admin, "manager": manager, "account": account}


def _entries(ws, accounts, contacts, authors, n, now, rng, *, private_every=0, links=2):
    from guanxi.activities.models import EntryContact, TimelineEntry

    made = 0
    while made < n:
        batch = []
        for i in range(made, min(n, made + BATCH)):
            kind = KINDS[i % len(KINDS)]
            batch.append(
                TimelineEntry(
                    workspace=ws,
                    account=accounts[0],
                    kind=kind,
                    subtype=rng.choice(MEANS) if kind == "visit" else "",
                    direction=rng.choice(["in", "out"]) if kind in ("call", "email", "sms") else "",
                    channel={"call": "phone", "email": "email", "sms": "sms"}.get(
                        kind, "in_person"
                    ),
                    outcome="connected" if kind == "call" else "",
                    duration_seconds=rng.randint(30, 1800) if kind == "call" else None,
                    occurred_at=now - dt.timedelta(minutes=37 * i + rng.randint(0, 30)),
                    subject=rng.choice(TOPICS),
                    body="客户表示下周给答复，需要我们先提供技术方案和报价。" if i % 3 == 0 else "",
                    author=authors[i % len(authors)],
                    is_private=bool(private_every) and i % private_every == 0,
                )
            )
        batch = TimelineEntry.objects.bulk_create(batch)
        EntryContact.objects.bulk_create(
            EntryContact(workspace=ws, entry=e, contact=c, occurred_at=e.occurred_at)
            for e in batch
            for c in rng.sample(contacts, k=min(len(contacts), rng.randint(1, links)))
        )
        made += len(batch)


# --- measuring -------------------------------------------------------------------------------


def measure(data: dict, requests: int, log) -> list[dict]:
    from django.db import connection, reset_queries
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from guanxi.activities.models import EntryContact

    ws, account = data["workspace"], data["account"]
    busiest = (
        EntryContact.objects.in_workspace(ws)
        .filter(entry__account=account)
        .values("contact_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    rows = []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver", "127.0.0.1"]):
        for who, user in (("administrator", data["admin"]), ("sales manager", data["manager"])):
            client = Client(raise_request_exception=True)
            client.force_login(user)
            rows_url = f"/activities/timeline/accounts/{account.pk}/"
            page2 = _follow(client, rows_url, 1)
            page50 = _follow(client, rows_url, 49)
            author = data["manager"].pk
            today = timezone.localdate()
            since = today - dt.timedelta(days=90)
            cases = [
                ("account 360° page", f"/customers/accounts/{account.pk}/", {}),
                (
                    f"contact 360° page ({busiest['n']:,} entries)",
                    f"/customers/contacts/{busiest['contact_id']}/",
                    {},
                ),
                ("timeline page 2 (htmx rows, cursor)", page2, {"HTTP_HX_REQUEST": "true"}),
                ("timeline page 50 (htmx rows, cursor)", page50, {"HTTP_HX_REQUEST": "true"}),
                ("filter: visits", f"{rows_url}?kind=visit", {"HTTP_HX_REQUEST": "true"}),
                ("filter: one person", f"{rows_url}?author={author}", {"HTTP_HX_REQUEST": "true"}),
                (
                    "filter: one contact, last 90 days",
                    f"{rows_url}?contact={busiest['contact_id']}&since={since}&until={today}",
                    {"HTTP_HX_REQUEST": "true"},
                ),
                ("GET /api/v1/timeline (50)", f"/api/v1/timeline?account_id={account.pk}", {}),
            ]
            for label, url, headers in cases:
                if label == "account 360° page":
                    rows.append(_without_sections(client, url, who, requests, log))
                response = client.get(url, **headers)
                assert response.status_code == 200, (url, response.status_code)
                reset_queries()  # the seed's queries would shift the capture's window
                with CaptureQueriesContext(connection) as captured:
                    client.get(url, **headers)
                # Read now: each request's start clears the log the capture slices.
                queries = len(captured)
                timings = []
                for _ in range(requests):
                    t0 = time.perf_counter()
                    client.get(url, **headers)
                    timings.append((time.perf_counter() - t0) * 1000)
                row = {
                    "who": who,
                    "what": label,
                    "p50": statistics.median(timings),
                    "p95": harness.percentile(timings, 0.95),
                    "queries": queries,
                }
                log(
                    f"  {who}, {label}: p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms, {row['queries']} q"
                )
                rows.append(row)
    return rows


def _without_sections(client, url: str, who: str, requests: int, log) -> dict:
    """The same page with the timeline and open-commitments sections unregistered: what
    the rest of the page costs, so the sections' share can be read off."""
    from guanxi.customers import sections

    saved = dict(sections._sections)
    for key in MINE:
        sections._sections.pop(key, None)
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    try:
        client.get(url)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = len(captured)
        timings = []
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - t0) * 1000)
    finally:
        sections._sections.clear()
        sections._sections.update(saved)
    row = {
        "who": who,
        "what": "account 360° page without these two sections (for comparison)",
        "p50": statistics.median(timings),
        "p95": harness.percentile(timings, 0.95),
        "queries": queries,
    }
    log(f"  {who}, {row['what']}: p50 {row['p50']:.1f} ms")
    return row


def _follow(client, url: str, pages: int) -> str:
    """The URL of the page ``pages`` after the first, through the last row's cursor link."""
    for _ in range(pages):
        html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        found = re.findall(r'hx-get="([^"]+)" hx-trigger="revealed"', html)
        url = found[-1].replace("&amp;", "&")
    return url


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
    parser.add_argument("--requests", type=int, default=30, help="timed requests per row (30)")
    args = parser.parse_args()
    setup_django(args.db)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f"Seeding (or reusing) “{WORKSPACE}” …")
    data = seed(log)
    rows = measure(data, args.requests, log)
    import django

    print()
    print(
        f"### Timeline — {vendor()}: one account with {ENTRIES:,} entries, "
        f"{BACKGROUND_ACCOUNTS * BACKGROUND_PER_ACCOUNT:,} more on other accounts"
    )
    print()
    print(
        f"`.venv/bin/python bench/timeline.py --db {args.db} --requests {args.requests}` "
        f"(Django {django.get_version()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPU, load average {os.getloadavg()[0]:.1f} at the end). "
        "Server time through django.test.Client, warm."
    )
    print()
    print("| As | What | p50 ms | p95 ms | SQL queries |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        queries = "—" if r["queries"] is None else r["queries"]
        print(f"| {r['who']} | {r['what']} | {r['p50']:.1f} | {r['p95']:.1f} | {queries} |")


if __name__ == "__main__":
    main()
