"""Inviting people and welcoming new users: the e-mail goes out from the worker, its link
works once, and only administrators of the same workspace can do it."""

import re

import pytest
from django.urls import reverse

from guanxi.platform import services
from guanxi.platform.models import Invitation, Role, User
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def link_in(message) -> str:
    return re.search(r"http://\S+", message.body).group(0).replace("http://127.0.0.1:8000", "")


def test_invite_by_email_and_accept(
    admin_client, client, workspace, mailoutbox, django_capture_on_commit_callbacks
):
    role = Role.objects.in_workspace(workspace).get(code="marketing")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("platform:user_invite"), {"email": "Mei@Example.com", "role": role.pk}
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["mei@example.com"]
    assert workspace.name in mailoutbox[0].subject or workspace.name in mailoutbox[0].body
    page = admin_client.get(reverse("platform:user_invite"))
    assert "mei@example.com" in page.content.decode()

    client.logout()
    link = link_in(mailoutbox[0])
    assert client.get(link).status_code == 200
    client.post(link, {"full_name": "韩梅梅", "password": "a-long-enough-pass-9"})
    user = User.objects.get(email="mei@example.com")
    assert user.workspace == workspace and user.role == role and user.full_name == "韩梅梅"
    assert client.get(link).status_code == 404  # once only


def test_withdrawn_invitation_link_stops_working(
    admin_client, client, workspace, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    role = Role.objects.in_workspace(workspace).get(code="sales_rep")
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.invitation_create(
            actor=admin_user, workspace=workspace, email="x@example.com", role_id=role.pk
        )
    admin_client.post(reverse("platform:invitation_revoke", args=[invitation.pk]))
    client.logout()
    assert client.get(reverse("invitation_accept", args=[token])).status_code == 404


def test_only_admins_of_the_workspace_invite(client, workspace, other_workspace, other_admin):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    client.force_login(rep)
    assert client.get(reverse("platform:user_invite")).status_code == 403
    role = Role.objects.in_workspace(other_workspace).get(code="sales_rep")
    theirs, _token = services.invitation_create(
        actor=other_admin, workspace=other_workspace, email="t@example.com", role_id=role.pk
    )
    # No right at all: refused whatever the id, so it confirms nothing.
    assert client.post(reverse("platform:invitation_revoke", args=[theirs.pk])).status_code == 403
    admin = UserFactory(workspace=workspace, role_code="administrator")
    client.force_login(admin)
    assert client.post(reverse("platform:invitation_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.expires_at > theirs.created_at


def test_inviting_an_existing_user_changes_nothing(admin_client, workspace, admin_user):
    role = Role.objects.in_workspace(workspace).get(code="sales_rep")
    response = admin_client.post(
        reverse("platform:user_invite"), {"email": admin_user.email, "role": role.pk}
    )
    assert response.status_code == 200 and "Already taken" in response.content.decode()
    assert not Invitation.objects.in_workspace(workspace).exists()


def test_new_user_gets_a_link_to_choose_a_password(
    admin_client, client, workspace, mailoutbox, django_capture_on_commit_callbacks
):
    role = Role.objects.in_workspace(workspace).get(code="technician")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("platform:user_create"),
            {"email": "tech@example.com", "full_name": "Tech", "role": role.pk},
        )
    user = User.objects.get(email="tech@example.com")
    assert not user.has_usable_password()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["tech@example.com"]
    client.logout()
    landing = client.get(link_in(mailoutbox[0]))
    assert landing.status_code == 302  # Django moves the token into the session
    client.post(
        landing.url, {"new_password1": "chosen-pass-2026!", "new_password2": "chosen-pass-2026!"}
    )
    user.refresh_from_db()
    assert user.check_password("chosen-pass-2026!")
