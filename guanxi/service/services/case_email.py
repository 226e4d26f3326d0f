"""Cases by e-mail: the case's mail out (threaded), and mail in — replies that thread onto
their case, messages to a support mailbox that open one, and "Turn into a case" in triage.

Threading. Every mail about a case carries the case number and a thread tag in its
subject — ``[CS-2026-000123·3f9a1c2b]``, the first ``TAG_KEY_LENGTH`` characters of the
case's secret ``thread_key`` — and a Message-ID we record (an outbound ``EmailMessage``
linked to the case). An incoming message joins a case when

- its subject carries the case's number *with that case's own key*, or its In-Reply-To /
  References names a Message-ID we sent *for that case*, **and**
- its sender is the case's contact (any of their addresses) or the case's reply address.

A number with someone else's key, a References id of another customer's case, or the right
tag from a stranger's address does not attach: the message is filed or triaged as usual.
"""

from __future__ import annotations

import hmac
import re
from email.utils import make_msgid, parseaddr

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import (
    EmailDirection,
    EmailMessage,
    EmailPurpose,
    EmailStatus,
    Mailbox,
    TimelineEntry,
)
from guanxi.activities.services import email_in, email_out
from guanxi.common.errors import ApplicationError
from guanxi.customers import normalize
from guanxi.platform.models import User, Workspace

from ..models import Case, CaseChannel, CaseMessage, MessageKind
from ..objects import CASE
from . import channels, customer_messages

TAG_KEY_LENGTH = 8
SUBJECT_MAX = 200
DESCRIPTION_MAX = 20_000
_TAG = re.compile(r"\[\s*(CS-\d{4}-\d{4,12})\s*[·#:\s]\s*([0-9a-fA-F]{6,16})\s*\]")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)
# Where a reply's quoted history starts: "> …", "On … wrote:", "在 … 写道：", Outlook's rule.
_QUOTE_START = re.compile(
    r"^(>|On .{0,200} wrote:\s*$|在.{0,200}写道[:：]\s*$|-{2,}\s*(Original Message|原始邮件)\s*-{2,})",
    re.IGNORECASE,
)


# --- subjects and tags -----------------------------------------------------------------------


def thread_tag(case: Case) -> str:
    return f"[{case.number}·{case.thread_key[:TAG_KEY_LENGTH]}]"


def tagged_subject(case: Case, subject: str) -> str:
    """``subject`` with the case's tag (once) at its end, within the mail subject's size."""
    tag = thread_tag(case)
    subject = " ".join(str(subject or "").split()).replace(tag, "").strip()
    room = 300 - len(tag) - 1
    return f"{subject[:room]} {tag}".strip()


def subject_tags(subject: str) -> list[tuple[str, str]]:
    """The (case number, key) pairs in a subject, in order."""
    return [(m.group(1), m.group(2).lower()) for m in _TAG.finditer(subject or "")]


def clean_subject(subject: str) -> str:
    """A subject without "Re:"/"回复：" prefixes and case tags, for a new case's subject."""
    text = _TAG.sub("", str(subject or ""))
    text = _REPLY_PREFIX.sub("", text)
    return " ".join(text.split())


def new_text(body: str) -> str:
    """What the customer wrote in a reply, without the quoted history under it."""
    lines = str(body or "").replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for line in lines:
        if _QUOTE_START.match(line.strip()):
            break
        kept.append(line)
    text = "\n".join(kept).strip()
    return text or str(body or "").strip()


def guess_language(text: str) -> str:
    return "zh-hans" if normalize.has_cjk(text or "") else "en"


# --- who may write on a case ----------------------------------------------------------------


def case_addresses(case: Case) -> set[str]:
    """The addresses a customer may write about ``case`` from: the contact's (all of them)
    and the case's reply address."""
    addresses = set()
    if case.reply_email:
        addresses.add(normalize.email(case.reply_email))
    if case.contact_id:
        addresses.update(
            normalize.email(a) for a in email_out.contact_addresses(case.workspace_id, case.contact)
        )
    addresses.discard("")
    return addresses


def _sender_matches(case: Case, address: str) -> bool:
    address = normalize.email(address or "")
    return bool(address) and address in case_addresses(case)


def case_for_email(email: EmailMessage) -> Case | None:
    """The case an incoming message belongs to (see the module's rules), or None."""
    workspace_id = email.workspace_id
    cases = Case.objects.in_workspace(workspace_id).select_related("contact")
    for number, key in subject_tags(email.subject)[:5]:
        case = cases.filter(number=number).first()
        if case is None:
            continue
        own = case.thread_key[:TAG_KEY_LENGTH].lower()
        if hmac.compare_digest(own, key[:TAG_KEY_LENGTH]) and _sender_matches(
            case, email.from_address
        ):
            return case
    ids = [m for m in dict.fromkeys([email.in_reply_to, *(email.references or "").split()]) if m]
    if ids:
        sent = (
            EmailMessage.objects.in_workspace(workspace_id)
            .filter(
                direction=EmailDirection.OUTBOUND,
                message_id__in=ids[:50],
                related_object_key=CASE,
            )
            .values_list("message_id", "related_object_id")
        )
        case_ids = dict(sent)
        for message_id in ids:
            case_id = case_ids.get(message_id)
            if case_id is None:
                continue
            case = cases.filter(pk=case_id).first()
            if case is not None and _sender_matches(case, email.from_address):
                return case
    return None


# --- mail out --------------------------------------------------------------------------------


def _previous_message_id(case: Case) -> tuple[str, str]:
    """(In-Reply-To, References) for the next mail of ``case``: the latest mail of its
    conversation, so the customer's mail program shows one thread."""
    last = (
        EmailMessage.objects.in_workspace(case.workspace_id)
        .filter(related_object_key=CASE, related_object_id=case.pk)
        .exclude(message_id="")
        .order_by("-id")
        .values("message_id", "references")
        .first()
    )
    if last is None:
        return "", ""
    references = " ".join(filter(None, [last["references"], last["message_id"]]))[-2000:]
    return last["message_id"], references


def case_email_queue(
    case: Case, *, to: str, subject: str, body: str, sender: User | None = None
) -> EmailMessage:
    """Queue one mail about ``case`` to ``to`` (sent by the activities' mail worker after
    commit; claimed once, never sent twice): the tag in the subject, a Message-ID we
    record, threaded after the case's previous mail."""
    from_header, _reply_to = email_out.sender_addresses(case.workspace_id, sender)
    domain = parseaddr(from_header)[1].rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)
    in_reply_to, references = _previous_message_id(case)
    email = EmailMessage.objects.create(
        workspace_id=case.workspace_id,
        direction=EmailDirection.OUTBOUND,
        status=EmailStatus.QUEUED,
        purpose=EmailPurpose.SERVICE,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        thread_root=message_id,
        from_address=from_header[:254],
        from_name=(sender.full_name if sender is not None else "")[:200],
        to=[to],
        subject=tagged_subject(case, subject),
        body_text=body,
        account_id=case.account_id,
        contact_id=case.contact_id,
        sender=sender,
        related_object_key=CASE,
        related_object_id=case.pk,
    )
    transaction.on_commit(lambda: email_out.enqueue_send(email.pk))
    return email


# --- mail in ---------------------------------------------------------------------------------


def _contact_for(email: EmailMessage):
    """The sender's contact. The mail filing may have put the message on a contact by its
    In-Reply-To alone; a case is the sender's own, so only their address counts here."""
    sender = normalize.email(email.from_address or "")
    if email.contact_id and sender:
        addresses = email_out.contact_addresses(email.workspace_id, email.contact)
        if sender in {normalize.email(a) for a in addresses}:
            return email.contact
    return email_in.match_sender(email.workspace_id, sender)


def case_from_email(*, actor: User | None, workspace: Workspace, email: EmailMessage) -> Case:
    """Open a case from a message: its sender's contact if known (no customer is made for
    an unknown sender: the case keeps the address to answer), its subject and text, the
    inbound case type. The message becomes the case's first message."""
    from . import cases

    contact = _contact_for(email)
    subject = clean_subject(email.subject) or str(_("(no subject)"))
    text = (email.body_text or "").strip()[:DESCRIPTION_MAX] or subject
    case_type = channels.inbound_case_type(workspace)
    if case_type is None:
        raise ApplicationError(_("There is no active case type."), code="no_case_type")
    reply = normalize.email(email.from_address or "")
    case = cases.case_create(
        actor=actor,
        workspace=workspace,
        values={"case_type": case_type.pk, "subject": subject[:SUBJECT_MAX], "description": text},
        channel=CaseChannel.EMAIL,
        contact=contact,
        reply_email=reply if "@" in reply else "",
        language=guess_language(f"{subject}\n{text}"),
        acknowledge=False,
    )
    CaseMessage.objects.in_workspace(workspace).filter(case=case, kind=MessageKind.INBOUND).update(
        email_id=email.pk
    )
    # The message is the case's first mail: the acknowledgement answers it (threaded).
    EmailMessage.objects.in_workspace(workspace).filter(pk=email.pk).update(
        related_object_key=CASE, related_object_id=case.pk
    )
    if email.entry_id:
        TimelineEntry.objects.in_workspace(workspace).filter(pk=email.entry_id).update(
            related_object_key=CASE, related_object_id=case.pk
        )
    customer_messages.case_acknowledge(case)
    return case


def case_email_inbound(*, email: EmailMessage, mailbox: Mailbox) -> tuple[str, int] | None:
    """The activities' inbound handler: a reply threads onto its case; a new message to a
    case mailbox opens one; anything else is left to filing and triage."""
    from guanxi.platform.models import Workspace

    from . import cases

    if email.direction != EmailDirection.INBOUND:
        return None
    case = case_for_email(email)
    if case is not None:
        contact = _contact_for(email)
        cases.case_customer_message(
            workspace=case.workspace,
            case=case,
            body=new_text(email.body_text) or clean_subject(email.subject) or "-",
            channel=CaseChannel.EMAIL,
            contact=contact.pk if contact is not None and contact.pk == case.contact_id else None,
            email_id=email.pk,
        )
        return CASE, case.pk
    if mailbox is not None and mailbox.pk in channels.case_mailbox_ids(email.workspace_id):
        workspace = Workspace.objects.get(pk=email.workspace_id)
        case = case_from_email(actor=None, workspace=workspace, email=email)
        return CASE, case.pk
    return None


def triage_case_from_email(*, actor: User, workspace: Workspace, email: EmailMessage):
    """The triage action "Turn into a case"."""
    case = case_from_email(actor=actor, workspace=workspace, email=email)
    return CASE, case.pk
