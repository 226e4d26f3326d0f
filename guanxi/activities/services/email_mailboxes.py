"""Mailboxes the worker fetches: administrators configure them (the password is written,
never shown back, never in the audit log), test the connection, and start a fetch now."""

from __future__ import annotations

import imaplib
import re
import ssl
from contextlib import contextmanager, suppress

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError
from guanxi.platform import audit, permissions
from guanxi.platform.models import User, Workspace

from ..models import Mailbox
from ..selectors import email as email_selectors

IMAP_TIMEOUT = 30
_FIELDS = {
    "name",
    "address",
    "host",
    "port",
    "use_ssl",
    "username",
    "password",
    "folder",
    "is_active",
    "triage_owner_id",
}


def _required_text(values: dict, field: str, max_length: int, *, required: bool) -> None:
    if field not in values:
        return
    text = str(values[field] if values[field] is not None else "")
    if "\x00" in text or "\r" in text or "\n" in text:
        message = _("This text contains characters that are not allowed.")
        raise ApplicationError(message, fields={field: [message]})
    text = text.strip() if field != "password" else text
    if required and not text:
        message = _("This field is required.")
        raise ApplicationError(message, fields={field: [message]})
    if len(text) > max_length:
        message = _("At most %(n)s characters.") % {"n": max_length}
        raise ApplicationError(message, fields={field: [message]})
    values[field] = text


def _clean(workspace, values: dict, *, creating: bool) -> dict:
    unknown = set(values) - _FIELDS
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    values = dict(values)
    if not creating and not values.get("password"):
        # An empty password on an edit form means "keep the one stored".
        values.pop("password", None)
    for field, limit in (("name", 100), ("host", 200), ("username", 200), ("folder", 200)):
        _required_text(values, field, limit, required=True)
    _required_text(values, "password", 200, required=True)
    if creating:
        for field in ("name", "address", "host", "username", "password"):
            if not values.get(field):
                message = _("This field is required.")
                raise ApplicationError(message, fields={field: [message]})
    if "host" in values and (" " in values["host"] or "/" in values["host"]):
        message = _("Enter a host name or IP address.")
        raise ApplicationError(message, fields={"host": [message]})
    if "address" in values:
        address = str(values["address"] or "").strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            message = _("Enter a valid e-mail address.")
            raise ApplicationError(message, fields={"address": [message]}) from None
        values["address"] = address
    if "port" in values:
        try:
            port = int(values["port"])
        except (TypeError, ValueError):
            port = 0
        if not 1 <= port <= 65535:
            message = _("Enter a port between 1 and 65535.")
            raise ApplicationError(message, fields={"port": [message]})
        values["port"] = port
    for flag in ("use_ssl", "is_active"):
        if flag in values:
            values[flag] = bool(values[flag])
    if values.get("triage_owner_id") is not None:
        owner = (
            User.objects.filter(workspace=workspace, pk=values["triage_owner_id"], is_active=True)
            .values_list("pk", flat=True)
            .first()
        )
        if owner is None:
            message = _("Choose an active user of this workspace.")
            raise ApplicationError(message, fields={"triage_owner_id": [message]})
    return values


def mailbox_create(*, actor: User, workspace: Workspace, **values) -> Mailbox:
    """Add a mailbox to fetch (administrators)."""
    permissions.require_admin(actor)
    values = _clean(workspace, values, creating=True)
    with transaction.atomic():
        mailbox = Mailbox.objects.create(workspace=workspace, **values)
        audit.log_create(actor=actor, instance=mailbox)
    return mailbox


def mailbox_update(*, actor: User, workspace: Workspace, mailbox_id: int, **changes) -> Mailbox:
    """Change a mailbox; a new server, user or folder starts its checkpoint again."""
    permissions.require_admin(actor)
    values = _clean(workspace, changes, creating=False)
    with transaction.atomic():
        mailbox = email_selectors.mailbox_get(
            workspace=workspace, actor=actor, mailbox_id=mailbox_id
        )
        mailbox = Mailbox.objects.in_workspace(workspace).select_for_update().get(pk=mailbox.pk)
        before = audit.snapshot(mailbox)
        moved = any(
            field in values and values[field] != getattr(mailbox, field)
            for field in ("host", "username", "folder")
        )
        for field, value in values.items():
            setattr(mailbox, field, value)
        if moved:
            mailbox.uidvalidity, mailbox.last_uid = None, 0
        mailbox.save()
        audit.log_update(actor=actor, instance=mailbox, before=before)
        if "password" in values:
            audit.log(
                actor=actor,
                workspace=workspace,
                action="update",
                object_key="activities.mailbox",
                object_id=mailbox.pk,
                object_repr=mailbox.name,
                changes={"password": ["…", "…"]},
            )
    return mailbox


def mailbox_delete(*, actor: User, workspace: Workspace, mailbox_id: int) -> None:
    """Stop fetching a mailbox; the messages already fetched stay."""
    permissions.require_admin(actor)
    with transaction.atomic():
        mailbox = email_selectors.mailbox_get(
            workspace=workspace, actor=actor, mailbox_id=mailbox_id
        )
        audit.log_delete(actor=actor, instance=mailbox)
        mailbox.delete()


class ImapFailed(ApplicationError):
    status = 409

    def __init__(self, message):
        super().__init__(message, code="imap_failed")


@contextmanager
def imap_session(mailbox: Mailbox):
    """A logged-in IMAP session with the mailbox's folder selected read-only (fetching
    marks nothing as read). Raises ``ImapFailed`` with the server's reason."""
    client = None
    try:
        if mailbox.use_ssl:
            client = imaplib.IMAP4_SSL(
                mailbox.host,
                mailbox.port,
                ssl_context=ssl.create_default_context(),
                timeout=IMAP_TIMEOUT,
            )
        else:
            client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=IMAP_TIMEOUT)
        client.login(mailbox.username, mailbox.password)
        status, data = client.select(_quoted(mailbox.folder), readonly=True)
        if status != "OK":
            raise ImapFailed(
                _("The folder “%(folder)s” could not be opened: %(reason)s")
                % {"folder": mailbox.folder, "reason": _reason(data)}
            )
    except ImapFailed:
        _logout(client)
        raise
    except (TimeoutError, imaplib.IMAP4.error, OSError, ssl.SSLError) as exc:
        _logout(client)
        raise ImapFailed(
            _("Could not reach the mailbox %(host)s:%(port)s: %(reason)s")
            % {"host": mailbox.host, "port": mailbox.port, "reason": _reason(exc)}
        ) from None
    try:
        yield client
    finally:
        _logout(client)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reason(value) -> str:
    if isinstance(value, list | tuple):
        value = b" ".join(v for v in value if isinstance(v, bytes)) or str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)[:300] or "?"


def _logout(client) -> None:
    if client is None:
        return
    with suppress(Exception):
        client.logout()


def mailbox_test(*, actor: User, workspace: Workspace, mailbox_id: int) -> dict:
    """Log in and open the folder; ``{"ok": True, "messages": n}`` or ``ImapFailed``
    (409 ``imap_failed``) with the server's reason."""
    permissions.require_admin(actor)
    mailbox = email_selectors.mailbox_get(workspace=workspace, actor=actor, mailbox_id=mailbox_id)
    with imap_session(mailbox) as client:
        status, data = client.status(_quoted(mailbox.folder), "(MESSAGES UIDVALIDITY)")
    text = _reason(data)

    count = re.search(r"MESSAGES (\d+)", text)
    return {"ok": status == "OK", "messages": int(count.group(1)) if count else None}


def mailbox_fetch_now(*, actor: User, workspace: Workspace, mailbox_id: int) -> Mailbox:
    """Queue a fetch of one mailbox now (after commit), besides the two-minute schedule."""
    permissions.require_admin(actor)
    mailbox = email_selectors.mailbox_get(workspace=workspace, actor=actor, mailbox_id=mailbox_id)

    def start():
        from ..email_jobs import fetch_mailbox

        fetch_mailbox(mailbox.pk)

    transaction.on_commit(start)
    return mailbox
