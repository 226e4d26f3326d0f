"""Joining: hosted sign-up (only in hosted mode) and accepting an invitation."""

import pytest
from django.urls import reverse

from guanxi.platform import services
from guanxi.platform.models import AuditAction, AuditEntry, Role, User, Workspace

pytestmark = pytest.mark.django_db

SIGNUP = {
    "company_name": "深圳市关系科技有限公司",
    "full_name": "张三",
    "email": "zhang.san@example.cn",
    "password": "a-strong-passphrase-for-zs",
}


def test_signup_is_not_there_when_self_hosted(client, settings):
    settings.GUANXI_HOSTED = False

    assert client.get(reverse("signup")).status_code == 404
    assert client.post(reverse("signup"), SIGNUP).status_code == 404
    assert not Workspace.objects.filter(name=SIGNUP["company_name"]).exists()
    assert "Create a workspace" not in client.get(reverse("login")).content.decode()


def test_hosted_signup_creates_workspace_and_signs_in(client, settings):
    settings.GUANXI_HOSTED = True
    assert "Create a workspace" in client.get(reverse("login")).content.decode()
    assert client.get(reverse("signup")).status_code == 200

    response = client.post(reverse("signup"), SIGNUP, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 302
    assert response.url == reverse("platform:home")
    workspace = Workspace.objects.get(name=SIGNUP["company_name"])
    user = User.objects.get(email=SIGNUP["email"])
    assert user.workspace == workspace
    assert user.role.is_admin
    assert user.full_name == "张三"
    assert workspace.language == "zh-hans"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert "signed_in_at" in client.session
    assert AuditEntry.objects.in_workspace(workspace).filter(action=AuditAction.SIGN_IN).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password": "12345678"}, "Choose a stronger password."),
        ({"company_name": "   "}, "This field is required."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
    ],
)
def test_hosted_signup_refuses_bad_input_and_creates_nothing(client, settings, change, message):
    settings.GUANXI_HOSTED = True
    before = Workspace.objects.count()

    response = client.post(reverse("signup"), {**SIGNUP, **change})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Workspace.objects.count() == before
    assert not User.objects.filter(email=SIGNUP["email"]).exists()
    assert "_auth_user_id" not in client.session


def test_hosted_signup_with_a_taken_address(client, settings, admin_user):
    settings.GUANXI_HOSTED = True

    response = client.post(reverse("signup"), {**SIGNUP, "email": admin_user.email})

    assert response.status_code == 200
    assert "An account with this e-mail already exists." in response.content.decode()
    assert not Workspace.objects.filter(name=SIGNUP["company_name"]).exists()


@pytest.fixture
def invitation(admin_user, workspace):
    role = Role.objects.in_workspace(workspace).get(code="sales_rep")
    _invitation, token = services.invitation_create(
        actor=admin_user,
        workspace=workspace,
        email="li.si@example.cn",
        role_id=role.pk,
        full_name="李四",
    )
    return token


def test_invitation_accept_creates_user_and_signs_in(client, workspace, invitation):
    page = client.get(reverse("invitation_accept", args=[invitation]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "li.si@example.cn" in html
    assert workspace.name in html
    assert 'value="李四"' in html

    response = client.post(
        reverse("invitation_accept", args=[invitation]),
        {"full_name": "李四", "password": "li-si-strong-passphrase"},
    )

    assert response.status_code == 302
    assert response.url == reverse("platform:home")
    user = User.objects.get(email="li.si@example.cn")
    assert user.workspace == workspace
    assert user.role.code == "sales_rep"
    assert client.session["_auth_user_id"] == str(user.pk)
    # Used once.
    assert client.get(reverse("invitation_accept", args=[invitation])).status_code == 404


def test_invitation_with_weak_password_changes_nothing(client, invitation):
    response = client.post(
        reverse("invitation_accept", args=[invitation]),
        {"full_name": "李四", "password": "123"},
    )

    assert response.status_code == 200
    assert "Choose a stronger password." in response.content.decode()
    assert not User.objects.filter(email="li.si@example.cn").exists()
    assert client.get(reverse("invitation_accept", args=[invitation])).status_code == 200


def test_unknown_invitation(client, db):
    response = client.get(reverse("invitation_accept", args=["no-such-token"]))
    assert response.status_code == 404
    assert "not valid any more" in response.content.decode()


def test_signing_in_after_accepting(client, invitation):
    client.post(
        reverse("invitation_accept", args=[invitation]),
        {"full_name": "李四", "password": "li-si-strong-passphrase"},
    )
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session

    response = client.post(
        reverse("login"), {"email": "li.si@example.cn", "password": "li-si-strong-passphrase"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email="li.si@example.cn").pk)
