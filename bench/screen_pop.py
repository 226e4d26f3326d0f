"""The screen-pop benchmark: from the provider's signed webhook to the pop event in the
agent's open browser stream, over real HTTP (the figure: under 1 second, on both
databases).

    .venv/bin/python bench/screen_pop.py --db sqlite --customers 100000
    .venv/bin/python bench/screen_pop.py --db postgres --customers 100000
    .venv/bin/python bench/screen_pop.py --customers 2000 --calls 10      # a quick proof

1. Seeds (once per size; a second run reuses it) the workspace "Bench pops N": 5 service
   agents with phone extensions 7001–7005 and N contacts, each with its own mobile number
   (``COPY`` on PostgreSQL, ``executemany`` on SQLite), and a telephony provider account
   (webhook). Then ANALYZE.
2. Starts the application on a loopback port (Django's threaded WSGI server in this
   process, ``DEBUG`` off, the production stream settings: the stream closes after 25 s
   and the client reconnects after 500 ms with ``Last-Event-ID``, as a browser's
   EventSource does).
3. Opens agent 7001's pop stream (``/service/calls/pops/stream/``) with a real HTTP client
   holding the agent's session cookie, then ``--calls`` times, 0.2–0.6 s apart: POSTs a
   signed *ringing* event for extension 7001 from a random customer's number to
   ``/hooks/telephony/<key>/`` and waits for that call's ``pop`` event on the stream,
   checking it names that customer's 360° page. The time measured is from just before
   the webhook POST leaves to the moment the event's last line is read.
4. Prints a Markdown table: p50, p95 and max in milliseconds of webhook → pop, and of the
   webhook request itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import queue
import random
import sys
import threading
import time
import urllib.request
from pathlib import Path

import harness
from value import Writer, _sqlite_value

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_pops"
AGENTS = 5
FIRST_EXTENSION = 7001
RECONNECT_SECONDS = 0.5


def setup_django(db: str, customers: int) -> None:
    sqlite_path = ROOT / "var" / f"bench-pops-{customers}.sqlite3"
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{sqlite_path}")


def mobile(i: int) -> str:
    return f"+86139{i:08d}"


def seed(customers: int, log) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.customers.models import Contact
    from guanxi.integrations.models import ProviderAccount, ProviderKind
    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.platform.models import Role, User
    from guanxi.service.models import AgentProfile
    from guanxi.service.services.case_types import service_setup

    admin = bench_workspace(f"Bench pops {customers}")
    ws = admin.workspace
    service_setup(ws)
    role = Role.objects.in_workspace(ws).get(code="service_agent")
    domain = admin.email.split("@", 1)[1]
    agents = []
    for i in range(AGENTS):
        user, _ = User.objects.get_or_create(
            email=f"pop-agent{i}@{domain}",
            defaults={"workspace": ws, "full_name": f"坐席{i}", "role": role},
        )
        AgentProfile.objects.get_or_create(
            workspace=ws, user=user, defaults={"phone_extension": str(FIRST_EXTENSION + i)}
        )
        agents.append(user)
    account = ProviderAccount.objects.in_workspace(ws).filter(
        kind=ProviderKind.TELEPHONY, active=True
    ).first() or ProviderAccount.objects.create(
        workspace=ws, kind=ProviderKind.TELEPHONY, provider="webhook"
    )
    have = Contact.objects.in_workspace(ws).count()
    data = {"workspace": ws, "agent": agents[0], "account": account}
    if have >= customers:
        log(f"reusing {have:,} customers")
        return data
    if have:
        raise SystemExit("a partly seeded bench workspace: delete its database and run again")
    sqlite = connection.vendor == "sqlite"
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        writer = Writer(
            Contact,
            ["workspace_id", "code", "name", "mobile", "search_text", "created_at", "updated_at"],
        )
        stamp = _sqlite_value(now) if sqlite else now
        for i in range(customers):
            writer.add(
                [
                    ws.pk,
                    f"SP{i:07d}",
                    f"来电客户{i:06d}",
                    mobile(i),
                    f"来电客户{i:06d}",
                    stamp,
                    stamp,
                ]
            )
        writer.flush()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"{customers:,} customers in {time.perf_counter() - started:.1f} s")
    return data


class Stream(threading.Thread):
    """An agent's pop stream read as a browser's EventSource would: reconnecting after
    ``RECONNECT_SECONDS`` with ``Last-Event-ID`` whenever the server closes it."""

    def __init__(self, port: int, cookie: str):
        super().__init__(daemon=True)
        self.port = port
        self.cookie = cookie
        self.events: queue.Queue = queue.Queue()
        self.opened = threading.Event()
        self.stop = threading.Event()
        self.last_id = ""
        self.reconnects = 0

    def run(self):
        while not self.stop.is_set():
            headers = {"Cookie": self.cookie, "Accept": "text/event-stream"}
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                conn.request("GET", "/service/calls/pops/stream/", headers=headers)
                response = conn.getresponse()
                if response.status != 200:
                    raise SystemExit(f"the stream answered {response.status}")
                self.opened.set()
                kind = data = ""
                while not self.stop.is_set():
                    line = response.readline()
                    if not line:
                        break
                    text = line.decode().rstrip("\n")
                    if text.startswith("id: "):
                        self.last_id = text[4:]
                    elif text.startswith("event: "):
                        kind = text[7:]
                    elif text.startswith("data: "):
                        data = text[6:]
                    elif text == "" and kind == "pop":
                        self.events.put((time.perf_counter(), json.loads(data)))
                        kind = data = ""
            finally:
                conn.close()
            self.reconnects += 1
            time.sleep(RECONNECT_SECONDS)


def serve():
    """The application on a free loopback port, in a thread; returns (server, port)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def measure(data: dict, customers: int, calls: int, log) -> dict:
    from django.conf import settings
    from django.test import Client

    from guanxi.integrations import signatures

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    settings.CALL_POP_STREAM_SECONDS = 25
    client = Client()
    client.force_login(data["agent"])
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    server, port = serve()
    stream = Stream(port, cookie)
    stream.start()
    if not stream.opened.wait(10):
        raise SystemExit("the pop stream did not open")
    time.sleep(0.5)
    account = data["account"]
    url = f"http://127.0.0.1:{port}/hooks/telephony/{account.public_key}/"
    rng = random.Random(20261201)
    run = int(time.time())
    pops, hooks = [], []
    from guanxi.customers.models import Contact

    for n in range(calls):
        i = rng.randrange(customers)
        call_id = f"bench-{run}-{n}"
        body = json.dumps(
            {
                "event_id": f"{call_id}-ringing",
                "call_id": call_id,
                "kind": "ringing",
                "direction": "in",
                "caller": mobile(i),
                "callee": "+862100000000",
                "agent": str(FIRST_EXTENSION),
                "timestamp": int(time.time()),
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        headers.update(signatures.signed_headers(account.secret, body))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        sent = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        hooks.append(time.perf_counter() - sent)
        if answer.get("pops") != 1:
            raise SystemExit(f"call {n}: the webhook answered {answer}")
        while True:
            try:
                got_at, pop = stream.events.get(timeout=10)
            except queue.Empty:
                raise SystemExit(f"call {n}: no pop within 10 s") from None
            if pop["call_id"] == call_id:
                break
        contact = Contact.objects.in_workspace(data["workspace"]).get(mobile=mobile(i))
        if pop["url"] != f"/customers/contacts/{contact.pk}/":
            raise SystemExit(f"call {n}: the pop opens {pop['url']}, not customer {contact.pk}")
        pops.append(got_at - sent)
        time.sleep(rng.uniform(0.2, 0.6))
    stream.stop.set()
    server.shutdown()
    log(f"{calls} calls, the stream reconnected {stream.reconnects} times")
    return {"pops": pops, "hooks": hooks, "reconnects": stream.reconnects}


def vendor() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--customers", type=int, default=100_000, help="customers (100,000)")
    parser.add_argument("--calls", type=int, default=50, help="timed calls (50)")
    args = parser.parse_args()
    setup_django(args.db, args.customers)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f"Seeding (or reusing) “Bench pops {args.customers}” …")
    data = seed(args.customers, log)
    result = measure(data, args.customers, args.calls, log)
    import django

    def row(what: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (
            f"| {what} | {harness.percentile(ms, 0.5):.0f} | {harness.percentile(ms, 0.95):.0f} "
            f"| {max(ms):.0f} |"
        )

    print()
    print(f"### Screen pop — {vendor()}: {args.customers:,} customers, {args.calls} calls")
    print()
    print(
        f"`.venv/bin/python bench/screen_pop.py --db {args.db} --customers {args.customers} "
        f"--calls {args.calls}` (Django {django.get_version()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU, load average "
        f"{os.getloadavg()[0]:.1f} at the end, {dt.date.today().isoformat()}). Real HTTP on "
        "loopback: Django's threaded WSGI server, a signed ringing webhook, the agent's SSE "
        f"stream (it reconnected {result['reconnects']} times meanwhile)."
    )
    print()
    print("| What | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    print(row("Webhook sent → pop event read on the agent's stream", result["pops"]))
    print(row("The webhook request (stored, customer found, pop written)", result["hooks"]))


if __name__ == "__main__":
    main()
