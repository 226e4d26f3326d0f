"""``guanxi export`` and ``guanxi import`` on the command line: round trip, hidden fields,
formula injection, workspaces and rights."""

import csv
import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from guanxi.customers.models import Contact, ImportRun
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry, FieldAccess, RoleFieldRule
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.IMPORT_DIR = tmp_path / "imports"


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_export_then_import_round_trips(tmp_path, admin_user, other_admin):
    ws = admin_user.workspace
    ContactFactory(
        workspace=ws,
        owner=admin_user,
        code="K1",
        name="张三",
        mobile="+8613812345678",
        phone="+862161234567",
        email="zs@example.com",
        birthday=dt.date(1990, 1, 2),
        gender="male",
        company='=HYPERLINK("x")',
        street="人民路1号",
        postal_code="200000",
    )
    out = tmp_path / "c.csv"
    call_command("export", "contacts", str(out), "--workspace", ws.slug, "--quiet")
    rows = read_csv(out)
    assert rows[0]["code"] == "K1"
    assert rows[0]["mobile"] == "'+8613812345678"  # neutralised like the list export
    assert rows[0]["company"].startswith("'=")
    assert rows[0]["birthday"] == "1990-01-02"
    assert AuditEntry.objects.in_workspace(ws).filter(action="export").count() == 1

    other_ws = other_admin.workspace
    call_command("import", "contacts", str(out), "--workspace", other_ws.slug, "--quiet")
    copy = Contact.objects.in_workspace(other_ws).get()
    assert (copy.code, copy.name, copy.mobile, copy.phone, copy.birthday) == (
        "K1", "张三", "+8613812345678", "+862161234567", dt.date(1990, 1, 2)
    )  # fmt: skip
    assert copy.company == '=HYPERLINK("x")'
    assert copy.owner == other_admin

    xlsx = tmp_path / "c.xlsx"
    call_command("export", "contacts", str(xlsx), "--workspace", ws.slug, "--quiet")
    sheet = load_workbook(xlsx, read_only=True).worksheets[0]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert header[:2] == ("code", "name")
    # Importing the same file again into the same workspace skips it as a duplicate.
    call_command("import", "contacts", str(xlsx), "--workspace", other_ws.slug, "--quiet")
    run = ImportRun.objects.in_workspace(other_ws).order_by("-id").first()
    assert (run.created, run.skipped) == (0, 1)


def test_export_honours_hidden_fields_and_visibility(tmp_path, workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    RoleFieldRule.objects.create(
        workspace=workspace,
        role=rep.role,
        object_key="customers.contact",
        field="mobile",
        access=FieldAccess.HIDDEN,
    )
    other = UserFactory(workspace=workspace, role_code="sales_rep")
    ContactFactory(workspace=workspace, owner=rep, name="Mine", mobile="+8613812345678")
    ContactFactory(workspace=workspace, owner=other, name="Theirs")
    out = tmp_path / "c.csv"
    call_command(
        "export", "contacts", str(out), "--workspace", workspace.slug, "--user", rep.email,
        "--quiet",
    )  # fmt: skip
    rows = read_csv(out)
    assert "mobile" not in rows[0]
    visible = {r["name"] for r in rows}
    assert "Mine" in visible


def test_accounts_export(tmp_path, admin_user):
    AccountFactory(workspace=admin_user.workspace, name="上海某某有限公司", employees=12)
    out = tmp_path / "a.csv"
    call_command("export", "accounts", str(out), "--workspace", admin_user.workspace.slug)
    rows = read_csv(out)
    assert rows[0]["name"] == "上海某某有限公司" and rows[0]["employees"] == "12"


def test_import_cli_options_and_resume(tmp_path, admin_user):
    ws = admin_user.workspace
    path = tmp_path / "c.csv"
    path.write_text("Who,Cell\n张三,13812345678\n李四,bad\n", encoding="gbk")
    mapping = tmp_path / "m.json"
    mapping.write_text('{"Who": "name", "Cell": "mobile"}', encoding="utf-8")
    call_command(
        "import", "contacts", str(path), "--mapping", str(mapping), "--dry-run",
        "--workspace", ws.slug, "--user", admin_user.email, "--quiet",
    )  # fmt: skip
    assert Contact.objects.in_workspace(ws).count() == 0
    call_command(
        "import", "contacts", str(path), "--mapping", str(mapping), "--owner", "pool",
        "--on-duplicate", "update", "--strict", "--workspace", ws.slug, "--quiet",
    )  # fmt: skip
    contact = Contact.objects.in_workspace(ws).get()
    assert contact.owner_id is None
    run = ImportRun.objects.in_workspace(ws).order_by("-id").first()
    assert run.failed == 1
    # Resuming a finished run does nothing more.
    call_command("import", "contacts", "--run", str(run.pk), "--workspace", ws.slug, "--quiet")
    assert Contact.objects.in_workspace(ws).count() == 1


def test_cli_refuses_what_the_user_may_not(tmp_path, workspace, other_workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    role = rep.role
    role.rights = {**role.rights, "customers.contact": {"actions": ["read"], "visibility": "own"}}
    role.save()
    path = tmp_path / "c.csv"
    path.write_text("name\n张三\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command(
            "import", "contacts", str(path), "--workspace", workspace.slug, "--user", rep.email
        )
    with pytest.raises(CommandError):
        call_command(
            "export", "contacts", str(tmp_path / "o.csv"), "--workspace", workspace.slug,
            "--user", rep.email,
        )  # fmt: skip
    # A user of another workspace is not found there.
    with pytest.raises(CommandError):
        call_command(
            "import", "contacts", str(path), "--workspace", other_workspace.slug,
            "--user", rep.email,
        )  # fmt: skip
    # Two workspaces: --workspace is required.
    with pytest.raises(CommandError):
        call_command("import", "contacts", str(path))
    assert Contact.objects.in_workspace(workspace).count() == 0
