"""Export of contacts or accounts to CSV or XLSX with field-name headers, so the file
imports back unchanged (``guanxi export`` then ``guanxi import``).

Rows stream from the database (``iterator``) to the file; only the records the actor may
see, without the fields their role hides; cells that start like a formula are quoted as
the list export does (the importer removes that quote again).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError
from guanxi.platform import audit, custom_fields, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from .. import cleaning, selectors

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    return "'" + text if text[:1] in FORMULA_START else text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def export_columns(*, actor: User, workspace: Workspace, object_key: str):
    hidden = permissions.hidden_fields(actor, object_key)
    fields = [f for f in cleaning.columns_for(object_key) if f not in hidden]
    customs = [
        d.key
        for d in custom_fields.definitions(workspace, object_key)
        if f"custom.{d.key}" not in hidden
    ]
    return fields, customs


def customers_export(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    path: Path | str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the visible records to ``path`` (.csv or .xlsx); returns the row count."""
    if actor.workspace_id != workspace.pk:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    permissions.require(actor, object_key, Action.EXPORT)
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise ApplicationError(_("Export to a .csv or .xlsx file."), code="invalid_format")
    fields, customs = export_columns(actor=actor, workspace=workspace, object_key=object_key)
    if object_key == cleaning.CONTACT_KEY:
        qs = selectors.contact_list(workspace=workspace, actor=actor)
    else:
        qs = selectors.account_list(workspace=workspace, actor=actor)
    qs = qs.select_related(None).order_by("pk").values_list(*fields, "custom")
    header = fields + customs
    tmp = path.with_name(path.name + ".part")
    count = 0
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        write = sheet.append
    else:
        handle = open(tmp, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        write = csv.writer(handle).writerow
    try:
        write(header)
        n = len(fields)
        for values in qs.iterator(chunk_size=2000):
            custom = values[n] or {}
            cells = [_cell(v) for v in values[:n]] + [_cell(custom.get(k)) for k in customs]
            write([neutralise(c) for c in cells])
            count += 1
            if progress and count % 10000 == 0:
                progress(count)
    finally:
        if fmt == "xlsx":
            book.save(tmp)
        else:
            handle.close()
    tmp.replace(path)
    with transaction.atomic():
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.EXPORT,
            object_key=object_key,
            object_repr=path.name,
            changes={"rows": [None, count], "format": [None, fmt], "via": [None, "cli"]},
        )
    return count
