"""Two-step sign-in with TOTP: setup with a QR code, sign-in in two steps, turning it off."""

import base64

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanxi.platform.models import AuditAction, AuditEntry
from guanxi.platform.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def code_for(device, *, steps_ahead=0):
    """The code an authenticator app shows now (or ``steps_ahead`` periods later)."""
    device.refresh_from_db()
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + steps_ahead,
    )
    return f"{value:0{device.digits}d}"


def wrong_code_for(device):
    right = {code_for(device, steps_ahead=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def sign_in(client, email, password=TEST_PASSWORD, **extra):
    return client.post(reverse("login"), {"email": email, "password": password, **extra})


def security_rows(user):
    return AuditEntry.objects.in_workspace(user.workspace_id).filter(
        action=AuditAction.SECURITY, actor=user
    )


def test_setup_shows_qr_and_secret_then_confirms_with_a_code(client, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("two_factor_setup"))

    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=admin_user)
    assert not device.confirmed
    html = page.content.decode()
    assert "<svg" in html and "</svg>" in html
    secret = base64.b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    # Reloading the page keeps the same secret (the app may already have scanned it).
    client.get(reverse("two_factor_setup"))
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1

    wrong = client.post(reverse("two_factor_setup"), {"code": wrong_code_for(device)})
    assert wrong.status_code == 200
    assert "This code is not correct" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    device.throttle_reset()  # a wrong code makes the device wait a second before the next try

    response = client.post(reverse("two_factor_setup"), {"code": code_for(device)})

    assert response.status_code == 302
    assert response.url == reverse("account_security")
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert security_rows(admin_user).get().changes == {"two_factor": ["off", "on"]}
    assert "Two-step sign-in" in client.get(reverse("account_security")).content.decode()


def test_sign_in_with_totp_end_to_end(client, admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)

    first = sign_in(client, admin_user.email, next="/account/security/")

    assert first.status_code == 302
    assert first.url == reverse("two_factor_verify")
    # The password alone does not sign in.
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("account_security")).status_code == 302
    assert not AuditEntry.objects.across_workspaces().filter(action=AuditAction.SIGN_IN).exists()
    assert client.get(reverse("two_factor_verify")).status_code == 200

    second = client.post(reverse("two_factor_verify"), {"code": code_for(device)})

    assert second.status_code == 302
    assert second.url == "/account/security/"
    assert client.session["_auth_user_id"] == str(admin_user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert "signed_in_at" in client.session
    row = AuditEntry.objects.in_workspace(admin_user.workspace_id).get(action=AuditAction.SIGN_IN)
    assert row.changes == {"two_factor": [None, True]}
    assert client.get(reverse("account_security")).status_code == 200


def test_wrong_code_is_refused_audited_and_counted_for_lockout(client, admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    sign_in(client, admin_user.email)

    response = client.post(reverse("two_factor_verify"), {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert "This code is not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEntry.objects.in_workspace(admin_user.workspace_id).get(
        action=AuditAction.SIGN_IN_FAILED
    )
    assert failed.changes == {"reason": [None, "two_factor"]}
    assert AccessAttempt.objects.get(username=admin_user.email).failures_since_start == 1


def test_a_used_code_cannot_be_replayed(client, admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    code = code_for(device)
    sign_in(client, admin_user.email)
    assert client.post(reverse("two_factor_verify"), {"code": code}).status_code == 302

    attacker = Client(REMOTE_ADDR="10.9.9.9")
    sign_in(attacker, admin_user.email)
    replay = attacker.post(reverse("two_factor_verify"), {"code": code})
    assert replay.status_code == 200
    assert "_auth_user_id" not in attacker.session


def test_verify_step_without_a_password_step_goes_back_to_sign_in(client, admin_user):
    TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)

    response = client.post(reverse("two_factor_verify"), {"code": "123456"})

    assert response.status_code == 302
    assert response.url == reverse("login")


def test_turning_off_requires_the_current_password(client, admin_user):
    TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    client.force_login(admin_user)
    page = client.get(reverse("two_factor_setup"))
    assert "Turn off two-step sign-in" in page.content.decode()

    refused = client.post(reverse("two_factor_disable"), {"password": "not-my-password"})
    assert refused.status_code == 400
    assert "Your current password is not correct." in refused.content.decode()
    assert TOTPDevice.objects.filter(user=admin_user).exists()
    assert not security_rows(admin_user).exists()

    response = client.post(reverse("two_factor_disable"), {"password": TEST_PASSWORD})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=admin_user).exists()
    assert security_rows(admin_user).get().changes == {"two_factor": ["on", "off"]}
    # Back to one step.
    other = Client()
    assert sign_in(other, admin_user.email).url == reverse("platform:home")


def test_setup_pages_need_a_signed_in_user(client):
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
