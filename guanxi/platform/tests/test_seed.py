"""``guanxi seed``, ``guanxi setup`` and the PostgreSQL test database they rely on."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from guanxi.platform.management.commands.seed import (
    BENCH_WORKSPACE,
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_WORKSPACE,
    bench_add_audit,
    bench_add_users,
    bench_admin_email,
    bench_workspace,
)
from guanxi.platform.models import AuditEntry, Team, User, Workspace
from guanxi.platform.roles import DEFAULT_ROLES


def run(*args) -> str:
    out = StringIO()
    call_command("seed", *args, stdout=out)
    return out.getvalue()


def totals() -> tuple[int, int, int, int]:
    return (
        Workspace.objects.count(),
        User.objects.count(),
        Team.objects.across_workspaces().count(),
        AuditEntry.objects.across_workspaces().count(),
    )


@pytest.mark.django_db
def test_seed_creates_the_demo_company_with_every_role():
    output = run()

    admin = User.objects.get(email=DEMO_ADMIN_EMAIL)
    workspace = admin.workspace
    assert workspace.name == DEMO_WORKSPACE
    assert admin.role.code == "administrator"
    users = list(User.objects.filter(workspace=workspace).select_related("role"))
    assert {u.role.code for u in users} == {spec.code for spec in DEFAULT_ROLES}
    assert all(u.email.endswith("@demo.guanxi.local") for u in users)
    assert all(u.check_password(DEMO_PASSWORD) for u in users)
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in u.full_name) for u in users)
    assert any(u.full_name.isascii() for u in users)

    teams = {t.name: t for t in Team.objects.in_workspace(workspace)}
    assert {"销售部", "华东销售组", "华南销售组", "市场部", "客户服务部", "技术支持组"} <= set(
        teams
    )
    assert teams["华东销售组"].parent == teams["销售部"]
    assert teams["技术支持组"].parent == teams["客户服务部"]

    # Made through the services: the workspace, every team and every user have audit rows.
    audited = AuditEntry.objects.filter(workspace=workspace)
    assert audited.filter(object_key="platform.user").count() >= len(users)
    assert audited.filter(object_key="platform.team").count() >= len(teams)

    assert "http://127.0.0.1:8000" in output
    assert DEMO_ADMIN_EMAIL in output and DEMO_PASSWORD in output


@pytest.mark.django_db
def test_seed_once_twice_creates_nothing_new():
    first = run("--once")
    after_first = totals()
    second = run("--once")
    assert totals() == after_first
    assert "exists already" in second
    assert DEMO_ADMIN_EMAIL in first and DEMO_ADMIN_EMAIL in second


@pytest.mark.django_db
def test_seed_makes_the_same_people_every_time():
    def people():
        return sorted(User.objects.values_list("email", "full_name", "phone"))

    with transaction.atomic():
        run()
        first = people()
        transaction.set_rollback(True)
    assert not User.objects.exists()
    run()
    assert people() == first


@pytest.mark.django_db
def test_bulk_users_and_audit_go_to_the_bench_workspace():
    run("--users", "120", "--audit", "150")
    bench_admin = User.objects.get(email="admin@bench.guanxi.local")
    bench = bench_admin.workspace
    assert bench.name == "Bench"
    assert User.objects.filter(workspace=bench).count() == 1 + 120
    assert AuditEntry.objects.filter(workspace=bench, action="sign_in").exists()
    assert AuditEntry.objects.filter(workspace=bench).count() >= 150
    bulk = User.objects.filter(workspace=bench).exclude(pk=bench_admin.pk)
    assert not any(u.has_usable_password() for u in bulk[:20])
    # Nothing leaked into the demo workspace.
    demo = User.objects.get(email=DEMO_ADMIN_EMAIL).workspace
    assert User.objects.filter(workspace=demo).count() < 30


@pytest.mark.django_db
def test_bulk_helpers_add_on_top():
    admin = bench_workspace("Bench test")
    assert bench_workspace("Bench test") == admin
    assert bench_add_users(admin, 30, batch_size=7) == 30
    assert bench_add_users(admin, 5) == 5
    assert User.objects.filter(workspace=admin.workspace).count() == 36
    before = AuditEntry.objects.filter(workspace=admin.workspace).count()
    assert bench_add_audit(admin, 25, batch_size=10) == 25
    assert AuditEntry.objects.filter(workspace=admin.workspace).count() == before + 25


@pytest.mark.django_db
def test_contacts_option_seeds_contacts_into_the_bench_workspace(settings, tmp_path):
    # The customers module is installed: --contacts adds contacts to the bench workspace.
    from guanxi.customers.models import Contact

    settings.VAR_DIR = tmp_path
    output = run("--contacts", "10", "--users", "5")
    assert "10 contacts" in output
    bench = User.objects.get(email=bench_admin_email(BENCH_WORKSPACE)).workspace
    assert Contact.objects.filter(workspace=bench).count() == 10


@pytest.mark.django_db
def test_setup_creates_a_workspace_from_flags():
    out = StringIO()
    call_command(
        "setup",
        "--noinput",
        "--company",
        "上海某某贸易有限公司",
        "--email",
        "Boss@Example.com",
        "--name",
        "王伟",
        "--password",
        "Correct-Horse-42",
        stdout=out,
    )
    admin = User.objects.get(email="boss@example.com")
    assert admin.workspace.name == "上海某某贸易有限公司"
    assert admin.role.code == "administrator"
    assert AuditEntry.objects.filter(workspace=admin.workspace).exists()
    with pytest.raises(CommandError, match="already"):
        call_command(
            "setup",
            "--noinput",
            "--company",
            "Another",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--password",
            "Correct-Horse-42",
        )


@pytest.mark.django_db
def test_setup_reports_bad_input_without_creating_anything():
    with pytest.raises(CommandError, match="password"):
        call_command(
            "setup",
            "--noinput",
            "--company",
            "Co",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--password",
            "short",
        )
    with pytest.raises(CommandError, match="--email"):
        call_command("setup", "--noinput", "--company", "Co")
    assert not Workspace.objects.exists()


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_test_database_has_c_collation():
    """pg_trgm ignores Chinese characters under other locales (ENGINEERING.md); make test
    creates the test databases with scripts/pg_test_db.py to get this."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()"
        )
        collate, ctype = cursor.fetchone()
    assert (collate, ctype) == ("C", "C.UTF-8"), (
        "the test database was created with the server's default locale; create it with "
        "`python scripts/pg_test_db.py test --workers N` and run pytest with --reuse-db "
        "(make test does both)"
    )


@pytest.mark.django_db
def test_bench_measures_both_lists_at_small_scale():
    from bench.pages import Runner, markdown

    results = Runner(requests=2, scales=[120, 240], log=lambda line: None).run()
    timed = [r for r in results if r.p50_ms is not None]
    assert {r.page for r in timed} == {"Users", "Audit log"}
    assert {r.kind for r in timed} == {"first", "deep"}
    assert all(r.queries and not r.note for r in timed)
    table = markdown(results, requests=2)
    assert "| Users | 240 | first page |" in table
