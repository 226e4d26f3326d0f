"""E-mail out: templates (placeholders checked at save time, a renderer that renders
nothing else), sending through a real SMTP server (aiosmtpd) with our headers, exactly
once, consent, bad input, the sweeper."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities.models import (
    EmailMessage,
    EmailStatus,
    EmailTemplate,
    EntryContact,
    Mailbox,
    TimelineEntry,
)
from guanxi.activities.services import email_out, email_templates
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.models import ContactPoint
from guanxi.customers.services.consent import consent_record
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, full_name="王小明", email="wang@crm.example.com")


@pytest.fixture
def manager(workspace):
    return UserFactory(workspace=workspace, role_code="sales_manager")


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(workspace=workspace, name="星河科技有限公司", owner=rep)


@pytest.fixture
def contact(workspace, rep, account):
    return ContactFactory(
        workspace=workspace,
        name="李雷",
        title="采购经理",
        email="lilei@customer.example.cn",
        owner=rep,
        account=account,
    )


def send(actor, contact, capture, **kwargs):
    kwargs.setdefault("subject", "报价")
    kwargs.setdefault("body", "您好")
    with capture(execute=True):
        return email_out.email_send(
            actor=actor, workspace=actor.workspace, contact_id=contact.pk, **kwargs
        )


# --- templates ---------------------------------------------------------------------------------


def test_template_renders_placeholders_and_nothing_else(workspace, manager, contact, rep):
    template = email_templates.template_create(
        actor=manager,
        workspace=workspace,
        name="跟进",
        subject="{{ account.name }} 的报价",
        body="{{contact.name}}（{{ contact.title }}）您好，\n{{ user.full_name }} <{{ user.email }}> {{ today }}",
        language="zh-hans",
    )
    context = email_templates.context_for(contact=contact, user=rep)
    assert email_templates.render_text(template.subject, context) == "星河科技有限公司 的报价"
    body = email_templates.render_text(template.body, context)
    assert body.startswith("李雷（采购经理）您好，\n王小明 <wang@crm.example.com> ")
    assert AuditEntry.objects.filter(workspace=workspace, object_id=str(template.pk)).exists()


@pytest.mark.parametrize(
    "body",
    [
        "{{ contact.phone }}",
        "{{ contact.name|upper }}",
        "{% load static %}",
        "{{ settings.SECRET_KEY }}",
        "{# note #}",
        "{{ contact.account.owner.password }}",
    ],
)
def test_unknown_placeholders_are_refused_at_save_time(workspace, manager, body):
    with pytest.raises(ApplicationError) as caught:
        email_templates.template_create(
            actor=manager, workspace=workspace, name="x", subject="s", body=body
        )
    assert caught.value.code == "unknown_placeholder"
    assert "body" in caught.value.fields
    assert "{{ contact.name }}" in str(caught.value.fields["body"][0])
    assert not EmailTemplate.objects.filter(workspace=workspace).exists()


def test_template_update_checks_the_result_and_language(workspace, manager):
    template = email_templates.template_create(
        actor=manager, workspace=workspace, name="t", subject="s", body="b"
    )
    with pytest.raises(ApplicationError):
        email_templates.template_update(
            actor=manager, workspace=workspace, template_id=template.pk, subject="{{ x }}"
        )
    with pytest.raises(ApplicationError):
        email_templates.template_update(
            actor=manager, workspace=workspace, template_id=template.pk, language="fr"
        )
    updated = email_templates.template_update(
        actor=manager, workspace=workspace, template_id=template.pk, language="en", name="T2"
    )
    assert (updated.language, updated.name) == ("en", "T2")


def test_a_rep_may_not_manage_templates(workspace, rep, manager, other_admin):
    with pytest.raises(PermissionDenied):
        email_templates.template_create(
            actor=rep, workspace=workspace, name="t", subject="s", body="b"
        )
    template = email_templates.template_create(
        actor=manager, workspace=workspace, name="t", subject="s", body="b"
    )
    with pytest.raises(NotFound):
        email_templates.template_delete(
            actor=other_admin, workspace=other_admin.workspace, template_id=template.pk
        )
    email_templates.template_delete(actor=manager, workspace=workspace, template_id=template.pk)
    assert not EmailTemplate.objects.filter(workspace=workspace).exists()


# --- sending -----------------------------------------------------------------------------------


def test_send_reaches_the_smtp_server_with_our_headers(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    email = send(
        rep,
        contact,
        django_capture_on_commit_callbacks,
        subject="{{ contact.name }}，报价单",
        body="{{ contact.name }} 您好",
        cc=["boss@customer.example.cn"],
    )
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.sent_at is not None
    assert email.attempts == 1
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["Message-ID"] == email.message_id
    assert received["Subject"] == "李雷，报价单"
    assert received["To"] == "lilei@customer.example.cn"
    assert received["Cc"] == "boss@customer.example.cn"
    assert received.get_content().strip() == "李雷 您好"
    assert received["From"] == "guanxi <noreply@crm.example.com>"
    assert received["Reply-To"] is None
    assert sorted(smtp_server.recipients[0]) == [
        "boss@customer.example.cn",
        "lilei@customer.example.cn",
    ]
    entry = TimelineEntry.objects.get(workspace=workspace, pk=email.entry_id)
    assert (entry.kind, entry.direction, entry.author_id) == ("email", "out", rep.pk)
    assert entry.data["email_id"] == email.pk
    assert entry.account_id == contact.account_id
    assert EntryContact.objects.filter(workspace=workspace, entry=entry, contact=contact).exists()


def test_from_and_reply_to_are_the_workspaces_mailbox(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    Mailbox.objects.create(
        workspace=workspace,
        name="销售",
        address="sales@crm.example.com",
        host="127.0.0.1",
        username="u",
        password="p",
    )
    email = send(rep, contact, django_capture_on_commit_callbacks)
    assert email.message_id.endswith("@crm.example.com>")
    received = smtp_server.messages[0]
    assert received["Reply-To"] == "sales@crm.example.com"
    assert received["From"].addresses[0].addr_spec == "sales@crm.example.com"
    assert received["From"].addresses[0].display_name == "王小明"


def test_a_reply_threads_to_the_message_it_answers(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    first = send(rep, contact, django_capture_on_commit_callbacks)
    reply = send(
        rep, contact, django_capture_on_commit_callbacks, in_reply_to_id=first.pk, subject="Re"
    )
    assert reply.in_reply_to == first.message_id
    assert reply.references == first.message_id
    assert reply.thread_root == first.message_id
    received = smtp_server.messages[1]
    assert received["In-Reply-To"] == first.message_id
    assert received["References"] == first.message_id


def test_without_to_it_goes_to_every_address_of_the_contact(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    ContactPoint.objects.create(
        workspace=workspace, contact=contact, kind="email", value="li@home.example.cn"
    )
    email = send(rep, contact, django_capture_on_commit_callbacks)
    assert email.to == ["lilei@customer.example.cn", "li@home.example.cn"]


def test_the_task_running_twice_sends_once(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    from guanxi.activities.email_jobs import send_email_message

    email = send(rep, contact, django_capture_on_commit_callbacks)
    send_email_message(email.pk)
    assert email_out.deliver(email.pk) == "skipped"
    assert len(smtp_server.messages) == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_marketing_without_consent_is_refused_and_nothing_is_written(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    with pytest.raises(ApplicationError) as caught:
        send(rep, contact, django_capture_on_commit_callbacks, purpose="marketing")
    assert caught.value.code == "no_marketing_consent"
    assert "One-to-one service mail" in str(caught.value.message)
    assert "is allowed" in str(caught.value.message)
    assert not EmailMessage.objects.filter(workspace=workspace).exists()
    assert not TimelineEntry.objects.filter(workspace=workspace, kind="email").exists()
    assert smtp_server.messages == []
    # Service mail is allowed without a recorded answer.
    assert send(rep, contact, django_capture_on_commit_callbacks).status == EmailStatus.QUEUED


def test_marketing_with_consent_is_sent_and_a_marketing_template_stays_marketing(
    workspace, rep, manager, contact, smtp_server, django_capture_on_commit_callbacks
):
    template = email_templates.template_create(
        actor=manager,
        workspace=workspace,
        name="新品",
        subject="新品",
        body="{{ contact.name }}",
        purpose="marketing",
    )
    with pytest.raises(ApplicationError):
        send(rep, contact, django_capture_on_commit_callbacks, template_id=template.pk)
    consent_record(
        actor=rep,
        workspace=workspace,
        contact_id=contact.pk,
        channel="email",
        purpose="marketing",
        status="granted",
        method="web_form",
    )
    email = send(
        rep,
        contact,
        django_capture_on_commit_callbacks,
        template_id=template.pk,
        subject="",
        body="",
    )
    assert email.purpose == "marketing" and email.body_text == "李雷"
    assert len(smtp_server.messages) == 1


def test_withdrawn_consent_refuses_service_mail_too(
    workspace, rep, contact, django_capture_on_commit_callbacks
):
    consent_record(
        actor=rep,
        workspace=workspace,
        contact_id=contact.pk,
        channel="email",
        purpose="service",
        status="withdrawn",
        method="email",
    )
    with pytest.raises(ApplicationError) as caught:
        send(rep, contact, django_capture_on_commit_callbacks)
    assert caught.value.code == "no_consent"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"to": ["not-an-address"]}, "to"),
        ({"cc": ["a@b.c", "bad@"]}, "cc"),
        ({"subject": ""}, "subject"),
        ({"body": "x\x00y"}, "body"),
        ({"body": "{{ contact.secret }}"}, "body"),
        ({"purpose": "spam"}, "purpose"),
        ({"to": [f"p{i}@example.com" for i in range(21)]}, "to"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    workspace, rep, contact, django_capture_on_commit_callbacks, kwargs, field
):
    with pytest.raises(ApplicationError) as caught:
        send(rep, contact, django_capture_on_commit_callbacks, **kwargs)
    assert field in caught.value.fields
    assert not EmailMessage.objects.filter(workspace=workspace).exists()


def test_no_address_and_foreign_or_invisible_customers(
    workspace, rep, django_capture_on_commit_callbacks, other_workspace
):
    bare = ContactFactory(workspace=workspace, owner=rep, email="")
    with pytest.raises(ApplicationError) as caught:
        send(rep, bare, django_capture_on_commit_callbacks)
    assert caught.value.code == "no_recipient"
    foreign = ContactFactory(workspace=other_workspace, email="x@y.cn")
    with pytest.raises(NotFound):
        send(rep, foreign, django_capture_on_commit_callbacks)
    someone_elses = ContactFactory(
        workspace=workspace, owner=UserFactory(workspace=workspace), email="z@y.cn"
    )
    with pytest.raises(NotFound):
        send(rep, someone_elses, django_capture_on_commit_callbacks)


def test_a_read_only_user_may_not_send(workspace, contact, django_capture_on_commit_callbacks):
    reader = UserFactory(workspace=workspace, role_code="read_only")
    with pytest.raises(PermissionDenied):
        send(reader, contact, django_capture_on_commit_callbacks)


def test_connection_errors_are_retried_then_failed(
    workspace, rep, contact, settings, django_capture_on_commit_callbacks
):
    from guanxi.common.tests.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 2
    email = send(rep, contact, django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert email.attempts == 4  # the first try and three retries
    assert "ConnectionRefused" in email.error


def test_smtp_refusal_fails_without_retry(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 No such user"

    smtp_server.handle_RCPT = refuse
    email = send(rep, contact, django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED and email.attempts == 1
    assert "550" in email.error


def test_sweeper_fails_rows_stuck_in_sending_and_never_resends(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        stuck = email_out.email_send(
            actor=rep, workspace=workspace, contact_id=contact.pk, subject="s", body="b"
        )
        lost = email_out.email_send(
            actor=rep, workspace=workspace, contact_id=contact.pk, subject="lost", body="b"
        )
    rows = EmailMessage.objects.in_workspace(workspace)
    old = timezone.now() - dt.timedelta(minutes=11)
    rows.filter(pk=stuck.pk).update(status=EmailStatus.SENDING, updated_at=old)
    rows.filter(pk=lost.pk).update(updated_at=old)
    result = email_out.sweep()
    assert result == {"failed": [stuck.pk], "requeued": [lost.pk]}
    stuck.refresh_from_db()
    lost.refresh_from_db()
    assert stuck.status == EmailStatus.FAILED and "may not have been sent" in stuck.error
    assert lost.status == EmailStatus.SENT
    assert [m["Subject"] for m in smtp_server.messages] == ["lost"]
    # A second sweep finds nothing to do.
    assert email_out.sweep() == {"failed": [], "requeued": []}


def test_a_connection_broken_while_sending_is_never_sent_again(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    """The server may have taken the message before the line dropped: resending could
    deliver it twice, so the row fails and says so."""
    deliveries = []

    async def drop(server, session, envelope):
        deliveries.append(envelope.content)
        server.transport.close()  # no reply to the data: the client cannot know

    smtp_server.handle_DATA = drop
    email = send(rep, contact, django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED and email.attempts == 1
    assert "may have been delivered" in email.error
    assert len(deliveries) == 1


def test_a_temporary_refusal_is_retried(
    workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    async def later(server, session, envelope):
        return "451 Try again later"

    smtp_server.handle_DATA = later
    email = send(rep, contact, django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED and email.attempts == 4
    assert "451" in email.error
