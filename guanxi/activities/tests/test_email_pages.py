"""The e-mail pages with the Django test client: compose and send, the 360° panel, a
message (customer HTML only in a sandboxed frame), attachments, the triage inbox, filing,
templates and mailboxes — and fixed query counts whatever the number of messages."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.activities.models import (
    EmailAttachment,
    EmailMessage,
    EmailStatus,
    EmailTemplate,
    Mailbox,
)
from guanxi.activities.services import email_in
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, full_name="王小明")


@pytest.fixture
def contact(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep, name="星河科技")
    return ContactFactory(
        workspace=workspace, owner=rep, account=account, name="李雷", email="lilei@cust.cn"
    )


def signed_in(client, user):
    client.force_login(user)
    return client


def inbound(workspace, n=0, **kwargs) -> EmailMessage:
    values = {
        "direction": "in",
        "status": EmailStatus.TRIAGE,
        "from_address": f"x{n}@unknown.cn",
        "subject": f"hello {n}",
        "body_text": "hi",
    }
    values.update(kwargs)
    email = EmailMessage.objects.create(workspace=workspace, **values)
    att = EmailAttachment(workspace=workspace, message=email, filename=f"f{n}.pdf", size=4)
    att.file.save("f.pdf", ContentFile(b"%PDF"), save=False)
    att.save()
    return email


def test_compose_and_send_from_the_contact(
    client, workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    signed_in(client, rep)
    url = reverse("activities:email_compose")
    page = client.get(url, {"contact": contact.pk})
    assert page.status_code == 200
    assert "lilei@cust.cn" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"contact": contact.pk, "purpose": "service", "subject": "报价", "body": "您好"},
        )
    assert response.status_code == 302
    assert response.url == reverse("customers:contact_detail", args=[contact.pk])
    assert smtp_server.messages[0]["Subject"] == "报价"


def test_compose_from_an_account_picks_a_contact(
    client, workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks
):
    signed_in(client, rep)
    url = reverse("activities:email_compose")
    page = client.get(url, {"account": contact.account_id})
    assert page.status_code == 200 and "李雷" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "account": contact.account_id,
                "contact": contact.pk,
                "purpose": "service",
                "subject": "s",
                "body": "b",
            },
        )
    assert response.status_code == 302
    assert EmailMessage.objects.get(workspace=workspace).contact_id == contact.pk


def test_marketing_refusal_is_shown_on_the_form_and_nothing_written(
    client, workspace, rep, contact
):
    signed_in(client, rep)
    response = client.post(
        reverse("activities:email_compose"),
        {"contact": contact.pk, "purpose": "marketing", "subject": "促销", "body": "b"},
    )
    assert response.status_code == 200
    assert "One-to-one service mail" in response.content.decode()
    assert not EmailMessage.objects.filter(workspace=workspace).exists()


def test_compose_template_fills_the_fields(client, workspace, rep):
    template = EmailTemplate.objects.create(
        workspace=workspace, name="t", subject="{{ account.name }} 报价", body="{{ contact.name }}"
    )
    signed_in(client, rep)
    response = client.get(
        reverse("activities:email_compose_template"),
        {"template": template.pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "{{ account.name }} 报价" in response.content.decode()


def test_the_360_panel_has_the_write_action_and_fixed_queries(client, workspace, rep, contact):
    signed_in(client, rep)
    url = reverse("activities:email_panel", args=["contact", contact.pk])
    for n in range(2):
        inbound(workspace, n, status=EmailStatus.FILED, contact=contact)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url, headers={"HX-Request": "true"})
    assert "Write e-mail" in response.content.decode()
    for n in range(2, 25):
        inbound(workspace, n, status=EmailStatus.FILED, contact=contact)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, headers={"HX-Request": "true"})
    assert len(many) == len(few)
    assert response.content.decode().count("hello ") == 10
    account_url = reverse("activities:email_panel", args=["account", contact.account_id])
    assert client.get(account_url).status_code == 200
    other = signed_in(client.__class__(), UserFactory(workspace=workspace))
    assert other.get(url).status_code == 404


def test_message_page_keeps_customer_html_in_a_sandbox(client, workspace, rep, contact):
    email = inbound(
        workspace,
        status=EmailStatus.FILED,
        contact=contact,
        body_html='<p>hi</p><script>alert("x")</script><img src="http://tracker/x.png">',
    )
    signed_in(client, rep)
    body = client.get(reverse("activities:email_detail", args=[email.pk])).content.decode()
    assert 'sandbox=""' in body
    assert "<script>alert" not in body  # escaped into srcdoc, never live in our page
    assert "&lt;script&gt;" in body
    assert "f0.pdf" in body


def test_attachments_only_for_who_may_read_the_message(
    client, workspace, rep, contact, other_admin
):
    email = inbound(workspace, status=EmailStatus.FILED, contact=contact)
    att = email.attachments.get()
    url = reverse("activities:email_attachment", args=[email.pk, att.pk])
    signed_in(client, rep)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF"
    assert response["Content-Type"] == "application/octet-stream"
    assert (
        signed_in(client.__class__(), UserFactory(workspace=workspace)).get(url).status_code == 404
    )
    assert signed_in(client.__class__(), other_admin).get(url).status_code == 404
    assert client.__class__().get(url).status_code == 302  # signed out: to the login page


def test_triage_inbox_fixed_queries_and_next_page(client, workspace, admin_user):
    signed_in(client, admin_user)
    url = reverse("activities:email_triage")
    for n in range(3):
        inbound(workspace, n)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert "hello 2" in response.content.decode() and "f1.pdf" in response.content.decode()
    for n in range(3, 60):
        inbound(workspace, n)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(few)
    body = response.content.decode()
    assert "hello 59" in body and "hello 5<" not in body and "cursor=" in body
    cursor = body.split("cursor=")[1].split('"')[0]
    more = client.get(f"{url}?cursor={cursor}", headers={"HX-Request": "true"})
    assert "hello 0" in more.content.decode()


def test_file_from_the_page_and_search(client, workspace, rep, contact):
    email = inbound(workspace, assigned_to=rep, from_address="new@person.cn")
    signed_in(client, rep)
    page = client.get(reverse("activities:email_detail", args=[email.pk]))
    assert "File to a customer" in page.content.decode()
    results = client.get(
        reverse("activities:email_file_search", args=[email.pk]),
        {"q": "李雷"},
        headers={"HX-Request": "true"},
    )
    assert f'value="{contact.pk}"' in results.content.decode()
    response = client.post(
        reverse("activities:email_file", args=[email.pk]),
        {"contact": contact.pk, "add_address": "on"},
    )
    assert response.status_code == 302
    email.refresh_from_db()
    assert email.status == EmailStatus.FILED and email.contact_id == contact.pk
    response = client.post(reverse("activities:email_dismiss", args=[email.pk]), follow=True)
    assert "no longer waiting" in response.content.decode()


def test_dismiss_and_registered_actions(client, workspace, rep):
    email = inbound(workspace, assigned_to=rep)
    signed_in(client, rep)
    url = reverse("activities:email_detail", args=[email.pk])
    assert "Send to the archive" not in client.get(url).content.decode()
    email_in.register_triage_action(
        "archive_test", "Send to the archive", lambda **kw: ("service.case", 7)
    )
    try:
        assert "Send to the archive" in client.get(url).content.decode()
        response = client.post(reverse("activities:email_action", args=[email.pk, "archive_test"]))
    finally:
        email_in.unregister_triage_action("archive_test")
    assert response.status_code == 302
    email.refresh_from_db()
    assert (email.related_object_key, email.related_object_id) == ("service.case", 7)
    other = inbound(workspace, 1, assigned_to=rep)
    assert client.post(reverse("activities:email_dismiss", args=[other.pk])).status_code == 302
    other.refresh_from_db()
    assert other.status == EmailStatus.DISMISSED


def test_template_pages(client, workspace, rep, admin_user):
    signed_in(client, admin_user)
    create = reverse("activities:email_template_create")
    response = client.post(
        create,
        {"name": "t", "language": "en", "purpose": "service", "subject": "s", "body": "{{ nope }}"},
    )
    assert response.status_code == 200 and "Unknown placeholder" in response.content.decode()
    assert not EmailTemplate.objects.filter(workspace=workspace).exists()
    response = client.post(
        create,
        {
            "name": "t",
            "language": "en",
            "purpose": "service",
            "subject": "s",
            "body": "{{ today }}",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    template = EmailTemplate.objects.get(workspace=workspace)
    edit = reverse("activities:email_template_edit", args=[template.pk])
    assert client.get(edit).status_code == 200
    assert "t" in client.get(reverse("activities:email_templates")).content.decode()
    rep_client = signed_in(client.__class__(), rep)
    assert rep_client.get(reverse("activities:email_templates")).status_code == 200
    assert rep_client.get(create).status_code == 403
    assert (
        rep_client.post(reverse("activities:email_template_delete", args=[template.pk])).status_code
        == 403
    )
    assert (
        client.post(reverse("activities:email_template_delete", args=[template.pk])).status_code
        == 302
    )
    assert not EmailTemplate.objects.filter(workspace=workspace).exists()


def test_mailbox_pages(client, workspace, rep, admin_user, dovecot, imap_folder):
    signed_in(client, admin_user)
    data = {
        "name": "销售",
        "address": "sales@crm.example.com",
        "host": "127.0.0.1",
        "port": dovecot.port,
        "username": dovecot.user,
        "password": dovecot.password,
        "folder": imap_folder,
        "is_active": "on",
    }
    response = client.post(reverse("activities:email_mailbox_create"), data)
    assert response.status_code == 302, response.content.decode()
    mailbox = Mailbox.objects.get(workspace=workspace)
    edit = client.get(reverse("activities:email_mailbox_edit", args=[mailbox.pk])).content.decode()
    assert dovecot.password not in edit
    # An empty password keeps the stored one.
    response = client.post(
        reverse("activities:email_mailbox_edit", args=[mailbox.pk]), {**data, "password": ""}
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.password == dovecot.password
    test = client.post(
        reverse("activities:email_mailbox_test", args=[mailbox.pk]), headers={"HX-Request": "true"}
    )
    assert "Connected" in test.content.decode()
    assert (
        "sales@crm.example.com"
        in client.get(reverse("activities:email_mailboxes")).content.decode()
    )
    rep_client = signed_in(client.__class__(), rep)
    assert rep_client.get(reverse("activities:email_mailboxes")).status_code == 403
    assert (
        rep_client.post(reverse("activities:email_mailbox_test", args=[mailbox.pk])).status_code
        == 403
    )
    assert (
        client.post(reverse("activities:email_mailbox_delete", args=[mailbox.pk])).status_code
        == 302
    )
    assert not Mailbox.objects.filter(workspace=workspace).exists()
