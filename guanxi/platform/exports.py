"""The export job: writes what a list shows (its filters, sort and columns) to CSV or XLSX."""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from guanxi.common.pagination import paginate

from . import audit, jobs, permissions
from .lists import BoundList, cell_text, get_spec
from .models import Action, AuditAction, Job

BATCH = 500


def export_path(job: Job) -> Path:
    ext = job.params.get("format", "csv")
    return Path(settings.EXPORT_DIR) / str(job.workspace_id) / f"job-{job.pk}.{ext}"


@jobs.register("platform.list_export")
def run_list_export(job: Job, progress) -> dict:
    actor, workspace = job.owner, job.workspace
    spec = get_spec(job.params["list_key"])
    permissions.require(actor, spec.object_key, Action.EXPORT)
    bound = BoundList(spec, workspace=workspace, actor=actor)
    state = bound.state_from(job.params.get("params", {}))
    columns = bound.visible_columns(state)
    qs, key = bound.sort_key(bound.filtered(state), state)
    total = qs.count()
    progress(0, total, "")
    path = export_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [str(c.label) for c in columns]
    done = 0
    tmp = path.with_suffix(path.suffix + ".part")
    writer = _Writer(tmp, job.params.get("format", "csv"), header)
    cursor = None
    while True:
        page = paginate(
            qs, key=key, descending=state.descending, cursor=cursor, limit=BATCH, max_limit=BATCH
        )
        for row in page.items:
            writer.row([cell_text(c.display(row)) for c in columns])
        done += len(page.items)
        progress(done, total, "")
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    writer.close()
    tmp.replace(path)
    audit.log(
        actor=actor,
        workspace=workspace,
        action=AuditAction.EXPORT,
        object_key=spec.object_key,
        object_repr=str(spec.title),
        changes={"rows": [None, done], "format": [None, job.params.get("format")]},
    )
    return {"rows": done, "url": reverse("platform:export_download", args=[job.pk])}


class _Writer:
    def __init__(self, path: Path, fmt: str, header: list[str]):
        self.fmt = fmt
        self.path = path
        if fmt == "xlsx":
            from openpyxl import Workbook

            self.book = Workbook(write_only=True)
            self.sheet = self.book.create_sheet()
            self.sheet.append(header)
        else:
            # UTF-8 with BOM so Excel on Chinese Windows opens it without mojibake.
            self.file = open(path, "w", newline="", encoding="utf-8-sig")  # noqa: SIM115
            self.csv = csv.writer(self.file)
            self.csv.writerow(header)

    def row(self, values: list[str]) -> None:
        # A cell that starts like a formula would run in a spreadsheet; quote it.
        values = ["'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v for v in values]
        if self.fmt == "xlsx":
            self.sheet.append(values)
        else:
            self.csv.writerow(values)

    def close(self) -> None:
        if self.fmt == "xlsx":
            self.book.save(self.path)
        else:
            self.file.close()
