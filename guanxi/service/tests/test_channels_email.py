"""Cases by e-mail: a support mailbox opens cases, replies thread onto their case by the
case tag or a Message-ID we sent — only from the customer's own address and only with the
case's own key — and "Turn into a case" in triage; the acknowledgement and the agent's
answers go out threaded."""

from __future__ import annotations

import pytest

from guanxi.activities.models import EmailMessage, EmailStatus
from guanxi.activities.services import email_in
from guanxi.common.errors import PermissionDenied
from guanxi.customers.models import Account, Contact
from guanxi.customers.tests.factories import ContactFactory
from guanxi.service.models import Case, CaseChannel, CaseMessage
from guanxi.service.services import case_email, channels, customer_messages
from guanxi.service.services import cases as case_services

from .cases_support import *  # noqa: F403
from .channels_support import *  # noqa: F403

STRANGER = "visitor@example.org"


@pytest.fixture
def support(mailbox, admin_user, service_ws):
    channels.channel_settings_update(
        actor=admin_user, workspace=service_ws, values={"case_mailbox_ids": [mailbox.pk]}
    )
    return mailbox


@pytest.fixture
def customer(service_ws, account):
    return ContactFactory(
        workspace=service_ws, name="王芳", account=account, email="wang.fang@example.com"
    )


def _cases(ws):
    return Case.objects.in_workspace(ws)


def _messages(case):
    return CaseMessage.objects.in_workspace(case.workspace_id).filter(case=case).order_by("id")


def _case_mail(case):
    return EmailMessage.objects.in_workspace(case.workspace_id).filter(
        direction="out", related_object_key="service.case", related_object_id=case.pk
    )


@pytest.mark.django_db
def test_a_support_mailbox_opens_a_case_and_acknowledges_it(
    service_ws, support, smtp_server, django_capture_on_commit_callbacks
):
    contacts = Contact.objects.in_workspace(service_ws).count()
    accounts = Account.objects.in_workspace(service_ws).count()
    raw = raw_mail(  # noqa: F405
        sender=f"Visitor <{STRANGER}>",
        subject="Fwd: Invoice question",
        body="Why was I charged twice?",
        message_id="<first@example.org>",
    )
    with django_capture_on_commit_callbacks(execute=True):
        email = deliver_mail(support, raw)  # noqa: F405
    case = _cases(service_ws).get()
    assert case.channel == CaseChannel.EMAIL
    assert case.subject == "Invoice question"
    assert case.reply_email == STRANGER
    assert case.contact_id is None and case.account_id is None
    assert case.language == "en"
    # No junk customer, no triage: the message belongs to the case.
    assert Contact.objects.in_workspace(service_ws).count() == contacts
    assert Account.objects.in_workspace(service_ws).count() == accounts
    email.refresh_from_db()
    assert email.status == EmailStatus.FILED
    assert (email.related_object_key, email.related_object_id) == ("service.case", case.pk)
    assert _messages(case).get().email_id == email.pk
    # The acknowledgement: threaded after their message, with the tag, sent once.
    ack = _case_mail(case).get()
    assert ack.to == [STRANGER]
    assert case_email.thread_tag(case) in ack.subject
    assert case.number in ack.body_text
    assert ack.in_reply_to == "<first@example.org>"
    [sent] = smtp_server.messages
    assert sent["Message-ID"] == ack.message_id
    assert case_email.thread_tag(case) in sent["Subject"]
    assert "We received your request" in sent["Subject"]
    case.refresh_from_db()
    assert case.acknowledged_at is not None
    customer_messages.case_acknowledge(case)
    assert _case_mail(case).count() == 1


@pytest.mark.django_db
def test_a_reply_with_the_case_tag_threads_onto_the_case(
    service_ws, support, django_capture_on_commit_callbacks
):
    deliver_mail(support, raw_mail(sender=STRANGER, subject="Router", body="It blinks red."))  # noqa: F405
    case = _cases(service_ws).get()
    reply = raw_mail(  # noqa: F405
        sender=STRANGER,
        subject=f"Re: We received your request {case_email.thread_tag(case)}",
        body="Now it is off.\n\nOn Monday, support wrote:\n> We received your request",
    )
    email = deliver_mail(support, reply)  # noqa: F405
    assert _cases(service_ws).count() == 1
    last = _messages(case).last()
    assert (last.body, last.email_id, last.channel) == ("Now it is off.", email.pk, "email")
    email.refresh_from_db()
    assert email.related_object_id == case.pk


@pytest.mark.django_db
def test_a_reply_by_message_id_threads_onto_the_case(service_ws, mailbox, customer, agent):
    case = make_case(agent, contact=customer, channel="email", subject="发票问题")  # noqa: F405
    ack = _case_mail(case).get()
    reply = raw_mail(  # noqa: F405
        sender="Wang Fang <WANG.FANG@example.com>",
        subject="回复：发票问题",
        body="我补充一下信息",
        in_reply_to=ack.message_id,
        references=ack.message_id,
    )
    email = deliver_mail(mailbox, reply)  # noqa: F405
    last = _messages(case).last()
    assert (last.body, last.email_id, last.contact_id) == ("我补充一下信息", email.pk, customer.pk)
    email.refresh_from_db()
    # Filed to the contact as usual, and linked to the case.
    assert email.status == EmailStatus.FILED and email.contact_id == customer.pk
    assert email.related_object_id == case.pk


@pytest.mark.django_db
def test_the_right_number_with_the_wrong_key_does_not_attach(service_ws, mailbox, customer, agent):
    case = make_case(agent, contact=customer, channel="email")  # noqa: F405
    before = _messages(case).count()
    wrong = "0" * case_email.TAG_KEY_LENGTH
    if case.thread_key.startswith(wrong):
        wrong = "1" * case_email.TAG_KEY_LENGTH
    forged = raw_mail(  # noqa: F405
        sender=customer.email, subject=f"Re: [{case.number}·{wrong}]", body="forged"
    )
    email = deliver_mail(mailbox, forged)  # noqa: F405
    assert _messages(case).count() == before
    email.refresh_from_db()
    assert email.related_object_key == ""
    assert email.status == EmailStatus.FILED  # the sender is a customer: filed to them only


@pytest.mark.django_db
def test_the_right_tag_from_a_strangers_address_does_not_attach(
    service_ws, mailbox, customer, agent
):
    case = make_case(agent, contact=customer, channel="email")  # noqa: F405
    before = _messages(case).count()
    forged = raw_mail(  # noqa: F405
        sender="attacker@evil.example", subject=f"Re: {case_email.thread_tag(case)}", body="x"
    )
    email = deliver_mail(mailbox, forged)  # noqa: F405
    assert _messages(case).count() == before
    email.refresh_from_db()
    assert email.status == EmailStatus.TRIAGE
    assert email.related_object_key == ""


@pytest.mark.django_db
def test_a_reference_to_someone_elses_case_does_not_attach(service_ws, support, customer, agent):
    """Another customer quotes the Message-ID of Wang Fang's case mail (and writes to the
    support mailbox): their message opens their own case instead."""
    theirs = make_case(agent, contact=customer, channel="email")  # noqa: F405
    ack = _case_mail(theirs).get()
    before = _messages(theirs).count()
    other = ContactFactory(workspace=service_ws, name="韩梅梅", email="han@example.com")
    forged = raw_mail(  # noqa: F405
        sender=other.email,
        subject=f"Re: {ack.subject}",  # even with the right tag, it is not their case
        body="let me in",
        in_reply_to=ack.message_id,
        references=ack.message_id,
    )
    deliver_mail(support, forged)  # noqa: F405
    assert _messages(theirs).count() == before
    mine = _cases(service_ws).exclude(pk=theirs.pk).get()
    assert mine.contact_id == other.pk
    assert case_email.thread_tag(theirs) not in mine.subject


@pytest.mark.django_db
def test_an_ordinary_mailbox_leaves_new_messages_to_triage(service_ws, mailbox):
    email = deliver_mail(mailbox, raw_mail(sender=STRANGER, subject="Hello", body="Hi"))  # noqa: F405
    assert not _cases(service_ws).exists()
    email.refresh_from_db()
    assert email.status == EmailStatus.TRIAGE


@pytest.mark.django_db
def test_turn_into_a_case_from_triage(service_ws, mailbox, admin_user, nobody):
    email = deliver_mail(  # noqa: F405
        mailbox,
        raw_mail(sender=f"Ann <{STRANGER}>", subject="Broken screen", body="Help"),  # noqa: F405
    )
    keys = [a.key for a in email_in.triage_actions(admin_user)]
    assert "service.case" in keys
    assert "service.case" not in [a.key for a in email_in.triage_actions(nobody)]
    with pytest.raises(PermissionDenied):
        email_in.email_triage_action(
            actor=nobody, workspace=service_ws, email_id=email.pk, key="service.case"
        )
    contacts = Contact.objects.in_workspace(service_ws).count()
    email_in.email_triage_action(
        actor=admin_user, workspace=service_ws, email_id=email.pk, key="service.case"
    )
    case = _cases(service_ws).get()
    assert (case.subject, case.reply_email, case.created_by_id) == (
        "Broken screen",
        STRANGER,
        admin_user.pk,
    )
    assert Contact.objects.in_workspace(service_ws).count() == contacts
    email.refresh_from_db()
    assert email.status == EmailStatus.FILED and email.related_object_id == case.pk
    assert _messages(case).get().email_id == email.pk


@pytest.mark.django_db
def test_the_agents_answer_goes_by_email_threaded(
    service_ws, mailbox, customer, agent, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(agent, contact=customer, channel="email", subject="打印机")  # noqa: F405
    ack = _case_mail(case).get()
    with django_capture_on_commit_callbacks(execute=True):
        answer = case_services.case_reply(
            actor=agent, workspace=service_ws, case_id=case.pk, body="请换一个硒鼓。"
        )
    answer.refresh_from_db()
    mail = _case_mail(case).exclude(pk=ack.pk).get()
    assert answer.email_id == mail.pk
    assert mail.to == [customer.email]
    assert mail.in_reply_to == ack.message_id
    assert case_email.thread_tag(case) in mail.subject
    assert mail.body_text.startswith("请换一个硒鼓。")
    assert len(smtp_server.messages) == 2
    # The customer's reply to the answer threads on.
    reply = raw_mail(  # noqa: F405
        sender=customer.email,
        subject=mail.subject,
        body="换了，好了",
        in_reply_to=mail.message_id,
    )
    deliver_mail(mailbox, reply)  # noqa: F405
    assert _messages(case).last().body == "换了，好了"


@pytest.mark.django_db
def test_the_portal_link_is_in_the_acknowledgement(service_ws, customer, agent):
    case = make_case(agent, contact=customer, channel="email")  # noqa: F405
    ack = _case_mail(case).get()
    assert f"/portal/{service_ws.slug}/" in ack.body_text


def test_tags_and_subjects():
    assert case_email.subject_tags("Re: x [CS-2026-000123·3f9a1c2b]") == [
        ("CS-2026-000123", "3f9a1c2b")
    ]
    assert case_email.subject_tags("[CS-2026-000123 #3F9A1C2B]") == [("CS-2026-000123", "3f9a1c2b")]
    assert case_email.subject_tags("CS-2026-000123 no tag") == []
    assert case_email.clean_subject("RE: 回复： Fwd: 问题 [CS-2026-000001·abcdef12]") == "问题"
    assert case_email.new_text("新内容\n\n在 2026年 客服 写道：\n> 旧内容") == "新内容"
