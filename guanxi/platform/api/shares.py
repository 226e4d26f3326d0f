"""``/shares``: records shared with a user or a team beyond what their role lets them see."""

from __future__ import annotations

from ninja import Query, Status

from guanxi.common.api import Id, PageParams, page_of, page_response, responses

from .. import selectors, services
from ..models import RecordShare
from ..schemas import ShareCreateIn, ShareFilters, ShareOut
from .common import _ref_team, _ref_user, _ws, router


def _share_data(share: RecordShare) -> dict:
    return {
        "id": share.pk,
        "object_key": share.object_key,
        "object_id": share.object_id,
        "user": _ref_user(share.user),
        "team": _ref_team(share.team),
        "can_edit": share.can_edit,
        "created_at": share.created_at,
    }


@router.get(
    "/shares",
    response=responses(page_of(ShareOut)),
    tags=["Sharing"],
    operation_id="shares_list",
    summary="Who one record is shared with",
)
def shares_list(request, filters: Query[ShareFilters], page: Query[PageParams]):
    qs = selectors.record_shares(**_ws(request), **filters.dict())
    return page_response(qs, page, _share_data, key="pk")


@router.post(
    "/shares",
    response=responses(ShareOut, status=201),
    tags=["Sharing"],
    operation_id="shares_create",
    summary="Share a record with a user or a team (needs the right to change the record)",
)
def shares_create(request, payload: ShareCreateIn):
    share = services.record_share(**_ws(request), **payload.dict())
    return Status(201, _share_data(share))


@router.delete(
    "/shares/{share_id}",
    response=responses(None, status=204),
    tags=["Sharing"],
    operation_id="shares_delete",
    summary="Stop sharing a record with someone (needs the right to change the record)",
)
def shares_delete(request, share_id: Id):
    services.record_unshare(**_ws(request), share_id=share_id)
    return Status(204, None)
