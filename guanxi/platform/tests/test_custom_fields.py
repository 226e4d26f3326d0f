"""Custom fields: one validation path for every type; filters and sorting on the values."""

import pytest

from guanxi.common.errors import ApplicationError, Conflict
from guanxi.platform import custom_fields, services
from guanxi.platform.models import CustomField, User
from guanxi.platform.tests.factories import UserFactory


def define(admin, workspace, **kwargs):
    kwargs.setdefault("object_key", "platform.user")
    return services.custom_field_create(actor=admin, workspace=workspace, **kwargs)


@pytest.mark.parametrize(
    ("field_type", "raw", "stored"),
    [
        ("text", "  工号 A-1 ", "工号 A-1"),
        ("long_text", "line1\nline2", "line1\nline2"),
        ("number", "1,234", 1234),
        ("number", "3.5", 3.5),
        ("money", "99.999", "100.00"),
        ("date", "2026-11-23", "2026-11-23"),
        ("boolean", "是", True),
        ("boolean", "no", False),
        ("phone", "138 0013 8000", "+8613800138000"),
        ("email", "Wang@Example.COM", "wang@example.com"),
        ("url", "https://example.com/a", "https://example.com/a"),
    ],
)
def test_clean_value_accepts_and_normalises(field_type, raw, stored):
    definition = CustomField(field_type=field_type, key="k", label="K")
    assert custom_fields.clean_value(definition, raw) == stored


@pytest.mark.parametrize(
    ("field_type", "raw"),
    [
        ("number", "abc"),
        ("number", True),
        ("money", "1e20"),
        ("date", "2026-13-01"),
        ("datetime", "yesterday"),
        ("boolean", "maybe"),
        ("phone", "12"),
        ("email", "not-an-email"),
        ("url", "javascript:alert(1)"),
        ("text", "x" * 300),
    ],
)
def test_clean_value_refuses_bad_input(field_type, raw):
    definition = CustomField(field_type=field_type, key="k", label="K")
    with pytest.raises(ValueError):
        custom_fields.clean_value(definition, raw)


def test_choices_and_user_fields(workspace, admin_user, other_admin):
    level = define(admin_user, workspace, label="Level", field_type="choice", choices=["A", "B"])
    langs = define(
        admin_user,
        workspace,
        label="Languages",
        field_type="multi_choice",
        choices=["zh", "en", "ja"],
    )
    mentor = define(admin_user, workspace, label="Mentor", field_type="user")
    assert custom_fields.clean_value(level, "A") == "A"
    with pytest.raises(ValueError):
        custom_fields.clean_value(level, "C")
    assert custom_fields.clean_value(langs, "en, zh") == ["zh", "en"]
    assert (
        custom_fields.clean_value(mentor, str(admin_user.pk), workspace=workspace) == admin_user.pk
    )
    with pytest.raises(ValueError):
        custom_fields.clean_value(mentor, other_admin.pk, workspace=workspace)


def test_required_unique_default_on_users(workspace, admin_user):
    define(
        admin_user,
        workspace,
        label="Employee number",
        key="employee_no",
        field_type="text",
        required=True,
        unique=True,
    )
    define(
        admin_user,
        workspace,
        label="Region",
        key="region",
        field_type="choice",
        choices=["east", "south"],
        default="east",
    )
    role_id = admin_user.role_id
    with pytest.raises(ApplicationError) as info:
        services.user_create(
            actor=admin_user,
            workspace=workspace,
            email="a@example.com",
            full_name="A",
            role_id=role_id,
            custom={},
        )
    assert "custom.employee_no" in info.value.fields
    a = services.user_create(
        actor=admin_user,
        workspace=workspace,
        email="a@example.com",
        full_name="A",
        role_id=role_id,
        custom={"employee_no": "E1"},
    )
    assert a.custom == {"employee_no": "E1", "region": "east"}
    with pytest.raises(ApplicationError) as info:
        services.user_create(
            actor=admin_user,
            workspace=workspace,
            email="b@example.com",
            full_name="B",
            role_id=role_id,
            custom={"employee_no": "E1"},
        )
    assert "custom.employee_no" in info.value.fields
    with pytest.raises(ApplicationError) as info:
        services.user_create(
            actor=admin_user,
            workspace=workspace,
            email="b@example.com",
            full_name="B",
            role_id=role_id,
            custom={"employee_no": "E2", "nope": 1},
        )
    assert "custom.nope" in info.value.fields
    assert not User.objects.filter(email="b@example.com").exists()


def test_definition_rules(workspace, admin_user):
    with pytest.raises(ApplicationError):
        define(admin_user, workspace, label="Tier", field_type="choice", choices=[])
    with pytest.raises(ApplicationError):
        define(admin_user, workspace, label="Email", key="email", field_type="text")
    with pytest.raises(ApplicationError):
        define(admin_user, workspace, label="X", field_type="colour")
    with pytest.raises(ApplicationError):
        define(admin_user, workspace, label="Age", field_type="number", default="old")
    with pytest.raises(ApplicationError):
        define(admin_user, workspace, label="X", object_key="platform.audit", field_type="text")
    define(admin_user, workspace, label="生日", field_type="date")
    with pytest.raises(Conflict):
        define(admin_user, workspace, label="生日", field_type="date")
    assert CustomField.objects.in_workspace(workspace).get().key == "sheng_ri"


def test_filter_and_sort_on_custom_values(workspace, admin_user):
    score = define(admin_user, workspace, label="Score", key="score", field_type="number")
    tier = define(
        admin_user,
        workspace,
        label="Tier",
        key="tier",
        field_type="choice",
        choices=["gold", "silver"],
    )
    for i, (value, level) in enumerate([(5, "gold"), (40, "silver"), (300, "gold")]):
        UserFactory(workspace=workspace, full_name=f"U{i}", custom={"score": value, "tier": level})
    qs = User.objects.filter(workspace=workspace)
    golds = custom_fields.filter_queryset(qs, tier, "eq", "gold")
    assert sorted(u.full_name for u in golds) == ["U0", "U2"]
    big = custom_fields.filter_queryset(qs, score, "gte", "40")
    assert sorted(u.full_name for u in big) == ["U1", "U2"]
    ordered = qs.exclude(custom={}).annotate(s=custom_fields.sort_expression(score)).order_by("s")
    assert [u.full_name for u in ordered] == ["U0", "U1", "U2"]  # numeric, not text, order


@pytest.mark.postgres_only
def test_custom_value_filters_use_the_gin_index(workspace, admin_user):
    from django.db import connection

    define(admin_user, workspace, label="Tier", key="tier", field_type="choice", choices=["gold"])
    UserFactory(workspace=workspace, custom={"tier": "gold"})
    # The containment the list filter writes, planned on its own: the GIN index serves it.
    qs = User.objects.across_workspaces().filter(custom_fields.custom_value_q("tier", "gold"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    assert "platform_user_custom_gin" in plan
