"""The platform's services: each change is validated, audited in the same transaction,
and bad input changes nothing."""

import pytest
from django.db import DatabaseError, transaction

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.platform import services
from guanxi.platform.models import AuditEntry, Role, Team, User
from guanxi.platform.tests.factories import UserFactory


def audit_rows(workspace, **filters):
    return AuditEntry.objects.filter(workspace=workspace, **filters).order_by("id")


def test_workspace_create_makes_roles_admin_and_audit(db):
    workspace, admin = services.workspace_create(
        name="华东贸易有限公司",
        admin_email="Boss@Example.com",
        admin_name="王芳",
        admin_password="a-long-enough-password-1",
    )
    codes = set(Role.objects.in_workspace(workspace).values_list("code", flat=True))
    assert {
        "administrator",
        "sales_manager",
        "sales_rep",
        "marketing",
        "service_agent",
        "technician",
        "read_only",
    } <= codes
    assert admin.email == "boss@example.com" and admin.role.is_admin
    assert admin.check_password("a-long-enough-password-1")
    assert audit_rows(workspace, action="create").count() == 2


def test_workspace_create_refuses_weak_password_and_changes_nothing(db):
    with pytest.raises(ApplicationError) as info:
        services.workspace_create(
            name="X", admin_email="x@example.com", admin_name="X", admin_password="123"
        )
    assert "password" in info.value.fields
    assert not User.objects.filter(email="x@example.com").exists()


def test_team_hierarchy_paths_and_moves(workspace, admin_user):
    sales = services.team_create(
        actor=admin_user, workspace=workspace, name="销售部", kind="department"
    )
    east = services.team_create(
        actor=admin_user, workspace=workspace, name="华东组", parent_id=sales.pk
    )
    north = services.team_create(actor=admin_user, workspace=workspace, name="华北组")
    assert east.path == f"/{sales.pk}/{east.pk}/"
    services.team_update(actor=admin_user, workspace=workspace, team_id=north.pk, parent_id=east.pk)
    north.refresh_from_db()
    assert north.path == f"/{sales.pk}/{east.pk}/{north.pk}/"
    with pytest.raises(ApplicationError):
        services.team_update(
            actor=admin_user, workspace=workspace, team_id=sales.pk, parent_id=north.pk
        )
    sales.refresh_from_db()
    assert sales.parent_id is None
    update = audit_rows(workspace, action="update", object_key="platform.team").last()
    assert update.changes["parent"][1]["id"] == east.pk


def test_team_name_must_be_unique_and_present(workspace, admin_user):
    services.team_create(actor=admin_user, workspace=workspace, name="Sales")
    with pytest.raises(Conflict):
        services.team_create(actor=admin_user, workspace=workspace, name="sales")
    with pytest.raises(ApplicationError) as info:
        services.team_create(actor=admin_user, workspace=workspace, name="  ")
    assert "name" in info.value.fields
    assert Team.objects.in_workspace(workspace).count() == 1


def test_team_delete_refused_while_it_has_members(workspace, admin_user):
    team = services.team_create(actor=admin_user, workspace=workspace, name="Sales")
    services.user_update(
        actor=admin_user, workspace=workspace, user_id=admin_user.pk, team_id=team.pk
    )
    with pytest.raises(Conflict):
        services.team_delete(actor=admin_user, workspace=workspace, team_id=team.pk)


def test_non_admin_cannot_manage_and_is_told_why(workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    with pytest.raises(PermissionDenied) as info:
        services.team_create(actor=rep, workspace=workspace, name="Mine")
    assert "administrators" in str(info.value.message)
    assert audit_rows(workspace, action="permission_denied").count() == 1
    assert not Team.objects.in_workspace(workspace).exists()


def test_other_workspace_records_are_not_found(workspace, admin_user, other_workspace, other_admin):
    theirs = services.team_create(actor=other_admin, workspace=other_workspace, name="Theirs")
    with pytest.raises(NotFound):
        services.team_update(actor=admin_user, workspace=workspace, team_id=theirs.pk, name="Mine")
    with pytest.raises(NotFound):
        services.user_update(
            actor=admin_user, workspace=workspace, user_id=other_admin.pk, full_name="x"
        )


def test_role_rights_are_cleaned_and_audited(workspace, admin_user):
    role = services.role_create(
        actor=admin_user,
        workspace=workspace,
        name="East sales",
        rights={"platform.job": {"actions": ["update"], "visibility": "team"}},
    )
    assert role.rights == {"platform.job": {"actions": ["read", "update"], "visibility": "team"}}
    with pytest.raises(ApplicationError):
        services.role_update(
            actor=admin_user,
            workspace=workspace,
            role_id=role.pk,
            rights={"platform.job": {"actions": ["fly"]}},
        )
    with pytest.raises(ApplicationError):
        services.role_update(
            actor=admin_user,
            workspace=workspace,
            role_id=role.pk,
            rights={"nope.object": {"actions": ["read"]}},
        )
    role.refresh_from_db()
    assert role.rights["platform.job"]["visibility"] == "team"


def test_last_administrator_cannot_be_removed(workspace, admin_user):
    rep_role = Role.objects.in_workspace(workspace).get(code="sales_rep")
    with pytest.raises(Conflict):
        services.user_update(
            actor=admin_user, workspace=workspace, user_id=admin_user.pk, role_id=rep_role.pk
        )
    with pytest.raises(Conflict):
        services.user_update(
            actor=admin_user, workspace=workspace, user_id=admin_user.pk, is_active=False
        )


def test_user_create_and_update_write_field_by_field_audit(workspace, admin_user):
    rep_role = Role.objects.in_workspace(workspace).get(code="sales_rep")
    user = services.user_create(
        actor=admin_user,
        workspace=workspace,
        email="li.lei@example.com",
        full_name="李雷",
        role_id=rep_role.pk,
    )
    services.user_update(
        actor=admin_user,
        workspace=workspace,
        user_id=user.pk,
        full_name="李磊",
        phone="13800138000",
    )
    entry = audit_rows(workspace, action="update", object_key="platform.user").last()
    assert entry.changes == {"full_name": ["李雷", "李磊"], "phone": ["", "13800138000"]}
    assert entry.actor == admin_user
    assert "password" not in str(audit_rows(workspace).values_list("changes", flat=True))


def test_user_email_is_unique_across_workspaces(workspace, admin_user, other_admin):
    rep_role = Role.objects.in_workspace(workspace).get(code="sales_rep")
    with pytest.raises(Conflict):
        services.user_create(
            actor=admin_user,
            workspace=workspace,
            email=other_admin.email.upper(),
            full_name="Dup",
            role_id=rep_role.pk,
        )


def test_read_only_field_rule_blocks_the_write(workspace, admin_user):
    admin_role = admin_user.role
    services.role_set_field_rule(
        actor=admin_user,
        workspace=workspace,
        role_id=admin_role.pk,
        object_key="platform.user",
        field="phone",
        access="read_only",
    )
    actor = User.objects.get(pk=admin_user.pk)
    with pytest.raises(PermissionDenied):
        services.user_update(actor=actor, workspace=workspace, user_id=actor.pk, phone="123")
    actor.refresh_from_db()
    assert actor.phone == ""


def test_audit_log_is_append_only(workspace, admin_user):
    services.team_create(actor=admin_user, workspace=workspace, name="Sales")
    entry = AuditEntry.objects.filter(workspace=workspace).first()
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        AuditEntry.objects.filter(workspace=workspace).update(action="delete")
    with pytest.raises(RuntimeError):
        AuditEntry.objects.filter(workspace=workspace).delete()
    # Even raw SQL is refused by the database trigger.
    from django.db import connection

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE platform_auditentry SET action = 'x' WHERE id = %s", [entry.pk])


def test_api_token_hash_only_and_revocation(workspace, admin_user):
    token, secret = services.api_token_create(
        actor=admin_user, workspace=workspace, name="ERP", scopes=["read"]
    )
    assert secret.startswith(f"gx_{token.prefix}_") and secret not in token.key_hash
    assert token.key_hash == services.hash_secret(secret)
    services.api_token_revoke(actor=admin_user, workspace=workspace, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert secret not in str(
        list(AuditEntry.objects.filter(workspace=workspace).values_list("changes", flat=True))
    )


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda a, w: services.team_create(actor=a, workspace=w, name="x" * 121), "name"),
        (lambda a, w: services.team_create(actor=a, workspace=w, name="bad\x00name"), "name"),
        (
            lambda a, w: services.role_create(
                actor=a, workspace=w, name="R", description=None, rights=[]
            ),
            "rights",
        ),
        (
            lambda a, w: services.role_create(
                actor=a, workspace=w, name="R", rights={"platform.job": "all"}
            ),
            "rights.platform.job",
        ),
        (
            lambda a, w: services.user_create(
                actor=a,
                workspace=w,
                email="n@example.com",
                full_name="N",
                role_id=a.role_id,
                time_zone="Mars/Olympus",
            ),
            "time_zone",
        ),
        (
            lambda a, w: services.user_create(
                actor=a,
                workspace=w,
                email="n@example.com",
                full_name="N",
                role_id=a.role_id,
                language="xx",
            ),
            "language",
        ),
    ],
)
def test_bad_input_is_a_field_error_and_changes_nothing(workspace, admin_user, call, field):
    before = AuditEntry.objects.filter(workspace=workspace).count()
    with pytest.raises(ApplicationError) as info:
        call(admin_user, workspace)
    assert field in info.value.fields
    assert AuditEntry.objects.filter(workspace=workspace).count() == before


def test_two_factor_on_and_off(workspace, admin_user):
    from django_otp.oath import totp

    device = services.two_factor_start(actor=admin_user)
    assert services.two_factor_start(actor=admin_user) == device  # the same secret until confirmed
    with pytest.raises(ApplicationError) as info:
        services.two_factor_confirm(actor=admin_user, workspace=workspace, code="000000")
    assert "code" in info.value.fields and services.two_factor_device(actor=admin_user) is None
    device.refresh_from_db()
    device.throttle_reset()  # a wrong code makes the next try wait a moment
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    services.two_factor_confirm(actor=admin_user, workspace=workspace, code=code)
    assert services.two_factor_device(actor=admin_user) == device
    with pytest.raises(ApplicationError):
        services.two_factor_disable(actor=admin_user, workspace=workspace, password="wrong")
    from guanxi.platform.tests.factories import TEST_PASSWORD

    services.two_factor_disable(actor=admin_user, workspace=workspace, password=TEST_PASSWORD)
    assert services.two_factor_device(actor=admin_user) is None
    changes = list(
        AuditEntry.objects.filter(workspace=workspace, action="security")
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert changes == [{"two_factor": ["off", "on"]}, {"two_factor": ["on", "off"]}]
