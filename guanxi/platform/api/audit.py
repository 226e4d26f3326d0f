"""``/audit``: the workspace's audit log and one record's history."""

from __future__ import annotations

from ninja import Query

from guanxi.common.api import Id, PageParams, page_from_list, page_of, page_response, responses
from guanxi.common.errors import NotFound

from .. import registry, selectors
from ..models import AuditEntry
from ..schemas import AuditFilters, AuditOut, ObjectKey
from .common import _ref_user, _ws, router


def _audit_data(entry: AuditEntry) -> dict:
    return {
        "id": entry.pk,
        "created_at": entry.created_at,
        "actor": _ref_user(entry.actor),
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_key": entry.object_key,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes or {},
        "ip_address": entry.ip_address,
    }


@router.get(
    "/audit",
    response=responses(page_of(AuditOut)),
    tags=["Audit"],
    operation_id="audit_list",
    summary="The workspace's audit log, newest first (roles with read on it)",
)
def audit_list(request, filters: Query[AuditFilters], page: Query[PageParams]):
    qs = selectors.audit_list(**_ws(request), **filters.dict())
    return page_response(qs, page, _audit_data, key="pk", descending=True)


@router.get(
    "/audit/{object_key}/{object_id}",
    response=responses(page_of(AuditOut)),
    tags=["Audit"],
    operation_id="audit_record_history",
    summary="One record's history, newest first",
)
def audit_record_history(request, object_key: ObjectKey, object_id: Id, page: Query[PageParams]):
    if registry.find(object_key) is None:
        raise NotFound()
    entries = selectors.record_history(**_ws(request), object_key=object_key, object_id=object_id)
    if not entries:
        # Nothing was ever recorded for this id here: as far as the caller knows it is not there.
        raise NotFound()
    return page_from_list(entries, page, sort_key=lambda e: (-e.pk,), serialize=_audit_data)
