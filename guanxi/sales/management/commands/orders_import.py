"""``guanxi import orders FILE`` (or ``guanxi orders_import FILE``): import orders from a CSV
file in the foreground, through the same service as the page and the API
(``services.order_import``): the same checks, batches, checkpoint and error report.
``--returns refuse|skip|credit`` says what becomes of lines with a negative quantity or
amount, ``--create-customers`` makes an account for each unknown customer code.
``--run ID`` resumes an interrupted import."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from guanxi.common.errors import ApplicationError
from guanxi.platform.models import User, Workspace
from guanxi.sales.services import order_import


def workspace_and_user(slug: str | None, email: str | None) -> tuple[Workspace, User]:
    if slug:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"There is no workspace “{slug}”.")
    else:
        workspaces = list(Workspace.objects.all()[:2])
        if len(workspaces) != 1:
            raise CommandError("There are several workspaces (or none): name one with --workspace.")
        workspace = workspaces[0]
    users = User.objects.in_workspace(workspace).filter(is_active=True).select_related("role")
    user = (
        users.filter(email__iexact=email).first()
        if email
        else users.filter(role__is_admin=True).order_by("pk").first()
    )
    if user is None:
        raise CommandError("No such active user (or no administrator): name one with --user.")
    return workspace, user


class Command(BaseCommand):
    help = "Import orders from a CSV file (customer code, date, product, quantity, amount…)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="CSV file (not with --run)")
        parser.add_argument(
            "--create-products", action="store_true", help="create unknown product codes"
        )
        parser.add_argument(
            "--create-customers",
            action="store_true",
            help="create an account (code and name = the code, owned by the user) for each "
            "unknown customer code",
        )
        parser.add_argument(
            "--returns",
            choices=list(order_import.RETURNS),
            default=order_import.REFUSE,
            help="lines with a negative quantity or amount: refuse (report them and leave "
            "their order out; the default), skip (leave them out, import the rest of their "
            "order) or credit (import them as credit lines that reduce revenue)",
        )
        parser.add_argument(
            "--owed",
            action="store_true",
            help="the orders are owed until invoiced (default: past sales, settled)",
        )
        parser.add_argument("--workspace", help="workspace slug (default: the only one)")
        parser.add_argument("--user", help="e-mail of the importing user (default: an admin)")
        parser.add_argument("--run", type=int, help="resume this interrupted import")
        parser.add_argument("--quiet", action="store_true", help="no progress line")

    def handle(self, *args, **options):
        workspace, user = workspace_and_user(options.get("workspace"), options.get("user"))
        translation.activate(user.language or workspace.language or "en")
        started = time.monotonic()
        try:
            if options.get("run"):
                run = order_import.order_import_get(
                    actor=user, workspace=workspace, import_id=options["run"]
                )
            else:
                if not options.get("file"):
                    raise CommandError("Name the FILE to import (or --run ID to resume).")
                run = order_import.order_import_create(
                    actor=user,
                    workspace=workspace,
                    file_name=options["file"].rsplit("/", 1)[-1],
                    source=options["file"],
                    create_products=options.get("create_products", False),
                    settled=not options.get("owed", False),
                    returns=options.get("returns") or order_import.REFUSE,
                    create_customers=options.get("create_customers", False),
                )
            self.stdout.write(f"import {run.pk}: {run.file_name}, {run.lines_total} lines")
            progress = None if options.get("quiet") else self._progress(started)
            run = order_import.order_import_execute(run=run, progress=progress)
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message}{' (' + detail + ')' if detail else ''}") from None
        elapsed = time.monotonic() - started
        if not options.get("quiet"):
            sys.stderr.write("\n")
        rate = run.lines_done / elapsed if elapsed else 0
        self.stdout.write(
            f"lines {run.lines_done}: {run.orders_created} orders, {run.lines_created} lines, "
            f"{run.products_created} products created, {run.customers_created} customers "
            f"created, {run.failed} bad lines, {run.skipped} return lines skipped "
            f"in {elapsed:.1f} s ({rate:,.0f} lines/s)"
        )
        if run.failed:
            self.stdout.write(f"report: {run.error_path}")

    def _progress(self, started):
        def show(done, total=None, message=""):
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0
            of = f"/{total}" if total else ""
            sys.stderr.write(f"\r{done}{of} lines, {rate:,.0f} lines/s  {message}   ")
            sys.stderr.flush()

        return show
