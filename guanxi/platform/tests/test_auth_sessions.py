"""Sessions end on idle and absolute timeouts, on "sign out everywhere" and on a password
change, while the session that asked stays signed in."""

import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from guanxi.platform.models import AuditAction, AuditEntry, User
from guanxi.platform.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-better-passphrase-2024"


def signed_in_client(user, password=TEST_PASSWORD, **client_kwargs):
    client = Client(**client_kwargs)
    response = client.post(reverse("login"), {"email": user.email, "password": password})
    assert response.status_code == 302, response
    return client


def is_signed_in(client):
    return client.get(reverse("account_security")).status_code == 200


def shift_session(client, **values):
    session = client.session
    session.update(values)
    session.save()


def test_active_session_stays_signed_in(admin_user):
    client = signed_in_client(admin_user)
    now = int(time.time())
    shift_session(client, seen_at=now - settings.SESSION_IDLE_TIMEOUT + 60)
    assert is_signed_in(client)


def test_idle_timeout_signs_out(admin_user):
    client = signed_in_client(admin_user)
    shift_session(client, seen_at=int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5)

    response = client.get(reverse("account_security"))

    assert response.status_code == 302
    assert response.url == "/login/?expired=1"
    assert "_auth_user_id" not in client.session
    assert "Your session expired" in client.get(response.url).content.decode()
    assert not is_signed_in(client)
    entry = AuditEntry.objects.filter(
        workspace=admin_user.workspace, action=AuditAction.SIGN_OUT
    ).get()
    assert entry.changes == {"session": ["active", "idle timeout"]}


def test_absolute_timeout_signs_out_even_when_active(admin_user):
    client = signed_in_client(admin_user)
    now = int(time.time())
    shift_session(client, signed_in_at=now - settings.SESSION_ABSOLUTE_TIMEOUT - 5, seen_at=now)

    response = client.get(reverse("account_security"))

    assert response.status_code == 302
    assert response.url == "/login/?expired=1"
    assert not is_signed_in(client)
    entry = AuditEntry.objects.filter(
        workspace=admin_user.workspace, action=AuditAction.SIGN_OUT
    ).get()
    assert entry.changes == {"session": ["active", "absolute timeout"]}


def test_sign_out_everywhere_ends_other_sessions_and_keeps_this_one(admin_user):
    here = signed_in_client(admin_user)
    phone = signed_in_client(admin_user, REMOTE_ADDR="10.1.1.1")
    assert is_signed_in(phone)

    assert here.get(reverse("sign_out_everywhere")).status_code == 405
    response = here.post(reverse("sign_out_everywhere"))

    assert response.status_code == 302
    assert is_signed_in(here)
    assert not is_signed_in(phone)
    row = AuditEntry.objects.in_workspace(admin_user.workspace_id).get(action=AuditAction.SECURITY)
    assert row.actor == admin_user
    assert row.changes == {"sessions": ["active", "signed out everywhere"]}


def test_password_change_keeps_this_session_and_ends_others(admin_user):
    here = signed_in_client(admin_user)
    laptop = signed_in_client(admin_user, REMOTE_ADDR="10.1.1.2")

    response = here.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("account_security")
    assert is_signed_in(here)
    assert not is_signed_in(laptop)
    assert User.objects.get(pk=admin_user.pk).check_password(NEW_PASSWORD)
    assert is_signed_in(signed_in_client(admin_user, NEW_PASSWORD))


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            "Your current password is not correct.",
        ),
        (
            {
                "old_password": TEST_PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": "other",
            },
            "The two passwords do not match.",
        ),
        (
            {"old_password": TEST_PASSWORD, "new_password1": "12345", "new_password2": "12345"},
            "Choose a stronger password.",
        ),
    ],
)
def test_password_change_refuses_bad_input_and_changes_nothing(admin_user, form, message):
    here = signed_in_client(admin_user)
    laptop = signed_in_client(admin_user, REMOTE_ADDR="10.1.1.3")

    response = here.post(reverse("password_change"), form)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).check_password(TEST_PASSWORD)
    assert is_signed_in(laptop)
    assert (
        not AuditEntry.objects.in_workspace(admin_user.workspace_id)
        .filter(action=AuditAction.SECURITY)
        .exists()
    )


def test_account_pages_need_a_signed_in_user(client):
    for name in ("account_security", "password_change", "two_factor_setup"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")


def test_expired_session_on_an_htmx_request_redirects_the_whole_page(client, admin_user):
    import time

    client.force_login(admin_user)
    session = client.session
    session["signed_in_at"] = session["seen_at"] = int(time.time()) - 13 * 3600
    session.save()
    response = client.get("/settings/users/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?expired=1"
