"""The administration pages (teams, roles with rights and field rules, custom fields, audit
log) and the API tokens page: who may use them, what they write, what they refuse."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.platform import audit, navigation, permissions, registry, services
from guanxi.platform.models import (
    Action,
    ApiToken,
    AuditAction,
    AuditEntry,
    CustomField,
    Job,
    Role,
    RoleFieldRule,
    Team,
    User,
    Visibility,
)
from guanxi.platform.tests.factories import TeamFactory, UserFactory

# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def sales_rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep", full_name="Rep Li")


@pytest.fixture
def rep_client(client, sales_rep):
    client.force_login(sales_rep)
    return client


@pytest.fixture
def records(workspace, admin_user):
    """One of each administered thing in the workspace."""
    team = TeamFactory(workspace=workspace, name="Sales East")
    role = services.role_create(actor=admin_user, workspace=workspace, name="Auditor")
    field = services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="Region",
        key="region",
        field_type="text",
    )
    token, _secret = services.api_token_create(
        actor=admin_user, workspace=workspace, name="ERP", scopes=["read"]
    )
    entry = AuditEntry.objects.filter(workspace=workspace).order_by("-id").first()
    return {"team": team, "role": role, "field": field, "token": token, "entry": entry}


@pytest.fixture
def foreign(other_workspace, other_admin):
    """The same things in another workspace."""
    team = TeamFactory(workspace=other_workspace, name="Theirs")
    role = services.role_create(actor=other_admin, workspace=other_workspace, name="Their role")
    field = services.custom_field_create(
        actor=other_admin,
        workspace=other_workspace,
        object_key="platform.user",
        label="Theirs",
        key="theirs",
        field_type="text",
    )
    token, _secret = services.api_token_create(
        actor=other_admin, workspace=other_workspace, name="Theirs", scopes=["read"]
    )
    entry = AuditEntry.objects.filter(workspace=other_workspace).order_by("-id").first()
    return {"team": team, "role": role, "field": field, "token": token, "entry": entry}


def admin_pages(r):
    """(url name, args) of every administration page, for the records ``r``."""
    return [
        ("platform:team_list", []),
        ("platform:team_create", []),
        ("platform:team_detail", [r["team"].pk]),
        ("platform:team_edit", [r["team"].pk]),
        ("platform:team_delete", [r["team"].pk]),
        ("platform:role_list", []),
        ("platform:role_create", []),
        ("platform:role_detail", [r["role"].pk]),
        ("platform:role_delete", [r["role"].pk]),
        ("platform:custom_field_list", []),
        ("platform:custom_field_create", []),
        ("platform:custom_field_edit", [r["field"].pk]),
        ("platform:custom_field_delete", [r["field"].pk]),
        ("platform:audit_list", []),
        ("platform:audit_detail", [r["entry"].pk]),
    ]


def admin_posts(r):
    """(url name, args, data) of every administration form."""
    return [
        ("platform:team_list", [], {"op": "export", "format": "csv"}),
        ("platform:team_create", [], {"name": "X", "kind": "team"}),
        ("platform:team_edit", [r["team"].pk], {"name": "X", "kind": "team"}),
        ("platform:team_delete", [r["team"].pk], {}),
        ("platform:role_create", [], {"name": "X"}),
        ("platform:role_detail", [r["role"].pk], {"section": "rights", "name": "X"}),
        (
            "platform:role_detail",
            [r["role"].pk],
            {"section": "fields", "rule__platform.user__phone": "hidden"},
        ),
        ("platform:role_delete", [r["role"].pk], {}),
        (
            "platform:custom_field_create",
            [],
            {"object_key": "platform.user", "label": "X", "field_type": "text"},
        ),
        ("platform:custom_field_edit", [r["field"].pk], {"label": "X"}),
        ("platform:custom_field_delete", [r["field"].pk], {}),
        ("platform:custom_field_move", [r["field"].pk], {"direction": "up"}),
        ("platform:custom_field_toggle", [r["field"].pk], {"active": "0"}),
        ("platform:audit_list", [], {"op": "export", "format": "csv"}),
    ]


def text_of(response) -> str:
    return response.content.decode()


def matrix_post(role: Role, **grants) -> dict:
    """The rights form as a browser posts it: every object, with ``grants`` set."""
    data = {"section": "rights", "name": role.name, "description": role.description}
    if role.is_admin:
        data["is_admin"] = "on"
    for obj in registry.all_objects():
        actions, visibility = grants.get(obj.key.replace(".", "_"), ([], Visibility.OWN))
        for action in actions:
            data[f"right__{obj.key}__{action}"] = "on"
        data[f"visibility__{obj.key}"] = visibility
    return data


# --- URL names the rest of the project relies on -------------------------------------------------------


def test_url_names_exist():
    for name in (
        "token_list",
        "team_list",
        "team_create",
        "role_list",
        "role_create",
        "custom_field_list",
        "custom_field_create",
        "audit_list",
        "user_list",
    ):
        assert reverse(f"platform:{name}").startswith("/settings/")
    for name in (
        "team_detail",
        "team_edit",
        "team_delete",
        "role_detail",
        "role_delete",
        "custom_field_edit",
        "custom_field_delete",
        "custom_field_move",
        "custom_field_toggle",
        "audit_detail",
        "token_revoke",
    ):
        assert reverse(f"platform:{name}", args=[1]).startswith("/settings/")


def test_navigation_shows_administration_to_administrators_only(workspace, admin_user, sales_rep):
    from guanxi.platform import nav  # noqa: F401  (the app imports it in ready(); harmless twice)

    admin_sections = dict(navigation.for_user(admin_user))
    rep_sections = dict(navigation.for_user(sales_rep))
    admin_urls = [i.url_name for i in admin_sections["Administration"]]
    assert admin_urls == [
        "platform:user_list",
        "platform:team_list",
        "platform:role_list",
        "platform:custom_field_list",
        "platform:audit_list",
    ]
    assert "Administration" not in rep_sections
    assert [i.url_name for i in rep_sections["Me"]] == ["platform:profile", "platform:token_list"]


# --- every page renders; fixed query counts ---------------------------------------------------------------


def test_every_admin_page_renders_for_an_admin(admin_client, records):
    for name, args in admin_pages(records):
        response = admin_client.get(reverse(name, args=args))
        assert response.status_code == 200, name
    assert admin_client.get(reverse("platform:token_list")).status_code == 200


def _team_rows(workspace, n, start):
    parent = TeamFactory(workspace=workspace, name=f"Parent {start}")
    for i in range(n):
        manager = UserFactory(workspace=workspace)
        team = TeamFactory(
            workspace=workspace, name=f"Team {start + i:03}", parent=parent, manager=manager
        )
        UserFactory(workspace=workspace, team=team)


def test_team_list_query_count_does_not_grow_with_rows(admin_client, workspace, admin_user):
    services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.team",
        label="Budget",
        key="budget",
        field_type="number",
    )
    url = (
        reverse("platform:team_list")
        + "?cols=name,kind,parent__name,manager__full_name,member_count,custom.budget"
    )
    _team_rows(workspace, 5, 0)
    admin_client.get(url)  # the first request after sign-in also writes the session
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 6
    _team_rows(workspace, 45, 100)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert len(response.context["rows"]) == 50
    assert len(many) == len(few)


def test_team_list_counts_members(admin_client, workspace):
    team = TeamFactory(workspace=workspace, name="Counted")
    UserFactory.create_batch(3, workspace=workspace, team=team)
    response = admin_client.get(reverse("platform:team_list") + "?q=Counted")
    row = response.context["rows"][0]
    values = {c["column"].key: c["value"] for c in row["cells"]}
    assert values["member_count"] == 3


def _audit_rows(workspace, actor, n):
    for i in range(n):
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key="platform.team",
            object_id=i,
            object_repr=f"Team {i}",
            changes={"name": [f"Old {i}", f"New {i}"]},
        )


def test_audit_list_query_count_does_not_grow_with_rows(admin_client, workspace, admin_user):
    url = reverse("platform:audit_list")
    _audit_rows(workspace, admin_user, 5)
    admin_client.get(url)  # the first request after sign-in also writes the session
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    _audit_rows(workspace, admin_user, 50)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert len(response.context["rows"]) == 50
    assert len(many) == len(few)


# --- administrators only ----------------------------------------------------------------------------------


def test_sales_rep_gets_403_with_a_reason_on_every_admin_page_and_post(rep_client, records):
    for name, args in admin_pages(records):
        response = rep_client.get(reverse(name, args=args))
        assert response.status_code == 403, name
        # The audit log is a right a role can hold; the rest is for administrators.
        reason = "does not allow you" if "audit" in name else "Only administrators"
        assert reason in str(response.context["reason"]), name
        assert reason in text_of(response), name
    before = (
        Team.objects.in_workspace(records["team"].workspace).count(),
        Role.objects.in_workspace(records["role"].workspace).count(),
        CustomField.objects.in_workspace(records["field"].workspace).count(),
    )
    for name, args, data in admin_posts(records):
        response = rep_client.post(reverse(name, args=args), data)
        assert response.status_code == 403, name
        reason = "does not allow you" if "audit" in name else "Only administrators"
        assert reason in text_of(response), name
    workspace = records["team"].workspace
    assert before == (
        Team.objects.in_workspace(workspace).count(),
        Role.objects.in_workspace(workspace).count(),
        CustomField.objects.in_workspace(workspace).count(),
    )
    records["field"].refresh_from_db()
    assert records["field"].label == "Region" and records["field"].is_active
    assert not RoleFieldRule.objects.in_workspace(workspace).exists()


def test_other_workspace_ids_are_404(admin_client, records, foreign):
    for name, args in admin_pages(foreign):
        if args:
            assert admin_client.get(reverse(name, args=args)).status_code == 404, name
    for name, args, data in admin_posts(foreign):
        if args:
            assert admin_client.post(reverse(name, args=args), data).status_code == 404, name
    assert (
        admin_client.post(reverse("platform:token_revoke", args=[foreign["token"].pk])).status_code
        == 404
    )
    foreign["token"].refresh_from_db()
    foreign["team"].refresh_from_db()
    foreign["field"].refresh_from_db()
    assert foreign["token"].revoked_at is None
    assert foreign["team"].name == "Theirs"
    assert foreign["field"].label == "Theirs" and foreign["field"].is_active
    assert (
        Role.objects.in_workspace(foreign["role"].workspace).filter(pk=foreign["role"].pk).exists()
    )


def test_other_workspace_rows_do_not_appear_in_lists(admin_client, records, foreign):
    assert "Theirs" not in text_of(admin_client.get(reverse("platform:team_list")))
    assert "Their role" not in text_of(admin_client.get(reverse("platform:role_list")))
    assert "Theirs" not in text_of(admin_client.get(reverse("platform:custom_field_list")))
    assert "Theirs" not in text_of(admin_client.get(reverse("platform:token_list") + "?owner=all"))
    assert "Theirs" not in text_of(admin_client.get(reverse("platform:audit_list")))


# --- writes through the pages, visible in the audit log ---------------------------------------------------------


def test_creating_through_the_pages_writes_audit_rows_shown_on_the_audit_page(
    admin_client, workspace
):
    role_id = Role.objects.in_workspace(workspace).get(code="sales_rep").pk
    response = admin_client.post(
        reverse("platform:team_create"), {"name": "North Team", "kind": "department"}
    )
    team = Team.objects.in_workspace(workspace).get(name="North Team")
    assert response.status_code == 302 and response["Location"] == reverse(
        "platform:team_detail", args=[team.pk]
    )
    response = admin_client.post(reverse("platform:role_create"), {"name": "Field Auditor"})
    role = Role.objects.in_workspace(workspace).get(name="Field Auditor")
    assert response["Location"] == reverse("platform:role_detail", args=[role.pk])
    response = admin_client.post(
        reverse("platform:custom_field_create"),
        {
            "object_key": "platform.user",
            "label": "Shoe Size",
            "field_type": "number",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.in_workspace(workspace).get(label="Shoe Size")
    assert field.key == "shoe_size"
    response = admin_client.post(
        reverse("platform:user_create"),
        {
            "email": "new.person@example.com",
            "full_name": "New Person",
            "role": role_id,
        },
    )
    assert response.status_code == 302

    for key, repr_ in (
        ("platform.team", "North Team"),
        ("platform.role", "Field Auditor"),
        ("platform.customfield", "Shoe Size"),
        ("platform.user", "New Person"),
    ):
        assert AuditEntry.objects.filter(
            workspace=workspace, action=AuditAction.CREATE, object_key=key, object_repr=repr_
        ).exists(), key
    page = text_of(admin_client.get(reverse("platform:audit_list")))
    for repr_ in ("North Team", "Field Auditor", "Shoe Size", "New Person"):
        assert repr_ in page
    assert "Created" in page
    # the changes are readable: field label, before → after
    assert "Name: — → North Team" in page
    detail = admin_client.get(
        reverse(
            "platform:audit_detail",
            args=[
                AuditEntry.objects.filter(workspace=workspace, object_key="platform.team")
                .order_by("-id")
                .first()
                .pk
            ],
        )
    )
    assert "North Team" in text_of(detail) and "department" in text_of(detail)


def test_team_edit_and_detail_show_history(admin_client, workspace, admin_user):
    parent = TeamFactory(workspace=workspace, name="HQ")
    team = TeamFactory(workspace=workspace, name="Old name")
    member = UserFactory(workspace=workspace, team=team, full_name="Member Wang")
    response = admin_client.post(
        reverse("platform:team_edit", args=[team.pk]),
        {
            "name": "New name",
            "kind": "team",
            "parent": parent.pk,
            "manager": member.pk,
        },
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.parent_id, team.manager_id) == ("New name", parent.pk, member.pk)
    assert team.path == f"/{parent.pk}/{team.pk}/"
    page = text_of(admin_client.get(reverse("platform:team_detail", args=[team.pk])))
    assert "Member Wang" in page and "HQ" in page
    assert "Old name" in page and "New name" in page  # the history shows before and after


def test_team_delete_refuses_a_team_with_members_and_deletes_an_empty_one(admin_client, workspace):
    busy = TeamFactory(workspace=workspace, name="Busy")
    UserFactory(workspace=workspace, team=busy)
    empty = TeamFactory(workspace=workspace, name="Empty")
    response = admin_client.post(reverse("platform:team_delete", args=[busy.pk]), follow=True)
    assert "Move this team" in " ".join(str(m) for m in response.context["messages"])
    assert Team.objects.in_workspace(workspace).filter(pk=busy.pk).exists()
    response = admin_client.post(reverse("platform:team_delete", args=[empty.pk]))
    assert response["Location"] == reverse("platform:team_list")
    assert not Team.objects.in_workspace(workspace).filter(pk=empty.pk).exists()
    assert AuditEntry.objects.filter(
        workspace=workspace, action=AuditAction.DELETE, object_repr="Empty"
    ).exists()


# --- roles: rights matrix and field rules ----------------------------------------------------------------------


def test_rights_matrix_saves_and_permissions_follow(admin_client, workspace, sales_rep):
    role = sales_rep.role
    assert not permissions.can(sales_rep, "platform.team", Action.CREATE)
    data = matrix_post(
        role,
        platform_team=(["create", "update"], Visibility.TEAM),
        platform_user=(["read", "export"], Visibility.ALL),
    )
    response = admin_client.post(reverse("platform:role_detail", args=[role.pk]), data)
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.rights["platform.team"] == {
        "actions": ["create", "read", "update"],
        "visibility": "team",
    }
    assert role.rights["platform.user"] == {"actions": ["export", "read"], "visibility": "all"}
    assert role.rights["platform.job"] == {"actions": [], "visibility": "own"}
    user = User.objects.get(pk=sales_rep.pk)
    assert permissions.can(user, "platform.team", Action.CREATE)
    assert permissions.can(user, "platform.user", Action.EXPORT)
    assert not permissions.can(user, "platform.team", Action.DELETE)
    assert not permissions.can(user, "platform.job", Action.READ)
    assert permissions.visibility_for(user, "platform.team") == Visibility.TEAM
    # the page shows what was saved
    page = admin_client.get(reverse("platform:role_detail", args=[role.pk]))
    form = page.context["form"]
    assert form["right__platform.team__create"].value() is True
    assert form["right__platform.team__delete"].value() is False
    assert form["visibility__platform.team"].value() == "team"
    assert AuditEntry.objects.filter(
        workspace=workspace,
        object_key="platform.role",
        object_id=str(role.pk),
        action=AuditAction.UPDATE,
    ).exists()


def test_role_create_with_rights(admin_client, workspace):
    data = matrix_post(Role(name="Planner"), platform_team=(["read"], Visibility.ALL))
    del data["section"]
    admin_client.post(reverse("platform:role_create"), data)
    role = Role.objects.in_workspace(workspace).get(name="Planner")
    assert role.rights["platform.team"] == {"actions": ["read"], "visibility": "all"}
    assert not role.is_admin


def test_role_delete(admin_client, workspace, sales_rep):
    unused = Role.objects.in_workspace(workspace).get(code="technician")
    response = admin_client.post(reverse("platform:role_delete", args=[unused.pk]))
    assert response["Location"] == reverse("platform:role_list")
    assert not Role.objects.in_workspace(workspace).filter(pk=unused.pk).exists()
    used = sales_rep.role
    response = admin_client.post(reverse("platform:role_delete", args=[used.pk]), follow=True)
    assert "another role first" in " ".join(str(m) for m in response.context["messages"])
    assert Role.objects.in_workspace(workspace).filter(pk=used.pk).exists()


def test_demoting_the_last_admin_role_is_refused_on_the_form(admin_client, workspace, admin_user):
    role = admin_user.role
    data = matrix_post(role)
    del data["is_admin"]
    response = admin_client.post(reverse("platform:role_detail", args=[role.pk]), data)
    assert response.status_code == 200
    assert "at least one active administrator" in text_of(response)
    role.refresh_from_db()
    assert role.is_admin


def _set_rule(client, role, field, access, object_key="platform.user"):
    data = {"section": "fields", f"rule__{object_key}__{field}": access}
    # Keep every other existing rule as it is.
    for rule in RoleFieldRule.objects.in_workspace(role.workspace).filter(role=role):
        data.setdefault(f"rule__{rule.object_key}__{rule.field}", rule.access)
    return client.post(reverse("platform:role_detail", args=[role.pk]), data)


def test_hidden_phone_rule_hides_the_column_for_that_role(admin_client, workspace, sales_rep):
    client = Client()
    UserFactory(workspace=workspace, full_name="Phone Owner", phone="+8613800138000")
    users_url = reverse("platform:user_list")
    other = UserFactory(workspace=workspace, role_code="sales_manager")
    client.force_login(other)
    assert "+8613800138000" in text_of(client.get(users_url))

    response = _set_rule(admin_client, sales_rep.role, "phone", "hidden")
    assert response.status_code == 302
    assert (
        RoleFieldRule.objects.in_workspace(workspace).get(role=sales_rep.role, field="phone").access
        == "hidden"
    )
    assert AuditEntry.objects.filter(
        workspace=workspace,
        object_key="platform.role",
        changes__has_key="field_rule.platform.user.phone",
    ).exists()

    client.force_login(sales_rep)
    response = client.get(users_url)
    assert response.status_code == 200
    assert "phone" not in [c.key for c in response.context["columns"]]
    assert "phone" not in [c.key for c in response.context["bound"].columns]
    assert "+8613800138000" not in text_of(response)
    # a role without the rule still sees it
    client.force_login(other)
    assert "+8613800138000" in text_of(client.get(users_url))


def test_hidden_phone_rule_removes_the_phone_field_from_forms(admin_client, workspace, admin_user):
    client = Client()
    limited = services.role_create(
        actor=admin_user, workspace=workspace, name="Limited admin", is_admin=True
    )
    person = UserFactory(workspace=workspace, role_code="read_only", phone="+8613800138001")
    limited_admin = User(
        workspace=workspace, email="limited@example.com", full_name="Limited", role=limited
    )
    limited_admin.set_unusable_password()
    limited_admin.save()
    assert _set_rule(admin_client, limited, "phone", "hidden").status_code == 302
    assert _set_rule(admin_client, limited, "team", "read_only").status_code == 302

    client.force_login(limited_admin)
    form = client.get(reverse("platform:user_create")).context["form"]
    assert "phone" not in form.fields
    assert form.fields["team"].disabled
    response = client.get(reverse("platform:user_edit", args=[person.pk]))
    assert "phone" not in response.context["form"].fields
    assert "+8613800138001" not in text_of(response)
    # the administrator's own role has no rule: the field is there
    assert "phone" in admin_client.get(reverse("platform:user_create")).context["form"].fields

    # lifting the rule ("visible") deletes it
    assert _set_rule(admin_client, limited, "phone", "").status_code == 302
    assert (
        not RoleFieldRule.objects.in_workspace(workspace)
        .filter(role=limited, field="phone")
        .exists()
    )


def test_field_rules_cover_custom_fields(admin_client, workspace, admin_user, sales_rep):
    services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="Salary band",
        key="salary",
        field_type="text",
    )
    page = admin_client.get(reverse("platform:role_detail", args=[sales_rep.role.pk]))
    assert "rule__platform.user__custom.salary" in page.context["rules_form"].fields
    assert "rule__platform.user__email" not in page.context["rules_form"].fields  # not restrictable
    assert _set_rule(admin_client, sales_rep.role, "custom.salary", "read_only").status_code == 302
    assert permissions.field_rules(User.objects.get(pk=sales_rep.pk), "platform.user") == {
        "custom.salary": "read_only"
    }


# --- custom fields --------------------------------------------------------------------------------------------


def test_custom_field_choices_edit_and_fixed_key_and_type(admin_client, workspace):
    admin_client.post(
        reverse("platform:custom_field_create"),
        {
            "object_key": "platform.team",
            "label": "Tier",
            "key": "tier",
            "field_type": "choice",
            "choices": "gold|Gold tier\nsilver\n\n",
            "required": "on",
        },
    )
    field = CustomField.objects.in_workspace(workspace).get(key="tier")
    assert field.choices == [
        {"value": "gold", "label": "Gold tier"},
        {"value": "silver", "label": "silver"},
    ]
    assert field.required and field.object_key == "platform.team"
    edit = admin_client.get(reverse("platform:custom_field_edit", args=[field.pk]))
    assert edit.context["form"]["choices"].value() == "gold|Gold tier\nsilver"
    response = admin_client.post(
        reverse("platform:custom_field_edit", args=[field.pk]),
        {
            "label": "Level",
            "key": "changed",
            "field_type": "text",
            "object_key": "platform.user",
            "choices": "gold|Gold tier\nsilver\nbronze",
            "default": "silver",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.key, field.field_type, field.object_key) == (
        "Level",
        "tier",
        "choice",
        "platform.team",
    )
    assert [c["value"] for c in field.choices] == ["gold", "silver", "bronze"]
    assert field.default == "silver" and not field.required


def test_custom_field_order_activity_and_delete(admin_client, workspace, admin_user):
    make = services.custom_field_create
    a = make(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="A",
        key="a",
        field_type="text",
    )
    b = make(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="B",
        key="b",
        field_type="text",
    )
    c = make(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="C",
        key="c",
        field_type="text",
    )

    def order():
        return list(
            CustomField.objects.in_workspace(workspace)
            .order_by("position", "id")
            .values_list("key", flat=True)
        )

    admin_client.post(reverse("platform:custom_field_move", args=[c.pk]), {"direction": "up"})
    assert order() == ["a", "c", "b"]
    admin_client.post(reverse("platform:custom_field_move", args=[a.pk]), {"direction": "down"})
    assert order() == ["c", "a", "b"]
    admin_client.post(
        reverse("platform:custom_field_move", args=[c.pk]), {"direction": "up"}
    )  # already first
    assert order() == ["c", "a", "b"]
    page = text_of(admin_client.get(reverse("platform:custom_field_list")))
    assert page.index(">C<") < page.index(">A<") < page.index(">B<")

    admin_client.post(reverse("platform:custom_field_toggle", args=[b.pk]), {"active": "0"})
    b.refresh_from_db()
    assert not b.is_active
    assert (
        "custom__b" not in admin_client.get(reverse("platform:user_create")).context["form"].fields
    )
    admin_client.post(reverse("platform:custom_field_toggle", args=[b.pk]), {"active": "1"})
    b.refresh_from_db()
    assert b.is_active

    assert (
        admin_client.get(reverse("platform:custom_field_delete", args=[a.pk])).status_code == 200
    )  # confirm page
    response = admin_client.post(reverse("platform:custom_field_delete", args=[a.pk]))
    assert response["Location"] == reverse("platform:custom_field_list")
    assert order() == ["c", "b"]


def test_custom_fields_are_grouped_by_object(admin_client, workspace, admin_user):
    services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.team",
        label="Cost centre",
        field_type="text",
    )
    response = admin_client.get(reverse("platform:custom_field_list"))
    groups = {g["object"].key: [f.label for f in g["fields"]] for g in response.context["groups"]}
    assert groups["platform.team"] == ["Cost centre"]
    assert groups["platform.user"] == []
    assert all(registry.get(k).supports_custom_fields for k in groups)


# --- bad input: the form again, with a message, and nothing changed --------------------------------------------


def test_bad_input_rerenders_the_form_and_changes_nothing(admin_client, workspace, admin_user):
    TeamFactory(workspace=workspace, name="Taken")
    teams = Team.objects.in_workspace(workspace).count()
    roles = Role.objects.in_workspace(workspace).count()
    audit_rows = AuditEntry.objects.filter(workspace=workspace).count()

    response = admin_client.post(reverse("platform:team_create"), {"name": "", "kind": "team"})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    response = admin_client.post(reverse("platform:team_create"), {"name": "  ", "kind": "team"})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    response = admin_client.post(reverse("platform:team_create"), {"name": "taken", "kind": "team"})
    assert response.status_code == 200
    assert "Already taken" in " ".join(response.context["form"].errors["name"])
    assert "Already taken" in text_of(response)

    other = TeamFactory(workspace=workspace, name="Other")
    teams += 1
    response = admin_client.post(
        reverse("platform:team_edit", args=[other.pk]), {"name": "Taken", "kind": "team"}
    )
    assert response.status_code == 200 and response.context["form"].errors["name"]
    other.refresh_from_db()
    assert other.name == "Other"

    response = admin_client.post(reverse("platform:role_create"), {"name": ""})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    response = admin_client.post(reverse("platform:role_create"), {"name": "Sales rep"})
    assert response.status_code == 200 and "Already taken" in text_of(response)

    response = admin_client.post(
        reverse("platform:custom_field_create"),
        {
            "object_key": "platform.user",
            "label": "Colour",
            "field_type": "choice",
            "choices": "\n \n",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["choices"]
    assert "at least one choice" in text_of(response)
    response = admin_client.post(
        reverse("platform:custom_field_create"),
        {
            "object_key": "platform.user",
            "label": "",
            "field_type": "text",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["label"]
    response = admin_client.post(
        reverse("platform:custom_field_create"),
        {
            "object_key": "platform.user",
            "label": "Mail",
            "key": "email",
            "field_type": "text",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["key"]
    response = admin_client.post(
        reverse("platform:custom_field_create"),
        {
            "object_key": "platform.user",
            "label": "Age",
            "field_type": "number",
            "default": "many",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["default"]

    assert Team.objects.in_workspace(workspace).count() == teams
    assert Role.objects.in_workspace(workspace).count() == roles
    assert not CustomField.objects.in_workspace(workspace).exists()
    # "Other" came from the factory, which writes no audit row: the log is as it was
    assert AuditEntry.objects.filter(workspace=workspace).count() == audit_rows


def test_editing_a_choice_field_to_no_choices_is_refused(admin_client, workspace, admin_user):
    field = services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="Size",
        key="size",
        field_type="choice",
        choices=["S", "M"],
    )
    response = admin_client.post(
        reverse("platform:custom_field_edit", args=[field.pk]),
        {
            "label": "Size",
            "choices": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["choices"]
    field.refresh_from_db()
    assert [c["value"] for c in field.choices] == ["S", "M"]


# --- audit log filters --------------------------------------------------------------------------------------------


def test_audit_filters_and_search(admin_client, workspace, admin_user, sales_rep):
    url = reverse("platform:audit_list")
    audit.log(
        actor=sales_rep,
        workspace=workspace,
        action=AuditAction.SIGN_IN,
        object_key="platform.user",
        object_id=sales_rep.pk,
        object_repr="Rep sign-in",
    )
    services.team_create(actor=admin_user, workspace=workspace, name="Filter Team")

    def reprs(query):
        response = admin_client.get(url + query)
        assert response.status_code == 200
        return {row["object"].object_repr for row in response.context["rows"]}

    assert reprs("?f_action=sign_in") == {"Rep sign-in"}
    assert reprs(f"?f_actor={sales_rep.pk}") == {"Rep sign-in"}
    assert reprs(f"?f_actor={sales_rep.email.split('@')[0].upper()}") == {"Rep sign-in"}
    assert reprs("?f_object=platform.team") == {"Filter Team"}
    assert reprs("?q=filter") == {"Filter Team"}
    today = timezone.localdate().isoformat()
    assert "Filter Team" in reprs(f"?f_date_from={today}&f_date_to={today}")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert reprs(f"?f_date_from={tomorrow}") == set()
    response = admin_client.get(url + "?f_date_from=yesterday")
    assert response.status_code == 200 and "YYYY-MM-DD" in text_of(response)


def test_audit_export_runs_as_a_job(
    admin_client, workspace, admin_user, django_capture_on_commit_callbacks
):
    services.team_create(actor=admin_user, workspace=workspace, name="Exported Team")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("platform:audit_list"), {"op": "export", "format": "csv", "params": ""}
        )
    assert response.status_code == 200
    job = Job.objects.in_workspace(workspace).get(kind="platform.list_export")
    assert job.params["list_key"] == "platform.audit"
    assert job.state == "succeeded" and job.result["rows"] >= 1


def test_audit_detail_lists_every_change(admin_client, workspace, admin_user):
    entry = audit.log(
        actor=admin_user,
        workspace=workspace,
        action=AuditAction.UPDATE,
        object_key="platform.user",
        object_repr="Zhang San",
        changes={
            "phone": ["+861", "+862"],
            "team": [None, {"id": 3, "label": "East"}],
            "is_active": [True, False],
            "a": [1, 2],
            "b": [1, 2],
        },
    )
    page = text_of(admin_client.get(reverse("platform:audit_detail", args=[entry.pk])))
    assert all(c in page for c in ("+861", "+862", "East", "Yes", "No", "Phone", "Active"))
    assert "(2 more)" in text_of(admin_client.get(reverse("platform:audit_list")))
    # a short change reads as "field: before → after" in the list itself (the order of the
    # fields is the database's: PostgreSQL's jsonb sorts keys)
    audit.log(
        actor=admin_user,
        workspace=workspace,
        action=AuditAction.UPDATE,
        object_key="platform.user",
        object_repr="Li Si",
        changes={"phone": ["+861", "+862"], "is_active": [True, False]},
    )
    summary = text_of(admin_client.get(reverse("platform:audit_list")))
    assert "Phone: +861 → +862" in summary and "Active: Yes → No" in summary


# --- API tokens ---------------------------------------------------------------------------------------------------


def test_token_is_shown_once_and_stored_hashed(rep_client, workspace, sales_rep):
    url = reverse("platform:token_list")
    response = rep_client.post(
        url, {"name": "My script", "scopes": ["read", "write"], "expires_in_days": "30"}
    )
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("gx_") and secret in text_of(response)
    assert "shown only this once" in text_of(response)
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.in_workspace(workspace).get(name="My script")
    assert token.user == sales_rep and token.scopes == ["read", "write"]
    assert token.key_hash == services.hash_secret(secret) and secret not in token.key_hash
    assert token.expires_at > timezone.now() + timedelta(days=29)
    page = text_of(rep_client.get(url))
    assert secret not in page and "My script" in page and f"gx_{token.prefix}_" in page
    # a sales rep cannot ask for the admin scope (it is not offered; the service refuses it too)
    assert "admin" not in dict(rep_client.get(url).context["form"].fields["scopes"].choices)
    response = rep_client.post(url, {"name": "Sneaky", "scopes": ["admin"]})
    assert response.status_code == 200 and response.context["form"].errors["scopes"]
    response = rep_client.post(url, {"name": "", "scopes": ["read"]})
    assert response.context["form"].errors["name"] and response.context["secret"] is None
    assert ApiToken.objects.in_workspace(workspace).count() == 1


def test_tokens_everyone_sees_their_own_admins_see_all(
    admin_client, workspace, admin_user, sales_rep
):
    client = Client()
    mine, _ = services.api_token_create(
        actor=sales_rep, workspace=workspace, name="Rep token", scopes=["read"]
    )
    theirs, _ = services.api_token_create(
        actor=admin_user, workspace=workspace, name="Admin token", scopes=["read"]
    )
    url = reverse("platform:token_list")
    client.force_login(sales_rep)
    page = text_of(client.get(url + "?owner=all"))
    assert "Rep token" in page and "Admin token" not in page
    response = client.post(reverse("platform:token_revoke", args=[theirs.pk]))
    assert response.status_code == 403 and "Only administrators" in text_of(response)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None

    admin_page = text_of(admin_client.get(url))
    assert "Admin token" in admin_page and "Rep token" not in admin_page
    everyone = text_of(admin_client.get(url + "?owner=all"))
    assert "Admin token" in everyone and "Rep token" in everyone and "Rep Li" in everyone
    one = text_of(admin_client.get(url + f"?owner={sales_rep.pk}"))
    assert "Rep token" in one and "Admin token" not in one
    response = admin_client.post(reverse("platform:token_revoke", args=[mine.pk]), {"owner": "all"})
    assert response["Location"] == url + "?owner=all"
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert "Revoked" in text_of(admin_client.get(url + "?owner=all"))


def test_own_token_revoke(rep_client, workspace, sales_rep):
    token, _ = services.api_token_create(
        actor=sales_rep, workspace=workspace, name="Old", scopes=["read"]
    )
    response = rep_client.post(reverse("platform:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert rep_client.get(reverse("platform:token_revoke", args=[token.pk])).status_code == 405


def test_anonymous_visitors_are_sent_to_sign_in(client, records):
    for name, args in admin_pages(records):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and "/login/" in response["Location"], name


def test_pages_have_no_inline_scripts(admin_client, records):
    for name, args in admin_pages(records):
        page = text_of(admin_client.get(reverse(name, args=args)))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), name
        assert " onclick=" not in page and " onchange=" not in page and " onsubmit=" not in page, (
            name
        )


def test_an_auditor_role_reads_the_audit_log_without_administering(client, workspace, admin_user):
    """Read on the audit log is a right of its own: an auditor sees and exports it, and
    still may not manage teams; roles and custom fields cannot be granted at all."""
    from guanxi.common.errors import ApplicationError
    from guanxi.platform.nav import ADMINISTRATION  # noqa: F401  (the section the entry sits in)

    role = services.role_create(
        actor=admin_user,
        workspace=workspace,
        name="Auditor",
        rights={"platform.audit": {"actions": ["read", "export"], "visibility": "all"}},
    )
    auditor = UserFactory(workspace=workspace, role_code=role.code)
    client.force_login(auditor)
    assert client.get(reverse("platform:audit_list")).status_code == 200
    assert client.get(reverse("platform:team_create")).status_code == 403
    home = text_of(client.get(reverse("platform:home")))
    assert "Audit log" in home and "Custom fields" not in home
    with pytest.raises(ApplicationError):
        services.role_update(
            actor=admin_user,
            workspace=workspace,
            role_id=role.pk,
            rights={"platform.role": {"actions": ["update"], "visibility": "all"}},
        )
