"""``guanxi bench``: time the list pages at 1,000 and 10,000 rows and count their queries.

The measuring code lives in the repository's ``bench/`` package; see bench/README.md.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


def _scales(value: str) -> list[int]:
    try:
        scales = sorted({int(part.strip().replace("_", "")) for part in value.split(",")})
    except ValueError:
        raise CommandError(
            f"--scales takes sizes separated by commas, e.g. 1000,10000 (got {value!r})"
        ) from None
    if not scales or scales[0] < 1:
        raise CommandError("--scales takes positive sizes.")
    return scales


class Command(BaseCommand):
    help = (
        "Seed bench workspaces (1,000 and 10,000 users and audit rows) and time the users and "
        "audit-log list pages: p50/p95 per request and SQL queries per request."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--requests",
            type=int,
            default=50,
            metavar="N",
            help="Timed requests per page (default 50).",
        )
        parser.add_argument(
            "--scales",
            default="1000,10000",
            metavar="A,B",
            help="Row counts to measure at, comma-separated (default 1000,10000).",
        )
        parser.add_argument(
            "--write",
            metavar="FILE",
            help="Also write the table into FILE (e.g. docs/benchmarks.md), replacing the "
            "section of the current database.",
        )

    def handle(self, *args, requests: int, scales: str, write: str | None, **options):
        try:
            from bench.pages import Runner, markdown, write_section
        except ImportError as exc:
            raise CommandError(
                f"The bench package is not importable ({exc}); run guanxi bench from a source "
                "checkout (make bench)."
            ) from None
        if requests < 1:
            raise CommandError("--requests must be 1 or more.")
        runner = Runner(requests=requests, scales=_scales(scales), log=self.stderr.write)
        results = runner.run()
        table = markdown(results, requests=requests)
        self.stdout.write("")
        self.stdout.write(table)
        if write:
            write_section(write, table)
            self.stderr.write(f"Wrote the results into {write}.")
