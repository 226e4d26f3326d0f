"""Bearer authentication with personal API tokens, and the API's list of authenticators."""

from __future__ import annotations

import hmac
import re
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from guanxi.common.api import SessionAuth, require_method_scope

from .. import services
from ..models import ApiToken

TOKEN_PATTERN = re.compile(r"gx_(?P<prefix>[0-9a-f]{8})_[A-Za-z0-9_-]{16,128}")
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_EVERY = timedelta(minutes=1)


class BearerAuth(HttpBearer):
    """A personal API token: ``Authorization: Bearer gx_<prefix>_<secret>``."""

    openapi_bearerFormat = "gx_<prefix>_<secret>"
    openapi_description = (
        "A personal API token (`guanxi token create`, or POST /api/v1/tokens). "
        "GET needs the read scope, other methods write, administration also admin."
    )

    def authenticate(self, request: HttpRequest, token: str):
        api_token = _token_for(token)
        user = api_token.user
        request.user = user
        request.workspace = user.workspace
        request.token = api_token
        require_method_scope(request)
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_EVERY:
            ApiToken.objects.in_workspace(api_token.workspace_id).filter(pk=api_token.pk).update(
                last_used_at=now
            )
        return user


def _token_for(raw: str) -> ApiToken:
    """The live token whose secret is ``raw``, or 401. The prefix finds the row; the
    secret's hash is compared in constant time."""
    match = TOKEN_PATTERN.fullmatch(raw.strip())
    if match is None:
        raise AuthenticationError(message=_("The API token is not valid."))
    api_token = (
        ApiToken.objects.across_workspaces()
        .select_related("user__role", "user__team", "user__workspace")
        .filter(prefix=match["prefix"])
        .first()
    )
    if api_token is None or not hmac.compare_digest(
        services.hash_secret(raw.strip()), api_token.key_hash
    ):
        raise AuthenticationError(message=_("The API token is not valid."))
    if api_token.revoked_at is not None:
        raise AuthenticationError(message=_("This API token has been revoked."))
    if api_token.expires_at is not None and api_token.expires_at <= timezone.now():
        raise AuthenticationError(message=_("This API token has expired."))
    if not api_token.user.is_active or api_token.user.workspace_id != api_token.workspace_id:
        raise AuthenticationError(message=_("The account of this API token is inactive."))
    return api_token


API_AUTH = [BearerAuth(), SessionAuth()]
