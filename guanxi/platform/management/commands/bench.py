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
            "--suite",
            choices=("pages", "customers"),
            default="pages",
            help="pages: the platform's list pages (default); customers: seed rate, search, "
            "contacts list and 360° page at --contacts N (bench/customers.py).",
        )
        parser.add_argument(
            "--contacts",
            type=int,
            default=1_000_000,
            metavar="N",
            help="--suite customers: contacts in the bench workspace (default 1,000,000).",
        )
        parser.add_argument(
            "--write",
            metavar="FILE",
            help="Also write the table into FILE (e.g. docs/benchmarks.md), replacing the "
            "section of the current database.",
        )

    def handle(self, *args, requests: int, scales: str, write: str | None, **options):
        if options.get("suite") == "customers":
            return self._customers(requests=requests, contacts=options["contacts"], write=write)
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

    def _customers(self, *, requests: int, contacts: int, write: str | None) -> None:
        from bench.customers import Runner, markdown, write_section

        if contacts < 1 or requests < 1:
            raise CommandError("--contacts and --requests must be 1 or more.")
        report = Runner(contacts=contacts, requests=requests, log=self.stderr.write).run()
        table = markdown(report)
        self.stdout.write("")
        self.stdout.write(table)
        if write:
            write_section(write, table)
            self.stderr.write(f"Wrote the results into {write}.")
