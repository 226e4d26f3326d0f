"""Cases by SMS: an incoming text threads onto the sender's open case or opens a new one.

The sender's number (E.164) finds the contact — their mobile, their phone, or a further
number on file — when exactly one contact has it. The text joins a case that is still
open (new, open or waiting on the customer) and that was texted with in the last
``ChannelSettings.sms_thread_days`` days (14 by default): a text we sent about it to this
number or one that came from it, or — when the contact is known — any text about one of
their cases. Otherwise a new case is opened (channel SMS, the inbound case type). An
unknown number opens a case that keeps the number to answer (``reply_phone``) and makes
no customer: an unknown caller creates no junk customer.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Contact, ContactPoint, PointKind
from guanxi.integrations import sms
from guanxi.integrations.models import SmsMessage
from guanxi.platform.models import Workspace

from ..models import OPEN_STATUSES, Case, CaseChannel, CaseMessage, MessageKind
from ..objects import CASE
from . import channels
from .case_email import guess_language

SUBJECT_WORDS = 60
CANDIDATES = 50


def contact_for_phone(workspace, phone: str) -> Contact | None:
    """The one contact (not erased) with this number, or None when nobody or several
    people have it (a shared office line is nobody's in particular)."""
    if not phone:
        return None
    contacts = Contact.objects.in_workspace(workspace).filter(erased_at__isnull=True)
    ids = set(contacts.filter(Q(mobile=phone) | Q(phone=phone)).values_list("pk", flat=True)[:2])
    points = (
        ContactPoint.objects.in_workspace(workspace)
        .filter(kind=PointKind.PHONE, value=phone, contact__isnull=False)
        .filter(contact__erased_at__isnull=True)
        .values_list("contact_id", flat=True)
    )
    ids.update(points[:2])
    if len(ids) != 1:
        return None
    return contacts.filter(pk=next(iter(ids))).select_related("account").first()


def open_case_for_text(workspace, *, phone: str, contact: Contact | None, days: int) -> Case | None:
    """The sender's open case that was texted with lately (see the module), newest first."""
    since = timezone.now() - dt.timedelta(days=days)
    related = Q(phone=phone)
    if contact is not None:
        their_cases = Case.objects.in_workspace(workspace).filter(
            contact=contact, status__in=OPEN_STATUSES
        )
        related |= Q(related_object_id__in=their_cases.values("pk"))
    case_ids = list(
        SmsMessage.objects.in_workspace(workspace)
        .filter(related, related_object_key=CASE, created_at__gte=since)
        .order_by("-id")
        .values_list("related_object_id", flat=True)[:CANDIDATES]
    )
    if not case_ids:
        return None
    open_cases = {
        c.pk: c
        for c in Case.objects.in_workspace(workspace).filter(
            pk__in=set(case_ids), status__in=OPEN_STATUSES
        )
    }
    for case_id in case_ids:
        case = open_cases.get(case_id)
        if case is None:
            continue
        mine = case.reply_phone == phone or (contact is not None and case.contact_id == contact.pk)
        if mine:
            return case
    return None


def _subject(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) > SUBJECT_WORDS:
        first = first[: SUBJECT_WORDS - 1].rstrip() + "…"
    return first or str(_("(empty text message)"))


def case_from_sms(message: SmsMessage) -> bool:
    """The inbound SMS handler: thread the text onto the sender's open case or open one.
    Returns False (leaving the text in the SMS inbox only) for an empty text or a sender
    that is no phone number."""
    from . import cases

    text = (message.body or "").strip()
    if not text or message.direction != "in" or not sms.phone_e164(message.phone):
        # Empty, or from a short code (an operator's notice): kept in the inbox only.
        return False
    workspace = Workspace.objects.get(pk=message.workspace_id)
    phone = message.phone
    contact = contact_for_phone(workspace, phone)
    settings_row = channels.channel_settings(workspace)
    case = open_case_for_text(
        workspace, phone=phone, contact=contact, days=settings_row.sms_thread_days or 14
    )
    if case is not None:
        cases.case_customer_message(
            workspace=workspace,
            case=case,
            body=text,
            channel=CaseChannel.SMS,
            contact=contact.pk if contact is not None and contact.pk == case.contact_id else None,
            sms_id=message.pk,
        )
        sms.sms_link(message, object_key=CASE, object_id=case.pk)
        return True
    case_type = channels.inbound_case_type(workspace, settings_row)
    if case_type is None:
        return False
    case = cases.case_create(
        actor=None,
        workspace=workspace,
        values={"case_type": case_type.pk, "subject": _subject(text), "description": text},
        channel=CaseChannel.SMS,
        contact=contact,
        reply_phone=phone,
        language=guess_language(text),
    )
    CaseMessage.objects.in_workspace(workspace).filter(case=case, kind=MessageKind.INBOUND).update(
        sms_id=message.pk
    )
    sms.sms_link(message, object_key=CASE, object_id=case.pk)
    return True
