"""The satisfaction survey sent on resolution (owned by the surveys part).

CONTRACT (the case services call this when a case becomes resolved):
- survey_start(case, *, now): make the case's survey for this resolution (one per round,
  idempotent) and queue the link by e-mail or SMS on commit.

Where the link goes: the case's e-mail (its contact's, else the reply address the case came
from), else its mobile (the contact's, else the reply phone) by SMS, else nowhere — and
then no survey is made. A contact who was erased, or who said no to surveys (or to service
messages) on a channel, is not asked on that channel. The e-mail is an outbound
``EmailMessage`` sent by the activities' mail worker (claimed once, never sent twice); the
text goes through ``guanxi.integrations.sms.sms_send`` with the key ``survey:<id>``. Both
are queued inside the caller's transaction and leave after it commits.
"""

from __future__ import annotations

from email.utils import make_msgid, parseaddr

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template import loader
from django.utils import formats

from guanxi.platform import audit

from ..models import Survey, SurveyChannel
from . import surveys


def survey_start(case, *, now) -> Survey | None:
    """Make the survey of ``case``'s current resolution round and queue its link; ``None``
    when surveys are off for the case's type, the round already has one, or the customer
    can be reached neither by e-mail nor by SMS."""
    if not surveys.surveys_wanted(case.workspace_id, case):
        return None
    round_ = (case.reopened or 0) + 1
    existing = Survey.objects.in_workspace(case.workspace_id).filter(case_id=case.pk, round=round_)
    if existing.exists():
        return None
    destination = survey_destination(case)
    if destination is None:
        return None
    channel, address = destination
    token = surveys.new_token()
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: a concurrent resolution lost the race
                survey = Survey.objects.create(
                    workspace_id=case.workspace_id,
                    case_id=case.pk,
                    round=round_,
                    token_hash=surveys.token_hash(token),
                    channel=channel,
                    sent_to=address[:254],
                    sent_at=now,
                    expires_at=surveys.expiry_for(now),
                    agent_id=case.assignee_id,
                    account_id=case.account_id,
                    contact_id=case.contact_id,
                )
        except IntegrityError:
            return None
        audit.log_create(actor=None, instance=survey)
        if channel == SurveyChannel.EMAIL:
            _queue_email(case, survey, address, token)
        else:
            _queue_sms(case, survey, address, token)
    return survey


# --- where the link goes ---------------------------------------------------------------------


def _valid_email(value: str) -> str | None:
    address = (value or "").strip().lower()
    if not address:
        return None
    try:
        validate_email(address)
    except ValidationError:
        return None
    return address


def _allowed_channels(workspace_id: int, contact) -> set[str]:
    """The channels on which ``contact`` may be sent a survey: an answer recorded for
    surveys decides; without one the survey is part of the service (allowed unless service
    messages were refused). Erased people: none."""
    from guanxi.customers.models import Consent, ConsentPurpose, ConsentStatus

    channels = {SurveyChannel.EMAIL.value, SurveyChannel.SMS.value}
    if contact is None:
        return channels
    if contact.erased_at is not None:
        return set()
    answers: dict[tuple[str, str], str] = {
        (channel, purpose): status
        for channel, purpose, status in Consent.objects.in_workspace(workspace_id)
        .filter(
            contact_id=contact.pk,
            channel__in=channels,
            purpose__in=(ConsentPurpose.SURVEYS, ConsentPurpose.SERVICE),
        )
        .values_list("channel", "purpose", "status")
    }
    allowed = set()
    for channel in channels:
        decided = answers.get((channel, ConsentPurpose.SURVEYS))
        if decided is None:
            decided = answers.get((channel, ConsentPurpose.SERVICE), ConsentStatus.GRANTED)
        if decided == ConsentStatus.GRANTED:
            allowed.add(channel)
    return allowed


def survey_destination(case) -> tuple[str, str] | None:
    """``(channel, address)`` for the survey link of ``case``, or ``None``."""
    from guanxi.customers.models import Contact
    from guanxi.integrations.sms import phone_e164

    contact = None
    if case.contact_id:
        contact = Contact.objects.in_workspace(case.workspace_id).filter(pk=case.contact_id).first()
    allowed = _allowed_channels(case.workspace_id, contact)
    if SurveyChannel.EMAIL in allowed:
        for value in (getattr(contact, "email", ""), case.reply_email):
            address = _valid_email(value)
            if address:
                return SurveyChannel.EMAIL, address
    if SurveyChannel.SMS in allowed:
        for value in (getattr(contact, "mobile", ""), case.reply_phone):
            number = phone_e164(value)
            if number:
                return SurveyChannel.SMS, number
    return None


# --- the messages ----------------------------------------------------------------------------


def _context(case, survey: Survey, token: str) -> dict:
    from guanxi.activities import localtime

    workspace = case.workspace
    zone = localtime.zone_named(getattr(workspace, "time_zone", ""))
    contact = survey.contact
    return {
        "case": case,
        "name": contact.name if contact is not None else "",
        "workspace_name": workspace.name,
        "url": surveys.survey_url(token),
        "expires": formats.date_format(survey.expires_at.astimezone(zone).date(), "DATE_FORMAT"),
    }


def _queue_email(case, survey: Survey, address: str, token: str) -> None:
    from guanxi.activities.models import EmailDirection, EmailMessage, EmailPurpose, EmailStatus
    from guanxi.activities.services import email_out

    language = surveys.survey_language(case, case.workspace)
    with surveys.in_language(language):
        context = _context(case, survey, token)
        subject = " ".join(
            loader.render_to_string("service/surveys/email_subject.txt", context).split()
        )
        body = loader.render_to_string("service/surveys/email_body.txt", context)
    from_header, _reply_to = email_out.sender_addresses(case.workspace_id, None)
    domain = parseaddr(from_header)[1].rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)
    email = EmailMessage.objects.create(
        workspace_id=case.workspace_id,
        direction=EmailDirection.OUTBOUND,
        status=EmailStatus.QUEUED,
        purpose=EmailPurpose.SERVICE,
        message_id=message_id,
        thread_root=message_id,
        from_address=from_header[:254],
        to=[address],
        subject=subject[:300],
        body_text=body,
        account_id=case.account_id,
        contact_id=case.contact_id,
    )
    transaction.on_commit(lambda: email_out.enqueue_send(email.pk))


def _queue_sms(case, survey: Survey, phone: str, token: str) -> None:
    from guanxi.integrations.sms import sms_send

    language = surveys.survey_language(case, case.workspace)
    with surveys.in_language(language):
        body = loader.render_to_string("service/surveys/sms.txt", _context(case, survey, token))
    sms_send(
        workspace=case.workspace_id,
        phone=phone,
        body=" ".join(body.split()),
        purpose="survey",
        idempotency_key=f"survey:{survey.pk}",
        related=survey,
    )
