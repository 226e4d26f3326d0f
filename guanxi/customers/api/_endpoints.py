"""The endpoints accounts and contacts share, registered once per resource: list, get,
create, patch, delete, stage moves and their history, tags, further addresses, phones and
e-mails. Every one calls the record services, as the pages do."""

from ninja import Query, Router, Status

from guanxi.common.api import Id, PageParams, page_of, page_response, responses

from ..models import Address, ContactPoint
from ..schemas import (
    AddressIn,
    AddressOut,
    PointIn,
    PointOut,
    StageChangeIn,
    StageChangeOut,
    TagsIn,
)
from ..services import records
from . import _records as R


def register(
    router: Router,
    *,
    object_key: str,
    path: str,
    tag: str,
    prefix: str,
    out,
    create_in,
    update_in,
    filters,
    label: str,
) -> None:
    """Add the resource's operations to ``router`` (``prefix`` names their operation ids)."""
    create = records.account_create if object_key == R.ACCOUNT else records.contact_create
    update = records.account_update if object_key == R.ACCOUNT else records.contact_update
    delete = records.account_delete if object_key == R.ACCOUNT else records.contact_delete
    id_arg = "account_id" if object_key == R.ACCOUNT else "contact_id"
    tags = [tag]

    @router.get(
        path,
        response=responses(page_of(out)),
        tags=tags,
        operation_id=f"{prefix}_list",
        summary=f"List {label}s (search, filters, cursor pages)",
        exclude_unset=True,
    )
    def list_records(request, filters: Query[filters], page: Query[PageParams]):
        qs = R.filtered(request, object_key, filters)
        keys = R.active_custom_keys(request.workspace, object_key)
        return page_response(
            qs,
            page,
            lambda row: R.record_data(
                row, object_key=object_key, actor=request.user, custom_keys=keys
            ),
            key=filters.sort.lstrip("-"),
            descending=filters.sort.startswith("-"),
        )

    @router.get(
        f"{path}/{{record_id}}",
        response=responses(out),
        tags=tags,
        operation_id=f"{prefix}_get",
        summary=f"Get a {label} with its addresses, phones, e-mails and tags",
        exclude_unset=True,
    )
    def get_record(request, record_id: Id):
        return R.record_out(request, object_key, record_id)

    @router.post(
        path,
        response=responses(out, status=201),
        tags=tags,
        operation_id=f"{prefix}_create",
        summary=f"Create a {label} (409 owned_by_other when another rep owns it)",
        exclude_unset=True,
    )
    def create_record(request, payload: create_in):
        record = create(**R.ws(request), **payload.model_dump(exclude_unset=True))
        return Status(201, R.record_out(request, object_key, record.pk))

    @router.patch(
        f"{path}/{{record_id}}",
        response=responses(out),
        tags=tags,
        operation_id=f"{prefix}_update",
        summary=f"Change a {label} (only the fields sent)",
        exclude_unset=True,
    )
    def update_record(request, record_id: Id, payload: update_in):
        update(**R.ws(request), **{id_arg: record_id}, **payload.changes())
        return R.record_out(request, object_key, record_id)

    @router.delete(
        f"{path}/{{record_id}}",
        response=responses(None, status=204),
        tags=tags,
        operation_id=f"{prefix}_delete",
        summary=f"Delete a {label}",
    )
    def delete_record(request, record_id: Id):
        delete(**R.ws(request), **{id_arg: record_id})
        return Status(204, None)

    @router.post(
        f"{path}/{{record_id}}/stage",
        response=responses(out),
        tags=tags,
        operation_id=f"{prefix}_stage_change",
        summary=f"Move a {label}'s lifecycle or loyalty stage",
        exclude_unset=True,
    )
    def stage_change(request, record_id: Id, payload: StageChangeIn):
        R.get_one(request, object_key, record_id)
        records.stage_change(
            **R.ws(request), object_key=object_key, record_id=record_id, **payload.dict()
        )
        return R.record_out(request, object_key, record_id)

    @router.get(
        f"{path}/{{record_id}}/stages",
        response=responses(list[StageChangeOut]),
        tags=tags,
        operation_id=f"{prefix}_stage_history",
        summary=f"A {label}'s stage moves, newest first",
    )
    def stage_history(request, record_id: Id):
        return R.stage_history(request, object_key, record_id)

    @router.put(
        f"{path}/{{record_id}}/tags",
        response=responses(out),
        tags=tags,
        operation_id=f"{prefix}_tags_set",
        summary=f"Set a {label}'s tags or interests (new names become tags)",
        exclude_unset=True,
    )
    def tags_set(request, record_id: Id, payload: TagsIn):
        R.get_one(request, object_key, record_id)
        records.tags_set(
            **R.ws(request),
            object_key=object_key,
            record_id=record_id,
            names=payload.names,
            kind=payload.kind,
        )
        return R.record_out(request, object_key, record_id)

    @router.post(
        f"{path}/{{record_id}}/addresses",
        response=responses(AddressOut, status=201),
        tags=tags,
        operation_id=f"{prefix}_address_add",
        summary=f"Add a further address to a {label}",
    )
    def address_add(request, record_id: Id, payload: AddressIn):
        R.get_one(request, object_key, record_id)
        address = records.address_add(
            **R.ws(request), object_key=object_key, record_id=record_id, **payload.dict()
        )
        return Status(201, address)

    @router.delete(
        f"{path}/{{record_id}}/addresses/{{address_id}}",
        response=responses(None, status=204),
        tags=tags,
        operation_id=f"{prefix}_address_remove",
        summary=f"Remove a further address of a {label}",
    )
    def address_remove(request, record_id: Id, address_id: Id):
        R.child_of(request, Address, address_id, object_key=object_key, record_id=record_id)
        records.address_remove(**R.ws(request), address_id=address_id)
        return Status(204, None)

    @router.post(
        f"{path}/{{record_id}}/points",
        response=responses(PointOut, status=201),
        tags=tags,
        operation_id=f"{prefix}_point_add",
        summary=f"Add a further phone or e-mail to a {label}",
    )
    def point_add(request, record_id: Id, payload: PointIn):
        R.get_one(request, object_key, record_id)
        point = records.point_add(
            **R.ws(request), object_key=object_key, record_id=record_id, **payload.dict()
        )
        return Status(201, point)

    @router.delete(
        f"{path}/{{record_id}}/points/{{point_id}}",
        response=responses(None, status=204),
        tags=tags,
        operation_id=f"{prefix}_point_remove",
        summary=f"Remove a further phone or e-mail of a {label}",
    )
    def point_remove(request, record_id: Id, point_id: Id):
        R.child_of(request, ContactPoint, point_id, object_key=object_key, record_id=record_id)
        records.point_remove(**R.ws(request), point_id=point_id)
        return Status(204, None)
