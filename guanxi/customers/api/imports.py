"""``/imports``: upload a CSV or XLSX file of contacts or accounts, follow the run, download
its per-row report. The same services as the import page and ``guanxi import``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from django.http import FileResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from guanxi.common.api import Id, responses
from guanxi.common.errors import NotFound

from ..models import ImportRun
from ..services import imports

router = Router()
TAGS = ["Imports"]


class ImportRunOut(Schema):
    id: int
    object: str
    file_name: str
    encoding: str
    mapping: dict[str, str]
    on_duplicate: str
    dry_run: bool
    status: str
    rows_total: int | None
    rows_done: int
    progress: int
    created: int
    updated: int
    skipped: int
    failed: int
    warnings: int
    strict: bool
    error: str
    report_url: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


def run_status(run: ImportRun) -> str:
    if run.finished_at is not None:
        return "finished"
    job = run.job
    if job is None:
        return "uploaded"
    return job.state  # queued, running, failed (succeeded implies finished)


def run_out(run: ImportRun) -> dict:
    total = run.rows_total or 0
    mapping = {k: v for k, v in (run.mapping or {}).items() if not k.startswith("@")}
    return {
        "id": run.pk,
        "object": "contacts" if run.object_key == "customers.contact" else "accounts",
        "file_name": run.file_name,
        "encoding": run.encoding,
        "mapping": {k: str(v or "") for k, v in mapping.items()},
        "on_duplicate": run.on_duplicate,
        "dry_run": run.dry_run,
        "status": run_status(run),
        "rows_total": run.rows_total,
        "rows_done": run.rows_done,
        "progress": 100
        if run.finished_at
        else (min(99, run.rows_done * 100 // total) if total else 0),
        "created": run.created,
        "updated": run.updated,
        "skipped": run.skipped,
        "failed": run.failed,
        "warnings": run.warnings,
        "strict": run.strict,
        "error": run.job.error if run.job_id and run.job.error else "",
        "report_url": f"/api/v1/imports/{run.pk}/errors" if run.error_path else None,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def _ws(request) -> dict:
    return {"actor": request.user, "workspace": request.workspace}


@router.post(
    "/imports",
    response=responses(ImportRunOut, status=202),
    tags=TAGS,
    operation_id="imports_create",
    summary="Import a CSV or XLSX file of contacts or accounts (runs in the background)",
)
def imports_create(
    request,
    file: File[UploadedFile],
    object: Form[Literal["contacts", "accounts"]],
    mapping: Form[str] = "",
    on_duplicate: Form[Literal["skip", "update", "create"]] = "create",
    dry_run: Form[bool] = False,
    owner: Form[str] = "me",
    strict: Form[bool] = False,
):
    """``mapping`` is a JSON object ``{"file column": "field"}`` for the columns the
    automatic header matching gets wrong or misses; ``owner`` is ``me``, ``pool`` or a
    user id. ``on_duplicate`` ``create`` (the default) creates rows that repeat a customer
    and flags each pair for the duplicate review; ``skip`` and ``update`` do what they say.
    A bad value of an optional field is left empty (a ``warning`` line of the report)
    unless ``strict``, which rejects the row."""
    chosen = imports.parse_mapping(mapping)
    run = imports.import_upload(
        **_ws(request),
        object_key=object,
        file_name=file.name,
        chunks=file.chunks(),
        size=file.size,
    )
    run = imports.import_start(
        **_ws(request),
        run_id=run.pk,
        mapping=chosen,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
        owner=owner,
        strict=strict,
    )
    run = imports.import_run_get(**_ws(request), run_id=run.pk)
    return Status(202, run_out(run))


@router.get(
    "/imports/{run_id}",
    response=responses(ImportRunOut),
    tags=TAGS,
    operation_id="imports_get",
    summary="An import's status, counts and progress",
)
def imports_get(request, run_id: Id):
    return run_out(imports.import_run_get(**_ws(request), run_id=run_id))


@router.get(
    "/imports/{run_id}/errors",
    response=responses(None),
    tags=TAGS,
    operation_id="imports_errors",
    summary="The import's per-row report as CSV (row, column, value, message)",
    openapi_extra={
        "responses": {200: {"description": "CSV", "content": {"text/csv": {"schema": {}}}}}
    },
)
def imports_errors(request, run_id: Id):
    run = imports.import_run_get(**_ws(request), run_id=run_id)
    path = Path(run.error_path) if run.error_path else None
    if path is None or not path.exists():
        raise NotFound()
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"import-{run.pk}-report.csv",
        content_type="text/csv; charset=utf-8",
    )
