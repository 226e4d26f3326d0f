"""The one error type of the project.

Services raise ``ApplicationError`` for anything a user can cause. Pages show it as a form
error, the API answers it with the documented error shape and the status it carries.
"""

from __future__ import annotations

from django.utils.functional import Promise


class ApplicationError(Exception):
    """A translatable, user-facing error with a stable machine code.

    ``fields`` maps a field name to its messages, for errors that belong to one input.
    """

    status = 400

    def __init__(
        self,
        message: str | Promise,
        *,
        code: str = "invalid",
        fields: dict[str, list[str | Promise]] | None = None,
        status: int | None = None,
    ):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.fields = fields or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {name: [str(m) for m in msgs] for name, msgs in self.fields.items()},
        }


class NotFound(ApplicationError):
    """The record does not exist *for this actor*: other workspaces' records land here too."""

    status = 404

    def __init__(self, message=None, *, code: str = "not_found"):
        from django.utils.translation import gettext_lazy as _

        super().__init__(message or _("Not found."), code=code)


class PermissionDenied(ApplicationError):
    """The actor may not do this inside their own workspace; the message says why."""

    status = 403

    def __init__(self, message, *, code: str = "permission_denied"):
        super().__init__(message, code=code)


class Conflict(ApplicationError):
    status = 409

    def __init__(self, message, *, code: str = "conflict", fields=None):
        super().__init__(message, code=code, fields=fields)


class FieldErrors:
    """Collects every bad field of one input, so the user sees all of them at once; nothing
    is written unless ``raise_if_any`` passes."""

    def __init__(self) -> None:
        self.fields: dict[str, list] = {}

    def add(self, field: str, message) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        if len(self.fields) == 1:
            message = next(iter(self.fields.values()))[0]
        else:
            from django.utils.translation import gettext_lazy as _

            message = _("Some fields are not valid.")
        raise ApplicationError(message, fields=self.fields)
