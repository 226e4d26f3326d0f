"""Helpers of the channels part's tests: an SMS provider account, an inbound mailbox, and
raw e-mails as a mail server would hand them to the fetcher. Import the fixtures into a
test module with ``from .channels_support import *  # noqa: F403``."""

from __future__ import annotations

import itertools
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.utils import timezone

from guanxi.activities.models import EmailMessage, Mailbox
from guanxi.activities.services import email_in
from guanxi.integrations.models import ProviderAccount, ProviderKind

__all__ = [
    "deliver_mail",
    "mailbox",
    "media_in_tmp",
    "raw_mail",
    "sms_account",
]

_uids = itertools.count(1)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def sms_account(service_ws):
    return ProviderAccount.objects.create(
        workspace=service_ws, kind=ProviderKind.SMS, provider="console"
    )


@pytest.fixture
def mailbox(service_ws):
    return Mailbox.objects.create(
        workspace=service_ws,
        name="Support",
        address="support@crm.example.com",
        host="127.0.0.1",
        username="support",
        password="x",
    )


def raw_mail(
    *,
    sender: str,
    subject: str,
    body: str,
    to: str = "support@crm.example.com",
    in_reply_to: str = "",
    references: str = "",
    message_id: str = "",
) -> bytes:
    message = MimeMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="customer.example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    message.set_content(body)
    return message.as_bytes()


def deliver_mail(mailbox: Mailbox, raw: bytes) -> EmailMessage:
    """Store one message as the fetcher does (its own transaction) and return its row."""
    uid = next(_uids)
    outcome = email_in.store_message(mailbox=mailbox, uidvalidity=1, uid=uid, raw=raw)
    assert outcome == "stored", outcome
    return EmailMessage.objects.in_workspace(mailbox.workspace_id).get(
        mailbox=mailbox, imap_uid=uid
    )
