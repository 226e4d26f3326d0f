"""Timing list pages at two data sizes, to show their cost and query count stay flat.

For every list page and every scale: fill a bench workspace to that many rows, sign in as
its administrator with ``django.test.Client`` (in process: no network, no server), and
request the first page and a deep page reached by following the "next" cursor links.
Each is requested ``requests`` times; the table shows the median and 95th percentile of
the time ``Client.get`` takes (the whole Django request: middleware, queries, template)
and the number of SQL queries one request runs.
"""

from __future__ import annotations

import html
import platform
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import django
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from guanxi.platform.management.commands.seed import BENCH_WORKSPACE, bench_fill
from guanxi.platform.models import AuditEntry, User

PAGE_SIZE = 50  # the lists' default page size
DEEP_PAGE_LIMIT = 100  # follow at most this many "next" links to reach the deep page
HOST = "127.0.0.1"


@dataclass(frozen=True)
class ListPage:
    label: str
    url_name: str
    count_rows: Callable  # (workspace) -> rows the list holds


LIST_PAGES = (
    ListPage("Users", "platform:user_list", lambda ws: User.objects.filter(workspace=ws).count()),
    ListPage(
        "Audit log",
        "platform:audit_list",
        lambda ws: AuditEntry.objects.filter(workspace=ws).count(),
    ),
)


@dataclass
class Result:
    page: str
    rows: int
    request: str  # "first page" or "page 101"
    kind: str = ""  # "first" or "deep": what is compared across sizes
    p50_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    note: str = ""


def workspace_name(scale: int, scales: list[int]) -> str:
    """The largest scale lives in the "Bench" workspace (the one ``guanxi seed --users``
    fills); smaller ones get a workspace of their own, so both sizes exist side by side."""
    return BENCH_WORKSPACE if scale == max(scales) else f"{BENCH_WORKSPACE} {scale}"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# The list's "Next" link: href="?sort=full_name&amp;dir=asc&amp;cursor=…&amp;start=51"
_NEXT_LINK = re.compile(r'href="([^"]*(?:\?|&|&amp;)cursor=[^"]*)"')


def _next_url(current: str, body: str) -> str | None:
    for raw in _NEXT_LINK.findall(body):
        url = urljoin(current, html.unescape(raw))
        if url != current:
            return url
    return None


class Runner:
    def __init__(self, *, requests: int, scales: list[int], log: Callable[[str], None]):
        self.requests = requests
        self.scales = sorted(scales)
        self.log = log

    def run(self) -> list[Result]:
        results: list[Result] = []
        # Measured as production runs: no debug cursor wrapper, no debug templates.
        with override_settings(DEBUG=False, ALLOWED_HOSTS=[HOST]):
            for scale in self.scales:
                name = workspace_name(scale, self.scales)
                self.log(f"Filling workspace “{name}” to {scale:,} users and audit rows …")
                started = time.perf_counter()
                admin = bench_fill(name, users=scale, audit_rows=scale)
                self.log(f"  ready in {time.perf_counter() - started:.1f} s")
                client = Client(HTTP_HOST=HOST, raise_request_exception=False)
                client.force_login(admin)
                for page in LIST_PAGES:
                    results.extend(self._measure_list(client, page, admin.workspace))
        return results

    def _measure_list(self, client: Client, page: ListPage, workspace) -> list[Result]:
        rows = page.count_rows(workspace)
        try:
            url = reverse(page.url_name)
        except NoReverseMatch:
            self.log(f"  {page.label}: URL name {page.url_name!r} does not resolve yet; skipped.")
            return [Result(page.label, rows, "—", note=f"skipped: {page.url_name} not found")]
        self.log(f"  {page.label} ({rows:,} rows): {url}")
        first = self._measure(client, page.label, rows, "first page", url, kind="first")
        results = [first]
        if first.note:
            return results
        deep_url, number = self._walk(
            client, url, target=min(DEEP_PAGE_LIMIT, rows // PAGE_SIZE // 2)
        )
        if deep_url is None:
            results.append(Result(page.label, rows, "deep page", note="no next-page link found"))
        else:
            results.append(
                self._measure(client, page.label, rows, f"page {number}", deep_url, kind="deep")
            )
        return results

    def _walk(self, client: Client, url: str, *, target: int) -> tuple[str | None, int]:
        """Follow "next" links ``target`` times (untimed); return the URL and page number."""
        number, current = 1, url
        while number <= target:
            response = client.get(current, secure=True)
            nxt = _next_url(current, response.content.decode("utf-8", "replace"))
            if nxt is None:
                break
            current, number = nxt, number + 1
        return (current, number) if number > 1 else (None, 1)

    def _measure(
        self, client: Client, label: str, rows: int, request: str, url: str, *, kind: str
    ) -> Result:
        # One untimed request first: the session's first use writes to it, later ones do not.
        client.get(url, secure=True)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, secure=True)
        # Read now: the next request's request_started signal empties the query log.
        queries = len(captured)
        if response.status_code != 200:
            where = response.headers.get("Location", "")
            note = f"HTTP {response.status_code}{f' → {where}' if where else ''}"
            self.log(f"    {request}: {note}; not timed")
            return Result(label, rows, request, kind=kind, queries=queries, note=note)
        timings = []
        for _ in range(self.requests):
            started = time.perf_counter()
            client.get(url, secure=True)
            timings.append((time.perf_counter() - started) * 1000)
        result = Result(
            label,
            rows,
            request,
            kind=kind,
            p50_ms=statistics.median(timings),
            p95_ms=_percentile(timings, 0.95),
            queries=queries,
        )
        self.log(
            f"    {request}: p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms, {result.queries} queries"
        )
        return result


def vendor_label() -> str:
    if connection.vendor == "postgresql":
        major, rest = divmod(connection.pg_version, 10000)
        return (
            f"PostgreSQL {major}.{rest % 100}"
            if major >= 10
            else f"PostgreSQL {connection.pg_version}"
        )
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def constant_queries(results: list[Result]) -> dict[str, bool]:
    """Per list and kind of page: does a request run as many queries at every size?"""
    seen: dict[str, set[int]] = {}
    for r in results:
        if r.queries is not None and not r.note:
            seen.setdefault(f"{r.page}, {r.kind} page", set()).add(r.queries)
    return {page: len(counts) == 1 for page, counts in seen.items()}


def markdown(results: list[Result], *, requests: int) -> str:
    connection.ensure_connection()
    lines = [
        f"### {vendor_label()}",
        "",
        f"Measured {timezone.now():%Y-%m-%d} with `guanxi bench` (Django {django.get_version()}, "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{_cpu_count()} CPU); {requests} requests per row.",
        "",
        "| List | Rows | Request | p50 ms | p95 ms | SQL queries | Note |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        p50 = f"{r.p50_ms:.1f}" if r.p50_ms is not None else "—"
        p95 = f"{r.p95_ms:.1f}" if r.p95_ms is not None else "—"
        queries = str(r.queries) if r.queries is not None else "—"
        lines.append(
            f"| {r.page} | {r.rows:,} | {r.request} | {p50} | {p95} | {queries} | {r.note} |"
        )
    verdicts = constant_queries(results)
    growth = time_growth(results)
    if verdicts:
        lines.append("")
        for page, same in verdicts.items():
            line = f"- {page}: SQL queries per request {'constant' if same else '**vary**'} across sizes"
            if page in growth:
                small, large, ratio = growth[page]
                flat = ratio < GROWTH_TOLERANCE
                line += f"; p50 ×{ratio:.1f} from {small:,} to {large:,} rows"
                if not flat:
                    line += " — **the cost grows with the data**"
            lines.append(line + ".")
    return "\n".join(lines) + "\n"


# Above this ratio between the largest and the smallest size, a page's cost grows with the
# data: something in it is not bounded by the page size.
GROWTH_TOLERANCE = 1.5


def time_growth(results: list[Result]) -> dict[str, tuple[int, int, float]]:
    """Per list and kind of page: (smallest rows, largest rows, p50 ratio)."""
    timed: dict[str, list[Result]] = {}
    for r in results:
        if r.p50_ms is not None:
            timed.setdefault(f"{r.page}, {r.kind} page", []).append(r)
    growth = {}
    for page, rows in timed.items():
        if len(rows) > 1:
            small = min(rows, key=lambda r: r.rows)
            large = max(rows, key=lambda r: r.rows)
            growth[page] = (small.rows, large.rows, large.p50_ms / small.p50_ms)
    return growth


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def write_section(path, section: str) -> None:
    """Replace this database's section of ``path`` (between its markers), or append it."""
    from pathlib import Path

    path = Path(path)
    begin, end = (
        f"<!-- bench:{connection.vendor}:begin -->",
        f"<!-- bench:{connection.vendor}:end -->",
    )
    block = f"{begin}\n{section.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, _sep, rest = text.partition(begin)
        _old, _sep, tail = rest.partition(end)
        text = f"{head}{block}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")
