"""``/users``: the workspace's people."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from ninja import Query, Status

from guanxi.common.api import Id, PageParams, page_of, page_response, responses
from guanxi.common.errors import PermissionDenied

from .. import permissions, selectors, services
from ..schemas import UserCreateIn, UserFilters, UserOut, UserUpdateIn
from .common import _active_custom_keys, _admin_scope, _user_data, _user_out, _ws, router


@router.get(
    "/users",
    response=responses(page_of(UserOut)),
    tags=["Users"],
    operation_id="users_list",
    summary="List users",
    exclude_unset=True,
)
def users_list(request, filters: Query[UserFilters], page: Query[PageParams]):
    qs = selectors.user_list(**_ws(request))
    hidden = permissions.hidden_fields(request.user, "platform.user")
    for name, value in (
        ("team", filters.team_id),
        ("role", filters.role_id),
        ("is_active", filters.is_active),
    ):
        if value is not None and name in hidden:
            raise PermissionDenied(
                _("Your role may not filter on %(field)s.") % {"field": name}, code="field_hidden"
            )
    if filters.q:
        match = Q(full_name__icontains=filters.q) | Q(email__icontains=filters.q)
        if "phone" not in hidden:
            match |= Q(phone__icontains=filters.q)
        qs = qs.filter(match)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.role_id is not None:
        qs = qs.filter(role_id=filters.role_id)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    keys = _active_custom_keys(request.workspace, "platform.user")
    return page_response(
        qs,
        page,
        lambda user: _user_data(user, actor=request.user, custom_keys=keys),
        key=filters.sort.lstrip("-"),
        descending=filters.sort.startswith("-"),
    )


@router.get(
    "/users/{user_id}",
    response=responses(UserOut),
    tags=["Users"],
    operation_id="users_get",
    summary="Get a user",
    exclude_unset=True,
)
def users_get(request, user_id: Id):
    return _user_out(request, selectors.user_get(**_ws(request), user_id=user_id))


@router.post(
    "/users",
    response=responses(UserOut, status=201),
    tags=["Users"],
    operation_id="users_create",
    summary="Add a user (administrators)",
    exclude_unset=True,
)
def users_create(request, payload: UserCreateIn):
    _admin_scope(request)
    user = services.user_create(**_ws(request), **payload.dict())
    return Status(201, _user_out(request, user))


@router.patch(
    "/users/{user_id}",
    response=responses(UserOut),
    tags=["Users"],
    operation_id="users_update",
    summary="Change a user (administrators; anyone their own name, phone, language, time zone)",
    exclude_unset=True,
)
def users_update(request, user_id: Id, payload: UserUpdateIn):
    if user_id != request.user.pk:
        _admin_scope(request)
    user = services.user_update(**_ws(request), user_id=user_id, **payload.changes())
    return _user_out(request, user)


@router.post(
    "/users/{user_id}/sign-out-everywhere",
    response=responses(UserOut),
    tags=["Users"],
    operation_id="users_sign_out_everywhere",
    summary="End every session of a user",
    exclude_unset=True,
)
def users_sign_out_everywhere(request, user_id: Id):
    if user_id != request.user.pk:
        _admin_scope(request)
    user = services.user_sign_out_everywhere(**_ws(request), user_id=user_id)
    return _user_out(request, user)
