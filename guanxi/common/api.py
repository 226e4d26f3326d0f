"""Plumbing every app's REST endpoints share: the one error shape, session authentication
with CSRF, token scopes, cursor pages, rate limits and NUL-safe text types.

Business rules stay in services and selectors; nothing here knows about a domain model.
The bearer-token lookup lives in ``guanxi.platform.api`` (tokens are a platform model and
``common`` imports nothing above itself).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security.apikey import APIKeyCookie
from ninja.throttling import AuthRateThrottle
from ninja.utils import check_csrf
from pydantic import AfterValidator, create_model

from .errors import ApplicationError, PermissionDenied
from .pagination import (
    DEFAULT_LIMIT,
    MAX_ID,
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
    paginate,
)

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# --- the error shape ------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str = Field(..., description="A stable machine-readable code, e.g. `not_found`.")
    message: str = Field(..., description="A human-readable message in the request's language.")
    fields: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages per input field, for errors tied to one."
    )


class ErrorOut(Schema):
    """The body of every non-2xx answer."""

    error: ErrorDetail


ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)


def responses(ok: Any = None, *, status: int = 200) -> dict[int, Any]:
    """An operation's ``response=`` mapping: its success body plus every documented error."""
    return {status: ok, **{code: ErrorOut for code in ERROR_STATUSES}}


def error_body(code: str, message: Any, fields: dict[str, Iterable[Any]] | None = None) -> dict:
    return {
        "error": {
            "code": code,
            "message": str(message),
            "fields": {name: [str(m) for m in msgs] for name, msgs in (fields or {}).items()},
        }
    }


def _respond(api: NinjaAPI, request: HttpRequest, status: int, body: dict) -> HttpResponse:
    return api.create_response(request, body, status=status)


# Pydantic's messages are English; the common ones are translated here.
_PYDANTIC_MESSAGES: dict[str, Any] = {
    "missing": _("This field is required."),
    "string_too_long": _("Ensure this value has at most %(max_length)s characters."),
    "string_too_short": _("Ensure this value has at least %(min_length)s characters."),
    "too_long": _("Ensure this list has at most %(max_length)s items."),
    "less_than_equal": _("Ensure this value is less than or equal to %(le)s."),
    "greater_than_equal": _("Ensure this value is greater than or equal to %(ge)s."),
    "int_parsing": _("Enter a whole number."),
    "int_type": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "bool_parsing": _("Enter true or false."),
    "bool_type": _("Enter true or false."),
    "string_type": _("Enter text."),
    "literal_error": _("Choose one of: %(expected)s."),
    "enum": _("Choose one of: %(expected)s."),
    "datetime_parsing": _("Enter a date and time in ISO 8601 format."),
    "datetime_from_date_parsing": _("Enter a date and time in ISO 8601 format."),
    "datetime_type": _("Enter a date and time in ISO 8601 format."),
    "dict_type": _("Enter a JSON object."),
    "list_type": _("Enter a JSON array."),
    "model_attributes_type": _("Enter a JSON object."),
    "model_type": _("Enter a JSON object."),
    "json_invalid": _("The request body is not valid JSON."),
}


def _pydantic_message(error: dict) -> str:
    template = _PYDANTIC_MESSAGES.get(error.get("type", ""))
    if template is not None:
        try:
            return str(template) % dict(error.get("ctx") or {})
        except (KeyError, TypeError, ValueError):
            pass
    message = str(error.get("msg", ""))
    return message.removeprefix("Value error, ")


def _field_name(loc: Sequence[Any], single_body: bool) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        source, parts = parts[0], parts[1:]
        # A single body schema is nested under its parameter name: drop that level.
        if source == "body" and single_body and len(parts) > 1:
            parts = parts[1:]
    return ".".join(parts) or "__all__"


def validation_fields(errors: list[dict]) -> dict[str, list[str]]:
    body_params = {
        str(e["loc"][1]) for e in errors if len(e.get("loc", ())) > 1 and e["loc"][0] == "body"
    }
    fields: dict[str, list[str]] = {}
    for error in errors:
        name = _field_name(error.get("loc", ()), single_body=len(body_params) <= 1)
        fields.setdefault(name, []).append(_pydantic_message(error))
    return fields


def install_error_handlers(api: NinjaAPI) -> None:
    """Answer every failure with ``{"error": {"code", "message", "fields"}}``."""

    @api.exception_handler(ApplicationError)
    def application_error(request, exc: ApplicationError):
        return _respond(api, request, exc.status, {"error": exc.as_dict()})

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        body = error_body(
            "validation_error", _("Some fields are not valid."), validation_fields(exc.errors)
        )
        return _respond(api, request, 422, body)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc: AuthenticationError):
        message = (
            exc.message
            if exc.message != "Unauthorized"
            else _("Sign in, or send a valid API token as “Authorization: Bearer …”.")
        )
        response = _respond(api, request, 401, error_body("not_authenticated", message))
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        wait = max(1, math.ceil(exc.wait)) if exc.wait else 1
        body = error_body(
            "rate_limited",
            _("Too many requests. Try again in %(seconds)s seconds.") % {"seconds": wait},
        )
        response = _respond(api, request, 429, body)
        response["Retry-After"] = str(wait)
        return response

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        status = exc.status_code
        if status == 400:
            body = error_body("bad_request", _("The request could not be read: send a JSON body."))
        elif status == 403:
            body = error_body("permission_denied", _("You may not do this."))
        elif status == 404:
            body = error_body("not_found", _("Not found."))
        else:
            body = error_body("http_error", str(exc))
        return _respond(api, request, status, body)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return _respond(api, request, 404, error_body("not_found", _("Not found.")))

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request, exc):
        return _respond(api, request, 404, error_body("not_found", _("Not found.")))

    @api.exception_handler(DjangoPermissionDenied)
    def permission_denied(request, exc):
        message = str(exc) or _("You may not do this.")
        return _respond(api, request, 403, error_body("permission_denied", message))

    @api.exception_handler(DjangoValidationError)
    def django_validation_error(request, exc: DjangoValidationError):
        if hasattr(exc, "error_dict"):
            fields = {name: list(msgs) for name, msgs in exc.message_dict.items()}
        else:
            fields = {}
        body = error_body("invalid", " ".join(exc.messages), fields)
        return _respond(api, request, 400, body)


class Utf8JSONRenderer(JSONRenderer):
    """JSON with Chinese as characters, not ``\\uXXXX`` escapes (half the bytes)."""

    json_dumps_params = {"ensure_ascii": False}


# --- authentication and scopes ------------------------------------------------------------------


def require_scope(request: HttpRequest, scope: str) -> None:
    """Refuse a token that lacks ``scope``. Sessions hold every scope (their role still decides)."""
    token = getattr(request, "token", None)
    if token is None or scope in (token.scopes or []):
        return
    raise PermissionDenied(
        _("This API token lacks the “%(scope)s” scope.") % {"scope": scope},
        code="insufficient_scope",
    )


def require_method_scope(request: HttpRequest) -> None:
    """Reading needs the ``read`` scope, anything else ``write``."""
    require_scope(request, "read" if request.method in SAFE_METHODS else "write")


class SessionAuth(APIKeyCookie):
    """The pages' Django session; unsafe methods must carry the CSRF token
    (``X-CSRFToken`` header), exactly as the pages' own forms do."""

    openapi_description = (
        "The session cookie of a signed-in browser; unsafe methods need X-CSRFToken."
    )

    def __init__(self) -> None:
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise PermissionDenied(
                _("The CSRF token is missing or not valid. Reload the page and try again."),
                code="csrf_failed",
            )
        request.token = None
        request.workspace = user.workspace
        return user


# --- rate limits -------------------------------------------------------------------------------------


class ApiRateThrottle(AuthRateThrottle):
    """ninja's per-client throttle, keyed by the signed-in user, with the rate read from
    ``settings.API_RATE_LIMIT`` on each request (operators and tests change it without a
    restart). ninja keeps a request's state on the throttle object, which every thread
    shares; here that state lives in a thread-local."""

    scope = "api"

    def __init__(self) -> None:
        self._local = threading.local()

    def _state(self, name: str) -> Any:
        return getattr(self._local, name, None)

    key = property(lambda s: s._state("key"), lambda s, v: setattr(s._local, "key", v))
    history = property(lambda s: s._state("history"), lambda s, v: setattr(s._local, "history", v))
    now = property(lambda s: s._state("now"), lambda s, v: setattr(s._local, "now", v))
    rate = property(lambda s: s._state("rate"), lambda s, v: setattr(s._local, "rate", v))
    num_requests = property(
        lambda s: s._state("num_requests"), lambda s, v: setattr(s._local, "num_requests", v)
    )
    duration = property(
        lambda s: s._state("duration"), lambda s, v: setattr(s._local, "duration", v)
    )

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = getattr(settings, "API_RATE_LIMIT", "600/m")
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user-{user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


# --- input types -------------------------------------------------------------------------------------


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(v) for v in value)
    return False


def no_nul(value: Any) -> Any:
    """PostgreSQL stores no NUL character in text or JSON: refuse it as bad input."""
    if _contains_nul(value):
        raise ValueError(str(_("Text may not contain NUL characters.")))
    return value


def text(max_length: int | None = None, *, min_length: int | None = None) -> Any:
    """A string type with length limits (the column's) and no NUL characters."""
    return Annotated[
        str, Field(max_length=max_length, min_length=min_length), AfterValidator(no_nul)
    ]


def to_utc(value: dt.datetime) -> dt.datetime:
    """Naive means the current time zone. PostgreSQL refuses offsets beyond ±15:59, which
    ISO 8601 (and Python) allow: compare in UTC."""
    from django.utils import timezone

    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError(str(_("Enter a date and time between the years 1 and 9999."))) from None


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
DateTime = Annotated[dt.datetime, AfterValidator(to_utc)]
JsonObject = Annotated[dict[str, Any], AfterValidator(no_nul)]
JsonValue = Annotated[Any, AfterValidator(no_nul)]


def drop_null_defaults(schema: dict[str, Any]) -> None:
    """PATCH bodies mark "not sent" with a ``None`` default; the schema should not claim
    ``null`` is a value a non-nullable field may take."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None:
            prop.pop("default")


class PatchSchema(Schema):
    """A partial update: only the fields the client sent change (``exclude_unset``)."""

    model_config = {"json_schema_extra": drop_null_defaults}

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


# --- cursor pages -----------------------------------------------------------------------------------


class PageParams(Schema):
    cursor: text(1000) | None = Field(
        None, description="`next_cursor` of the previous page; omit for the first page."
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page.")


@cache
def page_of(item: type) -> type[Schema]:
    """The page schema of ``item``: ``{"items": [...], "next_cursor": str | null}``."""
    return create_model(
        f"{item.__name__}Page",
        __base__=Schema,
        items=(list[item], ...),
        next_cursor=(str | None, Field(..., description="Pass as `cursor` for the next page.")),
    )


def page_response(
    queryset: QuerySet,
    params: PageParams,
    serialize: Callable[[Any], Any] = lambda row: row,
    *,
    key: str = "pk",
    descending: bool = False,
) -> dict[str, Any]:
    """One keyset page of ``queryset`` as the API's page body."""
    page = paginate(
        queryset, key=key, descending=descending, cursor=params.cursor, limit=params.limit
    )
    return {"items": [serialize(row) for row in page.items], "next_cursor": page.next_cursor}


def page_from_list(
    rows: Sequence[Any],
    params: PageParams,
    sort_key: Callable[[Any], tuple],
    serialize: Callable[[Any], Any] = lambda row: row,
) -> dict[str, Any]:
    """A keyset page over a short in-memory list already sorted by ``sort_key``."""
    start = 0
    if params.cursor:
        value, _pk = decode_cursor(params.cursor)
        if not isinstance(value, list):
            raise invalid_cursor()
        after = tuple(value)
        if rows and [type(v) for v in after] != [type(k) for k in sort_key(rows[0])]:
            raise invalid_cursor()
        try:
            start = next((i for i, row in enumerate(rows) if sort_key(row) > after), len(rows))
        except TypeError:
            raise invalid_cursor() from None
    chunk = list(rows[start : start + params.limit])
    more = start + params.limit < len(rows)
    next_cursor = encode_cursor(list(sort_key(chunk[-1])), 0) if more and chunk else None
    return {"items": [serialize(row) for row in chunk], "next_cursor": next_cursor}
