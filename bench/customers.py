"""The customers benchmark: seed rate, search per kind of term, the contacts list with a
filter, and the contact 360° page, at N contacts (``guanxi bench --suite customers``).

1. The "Bench" workspace is filled to N contacts with ``guanxi.customers.demo
   .seed_contacts`` (a second run reuses them); the seed rate is measured when it seeds.
2. Search terms of each kind are taken from the seeded rows themselves (a 2-character
   Chinese name, a 3-character one, part of a company, full pinyin, initials, 4 and 7
   phone digits, part of an e-mail, a name in traditional characters, a very common name),
   so every term finds something.
3. ``search_contacts`` is timed as the global box calls it (server time, no HTTP), as the
   administrator (visibility "all") and as a sales rep (visibility "own"); then the
   contacts list page through ``django.test.Client`` with ``?q=`` and with filters, and the
   contact 360° page, with SQL queries per request.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import django
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from opencc import OpenCC

from bench.pages import HOST, _cpu_count, _percentile, vendor_label
from guanxi.customers import search
from guanxi.customers.demo import seed_contacts
from guanxi.customers.models import Contact
from guanxi.platform.management.commands.seed import (
    BENCH_WORKSPACE,
    bench_add_users,
    bench_workspace,
)
from guanxi.platform.models import Role, User

REPS = 20
TERMS_PER_KIND = 20
_s2t = OpenCC("s2t")


@dataclass
class Row:
    what: str
    kind: str
    p50_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    found: str = ""
    note: str = ""


@dataclass
class Report:
    contacts: int
    seeded: dict | None
    rows: list[Row]
    requests: int


def _timed(fn: Callable, repeat: int) -> tuple[list[float], object]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, result


class Runner:
    def __init__(self, *, contacts: int, requests: int, log: Callable[[str], None]):
        self.contacts = contacts
        self.requests = requests
        self.log = log

    def run(self) -> Report:
        with override_settings(DEBUG=False, ALLOWED_HOSTS=[HOST]):
            admin = bench_workspace(BENCH_WORKSPACE)
            workspace = admin.workspace
            others = User.objects.filter(workspace=workspace).exclude(pk=admin.pk).count()
            if others < REPS:
                bench_add_users(admin, REPS - others)
            have = Contact.objects.in_workspace(workspace).count()
            seeded = None
            if have < self.contacts:
                self.log(f"Seeding {self.contacts - have:,} contacts into “{workspace.name}” …")
                seeded = seed_contacts(
                    workspace=workspace, actor=admin, count=self.contacts - have, log=self.log
                )
                self.log(
                    f"  {seeded['contacts']:,} in {seeded['seconds']:.0f} s "
                    f"({seeded['rate']:,.0f}/s), {seeded['duplicates']:,} planted duplicates"
                )
            total = Contact.objects.in_workspace(workspace).count()
            self.log(f"“{workspace.name}” holds {total:,} contacts.")
            terms = self._terms(workspace)
            rows = self._search(workspace, admin, terms)
            rep = self._rep(workspace)
            if rep is not None:
                rows += self._search(workspace, rep, terms, label="search_contacts as a rep")
            rows += self._pages(admin, workspace, terms)
        return Report(total, seeded, rows, self.requests)

    # --- terms -----------------------------------------------------------------------------

    def _sample(self, workspace, n: int) -> list[Contact]:
        """``n`` random contacts, picked by id (no ORDER BY random() over a million rows)."""
        ids = Contact.objects.in_workspace(workspace).order_by("id").values_list("id", flat=True)
        low, high = ids.first(), ids.last()
        rng = random.Random(42)
        picks = [rng.randint(low, high) for _ in range(n)]
        rows = Contact.objects.in_workspace(workspace).filter(id__in=picks).order_by()
        return list(rows.only("name", "company", "mobile", "email", "name_pinyin", "name_initials"))

    def _terms(self, workspace) -> dict[str, list[str]]:
        sample = self._sample(workspace, 3000)
        zh = [c for c in sample if c.name_initials and " " not in c.name]
        kinds = {
            "2-char Chinese name": [c.name for c in zh if len(c.name) == 2],
            "3-char Chinese name": [c.name for c in zh if len(c.name) == 3],
            "company part": [c.company[2:6] for c in zh if len(c.company) >= 6],
            "full pinyin": [c.name_pinyin for c in zh],
            "initials": [c.name_initials for c in zh],
            "phone, 4 digits": [c.mobile[-4:] for c in sample if c.mobile],
            "phone, 7 digits": [c.mobile[-7:] for c in sample if c.mobile],
            "e-mail part": [c.email.split("@")[0][:8] for c in sample if c.email],
            "traditional": [_s2t.convert(c.name) for c in zh if _s2t.convert(c.name) != c.name],
            "very common (王伟, 张伟, wang)": ["王伟", "张伟", "李娜", "王芳", "zhangwei", "wang"],
        }
        return {k: v[:TERMS_PER_KIND] for k, v in kinds.items() if v}

    def _rep(self, workspace) -> User | None:
        role = Role.objects.in_workspace(workspace).filter(code="sales_rep").first()
        if role is None:
            return None
        owner_ids = (
            Contact.objects.in_workspace(workspace)
            .filter(owner__isnull=False)
            .exclude(owner__role__is_admin=True)
            .values_list("owner_id", flat=True)[:1]
        )
        rep = User.objects.filter(workspace=workspace, pk__in=list(owner_ids)).first()
        if rep is not None and rep.role_id != role.pk:
            # Bench users get random roles; measure "own" visibility with a sales rep's role
            # on a user who owns contacts (a copy, not saved).
            rep.role = role
        return rep

    # --- search ----------------------------------------------------------------------------

    def _search(self, workspace, actor, terms, *, label="search_contacts") -> list[Row]:
        rows = []
        repeat = max(1, self.requests // TERMS_PER_KIND)
        self.log(f"{label} ({actor.email}):")
        for kind, values in terms.items():
            timings, hits, queries = [], 0, 0
            for term in values:
                call = lambda t=term: search.search_contacts(  # noqa: E731
                    workspace=workspace, actor=actor, term=t, limit=20
                )
                call()  # warm
                with CaptureQueriesContext(connection) as captured:
                    found = call()
                queries = max(queries, len(captured))
                hits += bool(found)
                t, _ = _timed(call, repeat)
                timings += t
            row = Row(
                label,
                kind,
                statistics.median(timings),
                _percentile(timings, 0.95),
                queries,
                found=f"{hits}/{len(values)} terms found",
                note=", ".join(values[:3]),
            )
            self.log(f"  {kind}: p50 {row.p50_ms:.1f} ms, p95 {row.p95_ms:.1f} ms, {row.found}")
            rows.append(row)
        return rows

    # --- pages -----------------------------------------------------------------------------

    def _pages(self, admin, workspace, terms) -> list[Row]:
        client = Client(HTTP_HOST=HOST, raise_request_exception=False)
        client.force_login(admin)
        rows: list[Row] = []
        try:
            list_url = reverse("customers:contact_list")
        except NoReverseMatch:
            return [Row("contacts list", "—", note="skipped: customers:contact_list not found")]
        some = self._sample(workspace, 50)[0]
        full = Contact.objects.in_workspace(workspace).get(pk=some.pk)
        owner = full.owner_id or admin.pk
        pages = [
            ("contacts list", "first page, no filter", {}),
            ("contacts list", "filter city", {"f_city": full.city}),
            ("contacts list", "filter lifecycle stage", {"f_lifecycle_stage": "retained"}),
            ("contacts list", "filter owner", {"f_owner": str(owner)}),
            ("contacts list", "filter owner = pool", {"f_owner": "pool"}),
        ]
        for kind in ("2-char Chinese name", "initials", "phone, 7 digits", "company part"):
            if terms.get(kind):
                pages.append(("contacts list", f"search: {kind}", {"q": terms[kind][0]}))
        for what, kind, params in pages:
            url = f"{list_url}?{urlencode(params)}" if params else list_url
            rows.append(self._page(client, what, kind, url, note=urlencode(params)))
        try:
            detail = reverse("customers:contact_detail", args=[full.pk])
        except NoReverseMatch:
            rows.append(Row("contact 360° page", "—", note="skipped: no URL"))
        else:
            rows.append(self._page(client, "contact 360° page", "one contact", detail))
        return rows

    def _page(self, client: Client, what: str, kind: str, url: str, note: str = "") -> Row:
        client.get(url, secure=True)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, secure=True)
        queries = len(captured)
        if response.status_code != 200:
            self.log(f"  {what}, {kind}: HTTP {response.status_code}")
            return Row(what, kind, queries=queries, note=f"HTTP {response.status_code}")
        timings, _ = _timed(lambda: client.get(url, secure=True), self.requests)
        row = Row(
            what,
            kind,
            statistics.median(timings),
            _percentile(timings, 0.95),
            queries,
            note=note,
        )
        self.log(f"  {what}, {kind}: p50 {row.p50_ms:.1f} ms, p95 {row.p95_ms:.1f} ms, {queries} q")
        return row


def markdown(report: Report) -> str:
    connection.ensure_connection()
    lines = [
        f"### Customers — {vendor_label()}, {report.contacts:,} contacts",
        "",
        f"Measured {timezone.now():%Y-%m-%d} with `guanxi bench --suite customers` "
        f"(Django {django.get_version()}, Python {platform.python_version()}, "
        f"{platform.machine()}, {_cpu_count()} CPU, load average {os.getloadavg()[0]:.1f} "
        "when it finished).",
        "",
    ]
    if report.seeded:
        s = report.seeded
        lines += [
            f"Seed: {s['contacts']:,} contacts in {s['seconds']:.0f} s "
            f"(**{s['rate']:,.0f} contacts/s**), {s['duplicates']:,} planted duplicates "
            f"({s['duplicates'] / max(s['contacts'], 1):.1%}).",
            "",
        ]
    lines += [
        "| What | Kind | p50 ms | p95 ms | SQL queries | Found / note |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in report.rows:
        p50 = f"{r.p50_ms:.1f}" if r.p50_ms is not None else "—"
        p95 = f"{r.p95_ms:.1f}" if r.p95_ms is not None else "—"
        q = str(r.queries) if r.queries is not None else "—"
        extra = "; ".join(x for x in (r.found, r.note) if x).replace("|", "\\|")
        lines.append(f"| {r.what} | {r.kind} | {p50} | {p95} | {q} | {extra} |")
    return "\n".join(lines) + "\n"


def write_section(path, section: str) -> None:
    """Replace this database's customers section of ``path``, or append it."""
    from pathlib import Path

    path = Path(path)
    begin = f"<!-- bench:customers:{connection.vendor}:begin -->"
    end = f"<!-- bench:customers:{connection.vendor}:end -->"
    block = f"{begin}\n{section.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, _sep, rest = text.partition(begin)
        _old, _sep, tail = rest.partition(end)
        text = f"{head}{block}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")
