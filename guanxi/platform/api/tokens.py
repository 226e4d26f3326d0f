"""``/tokens``: personal API tokens."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from ninja import Query, Status

from guanxi.common.api import Id, PageParams, page_of, page_response, responses
from guanxi.common.errors import PermissionDenied

from .. import selectors, services
from ..models import ApiToken
from ..schemas import TokenCreatedOut, TokenCreateIn, TokenFilters, TokenOut
from .common import _admin_scope, _ref_user, _ws, router


def _token_data(token: ApiToken) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes or []),
        "user": _ref_user(token.user),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


@router.get(
    "/tokens",
    response=responses(page_of(TokenOut)),
    tags=["Tokens"],
    operation_id="tokens_list",
    summary="Your API tokens (administrators: everyone's with all_users)",
)
def tokens_list(request, filters: Query[TokenFilters], page: Query[PageParams]):
    if filters.all_users:
        _admin_scope(request)
    qs = selectors.api_token_list(**_ws(request), all_users=filters.all_users)
    return page_response(qs, page, _token_data, key="pk", descending=True)


@router.post(
    "/tokens",
    response=responses(TokenCreatedOut, status=201),
    tags=["Tokens"],
    operation_id="tokens_create",
    summary="Create an API token; the secret is shown once",
)
def tokens_create(request, payload: TokenCreateIn):
    if payload.user_id is not None and payload.user_id != request.user.pk:
        _admin_scope(request)
    token = getattr(request, "token", None)
    if token is not None:
        beyond = sorted(set(payload.scopes) - set(token.scopes or []))
        if beyond:
            # A token must not mint a stronger one.
            raise PermissionDenied(
                _("A token cannot create a token with scopes it lacks: %(scopes)s.")
                % {"scopes": ", ".join(beyond)},
                code="insufficient_scope",
            )
    created, secret = services.api_token_create(
        **_ws(request),
        name=payload.name,
        scopes=list(payload.scopes),
        expires_in_days=payload.expires_in_days,
        user_id=payload.user_id,
    )
    return Status(201, {**_token_data(created), "secret": secret})


@router.delete(
    "/tokens/{token_id}",
    response=responses(TokenOut),
    tags=["Tokens"],
    operation_id="tokens_revoke",
    summary="Revoke an API token",
)
def tokens_revoke(request, token_id: Id):
    if not selectors.api_token_list(**_ws(request)).filter(pk=token_id).exists():
        _admin_scope(request)
    token = services.api_token_revoke(**_ws(request), token_id=token_id)
    return _token_data(token)
