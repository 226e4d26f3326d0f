"""``guanxi import contacts|accounts FILE``: import a CSV or XLSX file in the foreground.

Same path as the page and the API (``services.imports`` and ``importing.runner``): the same
cleaning, duplicate policy, checkpoint and report. ``--run ID`` resumes an interrupted run.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from guanxi.common.errors import ApplicationError
from guanxi.customers.importing import runner
from guanxi.customers.models import ImportRun
from guanxi.customers.services import imports

from ._common import workspace_and_user


class Command(BaseCommand):
    help = "Import contacts or accounts from a CSV or XLSX file."

    def add_arguments(self, parser):
        # "orders" is the sales app's importer (its own command; this one only passes it on).
        parser.add_argument("object", choices=["contacts", "accounts", "orders"])
        parser.add_argument("file", nargs="?", help="CSV or XLSX file (not with --run)")
        parser.add_argument("--mapping", help='JSON file {"file column": "field"}')
        parser.add_argument(
            "--on-duplicate",
            choices=["skip", "update", "create"],
            default="create",
            help="create (default: create them and flag them for review), skip or update",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="reject rows with any invalid value (default: leave the value empty)",
        )
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--owner", default="me", help='"me", "pool" or a user id')
        parser.add_argument("--workspace", help="workspace slug (default: the only one)")
        parser.add_argument("--user", help="e-mail of the importing user (default: an admin)")
        parser.add_argument("--run", type=int, help="resume this interrupted run")
        parser.add_argument("--quiet", action="store_true", help="no progress line")
        # Orders only: passed on to ``orders_import`` (see its --help).
        orders = parser.add_argument_group("orders", "only with orders; see orders_import --help")
        orders.add_argument("--create-products", action="store_true")
        orders.add_argument("--create-customers", action="store_true")
        orders.add_argument("--owed", action="store_true")
        orders.add_argument("--returns", choices=["refuse", "skip", "credit"])

    def handle(self, *args, **options):
        if options["object"] == "orders":
            from django.core.management import call_command

            names = ("workspace", "user", "run", "quiet", "create_products", "create_customers")
            passed = {k: options[k] for k in (*names, "owed", "returns") if options[k]}
            return call_command(
                "orders_import", *[options["file"]] * bool(options["file"]), **passed
            )
        workspace, user = workspace_and_user(options["workspace"], options["user"])
        translation.activate(user.language or workspace.language or "en")
        try:
            if options["run"]:
                run = imports.import_run_get(actor=user, workspace=workspace, run_id=options["run"])
            else:
                run = self._start(workspace, user, options)
            self.stdout.write(
                f"run {run.pk}: {run.file_name} ({run.encoding}), "
                f"duplicates: {run.on_duplicate}{', strict' if run.strict else ''}"
                f"{', dry run' if run.dry_run else ''}"
            )
            started = time.monotonic()
            progress = None if options["quiet"] else self._progress(started)
            run = runner.import_run_execute(
                run=ImportRun.objects.in_workspace(workspace).get(pk=run.pk), progress=progress
            )
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message}{' (' + detail + ')' if detail else ''}") from None
        elapsed = time.monotonic() - started
        if not options["quiet"]:
            sys.stderr.write("\n")
        rate = run.rows_done / elapsed if elapsed else 0
        self.stdout.write(
            f"rows {run.rows_done}: created {run.created}, updated {run.updated}, "
            f"skipped {run.skipped}, failed {run.failed}, warnings {run.warnings} "
            f"in {elapsed:.1f} s ({rate:,.0f} rows/s)"
        )
        if run.skipped or run.failed or run.warnings:
            self.stdout.write(f"report: {run.error_path}")

    def _start(self, workspace, user, options):
        if not options["file"]:
            raise CommandError("Name the FILE to import (or --run ID to resume).")
        mapping = {}
        if options["mapping"]:
            try:
                mapping = imports.parse_mapping(Path(options["mapping"]).read_text("utf-8"))
            except OSError as exc:
                raise CommandError(f"Cannot read the mapping: {exc}") from None
        run = imports.import_upload_path(
            actor=user, workspace=workspace, object_key=options["object"], path=options["file"]
        )
        unmatched = [c for c, f in run.mapping.items() if not f and c not in mapping]
        if unmatched and not options["quiet"]:
            self.stdout.write("columns not imported: " + json.dumps(unmatched, ensure_ascii=False))
        return imports.import_start(
            actor=user,
            workspace=workspace,
            run_id=run.pk,
            mapping=mapping,
            on_duplicate=options["on_duplicate"],
            dry_run=options["dry_run"],
            owner=options["owner"],
            strict=options["strict"],
            background=False,
        )

    def _progress(self, started):
        def show(done, total=None, message=""):
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0
            of = f"/{total}" if total else ""
            sys.stderr.write(f"\r{done}{of} rows, {rate:,.0f} rows/s  {message}   ")
            sys.stderr.flush()

        return show
