"""Importing leads from a CSV or XLSX file, as a background job with progress.

The file is read with the customers' reader (encodings detected: UTF-8 with or without
BOM, GB18030; delimiter sniffed; XLSX first sheet). Columns are matched by their header
(English or Chinese names). The import is all or nothing: every row is checked first and
all row errors are reported (row number, field, message); only a file without errors is
written, in one transaction. Imported leads are scored and assigned like any other.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, FieldErrors
from guanxi.customers.importing import reader
from guanxi.platform import jobs, permissions
from guanxi.platform.models import Action, Job, User, Workspace

from ..models import LeadScoringRule, LeadSource
from ..objects import LEAD
from ..selectors import leads as lead_selectors
from . import leads as lead_services

JOB_KIND = "sales.leads_import"
MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS = 200

# Header (lower-cased, spaces removed) → lead field.
HEADERS = {
    "name": "name", "姓名": "name", "名字": "name", "联系人": "name", "contact": "name",
    "company": "company", "公司": "company", "公司名称": "company", "单位": "company",
    "title": "title", "jobtitle": "title", "职位": "title", "职务": "title",
    "phone": "phone", "mobile": "phone", "电话": "phone", "手机": "phone", "手机号": "phone",
    "email": "email", "e-mail": "email", "邮箱": "email", "电子邮件": "email",
    "industry": "industry", "行业": "industry",
    "employees": "employees", "员工数": "employees", "人数": "employees",
    "region": "region", "区域": "region", "地区": "region",
    "province": "province", "省份": "province", "省": "province",
    "city": "city", "城市": "city",
    "interest": "interest", "意向": "interest", "感兴趣": "interest",
    "message": "message", "备注": "message", "留言": "message", "notes": "message",
    "campaign": "campaign", "活动": "campaign",
    "source": "source", "来源": "source",
}  # fmt: skip


def import_dir(workspace_id: int) -> Path:
    base = Path(getattr(settings, "IMPORT_DIR", settings.VAR_DIR / "imports"))
    path = base / str(workspace_id) / "leads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def mapping_for(headers: list[str]) -> dict[int, str]:
    """Column index → lead field, by header; the first column of a field wins."""
    out: dict[int, str] = {}
    taken = set()
    for index, header in enumerate(headers):
        name = HEADERS.get("".join(str(header or "").lower().split()))
        if name and name not in taken:
            out[index] = name
            taken.add(name)
    return out


def lead_import_start(
    *,
    actor: User,
    workspace: Workspace,
    file_name: str,
    chunks,
    campaign: str = "",
) -> Job:
    """Store the uploaded file, check its header, and start the import job."""
    permissions.require(actor, LEAD, Action.CREATE)
    name = Path(str(file_name or "leads.csv")).name[:200] or "leads.csv"
    path = import_dir(workspace.pk) / f"{uuid.uuid4().hex}-{name}"
    size = 0
    with open(path, "wb") as f:
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_BYTES:
                f.close()
                path.unlink(missing_ok=True)
                raise ApplicationError(_("The file is larger than 50 MB."), code="file_too_large")
            f.write(chunk)
    try:
        table = reader.open_table(path)
        mapping = mapping_for(table.headers)
        if "name" not in mapping.values():
            raise ApplicationError(
                _("No column for the name: name one column “name” or “姓名”."),
                code="no_name_column",
            )
    except ApplicationError:
        path.unlink(missing_ok=True)
        raise
    campaign = str(campaign or "").strip()[:120]
    return jobs.job_start(
        actor=actor,
        workspace=workspace,
        kind=JOB_KIND,
        params={"path": str(path), "file_name": name, "campaign": campaign},
    )


def _row_values(cells: list, mapping: dict[int, str], campaign: str) -> dict:
    values = {}
    for index, name in mapping.items():
        cell = cells[index] if index < len(cells) else None
        values[name] = "" if cell is None else str(cell).strip()
    if campaign and not values.get("campaign"):
        values["campaign"] = campaign
    source = values.pop("source", "")
    values["source"] = source if source in LeadSource.values else LeadSource.IMPORT
    if isinstance(values.get("employees"), str) and values["employees"].endswith(".0"):
        values["employees"] = values["employees"][:-2]  # XLSX numbers
    return values


def run_import(job: Job, progress) -> dict:
    """The job: check every row, then write all of them or none."""
    path = Path(job.params["path"])
    actor = job.owner
    workspace = job.workspace
    if actor is None or not permissions.can(actor, LEAD, Action.CREATE):
        raise ApplicationError(_("You may no longer create leads."), code="permission_denied")
    table = reader.open_table(path)
    mapping = mapping_for(table.headers)
    campaign = job.params.get("campaign", "")
    total = table.count_rows()
    rows: list[tuple[int, dict]] = []
    errors: list[dict] = []
    for number, cells in table.rows():
        if not any(c not in (None, "") for c in cells):
            continue
        values = _row_values(cells, mapping, campaign)
        row_errors = FieldErrors()
        lead_services.clean_values(values, errors=row_errors)
        for field_name, messages in row_errors.fields.items():
            for message in messages:
                if len(errors) < MAX_ERRORS:
                    errors.append({"row": number, "field": field_name, "message": str(message)})
        rows.append((number, values))
        if len(rows) > MAX_ROWS:
            raise ApplicationError(
                _("The file has more than %(n)s rows; split it.") % {"n": MAX_ROWS},
                code="too_many_rows",
            )
        if len(rows) % 200 == 0:
            progress(len(rows), (total or 0) * 2, gettext("Checking row %(n)s") % {"n": number})
    if errors:
        path.unlink(missing_ok=True)
        lines = "; ".join(
            gettext("row %(row)s, %(field)s: %(message)s") % e for e in errors[:MAX_ERRORS]
        )
        raise ApplicationError(
            gettext("Nothing was imported: %(n)s rows have errors. %(errors)s")
            % {"n": len({e["row"] for e in errors}), "errors": lines},
            code="row_errors",
        )
    created = 0
    scoring = (
        list(LeadScoringRule.objects.in_workspace(workspace).filter(active=True)),
        lead_selectors.active_model(workspace=workspace),
    )
    with transaction.atomic():
        for _number, values in rows:
            lead_services.create_lead(
                workspace=workspace,
                actor=actor,
                values=values,
                source=values["source"],
                scoring=scoring,
            )
            created += 1
            if created % 200 == 0:
                progress(
                    len(rows) + created, len(rows) * 2, gettext("Imported %(n)s") % {"n": created}
                )
    path.unlink(missing_ok=True)
    progress(len(rows) * 2, len(rows) * 2, gettext("Imported %(n)s leads") % {"n": created})
    from django.urls import reverse

    return {
        "created": created,
        "url": reverse("sales:lead_list"),
        "label": gettext("Open the leads"),
    }


def check_rows(*, workspace, path) -> list[dict]:
    """Every row error of a file (used by the job and by tests): ``[{row, field, message}]``."""
    table = reader.open_table(path)
    mapping = mapping_for(table.headers)
    out = []
    for number, cells in table.rows():
        if not any(c not in (None, "") for c in cells):
            continue
        row_errors = FieldErrors()
        lead_services.clean_values(_row_values(cells, mapping, ""), errors=row_errors)
        for field_name, messages in row_errors.fields.items():
            out.extend({"row": number, "field": field_name, "message": str(m)} for m in messages)
    return out
