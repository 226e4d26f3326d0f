"""``guanxi dedupe [--workspace SLUG] [--objects contacts|accounts] [--threshold X]
[--export FILE.csv]``: the full duplicate scan in the foreground, with progress."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from guanxi.customers.dedupe import matching
from guanxi.customers.dedupe.scan import scan_workspace, write_export
from guanxi.platform.models import Workspace

OBJECTS = {"contacts": matching.CONTACT, "accounts": matching.ACCOUNT}


class Command(BaseCommand):
    help = "Scan for duplicate customers, write the candidates, optionally export the pairs."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="Workspace slug (default: the only one).")
        parser.add_argument("--objects", choices=sorted(OBJECTS), default="contacts")
        parser.add_argument("--threshold", type=float, default=matching.DEFAULT_THRESHOLD)
        parser.add_argument("--export", metavar="FILE.csv", help="Write code_a,code_b,score.")

    def handle(self, *args, **options):
        workspaces = Workspace.objects.all()
        if options["workspace"]:
            workspaces = workspaces.filter(slug=options["workspace"])
        workspaces = list(workspaces[:2])
        if not workspaces:
            raise CommandError("No such workspace.")
        if len(workspaces) > 1:
            raise CommandError("Several workspaces: choose one with --workspace SLUG.")
        workspace = workspaces[0]
        if not 0.0 <= options["threshold"] <= 1.0:
            raise CommandError("--threshold must be between 0 and 1.")
        object_key = OBJECTS[options["objects"]]
        quiet = options["verbosity"] == 0
        last = [0.0]

        def progress(done, total=None, message=""):
            now = time.monotonic()
            if quiet or now - last[0] < 1.0:
                return
            last[0] = now
            pct = f"{100 * done / total:5.1f}%" if total else ""
            sys.stderr.write(f"\r{pct} {message}   ")
            sys.stderr.flush()

        started = time.perf_counter()
        stats = scan_workspace(workspace, object_key, progress, threshold=options["threshold"])
        if not quiet:
            sys.stderr.write("\n")
        if options["export"]:
            write_export(options["export"], stats["pairs"])
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{stats['records']} records, {stats['candidate_pairs']} compared pairs, "
            f"{stats['matches']} candidates (read {stats['read_seconds']}s, "
            f"block {stats['block_seconds']}s, score {stats['score_seconds']}s, "
            f"write {stats['write_seconds']}s; total {elapsed:.1f}s)"
        )
