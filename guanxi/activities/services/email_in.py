"""E-mail in: fetching mailboxes over IMAP, filing each message to its customer or to
triage, and the triage actions.

Exactly once: each message is stored in its own transaction together with its
attachments, its timeline entry and the mailbox's checkpoint (``last_uid``), and the row
is unique on (mailbox, UIDVALIDITY, UID). A worker that dies mid-fetch has committed the
messages before the one it died on; the next fetch starts after the checkpoint, and a
message stored by a concurrent fetch hits the unique constraint and is skipped. A message
that cannot be read still becomes a triage item with its raw source attached.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import imaplib
import logging
import mimetypes
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers import normalize
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Contact, ContactPoint, PointKind
from guanxi.customers.services import records
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from ..models import (
    EmailAttachment,
    EmailDirection,
    EmailMessage,
    EmailStatus,
    EntryKind,
    Mailbox,
    Notification,
)
from ..objects import EMAIL
from ..selectors import email as email_selectors
from . import email_parse
from .email_mailboxes import ImapFailed, imap_session
from .email_out import contact_addresses
from .timeline import record_entry

logger = logging.getLogger(__name__)

CONTACT = "customers.contact"
# Messages taken per fetch; the rest wait for the next run (two minutes later).
FETCH_BATCH = 200
TIMELINE_TEXT = 20_000


# --- fetching ------------------------------------------------------------------------------


@dataclass
class FetchResult:
    stored: int = 0
    duplicates: int = 0
    unreadable: int = 0
    error: str = ""
    uids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "unreadable": self.unreadable,
            "error": self.error,
        }


def active_mailbox_ids() -> list[int]:
    """Every workspace's active mailboxes (the periodic task fetches each)."""
    return list(
        Mailbox.objects.across_workspaces()
        .filter(is_active=True)
        .order_by("id")
        .values_list("pk", flat=True)
    )


_INTERNALDATE = re.compile(rb'INTERNALDATE "[^"]+"')


def _fetched(data) -> tuple[bytes, dt.datetime | None]:
    """The message source and INTERNALDATE from a ``UID FETCH`` answer, whatever order
    the server put the items in."""
    raw = b""
    meta = b""
    for item in data or []:
        if isinstance(item, tuple):
            meta += item[0]
            raw = raw if raw else item[1]
        elif isinstance(item, bytes):
            meta += item
    when = None
    match = _INTERNALDATE.search(meta)
    if match:
        parts = imaplib.Internaldate2tuple(match.group(0))
        if parts is not None:
            when = dt.datetime.fromtimestamp(time.mktime(parts), tz=dt.UTC)
    return raw, when


def mailbox_fetch(*, mailbox_id: int, limit: int = FETCH_BATCH) -> FetchResult:
    """Fetch the new messages of one mailbox (the worker's task; no actor). A failure to
    connect is recorded on the mailbox (``last_error``), not raised."""
    result = FetchResult()
    mailbox = Mailbox.objects.across_workspaces().filter(pk=mailbox_id).first()
    if mailbox is None or not mailbox.is_active:
        return result
    try:
        with imap_session(mailbox) as client:
            uidvalidity = _uidvalidity(client)
            if mailbox.uidvalidity != uidvalidity:
                # The server renumbered the folder: UIDs from before mean nothing now.
                Mailbox.objects.in_workspace(mailbox.workspace_id).filter(pk=mailbox.pk).update(
                    uidvalidity=uidvalidity, last_uid=0, updated_at=timezone.now()
                )
                mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
            status, data = client.uid("SEARCH", None, f"UID {mailbox.last_uid + 1}:*")
            if status != "OK":
                raise ImapFailed(_("The server refused to list the messages."))
            # "n:*" always matches the newest message, even one below n.
            uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > mailbox.last_uid)
            for uid in uids[:limit]:
                status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[] INTERNALDATE)")
                if status != "OK":
                    raise ImapFailed(
                        _("The mail server did not return message %(uid)s.") % {"uid": uid}
                    )
                raw, received_at = _fetched(data)
                outcome = store_message(
                    mailbox=mailbox,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    raw=raw,
                    received_at=received_at,
                )
                result.uids.append(uid)
                if outcome == "duplicate":
                    result.duplicates += 1
                elif outcome == "unreadable":
                    result.unreadable += 1
                    result.stored += 1
                else:
                    result.stored += 1
    except ImapFailed as exc:
        result.error = str(exc.message)
    Mailbox.objects.in_workspace(mailbox.workspace_id).filter(pk=mailbox.pk).update(
        last_fetched_at=timezone.now(), last_error=result.error[:500], updated_at=timezone.now()
    )
    return result


def _uidvalidity(client) -> int:
    values = client.response("UIDVALIDITY")[1]
    if values and values[-1]:
        return int(values[-1])
    _status, data = client.status('"INBOX"', "(UIDVALIDITY)")
    match = re.search(rb"UIDVALIDITY (\d+)", b" ".join(d for d in data if isinstance(d, bytes)))
    if not match:
        raise ImapFailed(_("The server did not say the folder's UIDVALIDITY."))
    return int(match.group(1))


def store_message(
    *,
    mailbox: Mailbox,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    received_at: dt.datetime | None = None,
) -> str:
    """Store one fetched message in its own transaction: "stored", "duplicate" (already
    stored by an earlier or concurrent fetch) or "unreadable" (kept for triage with its
    raw source)."""
    saved_files: list[str] = []
    try:
        with transaction.atomic():
            _store(mailbox, uidvalidity, uid, raw, received_at, saved_files)
        return "stored"
    except IntegrityError:
        _forget_files(saved_files)
        _advance(mailbox, uid)
        return "duplicate"
    except Exception:
        logger.exception("mailbox %s uid %s: stored as unreadable", mailbox.pk, uid)
        _forget_files(saved_files)
    saved_files = []
    try:
        with transaction.atomic():
            parsed = email_parse.ParsedMessage(unreadable=True)
            _store(mailbox, uidvalidity, uid, raw, received_at, saved_files, parsed=parsed)
        return "unreadable"
    except IntegrityError:
        _forget_files(saved_files)
        _advance(mailbox, uid)
        return "duplicate"


def _forget_files(names: list[str]) -> None:
    storage = EmailAttachment._meta.get_field("file").storage
    for name in names:
        with contextlib.suppress(OSError):
            storage.delete(name)


def _advance(mailbox: Mailbox, uid: int) -> None:
    Mailbox.objects.in_workspace(mailbox.workspace_id).filter(
        pk=mailbox.pk, last_uid__lt=uid
    ).update(last_uid=uid, updated_at=timezone.now())


def _store(mailbox, uidvalidity, uid, raw, received_at, saved_files, parsed=None) -> EmailMessage:
    parsed = parsed or email_parse.parse_message(raw)
    workspace_id = mailbox.workspace_id
    received_at = received_at or timezone.now()
    contact = account = None
    thread_root = ""
    if not parsed.unreadable:
        parent = match_thread(
            workspace_id, [parsed.in_reply_to, *parsed.references], sender=parsed.from_address
        )
        if parent is not None:
            contact, account = parent.contact, parent.account
            thread_root = parent.thread_root or parent.message_id
        else:
            contact = match_sender(workspace_id, parsed.from_address)
            account = contact.account if contact is not None else None
    if account is None and contact is not None and contact.account_id:
        account = contact.account
    filed = contact is not None or account is not None
    subject = parsed.subject or (
        gettext("(unreadable message)") if parsed.unreadable else gettext("(no subject)")
    )
    email = EmailMessage.objects.create(
        workspace_id=workspace_id,
        direction=EmailDirection.INBOUND,
        status=EmailStatus.FILED if filed else EmailStatus.TRIAGE,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references)[:5000],
        thread_root=thread_root or parsed.message_id,
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to=parsed.to,
        cc=parsed.cc,
        subject=subject[:500],
        body_text=parsed.text,
        body_html=parsed.html,
        contact=contact,
        account=account,
        mailbox=mailbox,
        imap_uidvalidity=uidvalidity,
        imap_uid=uid,
        sent_at=parsed.date,
        received_at=received_at,
        assigned_to_id=None if filed else mailbox.triage_owner_id,
        error="; ".join(parsed.problems)[:500],
    )
    attachments = list(parsed.attachments)
    if parsed.unreadable:
        attachments.append(email_parse.ParsedAttachment("message.eml", "message/rfc822", raw))
    for item in attachments:
        saved_files.append(_attach(email, item).file.name)
    if not parsed.unreadable and _offer_to_handlers(email, mailbox) and not filed:
        # A higher app took it (a reply on a case, a message to a support mailbox): it
        # does not wait in triage.
        email.status, email.assigned_to_id = EmailStatus.FILED, None
        email.save(update_fields=["status", "assigned_to"])
    if filed:
        email.entry = _timeline_entry(email, contact, account, author=None)
        email.save(update_fields=["entry"])
        _notify_owner(email, contact, account)
    _advance(mailbox, uid)
    return email


def _attach(email: EmailMessage, item: email_parse.ParsedAttachment) -> EmailAttachment:
    digest = hashlib.sha256(item.data).hexdigest()
    # The stored name is ours (no path or script in a customer's file name reaches disk).
    extension = mimetypes.guess_extension(item.content_type or "") or ""
    suffix = "." + item.filename.rsplit(".", 1)[-1] if "." in item.filename else extension
    suffix = suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix or "") else ".bin"
    attachment = EmailAttachment(
        workspace_id=email.workspace_id,
        message=email,
        filename=item.filename[:255] or "attachment",
        content_type=(item.content_type or "application/octet-stream")[:120],
        size=len(item.data),
        sha256=digest,
    )
    attachment.file.save(f"{digest[:24]}{suffix}", ContentFile(item.data), save=False)
    attachment.save()
    return attachment


def _timeline_entry(email: EmailMessage, contact, account, *, author):
    return record_entry(
        workspace=email.workspace_id,
        author=author,
        kind=EntryKind.EMAIL,
        direction="in",
        channel="email",
        occurred_at=email.received_at or timezone.now(),
        subject=email.subject,
        body=(email.body_text or "")[:TIMELINE_TEXT],
        account=account,
        contacts=[contact] if contact is not None else [],
        data={
            "email_id": email.pk,
            "message_id": email.message_id,
            "from": email.from_address,
            "attachments": email.attachments.count(),
        },
    )


def _notify_owner(email: EmailMessage, contact, account) -> None:
    record = contact if contact is not None else account
    owner = getattr(record, "owner", None)
    if owner is None or not owner.is_active:
        return
    with translation.override(owner.language or None):
        title = gettext("E-mail from %(name)s") % {
            "name": email.from_name or email.from_address or record.name
        }
    Notification.objects.create(
        workspace_id=email.workspace_id,
        user=owner,
        title=title[:200],
        body=email.subject[:500],
        url=reverse("activities:email_detail", args=[email.pk]),
    )


def match_sender(workspace_id, address: str) -> Contact | None:
    """The contact with this e-mail address, as the primary one or a further one (both
    stored lower case and indexed, so this is two index look-ups)."""
    address = normalize.email(address or "")
    if not address:
        return None
    contacts = Contact.objects.in_workspace(workspace_id).filter(erased_at__isnull=True)
    contact = (
        contacts.filter(email=address).select_related("account", "owner").order_by("id").first()
    )
    if contact is not None:
        return contact
    contact_id = (
        ContactPoint.objects.in_workspace(workspace_id)
        .filter(kind=PointKind.EMAIL, value=address, contact__isnull=False)
        .order_by("id")
        .values_list("contact_id", flat=True)
        .first()
    )
    if contact_id is None:
        return None
    return contacts.filter(pk=contact_id).select_related("account", "owner").first()


def thread_parties(workspace_id, sent: EmailMessage) -> set[str]:
    """The addresses that may answer one of our sent messages: its contact's (the primary
    one and the further ones) and its recipients' (to and cc), normalised."""
    addresses = {
        normalize.email(parseaddr(str(a))[1]) for a in [*(sent.to or []), *(sent.cc or [])]
    }
    if sent.contact_id:
        addresses.update(normalize.email(a) for a in contact_addresses(workspace_id, sent.contact))
    addresses.discard("")
    return addresses


def match_thread(workspace_id, message_ids: list[str], *, sender: str) -> EmailMessage | None:
    """One of our sent messages this one answers (In-Reply-To, then References) — only if
    ``sender`` is a party to it (``thread_parties``). Message-IDs are not secret (they are
    quoted, forwarded, guessable): a header naming our mail from anyone else files nothing
    onto that customer; the message is matched by its sender like new mail."""
    address = normalize.email(sender or "")
    ids = [m for m in dict.fromkeys(message_ids) if m]
    if not ids or not address:
        return None
    sent = (
        EmailMessage.objects.in_workspace(workspace_id)
        .filter(direction=EmailDirection.OUTBOUND, message_id__in=ids)
        .exclude(contact__isnull=True, account__isnull=True)
        .select_related("contact__owner", "contact__account", "account__owner")
    )
    by_id = {m.message_id: m for m in sent}
    for message_id in ids:
        parent = by_id.get(message_id)
        if parent is not None and address in thread_parties(workspace_id, parent):
            return parent
    return None


# --- handlers of new messages ----------------------------------------------------------------

_inbound_handlers: dict[str, Callable[..., tuple[str, int] | None]] = {}


def register_inbound_handler(key: str, fn: Callable[..., tuple[str, int] | None]) -> None:
    """Have ``fn(email=..., mailbox=...)`` see each new readable inbound message before it
    is filed or triaged (the service app threads replies onto cases and opens cases from a
    support mailbox). The first that returns ``(object_key, object_id)`` took it: the
    message is linked to that record and does not wait in triage. It runs in the storing
    transaction, in a savepoint: an ``ApplicationError`` it raises is logged and the next
    handler is asked."""
    _inbound_handlers[key] = fn


def unregister_inbound_handler(key: str) -> None:
    _inbound_handlers.pop(key, None)


def _offer_to_handlers(email: EmailMessage, mailbox: Mailbox) -> bool:
    for key, fn in list(_inbound_handlers.items()):
        try:
            with transaction.atomic():
                taken = fn(email=email, mailbox=mailbox)
        except ApplicationError as exc:
            logger.warning("e-mail %s: inbound handler %s refused it: %s", email.pk, key, exc)
            continue
        if taken:
            email.related_object_key, email.related_object_id = taken
            email.save(update_fields=["related_object_key", "related_object_id"])
            return True
    return False


# --- triage ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageAction:
    """Something else a triaged message can become (a lead, a case). ``handler`` is
    called inside the filing transaction with ``actor``, ``workspace`` and ``email`` and
    returns ``(object_key, object_id)`` of what it made."""

    key: str
    label: Any
    handler: Callable[..., tuple[str, int]]
    allowed: Callable[[User], bool] | None = None


_triage_actions: dict[str, TriageAction] = {}


def register_triage_action(
    key: str, label, fn: Callable[..., tuple[str, int]], *, allowed=None
) -> TriageAction:
    """Offer "turn into …" on triaged messages (the sales and service apps register theirs
    from their ``AppConfig.ready``). With none registered, no such buttons appear."""
    action = TriageAction(key=key, label=label, handler=fn, allowed=allowed)
    _triage_actions[key] = action
    return action


def unregister_triage_action(key: str) -> None:
    _triage_actions.pop(key, None)


def triage_actions(actor: User) -> list[TriageAction]:
    return [a for a in _triage_actions.values() if a.allowed is None or a.allowed(actor)]


def may_triage(actor: User, email: EmailMessage) -> bool:
    """Whether the actor may file or dismiss this message: its triage owner (if they may
    write e-mail at all), or anyone who may file any message."""
    if email_selectors.can_triage_all(actor):
        return True
    return email.assigned_to_id == actor.pk and permissions.can(actor, EMAIL, Action.CREATE)


def _may_triage(actor: User, email: EmailMessage) -> None:
    if not may_triage(actor, email):
        permissions.require(actor, EMAIL, Action.UPDATE)


def _waiting(workspace, actor: User, email_id) -> EmailMessage:
    """The triaged message, locked, or an error saying why it cannot be filed."""
    email = email_selectors.email_get(workspace=workspace, actor=actor, email_id=email_id)
    _may_triage(actor, email)
    locked = (
        EmailMessage.objects.in_workspace(workspace).select_for_update().filter(pk=email.pk).first()
    )
    if locked is None:
        raise NotFound()
    if locked.status != EmailStatus.TRIAGE:
        raise Conflict(
            _("This message is no longer waiting in triage (%(status)s).")
            % {"status": locked.get_status_display()},
            code="not_in_triage",
        )
    return locked


def email_file(
    *,
    actor: User,
    workspace: Workspace,
    email_id: int,
    contact_id: int | None = None,
    account_id: int | None = None,
    add_address: bool = False,
) -> EmailMessage:
    """File a triaged message to a contact or an account: it goes on their timeline.
    ``add_address`` also adds the sender's address to the contact's e-mails."""
    permissions.require(actor, EMAIL, Action.READ)
    if contact_id is None and account_id is None:
        message = _("Choose the contact or account to file this message to.")
        raise ApplicationError(message, code="no_customer", fields={"contact_id": [message]})
    contact = account = None
    if contact_id is not None:
        contact = customer_selectors.contact_get(
            workspace=workspace, actor=actor, contact_id=contact_id
        )
        account = contact.account
    if account_id is not None:
        account = customer_selectors.account_get(
            workspace=workspace, actor=actor, account_id=account_id
        )
    if add_address:
        if contact is None:
            message = _("Choose a contact to add the address to.")
            raise ApplicationError(message, fields={"add_address": [message]})
        permissions.require(actor, CONTACT, Action.UPDATE)
    with transaction.atomic():
        email = _waiting(workspace, actor, email_id)
        before = audit.snapshot(email, ["status", "contact", "account"])
        email.contact, email.account = contact, account
        email.status = EmailStatus.FILED
        email.filed_by, email.filed_at = actor, timezone.now()
        email.save()
        email.entry = _timeline_entry(email, contact, account, author=None)
        email.save(update_fields=["entry"])
        address = normalize.email(email.from_address)
        if add_address and address and address not in contact_addresses(workspace, contact):
            records.point_add(
                actor=actor,
                workspace=workspace,
                object_key=CONTACT,
                record_id=contact.pk,
                kind=PointKind.EMAIL,
                value=address,
            )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key=EMAIL,
            object_id=email.pk,
            object_repr=email.subject,
            changes=audit.diff(before, audit.snapshot(email, ["status", "contact", "account"])),
        )
    return email


def email_dismiss(*, actor: User, workspace: Workspace, email_id: int) -> EmailMessage:
    """Take a message out of triage without filing it (spam, newsletters)."""
    permissions.require(actor, EMAIL, Action.READ)
    with transaction.atomic():
        email = _waiting(workspace, actor, email_id)
        email.status = EmailStatus.DISMISSED
        email.filed_by, email.filed_at = actor, timezone.now()
        email.save()
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key=EMAIL,
            object_id=email.pk,
            object_repr=email.subject,
            changes={"status": [EmailStatus.TRIAGE, EmailStatus.DISMISSED]},
        )
    return email


def email_triage_action(
    *, actor: User, workspace: Workspace, email_id: int, key: str
) -> EmailMessage:
    """Turn a triaged message into what a registered action makes (a lead, a case)."""
    permissions.require(actor, EMAIL, Action.READ)
    action = _triage_actions.get(key)
    if action is None:
        raise NotFound(_("There is no such action."))
    if action.allowed is not None and not action.allowed(actor):
        raise PermissionDenied(_("Your role may not do this."))
    with transaction.atomic():
        email = _waiting(workspace, actor, email_id)
        object_key, object_id = action.handler(actor=actor, workspace=workspace, email=email)
        email.status = EmailStatus.FILED
        email.related_object_key, email.related_object_id = object_key, object_id
        email.filed_by, email.filed_at = actor, timezone.now()
        email.save()
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key=EMAIL,
            object_id=email.pk,
            object_repr=email.subject,
            changes={
                "status": [EmailStatus.TRIAGE, EmailStatus.FILED],
                "related": [None, f"{object_key}:{object_id}"],
            },
        )
    return email
