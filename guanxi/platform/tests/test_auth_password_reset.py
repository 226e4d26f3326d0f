"""Password reset through a real SMTP server on loopback (aiosmtpd), not a mock."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.platform.models import AuditAction, AuditEntry, User
from guanxi.platform.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "reset-by-mail-passphrase-77"


@pytest.fixture
def mailbox(smtp_server):
    return smtp_server


def sign_in(client, email_address, password):
    return client.post(reverse("login"), {"email": email_address, "password": password})


def ask_reset(client, email, capture):
    """Ask for a reset; the mail goes out from the worker once the request commits."""
    with capture(execute=True):
        return client.post(reverse("password_reset"), {"email": email})


def test_password_reset_over_smtp_end_to_end(
    client, admin_user, mailbox, django_capture_on_commit_callbacks
):
    page = client.get(reverse("password_reset"))
    assert page.status_code == 200

    response = ask_reset(client, admin_user.email.upper(), django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert mailbox.recipients[0] == [admin_user.email]
    assert message["To"] == admin_user.email
    assert message["From"] == "guanxi <noreply@crm.example.com>"
    assert message["Subject"] == "Reset your guanxi password"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert admin_user.full_name in body
    assert "2 hours" in body
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", body)
    assert link, body

    # Django swaps the token in the link for one kept in the session, then shows the form.
    landing = client.get(link.group(1))
    assert landing.status_code == 302
    form_page = client.get(landing.url)
    assert form_page.status_code == 200
    assert "new_password1" in form_page.content.decode()

    done = client.post(landing.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302
    assert done.url == reverse("password_reset_complete")
    assert client.get(done.url).status_code == 200
    row = AuditEntry.objects.in_workspace(admin_user.workspace_id).get(action=AuditAction.SECURITY)
    assert row.changes == {"password": ["***", "reset by e-mail"]}

    # The link works once.
    assert "not valid any more" in client.get(link.group(1), follow=True).content.decode()
    # The old password is gone, the new one signs in.
    assert sign_in(Client(), admin_user.email, TEST_PASSWORD).status_code == 200
    fresh = Client()
    assert sign_in(fresh, admin_user.email, NEW_PASSWORD).status_code == 302
    assert fresh.session["_auth_user_id"] == str(admin_user.pk)


def test_reset_ends_sessions_that_used_the_old_password(
    client, admin_user, mailbox, django_capture_on_commit_callbacks
):
    other_device = Client()
    assert sign_in(other_device, admin_user.email, TEST_PASSWORD).status_code == 302
    ask_reset(client, admin_user.email, django_capture_on_commit_callbacks)
    body = mailbox.messages[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", body).group(1)
    landing = client.get(link)
    client.post(landing.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert other_device.get(reverse("account_security")).status_code == 302


def test_unknown_address_gets_the_same_answer_and_no_mail(
    client, admin_user, mailbox, django_capture_on_commit_callbacks
):
    response = ask_reset(client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mailbox.messages == []


def test_weak_new_password_is_refused(
    client, admin_user, mailbox, django_capture_on_commit_callbacks
):
    ask_reset(client, admin_user.email, django_capture_on_commit_callbacks)
    body = mailbox.messages[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", body).group(1)
    landing = client.get(link)

    response = client.post(landing.url, {"new_password1": "1234", "new_password2": "1234"})

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).check_password(TEST_PASSWORD)
    assert (
        not AuditEntry.objects.in_workspace(admin_user.workspace_id)
        .filter(action=AuditAction.SECURITY)
        .exists()
    )
