"""`guanxi token create|list|revoke`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from guanxi.platform.models import ApiToken, AuditEntry
from guanxi.platform.tests.test_api_support import ApiClient

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_a_working_token(admin_user):
    out, err = _run(
        "create",
        admin_user.email.upper(),
        "--name",
        "ERP sync",
        "--scopes",
        "read,write",
        "--expires-days",
        "30",
    )
    secret = out.strip()
    assert secret.startswith("gx_") and "\n" not in secret
    assert "not shown again" in err
    me = ApiClient(secret).get("/me")
    assert me.status_code == 200, me.content
    assert me.json()["scopes"] == ["read", "write"]
    token = ApiToken.objects.in_workspace(admin_user.workspace).get()
    assert token.name == "ERP sync" and token.expires_at is not None
    entry = AuditEntry.objects.filter(
        workspace=admin_user.workspace, object_key="platform.apitoken"
    ).get()
    assert entry.actor_id == admin_user.pk


def test_list_and_revoke(admin_user, other_admin):
    secret, _err = _run("create", admin_user.email, "--name", "mine")
    _run("create", other_admin.email, "--name", "theirs")
    token = ApiToken.objects.in_workspace(admin_user.workspace).get()

    everyone, _err = _run("list")
    assert "mine" in everyone and "theirs" in everyone
    one, _err = _run("list", admin_user.email)
    assert "mine" in one and "theirs" not in one and secret.strip() not in one

    out, _err = _run("revoke", str(token.pk))
    assert "Revoked" in out
    assert ApiClient(secret.strip()).get("/me").status_code == 401
    assert "revoked" in _run("list", admin_user.email)[0]


def test_bad_input_is_a_command_error(admin_user, sales_rep_user):
    with pytest.raises(CommandError, match="No user"):
        _run("create", "nobody@example.com", "--name", "x")
    with pytest.raises(CommandError, match="admin"):
        _run("create", sales_rep_user.email, "--name", "x", "--scopes", "read,admin")
    with pytest.raises(CommandError, match="scope"):
        _run("create", admin_user.email, "--name", "x", "--scopes", "everything")
    with pytest.raises(CommandError, match="No token"):
        _run("revoke", "999999")
    assert not ApiToken.objects.in_workspace(admin_user.workspace).exists()


@pytest.fixture
def sales_rep_user(workspace):
    from guanxi.platform.tests.factories import UserFactory

    return UserFactory(workspace=workspace, role_code="sales_rep")
