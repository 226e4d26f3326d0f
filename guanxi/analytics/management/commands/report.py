"""Analysis reports on the command line.

    guanxi report pareto [--year Y] [--workspace SLUG] [--format table|json|csv] [--recompute]

``pareto`` prints the same figures as ``GET /api/v1/analytics/pareto``: customers with
sales in the year, their revenue, the top 1/5/10/20/50 % and (json, csv) the whole curve.
``--recompute`` first runs the customer-value recompute for that year (as the nightly job
does, in this process). ``--workspace`` may be left out when there is one workspace.
"""

from __future__ import annotations

import csv
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.common.errors import ApplicationError
from guanxi.platform.models import Workspace

from ...selectors import value as selectors
from ...services import value as services


def _point(p) -> dict:
    return {
        "percent": str(p.percent),
        "customers": p.customers,
        "revenue": str(p.revenue),
        "share": str(p.share),
    }


class Command(BaseCommand):
    help = "Analysis reports: pareto (the share of revenue held by the top x % of customers)."

    def add_arguments(self, parser: CommandParser) -> None:
        reports = parser.add_subparsers(dest="report", required=True, metavar="REPORT")
        pareto = reports.add_parser("pareto", help="The Pareto figures of a year.")
        pareto.add_argument("--year", type=int, default=None, help="Default: the last run's year.")
        pareto.add_argument("--workspace", default=None, help="The workspace's slug.")
        pareto.add_argument("--format", choices=["table", "json", "csv"], default="table")
        pareto.add_argument(
            "--recompute", action="store_true", help="Recompute customer value first."
        )

    def handle(self, *args, **options) -> None:
        try:
            getattr(self, f"_{options['report']}")(options)
        except ApplicationError as exc:
            details = "; ".join(
                f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in exc.fields.items()
            )
            raise CommandError(
                f"{exc.message} ({details})" if details else str(exc.message)
            ) from None

    @staticmethod
    def _workspace(slug: str | None) -> Workspace:
        if slug:
            workspace = Workspace.objects.filter(slug=slug).first()
            if workspace is None:
                raise CommandError(f"No workspace with the slug {slug!r}.")
            return workspace
        workspaces = list(Workspace.objects.order_by("pk")[:2])
        if len(workspaces) != 1:
            raise CommandError("Name the workspace with --workspace SLUG.")
        return workspaces[0]

    def _pareto(self, options) -> None:
        workspace = self._workspace(options["workspace"])
        if options["recompute"]:
            services.value_recompute(workspace=workspace, trigger="command", year=options["year"])
        result = selectors.pareto_for(workspace=workspace, year=options["year"])
        out = self.stdout
        if options["format"] == "json":
            body = {
                "year": result.year,
                "customers": result.customers,
                "revenue": str(result.revenue),
                "currency": workspace.default_currency,
                "top": [_point(p) for p in result.top],
                "points": [_point(p) for p in result.points],
                "run_id": result.run.pk if result.run else None,
            }
            out.write(json.dumps(body, ensure_ascii=False, indent=2))
            return
        if options["format"] == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["percent", "customers", "revenue", "share"])
            for p in result.points:
                writer.writerow([p.percent, p.customers, p.revenue, p.share])
            return
        out.write(
            f"Pareto {result.year} · {workspace.slug}: {result.customers} customers with sales, "
            f"{result.revenue} {workspace.default_currency}"
        )
        out.write(f"{'top %':>8} {'customers':>10} {'revenue':>20} {'share %':>10}")
        for p in result.top:
            out.write(f"{p.percent:>8} {p.customers:>10} {p.revenue:>20} {p.share:>10}")
