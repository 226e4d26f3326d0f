"""Imports of contacts and accounts: upload a file, choose the mapping, start the run.

The run itself (batches, duplicates, checkpoint, report) is ``importing.runner``; the page,
the API and the CLI all go through these functions.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.platform import audit, custom_fields, jobs, permissions
from guanxi.platform.models import Action, User, Workspace

from .. import cleaning
from ..importing import reader, runner
from ..models import DuplicatePolicy, ImportMapping, ImportRun

OBJECT_KEYS = {
    "contacts": cleaning.CONTACT_KEY,
    "accounts": cleaning.ACCOUNT_KEY,
    cleaning.CONTACT_KEY: cleaning.CONTACT_KEY,
    cleaning.ACCOUNT_KEY: cleaning.ACCOUNT_KEY,
}
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024
JOB_KIND = "customers.import"


def object_key_of(name: str) -> str:
    try:
        return OBJECT_KEYS[name]
    except KeyError:
        raise ApplicationError(
            _("Import contacts or accounts."), code="invalid_object", fields={"object": []}
        ) from None


def _check_workspace(actor: User, workspace: Workspace) -> None:
    if actor.workspace_id != workspace.pk:
        raise NotFound()


def auto_mapping(*, workspace, object_key: str, headers: list[str]) -> dict[str, str]:
    defs = custom_fields.definitions(workspace, object_key)
    return cleaning.match_headers(headers, object_key, defs)


def import_upload(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    file_name: str,
    chunks,
    size: int | None = None,
) -> ImportRun:
    """Store an uploaded file and read its header: an unstarted run with the detected
    encoding and the automatic mapping. ``chunks`` is an iterable of bytes."""
    _check_workspace(actor, workspace)
    object_key = object_key_of(object_key)
    permissions.require(actor, object_key, Action.CREATE)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ApplicationError(_("The file is larger than 1 GB."), code="file_too_large")
    name = Path(str(file_name or "import.csv")).name[:200] or "import.csv"
    path = runner.import_dir(workspace.pk) / f"{uuid.uuid4().hex}-{name}"
    with open(path, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
    try:
        table = reader.open_table(path)
    except ApplicationError:
        path.unlink(missing_ok=True)
        raise
    mapping = auto_mapping(workspace=workspace, object_key=object_key, headers=table.headers)
    with transaction.atomic():
        run = ImportRun.objects.create(
            workspace=workspace,
            object_key=object_key,
            file_name=name,
            file_path=str(path),
            encoding=table.encoding,
            mapping=mapping,
            created_by=actor,
        )
    return run


def import_upload_path(
    *, actor: User, workspace: Workspace, object_key: str, path: Path | str
) -> ImportRun:
    """``import_upload`` of a file on this machine (the CLI); the file is copied."""
    path = Path(path)
    if not path.is_file():
        raise ApplicationError(_("There is no file %(path)s.") % {"path": str(path)})
    _check_workspace(actor, workspace)
    object_key = object_key_of(object_key)
    permissions.require(actor, object_key, Action.CREATE)
    target = runner.import_dir(workspace.pk) / f"{uuid.uuid4().hex}-{path.name[:200]}"
    shutil.copyfile(path, target)
    try:
        table = reader.open_table(target)
    except ApplicationError:
        target.unlink(missing_ok=True)
        raise
    mapping = auto_mapping(workspace=workspace, object_key=object_key, headers=table.headers)
    return ImportRun.objects.create(
        workspace=workspace,
        object_key=object_key,
        file_name=path.name[:255],
        file_path=str(target),
        encoding=table.encoding,
        mapping=mapping,
        created_by=actor,
    )


def parse_mapping(value: Any) -> dict[str, str]:
    """A mapping from JSON text or a dict: ``{"file column": "field"}``."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ApplicationError(
                _("The mapping must be a JSON object of column and field."),
                code="invalid_mapping",
                fields={"mapping": []},
            ) from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in value.items()
    ):
        raise ApplicationError(
            _("The mapping must be a JSON object of column and field."),
            code="invalid_mapping",
            fields={"mapping": []},
        )
    return {k: v or "" for k, v in value.items() if "\x00" not in k + (v or "")}


def import_start(
    *,
    actor: User,
    workspace: Workspace,
    run_id: int,
    mapping: dict[str, str] | None = None,
    on_duplicate: str = DuplicatePolicy.CREATE,
    dry_run: bool = False,
    owner: str | int = "me",
    strict: bool = False,
    background: bool = True,
) -> ImportRun:
    """Fix the run's settings and start it as the background job ``customers.import``
    (or, with ``background=False``, leave it to the caller to run: the CLI).

    ``mapping`` replaces the automatic one for the columns it names; ``owner`` is "me",
    "pool" or a user id of the workspace.

    By default (``create``) rows that repeat a customer are created and flagged as
    duplicate candidates for review, and a bad value of an optional field is left empty
    (a warning in the report); ``strict`` rejects such rows instead.
    """
    run = import_run_get(actor=actor, workspace=workspace, run_id=run_id)
    if on_duplicate not in DuplicatePolicy.values:
        raise ApplicationError(
            _("Choose skip, update or create for duplicates."),
            code="invalid_policy",
            fields={"on_duplicate": []},
        )
    if run.job_id is not None or run.rows_done or run.finished_at:
        raise ApplicationError(_("This import was already started."), code="already_started")
    table = reader.open_table(run.file_path, encoding=run.encoding)
    columns = dict(run.mapping or {})
    columns.pop(runner.OPTIONS_KEY, None)
    for column, target in (mapping or {}).items():
        if column in table.headers:
            columns[column] = cleaning.INPUT_ALIASES.get(target, target)
    owner_id = _owner(actor, workspace, owner, run.object_key)
    fields = {f for f in columns.values() if f}
    runner.require_rights(actor, run.object_key, on_duplicate, fields)
    with transaction.atomic():
        run.mapping = {**columns, runner.OPTIONS_KEY: {"owner": owner_id}}
        run.strict = bool(strict)
        run.on_duplicate = on_duplicate
        run.dry_run = bool(dry_run)
        # Checks the mapping (known fields, not twice) before anything is queued.
        importer = runner.Importer(run)
        importer._columns(table.headers, runner.column_mapping(run))
        if background:
            run.job = jobs.job_start(
                actor=actor,
                workspace=workspace,
                kind=JOB_KIND,
                params={"run_id": run.pk},
                idempotency_key=f"customers.import:{run.pk}",
            )
        run.save(
            update_fields=["mapping", "strict", "on_duplicate", "dry_run", "job", "updated_at"]
        )
    return run


def _owner(actor: User, workspace: Workspace, owner, object_key: str) -> str | int:
    if owner in (None, "", "me"):
        return "me"
    if owner == "pool":
        return "pool"
    try:
        user = User.objects.get(pk=int(owner), workspace=workspace, is_active=True)
    except (User.DoesNotExist, TypeError, ValueError):
        raise ApplicationError(
            _("Choose an active user of this workspace as the owner."),
            code="invalid_owner",
            fields={"owner": []},
        ) from None
    if user.pk != actor.pk:
        # Handing many new customers to someone else is a bulk assignment.
        permissions.require(actor, object_key, Action.BULK)
    return user.pk


def import_run_get(*, actor: User, workspace: Workspace, run_id) -> ImportRun:
    """One run the actor may see: their own, or any of the workspace for administrators.
    Another workspace's run is ``NotFound``."""
    _check_workspace(actor, workspace)
    try:
        run_id = int(run_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    qs = ImportRun.objects.in_workspace(workspace).select_related("job", "created_by")
    if not actor.role.is_admin:
        qs = qs.filter(created_by=actor)
    run = qs.filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    return run


def import_run_list(*, actor: User, workspace: Workspace):
    _check_workspace(actor, workspace)
    qs = ImportRun.objects.in_workspace(workspace).select_related("job", "created_by")
    if not actor.role.is_admin:
        qs = qs.filter(created_by=actor)
    return qs.order_by("-id")


def import_mapping_save(
    *, actor: User, workspace: Workspace, object_key: str, name: str, mapping: dict[str, str]
) -> ImportMapping:
    """Save (or replace) a named mapping of file columns to fields."""
    _check_workspace(actor, workspace)
    object_key = object_key_of(object_key)
    permissions.require(actor, object_key, Action.CREATE)
    name = (name or "").strip()
    if not name or len(name) > 80 or "\x00" in name:
        raise ApplicationError(
            _("Name the mapping (at most 80 characters)."),
            code="invalid_name",
            fields={"name": [_("Name the mapping (at most 80 characters).")]},
        )
    mapping = parse_mapping(mapping)
    with transaction.atomic():
        saved, created = ImportMapping.objects.update_or_create(
            workspace=workspace,
            object_key=object_key,
            name=name,
            defaults={"mapping": mapping, "created_by": actor},
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action="create" if created else "update",
            object_key="customers.importmapping",
            object_id=saved.pk,
            object_repr=name,
            changes={"mapping": [None, mapping]},
        )
    return saved


def import_mappings(*, actor: User, workspace: Workspace, object_key: str):
    _check_workspace(actor, workspace)
    return ImportMapping.objects.in_workspace(workspace).filter(
        object_key=object_key_of(object_key)
    )
