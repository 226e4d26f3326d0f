"""What goes to the customer about a case, by e-mail or SMS (owned by the channels part).

CONTRACT (the case services call these inside their transaction):
- ``case_acknowledge(case)``: queue the acknowledgement with the case number, once per
  case (a conditional update of ``acknowledged_at`` decides who sends; the SMS also has
  the idempotency key ``case-ack:<id>``), leaving after commit.
- ``case_deliver(case, message)``: queue an agent's answer (an outbound ``CaseMessage``)
  to the customer, once per message, and record the mail's or text's id on the message.

Where it goes. The channel the case came in by is tried first — a case from SMS is
answered by SMS, one from e-mail by e-mail; others prefer e-mail, or SMS when that is the
contact's preferred channel — then the other one. The address is the contact's (their
e-mail, their mobile) unless they were erased or refused service messages on that
channel, else the case's reply address. With neither, nothing is sent (the portal still
shows the answer).

Language: the case's (zh-hans, zh-hant or en), else the workspace's. E-mail carries the
case's thread tag in its subject and a recorded Message-ID (``case_email``), so the
customer's reply threads onto the case; both carry the portal link when the portal is
open.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from guanxi.customers.models import Channel, ConsentPurpose, Contact
from guanxi.customers.services.consent import may_contact
from guanxi.integrations import sms
from guanxi.platform import mail

from ..models import Case, CaseChannel, CaseMessage, MessageKind

logger = logging.getLogger(__name__)

EMAIL = "email"
SMS = "sms"
LANGUAGES = ("zh-hans", "zh-hant", "en")


# --- language, addresses, links --------------------------------------------------------------


def case_language(case: Case) -> str:
    """The case's language as one of ours: zh-hans, zh-hant or en."""
    lang = (case.language or "").strip().lower().replace("_", "-")
    if not lang:
        lang = (getattr(case.workspace, "language", "") or "zh-hans").lower()
    if lang in LANGUAGES:
        return lang
    if lang.startswith("zh"):
        return "zh-hant" if lang in ("zh-tw", "zh-hk", "zh-mo") else "zh-hans"
    if lang.startswith("en"):
        return "en"
    return "zh-hans"


def _valid_email(value: str) -> str:
    address = (value or "").strip().lower()
    if not address:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


def _contact(case: Case) -> Contact | None:
    if not case.contact_id:
        return None
    contact = case.contact
    return None if contact is None or contact.erased_at is not None else contact


def destinations(case: Case) -> list[tuple[str, str]]:
    """Where to write to the customer of ``case``, best first: ``[(channel, address)]``."""
    contact = _contact(case)
    email = phone = ""
    if contact is not None:
        service = ConsentPurpose.SERVICE
        if contact.email and may_contact(
            workspace=case.workspace_id,
            contact_id=contact.pk,
            channel=Channel.EMAIL,
            purpose=service,
        ):
            email = _valid_email(contact.email)
        number = sms.phone_e164(contact.mobile) if contact.mobile else None
        if number and may_contact(
            workspace=case.workspace_id, contact_id=contact.pk, channel=Channel.SMS, purpose=service
        ):
            phone = number
    email = email or _valid_email(case.reply_email)
    phone = phone or (sms.phone_e164(case.reply_phone) or "")
    by_email = [(EMAIL, email)] if email else []
    by_sms = [(SMS, phone)] if phone else []
    prefers_sms = case.channel == CaseChannel.SMS or (
        case.channel != CaseChannel.EMAIL
        and contact is not None
        and contact.preferred_channel == Channel.SMS
    )
    return by_sms + by_email if prefers_sms else by_email + by_sms


def portal_link(case: Case) -> str:
    """The portal's page of the case (the contact signs in there), or its home page for a
    case without a contact; "" when the portal is closed or not installed."""
    from . import portal

    workspace = case.workspace
    if not portal.portal_settings(workspace).enabled:
        return ""
    try:
        if case.contact_id:
            path = reverse("portal:case", args=[workspace.slug, case.number])
        else:
            path = reverse("portal:home", args=[workspace.slug])
    except NoReverseMatch:
        return ""
    return mail.absolute_url(path)


def _context(case: Case, **extra) -> dict:
    contact = _contact(case)
    return {
        "case": case,
        "name": contact.name if contact is not None else "",
        "workspace_name": case.workspace.name,
        "portal_url": portal_link(case),
        **extra,
    }


def _render(template: str, context: dict, *, one_line: bool = False) -> str:
    text = loader.render_to_string(template, context).strip()
    return " ".join(text.split()) if one_line else text


def _sms_text(body: str, footer: str) -> str:
    """``body`` and ``footer`` within one text's size; a long body is shortened."""
    room = sms.BODY_MAX - len(footer) - 1
    body = body.strip()
    if len(body) > room:
        body = body[: room - 1].rstrip() + "…"
    return f"{body}\n{footer}".strip()


# --- the acknowledgement ---------------------------------------------------------------------


def case_acknowledge(case: Case) -> None:
    """Tell the customer their case is received, with its number (and the portal link),
    by the first of ``destinations``; once per case whatever calls it again."""
    from .case_email import case_email_queue

    targets = destinations(case)
    if not targets:
        return
    now = timezone.now()
    claimed = (
        Case.objects.in_workspace(case.workspace_id)
        .filter(pk=case.pk, acknowledged_at__isnull=True)
        .update(acknowledged_at=now)
    )
    if not claimed:
        return
    case.acknowledged_at = now
    channel, address = targets[0]
    with translation.override(case_language(case)):
        context = _context(case)
        if channel == EMAIL:
            case_email_queue(
                case,
                to=address,
                subject=_render("service/channels/ack_subject.txt", context, one_line=True),
                body=_render("service/channels/ack_body.txt", context),
            )
            return
        body = _render("service/channels/ack_sms.txt", context, one_line=True)
    sms.sms_send(
        workspace=case.workspace_id,
        phone=address,
        body=_sms_text(body, ""),
        purpose="case_ack",
        idempotency_key=f"case-ack:{case.pk}",
        related=case,
    )


# --- answers ---------------------------------------------------------------------------------


def case_deliver(case: Case, message: CaseMessage) -> None:
    """Send an agent's answer to the customer by the first of ``destinations`` and record
    the mail's or the text's id on the message; notes and customers' messages go nowhere."""
    from .case_email import case_email_queue

    if message.kind != MessageKind.OUTBOUND or message.email_id or message.sms_id:
        return
    targets = destinations(case)
    if not targets:
        logger.info("case %s: answer %s not sent, no e-mail or mobile", case.pk, message.pk)
        return
    channel, address = targets[0]
    messages = CaseMessage.objects.in_workspace(case.workspace_id).filter(pk=message.pk)
    with translation.override(case_language(case)):
        context = _context(case, message=message)
        if channel == EMAIL:
            email = case_email_queue(
                case,
                to=address,
                subject=_render("service/channels/reply_subject.txt", context, one_line=True),
                body=_render("service/channels/reply_body.txt", context),
                sender=message.author,
            )
            messages.update(email_id=email.pk)
            message.email_id = email.pk
            return
        footer = _render("service/channels/reply_sms_footer.txt", context, one_line=True)
    text = sms.sms_send(
        workspace=case.workspace_id,
        phone=address,
        body=_sms_text(message.body, footer),
        purpose="case_reply",
        idempotency_key=f"case-message:{message.pk}",
        related=case,
    )
    messages.update(sms_id=text.pk)
    message.sms_id = text.pk
