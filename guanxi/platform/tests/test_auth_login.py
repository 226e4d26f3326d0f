"""Signing in and out: session rotation, audit rows, lockout by e-mail + IP, CSP nonce."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import F
from django.test import Client
from django.urls import reverse

from guanxi.platform.models import AuditAction, AuditEntry
from guanxi.platform.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, email, password=TEST_PASSWORD, **extra):
    return client.post(reverse("login"), {"email": email, "password": password, **extra})


def audit_rows(action):
    return AuditEntry.objects.across_workspaces().filter(action=action).order_by("id")


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_login_page_renders_with_csp_nonce(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    header = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", header)
    assert nonce, header
    assert "script-src 'self' 'nonce-" in header
    assert "frame-ancestors 'none'" in header
    # The page's own assets carry the same nonce the header allows.
    assert f'nonce="{nonce.group(1)}"' in response.content.decode()
    # No inline scripts at all: every <script> has a src.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())


def test_sign_in_rotates_session_key_and_writes_audit_row(client, admin_user):
    session = client.session
    session["probe"] = "before sign-in"
    session.save()
    key_before = session.session_key

    response = sign_in(client, admin_user.email)

    assert response.status_code == 302
    assert response.url == reverse("platform:home")
    key_after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key_after != key_before
    assert not Session.objects.filter(session_key=key_before).exists()
    assert signed_in_user_id(client) == str(admin_user.pk)
    assert client.session["signed_in_at"] == client.session["seen_at"]
    row = audit_rows(AuditAction.SIGN_IN).get()
    assert row.actor == admin_user
    assert row.workspace_id == admin_user.workspace_id
    assert row.ip_address == "127.0.0.1"


def test_sign_in_ignores_case_of_email(client, admin_user):
    response = sign_in(client, admin_user.email.upper())
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(admin_user.pk)


def test_wrong_password_is_audited_without_the_password(client, admin_user):
    secret_try = "not-the-password-but-secret-9f3k"

    response = sign_in(client, admin_user.email, secret_try)

    assert response.status_code == 200
    assert "The e-mail address or the password is not correct." in response.content.decode()
    assert signed_in_user_id(client) is None
    row = audit_rows(AuditAction.SIGN_IN_FAILED).get()
    assert row.actor is None
    assert row.workspace_id == admin_user.workspace_id
    assert row.object_repr == admin_user.email
    assert row.ip_address == "127.0.0.1"
    values = AuditEntry.objects.across_workspaces().filter(pk=row.pk).values().get()
    assert secret_try not in repr(values)
    # axes keeps the POST data of failures; the password is masked there too.
    assert all(secret_try not in a.post_data for a in AccessAttempt.objects.all())


def test_unknown_email_is_audited_without_workspace(client, admin_user):
    sign_in(client, "nobody@example.com", "whatever-password")

    row = audit_rows(AuditAction.SIGN_IN_FAILED).get()
    assert row.workspace_id is None
    assert row.actor is None
    assert row.object_repr == "nobody@example.com"


def test_bad_input_rerenders_form_and_changes_nothing(client, admin_user):
    response = client.post(reverse("login"), {"email": "not an e-mail", "password": ""})

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not audit_rows(AuditAction.SIGN_IN_FAILED).exists()
    assert not AccessAttempt.objects.exists()


def test_safe_next_is_followed_and_foreign_next_is_not(client, admin_user):
    response = sign_in(client, admin_user.email, next="/account/security/")
    assert response.url == "/account/security/"

    other = Client()
    response = sign_in(other, admin_user.email, next="https://evil.example.com/steal")
    assert response.url == reverse("platform:home")


def test_expired_notice(client):
    response = client.get(reverse("login") + "?expired=1")
    assert "Your session expired" in response.content.decode()
    assert "Your session expired" not in client.get(reverse("login")).content.decode()


def test_lockout_by_email_and_ip(client, workspace, admin_user):
    limit = settings.AXES_FAILURE_LIMIT
    for _attempt in range(limit - 1):
        assert sign_in(client, admin_user.email, "wrong-password-1").status_code == 200

    locked = sign_in(client, admin_user.email, "wrong-password-1")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "sign-in is locked for this account from this address" in text
    assert "Try again in 15 minutes." in text

    # Even the right password is refused from this address while locked.
    assert sign_in(client, admin_user.email).status_code == 429
    assert signed_in_user_id(client) is None
    assert audit_rows(AuditAction.SIGN_IN_FAILED).last().changes == {"reason": [None, "locked_out"]}

    # The same account from another address signs in.
    elsewhere = Client(REMOTE_ADDR="10.20.30.40")
    assert sign_in(elsewhere, admin_user.email).status_code == 302
    assert signed_in_user_id(elsewhere) == str(admin_user.pk)

    # Another account from the locked address signs in.
    colleague = UserFactory(workspace=workspace)
    neighbour = Client()
    assert sign_in(neighbour, colleague.email).status_code == 302
    assert signed_in_user_id(neighbour) == str(colleague.pk)


def test_lockout_ends_after_cool_off(client, admin_user):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, admin_user.email, "wrong-password-1")
    assert sign_in(client, admin_user.email).status_code == 429

    # Let the cool-off pass: move the recorded failures back in time.
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - cool_off - timedelta(minutes=1))

    response = sign_in(client, admin_user.email)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(admin_user.pk)
    # A successful sign-in clears the failures (AXES_RESET_ON_SUCCESS).
    assert not AccessAttempt.objects.filter(username=admin_user.email).exists()


def test_lockout_ends_with_a_shorter_cool_off_setting(client, admin_user, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, admin_user.email, "wrong-password-1")
    assert sign_in(client, admin_user.email).status_code == 429

    settings.AXES_COOLOFF_TIME = timedelta(milliseconds=1)
    time.sleep(0.01)

    assert sign_in(client, admin_user.email).status_code == 302


def test_sign_out_is_post_only_and_audited(client, admin_user):
    sign_in(client, admin_user.email)

    assert client.get(reverse("logout")).status_code == 405
    assert signed_in_user_id(client) == str(admin_user.pk)

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert signed_in_user_id(client) is None
    row = audit_rows(AuditAction.SIGN_OUT).get()
    assert row.actor == admin_user


def test_inactive_user_cannot_sign_in(client, admin_user):
    admin_user.is_active = False
    admin_user.save(update_fields=["is_active"])

    assert sign_in(client, admin_user.email).status_code == 200
    assert signed_in_user_id(client) is None
