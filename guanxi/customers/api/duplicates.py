"""``/duplicates``: candidate pairs of the duplicate scan, the as-you-type check, merges."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, JsonObject, PageParams, page_of, page_response, responses, text
from guanxi.common.errors import NotFound
from guanxi.platform import permissions

from .. import selectors
from ..dedupe import matching
from ..dedupe.check import likely_matches
from ..models import CandidateStatus, DuplicateCandidate
from ..services import duplicates as duplicates_service
from ..services import merge

router = Router()

ObjectName = Literal["contacts", "accounts"]
KEYS = {"contacts": matching.CONTACT, "accounts": matching.ACCOUNT}
TAGS = ["Duplicates"]


def _ws(request: HttpRequest) -> dict:
    return {"actor": request.user, "workspace": request.workspace}


class CandidateOut(Schema):
    id: int
    object: str
    left_id: int
    right_id: int
    score: float
    reasons: list[str]
    status: str


class CandidateFilters(Schema):
    object: ObjectName = "contacts"


class ScanIn(Schema):
    objects: list[ObjectName] = Field(default_factory=lambda: ["contacts", "accounts"])
    threshold: float = Field(matching.DEFAULT_THRESHOLD, ge=0, le=1)


class JobOut(Schema):
    id: int
    kind: str
    state: str


class MergeIn(Schema):
    survivor_id: Id
    merged_id: Id
    choices: JsonObject = Field(default_factory=dict)


class MergedOut(Schema):
    id: int
    code: str
    name: str


class MatchOut(Schema):
    id: int
    code: str
    name: str
    score: float
    reasons: list[str]


class CheckIn(Schema):
    object: ObjectName = "contacts"
    name: text(200) = ""
    first_name: text(100) = ""
    last_name: text(100) = ""
    mobile: text(32) = ""
    phone: text(32) = ""
    email: text(254) = ""
    company: text(200) = ""
    city: text(60) = ""


def _object_name(key: str) -> str:
    return "contacts" if key == matching.CONTACT else "accounts"


@router.get(
    "/duplicates",
    response=responses(page_of(CandidateOut)),
    tags=TAGS,
    operation_id="duplicates_list",
    summary="Open duplicate candidates, best first by id",
)
def duplicates_list(request, filters: Query[CandidateFilters], page: Query[PageParams]):
    key = KEYS[filters.object]
    permissions.require(request.user, key, "read")
    visible = (
        selectors.contact_list(**_ws(request))
        if key == matching.CONTACT
        else selectors.account_list(**_ws(request))
    ).values("pk")
    qs = DuplicateCandidate.objects.in_workspace(request.workspace).filter(
        object_key=key,
        status=CandidateStatus.OPEN,
        left_id__in=visible,
        right_id__in=visible,
    )
    return page_response(
        qs,
        page,
        lambda c: {
            "id": c.pk,
            "object": _object_name(c.object_key),
            "left_id": c.left_id,
            "right_id": c.right_id,
            "score": c.score,
            "reasons": c.reasons,
            "status": c.status,
        },
    )


@router.post(
    "/duplicates/scan",
    response=responses(JobOut, status=202),
    tags=TAGS,
    operation_id="duplicates_scan",
    summary="Start a full duplicate scan (a background job)",
)
def duplicates_scan(request, payload: ScanIn):
    job = duplicates_service.duplicate_scan_start(
        **_ws(request),
        object_keys=[KEYS[o] for o in payload.objects],
        threshold=payload.threshold,
    )
    return Status(202, {"id": job.pk, "kind": job.kind, "state": job.state})


@router.post(
    "/duplicates/{candidate_id}/dismiss",
    response=responses(CandidateOut),
    tags=TAGS,
    operation_id="duplicates_dismiss",
    summary="Mark a pair as not a duplicate",
)
def duplicates_dismiss(request, candidate_id: Id):
    c = merge.candidate_dismiss(**_ws(request), candidate_id=candidate_id)
    return {
        "id": c.pk,
        "object": _object_name(c.object_key),
        "left_id": c.left_id,
        "right_id": c.right_id,
        "score": c.score,
        "reasons": c.reasons,
        "status": c.status,
    }


@router.get(
    "/duplicates/check",
    response=responses(list[MatchOut]),
    tags=TAGS,
    operation_id="duplicates_check",
    summary="Likely existing matches of a record being entered",
)
def duplicates_check(request, params: Query[CheckIn]):
    key = KEYS[params.object]
    permissions.require(request.user, key, "read")
    values = params.dict()
    values.pop("object")
    found = likely_matches(**_ws(request), object_key=key, values=values)
    return [
        {"id": r.pk, "code": r.code, "name": r.name, "score": round(s, 4), "reasons": rs}
        for r, s, rs in found
    ]


def _merged(record) -> dict:
    if record is None:
        raise NotFound()
    return {"id": record.pk, "code": record.code, "name": record.name}


@router.post(
    "/contacts/merge",
    response=responses(MergedOut),
    tags=TAGS,
    operation_id="contacts_merge",
    summary="Merge one contact into another",
)
def contacts_merge(request, payload: MergeIn):
    return _merged(merge.contact_merge(**_ws(request), **payload.dict()))


@router.post(
    "/accounts/merge",
    response=responses(MergedOut),
    tags=TAGS,
    operation_id="accounts_merge",
    summary="Merge one account into another",
)
def accounts_merge(request, payload: MergeIn):
    return _merged(merge.account_merge(**_ws(request), **payload.dict()))
