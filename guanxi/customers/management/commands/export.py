"""``guanxi export contacts|accounts FILE``: every record the user may see, to .csv or
.xlsx, with field-name headers that ``guanxi import`` reads back."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from guanxi.common.errors import ApplicationError
from guanxi.customers.importing.exporting import customers_export
from guanxi.customers.services.imports import object_key_of

from ._common import workspace_and_user


class Command(BaseCommand):
    help = "Export contacts or accounts to a CSV or XLSX file (re-importable)."

    def add_arguments(self, parser):
        parser.add_argument("object", choices=["contacts", "accounts"])
        parser.add_argument("file", help="target .csv or .xlsx")
        parser.add_argument("--workspace", help="workspace slug (default: the only one)")
        parser.add_argument("--user", help="e-mail of the exporting user (default: an admin)")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, **options):
        workspace, user = workspace_and_user(options["workspace"], options["user"])
        started = time.monotonic()

        def progress(n):
            if not options["quiet"]:
                sys.stderr.write(f"\r{n} rows")
                sys.stderr.flush()

        try:
            count = customers_export(
                actor=user,
                workspace=workspace,
                object_key=object_key_of(options["object"]),
                path=options["file"],
                progress=progress,
            )
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from None
        if not options["quiet"]:
            sys.stderr.write("\n")
        self.stdout.write(
            f"{count} {options['object']} written to {options['file']} "
            f"in {time.monotonic() - started:.1f} s"
        )
