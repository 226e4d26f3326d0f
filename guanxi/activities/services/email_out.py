"""Sending e-mail to customers.

``email_send`` checks and records a message (an ``EmailMessage`` row in state *queued*
and its timeline entry, in one transaction) and queues the send on commit. The worker's
``deliver`` claims the row (*queued* → *sending*) before it talks to the SMTP server, and
marks it *sent* or *failed* after; ``sweep`` re-queues rows whose task was lost and fails
rows left in *sending* — those are never sent again, because nobody can know whether the
server took them (a customer getting the same mail twice is worse than a visible
"may not have been sent").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
import socket
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import AccountContact, ContactPoint, PointKind
from guanxi.customers.services.consent import may_contact
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import (
    EmailAttachment,
    EmailDirection,
    EmailMessage,
    EmailPurpose,
    EmailStatus,
    EntryKind,
)
from ..objects import EMAIL
from ..selectors import email as email_selectors
from . import email_templates
from .timeline import record_entry

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 20
# A row still "sending" after this long belongs to a worker that died mid-send.
STUCK_AFTER = dt.timedelta(minutes=10)
# A queued row this old has lost its task (the queue was flushed, the worker was down).
REQUEUE_AFTER = dt.timedelta(minutes=5)
# Errors worth another try: the server could not be reached or hung up before it took the
# message. A refusal (5xx) is final.
RETRYABLE = (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, socket.timeout, OSError)


def _addresses(values, *, field: str) -> list[str]:
    if isinstance(values, str):
        values = [v for v in values.replace(";", ",").split(",")]
    out: list[str] = []
    for raw in values or []:
        address = str(raw or "").strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            message = _("“%(address)s” is not a valid e-mail address.") % {"address": raw}
            raise ApplicationError(
                message, code="invalid_address", fields={field: [message]}
            ) from None
        if address not in out:
            out.append(address)
    return out


def _text(value, *, field: str, max_length: int, required: bool = True) -> str:
    text = str(value or "")
    if "\x00" in text:
        message = _("Text may not contain NUL characters.")
        raise ApplicationError(message, fields={field: [message]})
    text = text.strip()
    if required and not text:
        message = _("This field is required.")
        raise ApplicationError(message, fields={field: [message]})
    if len(text) > max_length:
        message = _("At most %(n)s characters.") % {"n": max_length}
        raise ApplicationError(message, fields={field: [message]})
    return text


def contact_addresses(workspace, contact) -> list[str]:
    """A contact's e-mail addresses: the primary one, then the further ones."""
    addresses = [contact.email] if contact.email else []
    points = ContactPoint.objects.in_workspace(workspace).filter(
        contact=contact, kind=PointKind.EMAIL
    )
    for value in points.order_by("id").values_list("value", flat=True):
        if value not in addresses:
            addresses.append(value)
    return addresses


def _check_consent(workspace, contact, purpose: str) -> None:
    if may_contact(workspace=workspace, contact_id=contact.pk, channel="email", purpose=purpose):
        return
    if purpose == EmailPurpose.MARKETING:
        message = _(
            "%(name)s has not agreed to receive marketing e-mail, so this message was not "
            "sent. One-to-one service mail (about their order, case or appointment) is "
            "allowed: send it as service mail."
        ) % {"name": contact.name}
        raise ApplicationError(message, code="no_marketing_consent", fields={"purpose": [message]})
    message = _("%(name)s may not be e-mailed (consent withdrawn or data erased).") % {
        "name": contact.name
    }
    raise ApplicationError(message, code="no_consent", status=409)


def sender_addresses(workspace, actor: User | None) -> tuple[str, str]:
    """(From, Reply-To): the workspace's mailbox when one is configured, so replies come
    back into the fetched mailbox; otherwise ``DEFAULT_FROM_EMAIL`` and no Reply-To."""
    mailbox = email_selectors.reply_mailbox(workspace)
    name = actor.full_name if actor is not None else ""
    if mailbox is not None:
        return formataddr((name, mailbox.address)), mailbox.address
    return settings.DEFAULT_FROM_EMAIL, ""


def _domain(from_header: str) -> str:
    from email.utils import parseaddr

    address = parseaddr(from_header)[1]
    return address.rpartition("@")[2] or "localhost"


def email_send(
    *,
    actor: User,
    workspace: Workspace,
    contact_id: int | None = None,
    account_id: int | None = None,
    to=None,
    cc=None,
    subject: str = "",
    body: str = "",
    template_id: int | None = None,
    purpose: str = EmailPurpose.SERVICE,
    in_reply_to_id: int | None = None,
    attachments=(),
) -> EmailMessage:
    """Queue an e-mail to a customer: recipients checked, consent checked (marketing needs
    the contact's e-mail marketing consent; service mail does not), placeholders rendered,
    the row and its timeline entry written together; the worker sends it after commit.
    Without ``to``, it goes to the contact's e-mail addresses. ``attachments`` are
    ``(filename, bytes, content type)`` triples made by the caller (a quote's PDF), stored
    with the message and sent with it."""
    permissions.require(actor, EMAIL, Action.CREATE)
    if purpose not in EmailPurpose.values:
        message = _("Choose one of: %(choices)s.") % {"choices": ", ".join(EmailPurpose.values)}
        raise ApplicationError(message, fields={"purpose": [message]})
    if contact_id is None and account_id is None and in_reply_to_id is None:
        message = _("Choose the contact or account this e-mail is to.")
        raise ApplicationError(message, code="no_customer", fields={"contact_id": [message]})
    parent = None
    if in_reply_to_id is not None:
        parent = email_selectors.email_get(
            workspace=workspace, actor=actor, email_id=in_reply_to_id
        )
        if contact_id is None and account_id is None:
            contact_id, account_id = parent.contact_id, parent.account_id
    contact = account = None
    if contact_id is not None:
        contact = customer_selectors.contact_get(
            workspace=workspace, actor=actor, contact_id=contact_id
        )
    if account_id is not None:
        account = customer_selectors.account_get(
            workspace=workspace, actor=actor, account_id=account_id
        )
    if contact is None and account is None:
        message = _("Choose the contact or account this e-mail is to.")
        raise ApplicationError(message, code="no_customer", fields={"contact_id": [message]})
    if contact is not None and account is not None and contact.account_id != account.pk:
        at_account = AccountContact.objects.in_workspace(workspace).filter(
            account=account, contact=contact
        )
        if not at_account.exists():
            message = _("%(contact)s is not a contact of %(account)s.") % {
                "contact": contact.name,
                "account": account.name,
            }
            raise ApplicationError(message, fields={"contact_id": [message]})
    template = None
    if template_id is not None:
        template = email_selectors.template_get(
            workspace=workspace, actor=actor, template_id=template_id
        )
        if template.purpose == EmailPurpose.MARKETING:
            # A marketing template stays marketing whatever the form said.
            purpose = EmailPurpose.MARKETING
        subject = subject or template.subject
        body = body or template.body
    if purpose == EmailPurpose.MARKETING and contact is None:
        message = _("Marketing e-mail goes to a contact whose consent is recorded: choose one.")
        raise ApplicationError(message, code="no_customer", fields={"contact_id": [message]})
    subject = _text(subject, field="subject", max_length=300)
    body = _text(body, field="body", max_length=100_000)
    email_templates.check_placeholders(subject=subject, body=body)
    recipients = _addresses(to, field="to")
    if not recipients and contact is not None:
        recipients = contact_addresses(workspace, contact)
    if not recipients:
        message = _("Enter at least one recipient: this customer has no e-mail address.")
        raise ApplicationError(message, code="no_recipient", fields={"to": [message]})
    copies = [a for a in _addresses(cc, field="cc") if a not in recipients]
    if len(recipients) + len(copies) > MAX_RECIPIENTS:
        message = _("At most %(n)s recipients.") % {"n": MAX_RECIPIENTS}
        raise ApplicationError(message, fields={"to": [message]})
    if contact is not None:
        _check_consent(workspace, contact, purpose)
    context = email_templates.context_for(contact=contact, account=account, user=actor)
    subject = " ".join(email_templates.render_text(subject, context).split())[:300]
    body = email_templates.render_text(body, context)
    from_header, _reply_to = sender_addresses(workspace, actor)
    message_id = make_msgid(domain=_domain(from_header))
    in_reply_to = references = ""
    thread_root = message_id
    if parent is not None and parent.message_id:
        in_reply_to = parent.message_id
        references = " ".join(filter(None, [parent.references, parent.message_id]))[-2000:]
        thread_root = parent.thread_root or parent.message_id
    if account is None and contact is not None and contact.account_id:
        account = contact.account
    with transaction.atomic():
        email = EmailMessage.objects.create(
            workspace=workspace,
            direction=EmailDirection.OUTBOUND,
            status=EmailStatus.QUEUED,
            purpose=purpose,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            thread_root=thread_root,
            from_address=from_header[:254],
            from_name=actor.full_name[:200],
            to=recipients,
            cc=copies,
            subject=subject,
            body_text=body,
            account=account,
            contact=contact,
            sender=actor,
            template=template,
        )
        email.entry = record_entry(
            workspace=workspace,
            author=actor,
            kind=EntryKind.EMAIL,
            direction="out",
            channel="email",
            subject=subject,
            body=body,
            account=account,
            contacts=[contact] if contact is not None else [],
            data={"email_id": email.pk, "message_id": message_id, "to": recipients},
        )
        email.save(update_fields=["entry"])
        for filename, content, content_type in attachments:
            _attach_outbound(email, filename, content, content_type)
        audit.log_create(actor=actor, instance=email)
        transaction.on_commit(lambda: enqueue_send(email.pk))
    return email


def _attach_outbound(email: EmailMessage, filename: str, content: bytes, content_type: str):
    from django.core.files.base import ContentFile

    attachment = EmailAttachment(
        workspace_id=email.workspace_id,
        message=email,
        filename=filename[:255],
        content_type=content_type[:120],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    attachment.file.save(f"{email.pk}-{len(content)}.bin", ContentFile(content), save=False)
    attachment.save()
    return attachment


def enqueue_send(email_id: int) -> None:
    from ..email_jobs import send_email_message

    send_email_message(email_id)


# --- the worker's side ---------------------------------------------------------------------


def _claim(email_id: int) -> EmailMessage | None:
    """Move one queued row to *sending*, or None if another worker has it or it is done.
    The conditional UPDATE is the guard on every database; ``skip_locked`` spares a second
    PostgreSQL worker the wait."""
    with transaction.atomic():
        row = (
            EmailMessage.objects.across_workspaces()
            .select_for_update(skip_locked=True)
            .filter(pk=email_id, status=EmailStatus.QUEUED)
            .first()
        )
        if row is None:
            return None
        claimed = (
            EmailMessage.objects.across_workspaces()
            .filter(pk=email_id, status=EmailStatus.QUEUED)
            .update(
                status=EmailStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
            )
        )
        if not claimed:
            return None
    row.status = EmailStatus.SENDING
    return row


def _mark(email_id: int, status: str, **fields) -> None:
    EmailMessage.objects.across_workspaces().filter(pk=email_id, status=EmailStatus.SENDING).update(
        status=status, updated_at=timezone.now(), **fields
    )


def build_message(email: EmailMessage) -> EmailMultiAlternatives:
    _from, reply_to = sender_addresses(email.workspace_id, email.sender)
    headers = {"Message-ID": email.message_id}
    if email.in_reply_to:
        headers["In-Reply-To"] = email.in_reply_to
    if email.references:
        headers["References"] = email.references
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_address or settings.DEFAULT_FROM_EMAIL,
        to=list(email.to),
        cc=list(email.cc or []),
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    if email.direction == EmailDirection.OUTBOUND:
        for item in email.attachments.all():
            with item.file.open("rb") as handle:
                message.attach(item.filename, handle.read(), item.content_type or None)
    return message


def deliver(email_id: int, *, retries_left: int = 0) -> str:
    """Send one queued message (the worker's task). Returns the state it ended in.

    Only what certainly sent nothing is retried — the connection could not be opened, or the
    server answered 4xx — by raising with the row queued again, so the retry (or the
    sweeper) claims it. A connection that breaks while the message is on its way may have
    delivered it: that row fails with a message saying so and is never sent again."""
    email = _claim(email_id)
    if email is None:
        return "skipped"
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except RETRYABLE as exc:
        return _retry_or_fail(email_id, exc, retries_left)
    try:
        connection.send_messages([build_message(email)])
    except smtplib.SMTPRecipientsRefused as exc:
        _mark(email_id, EmailStatus.FAILED, error=_error_text(exc))
        return EmailStatus.FAILED
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            return _retry_or_fail(email_id, exc, retries_left)
        _mark(email_id, EmailStatus.FAILED, error=_error_text(exc))
        return EmailStatus.FAILED
    except RETRYABLE as exc:
        message = _(
            "The connection to the mail server broke while sending; this message may have "
            "been delivered. It is not sent again automatically."
        )
        _mark(email_id, EmailStatus.FAILED, error=f"{message} ({_error_text(exc)})"[:500])
        return EmailStatus.FAILED
    finally:
        connection.close()
    _mark(email_id, EmailStatus.SENT, sent_at=timezone.now(), error="")
    return EmailStatus.SENT


def _retry_or_fail(email_id: int, exc: Exception, retries_left: int) -> str:
    if retries_left > 0:
        _mark(email_id, EmailStatus.QUEUED, error=_error_text(exc))
        raise exc
    _mark(email_id, EmailStatus.FAILED, error=_error_text(exc))
    return EmailStatus.FAILED


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def sweep(*, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Fail rows stuck in *sending* (never re-sent) and re-queue queued rows whose task was
    lost. Returns the ids of each."""
    now = now or timezone.now()
    rows = EmailMessage.objects.across_workspaces()
    stuck = list(
        rows.filter(status=EmailStatus.SENDING, updated_at__lt=now - STUCK_AFTER).values_list(
            "pk", flat=True
        )
    )
    if stuck:
        rows.filter(pk__in=stuck, status=EmailStatus.SENDING).update(
            status=EmailStatus.FAILED,
            updated_at=now,
            error=str(
                _(
                    "The worker stopped while sending; this message may not have been sent. "
                    "It is not sent again automatically."
                )
            ),
        )
    lost = list(
        rows.filter(status=EmailStatus.QUEUED, updated_at__lt=now - REQUEUE_AFTER).values_list(
            "pk", flat=True
        )
    )
    for email_id in lost:
        # Touch the row so the next sweep waits again; the claim makes a double enqueue
        # harmless.
        rows.filter(pk=email_id, status=EmailStatus.QUEUED).update(updated_at=now)
        enqueue_send(email_id)
    return {"failed": stuck, "requeued": lost}
